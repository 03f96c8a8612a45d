package adapter

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/signaling"
	"github.com/ttycall/ttycall/signaling/jingle"
	"github.com/ttycall/ttycall/signaling/jmi"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitFor = 10 * time.Second

type sent struct {
	to jid.JID
	j  *jingle.Jingle
	m  *jmi.Message
}

// fakeTransport records what the adapter sends.
type fakeTransport struct{ out chan sent }

func (f *fakeTransport) SendJingle(_ context.Context, to jid.JID, j *jingle.Jingle) error {
	f.out <- sent{to: to, j: j}
	return nil
}

func (f *fakeTransport) SendJMI(_ context.Context, to jid.JID, m jmi.Message) error {
	f.out <- sent{to: to, m: &m}
	return nil
}

// fakeEngine records what the adapter hands the engine.
type fakeEngine struct{ in chan signaling.Message }

func (f *fakeEngine) Receive(m signaling.Message)          { f.in <- m }
func (f *fakeEngine) ReceiveError(signaling.UserID, error) {}

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func next[T any](t *testing.T, ch <-chan T, what string) T {
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

func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Errorf("unexpected %s: %+v", what, v)
	default:
	}
}

func golden(t *testing.T, kind string) *jingle.Jingle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "stanzajs-"+kind+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := jingle.ParseString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

type rig struct {
	a   *Adapter
	tr  *fakeTransport
	eng *fakeEngine
	me  jid.JID
}

func newRig(t *testing.T, timeout time.Duration) *rig {
	t.Helper()
	me := mustJID(t, "alice@example.org/tty")
	r := &rig{tr: &fakeTransport{out: make(chan sent, 64)}, eng: &fakeEngine{in: make(chan signaling.Message, 64)}, me: me}
	a, err := New(Config{Local: me.Bare(), Self: func() jid.JID { return me }, Transport: r.tr, AnswerTimeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	a.SetIncoming(r.eng)
	t.Cleanup(func() { _ = a.Close() })
	r.a = a
	return r
}

// proposed brings a propose from bob/phone to the engine: a deferred Offer (the engine
// rings before any SDP) and our JMI ringing, and nothing else (no proceed before the
// user accepts: bob's and our other devices go on ringing).
func (r *rig) proposed(t *testing.T, sid string) jid.JID {
	t.Helper()
	bob := mustJID(t, "bob@example.org/phone")
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Propose, ID: sid, Media: []string{"audio", "video"}}, From: bob, To: r.me.Bare()})
	o, ok := next(t, r.eng.in, "deferred offer").(*signaling.Offer)
	if !ok || !o.Deferred || o.SDP != "" || o.Session.ID != sid || o.From != "bob@example.org" || o.Session.CallType != signaling.CallTypeVideo {
		t.Fatalf("engine got %+v, want a deferred offer", o)
	}
	if s := next(t, r.tr.out, "ringing"); s.m == nil || s.m.Kind != jmi.Ringing || !s.to.Equal(bob) {
		t.Fatalf("sent %+v, want ringing to bob", s)
	}
	none(t, r.tr.out, "a proceed before the user accepted")
	return bob
}

// accept is the engine's Answer without SDP (the user accepted a deferred call): our
// proceed to bob's device and an accept to our own bare JID.
func (r *rig) accept(t *testing.T, sid string, bob jid.JID) {
	t.Helper()
	h := signaling.Header{Session: signaling.Session{ID: sid, Protocol: Protocol}, To: "bob@example.org"}
	if err := r.a.Answer(context.Background(), &signaling.Answer{Header: h}); err != nil {
		t.Fatal(err)
	}
	if s := next(t, r.tr.out, "proceed"); s.m == nil || s.m.Kind != jmi.Proceed || s.m.ID != sid || !s.to.Equal(bob) {
		t.Fatalf("sent %+v, want proceed", s)
	}
	if s := next(t, r.tr.out, "accept to our devices"); s.m == nil || s.m.Kind != jmi.Accept || !s.to.Equal(r.me.Bare()) {
		t.Fatalf("sent %+v, want accept to our bare JID", s)
	}
}

