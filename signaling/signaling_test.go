package signaling

import (
	"context"
	"testing"
)

// named records which adapter a message reached.
type named struct {
	name string
	got  *[]string
}

func (n named) rec(m Message) error {
	*n.got = append(*n.got, n.name+":"+m.Kind())
	return nil
}
func (n named) Offer(_ context.Context, m *Offer) error           { return n.rec(m) }
func (n named) Answer(_ context.Context, m *Answer) error         { return n.rec(m) }
func (n named) Candidates(_ context.Context, m *Candidates) error { return n.rec(m) }
func (n named) Reject(_ context.Context, m *Reject) error         { return n.rec(m) }
func (n named) Terminate(_ context.Context, m *Terminate) error   { return n.rec(m) }
func (n named) Restart(_ context.Context, m *Restart) error       { return n.rec(m) }
func (n named) Update(_ context.Context, m *Update) error         { return n.rec(m) }
func (n named) Rules(Session) Rules                               { return Rules{ResendOffer: 1} }

func TestRouter(t *testing.T) {
	var got []string
	r := &Router{Default: named{"qb", &got}, Protocols: map[string]Signaling{"jingle": named{"jingle", &got}}}
	ctx := context.Background()
	jingle := Header{Session: Session{ID: "s", Protocol: "jingle"}}
	other := Header{Session: Session{ID: "s", Protocol: "quickblox"}}
	for _, m := range []Message{&Offer{Header: jingle}, &Terminate{Header: other}, &Candidates{Header: Header{}}} {
		if err := Send(ctx, r, m); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"jingle:offer", "qb:terminate", "qb:candidates"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if (&Router{}).Offer(ctx, &Offer{}) == nil {
		t.Error("a Router without a route sent")
	}
}

func TestParticipants(t *testing.T) {
	s := Session{Initiator: "a", Opponents: []UserID{"b", "a", "c", "b"}}
	if got := s.Participants("b"); len(got) != 2 || got[0] != "a" || got[1] != "c" {
		t.Errorf("Participants = %v", got)
	}
}

func TestNormalizeSDP(t *testing.T) {
	for in, want := range map[string]string{"": "", "v=0": "v=0\r\n", "v=0\na=x": "v=0\r\na=x\r\n", "v=0\r\n": "v=0\r\n", "v=0\ra=x\r\n": "v=0\r\na=x\r\n"} {
		if got := NormalizeSDP(in); got != want {
			t.Errorf("NormalizeSDP(%q) = %q, want %q", in, got, want)
		}
	}
}

// muter is a named adapter that also takes Mute (signaling.Muter).
type muter struct{ named }

func (m muter) Mute(_ context.Context, x *Mute) error { return m.rec(x) }

// TestMuteOptional: Mute reaches an adapter that implements Muter, through a Router
// too, and is dropped without error for one that does not (QuickBlox).
func TestMuteOptional(t *testing.T) {
	var got []string
	r := &Router{Default: named{"qb", &got}, Protocols: map[string]Signaling{"jingle": muter{named{"jingle", &got}}}}
	ctx := context.Background()
	for _, p := range []string{"jingle", "quickblox"} {
		if err := Send(ctx, r, &Mute{Header: Header{Session: Session{ID: "s", Protocol: p}}, Media: "audio", Muted: true}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0] != "jingle:mute" {
		t.Fatalf("got %v, want only jingle:mute", got)
	}
}
