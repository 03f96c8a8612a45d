package chat

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/signaling/jingle"
	"github.com/ttycall/ttycall/signaling/jmi"
)

// fakeJingle records what the account hands to a Jingle adapter and answers as told.
type fakeJingle struct {
	mu      sync.Mutex
	answers map[string]*jingle.Error // sid -> error to answer; nil: result
	iqs     chan jingleCall
	acted   chan string // sid, from the then func
	jmis    chan JMIMessage
}

type jingleCall struct {
	from jid.JID
	j    *jingle.Jingle
}

func newFakeJingle() *fakeJingle {
	return &fakeJingle{answers: map[string]*jingle.Error{}, iqs: make(chan jingleCall, 64),
		acted: make(chan string, 64), jmis: make(chan JMIMessage, 64)}
}

func (f *fakeJingle) HandleJingle(from jid.JID, j *jingle.Jingle) (func(), *jingle.Error) {
	f.mu.Lock()
	e := f.answers[j.SID]
	f.mu.Unlock()
	f.iqs <- jingleCall{from, j}
	if e != nil {
		return nil, e
	}
	return func() { f.acted <- j.SID }, nil
}

func (f *fakeJingle) HandleJMI(m JMIMessage) { f.jmis <- m }

func jinglePeer(t *testing.T, p *peer) *fakeJingle {
	t.Helper()
	f := newFakeJingle()
	p.SetJingleHandler(f)
	return f
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitFor):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// rawIQ sends a hand-made IQ set (inner is XML text, sent as is) and returns the error
// of the reply (nil for a result).
func rawIQ(t *testing.T, p *peer, to jid.JID, inner string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	iq := stanza.IQ{ID: randomID(), To: to, Type: stanza.SetIQ}
	resp, err := p.session().SendIQ(ctx, iq.Wrap(textTokens{xml.NewDecoder(strings.NewReader(inner))}))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Close()
	return readIQError(resp)
}

// textTokens reads XML text as tokens without the xmlns attributes (names carry them).
type textTokens struct{ d *xml.Decoder }

func (s textTokens) Token() (xml.Token, error) {
	tok, err := s.d.Token()
	if se, ok := tok.(xml.StartElement); ok {
		var attrs []xml.Attr
		for _, a := range se.Attr {
			if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") {
				attrs = append(attrs, a)
			}
		}
		se.Attr = attrs
		return se, err
	}
	return tok, err
}

func fullJID(t *testing.T, p *peer) jid.JID {
	t.Helper()
	s := p.session()
	if s == nil {
		t.Fatal("offline")
	}
	return s.LocalAddr()
}

