package call

import (
	"os"
	"runtime"
	"testing"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
)

func openFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestNoGrowthAfter50Calls: 50 sequential calls with media leave no goroutine or file
// descriptor behind.
func TestNoGrowthAfter50Calls(t *testing.T) {
	if testing.Short() {
		t.Skip("50 calls")
	}
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the parties' cleanups
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })

	one := func() {
		s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
		waitPackets(t, remoteStream(t, alice, s.ID(), "bob", devices.KindVideo), 3)
		if err := s.Stop(nil); err != nil {
			t.Fatal(err)
		}
		alice.rec.wait(t, "closed", isSessionClose(s.ID()))
		bob.rec.wait(t, "closed", isSessionClose(s.ID()))
	}
	one() // warm up (pools, lazily started runtime goroutines)
	base := goleak.IgnoreCurrent()
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	for range 50 {
		one()
	}
	// goleak retries for a while: pion ends a few goroutines just after Close returns.
	if err := goleak.Find(base); err != nil {
		t.Errorf("goroutines left after 50 calls: %v", err)
	}
	g1, fd1 := runtime.NumGoroutine(), openFDs(t)
	if fd1 > fd0 {
		t.Errorf("file descriptors %d -> %d after 50 calls", fd0, fd1)
	}
	t.Logf("goroutines %d -> %d, fds %d -> %d", g0, g1, fd0, fd1)
}
