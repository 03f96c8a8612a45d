package call

import (
	"context"
	"strings"
	"testing"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/signaling/quickblox"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// TestMesh3: a group call of three where every pair connects and media flows on all six
// directed paths. IDs are numeric and chosen so that string order would be wrong
// ("9" > "11" as strings): 11 must offer to 9.
func TestMesh3(t *testing.T) {
	bus := membus.New()
	meshTest(t, []UserID{"10", "9", "11"}, func(id UserID) *party { return newMemParty(t, bus, id, nil) }, bus)
}

// TestProsodyMesh3 is the same through Prosody: the IDs are JIDs, ordered as strings.
func TestProsodyMesh3(t *testing.T) {
	x := startProsody(t, "bob", "alice", "carol")
	meshTest(t, []UserID{"bob@" + UserID(x.domain), "alice@" + UserID(x.domain), "carol@" + UserID(x.domain)},
		func(id UserID) *party { return newXMPPParty(t, x, strings.SplitN(string(id), "@", 2)[0], nil) }, nil)
}

// meshTest: ids[0] calls ids[1] and ids[2]; ids[2] (the highest of the callees) accepts
// first and offers to ids[1] while it still rings. bus, when not nil, is checked for
// the direction of the mesh offer.
func meshTest(t *testing.T, ids []UserID, mk func(UserID) *party, bus *membus.Bus) {
	parties := map[UserID]*party{}
	for _, id := range ids {
		parties[id] = mk(id)
	}
	initID, low, high := ids[0], ids[1], ids[2]
	if !quickblox.HigherID(high, low) {
		t.Fatalf("bad test: %s must be higher than %s", high, low)
	}
	ctx := context.Background()
	mp := devices.MediaParams{Audio: true, Video: true}
	s, err := parties[initID].CreateNewSession([]UserID{low, high}, CallTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserMedia(ctx, mp); err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	for _, id := range []UserID{high, low} {
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
	if bus != nil {
		for _, sig := range bus.Delivered() {
			if sig.Type == wire.TypeCall && sig.SessionID == s.ID() && sig.From != initID {
				if sig.From != high || sig.To != low {
					t.Errorf("mesh call %s -> %s", sig.From, sig.To)
				}
			}
		}
	}
	// The lowest rang once: the call from the other callee was part of the same call.
	rings := 0
	for _, ev := range parties[low].rec.events() {
		if _, ok := ev.(CallEvent); ok {
			rings++
		}
	}
	if rings != 1 {
		t.Errorf("%s rang %d times", low, rings)
	}
	// One leaves; the other two stay connected.
	if err := parties[high].Session(s.ID()).Stop(nil); err != nil {
		t.Fatal(err)
	}
	parties[high].rec.wait(t, "closed", isSessionClose(s.ID()))
	for _, id := range []UserID{initID, low} {
		parties[id].rec.wait(t, "stop", isType[StopEvent](high))
	}
	if st := parties[low].Session(s.ID()).ConnectionStateForUser(initID); st != ConnectionConnected {
		t.Errorf("%s-%s after %s left: %s", low, initID, high, st)
	}
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	parties[low].rec.wait(t, "closed", isSessionClose(s.ID()))
}
