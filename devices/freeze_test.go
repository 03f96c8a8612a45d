package devices

import (
	"testing"
	"time"
)

// TestFreezeMeter: at 30 fps a 100 ms gap is no freeze (less than the mean + 150 ms),
// a 300 ms gap is one; at 5 fps (200 ms frames) a 400 ms gap is not (less than 3x the
// mean) and a 700 ms gap is.
func TestFreezeMeter(t *testing.T) {
	var m FreezeMeter
	now := time.Now()
	frames := func(n int, every time.Duration) {
		for range n {
			now = now.Add(every)
			m.Frame(now)
		}
	}
	frames(40, 33*time.Millisecond)
	frames(1, 100*time.Millisecond)
	frames(40, 33*time.Millisecond)
	if c, _, _ := m.Freezes(); c != 0 {
		t.Fatalf("100 ms gap at 30 fps counted as %d freezes", c)
	}
	frames(1, 300*time.Millisecond)
	if c, d, _ := m.Freezes(); c != 1 || d != 300*time.Millisecond {
		t.Fatalf("300 ms gap at 30 fps: %d freezes, %v", c, d)
	}
	// 5 fps from the start (a fresh meter: the switch from 30 fps would itself freeze).
	m = FreezeMeter{}
	frames(40, 200*time.Millisecond)
	frames(1, 400*time.Millisecond)
	if c, _, _ := m.Freezes(); c != 0 {
		t.Fatalf("400 ms gap at 5 fps counted as a freeze (%d)", c)
	}
	frames(1, 700*time.Millisecond)
	if c, d, n := m.Freezes(); c != 1 || d != 700*time.Millisecond || n != 42 {
		t.Fatalf("after a 700 ms gap at 5 fps: %d freezes, %v, %d frames", c, d, n)
	}
}
