package call

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestOneToOneVideoCall(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", nil)

	s, bs := startCall(t, alice, bob, CallTypeVideo,
		Extension{"name": "Alice"}, Extension{"name": "Bob"})

	call := bob.rec.wait(t, "call", isType[CallEvent]("alice")).(CallEvent)
	if call.Ext["name"] != "Alice" || call.InitiatorID != "alice" || call.CallType != CallTypeVideo {
		t.Errorf("call event = %+v", call)
	}
	acc := alice.rec.wait(t, "accept", isType[AcceptEvent]("bob")).(AcceptEvent)
	if acc.Ext["name"] != "Bob" {
		t.Errorf("accept ext = %v", acc.Ext)
	}
	if got := s.ConnectionStateForUser("bob"); got != ConnectionConnected {
		t.Errorf("alice's state for bob = %s", got)
	}
	if s.State() != SessionActive || bs.State() != SessionActive {
		t.Errorf("states %s/%s, want ACTIVE", s.State(), bs.State())
	}
	// Media both ways, audio and video.
	for _, k := range []devices.Kind{devices.KindAudio, devices.KindVideo} {
		waitPackets(t, remoteStream(t, alice, s.ID(), "bob", k), 10)
		waitPackets(t, remoteStream(t, bob, s.ID(), "alice", k), 10)
	}

	if err := bs.Stop(Extension{"bye": "now"}); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stop := alice.rec.wait(t, "stop", isType[StopEvent]("bob")).(StopEvent)
	if stop.Ext["bye"] != "now" {
		t.Errorf("stop ext = %v", stop.Ext)
	}
	for _, p := range []*party{alice, bob} {
		p.rec.wait(t, "session close", isSessionClose(s.ID()))
		p.rec.wait(t, "connection closed", func(ev Event) bool {
			e, ok := ev.(ConnectionStateEvent)
			return ok && e.State == ConnectionClosed
		})
	}
	if s.State() != SessionClosed || bs.State() != SessionClosed {
		t.Errorf("states after stop %s/%s", s.State(), bs.State())
	}
	if len(alice.Sessions())+len(bob.Sessions()) != 0 {
		t.Errorf("sessions left after close")
	}
}
