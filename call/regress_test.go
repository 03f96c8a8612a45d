package call

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// Regression tests of bugs found by the hostile-input and property tests.

// A call whose SDP could never be answered used to make a NEW session that never rang
// and never timed out: it stayed until Close, and with AutoReject it made the client
// busy for every later call.
func TestBadCallLeavesNoBusySession(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.AutoReject = true; c.IncomingLimit = 1 })
	sid := uuid.NewString()
	_ = bus.Inject(&wire.Signal{
		From: "alice", To: "bob", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeAudio,
		CallerID: "alice", OpponentIDs: []UserID{"bob"}, SDP: "",
	})
	if inv := bob.rec.wait(t, "invalid call", isType[InvalidEvent]("alice")).(InvalidEvent); !errors.Is(inv.Err, ErrBadSignal) {
		t.Errorf("err = %v", inv.Err)
	}
	if n := len(bob.Sessions()); n != 0 {
		t.Fatalf("%d sessions after a bad call", n)
	}
	// A good call still rings.
	ring(t, alice, bob, nil)
}

// Signals of an outgoing session that was not called yet cannot be answers: a hangUp
// or reject used to close it before the user called.
func TestSignalsBeforeCall(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", nil)
	s, err := alice.CreateNewSession([]UserID{"bob"}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	for i, typ := range []wire.Type{wire.TypeHangUp, wire.TypeReject, wire.TypeAccept, wire.TypeUpdate} {
		_ = bus.Inject(&wire.Signal{
			From: "bob", To: "alice", Type: typ, SessionID: s.ID(), CallType: CallTypeAudio,
			CallerID: "alice", OpponentIDs: []UserID{"bob"}, SDP: "v=0",
		})
		inv := alice.rec.waitN(t, "invalid "+string(typ), i+1, isType[InvalidEvent]("bob")).(InvalidEvent)
		kind := map[wire.Type]string{wire.TypeHangUp: "terminate", wire.TypeReject: "reject", wire.TypeAccept: "answer", wire.TypeUpdate: "update"}[typ]
		if inv.Op != kind || !errors.Is(inv.Err, ErrInvalidState) {
			t.Errorf("%s: %s %v", typ, inv.Op, inv.Err)
		}
	}
	if s.State() != SessionNew {
		t.Fatalf("state %s", s.State())
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "ring", isType[CallEvent]("alice"))
}

// Candidates of a participant whose call never came used to keep a session alive
// after its last peer connection closed.
func TestCandidatesOnlyPeerKeepsNoSession(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", func(c *Config) { c.Echo = true })
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	bus.Register("carol", func(*wire.Signal) {})
	s, err := alice.CreateNewSession([]UserID{"bob", "carol"}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "ring", isType[CallEvent]("alice"))
	// carol (higher than bob: she would offer to him) trickles candidates, never calls.
	_ = bus.Inject(&wire.Signal{
		From: "carol", To: "bob", Type: wire.TypeICECandidates, SessionID: s.ID(), CallType: CallTypeAudio,
		CallerID: "alice", OpponentIDs: []UserID{"bob", "carol"},
		Candidates: []ICECandidate{{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", SDPMid: "0"}},
	})
	bs := bob.Session(s.ID())
	if err := bs.Accept(nil); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, bob, s.ID(), "alice")
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "bob's session closes", isSessionClose(s.ID()))
	if bs.State() != SessionClosed {
		t.Errorf("state %s", bs.State())
	}
}
