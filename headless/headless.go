// Package headless is ttycall's mode for scripts and bots: no TUI, audio only unless
// --video, events as JSON lines on stdout and commands as lines on stdin.
package headless

import (
	"context"
	"fmt"
	"io"
)

// Main runs `ttycall headless ARGS` and returns the exit code.
// CONTRACT STUB until the headless mode lands.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "ttycall headless: not implemented yet")
	return 2
}
