package janus

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/testbin"
)

// TestMain re-runs the tests inside a fresh network namespace (lo plus a veth holding
// the address Janus gathers on): no packet of Janus, ttycall or Chromium leaves it.
func TestMain(m *testing.M) {
	if code, ran := janusserver.ReexecInNetns(); ran {
		os.Exit(code)
	}
	code := m.Run()
	testbin.Remove()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "interop/janus: leaked goroutines: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
