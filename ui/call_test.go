package ui

import (
	"image"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

// inCall places a video call to Bob and returns its session ID.
func inCall(t *testing.T, h *harness) string {
	t.Helper()
	h.key("enter")
	if h.m.call == nil {
		t.Fatal("no call")
	}
	return h.m.call.sessionID
}

func TestCallConnectionStatesLive(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	bob := "bob@example.org"
	h.mustSee("RINGING", "calling 00:00")
	// The engine reports CONNECTING from the offer on: still ringing for the user.
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, bob), State: call.ConnectionConnecting})
	h.mustSee("Bob (bob@example.org) · RINGING")
	h.event(call.AcceptEvent{EventMeta: meta(id, bob)})
	h.mustSee("CONNECTING")
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, bob), State: call.ConnectionConnecting})
	h.mustSee("Bob (bob@example.org) · CONNECTING")
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, bob), State: call.ConnectionConnected})
	h.mustSee("CONNECTED", "video call with Bob (bob@example.org) · 00:00")
	h.now = h.now.Add(65 * time.Second)
	h.mustSee("· 01:05")
	h.event(call.ReconnectEvent{EventMeta: meta(id, bob), State: call.Reconnecting})
	h.mustSee("RECONNECTING")
	h.event(call.ReconnectEvent{EventMeta: meta(id, bob), State: call.Reconnected})
	h.mustSee("CONNECTED")
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, bob), State: call.ConnectionFailed})
	h.mustSee("FAILED")
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, bob), State: call.ConnectionClosed})
	h.mustSee("CLOSED")
}

func TestCallDropsOtherSessions(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.ConnectionStateEvent{EventMeta: meta("other", "bob@example.org"), State: call.ConnectionConnected})
	h.mustNotSee("CONNECTED")
	h.event(call.SessionCloseEvent{EventMeta: meta("other", ""), Reason: "hung up"})
	equal(t, h.m.call.sessionID, id)
	equal(t, h.m.screen, screenCall)
}

func TestCallMuteAndCamera(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	s := h.eng.session(id)
	h.key("m")
	h.mustSee("mic muted")
	h.key("m")
	h.mustSee("mic on")
	h.key("c")
	h.mustSee("camera off", "you (camera off)")
	h.key("c")
	equal(t, s.opsList(), []string{"media", "call", "mute audio", "unmute audio", "mute video", "unmute video"})

	// A failed toggle is reverted and shown.
	h.send(muteResultMsg{SessionID: id, Kind: devices.KindAudio, Muted: true, Err: errBoom})
	equal(t, h.m.call.micMuted, false)
	h.mustSee("error: boom")
}

// A quick m m must not race Mute against Unmute (Cmds run concurrently): the second
// operation waits for the first one's result.
func TestCallMuteOperationsRunOneAtATime(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	s := h.eng.session(id)
	before := len(s.opsList())
	_, first := h.m.Update(keyPress("m"))  // mute: starts
	_, second := h.m.Update(keyPress("m")) // unmute wanted while mute runs
	_, third := h.m.Update(keyPress("m"))  // and mute again
	_, fourth := h.m.Update(keyPress("m")) // and unmute
	for _, c := range []tea.Cmd{second, third, fourth} {
		if _, ok := findMsg[muteResultMsg](runCmd(c)); ok {
			t.Fatal("an operation started while another runs")
		}
	}
	res, ok := findMsg[muteResultMsg](runCmd(first))
	if !ok {
		t.Fatal("m started no operation")
	}
	h.send(res) // the engine is muted, unmuted is wanted: one unmute follows
	equal(t, s.opsList()[before:], []string{"mute audio", "unmute audio"})
	equal(t, h.m.call.micMuted, false)
	h.mustSee("mic on")

	// A failure while more presses wait shows what the engine kept and drops them.
	_, first = h.m.Update(keyPress("m"))
	h.m.Update(keyPress("m"))
	h.m.Update(keyPress("m"))
	runCmd(first)
	h.send(muteResultMsg{SessionID: id, Kind: devices.KindAudio, Muted: true, Err: errBoom})
	equal(t, h.m.call.micMuted, false)
	equal(t, s.opsList()[before:], []string{"mute audio", "unmute audio", "mute audio"})
}

