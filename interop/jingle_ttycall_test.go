package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/chat"
)

// JingleTtyOpts configure a `ttycall headless` of the Jingle tests.
type JingleTtyOpts struct {
	Args       []string
	Protocol   string  // calls.protocol; "" = "jingle" (no roster needed for discovery)
	AnswerTime float64 // calls.answer_time_interval (s); 0: default
	Stats      float64 // calls.stats_report_time_interval (s); 0: off
	AcceptFrom string  // calls.accept_from; "" = "anyone"
}

// Ttycall starts `ttycall headless` as user@domain (jid ID scheme) and waits for
// "online"; it is stopped at cleanup.
func (e *JingleEnv) Ttycall(ctx context.Context, user string, o JingleTtyOpts) *Tty {
	e.tb.Helper()
	if o.Protocol == "" {
		o.Protocol = "jingle"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[account]\njid = %q\npassword = %q\nserver = %q\nca_file = %q\nid_scheme = \"jid\"\nresource = \"tty\"\n\n",
		user+"@"+e.Server.Domain, password, e.Server.Addr, e.Server.CAFile)
	// The browser's users are not in ttycall's roster: let them ring (calls.accept_from).
	if o.AcceptFrom == "" {
		o.AcceptFrom = "anyone"
	}
	fmt.Fprintf(&b, "[calls]\nprotocol = %q\naccept_from = %q\n", o.Protocol, o.AcceptFrom)
	if o.AnswerTime > 0 {
		fmt.Fprintf(&b, "answer_time_interval = %g\n", o.AnswerTime)
	}
	if o.Stats > 0 {
		fmt.Fprintf(&b, "stats_report_time_interval = %g\n", o.Stats)
	}
	b.WriteString("\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\n")
	path := filepath.Join(e.tb.TempDir(), "ttycall-"+user+".toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		e.tb.Fatal(err)
	}
	t := startTty(e.tb, path, 0, o.Args)
	t.Wait(ctx, 0, "event", "online")
	return t
}

// waitTtyReceivesFrom waits for two stats events about user in which the received
// packets grow (video too when video is true).
func waitTtyReceivesFrom(t testing.TB, ctx context.Context, tty *Tty, mark int, session, user string, video bool) {
	t.Helper()
	first, i := tty.WaitIndex(ctx, mark, "event", "stats", "session", session, "user", user)
	a0, v0 := receivedPackets(first)
	for {
		e, j := tty.WaitIndex(ctx, i+1, "event", "stats", "session", session, "user", user)
		a1, v1 := receivedPackets(e)
		if a1 > a0 && (!video || v1 > v0) {
			return
		}
		i = j
	}
}

// pageGot reports whether the page received a Jingle stanza of kind (stanzaKind) after
// mark.
func pageGot(p *Page, mark int, kind string) bool {
	for _, e := range p.Events(mark) {
		if e.Str("event") == "xml_in" && stanzaKind(e.Str("xml")) == kind {
			return true
		}
	}
	return false
}

// TestJingleTtycallCallsPage: ttycall proposes (JMI), the page rings and proceeds,
// ttycall sends session-initiate, the page accepts; media both ways, candidates
// trickled both ways; ttycall hangs up with reason success.
func TestJingleTtycallCallsPage(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	bob, bobJID := env.StanzaUser(ctx, "bob", "page")
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "proceed"})
	tty := env.Ttycall(ctx, "alice", JingleTtyOpts{Args: []string{"--video"}, Stats: 0.5})

	pm, tm := bob.Mark(), tty.Mark()
	tty.Send("call bob@localhost video")
	prop := bob.Wait(ctx, pm, "event", "jmi", "kind", "propose")
	sid := prop.Str("id")
	if !strings.HasPrefix(prop.Str("from"), "alice@localhost/") || !strings.Contains(prop.Str("media"), "video") {
		t.Errorf("propose %s", prop)
	}
	bob.Wait(ctx, pm, "event", "incoming", "sid", sid)
	acc := tty.Wait(ctx, tm, "event", "accept", "session", sid)
	if acc.Str("user") != "bob@localhost" {
		t.Errorf("ttycall accept event %s", acc)
	}
	bob.Wait(ctx, pm, "event", "connection", "sid", sid, "state", "connected")
	tty.Wait(ctx, tm, "event", "connection_state", "session", sid, "user", "bob@localhost", "state", "CONNECTED")
	st := waitJingleMedia(t, ctx, bob, sid, "audio", "video")
	if st.InVideoBytes == 0 || st.InAudioBytes == 0 {
		t.Errorf("page received %+v", st)
	}
	waitTtyReceivesFrom(t, ctx, tty, tm, sid, "bob@localhost", true)
	if !pageGot(bob, pm, "transport-info") {
		t.Error("ttycall trickled no transport-info to the page")
	}
	sentTI := false
	for _, e := range bob.Events(pm) {
		if e.Str("event") == "xml_out" && stanzaKind(e.Str("xml")) == "transport-info" {
			sentTI = true
		}
	}
	if !sentTI {
		t.Error("the page trickled no transport-info")
	}

	tty.Send("hangup")
	bob.Wait(ctx, pm, "event", "terminated", "sid", sid, "reason", "success")
	tty.Wait(ctx, tm, "event", "session_close", "session", sid)
	_ = bobJID
	checkNoGarbage(t, tty)
}

