package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
)

func (h *harness) ring(id, from string, t call.CallType, others ...call.UserID) []tea.Msg {
	h.t.Helper()
	h.eng.ring(id)
	opp := append([]call.UserID{"me@example.org"}, others...)
	return h.event(call.CallEvent{EventMeta: meta(id, from), CallType: t, InitiatorID: call.UserID(from), OpponentIDs: opp})
}

func TestIncomingPromptRingsAndNotifies(t *testing.T) {
	h := newHarness(t)
	msgs := h.ring("s1", "bob@example.org", call.CallTypeVideo, "carol@example.org")
	raw, ok := findMsg[tea.RawMsg](msgs)
	if !ok {
		t.Fatal("no bell/notification")
	}
	seq := raw.Msg.(string)
	for _, want := range []string{"\a", "\x1b]9;ttycall: video call from bob@example.org\x07", "\x1b]777;notify;ttycall;video call from bob@example.org\x07"} {
		if !strings.Contains(seq, want) {
			t.Fatalf("notification %q lacks %q", seq, want)
		}
	}
	tick, ok := findMsg[tickMsg](msgs)
	if !ok || tick.D != time.Second {
		t.Fatalf("no ringing timer: %+v", tick)
	}
	h.mustSee("Incoming video call from Bob (bob@example.org)", "with carol", "ringing for 00:00", "y accept with video")

	h.now = h.now.Add(12 * time.Second)
	h.send(tick.Msg)
	h.mustSee("ringing for 00:12")
}

func TestIncomingAcceptVideo(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.key("y")
	s := h.eng.session("s1")
	equal(t, s.opsList(), []string{"media", "accept"})
	if !s.media.Video {
		t.Fatal("y accepted without video")
	}
	equal(t, h.m.screen, screenCall)
	equal(t, h.m.incoming.active(), false)
	h.mustNotSee("Incoming")
}

func TestIncomingAcceptAudioOnly(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.key("A")
	s := h.eng.session("s1")
	equal(t, s.opsList(), []string{"media", "accept"})
	if s.media.Video {
		t.Fatal("A opened the camera")
	}
	equal(t, h.m.call.callType, call.CallTypeAudio)
	h.mustSee("audio call with Bob", "B O B")
}

func TestIncomingReject(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.key("n")
	equal(t, h.eng.session("s1").opsList(), []string{"reject"})
	equal(t, h.m.incoming.active(), false)
	equal(t, h.m.screen, screenContacts)
	equal(t, h.m.history.records[0].Kind, "rejected")
	h.mustSee("rejected the call from Bob (bob@example.org)") // named as everywhere else
}

func TestIncomingCallerGivesUp(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.event(call.StopEvent{EventMeta: meta("s1", "bob@example.org")})
	equal(t, h.m.incoming.active(), false)
	h.mustNotSee("Incoming")
	equal(t, h.m.history.records[0].Kind, "missed")
	// The close that follows belongs to no one now and is dropped.
	h.event(call.SessionCloseEvent{EventMeta: meta("s1", ""), Reason: "hung up"})
	equal(t, len(h.m.history.records), 1)
}

// TestIncomingOthersLeaveWhileRinging: in a group call, another participant who
// rejects or hangs up while the call rings for us leaves it ringing (before, a hang up
// took the prompt away while the caller still called us), the prompt says they left,
// and the call screen starts them in that state instead of CONNECTING for ever (the
// engine says no more about them).
func TestIncomingOthersLeaveWhileRinging(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo, "carol@example.org", "dave@example.org", "erin@example.org")
	h.event(call.RejectEvent{EventMeta: meta("s1", "carol@example.org")})
	h.event(call.StopEvent{EventMeta: meta("s1", "dave@example.org")})
	equal(t, h.m.incoming.active(), true)
	h.mustSee("Incoming video call from Bob (bob@example.org)",
		"with carol (carol@example.org) · rejected, Dave (dave@example.org) · hung up, erin@example.org")
	h.key("y")
	equal(t, h.m.screen, screenCall)
	h.mustSee("carol (carol@example.org) · REJECTED", "Dave (dave@example.org) · HUNG UP", "erin@example.org · CONNECTING")
	h.key("l")
	h.mustSee("carol (carol@example.org) rejected before you answered", "Dave (dave@example.org) hung up before you answered")
	equal(t, len(h.m.history.records), 0)
}

func TestIncomingAnswerTimeout(t *testing.T) {
	h := newHarness(t)
	msgs := h.ring("s1", "bob@example.org", call.CallTypeVideo)
	tick, _ := findMsg[tickMsg](msgs)
	// The engine closes it after answer_time_interval...
	h.event(call.SessionCloseEvent{EventMeta: meta("s1", ""), Reason: "answer timeout"})
	equal(t, h.m.incoming.active(), false)

	// ...and if its close is late, the prompt drops the call on its own.
	msgs = h.ring("s2", "carol@example.org", call.CallTypeAudio)
	h.mustSee("Incoming audio call from carol")
	h.now = h.now.Add(33 * time.Second) // past 30 s + grace
	out := h.send(tick.Msg)
	equal(t, h.m.incoming.active(), false)
	if _, ok := findMsg[tickMsg](out); ok {
		t.Fatal("ringing timer kept running with nothing ringing")
	}
	equal(t, h.m.history.records[0].Kind, "missed")
}

