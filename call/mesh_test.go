package call

import (
	"context"
	"testing"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/call/signal"
	"github.com/ttycall/ttycall/devices"
)

// TestMesh3: a group call of three where every pair connects and media flows on all six
// directed paths. IDs are numeric and chosen so that string order would be wrong
// ("9" > "11" as strings): 11 must offer to 9.
func TestMesh3(t *testing.T) {
	bus := membus.New()
	ids := []signal.UserID{"10", "9", "11"}
	parties := map[signal.UserID]*party{}
	for _, id := range ids {
		parties[id] = newMemParty(t, bus, id, nil)
	}
	ctx := context.Background()
	mp := devices.MediaParams{Audio: true, Video: true}
	init := parties["10"]
	s, err := init.CreateNewSession([]signal.UserID{"9", "11"}, signal.CallTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserMedia(ctx, mp); err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	// 11 accepts first (and calls 9 while 9 still rings), then 9.
	for _, id := range []signal.UserID{"11", "9"} {
		p := parties[id]
		p.rec.wait(t, string(id)+" rings", func(ev Event) bool { _, ok := ev.(CallEvent); return ok && ev.Session() == s.ID() })
		cs := p.Session(s.ID())
		if _, err := cs.GetUserMedia(ctx, mp); err != nil {
			t.Fatal(err)
		}
		if err := cs.Accept(nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range ids {
		for _, b := range ids {
			if a == b {
				continue
			}
			waitConnected(t, parties[a], s.ID(), b)
			for _, k := range []devices.Kind{devices.KindAudio, devices.KindVideo} {
				waitPackets(t, remoteStream(t, parties[a], s.ID(), b, k), 10)
			}
		}
	}
	// The mesh offer between the callees went from the higher ID to the lower.
	for _, sig := range bus.Delivered() {
		if sig.Type == signal.TypeCall && sig.SessionID == s.ID() && sig.From != "10" {
			if sig.From != "11" || sig.To != "9" {
				t.Errorf("mesh call %s -> %s", sig.From, sig.To)
			}
		}
	}
	// 9 rang once: the call from 11 was part of the same call.
	rings := 0
	for _, ev := range parties["9"].rec.events() {
		if _, ok := ev.(CallEvent); ok {
			rings++
		}
	}
	if rings != 1 {
		t.Errorf("9 rang %d times", rings)
	}
	// One leaves; the other two stay connected.
	if err := parties["11"].Session(s.ID()).Stop(nil); err != nil {
		t.Fatal(err)
	}
	parties["11"].rec.wait(t, "11 closed", isSessionClose(s.ID()))
	for _, id := range []signal.UserID{"10", "9"} {
		parties[id].rec.wait(t, "stop from 11", isType[StopEvent]("11"))
	}
	if st := parties["9"].Session(s.ID()).ConnectionStateForUser("10"); st != ConnectionConnected {
		t.Errorf("9-10 after 11 left: %s", st)
	}
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	parties["9"].rec.wait(t, "9 closed", isSessionClose(s.ID()))
}