// Results of a call that ended meanwhile are dropped: the user hung up while media
// opened, and the Call that followed failed on the closed session; no error for that.
func TestCallStaleResultsDropped(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.key("h")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	h.mustSee("call ended")
	h.send(dialedMsg{SessionID: id, Err: errBoom})
	h.send(muteResultMsg{SessionID: id, Kind: devices.KindAudio, Muted: true, Err: errBoom})
	h.mustNotSee("error:")
	equal(t, len(h.m.history.records), 1)

	// The current call's failure still shows and ends it.
	id = inCall(t, h)
	h.send(dialedMsg{SessionID: id, Err: errBoom})
	h.mustSee("error: boom", "ttycall · contacts")
	equal(t, h.m.history.records[0].Reason, "failed: boom")
}

func TestCallStatsOverlay(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.key("s")
	h.mustSee("stats", "no stats yet")
	h.event(call.StatsEvent{EventMeta: meta(id, "bob@example.org"), Stats: call.Stats{
		RTT:       23 * time.Millisecond,
		Remote:    call.MediaStats{Video: call.TrackStats{BitrateKbps: 812, FPS: 29.5, Width: 640, Height: 480, PacketsLost: 3}},
		Local:     call.MediaStats{Video: call.TrackStats{BitrateKbps: 900, FPS: 30, Width: 640, Height: 480}},
		Candidate: call.CandidatePair{Protocol: "udp", LocalType: "host", RemoteType: "host"},
	}})
	h.mustSee("RTT 23ms", "candidate host→host/udp", "812 kbps", "29.5 fps", "640x480", "loss 3")
	h.key("s")
	h.mustNotSee("RTT 23ms")

	// Audio only over loopback: a sub-millisecond RTT is shown, not rounded to 0s, and
	// the empty video figures are left out.
	h.event(call.StatsEvent{EventMeta: meta(id, "bob@example.org"), Stats: call.Stats{
		RTT:    400 * time.Microsecond,
		Remote: call.MediaStats{Audio: call.TrackStats{BitrateKbps: 32, Packets: 50}},
		Local:  call.MediaStats{Audio: call.TrackStats{BitrateKbps: 33, Packets: 50}},
	}})
	h.key("s")
	h.mustSee("RTT 0.4 ms", "audio   32 kbps", "audio   33 kbps")
	h.mustNotSee("fps", "RTT 0s")

	// Sent video as the engine reports it (no frame rate or size): no 0.0 fps 0x0.
	h.event(call.StatsEvent{EventMeta: meta(id, "bob@example.org"), Stats: call.Stats{
		Local: call.MediaStats{Video: call.TrackStats{BitrateKbps: 150, Packets: 90}},
	}})
	h.mustSee("out: video  150 kbps loss 0 · audio")
	h.mustNotSee("0x0", "0.0 fps")
}

func TestCallEventLogAndUpdates(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.UpdateEvent{EventMeta: meta(id, "bob@example.org"), Ext: call.Extension{"mood": "happy", "n": call.Extension{"k": "v"}}})
	h.mustSee("update Bob (bob@example.org): mood=happy n={k=v}")
	h.event(call.InvalidEvent{EventMeta: meta(id, "bob@example.org"), Op: "hangUp", Err: errBoom})
	h.mustNotSee("10:00:00 calling")
	h.key("l")
	h.mustSee("10:00:00 calling Bob", "update from Bob", "invalid hangUp: boom")
	h.key("l")
	h.mustNotSee("invalid hangUp")
}