// incomingCall brings a call from bob/phone up to the engine's Offer with SDP:
// propose, the engine rings, the user accepts (proceed), bob's session-initiate
// (StanzaJS's).
func (r *rig) incomingCall(t *testing.T, sid string) jid.JID {
	t.Helper()
	bob := r.proposed(t, sid)
	r.accept(t, sid, bob)
	init := golden(t, "session-initiate")
	init.SID = sid
	then, jerr := r.a.HandleJingle(bob, init)
	if jerr != nil {
		t.Fatalf("session-initiate answered %v", jerr)
	}
	then()
	o, ok := next(t, r.eng.in, "offer").(*signaling.Offer)
	if !ok || o.Session.ID != sid || o.From != "bob@example.org" || o.Session.CallType != signaling.CallTypeVideo || !strings.Contains(o.SDP, "m=video") {
		t.Fatalf("engine got %+v", o)
	}
	none(t, r.tr.out, "session-info ringing for an accepted call")
	return bob
}

// TestHostileJingle: every action that does not fit the live session gets the error
// XEP-0166 names, and the session goes on untouched.
func TestHostileJingle(t *testing.T) {
	r := newRig(t, 0)
	const sid = "live1"
	bob := r.incomingCall(t, sid)
	acc := golden(t, "session-accept")
	answer, err := jingle.ToSDP(acc.Contents, acc.Groups, jingle.Responder)
	if err != nil {
		t.Fatal(err)
	}
	h := signaling.Header{Session: signaling.Session{ID: sid, Protocol: Protocol}, To: "bob@example.org"}
	if err := r.a.Answer(context.Background(), &signaling.Answer{Header: h, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	if s := next(t, r.tr.out, "session-accept"); s.j == nil || s.j.Action != jingle.SessionAccept || !s.to.Equal(bob) {
		t.Fatalf("sent %+v", s)
	}

	mallory := mustJID(t, "mallory@evil.example/x")
	bobOther := mustJID(t, "bob@example.org/laptop")
	ti := golden(t, "transport-info")
	cases := []struct {
		name string
		from jid.JID
		j    *jingle.Jingle
		want *jingle.Error
	}{
		{"unknown sid", bob, &jingle.Jingle{Action: jingle.TransportInfo, SID: "nope", Contents: ti.Contents}, jingle.ErrUnknownSession},
		{"terminate from a stranger", mallory, &jingle.Jingle{Action: jingle.SessionTerminate, SID: sid, Reason: &jingle.Reason{Condition: "success"}}, jingle.ErrUnknownSession},
		{"terminate from the peer's other device", bobOther, &jingle.Jingle{Action: jingle.SessionTerminate, SID: sid}, jingle.ErrUnknownSession},
		{"candidates from a stranger", mallory, &jingle.Jingle{Action: jingle.TransportInfo, SID: sid, Contents: ti.Contents}, jingle.ErrUnknownSession},
		{"accept of a session we did not initiate", bob, &jingle.Jingle{Action: jingle.SessionAccept, SID: sid, Contents: acc.Contents}, jingle.ErrOutOfOrder},
		{"duplicate session-initiate", bob, func() *jingle.Jingle { j := golden(t, "session-initiate"); j.SID = sid; return j }(), jingle.ErrTieBreak},
		{"unknown session-info", bob, &jingle.Jingle{Action: jingle.SessionInfo, SID: sid, Info: &jingle.Info{}}, jingle.ErrUnsupportedInfo},
		{"content-add", bob, &jingle.Jingle{Action: jingle.ContentAdd, SID: sid}, jingle.ErrFeatureNotImplemented},
	}
	for _, c := range cases {
		then, jerr := r.a.HandleJingle(c.from, c.j)
		if jerr == nil || !errors.Is(jerr, c.want) {
			t.Errorf("%s: answered %v, want %v", c.name, jerr, c.want)
		}
		if then != nil {
			t.Errorf("%s: would act after an error", c.name)
		}
	}
	// JMI messages whose ids or senders do not match are dropped.
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Retract, ID: sid}, From: mallory})
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Proceed, ID: "other"}, From: bob})
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Reject, ID: "other"}, From: bob})
	none(t, r.eng.in, "engine message after hostile input")
	none(t, r.tr.out, "send after hostile input")

	// The live call goes on: bob's candidates and session-info still arrive.
	ti.SID = sid
	then, jerr := r.a.HandleJingle(bob, ti)
	if jerr != nil {
		t.Fatal(jerr)
	}
	then()
	if c, ok := next(t, r.eng.in, "candidates").(*signaling.Candidates); !ok || len(c.Candidates) != 1 || c.Candidates[0].SDPMid != "0" {
		t.Fatalf("engine got %+v", c)
	}
	if _, jerr := r.a.HandleJingle(bob, &jingle.Jingle{Action: jingle.SessionInfo, SID: sid, Info: jingle.RTPInfo(jingle.InfoMute)}); jerr != nil {
		t.Errorf("mute answered %v", jerr)
	}
	then, jerr = r.a.HandleJingle(bob, &jingle.Jingle{Action: jingle.SessionTerminate, SID: sid, Reason: &jingle.Reason{Condition: jingle.ReasonSuccess}})
	if jerr != nil {
		t.Fatal(jerr)
	}
	then()
	if _, ok := next(t, r.eng.in, "terminate").(*signaling.Terminate); !ok {
		t.Fatal("no terminate")
	}
}

