package call

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// ring has caller call callee (no media) and returns both sessions, the callee's NEW.
func ring(t *testing.T, caller, callee *party, ext Extension) (*Session, *Session) {
	t.Helper()
	s, err := caller.CreateNewSession([]UserID{callee.LocalID()}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Call(ext); err != nil {
		t.Fatal(err)
	}
	callee.rec.wait(t, "call", func(ev Event) bool { _, ok := ev.(CallEvent); return ok && ev.Session() == s.ID() })
	cs := callee.Session(s.ID())
	if cs == nil || cs.State() != SessionNew {
		t.Fatalf("callee session %v", cs)
	}
	return s, cs
}

func TestReject(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", nil)
	s, bs := ring(t, alice, bob, nil)
	if err := bs.Reject(Extension{"why": "busy"}); err != nil {
		t.Fatal(err)
	}
	rej := alice.rec.wait(t, "reject", isType[RejectEvent]("bob")).(RejectEvent)
	if rej.Ext["why"] != "busy" {
		t.Errorf("reject ext %v", rej.Ext)
	}
	alice.rec.wait(t, "alice closed", isSessionClose(s.ID()))
	bob.rec.wait(t, "bob closed", isSessionClose(s.ID()))
	bob.rec.wait(t, "REJECTED", func(ev Event) bool {
		e, ok := ev.(SessionStateEvent)
		return ok && e.New == SessionRejected
	})
	// A stale re-sent call of the closed session must not ring again.
	for _, sig := range bus.Delivered() {
		if sig.Type == wire.TypeCall && sig.SessionID == s.ID() {
			late := sig
			_ = bus.Inject(&late)
			break
		}
	}
	if bob.Session(s.ID()) != nil {
		t.Error("stale call made a session")
	}
	// Accept on the closed session: an error and an InvalidEvent, nothing else.
	if err := bs.Accept(nil); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("Accept after reject = %v", err)
	}
	bob.rec.wait(t, "invalid Accept", func(ev Event) bool { e, ok := ev.(InvalidEvent); return ok && e.Op == "Accept" })
	rings := 0
	for _, ev := range bob.rec.events() {
		if _, ok := ev.(CallEvent); ok {
			rings++
		}
	}
	if rings != 1 {
		t.Errorf("rang %d times", rings)
	}
}