// TestJinglePageCallsTtycall: the page proposes; ttycall rings (JMI ringing), accepts
// (auto) with a proceed, and answers the page's session-initiate; media both ways; the
// page ends the call.
func TestJinglePageCallsTtycall(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	tty := env.Ttycall(ctx, "bob", JingleTtyOpts{Args: []string{"--answer", "auto", "--video"}, Stats: 0.5})
	alice, _ := env.StanzaUser(ctx, "alice", "page")

	pm, tm := alice.Mark(), tty.Mark()
	sid := fmt.Sprintf("p2t-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": sid, "media": []string{"audio", "video"}})
	alice.Wait(ctx, pm, "event", "jmi", "kind", "ringing", "id", sid)
	alice.Wait(ctx, pm, "event", "jmi", "kind", "proceed", "id", sid)
	in := tty.Wait(ctx, tm, "event", "call", "session", sid)
	if in.Str("user") != "alice@localhost" || in.Str("call_type") != "video" {
		t.Errorf("ttycall call event %s", in)
	}
	alice.Wait(ctx, pm, "event", "accepted", "sid", sid)
	alice.Wait(ctx, pm, "event", "connection", "sid", sid, "state", "connected")
	waitJingleMedia(t, ctx, alice, sid, "audio", "video")
	waitTtyReceivesFrom(t, ctx, tty, tm, sid, "alice@localhost", true)

	alice.Must(ctx, nil, "end", map[string]any{"sid": sid, "reason": "success"})
	tty.Wait(ctx, tm, "event", "stop", "session", sid, "user", "alice@localhost")
	tty.Wait(ctx, tm, "event", "session_close", "session", sid)
	checkNoGarbage(t, tty)
}

// TestJingleRejectRetractBusyTimeout: ttycall declines a call (decline); the page ends a
// ringing call before ttycall answers (cancel); the page is busy (busy); the page never
// answers ttycall's propose, which ttycall retracts at its answer timeout.
func TestJingleRejectRetractBusyTimeout(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob", "carol", "dave", "erin")
	tty := env.Ttycall(ctx, "bob", JingleTtyOpts{Args: []string{"--answer", "reject"}, AnswerTime: 3})
	alice, _ := env.StanzaUser(ctx, "alice", "page")

	// Decline.
	pm, tm := alice.Mark(), tty.Mark()
	rej := fmt.Sprintf("rej-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": rej, "media": []string{"audio"}})
	tty.Wait(ctx, tm, "event", "call", "session", rej)
	// Declined while ringing, before any session-initiate: a JMI reject.
	alice.Wait(ctx, pm, "event", "jmi", "kind", "reject", "id", rej, "from", "bob@localhost/tty")
	tty.Wait(ctx, tm, "event", "session_close", "session", rej)

	// Busy: the page ends ttycall's call with busy. (ttycall headless exits when its
	// placed call fails: one process per placed call.)
	alice.Must(ctx, nil, "setAuto", map[string]any{"mode": "busy"})
	tty = env.Ttycall(ctx, "dave", JingleTtyOpts{AnswerTime: 3})
	pm, tm = alice.Mark(), tty.Mark()
	tty.Send("call alice@localhost audio")
	prop := alice.Wait(ctx, pm, "event", "jmi", "kind", "propose")
	busy := prop.Str("id")
	alice.Wait(ctx, pm, "event", "terminated", "sid", busy, "reason", "busy")
	tty.Wait(ctx, tm, "event", "reject", "session", busy, "user", "alice@localhost")
	tty.Wait(ctx, tm, "event", "session_close", "session", busy)

	// Not answered: the page rings and never proceeds; at the answer timeout ttycall
	// reports it and retracts the proposal.
	alice.Must(ctx, nil, "setAuto", map[string]any{"mode": "ring"})
	tty = env.Ttycall(ctx, "erin", JingleTtyOpts{AnswerTime: 3})
	pm, tm = alice.Mark(), tty.Mark()
	tty.Send("call alice@localhost audio")
	prop = alice.Wait(ctx, pm, "event", "jmi", "kind", "propose")
	noAns := prop.Str("id")
	tty.Wait(ctx, tm, "event", "user_not_answer", "session", noAns, "user", "alice@localhost")
	alice.Wait(ctx, pm, "event", "jmi", "kind", "retract", "id", noAns)
	tty.Wait(ctx, tm, "event", "session_close", "session", noAns)

	// The caller gives up while ttycall rings (before any proceed): the page retracts.
	tty2 := env.Ttycall(ctx, "carol", JingleTtyOpts{Args: []string{"--answer", "ignore"}})
	pm, tm = alice.Mark(), tty2.Mark()
	gone := fmt.Sprintf("gone-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "carol@localhost", "id": gone, "media": []string{"audio"}})
	tty2.Wait(ctx, tm, "event", "call", "session", gone)
	alice.Wait(ctx, pm, "event", "jmi", "kind", "ringing", "id", gone)
	alice.Must(ctx, nil, "jmi", map[string]any{"to": "carol@localhost", "kind": "retract", "id": gone})
	tty2.Wait(ctx, tm, "event", "session_close", "session", gone)
	checkNoGarbage(t, tty)
	checkNoGarbage(t, tty2)
}