// TestJingleIQ: Jingle IQs reach the handler, which answers result (then acts) or the
// XEP-0166 error; malformed and oversized ones are answered bad-request and never reach
// it; a well-formed one from a peer survives.
func TestJingleIQ(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil)
	fa := jinglePeer(t, alice)
	alice.online()
	bob := newPeer(t, srv, "bob", nil)
	jinglePeer(t, bob)
	bob.online()
	ctx := ctxT(t)
	aliceFull, bobFull := fullJID(t, alice), fullJID(t, bob)

	term := &jingle.Jingle{Action: jingle.SessionTerminate, SID: "s1", Reason: &jingle.Reason{Condition: jingle.ReasonSuccess}}
	if err := bob.SendJingle(ctx, aliceFull, term); err != nil {
		t.Fatal(err)
	}
	got := recv(t, fa.iqs, "jingle IQ")
	if !got.from.Equal(bobFull) || got.j.SID != "s1" || got.j.Reason == nil || got.j.Reason.Condition != jingle.ReasonSuccess {
		t.Errorf("handler got %v %+v", got.from, got.j)
	}
	if sid := recv(t, fa.acted, "then"); sid != "s1" {
		t.Errorf("acted on %q", sid)
	}

	for sid, want := range map[string]*jingle.Error{"s2": jingle.ErrUnknownSession, "s3": jingle.ErrOutOfOrder, "s4": jingle.ErrTieBreak, "s5": jingle.ErrUnsupportedInfo} {
		fa.mu.Lock()
		fa.answers[sid] = want
		fa.mu.Unlock()
		err := bob.SendJingle(ctx, aliceFull, &jingle.Jingle{Action: jingle.SessionInfo, SID: sid})
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", sid, err, want)
		}
		recv(t, fa.iqs, "jingle IQ "+sid)
	}

	var cands strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&cands, `<candidate component="1" foundation="%d" generation="0" ip="127.0.0.1" port="9" priority="1" protocol="udp" type="host"/>`, i)
	}
	for name, inner := range map[string]string{
		"unknown action":          `<jingle xmlns="urn:xmpp:jingle:1" action="session-explode" sid="x"/>`,
		"no sid":                  `<jingle xmlns="urn:xmpp:jingle:1" action="session-terminate"/>`,
		"thousands of candidates": `<jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="x"><content creator="initiator" name="0"><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="u" pwd="p">` + cands.String() + `</transport></content></jingle>`,
	} {
		err := rawIQ(t, bob, aliceFull, inner)
		if !errors.Is(err, jingle.ErrIQBadRequest) {
			t.Errorf("%s: got %v, want bad-request", name, err)
		}
	}
	select {
	case c := <-fa.iqs:
		t.Errorf("the handler saw a refused IQ: %+v", c.j)
	default:
	}
	// The account still works.
	if err := bob.SendJingle(ctx, aliceFull, &jingle.Jingle{Action: jingle.SessionInfo, SID: "s6"}); err != nil {
		t.Fatal(err)
	}
	recv(t, fa.iqs, "jingle IQ after hostile ones")
}

// TestJingleOff: without a handler, Jingle IQs get service-unavailable.
func TestJingleOff(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	bob := newPeer(t, srv, "bob", nil).online()
	err := bob.SendJingle(ctxT(t), fullJID(t, alice), &jingle.Jingle{Action: jingle.SessionInfo, SID: "s"})
	var je *jingle.Error
	if !errors.As(err, &je) || je.Condition != "service-unavailable" {
		t.Fatalf("got %v", err)
	}
}

// TestJMICarbons: a propose to alice's bare JID reaches both her devices; when one
// proceeds, the other sees the copy (XEP-0280) and the accept to her own bare JID.
func TestJMICarbons(t *testing.T) {
	srv := startServer(t)
	a1 := newPeer(t, srv, "alice", func(c *Config) { c.Resource = "one" })
	f1 := jinglePeer(t, a1)
	a1.online()
	a2 := newPeer(t, srv, "alice", func(c *Config) { c.Resource = "two" })
	f2 := jinglePeer(t, a2)
	a2.online()
	bob := newPeer(t, srv, "bob", nil)
	fb := jinglePeer(t, bob)
	bob.online()
	ctx := ctxT(t)
	bobFull := fullJID(t, bob)

	if err := bob.SendJMI(ctx, srv.JID("alice"), jmi.Message{Kind: jmi.Propose, ID: "call1", Media: []string{"audio", "video"}}); err != nil {
		t.Fatal(err)
	}
	for i, f := range []*fakeJingle{f1, f2} {
		m := recv(t, f.jmis, fmt.Sprintf("propose on device %d", i+1))
		if m.Kind != jmi.Propose || m.ID != "call1" || len(m.Media) != 2 || (m.Carbon != "" && m.Carbon != "received") {
			t.Errorf("device %d got %+v", i+1, m)
		}
		if m.Carbon == "" && !m.From.Equal(bobFull) {
			t.Errorf("device %d: propose from %v", i+1, m.From)
		}
	}
	if err := a1.SendJMI(ctx, bobFull, jmi.Message{Kind: jmi.Proceed, ID: "call1"}); err != nil {
		t.Fatal(err)
	}
	if err := a1.SendJMI(ctx, srv.JID("alice"), jmi.Message{Kind: jmi.Accept, ID: "call1"}); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, fb.jmis, "proceed at bob"); m.Kind != jmi.Proceed || !m.From.Equal(fullJID(t, a1)) {
		t.Errorf("bob got %+v", m)
	}
	seen := map[jmi.Kind]JMIMessage{}
	for len(seen) < 2 {
		m := recv(t, f2.jmis, "proceed carbon and accept on device 2")
		seen[m.Kind] = m
	}
	if m := seen[jmi.Proceed]; m.Carbon != "sent" || !m.To.Equal(bobFull) {
		t.Errorf("device 2: proceed %+v, want a sent carbon to bob", m)
	}
	if m := seen[jmi.Accept]; m.ID != "call1" || m.From.Resourcepart() != "one" {
		t.Errorf("device 2: accept %+v", m)
	}
}