func TestHangUpWhileRinging(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", nil)
	s, _ := ring(t, alice, bob, nil)
	if err := s.Stop(Extension{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	st := bob.rec.wait(t, "stop", isType[StopEvent]("alice")).(StopEvent)
	if st.Ext["k"] != "v" {
		t.Errorf("stop ext %v", st.Ext)
	}
	bob.rec.wait(t, "bob closed", isSessionClose(s.ID()))
	alice.rec.wait(t, "alice closed", isSessionClose(s.ID()))
}

func TestHangUpFromEitherSide(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", func(c *Config) { c.Echo = true })
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	for i, stopper := range []string{"caller", "callee"} {
		s, bs := startCall(t, alice, bob, CallTypeAudio, nil, nil)
		by, other, sess := alice, bob, s
		if stopper == "callee" {
			by, other, sess = bob, alice, bs
		}
		if err := sess.Stop(nil); err != nil {
			t.Fatal(err)
		}
		other.rec.wait(t, stopper+" hangUp seen", func(ev Event) bool {
			_, ok := ev.(StopEvent)
			return ok && ev.Session() == s.ID() && ev.Meta().User == by.LocalID()
		})
		alice.rec.wait(t, "closed", isSessionClose(s.ID()))
		bob.rec.wait(t, "closed", isSessionClose(s.ID()))
		_ = i
	}
}

func TestNotAnswered(t *testing.T) {
	bus := membus.New()
	short := func(c *Config) {
		setDialing(c, 50*time.Millisecond)
		c.AnswerTimeInterval = 400 * time.Millisecond
	}
	alice := newMemParty(t, bus, "alice", short)
	bob := newMemParty(t, bus, "bob", short)
	s, _ := ring(t, alice, bob, nil)
	alice.rec.wait(t, "not answered", isType[UserNotAnswerEvent]("bob"))
	if ev := alice.rec.wait(t, "closed", isSessionClose(s.ID())).(SessionCloseEvent); ev.Reason != "not answered" {
		t.Errorf("reason %q", ev.Reason)
	}
	if ev := bob.rec.wait(t, "callee timeout", isSessionClose(s.ID())).(SessionCloseEvent); ev.Reason != "answer timeout" {
		t.Errorf("callee reason %q", ev.Reason)
	}
	// The call was re-sent while dialing, and rang once.
	calls := 0
	for _, sig := range bus.Delivered() {
		if sig.Type == wire.TypeCall && sig.SessionID == s.ID() {
			calls++
		}
	}
	if calls < 2 {
		t.Errorf("call sent %d times, want re-sends", calls)
	}
	rings := 0
	for _, ev := range bob.rec.events() {
		if _, ok := ev.(CallEvent); ok {
			rings++
		}
	}
	if rings != 1 {
		t.Errorf("callee rang %d times", rings)
	}
}

func TestBusyAutoReject(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.AutoReject = true; c.IncomingLimit = 1 })
	carol := newMemParty(t, bus, "carol", nil)
	s1, _ := ring(t, alice, bob, nil)
	s2, err := carol.CreateNewSession([]UserID{"bob"}, CallTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Call(nil); err != nil {
		t.Fatal(err)
	}
	rej := carol.rec.wait(t, "auto reject", isType[RejectEvent]("bob")).(RejectEvent)
	if rej.Ext["reason"] != "busy" {
		t.Errorf("busy reject's extension = %v, want reason=busy", rej.Ext)
	}
	carol.rec.wait(t, "carol closed", isSessionClose(s2.ID()))
	inv := bob.rec.wait(t, "busy invalid", isType[InvalidEvent]("carol")).(InvalidEvent)
	if !errors.Is(inv.Err, ErrBusy) {
		t.Errorf("invalid err = %v", inv.Err)
	}
	if m := bob.rec.wait(t, "missed call", isType[MissedCallEvent]("carol")).(MissedCallEvent); m.Reason != "busy" || m.InitiatorID != "carol" || m.SessionID != s2.ID() {
		t.Errorf("missed call %+v", m)
	}
	if bob.Session(s1.ID()) == nil || bob.Session(s1.ID()).State() != SessionNew {
		t.Errorf("first call disturbed")
	}
	if bob.Session(s2.ID()) != nil {
		t.Errorf("busy call made a session")
	}
}

func TestUpdate(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", func(c *Config) { c.Echo = true })
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	s, bs := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	if err := s.Update(Extension{"muted": "true", "nested": Extension{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	up := bob.rec.wait(t, "update", isType[UpdateEvent]("alice")).(UpdateEvent)
	if up.Ext["muted"] != "true" || up.Ext["nested"].(Extension)["a"] != "b" {
		t.Errorf("update ext %v", up.Ext)
	}
	if err := bs.Update(Extension{"x": "y"}, "alice"); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, "update back", isType[UpdateEvent]("bob"))
	if err := bs.Update(nil, "mallory"); !errors.Is(err, ErrNotParticipant) {
		t.Errorf("update to non-participant = %v", err)
	}
}

func TestInvalidEventsLeaveCallUntouched(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	mallory := newMemParty(t, bus, "mallory", nil)
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	rs := remoteStream(t, alice, s.ID(), "bob", devices.KindVideo)

	// hangUp for an unknown session.
	_ = bus.Inject(&wire.Signal{From: "mallory", To: "alice", Type: wire.TypeHangUp, SessionID: "no-such-session", CallType: CallTypeVideo, CallerID: "mallory"})
	inv := alice.rec.wait(t, "unknown session", isType[InvalidEvent]("mallory")).(InvalidEvent)
	if !errors.Is(inv.Err, ErrUnknownSession) {
		t.Errorf("unknown session: %v", inv.Err)
	}
	// A spoofed hangUp from a non-participant.
	_ = bus.Inject(&wire.Signal{From: "mallory", To: "alice", Type: wire.TypeHangUp, SessionID: s.ID(), CallType: CallTypeVideo, CallerID: "alice", OpponentIDs: []UserID{"bob"}})
	inv = alice.rec.waitN(t, "spoofed hangUp", 2, isType[InvalidEvent]("mallory")).(InvalidEvent)
	if !errors.Is(inv.Err, ErrNotParticipant) {
		t.Errorf("spoofed: %v", inv.Err)
	}
	// A second accept from bob makes no sense now.
	_ = bus.Inject(&wire.Signal{From: "bob", To: "alice", Type: wire.TypeAccept, SessionID: s.ID(), CallType: CallTypeVideo, CallerID: "alice", OpponentIDs: []UserID{"bob"}, SDP: "v=0"})
	inv = alice.rec.wait(t, "late accept", isType[InvalidEvent]("bob")).(InvalidEvent)
	if !errors.Is(inv.Err, ErrInvalidState) {
		t.Errorf("late accept: %v", inv.Err)
	}
	// Accept on a closed session of mallory's own.
	ms, _ := mallory.CreateNewSession([]UserID{"alice"}, CallTypeAudio)
	_ = ms.Stop(nil)
	if err := ms.Accept(nil); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("accept on closed = %v", err)
	}
	// The call is untouched: still ACTIVE, CONNECTED, media flowing.
	if s.State() != SessionActive || s.ConnectionStateForUser("bob") != ConnectionConnected {
		t.Fatalf("call disturbed: %s / %s", s.State(), s.ConnectionStateForUser("bob"))
	}
	n := rs.PacketsReceived()
	waitPackets(t, rs, n+20)
	for _, ev := range alice.rec.events() {
		switch ev.(type) {
		case StopEvent, SessionCloseEvent:
			t.Errorf("unexpected %T", ev)
		}
	}
}

func TestCreateNewSessionDuplicate(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	if _, err := alice.CreateNewSession([]UserID{"bob", "carol"}, CallTypeVideo); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.CreateNewSession([]UserID{"carol", "bob"}, CallTypeAudio); !errors.Is(err, ErrSessionExists) {
		t.Errorf("duplicate = %v", err)
	}
	if _, err := alice.CreateNewSession([]UserID{"alice"}, CallTypeAudio); !errors.Is(err, ErrNoOpponents) {
		t.Errorf("self = %v", err)
	}
	_ = context.Background
}

// A timer stopped after it fired, while its operation waited in the queue behind the
// operation that stopped it, does not run that operation. Before, every timer operation
// re-checked whether it was still wanted, and the reconnect loop did not: a restart
// queued just before RECONNECTED ran after it, and a new RECONNECTING then had two
// restart loops.
func TestStoppedTimerOpDoesNotRun(t *testing.T) {
	s := &Session{c: &Client{}, ops: newQueue[func()](maxQueuedMessages)}
	s.c.sessWG.Add(1)
	go s.run() // ends when the last op below closes the session
	ran := make(chan string, 2)
	done := make(chan struct{})
	s.post(func() {
		stopped := s.after(0, func() { ran <- "stopped" })
		kept := s.after(0, func() { ran <- "kept" })
		// Wait until both timers fired and queued their operations (nothing else
		// posts meanwhile): each push sets the queue's ready token, taken here.
		deadline := time.After(waitTimeout)
		for n := 0; n < 2; {
			select {
			case <-s.ops.ready:
			case <-deadline:
				t.Error("timer operations never queued")
				s.closed = true
				close(done)
				return
			}
			s.ops.mu.Lock()
			n = len(s.ops.items)
			s.ops.mu.Unlock()
		}
		stopTimer(&stopped)
		_ = kept
		s.post(func() { // puts the ready token back; runs after both timer ops
			s.closed = true
			close(done)
		})
	})
	<-done
	s.c.sessWG.Wait()
	close(ran)
	var got []string
	for r := range ran {
		got = append(got, r)
	}
	if len(got) != 1 || got[0] != "kept" {
		t.Fatalf("ran %q, want only the timer that was not stopped", got)
	}
}