func TestCallRemoteVideoTile(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.mustSee("Bob (bob@example.org) · RINGING · no video")
	slot := &devices.FrameSlot{}
	h.event(call.RemoteStreamEvent{EventMeta: meta(id, "bob@example.org"), Stream: &call.RemoteStream{Kind: devices.KindVideo, Video: slot}})
	h.mustSee("RINGING · waiting for video", "Calling Bob…", "(h to cancel)")
	// No picture while it rings or before a frame: the tile shows why instead.
	if tile, ok := findTile(h.vid.last(), "remote:bob@example.org"); ok {
		t.Fatalf("remote tile before any frame: %+v", tile)
	}
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, "bob@example.org"), State: call.ConnectionConnected})
	h.mustSee("waiting for video")
	slot.Store(testFrame())
	h.send(callTickMsg{SessionID: id})
	tile, ok := findTile(h.vid.last(), "remote:bob@example.org")
	if !ok || tile.Source != video.Source(slot) {
		t.Fatalf("remote tile %+v, %v", tile, ok)
	}
	h.mustSee("Bob (bob@example.org) · CONNECTED")
	h.mustNotSee("CONNECTED · waiting for video", "no video")
	// A black picture is a camera switched off: initials instead of a dark box.
	slot.Store(&image.YCbCr{Y: make([]byte, 64), Cb: make([]byte, 16), Cr: make([]byte, 16), YStride: 8, CStride: 4, SubsampleRatio: image.YCbCrSubsampleRatio420, Rect: image.Rect(0, 0, 8, 8)})
	h.send(callTickMsg{SessionID: id})
	h.mustSee("CONNECTED · camera off", "│   B   │")
	if tile, ok := findTile(h.vid.last(), "remote:bob@example.org"); ok {
		t.Fatalf("remote tile of a camera that is off: %+v", tile)
	}
}

func TestCallTickOnceASecond(t *testing.T) {
	h := newHarness(t)
	h.m.env.cfg.UI.MaxFPS = 20 // the video screen paces frames; the view only has the timer
	msgs := h.key("enter")
	tick, ok := findTick[callTickMsg](msgs)
	if !ok || tick.D != time.Second {
		t.Fatalf("redraw timer %+v", tick)
	}
	out := h.send(tick.Msg)
	if _, ok := findTick[callTickMsg](out); !ok {
		t.Fatal("the redraw timer stopped during the call")
	}
	id := h.m.call.sessionID
	h.key("h")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	if out := h.send(tick.Msg); len(out) != 0 {
		t.Fatalf("redraw timer after the call: %v", out)
	}
}

func TestCallHangUpReturnsToContacts(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, "bob@example.org"), State: call.ConnectionConnected})
	h.now = h.now.Add(42 * time.Second)
	msgs := h.key("h")
	if _, ok := findMsg[hungUpMsg](msgs); !ok {
		t.Fatal("h did not hang up")
	}
	equal(t, h.eng.session(id).opsList(), []string{"media", "call", "stop"})
	h.mustSee("hanging up")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	equal(t, h.m.screen, screenContacts)
	equal(t, h.m.call == nil, true)
	r := h.m.history.records[0]
	equal(t, r.Kind, "placed")
	equal(t, r.Duration, 42*time.Second)
	h.key("tab")
	h.mustSee("placed", "00:42", "Bob")
}

func TestCallRemoteHangUp(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.StopEvent{EventMeta: meta(id, "bob@example.org")})
	h.mustSee("HUNG UP")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "all peers closed"})
	equal(t, h.m.screen, screenContacts)
	h.mustSee("call ended: all peers closed")
}

// TestCallEndedByTheLastOpponent: the engine closes the session with "hung up" both
// when we hang up and when the last opponent does; the notice says who ended it.
func TestCallEndedByTheLastOpponent(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.StopEvent{EventMeta: meta(id, "bob@example.org")})
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	equal(t, h.m.screen, screenContacts)
	h.mustSee("call ended: Bob (bob@example.org) hung up")

	// Our own hang up says no more, even when the opponent's stop crossed ours.
	id = inCall(t, h)
	h.key("h")
	h.event(call.StopEvent{EventMeta: meta(id, "bob@example.org")})
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	equal(t, h.m.screen, screenContacts)
	h.mustSee("call ended")
	h.mustNotSee("Bob (bob@example.org) hung up")
}

