package impair

import (
	"bytes"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitTimeout = 10 * time.Second

func TestShaperLossIsRandomAndSeeded(t *testing.T) {
	count := func(seed uint64) uint64 {
		s := NewShaper(Profile{Loss: 0.2}, seed)
		defer s.Close()
		now := time.Now()
		for range 2000 {
			s.send(make([]byte, 100), func([]byte) {}, now)
		}
		return s.Counters().DroppedLoss
	}
	a, b := count(1), count(1)
	if a != b {
		t.Errorf("same seed, different losses: %d, %d", a, b)
	}
	if a < 300 || a > 500 { // 20% of 2000 is 400; binomial sd is 18
		t.Errorf("%d of 2000 dropped at 20%% loss", a)
	}
}

// TestShaperRateCap: at 800 kbit/s (10 ms per 1000-byte packet) with a 15 000-byte
// bucket and a 250 ms queue, a burst of 100 packets at one instant gets 15 through the
// bucket and 25 into the queue; the rest is dropped, and the accepted ones leave 10 ms
// apart. Computed on the shaper's virtual clock, so wall-clock speed does not matter.
func TestShaperRateCap(t *testing.T) {
	s := NewShaper(Profile{RateBps: 800_000, Burst: 15_000, QueueDelay: 250 * time.Millisecond}, 1)
	defer s.Close()
	now := time.Now()
	ok := 0
	for range 100 {
		if s.send(make([]byte, 1000), func([]byte) {}, now) {
			ok++
		}
	}
	if ok < 39 || ok > 41 {
		t.Errorf("%d of 100 packets accepted, want 40", ok)
	}
	if c := s.Counters(); c.DroppedQueue != uint64(100-ok) {
		t.Errorf("queue drops %d, want %d", c.DroppedQueue, 100-ok)
	}
	// Half a second later the bucket has drained: a packet goes straight through.
	if !s.send(make([]byte, 1000), func([]byte) {}, now.Add(time.Second)) {
		t.Error("packet dropped after the queue drained")
	}
}

// TestShaperJitterKeepsOrder: jitter delays packets but never swaps them; Reorder does.
func TestShaperJitterKeepsOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       Profile
		inOrder bool
	}{
		{"jitter", Profile{Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond}, true},
		{"reorder", Profile{Reorder: 0.3, ReorderBy: 20 * time.Millisecond}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewShaper(tc.p, 7)
			defer s.Close()
			got := make(chan byte, 256)
			for i := range 200 {
				s.Send([]byte{byte(i)}, func(b []byte) { got <- b[0] })
			}
			var order []byte
			deadline := time.After(waitTimeout)
			for len(order) < 200 {
				select {
				case b := <-got:
					order = append(order, b)
				case <-deadline:
					t.Fatalf("%d of 200 delivered", len(order))
				}
			}
			swapped := 0
			for i := 1; i < len(order); i++ {
				if order[i] < order[i-1] {
					swapped++
				}
			}
			if tc.inOrder && swapped > 0 {
				t.Errorf("%d packets out of order", swapped)
			}
			if !tc.inOrder && swapped == 0 {
				t.Error("no packet reordered")
			}
		})
	}
}

// TestNetShapesUDP: a socket from Net sends through its shaper (total loss drops
// everything; back to a clean profile, datagrams arrive).
func TestNetShapesUDP(t *testing.T) {
	n, err := NewNet(nil, Profile{Loss: 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	rx, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	tx, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	for range 10 {
		if _, err := tx.WriteTo([]byte("lost"), rx.LocalAddr()); err != nil {
			t.Fatal(err)
		}
	}
	n.SetProfile(Profile{Delay: time.Millisecond})
	if _, err := tx.WriteTo([]byte("kept"), rx.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = rx.SetReadDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 64)
	k, _, err := rx.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:k], []byte("kept")) {
		t.Errorf("received %q, want the datagram sent after the loss stopped", buf[:k])
	}
	if c := n.Counters(); c.DroppedLoss != 10 || c.Delivered != 1 {
		t.Errorf("counters %+v", c)
	}
}
