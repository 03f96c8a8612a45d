package quickblox

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/signaling"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// sent records what the adapter hands its transport.
type sent struct{ sigs []*wire.Signal }

func (s *sent) SendSignal(_ context.Context, to wire.UserID, sig *wire.Signal) error {
	if to != sig.To {
		return errors.New("to differs from the signal's To")
	}
	s.sigs = append(s.sigs, sig)
	return nil
}

// incoming records what the adapter hands the engine.
type incoming struct {
	msgs []signaling.Message
	errs []error
}

func (in *incoming) Receive(m signaling.Message)                { in.msgs = append(in.msgs, m) }
func (in *incoming) ReceiveError(_ signaling.UserID, err error) { in.errs = append(in.errs, err) }

func session() signaling.Session {
	return signaling.Session{ID: "s1", Protocol: Protocol, CallType: signaling.CallTypeVideo, Initiator: "1001", Opponents: []signaling.UserID{"1002", "1003"}}
}

// Every message goes out as its QuickBlox signal and comes back, through the codec
// and Message, as the same neutral message.
func TestRoundTrip(t *testing.T) {
	tr := &sent{}
	a, err := New(Config{Local: "1001", Transport: tr, Platform: "web"})
	if err != nil {
		t.Fatal(err)
	}
	h := signaling.Header{Session: session(), From: "1001", To: "1002", Ext: signaling.Extension{"k": "v"}}
	hNoExt := h
	hNoExt.Ext = nil
	ctx := context.Background()
	cands := []signaling.ICECandidate{{Candidate: "candidate:1 1 udp 1 127.0.0.1 4000 typ host", SDPMid: "0"}}
	for _, c := range []struct {
		m    signaling.Message
		typ  wire.Type
		kind string
	}{
		{&signaling.Offer{Header: h, SDP: "v=0\r\n"}, wire.TypeCall, "offer"},
		{&signaling.Answer{Header: h, SDP: "v=0\r\n"}, wire.TypeAccept, "answer"},
		{&signaling.Candidates{Header: hNoExt, Candidates: cands}, wire.TypeICECandidates, "candidates"},
		{&signaling.Reject{Header: h}, wire.TypeReject, "reject"},
		{&signaling.Terminate{Header: h}, wire.TypeHangUp, "terminate"},
		{&signaling.Restart{Header: hNoExt, ID: "o1", Type: signaling.SDPOffer, SDP: "v=0\r\n"}, wire.TypeUpdate, "restart"},
		{&signaling.Update{Header: h}, wire.TypeUpdate, "update"},
	} {
		tr.sigs = nil
		if err := signaling.Send(ctx, a, c.m); err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if len(tr.sigs) != 1 || tr.sigs[0].Type != c.typ || tr.sigs[0].Platform != "web" {
			t.Fatalf("%s: sent %+v", c.kind, tr.sigs)
		}
		sch, _ := wire.NewScheme("quickblox", mustJID(t))
		raw, err := wire.Marshal(tr.sigs[0], sch)
		if err != nil {
			t.Fatalf("%s: marshal: %v", c.kind, err)
		}
		back, err := wire.Unmarshal(raw, sch)
		if err != nil {
			t.Fatalf("%s: unmarshal: %v", c.kind, err)
		}
		back.From, back.To = "1001", "1002"
		got, err := Message(back)
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		if got.Kind() != c.kind || !reflect.DeepEqual(got, c.m) {
			t.Errorf("%s: got %#v, want %#v", c.kind, got, c.m)
		}
	}
}

// A session-wide reject or hang-up reaches every participant but us.
func TestSessionWideFanOut(t *testing.T) {
	tr := &sent{}
	a, err := New(Config{Local: "1002", Transport: tr})
	if err != nil {
		t.Fatal(err)
	}
	h := signaling.Header{Session: session(), From: "1002"}
	if err := a.Terminate(context.Background(), &signaling.Terminate{Header: h}); err != nil {
		t.Fatal(err)
	}
	var to []signaling.UserID
	for _, s := range tr.sigs {
		to = append(to, s.To)
	}
	if !reflect.DeepEqual(to, []signaling.UserID{"1001", "1003"}) {
		t.Errorf("hangUp went to %v", to)
	}
}

func TestRules(t *testing.T) {
	a, err := New(Config{Local: "1", Transport: &sent{}})
	if err != nil {
		t.Fatal(err)
	}
	r := a.Rules(session())
	if r.ResendOffer <= 0 || r.Offers == nil {
		t.Fatalf("rules %+v", r)
	}
	for _, c := range []struct {
		a, b signaling.UserID
		want bool
	}{{"10", "9", true}, {"9", "10", false}, {"bob", "alice", true}, {"alice", "bob", false}} {
		if got := r.Offers(c.a, c.b); got != c.want {
			t.Errorf("Offers(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

func TestReceiver(t *testing.T) {
	in := &incoming{}
	on, onErr := Receiver(in)
	on(&wire.Signal{From: "1002", To: "1001", Type: wire.TypeHangUp, SessionID: "s1", CallType: wire.CallTypeAudio, CallerID: "1001"})
	on(&wire.Signal{From: "1002", Type: "bogus"})
	onErr("1002", errors.New("undecodable"))
	if len(in.msgs) != 1 || in.msgs[0].Kind() != "terminate" || in.msgs[0].Head().Session.Protocol != Protocol {
		t.Errorf("messages %+v", in.msgs)
	}
	if len(in.errs) != 2 || !errors.Is(in.errs[0], wire.ErrUnknownType) {
		t.Errorf("errors %v", in.errs)
	}
}

func mustJID(t *testing.T) jid.JID {
	t.Helper()
	j, err := jid.Parse("1001-77@localhost")
	if err != nil {
		t.Fatal(err)
	}
	return j
}
