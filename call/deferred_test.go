package call

import (
	"context"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
)

// holdOffer is the caller's side of a protocol that rings before the SDP exists
// (Jingle Message Initiation): our offer is held and the callee gets a deferred Offer.
type holdOffer struct {
	Signaling
	callee *Client
	held   chan *Offer
}

func (h *holdOffer) Offer(_ context.Context, m *Offer) error {
	cp := *m
	h.held <- &cp
	h.callee.Receive(&Offer{Header: m.Header, Deferred: true})
	return nil
}

// proceed is the callee's side: its Answer without SDP (accepted) brings the held
// offer; the real answer goes out as usual.
type proceed struct {
	Signaling
	self     *Client
	held     chan *Offer
	proceeds chan struct{}
}

func (p *proceed) Answer(ctx context.Context, m *Answer) error {
	if m.SDP != "" {
		return p.Signaling.Answer(ctx, m)
	}
	p.proceeds <- struct{}{}
	select {
	case o := <-p.held:
		p.self.Receive(o)
	case <-time.After(10 * time.Second):
	}
	return nil
}

// TestDeferredOffer: a call rings without SDP (Offer.Deferred); Accept sends an Answer
// without SDP, and the caller's offer that follows is answered at once: media flow.
// A deferred call the caller gives up on before Accept closes.
func TestDeferredOffer(t *testing.T) {
	bus := membus.New()
	held := make(chan *Offer, 1)
	proceeds := make(chan struct{}, 4)
	var bobSig *proceed
	bob := newMemParty(t, bus, "bob", func(c *Config) {
		bobSig = &proceed{Signaling: c.Signaling, held: held, proceeds: proceeds}
		c.Signaling = bobSig
	})
	bobSig.self = bob.Client
	alice := newMemParty(t, bus, "alice", func(c *Config) {
		c.Signaling = &holdOffer{Signaling: c.Signaling, callee: bob.Client, held: held}
	})
	ctx := context.Background()
	s, err := alice.CreateNewSession([]UserID{"bob"}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserMedia(ctx, devices.MediaParams{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "ringing", isType[CallEvent]("alice"))
	select {
	case <-proceeds:
		t.Fatal("proceeded before Accept")
	default:
	}
	cs := bob.Session(s.ID())
	if cs == nil {
		t.Fatal("no ringing session")
	}
	if _, err := cs.GetUserMedia(ctx, devices.MediaParams{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Accept(nil); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, alice, s.ID(), "bob")
	waitConnected(t, bob, s.ID(), "alice")
	waitPackets(t, remoteStream(t, bob, s.ID(), "alice", devices.KindAudio), 10)
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "closed", isSessionClose(s.ID()))

	// Retracted while ringing: the caller's Terminate closes the deferred session.
	s2, err := alice.CreateNewSession([]UserID{"bob"}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Call(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "ringing again", func(ev Event) bool { _, ok := ev.(CallEvent); return ok && ev.Session() == s2.ID() })
	<-held // the caller never sends it
	bob.Receive(&Terminate{Header: Header{Session: SessionInfo{ID: s2.ID(), CallType: CallTypeAudio, Initiator: "alice", Opponents: []UserID{"bob"}}, From: "alice"}})
	bob.rec.wait(t, "retracted", isSessionClose(s2.ID()))
	_ = s2.Stop(nil)
}
