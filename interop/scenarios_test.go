package interop

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// The five scenarios of issue 8: the QuickBlox web SDK in Chromium against `ttycall
// headless` (quickblox ID scheme), through one local Prosody. Web users are 1xx, ttycall
// users 2xx, all in app 7.

// Scenario 1: the web page calls ttycall (auto-answer); both connect, streams and media
// both ways, extensions both ways; the page hangs up.
func TestWebCallsTtycall(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startEnv(t, ctx, 101, 201)
	tty := env.Ttycall(ctx, 201, TtyOpts{
		Args:          []string{"--answer", "auto", "--video", "--ext", "role=bot"},
		StatsInterval: 0.5,
	})
	web := env.WebUser(ctx, 101, WebRTC{})

	wm, tm := web.Mark(), tty.Mark()
	var c callResult
	web.Must(ctx, &c, "call", []int{201}, videoCall, map[string]string{"greeting": "hello tty"})

	in := tty.Wait(ctx, tm, "event", "call", "session", c.Session)
	if in.Str("user") != "101" || in.Ext()["greeting"] != "hello tty" || in.Str("call_type") != "video" {
		t.Errorf("ttycall call event = %s, want user 101, ext greeting=hello tty, call_type video", in)
	}
	acc := web.Wait(ctx, wm, "event", "accept", "session", c.Session, "user", "201")
	if acc.Ext()["role"] != "bot" {
		t.Errorf("page onAcceptCallListener ext = %v, want role=bot", acc.Ext())
	}
	waitConnected(ctx, web, wm, c.Session, 201)
	tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED")
	web.Wait(ctx, wm, "event", "remote_stream", "session", c.Session, "user", "201")
	tty.Wait(ctx, tm, "event", "remote_stream", "session", c.Session, "user", "101")

	st := waitMediaFlows(t, ctx, web, c.Session, 201)
	if st.InAudioBytes == 0 || st.InVideoBytes == 0 {
		t.Errorf("page received from ttycall %+v, want audio and video", st)
	}
	waitTtyReceives(t, ctx, tty, tm, c.Session, 101, true)

	web.Must(ctx, nil, "stop", map[string]string{"bye": "from web"}, c.Session)
	stop := tty.Wait(ctx, tm, "event", "stop", "session", c.Session, "user", "101")
	if stop.Ext()["bye"] != "from web" {
		t.Errorf("ttycall stop ext = %v, want bye=from web", stop.Ext())
	}
	tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)
	web.Wait(ctx, wm, "event", "session_close", "session", c.Session)
	checkNoGarbage(t, tty)
	checkStanzasFrom(t, web.Events(0))
}

// Scenario 2: ttycall calls the page; the page rejects.
func TestTtycallCallsWebReject(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startEnv(t, ctx, 101, 201)
	web := env.WebUser(ctx, 101, WebRTC{})
	wm := web.Mark()
	tty := env.StartTtycall(201, TtyOpts{Args: []string{"--call", "101", "--ext", "who=tty", "--exit-on-close"}})

	in := web.Wait(ctx, wm, "event", "call", "user", "201")
	session := in.Str("session")
	if in.Ext()["who"] != "tty" {
		t.Errorf("page onCallListener ext = %v, want who=tty", in.Ext())
	}
	if in.Str("callType") != "2" {
		t.Errorf("page call event callType = %s, want 2 (audio: headless without --video)", in.Str("callType"))
	}
	web.Must(ctx, nil, "reject", map[string]string{"why": "busy"}, session)
	rej := tty.Wait(ctx, 0, "event", "reject", "session", session, "user", "101")
	if rej.Ext()["why"] != "busy" {
		t.Errorf("ttycall reject ext = %v, want why=busy", rej.Ext())
	}
	tty.Wait(ctx, 0, "event", "session_close", "session", session)
	web.Wait(ctx, wm, "event", "session_close", "session", session)
	if code := tty.Exit(ctx); code != 4 {
		t.Errorf("ttycall --call rejected: exit code %d, want 4", code)
	}
	checkNoGarbage(t, tty)
	checkStanzasFrom(t, web.Events(0))
}

// Scenario 3: ttycall calls the page; nobody answers.
func TestTtycallCallsWebNoAnswer(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startEnv(t, ctx, 101, 201)
	// The page's own answer timer closes its incoming session; ttycall re-dials every
	// second and gives up after 3 s.
	web := env.WebUser(ctx, 101, WebRTC{AnswerTimeInterval: 3})
	wm := web.Mark()
	tty := env.StartTtycall(201, TtyOpts{
		Args:        []string{"--call", "101", "--exit-on-close"},
		AnswerTime:  3,
		DialingTime: 1,
	})
	in := web.Wait(ctx, wm, "event", "call", "user", "201")
	session := in.Str("session")
	tty.Wait(ctx, 0, "event", "user_not_answer", "session", session, "user", "101")
	tty.Wait(ctx, 0, "event", "session_close", "session", session)
	web.Wait(ctx, wm, "event", "session_close", "session", session)
	if code := tty.Exit(ctx); code != 4 {
		t.Errorf("ttycall --call not answered: exit code %d, want 4", code)
	}
	calls, redials := 0, 0
	for _, e := range web.Events(wm) {
		// The SDK's answer timer closes the incoming session without a word to the caller.
		if e.Str("event") == "xml_out" && strings.Contains(e.Str("xml"), session) {
			t.Errorf("the page sent a signal for the unanswered session: %s", e.Str("xml"))
		}
		if e.Str("event") == "call" && e.Str("session") == session {
			calls++
		}
		if e.Str("event") == "xml_in" && containsAll(e.Str("xml"), "<signalType>call</signalType>", session) {
			redials++
		}
	}
	if calls != 1 {
		t.Errorf("page saw %d onCall for one session, want 1", calls)
	}
	if redials < 2 {
		t.Errorf("page received the call %d times, want ttycall to re-dial (dialing interval 1 s, answer 3 s)", redials)
	}
	checkNoGarbage(t, tty)
	checkStanzasFrom(t, web.Events(0))
}