func TestCallRejectedAndNotAnswered(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.event(call.RejectEvent{EventMeta: meta(id, "bob@example.org")})
	h.mustSee("REJECTED")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "rejected"})

	id = inCall(t, h)
	h.event(call.UserNotAnswerEvent{EventMeta: meta(id, "bob@example.org")})
	h.mustSee("NO ANSWER")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "not answered"})

	// A Jingle propose the server bounced (no device of bob online).
	id = inCall(t, h)
	h.event(call.RejectEvent{EventMeta: meta(id, "bob@example.org"), Ext: call.Extension{"reason": "offline"}})
	h.mustSee("OFFLINE")
}

func TestCallHelpListsCallKeys(t *testing.T) {
	h := newHarness(t)
	inCall(t, h)
	h.key("?")
	s := h.screen()
	for _, want := range []string{"mute/unmute mic", "camera on/off", "stats", "event log", "hang up", "quit (hangs up)", "log file: /tmp/ttycall-test.log"} {
		if !strings.Contains(s, want) {
			t.Fatalf("help lacks %q:\n%s", want, s)
		}
	}
}

func TestQuitHangsUpFirst(t *testing.T) {
	h := newHarness(t)
	id := inCall(t, h)
	h.ring("s2", "carol@example.org", call.CallTypeVideo)
	msgs := h.key("q")
	if _, ok := findMsg[tea.QuitMsg](msgs); !ok {
		t.Fatalf("q did not quit: %v", msgs)
	}
	equal(t, h.eng.session(id).opsList(), []string{"media", "call", "stop"})
	equal(t, h.eng.session("s2").opsList(), []string{"reject"})
}

// Calling a contact who is offline says so instead of RINGING.
func TestCallOfflineContact(t *testing.T) {
	h := newHarness(t)
	h.key("j")
	h.key("j") // Dave, offline
	h.key("enter")
	h.mustSee("Dave is offline", "Dave (dave@example.org) · OFFLINE", "(h to cancel)")
	h.mustNotSee("RINGING")
	// Dave comes online: now it rings.
	h.chat(chat.PresenceEvent{JID: mustJID(t, "dave@example.org/x"), Presence: chat.Presence{Available: true}})
	h.mustSee("Calling Dave…", "RINGING")
}

// A participant who left drops out of the layout a second later, and the title stops
// naming them.
func TestCallDepartedLeavesLayout(t *testing.T) {
	h := newHarness(t)
	h.key("space")
	h.key("space") // Bob and carol marked
	h.key("enter")
	id := h.m.call.sessionID
	h.mustSee("video call with Bob (bob@example.org), carol")
	h.event(call.RejectEvent{EventMeta: meta(id, "carol@example.org")})
	h.mustSee("carol (carol@example.org) · REJECTED")
	h.now = h.now.Add(1500 * time.Millisecond)
	h.send(callTickMsg{SessionID: id})
	h.mustNotSee("carol (carol@example.org) ·", "with Bob (bob@example.org), carol")
	h.mustSee("video call with Bob (bob@example.org)")
	equal(t, len(h.m.call.record(h.now, "").Peers), 2) // the history still names both
}

// An audio call shows a live level for the other side, measured on their decoded
// audio, and says when they are silent.
func TestAudioCallLevels(t *testing.T) {
	h := newHarness(t)
	level, ok := 0.0, false
	h.m.env.levels = func(call.UserID) (float64, bool) { return level, ok }
	h.key("a")
	id := h.m.call.sessionID
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, "bob@example.org"), State: call.ConnectionConnected})
	h.event(call.RemoteStreamEvent{EventMeta: meta(id, "bob@example.org"), Stream: &call.RemoteStream{Kind: devices.KindAudio}})
	h.mustSee("B O B", "CONNECTED", "silent", "mic on")
	level, ok = 0.5, true
	h.send(callTickMsg{SessionID: id})
	h.mustSee("▮▮▮▮▮▮▮▮▮▮")
	h.mustNotSee("silent")
	h.key("m")
	h.mustSee("mic muted")
}
