package chat

import (
	"math/rand/v2"
	"time"
)

// backoff is an exponential backoff with jitter: attempt n (0-based) waits a random
// duration in [d/2, d] where d = min(max, min*2^n) ("equal jitter"), so clients that
// lost the same server do not come back in step.
type backoff struct {
	min, max time.Duration
}

func (b backoff) delay(attempt int) time.Duration {
	d := b.min
	for i := 0; i < attempt && d < b.max; i++ {
		d *= 2
	}
	if d > b.max {
		d = b.max
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(d-half+1)
}