// TestJingleAudioOnly: an audio call from ttycall: the page gets one audio content and
// audio flows both ways, no video.
func TestJingleAudioOnly(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	bob, _ := env.StanzaUser(ctx, "bob", "page")
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "proceed"})
	tty := env.Ttycall(ctx, "alice", JingleTtyOpts{Stats: 0.5})
	pm, tm := bob.Mark(), tty.Mark()
	tty.Send("call bob@localhost audio")
	prop := bob.Wait(ctx, pm, "event", "jmi", "kind", "propose")
	sid := prop.Str("id")
	if prop.Str("media") != `["audio"]` {
		t.Errorf("propose media %s", prop.Str("media"))
	}
	tty.Wait(ctx, tm, "event", "accept", "session", sid)
	st := waitJingleMedia(t, ctx, bob, sid, "audio")
	if st.InVideoBytes != 0 || st.OutVideoBytes != 0 {
		t.Errorf("video in an audio call: %+v", st)
	}
	waitTtyReceivesFrom(t, ctx, tty, tm, sid, "bob@localhost", false)
	for _, e := range bob.Events(pm) {
		if e.Str("event") == "xml_in" && stanzaKind(e.Str("xml")) == "session-initiate" && strings.Contains(e.Str("xml"), `media="video"`) {
			t.Errorf("session-initiate of an audio call has video: %s", e.Str("xml"))
		}
	}
	tty.Send("hangup")
	bob.Wait(ctx, pm, "event", "terminated", "sid", sid, "reason", "success")
}

// TestJingleAutoProtocol: with calls.protocol = "auto" (the default), ttycall asks the
// contact's device what it supports (XEP-0030) and calls StanzaJS, which advertises
// Jingle RTP and JMI, with Jingle. The roster is made both ways first (discovery needs
// the contact's presence).
func TestJingleAutoProtocol(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	bob, _ := env.StanzaUser(ctx, "bob", "page")
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "proceed"})

	// alice's roster, through a second login of hers (the roster is the account's).
	helper := env.attacker(ctx, "alice")
	bobJID, _ := jid.Parse("bob@localhost")
	pm := bob.Mark()
	if err := helper.Subscribe(ctx, bobJID); err != nil {
		t.Fatal(err)
	}
	bob.Wait(ctx, pm, "event", "subscribe")
	for approved := false; !approved; {
		select {
		case ev := <-helper.Events():
			if r, ok := ev.(chat.SubscriptionRequestEvent); ok && r.JID.Equal(bobJID) {
				if err := helper.Approve(ctx, bobJID); err != nil {
					t.Fatal(err)
				}
				approved = true
			}
		case <-ctx.Done():
			t.Fatal("no subscription request from the page")
		}
	}

	tty := env.Ttycall(ctx, "alice", JingleTtyOpts{Protocol: "auto", Args: []string{"--video"}})
	pm, tm := bob.Mark(), tty.Mark()
	tty.Send("call bob@localhost video")
	prop := bob.Wait(ctx, pm, "event", "jmi", "kind", "propose")
	sid := prop.Str("id")
	tty.Wait(ctx, tm, "event", "accept", "session", sid)
	waitJingleMedia(t, ctx, bob, sid, "audio", "video")
	tty.Send("hangup")
	bob.Wait(ctx, pm, "event", "terminated", "sid", sid, "reason", "success")
}