// TestOutgoing: propose, proceed, session-initiate with the candidates gathered
// meanwhile, accept; a session-initiate from the callee meanwhile is a tie-break.
func TestOutgoing(t *testing.T) {
	r := newRig(t, 0)
	init := golden(t, "session-initiate")
	offer, err := jingle.ToSDP(init.Contents, init.Groups, jingle.Initiator)
	if err != nil {
		t.Fatal(err)
	}
	h := signaling.Header{Session: signaling.Session{ID: "out1", CallType: signaling.CallTypeVideo, Initiator: "alice@example.org", Opponents: []signaling.UserID{"bob@example.org"}}, To: "bob@example.org"}
	ctx := context.Background()
	if err := r.a.Offer(ctx, &signaling.Offer{Header: h, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	if s := next(t, r.tr.out, "propose"); s.m == nil || s.m.Kind != jmi.Propose || s.to.String() != "bob@example.org" || len(s.m.Media) != 2 {
		t.Fatalf("sent %+v", s)
	}
	if err := r.a.Candidates(ctx, &signaling.Candidates{Header: h, Candidates: []signaling.ICECandidate{{Candidate: "candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host generation 0", SDPMid: "0"}}}); err != nil {
		t.Fatal(err)
	}
	none(t, r.tr.out, "candidates before the session-initiate")
	bob := mustJID(t, "bob@example.org/phone")
	// bob calls us meanwhile: a tie-break.
	other := golden(t, "session-initiate")
	other.SID = "theirs"
	if _, jerr := r.a.HandleJingle(bob, other); !errors.Is(jerr, jingle.ErrTieBreak) {
		t.Errorf("crossing session-initiate answered %v", jerr)
	}
	// An accept before any proceed is out of order.
	acc := golden(t, "session-accept")
	acc.SID = "out1"
	if _, jerr := r.a.HandleJingle(bob, acc); !errors.Is(jerr, jingle.ErrUnknownSession) {
		t.Errorf("accept before proceed answered %v", jerr)
	}
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Proceed, ID: "out1"}, From: bob})
	s := next(t, r.tr.out, "session-initiate")
	if s.j == nil || s.j.Action != jingle.SessionInitiate || !s.to.Equal(bob) || s.j.Initiator != r.me.String() || len(s.j.Contents) != 2 {
		t.Fatalf("sent %+v", s)
	}
	s = next(t, r.tr.out, "early candidates")
	if s.j == nil || s.j.Action != jingle.TransportInfo || len(s.j.Contents) != 1 || len(s.j.Contents[0].Transport.Candidates) != 1 {
		t.Fatalf("sent %+v", s)
	}
	then, jerr := r.a.HandleJingle(bob, acc)
	if jerr != nil {
		t.Fatal(jerr)
	}
	then()
	if a, ok := next(t, r.eng.in, "answer").(*signaling.Answer); !ok || !strings.Contains(a.SDP, "a=setup:active") {
		t.Fatalf("engine got %+v", a)
	}
	if err := r.a.Terminate(ctx, &signaling.Terminate{Header: h}); err != nil {
		t.Fatal(err)
	}
	if s := next(t, r.tr.out, "terminate"); s.j == nil || s.j.Reason.Condition != jingle.ReasonSuccess {
		t.Fatalf("sent %+v", s)
	}
}

