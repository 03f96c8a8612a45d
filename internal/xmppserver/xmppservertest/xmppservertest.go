// Package xmppservertest starts a private Prosody for a test and stops it at cleanup.
package xmppservertest

import (
	"context"
	"errors"
	"testing"

	"github.com/ttycall/ttycall/internal/xmppserver"
)

// Start starts a server for t. It skips t only when Prosody is not installed (make test
// installs it) and fails it on any other error. The server stops when t ends.
func Start(t testing.TB, o xmppserver.Options) *xmppserver.Server {
	t.Helper()
	s, err := xmppserver.Start(context.Background(), o)
	if errors.Is(err, xmppserver.ErrNoProsody) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Log(err)
		}
	})
	return s
}