// TestJingleWhileOffline: the page calls while ttycall is offline (its process has
// quit): nothing rings, and that stale proposal does not ring when ttycall is back; the
// next call goes through with media.
func TestJingleWhileOffline(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	alice, _ := env.StanzaUser(ctx, "alice", "page")
	opts := JingleTtyOpts{Args: []string{"--answer", "auto"}}
	first := env.Ttycall(ctx, "bob", opts)
	first.stop()

	pm := alice.Mark()
	stale := fmt.Sprintf("stale-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": stale, "media": []string{"audio"}})
	tty := env.Ttycall(ctx, "bob", opts)
	tm := tty.Mark()
	sid := fmt.Sprintf("back-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": sid, "media": []string{"audio"}})
	tty.Wait(ctx, tm, "event", "call", "session", sid)
	alice.Wait(ctx, pm, "event", "accepted", "sid", sid)
	waitJingleMedia(t, ctx, alice, sid, "audio")
	for _, e := range tty.Events(0) {
		if e.Str("session") == stale {
			t.Errorf("the proposal made while ttycall was offline reached it: %s", e)
		}
	}
	for _, e := range alice.Events(pm) {
		if e.Str("event") == "jmi" && e.Str("id") == stale {
			t.Errorf("ttycall answered the proposal made while it was offline: %s", e)
		}
	}
	alice.Must(ctx, nil, "end", map[string]any{"sid": sid, "reason": "success"})
	tty.Wait(ctx, tm, "event", "session_close", "session", sid)
}

// TestJingleGroupCallRefused: a group call with Jingle contacts is refused with a clear
// message, and nothing rings.
func TestJingleGroupCallRefused(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob", "carol")
	bob, _ := env.StanzaUser(ctx, "bob", "page")
	tty := env.Ttycall(ctx, "alice", JingleTtyOpts{})
	pm, tm := bob.Mark(), tty.Mark()
	tty.Send("call bob@localhost,carol@localhost audio")
	inv := tty.Wait(ctx, tm, "event", "invalid_event", "op", "send offer")
	if !strings.Contains(inv.Str("message"), "group calls with Jingle") {
		t.Errorf("invalid_event %s", inv)
	}
	tty.Wait(ctx, tm, "event", "session_close")
	for _, e := range bob.Events(pm) {
		if e.Str("event") == "jmi" {
			t.Errorf("the page was called: %s", e)
		}
	}
}