// Scenario 4: update both ways during a call.
func TestUpdateBothWays(t *testing.T) {
	ctx := ctxFor(t, 2*time.Minute)
	env := startEnv(t, ctx, 101, 201)
	tty := env.Ttycall(ctx, 201, TtyOpts{Args: []string{"--answer", "auto"}})
	web := env.WebUser(ctx, 101, WebRTC{})
	wm, tm := web.Mark(), tty.Mark()
	var c callResult
	web.Must(ctx, &c, "call", []int{201}, 2, map[string]string{})
	waitConnected(ctx, web, wm, c.Session, 201)
	tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED")

	// The SDK's session.update(ext) sends ext's fields as they are, and its receivers
	// read only ext.userInfo: an app that wants its opponent's onUpdateCallListener to
	// see data sends {userInfo: {...}}. The page does that.
	// First the raw form, session.update({...}): the keys travel as top-level elements.
	rm := tty.Mark()
	web.Must(ctx, nil, "update", map[string]string{"raw": "yes"}, false, c.Session)
	if raw := tty.Wait(ctx, rm, "event", "update", "session", c.Session, "user", "101"); raw.Ext()["raw"] != "yes" {
		t.Errorf("ttycall update ext after session.update({raw: 'yes'}) = %v, want raw=yes", raw.Ext())
	}
	// Then the form SDK apps exchange data with, session.update({userInfo: {...}}).
	tm = tty.Mark()
	web.Must(ctx, nil, "update", map[string]string{"mood": "happy", "camera": "off"}, true, c.Session)
	up := tty.Wait(ctx, tm, "event", "update", "session", c.Session, "user", "101")
	if up.Ext()["mood"] != "happy" || up.Ext()["camera"] != "off" {
		t.Errorf("ttycall update ext = %v, want mood=happy camera=off", up.Ext())
	}
	// ttycall's update reaches the page's onUpdateCallListener.
	tty.Send("update color=blue")
	back := web.Wait(ctx, wm, "event", "update", "session", c.Session, "user", "201")
	if back.Ext()["color"] != "blue" {
		t.Errorf("page onUpdateCallListener ext = %v, want color=blue", back.Ext())
	}
	tty.Send("hangup")
	web.Wait(ctx, wm, "event", "stop", "session", c.Session, "user", "201")
	web.Wait(ctx, wm, "event", "session_close", "session", c.Session)
	tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)
	checkNoGarbage(t, tty)
	checkStanzasFrom(t, web.Events(0))
}

// Scenario 5: a three-party mesh: page 101 calls page 102 and ttycall 201; both accept;
// 201 (the higher ID) then offers to 102 itself. All three pairs connect, media on each.
func TestMeshTwoWebOneTtycall(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startEnv(t, ctx, 101, 102, 201)
	tty := env.Ttycall(ctx, 201, TtyOpts{Args: []string{"--answer", "auto", "--video"}, StatsInterval: 0.5})
	w1 := env.WebUser(ctx, 101, WebRTC{})
	w2 := env.WebUser(ctx, 102, WebRTC{})
	w2.Must(ctx, nil, "setAutoAnswer", "accept", map[string]string{"me": "102"})
	wm, tm := w1.Mark(), tty.Mark()
	var c callResult
	w1.Must(ctx, &c, "call", []int{102, 201}, videoCall, map[string]string{"mesh": "yes"})

	pairs := []struct {
		p    *Page
		peer int
	}{{w1, 102}, {w1, 201}, {w2, 101}, {w2, 201}}
	for _, pr := range pairs {
		waitConnected(ctx, pr.p, wm, c.Session, pr.peer)
	}
	for _, peer := range []int{101, 102} {
		tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", strconv.Itoa(peer), "state", "CONNECTED")
	}
	for _, pr := range pairs {
		waitMediaFlows(t, ctx, pr.p, c.Session, pr.peer)
	}
	// The mesh rule: 201 (higher ID than 102) made the offer on the 102-201 pair.
	offered := false
	for _, e := range w2.Events(wm) {
		if e.Str("event") == "xml_in" && containsAll(e.Str("xml"), `from="201-7@`, "<signalType>call</signalType>", c.Session) {
			offered = true
		}
	}
	if !offered {
		t.Error("page 102 got no call from ttycall 201: the higher ID must offer to the lower one")
	}
	for _, peer := range []int{101, 102} {
		waitTtyReceives(t, ctx, tty, tm, c.Session, peer, true)
	}

	w1.Must(ctx, nil, "stop", map[string]string{}, c.Session)
	tty.Wait(ctx, tm, "event", "stop", "session", c.Session, "user", "101")
	w2.Must(ctx, nil, "stop", map[string]string{}, c.Session)
	tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)
	w1.Wait(ctx, wm, "event", "session_close", "session", c.Session)
	w2.Wait(ctx, wm, "event", "session_close", "session", c.Session)
	checkNoGarbage(t, tty)
	checkStanzasFrom(t, append(w1.Events(0), w2.Events(0)...))
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
