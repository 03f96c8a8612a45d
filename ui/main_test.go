package ui

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/internal/testbin"
)

// Every goroutine the interface's tests start (commands, readers, programs) has ended
// by the end of the run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(int) { testbin.Remove() }))
}