// TestGroupCallRefused: Jingle calls are 1:1.
func TestGroupCallRefused(t *testing.T) {
	r := newRig(t, 0)
	h := signaling.Header{Session: signaling.Session{ID: "g", Opponents: []signaling.UserID{"bob@example.org", "carol@example.org"}}, To: "bob@example.org"}
	if err := r.a.Offer(context.Background(), &signaling.Offer{Header: h, SDP: "v=0"}); !errors.Is(err, ErrGroupCall) {
		t.Fatalf("got %v", err)
	}
	if rej, ok := next(t, r.eng.in, "reject").(*signaling.Reject); !ok || rej.From != "bob@example.org" || rej.Session.ID != "g" {
		t.Fatalf("engine got %+v", rej)
	}
	none(t, r.tr.out, "a propose of a group call")
}

// TestUnansweredRetracted: a propose nobody takes is retracted at AnswerTimeout.
func TestUnansweredRetracted(t *testing.T) {
	r := newRig(t, 100*time.Millisecond)
	init := golden(t, "session-initiate")
	offer, _ := jingle.ToSDP(init.Contents, init.Groups, jingle.Initiator)
	h := signaling.Header{Session: signaling.Session{ID: "u1", CallType: signaling.CallTypeAudio, Opponents: []signaling.UserID{"bob@example.org"}}, To: "bob@example.org"}
	if err := r.a.Offer(context.Background(), &signaling.Offer{Header: h, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	next(t, r.tr.out, "propose")
	s := next(t, r.tr.out, "retract")
	if s.m == nil || s.m.Kind != jmi.Retract || s.m.ID != "u1" || s.m.Reason != jingle.ReasonTimeout {
		t.Fatalf("sent %+v", s)
	}
}

// TestAnsweredElsewhere: our other device takes the call: ours stops ringing.
func TestAnsweredElsewhere(t *testing.T) {
	phone := mustJID(t, "alice@example.org/phone")
	for _, kind := range []jmi.Kind{jmi.Accept, jmi.Reject} {
		r := newRig(t, 0)
		bob := r.proposed(t, "e1")
		env := jmi.Envelope{Message: jmi.Message{Kind: kind, ID: "e1"}, From: phone, To: r.me.Bare()}
		if kind == jmi.Reject {
			env = jmi.Envelope{Message: jmi.Message{Kind: kind, ID: "e1"}, From: phone, To: bob, Carbon: "sent"}
		}
		r.a.HandleJMI(env)
		if _, ok := next(t, r.eng.in, "terminate").(*signaling.Terminate); !ok {
			t.Fatalf("%s on another device: the engine still rings", kind)
		}
		none(t, r.tr.out, "a send for a call answered elsewhere")
	}
	// A carbon of our own proceed changes nothing.
	r2 := newRig(t, 0)
	bob := r2.proposed(t, "e2")
	r2.accept(t, "e2", bob)
	r2.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Proceed, ID: "e2"}, From: r2.me, To: bob, Carbon: "sent"})
	init := golden(t, "session-initiate")
	init.SID = "e2"
	if _, jerr := r2.a.HandleJingle(bob, init); jerr != nil {
		t.Fatalf("session-initiate after our own carbon: %v", jerr)
	}
}

// TestStaleProposalIgnored: a propose the server stored (offline delivery, archive)
// never rings.
func TestStaleProposalIgnored(t *testing.T) {
	r := newRig(t, 0)
	bob := mustJID(t, "bob@example.org/phone")
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Propose, ID: "old", Media: []string{"audio"}}, From: bob, Delayed: true})
	init := golden(t, "session-initiate")
	init.SID = "other"
	// Sync point: the next (direct) session-initiate is taken; nothing was sent for the
	// stale one before it.
	if _, jerr := r.a.HandleJingle(bob, init); jerr != nil {
		t.Fatal(jerr)
	}
	none(t, r.tr.out, "answer to a stale proposal")
}

