package devices

import (
	"testing"
	"time"
)

// TestPlayoutAbsorbsALateFrame: at 30 fps, a frame held up 150 ms (a retransmission)
// raises the playout delay, so the frames after it are shown at an even pace instead
// of with a 150 ms hole; the delay then decays.
func TestPlayoutAbsorbsALateFrame(t *testing.T) {
	var p playout
	t0 := time.Unix(100, 0)
	const step = 3000 // 90 kHz ticks per frame at 30 fps
	arrive := func(i int, late time.Duration) {
		p.add([]byte{byte(i)}, uint32(i*step), t0, t0.Add(time.Duration(i)*time.Second/30+late))
	}
	for i := range 10 {
		arrive(i, 0)
	}
	arrive(10, 150*time.Millisecond) // held up by a NACK round trip
	arrive(11, 120*time.Millisecond) // the frames behind it came right after
	arrive(12, 90*time.Millisecond)
	var out []pendingFrame
	out = p.pop(t0.Add(time.Hour), out)
	if len(out) != 13 {
		t.Fatalf("%d frames", len(out))
	}
	// After the late frame the frames are due one frame apart again.
	for i := 11; i < 13; i++ {
		if d := out[i].due.Sub(out[i-1].due); d < 20*time.Millisecond || d > 45*time.Millisecond {
			t.Errorf("frame %d due %v after frame %d", i, d, i-1)
		}
	}
	if p.delay < 140*time.Millisecond {
		t.Errorf("delay %v after a frame 150 ms late", p.delay)
	}
	before := p.delay
	for i := 13; i < 60; i++ {
		arrive(i, 0)
	}
	if p.delay >= before {
		t.Errorf("delay did not decay: %v", p.delay)
	}
}