// TestJingleRingsBeforeProceed (the point of XEP-0353): a proposed call rings in
// ttycall and on bob's other device (a second page) at the same time; ttycall sends
// ringing but no proceed until the user accepts; then it proceeds, tells bob's other
// devices (accept to bob's bare JID), and answers the page's session-initiate; media
// both ways; ttycall's mute and unmute reach the page as session-info. A second
// proposal taken on the other device stops ttycall ringing.
func TestJingleRingsBeforeProceed(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	tty := env.Ttycall(ctx, "bob", JingleTtyOpts{Args: []string{"--answer", "ignore", "--video"}, Stats: 0.5})
	alice, _ := env.StanzaUser(ctx, "alice", "page")
	phone, _ := env.StanzaUser(ctx, "bob", "phone")
	phone.Must(ctx, nil, "setAuto", map[string]any{"mode": "ring"})

	pm, tm, fm := alice.Mark(), tty.Mark(), phone.Mark()
	sid := fmt.Sprintf("rbp-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": sid, "media": []string{"audio", "video"}})
	in := tty.Wait(ctx, tm, "event", "call", "session", sid)
	if in.Str("user") != "alice@localhost" || in.Str("call_type") != "video" {
		t.Errorf("ttycall call event %s", in)
	}
	phone.Wait(ctx, fm, "event", "jmi", "kind", "propose", "id", sid)
	alice.Wait(ctx, pm, "event", "jmi", "kind", "ringing", "id", sid, "from", "bob@localhost/tty")
	for _, e := range alice.Events(pm) {
		if e.Str("event") == "jmi" && e.Str("kind") == "proceed" {
			t.Fatalf("ttycall proceeded before the user accepted: %s", e)
		}
	}
	tty.Send("accept " + sid)
	alice.Wait(ctx, pm, "event", "jmi", "kind", "proceed", "id", sid, "from", "bob@localhost/tty")
	phone.Wait(ctx, fm, "event", "jmi", "kind", "accept", "id", sid)
	alice.Wait(ctx, pm, "event", "accepted", "sid", sid)
	tty.Wait(ctx, tm, "event", "connection_state", "session", sid, "user", "alice@localhost", "state", "CONNECTED")
	waitJingleMedia(t, ctx, alice, sid, "audio", "video")
	waitTtyReceivesFrom(t, ctx, tty, tm, sid, "alice@localhost", true)
	// Muting is told to the page (session-info mute/unmute, StanzaJS's jingle:mute).
	tty.Send("mute audio")
	alice.Wait(ctx, pm, "event", "mute", "sid", sid)
	tty.Send("unmute audio")
	alice.Wait(ctx, pm, "event", "unmute", "sid", sid)
	alice.Must(ctx, nil, "end", map[string]any{"sid": sid, "reason": "success"})
	tty.Wait(ctx, tm, "event", "session_close", "session", sid)

	// Taken on the other device: its accept to bob's bare JID stops ttycall ringing,
	// and ttycall tells the caller nothing.
	pm, tm = alice.Mark(), tty.Mark()
	taken := fmt.Sprintf("taken-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": taken, "media": []string{"audio"}})
	tty.Wait(ctx, tm, "event", "call", "session", taken)
	phone.Must(ctx, nil, "jmi", map[string]any{"to": "bob@localhost", "kind": "accept", "id": taken})
	tty.Wait(ctx, tm, "event", "session_close", "session", taken)
	for _, e := range alice.Events(pm) {
		if e.Str("event") == "jmi" && e.Str("id") == taken && (e.Str("kind") == "proceed" || e.Str("kind") == "reject") {
			t.Errorf("ttycall answered a call taken on another device: %s", e)
		}
	}
	checkNoGarbage(t, tty)
}

// TestJingleStrangerDeclined: with calls.accept_from = "contacts", a propose from
// someone not in the roster is declined (JMI reject) without ringing, here or on the
// caller's side (no JMI ringing), and shown here as a blocked call (call_blocked
// naming the stranger), as a QuickBlox stranger's is.
func TestJingleStrangerDeclined(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	tty := env.Ttycall(ctx, "bob", JingleTtyOpts{AcceptFrom: "contacts"})
	alice, _ := env.StanzaUser(ctx, "alice", "page")
	pm, tm := alice.Mark(), tty.Mark()
	sid := fmt.Sprintf("stranger-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": sid, "media": []string{"audio"}})
	alice.Wait(ctx, pm, "event", "jmi", "kind", "reject", "id", sid, "from", "bob@localhost/tty")
	blocked := tty.Wait(ctx, tm, "event", "call_blocked", "session", sid)
	if blocked.Str("user") != "alice@localhost" || blocked.Str("call_type") != "audio" {
		t.Errorf("call_blocked %s, want user alice@localhost, call_type audio", blocked)
	}
	for _, e := range alice.Events(pm) {
		if e.Str("event") == "jmi" && e.Str("id") == sid && e.Str("kind") != "reject" && e.Str("kind") != "propose" {
			t.Errorf("a stranger's call got %s", e)
		}
	}
	for _, e := range tty.Events(tm) {
		if e.Str("session") == sid && e.Str("event") == "call" {
			t.Errorf("a stranger's call rang: %s", e)
		}
	}
}

// TestJingleProposeBounced: calling a contact with no device online (the server
// bounces the propose: the test's Prosody stores no messages) ends the call at once
// as offline, long before the answer timeout.
func TestJingleProposeBounced(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	tty := env.Ttycall(ctx, "alice", JingleTtyOpts{AnswerTime: 600})
	tm := tty.Mark()
	tty.Send("call bob@localhost audio")
	rej := tty.Wait(ctx, tm, "event", "reject", "user", "bob@localhost")
	if rej.Ext()["reason"] != "offline" {
		t.Errorf("reject event %s, want ext reason offline", rej)
	}
	tty.Wait(ctx, tm, "event", "session_close", "session", rej.Str("session"))
	for _, e := range tty.Events(tm) {
		if e.Str("event") == "user_not_answer" {
			t.Errorf("a bounced call waited for the answer timeout: %s", e)
		}
	}
}