// TestRingBeforeProceed: a proposed call rings in the engine without SDP; rejecting it
// is a JMI reject to the caller's device, and the caller's retract ends it.
func TestRingBeforeProceed(t *testing.T) {
	r := newRig(t, 0)
	bob := r.proposed(t, "p1")
	h := signaling.Header{Session: signaling.Session{ID: "p1", Protocol: Protocol}}
	if err := r.a.Reject(context.Background(), &signaling.Reject{Header: h}); err != nil {
		t.Fatal(err)
	}
	if s := next(t, r.tr.out, "reject"); s.m == nil || s.m.Kind != jmi.Reject || s.m.ID != "p1" || !s.to.Equal(bob) || s.m.Reason != jingle.ReasonDecline {
		t.Fatalf("sent %+v, want a JMI reject with decline", s)
	}

	r.proposed(t, "p2")
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Retract, ID: "p2"}, From: bob})
	if _, ok := next(t, r.eng.in, "terminate").(*signaling.Terminate); !ok {
		t.Fatal("a retracted call still rings")
	}
	// Retracted after the user accepted (before the session-initiate): ended too.
	r.proposed(t, "p3")
	r.accept(t, "p3", bob)
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Retract, ID: "p3"}, From: bob})
	if _, ok := next(t, r.eng.in, "terminate").(*signaling.Terminate); !ok {
		t.Fatal("a call retracted after proceed goes on")
	}
	// A session-initiate before our proceed (a peer that does not wait) is the
	// offer of the ringing call: it keeps ringing.
	r.proposed(t, "p4")
	init := golden(t, "session-initiate")
	init.SID = "p4"
	then, jerr := r.a.HandleJingle(bob, init)
	if jerr != nil {
		t.Fatal(jerr)
	}
	then()
	if o, ok := next(t, r.eng.in, "offer").(*signaling.Offer); !ok || o.Deferred || o.SDP == "" {
		t.Fatalf("engine got %+v", o)
	}
	if s := next(t, r.tr.out, "session-info ringing"); s.j == nil || s.j.Info.Kind() != jingle.InfoRinging {
		t.Fatalf("sent %+v, want session-info ringing", s)
	}
}