// TestJingleDisco: a contact's Jingle-capable resources are found by disco#info, and
// our presence carries caps whose ver answers with the same features.
func TestJingleDisco(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil)
	jinglePeer(t, alice)
	alice.online()
	bob := newPeer(t, srv, "bob", nil).online() // no Jingle
	ctx := ctxT(t)
	aliceJID, bobJID := srv.JID("alice"), srv.JID("bob")
	subscribe(t, ctx, alice, bob, aliceJID, bobJID)
	subscribe(t, ctx, bob, alice, bobJID, aliceJID)

	res, err := bob.JingleResources(ctx, aliceJID)
	if err != nil || len(res) != 1 || !res[0].Equal(fullJID(t, alice)) {
		t.Fatalf("bob sees alice's Jingle resources %v (%v)", res, err)
	}
	res, err = alice.JingleResources(ctx, bobJID)
	if err != nil || len(res) != 0 {
		t.Fatalf("alice sees bob's Jingle resources %v (%v)", res, err)
	}
	feats, err := bob.Features(ctx, fullJID(t, alice))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range JingleFeatures {
		if !has(feats, f) {
			t.Errorf("alice does not advertise %s: %v", f, feats)
		}
	}
	c := alice.caps.Load()
	if c == nil || c.Ver == "" {
		t.Fatal("no caps")
	}
	// The caps node answers the same.
	in, err := discoInfoNode(ctx, bob, fullJID(t, alice), CapsNode+"#"+c.Ver)
	if err != nil || len(in) != len(feats) {
		t.Errorf("caps node answers %v (%v), want %v", in, err, feats)
	}
}

func subscribe(t *testing.T, ctx context.Context, from, to *peer, fromJID, toJID jid.JID) {
	t.Helper()
	if err := from.Subscribe(ctx, toJID); err != nil {
		t.Fatal(err)
	}
	to.waitEvent("subscription request", func(e Event) bool {
		se, ok := e.(SubscriptionRequestEvent)
		return ok && se.JID.Equal(fromJID)
	})
	if err := to.Approve(ctx, fromJID); err != nil {
		t.Fatal(err)
	}
	from.waitPresence(toJID, func(p Presence) bool { return p.Available })
}

func discoInfoNode(ctx context.Context, p *peer, to jid.JID, node string) ([]string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<query xmlns="http://jabber.org/protocol/disco#info" node="%s"/>`, node)
	iq := stanza.IQ{ID: randomID(), To: to, Type: stanza.GetIQ}
	var in struct {
		Features []struct {
			Var string `xml:"var,attr"`
		} `xml:"http://jabber.org/protocol/disco#info feature"`
	}
	if err := p.session().UnmarshalIQElement(ctx, textTokens{xml.NewDecoder(&b)}, iq, &in); err != nil {
		return nil, err
	}
	var out []string
	for _, f := range in.Features {
		out = append(out, f.Var)
	}
	return out, nil
}
