// Package janusservertest starts a janusserver for a test: it skips when janus is not
// installed (fails under CI=true, where scripts/setup.sh must have installed it) and
// stops the server at the end of the test.
package janusservertest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/janusserver"
)

// Start starts a Janus for t, stopped by t.Cleanup. It prints Janus' log on failure.
func Start(t testing.TB, o janusserver.Options) *janusserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := janusserver.Start(ctx, o)
	if errors.Is(err, janusserver.ErrNoJanus) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.LogTail())
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop janus: %v", err)
		}
	})
	return s
}

// NeedMedia skips a test that needs Janus to carry media when the test does not run
// inside the namespace janusserver.ReexecInNetns makes (fails under CI=true): outside
// it, Janus would gather this machine's real addresses.
func NeedMedia(t testing.TB) {
	t.Helper()
	if janusserver.ICEAddress() != "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("janus media tests need a network namespace (run as root with unshare and ip)")
	}
	t.Skip("janus media tests need a network namespace (run as root with unshare and ip)")
}
