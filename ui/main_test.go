package ui

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine the interface's tests start (commands, readers, programs) has ended
// by the end of the run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