// TestMuteSessionInfo: the engine's Mute is a session-info mute/unmute naming the
// content of that media, once the call is up; nothing before.
func TestMuteSessionInfo(t *testing.T) {
	r := newRig(t, 0)
	const sid = "m1"
	ctx := context.Background()
	h := signaling.Header{Session: signaling.Session{ID: sid, Protocol: Protocol}, To: "bob@example.org"}
	bob := r.proposed(t, sid)
	if err := r.a.Mute(ctx, &signaling.Mute{Header: h, Media: "audio", Muted: true}); err != nil {
		t.Fatal(err)
	}
	none(t, r.tr.out, "session-info before the call is up")
	r.accept(t, sid, bob)
	init := golden(t, "session-initiate")
	init.SID = sid
	then, jerr := r.a.HandleJingle(bob, init)
	if jerr != nil {
		t.Fatal(jerr)
	}
	then()
	next(t, r.eng.in, "offer")
	acc := golden(t, "session-accept")
	answer, err := jingle.ToSDP(acc.Contents, acc.Groups, jingle.Responder)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.a.Answer(ctx, &signaling.Answer{Header: h, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	next(t, r.tr.out, "session-accept")
	want := map[string]string{}
	for _, c := range init.Contents {
		want[c.Description.Media] = c.Name
	}
	for _, c := range []struct {
		media string
		muted bool
		kind  string
	}{{"audio", true, jingle.InfoMute}, {"video", true, jingle.InfoMute}, {"audio", false, jingle.InfoUnmute}} {
		if err := r.a.Mute(ctx, &signaling.Mute{Header: h, Media: c.media, Muted: c.muted}); err != nil {
			t.Fatal(err)
		}
		s := next(t, r.tr.out, "session-info")
		if s.j == nil || s.j.Action != jingle.SessionInfo || !s.to.Equal(bob) || s.j.Info.Kind() != c.kind ||
			s.j.Info.Name != want[c.media] || s.j.Info.Creator != "initiator" {
			t.Fatalf("%s muted=%v: sent %+v (%+v)", c.media, c.muted, s, s.j)
		}
	}
}

// TestProposeBounced: our propose comes back as an error (no device of bob online):
// the call ends at once with a Reject marked offline; a bounce from anyone else, or
// of a propose already taken, changes nothing.
func TestProposeBounced(t *testing.T) {
	r := newRig(t, time.Hour)
	init := golden(t, "session-initiate")
	offer, _ := jingle.ToSDP(init.Contents, init.Groups, jingle.Initiator)
	h := signaling.Header{Session: signaling.Session{ID: "b1", CallType: signaling.CallTypeAudio, Initiator: "alice@example.org", Opponents: []signaling.UserID{"bob@example.org"}}, To: "bob@example.org"}
	if err := r.a.Offer(context.Background(), &signaling.Offer{Header: h, SDP: offer}); err != nil {
		t.Fatal(err)
	}
	next(t, r.tr.out, "propose")
	bounce := func(from string) {
		r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Propose, ID: "b1"}, From: mustJID(t, from), Bounced: true})
	}
	bounce("mallory@example.org")
	none(t, r.eng.in, "an end on a stranger's bounce")
	bounce("bob@example.org")
	rej, ok := next(t, r.eng.in, "reject").(*signaling.Reject)
	if !ok || rej.Session.ID != "b1" || rej.From != "bob@example.org" || rej.Ext["reason"] != OfflineReason {
		t.Fatalf("engine got %+v", rej)
	}
	bounce("bob@example.org")
	none(t, r.eng.in, "a second end")
	none(t, r.tr.out, "a retract of a bounced propose")
}

// logWatch is a slog handler that reports each message it is given.
type logWatch struct{ msgs chan string }

func (w logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w logWatch) Handle(_ context.Context, r slog.Record) error {
	select {
	case w.msgs <- r.Message:
	default:
	}
	return nil
}
func (w logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w logWatch) WithGroup(string) slog.Handler      { return w }

// TestProposalForgotten: a proposal nobody here answers is forgotten at AnswerTimeout
// (the engine stopped ringing and told nobody): a late retract finds no session.
func TestProposalForgotten(t *testing.T) {
	r := newRig(t, 0)
	w := logWatch{msgs: make(chan string, 64)}
	a, err := New(Config{Local: r.me.Bare(), Self: func() jid.JID { return r.me }, Transport: r.tr,
		AnswerTimeout: 50 * time.Millisecond, Logger: slog.New(w)})
	if err != nil {
		t.Fatal(err)
	}
	a.SetIncoming(r.eng)
	t.Cleanup(func() { _ = a.Close() })
	r.a = a
	bob := r.proposed(t, "f1")
	for m := ""; m != "jingle: proposal left unanswered here"; {
		m = next(t, w.msgs, "the proposal forgotten")
	}
	r.a.HandleJMI(jmi.Envelope{Message: jmi.Message{Kind: jmi.Retract, ID: "f1"}, From: bob})
	none(t, r.eng.in, "a terminate for a forgotten proposal")
}

// TestRingingNotRejectedAtShutdown: the engine's Terminate of a call still ringing
// here (ttycall quits) tells nobody: the caller and our other devices go on.
func TestRingingNotRejectedAtShutdown(t *testing.T) {
	r := newRig(t, 0)
	r.proposed(t, "q1")
	h := signaling.Header{Session: signaling.Session{ID: "q1", Protocol: Protocol}}
	if err := r.a.Terminate(context.Background(), &signaling.Terminate{Header: h}); err != nil {
		t.Fatal(err)
	}
	r.proposed(t, "q2")
	r.a.EndAll(context.Background())
	none(t, r.tr.out, "a reject of a call still ringing")
}
