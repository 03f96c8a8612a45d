// Package ui is ttycall's terminal interface (Bubble Tea + lipgloss): contacts with
// presence, incoming calls, the call screen with video drawn in the terminal.
package ui

import (
	"context"
	"errors"

	"github.com/ttycall/ttycall/config"
)

// Run opens the interface and returns when the user quits.
// CONTRACT STUB until the interface lands.
func Run(ctx context.Context, cfg *config.Config, logPath string) error {
	return errors.New("ui: not implemented yet")
}
