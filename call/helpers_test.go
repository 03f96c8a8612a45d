package call

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/signaling/quickblox"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// waitTimeout bounds every wait for an event in the tests.
const waitTimeout = 15 * time.Second

// testMedia is a small synthetic source: cheap to encode on a shared machine.
var testMedia = devices.Options{Camera: devices.SourceTest, Microphone: devices.SourceTest, Width: 160, Height: 120, FPS: 15}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("CALL_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
}

// testConfig is a loopback-only config with short intervals, signaling through the
// QuickBlox adapter over tr.
func testConfig(t testing.TB, id UserID, tr quickblox.Transport) Config {
	qb, err := quickblox.New(quickblox.Config{Local: id, Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		LocalID:      id,
		Signaling:    qb,
		LoopbackOnly: true,
		Media:        testMedia,
		Logger:       testLogger(t),
		// Tests make many calls between the same two parties; the per-sender limit on
		// new calls is tested on its own (TestStrangerOfferFlood).
		offerLimiter: &guard.Limiter{Burst: 1 << 30},
	}
}

// dialing overrides the adapter's re-send interval (its DialingTimeInterval).
type dialing struct {
	Signaling
	every time.Duration
}

func (d dialing) Rules(s SessionInfo) Rules {
	r := d.Signaling.Rules(s)
	r.ResendOffer = d.every
	return r
}

// setDialing makes cfg's signaling re-send an unanswered call every d.
func setDialing(cfg *Config, d time.Duration) { cfg.Signaling = dialing{cfg.Signaling, d} }

// receiver is what a transport hands c's signals to.
func receiver(c *Client) func(*wire.Signal) {
	on, _ := quickblox.Receiver(c)
	return on
}

// party is one client under test with its recorded events.
type party struct {
	*Client
	rec *recorder
}

// newMemParty starts a client on the bus; mutate adjusts its config.
func newMemParty(t testing.TB, bus *membus.Bus, id UserID, mutate func(*Config)) *party {
	t.Helper()
	cfg := testConfig(t, id, bus.Endpoint(id))
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient(%s): %v", id, err)
	}
	bus.Register(id, receiver(c))
	p := &party{Client: c, rec: record(c)}
	t.Cleanup(func() { p.close(t) })
	return p
}

func (p *party) close(t testing.TB) {
	if err := p.Client.Close(); err != nil {
		t.Errorf("Close(%s): %v", p.LocalID(), err)
	}
	<-p.rec.done
}

// recorder keeps every event of a client, in order.
type recorder struct {
	mu      sync.Mutex
	evs     []Event       // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced on every event
	done    chan struct{} // closed when the Events channel is closed
}

// record reads c.Events() until Close closes it. The goroutine is owned by the test
// (party.close waits for done).
func record(c *Client) *recorder {
	r := &recorder{changed: make(chan struct{}), done: make(chan struct{})}
	go func() { // ends when Client.Close closes the Events channel
		defer close(r.done)
		for ev := range c.Events() {
			r.mu.Lock()
			r.evs = append(r.evs, ev)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.evs...)
}

// wait returns the first event (from the start of the recording) matching pred.
func (r *recorder) wait(t testing.TB, what string, pred func(Event) bool) Event {
	t.Helper()
	return r.waitN(t, what, 1, pred)
}

// waitN waits for the n-th event matching pred.
func (r *recorder) waitN(t testing.TB, what string, n int, pred func(Event) bool) Event {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		seen := 0
		for _, ev := range r.evs {
			if pred(ev) {
				seen++
				if seen == n {
					r.mu.Unlock()
					return ev
				}
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; events:\n%s", what, r.dump())
			return nil
		}
	}
}

func (r *recorder) dump() string {
	var b strings.Builder
	for _, ev := range r.events() {
		fmt.Fprintf(&b, "  %T %+v\n", ev, ev)
	}
	return b.String()
}

// Event predicates.

func isConn(user UserID, st ConnectionState) func(Event) bool {
	return func(ev Event) bool {
		e, ok := ev.(ConnectionStateEvent)
		return ok && e.User == user && e.State == st
	}
}

func isType[E Event](user UserID) func(Event) bool {
	return func(ev Event) bool {
		e, ok := ev.(E)
		return ok && (user == "" || e.Meta().User == user)
	}
}

func isReconnect(user UserID, st ReconnectionState) func(Event) bool {
	return func(ev Event) bool {
		e, ok := ev.(ReconnectEvent)
		return ok && e.User == user && e.State == st
	}
}

func isSessionClose(id string) func(Event) bool {
	return func(ev Event) bool {
		_, ok := ev.(SessionCloseEvent)
		return ok && ev.Session() == id
	}
}

// waitPackets waits until a remote stream has received n packets. RemoteStream has no
// event per packet, so this polls the counter on a short ticker (not a sleep: it ends
// as soon as the condition holds, and fails at the deadline).
func waitPackets(t testing.TB, rs *RemoteStream, n uint64) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for rs.PacketsReceived() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s's %s stream: %d packets, want %d", rs.User, rs.Kind, rs.PacketsReceived(), n)
		}
		<-tick.C
	}
}

// startCall has caller call callee (opened with local media on both sides) and waits
// until both are CONNECTED; it returns the two sessions.
func startCall(t testing.TB, caller, callee *party, ct CallType, callExt, acceptExt Extension) (*Session, *Session) {
	t.Helper()
	ctx := context.Background()
	s, err := caller.CreateNewSession([]UserID{callee.LocalID()}, ct)
	if err != nil {
		t.Fatalf("CreateNewSession: %v", err)
	}
	mp := devices.MediaParams{Audio: true, Video: ct == CallTypeVideo}
	if !caller.cfg.Echo {
		if _, err := s.GetUserMedia(ctx, mp); err != nil {
			t.Fatalf("GetUserMedia: %v", err)
		}
	}
	if err := s.Call(callExt); err != nil {
		t.Fatalf("Call: %v", err)
	}
	callee.rec.wait(t, "call event", func(ev Event) bool {
		_, ok := ev.(CallEvent)
		return ok && ev.Session() == s.ID()
	})
	cs := callee.Session(s.ID())
	if cs == nil {
		t.Fatalf("callee has no session %s", s.ID())
	}
	if !callee.cfg.Echo {
		if _, err := cs.GetUserMedia(ctx, mp); err != nil {
			t.Fatalf("callee GetUserMedia: %v", err)
		}
	}
	if err := cs.Accept(acceptExt); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	waitConnected(t, caller, s.ID(), callee.LocalID())
	waitConnected(t, callee, s.ID(), caller.LocalID())
	return s, cs
}

func waitConnected(t testing.TB, p *party, sid string, user UserID) {
	t.Helper()
	p.rec.wait(t, fmt.Sprintf("%s CONNECTED to %s", p.LocalID(), user), func(ev Event) bool {
		e, ok := ev.(ConnectionStateEvent)
		return ok && e.SessionID == sid && e.User == user && e.State == ConnectionConnected
	})
}

// remoteStream waits for the remote stream of kind k from user in session sid.
func remoteStream(t testing.TB, p *party, sid string, user UserID, k devices.Kind) *RemoteStream {
	t.Helper()
	ev := p.rec.wait(t, fmt.Sprintf("%s: %s stream of %s", p.LocalID(), k, user), func(ev Event) bool {
		e, ok := ev.(RemoteStreamEvent)
		return ok && e.SessionID == sid && e.User == user && e.Stream.Kind == k
	})
	return ev.(RemoteStreamEvent).Stream
}