// The busy rule is the engine's (auto_reject, incoming_limit): every call it lets ring
// queues in the prompt, first come first answered.
func TestIncomingQueue(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.ring("s2", "carol@example.org", call.CallTypeAudio)
	h.mustSee("Incoming video call from Bob", "1 more call(s) waiting")
	h.ring("s3", "dave@example.org", call.CallTypeVideo)
	equal(t, h.eng.session("s3").opsList(), []string(nil))
	equal(t, len(h.m.incoming.queue), 3)

	h.key("n") // bob
	h.mustSee("Incoming audio call from carol")
	h.key("y")
	equal(t, h.eng.session("s2").opsList(), []string{"media", "accept"})
}

func TestIncomingWhileInCallSwitches(t *testing.T) {
	h := newHarness(t)
	h.key("enter") // call Bob
	first := h.m.call.sessionID
	h.ring("s9", "carol@example.org", call.CallTypeVideo)
	h.mustSee("Incoming video call from carol", "video call with Bob", "y accept and end the current call")
	// The prompt takes every key: m and h do not reach the call beneath it.
	h.key("m")
	h.key("h")
	equal(t, h.eng.session(first).opsList(), []string{"media", "call"})
	h.key("y")
	equal(t, h.eng.session(first).opsList(), []string{"media", "call", "stop"})
	equal(t, h.m.call.sessionID, "s9")
}

// While the prompt shows, keys meant for the contacts beneath it do nothing: a (audio
// call), j + enter (a second call) once started calls under the ringing prompt.
func TestIncomingPromptTakesEveryKey(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "carol@example.org", call.CallTypeVideo)
	for _, k := range []string{"a", "j", "enter", "v", "space", "+", "/", "tab"} {
		h.key(k)
	}
	equal(t, h.m.call == nil, true)
	equal(t, h.m.contacts.inputActive(), false)
	equal(t, h.m.screen, screenContacts)
	equal(t, h.eng.session("s1").opsList(), []string(nil))
	h.mustSee("Incoming video call from carol")
	h.key("y")
	equal(t, h.eng.session("s1").opsList(), []string{"media", "accept"})
}

// An audio call offers no "accept with video".
func TestIncomingAudioPromptOffersNoVideo(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "carol@example.org", call.CallTypeAudio)
	h.mustSee("y accept · n reject")
	h.mustNotSee("with video", "audio-only")
}

func TestIncomingTakesKeysFromTextInputs(t *testing.T) {
	h := newHarness(t)
	h.key("/")
	h.key("b")
	h.ring("s1", "carol@example.org", call.CallTypeVideo)
	h.key("y")
	equal(t, h.eng.session("s1").opsList(), []string{"media", "accept"})
	equal(t, h.m.contacts.filter.Value(), "b")
}

// The prompt's and the request row's reminders are written from the key map: a
// rebinding shows in them.
func TestInlineHintsFollowKeyMap(t *testing.T) {
	h := newHarness(t)
	h.m.env.keys.RejectCall = key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "decline"))
	h.m.env.keys.Deny = key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "refuse"))
	h.chat(chat.SubscriptionRequestEvent{JID: mustJID(t, "erin@example.org")})
	h.mustSee("(y approve request · D refuse)")
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.mustSee("y accept with video · A accept audio-only · N decline")
	h.mustNotSee("n reject")
}

// A call that rang out shows on the status line until the history is opened, where it
// is listed with its date.
func TestMissedCallOnStatusLine(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "carol@example.org", call.CallTypeVideo)
	h.event(call.StopEvent{EventMeta: meta("s1", "carol@example.org")}) // the caller gave up
	h.mustSee("missed call from carol (carol@example.org) · tab for history")
	h.key("j") // another action does not clear it
	h.mustSee("missed call from carol")
	h.key("tab")
	h.mustSee("missed", h.now.Local().Format("Jan 02 15:04"))
	h.mustNotSee("tab for history")
}

// A call the engine rejected as busy while we talked shows on the status line and in
// the history.
func TestBusyRejectShown(t *testing.T) {
	h := newHarness(t)
	h.key("enter") // in a call with Bob
	h.event(call.MissedCallEvent{EventMeta: meta("s7", "carol@example.org"), CallType: call.CallTypeVideo, InitiatorID: "carol@example.org", Reason: "busy"})
	// The engine reports the refusal as invalid too: not a second missed call.
	h.event(call.InvalidEvent{EventMeta: meta("s7", "carol@example.org"), Op: "offer", Err: fmt.Errorf("%w: 1 live session(s)", call.ErrBusy)})
	h.mustSee("busy: rejected a call from carol (carol@example.org) · tab for history")
	equal(t, len(h.m.history.records), 1)
	equal(t, h.m.history.records[0].Reason, "busy")
}

// The history says who hung up.
func TestHistorySaysWhoHungUp(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.StopEvent{EventMeta: meta(id, "bob@example.org")})
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	equal(t, h.m.history.records[0].Reason, "Bob (bob@example.org) hung up")
	id = inCall(t, h)
	h.key("h")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	equal(t, h.m.history.records[0].Reason, "you hung up")
}

// A call the engine refused before it rang (busy) is a missed call in the history.
func TestMissedCallInHistory(t *testing.T) {
	h := newHarness(t)
	h.event(call.MissedCallEvent{EventMeta: meta("s7", "carol@example.org"), CallType: call.CallTypeAudio, InitiatorID: "carol@example.org", Reason: "busy"})
	equal(t, len(h.m.history.records), 1)
	r := h.m.history.records[0]
	equal(t, r.Kind, "missed")
	equal(t, r.Peers, []call.UserID{"carol@example.org"})
	equal(t, r.CallType, call.CallTypeAudio)
}
