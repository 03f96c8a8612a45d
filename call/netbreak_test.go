package call

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// breakableNet is pion's standard network whose UDP sockets drop every datagram, both
// ways, while broken is set: a network break that leaves signaling alone.
type breakableNet struct {
	*stdnet.Net
	broken *atomic.Bool
}

func newBreakableNet(t testing.TB, broken *atomic.Bool) *breakableNet {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return &breakableNet{Net: n, broken: broken}
}

func (n *breakableNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &breakableConn{UDPConn: c, broken: n.broken}, nil
}

func (n *breakableNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	return &breakablePacketConn{PacketConn: c, broken: n.broken}, nil
}

type breakableConn struct {
	transport.UDPConn
	broken *atomic.Bool
}

func (c *breakableConn) WriteTo(p []byte, a net.Addr) (int, error) {
	if c.broken.Load() {
		return len(p), nil
	}
	return c.UDPConn.WriteTo(p, a)
}

func (c *breakableConn) WriteToUDP(p []byte, a *net.UDPAddr) (int, error) {
	if c.broken.Load() {
		return len(p), nil
	}
	return c.UDPConn.WriteToUDP(p, a)
}

func (c *breakableConn) Write(p []byte) (int, error) {
	if c.broken.Load() {
		return len(p), nil
	}
	return c.UDPConn.Write(p)
}

func (c *breakableConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.UDPConn.ReadFrom(p)
		if err != nil || !c.broken.Load() {
			return n, a, err
		}
	}
}

type breakablePacketConn struct {
	net.PacketConn
	broken *atomic.Bool
}

func (c *breakablePacketConn) WriteTo(p []byte, a net.Addr) (int, error) {
	if c.broken.Load() {
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, a)
}

func (c *breakablePacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, a, err := c.PacketConn.ReadFrom(p)
		if err != nil || !c.broken.Load() {
			return n, a, err
		}
	}
}

// breakConfig gives both parties the breakable network and short ICE timeouts.
func breakConfig(t testing.TB, broken *atomic.Bool, disconnect time.Duration) func(*Config) {
	return func(c *Config) {
		c.net = newBreakableNet(t, broken)
		c.iceTimeouts = [3]time.Duration{400 * time.Millisecond, 1200 * time.Millisecond, 100 * time.Millisecond}
		c.ReconnectWait = 200 * time.Millisecond
		c.DisconnectTimeInterval = disconnect
	}
}

func TestNetworkBreakRecovered(t *testing.T) {
	var broken atomic.Bool
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", breakConfig(t, &broken, 10*time.Second))
	bob := newMemParty(t, bus, "bob", func(c *Config) { breakConfig(t, &broken, 10*time.Second)(c); c.Echo = true })
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	rs := remoteStream(t, alice, s.ID(), "bob", devices.KindVideo)
	waitPackets(t, rs, 10)

	restartOffered := make(chan struct{})
	var once atomic.Bool
	bus.SetFilter(func(sig *wire.Signal) bool {
		if sig.Type == wire.TypeUpdate && sig.SessionDescription != nil && sig.SessionDescription.Type == "offer" && once.CompareAndSwap(false, true) {
			close(restartOffered)
		}
		return true
	})
	broken.Store(true)
	alice.rec.wait(t, "alice RECONNECTING", isReconnect("bob", Reconnecting))
	bob.rec.wait(t, "bob RECONNECTING", isReconnect("alice", Reconnecting))
	// Keep the network down until ICE is restarted, so recovery needs the restart.
	select {
	case <-restartOffered:
	case <-time.After(waitTimeout):
		t.Fatal("no ICE-restart offer")
	}
	broken.Store(false)
	alice.rec.wait(t, "alice RECONNECTED", isReconnect("bob", Reconnected))
	bob.rec.wait(t, "bob RECONNECTED", isReconnect("alice", Reconnected))

	// The restart went through update signals: an offer from bob (the higher ID) and an
	// answer with the same offerId.
	offers := map[string]bool{}
	answered := false
	for _, sig := range bus.Delivered() {
		if sig.Type != wire.TypeUpdate || sig.Reason != wire.ReasonReconnect || sig.SessionDescription == nil {
			continue
		}
		sd := sig.SessionDescription
		switch {
		case sd.Type == "offer" && sig.From == "bob":
			offers[sd.OfferID] = true
		case sd.Type == "answer" && sig.From == "alice" && offers[sd.OfferID]:
			answered = true
		default:
			t.Errorf("unexpected restart signal %s -> %s %s", sig.From, sig.To, sd.Type)
		}
	}
	if !answered {
		t.Errorf("no answered ICE-restart offer (offers %v)", offers)
	}
	waitReplacedStream(t, alice, s.ID(), rs)
	if s.State() != SessionActive {
		t.Errorf("session %s", s.State())
	}
}

