// Package impair makes bad networks in-process, without kernel queueing disciplines
// (netem is not available in our sandboxes): a Shaper delays, jitters, drops, reorders
// and rate-limits datagrams; Net wraps a pion transport.Net so that every UDP socket a
// peer connection opens sends through its own Shaper; Relay is a pion/turn server whose
// relayed sockets are shaped, for peers (Chromium) whose sockets we cannot wrap.
//
// A Shaper models one direction of a bottleneck link: a token bucket of Rate bit/s
// with a drop-tail queue of QueueDelay, then a propagation Delay plus Jitter. Losses are
// random (seeded, so a run can be repeated), as on a lossy radio link.
package impair

import (
	"container/heap"
	"math/rand/v2"
	"sync"
	"time"
)

// Profile describes one direction of a link. The zero Profile is a perfect link.
type Profile struct {
	// Delay is the one-way propagation delay (RTT/2 when both directions have it).
	Delay time.Duration
	// Jitter adds a uniformly distributed delay in [0, Jitter) to each packet. Packets
	// stay in order, as behind a real queue; Reorder is the knob for reordering.
	Jitter time.Duration
	// Loss is the probability that a packet is dropped (0..1).
	Loss float64
	// Reorder is the probability that a packet is held back by ReorderBy, so that
	// the packets after it overtake it.
	Reorder   float64
	ReorderBy time.Duration
	// RateBps caps the link at this many bit/s (0: no cap). Burst is the token
	// bucket's depth in bytes (0: 10 full packets); QueueDelay is the longest a packet
	// waits for the bucket before it is dropped (0: 250 ms, a typical home router).
	RateBps    int
	Burst      int
	QueueDelay time.Duration
}

const (
	defaultBurst      = 10 * 1500
	defaultQueueDelay = 250 * time.Millisecond
)

// Counters are what a Shaper did, for benchmarks (mean throughput against capacity).
type Counters struct {
	Packets, Bytes            uint64 // offered
	Delivered, DeliveredBytes uint64
	DroppedLoss, DroppedQueue uint64
	FirstSend, LastDelivery   time.Time
}

// Shaper delays and drops the datagrams of one direction. Send never blocks: a packet
// is scheduled and later handed to its deliver function on the Shaper's goroutine.
type Shaper struct {
	mu      sync.Mutex
	p       Profile
	rng     *rand.Rand
	vt      time.Time // virtual time the bucket is busy until
	last    time.Time // latest delivery time scheduled, for in-order jitter
	q       pktHeap
	seq     uint64
	c       Counters
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	stopped bool
}

type pkt struct {
	at      time.Time
	seq     uint64
	b       []byte
	deliver func([]byte)
}

type pktHeap []*pkt

func (h pktHeap) Len() int { return len(h) }
func (h pktHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h pktHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pktHeap) Push(x any)   { *h = append(*h, x.(*pkt)) }
func (h *pktHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return x
}

// NewShaper starts a shaper with profile p and a random source seeded with seed. Close
// stops it.
func NewShaper(p Profile, seed uint64) *Shaper {
	s := &Shaper{
		p:    p,
		rng:  rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	// Owned by s; ends on Close.
	go s.run()
	return s
}

// SetProfile changes the link from now on (packets already scheduled keep their times).
func (s *Shaper) SetProfile(p Profile) {
	s.mu.Lock()
	s.p = p
	s.mu.Unlock()
}

// Profile is the current profile.
func (s *Shaper) Profile() Profile {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

// Counters returns what the shaper did so far.
func (s *Shaper) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// Send schedules a copy of b for deliver, or drops it. It reports whether the packet
// was scheduled.
func (s *Shaper) Send(b []byte, deliver func([]byte)) bool {
	return s.send(b, deliver, time.Now())
}

func (s *Shaper) send(b []byte, deliver func([]byte), now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false
	}
	s.c.Packets++
	s.c.Bytes += uint64(len(b))
	if s.c.FirstSend.IsZero() {
		s.c.FirstSend = now
	}
	p := s.p
	if p.Loss > 0 && s.rng.Float64() < p.Loss {
		s.c.DroppedLoss++
		return false
	}
	at := now
	if p.RateBps > 0 {
		burst, qd := p.Burst, p.QueueDelay
		if burst <= 0 {
			burst = defaultBurst
		}
		if qd <= 0 {
			qd = defaultQueueDelay
		}
		perByte := time.Duration(float64(time.Second) * 8 / float64(p.RateBps))
		// The bucket's tokens are the time the link was idle, up to burst bytes' worth.
		if floor := now.Add(-time.Duration(burst) * perByte); s.vt.Before(floor) {
			s.vt = floor
		}
		depart := s.vt.Add(time.Duration(len(b)) * perByte)
		if depart.Sub(now) > qd {
			s.c.DroppedQueue++
			return false
		}
		s.vt = depart
		if depart.After(at) {
			at = depart
		}
	}
	at = at.Add(p.Delay)
	if p.Jitter > 0 {
		at = at.Add(time.Duration(s.rng.Int64N(int64(p.Jitter))))
	}
	if at.Before(s.last) {
		at = s.last // jitter does not reorder
	}
	s.last = at
	if p.Reorder > 0 && s.rng.Float64() < p.Reorder {
		by := p.ReorderBy
		if by <= 0 {
			by = 10 * time.Millisecond
		}
		at = at.Add(by) // not recorded in last: the next packets overtake this one
	}
	s.seq++
	heap.Push(&s.q, &pkt{at: at, seq: s.seq, b: append([]byte(nil), b...), deliver: deliver})
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return true
}

func (s *Shaper) run() {
	defer close(s.done)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		var due []*pkt
		now := time.Now()
		for len(s.q) > 0 && !s.q[0].at.After(now) {
			due = append(due, heap.Pop(&s.q).(*pkt))
		}
		wait := time.Hour
		if len(s.q) > 0 {
			wait = s.q[0].at.Sub(now)
		}
		for _, p := range due {
			s.c.Delivered++
			s.c.DeliveredBytes += uint64(len(p.b))
			s.c.LastDelivery = now
		}
		s.mu.Unlock()
		for _, p := range due {
			p.deliver(p.b)
		}
		t.Reset(wait)
		select {
		case <-s.stop:
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// Close stops the shaper and waits for its goroutine; packets still queued are dropped.
// Idempotent.
func (s *Shaper) Close() {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
	s.mu.Unlock()
	<-s.done
}
