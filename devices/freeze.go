package devices

import (
	"sync"
	"time"
)

// FreezeMeter counts video freezes as Chromium's getStats does (freezeCount,
// totalFreezesDuration): a frame that comes at least max(3 x the mean interval of the
// last 30 frames, that mean + 150 ms) after the previous one ends a freeze as long as
// the gap. Safe for concurrent use.
type FreezeMeter struct {
	mu        sync.Mutex
	last      time.Time
	intervals [30]time.Duration
	n, i      int
	count     uint64
	total     time.Duration
	frames    uint64
}

// Frame records a frame shown at t.
func (m *FreezeMeter) Frame(t time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.frames++
	if m.last.IsZero() {
		m.last = t
		return
	}
	d := t.Sub(m.last)
	m.last = t
	if m.n > 0 {
		var sum time.Duration
		for _, v := range m.intervals[:m.n] {
			sum += v
		}
		mean := sum / time.Duration(m.n)
		if d >= max(3*mean, mean+150*time.Millisecond) {
			m.count++
			m.total += d
		}
	}
	m.intervals[m.i] = d
	m.i = (m.i + 1) % len(m.intervals)
	m.n = min(m.n+1, len(m.intervals))
}

// Freezes returns freezeCount, totalFreezesDuration and the frames seen.
func (m *FreezeMeter) Freezes() (count uint64, total time.Duration, frames uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.count, m.total, m.frames
}