func TestNetworkBreakFailed(t *testing.T) {
	var broken atomic.Bool
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", breakConfig(t, &broken, 1500*time.Millisecond))
	bob := newMemParty(t, bus, "bob", func(c *Config) { breakConfig(t, &broken, 1500*time.Millisecond)(c); c.Echo = true })
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	broken.Store(true)
	for _, pp := range []struct {
		p    *party
		peer UserID
	}{{alice, "bob"}, {bob, "alice"}} {
		pp.p.rec.wait(t, "RECONNECTING", isReconnect(pp.peer, Reconnecting))
		pp.p.rec.wait(t, "FAILED", isReconnect(pp.peer, ReconnectionFailed))
		pp.p.rec.wait(t, "CLOSED", isConn(pp.peer, ConnectionClosed))
		if ev := pp.p.rec.wait(t, "session closed", isSessionClose(s.ID())).(SessionCloseEvent); ev.Reason != "connection failed" {
			t.Errorf("reason %q", ev.Reason)
		}
	}
}

// TestNetworkBreakICEFailedRecovered: a break long enough for pion's ICE agent to reach
// failed (it then releases its candidates and stops checking), shorter than
// DisconnectTimeInterval, is still recovered by the reconnect: its new peer connections
// gather afresh.
func TestNetworkBreakICEFailedRecovered(t *testing.T) {
	var broken atomic.Bool
	bus := membus.New()
	// The restart waits until ICE has failed on both sides: disconnected after 0.4 s,
	// failed 1.2 s later; the first restart comes 2.5 s after RECONNECTING.
	slow := func(c *Config) {
		breakConfig(t, &broken, 15*time.Second)(c)
		c.ReconnectWait = 2500 * time.Millisecond
	}
	alice := newMemParty(t, bus, "alice", slow)
	bob := newMemParty(t, bus, "bob", func(c *Config) { slow(c); c.Echo = true })
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	rs := remoteStream(t, alice, s.ID(), "bob", devices.KindVideo)
	waitPackets(t, rs, 10)

	var offers atomic.Int32
	var firstOffer atomic.Int64 // unix nanoseconds
	bus.SetFilter(func(sig *wire.Signal) bool {
		if sig.Type == wire.TypeUpdate && sig.SessionDescription != nil && sig.SessionDescription.Type == "offer" {
			if offers.Add(1) == 1 {
				firstOffer.Store(time.Now().UnixNano())
			}
		}
		return true
	})
	broken.Store(true)
	alice.rec.wait(t, "alice RECONNECTING", isReconnect("bob", Reconnecting))
	bob.rec.wait(t, "bob RECONNECTING", isReconnect("alice", Reconnecting))
	alice.rec.wait(t, "alice FAILED", isConn("bob", ConnectionFailed))
	bob.rec.wait(t, "bob FAILED", isConn("alice", ConnectionFailed))
	if n := offers.Load(); n != 0 {
		t.Fatalf("%d restart offers before ICE failed: the test does not test recovery from failed", n)
	}
	broken.Store(false) // the path is back, but a failed agent does not check any more
	for _, ev := range []Event{
		alice.rec.wait(t, "alice RECONNECTED", isReconnect("bob", Reconnected)),
		bob.rec.wait(t, "bob RECONNECTED", isReconnect("alice", Reconnected)),
	} {
		if first := firstOffer.Load(); first == 0 || ev.Meta().Time.UnixNano() < first {
			t.Errorf("%s RECONNECTED before any ICE-restart offer", ev.Meta().User)
		}
	}
	for _, p := range []*party{alice, bob} {
		for _, ev := range p.rec.events() {
			if e, ok := ev.(ReconnectEvent); ok && e.State == ReconnectionFailed {
				t.Errorf("%s: reconnection FAILED reported", p.LocalID())
			}
		}
	}
	waitReplacedStream(t, alice, s.ID(), rs)
	if s.State() != SessionActive || s.ConnectionStateForUser("bob") != ConnectionConnected {
		t.Errorf("after recovery: %s / %s", s.State(), s.ConnectionStateForUser("bob"))
	}
}

// waitReplacedStream checks the media after a reconnect, which replaces the peer
// connection on both sides: old, bob's video stream on the old connection, ends, and a
// new one (a second RemoteStreamEvent) carries packets.
func waitReplacedStream(t *testing.T, p *party, sid string, old *RemoteStream) {
	t.Helper()
	ev := p.rec.waitN(t, "bob's video stream on the new connection", 2, func(ev Event) bool {
		e, ok := ev.(RemoteStreamEvent)
		return ok && e.SessionID == sid && e.User == "bob" && e.Stream.Kind == devices.KindVideo
	})
	waitPackets(t, ev.(RemoteStreamEvent).Stream, 20)
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		old.mu.Lock()
		ended := old.ended
		old.mu.Unlock()
		if ended {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the old connection's video stream did not end")
		}
		<-tick.C
	}
}
