package call

import (
	"errors"
	"testing"

	"github.com/ttycall/ttycall/call/internal/membus"
)

// Config.Admit refuses a call from a user it does not want: the caller is rejected (it
// stops dialing), nothing rings, and the refusal is an InvalidEvent.
func TestAdmitRefusesCall(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) {
		c.Admit = func(o *Offer) error {
			if o.From == "alice" {
				return errors.New("not in accept_from")
			}
			return nil
		}
	})
	s, err := alice.CreateNewSession([]UserID{"bob"}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, "reject", isType[RejectEvent]("bob"))
	inv := bob.rec.wait(t, "refused", isType[InvalidEvent]("alice")).(InvalidEvent)
	if !errors.Is(inv.Err, ErrRefused) || inv.Op != "offer" {
		t.Errorf("invalid event %+v", inv)
	}
	if m := bob.rec.wait(t, "missed call", isType[MissedCallEvent]("alice")).(MissedCallEvent); m.Reason != "refused" {
		t.Errorf("missed call %+v", m)
	}
	for _, ev := range bob.rec.events() {
		if _, ok := ev.(CallEvent); ok {
			t.Fatal("a refused call rang")
		}
	}
}

// Config.Screen sees every incoming message first and drops those it refuses.
func TestScreenDropsMessages(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) {
		c.Screen = func(m Message) error {
			if _, ok := m.(*Update); ok {
				return errors.New("no updates")
			}
			return nil
		}
	})
	s, _ := ring(t, alice, bob, nil)
	if err := s.Update(Extension{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	inv := bob.rec.wait(t, "screened", isType[InvalidEvent]("alice")).(InvalidEvent)
	if !errors.Is(inv.Err, ErrRefused) || inv.Op != "update" {
		t.Errorf("invalid event %+v", inv)
	}
	for _, ev := range bob.rec.events() {
		if _, ok := ev.(UpdateEvent); ok {
			t.Fatal("a screened update arrived")
		}
	}
}

// Client.Blocked reports a call an adapter declined itself (a Jingle stranger's
// propose) as the engine reports one its own Admit blocks: a MissedCallEvent with
// reason "blocked" naming the caller, and nothing rings.
func TestBlockedReportsMissedCall(t *testing.T) {
	bus := membus.New()
	bob := newMemParty(t, bus, "bob", nil)
	h := Header{From: "mallory", To: "bob", Session: SessionInfo{ID: "s-1", CallType: CallTypeVideo, Initiator: "mallory", Opponents: []UserID{"bob"}}}
	bob.Blocked(h, ErrBlocked)
	m := bob.rec.wait(t, "blocked call", isType[MissedCallEvent]("mallory")).(MissedCallEvent)
	if m.Reason != "blocked" || m.SessionID != "s-1" || m.CallType != CallTypeVideo || m.InitiatorID != "mallory" {
		t.Errorf("missed call %+v", m)
	}
	for _, ev := range bob.rec.events() {
		if _, ok := ev.(CallEvent); ok {
			t.Fatal("a blocked call rang")
		}
	}
}
