// Package demo runs `make demo`: a private Prosody on loopback with the accounts alice,
// bob and echo, an echo bot, and the terminal interface signed in as alice.
package demo

import (
	"context"
	"fmt"
	"io"
)

// Main runs `ttycall demo` and returns the exit code.
// CONTRACT STUB until the demo lands.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "ttycall demo: not implemented yet")
	return 1
}
