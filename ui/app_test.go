package ui

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/ui/video"
)

func TestStatusBar(t *testing.T) {
	h := newHarness(t)
	h.mustSee("me@example.org · unknown · cam: test · mic: test")
	h.chat(chat.StateEvent{State: chat.Online})
	h.mustSee("me@example.org · online")
	h.chat(chat.StateEvent{State: chat.Reconnecting, RetryIn: 4 * time.Second, Err: errors.New("connection reset\nstack...")})
	h.mustSee("reconnecting (retry in 4s): connection reset")
	h.mustNotSee("stack...")
}

// The cause of a lost server stays on the status line with the countdown (the
// Reconnecting event has no error of its own), in words a user can act on.
func TestStatusBarServerCause(t *testing.T) {
	h := newHarness(t)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	h.chat(chat.StateEvent{State: chat.Offline, Err: fmt.Errorf("chat: dial: %w", refused)})
	h.chat(chat.StateEvent{State: chat.Reconnecting, RetryIn: 4 * time.Second})
	h.mustSee("reconnecting (retry in 4s): connection refused (is the server running?)")
	h.chat(chat.StateEvent{State: chat.Offline, Err: &net.DNSError{Name: "xmpp.example.org", Err: "no such host"}})
	h.mustSee("server name not found (DNS: xmpp.example.org)")
	h.chat(chat.StateEvent{State: chat.Online})
	h.mustNotSee("DNS")
}

// The countdown moves (it froze at the event's value before), one timer at a time,
// and stops when the attempt is due.
func TestStatusBarRetryCountsDown(t *testing.T) {
	h := newHarness(t)
	msgs := h.chat(chat.StateEvent{State: chat.Reconnecting, RetryIn: 3 * time.Second})
	h.mustSee("reconnecting (retry in 3s)")
	tick, ok := findMsg[tickMsg](msgs)
	if !ok || tick.D != time.Second {
		t.Fatalf("no countdown timer: %v", msgs)
	}
	// A second state event while the timer runs starts no second timer.
	if _, ok := findMsg[tickMsg](h.chat(chat.StateEvent{State: chat.Reconnecting, RetryIn: 3 * time.Second})); ok {
		t.Fatal("two countdown timers")
	}
	h.now = h.now.Add(1500 * time.Millisecond)
	msgs = h.send(tick.Msg)
	h.mustSee("reconnecting (retry in 2s)")
	tick, ok = findMsg[tickMsg](msgs)
	if !ok {
		t.Fatal("the countdown stopped early")
	}
	h.now = h.now.Add(2 * time.Second)
	if _, ok := findMsg[tickMsg](h.send(tick.Msg)); ok {
		t.Fatal("the countdown ticks past the attempt")
	}
	h.mustSee("me@example.org · reconnecting · cam")
}

// Losing the server makes every contact's presence unknown: no one shows online on
// the strength of a presence from the lost session.
func TestServerLostClearsPresence(t *testing.T) {
	h := newHarness(t)
	h.chat(chat.StateEvent{State: chat.Online})
	h.mustSee("bob status")
	h.chat(chat.StateEvent{State: chat.Reconnecting, RetryIn: time.Second})
	h.mustNotSee("online — ", "away — ")
	for _, c := range h.m.contacts.contacts {
		if c.Presence.Available {
			t.Fatalf("%s still available", c.JID)
		}
	}
	// The next session's presence shows again.
	h.chat(chat.StateEvent{State: chat.Online})
	h.chat(chat.PresenceEvent{JID: mustJID(t, "bob@example.org/x"), Presence: chat.Presence{Available: true, Status: "back"}})
	h.mustSee("online — back")
}

func TestHelpToggleShowsLogPath(t *testing.T) {
	h := newHarness(t)
	h.mustNotSee("log file:")
	h.key("?")
	h.mustSee("log file: /tmp/ttycall-test.log", "video call", "audio call", "mark for group call", "add contact", "approve request", "call history", "filter")
	h.key("?")
	h.mustNotSee("log file:")
}

func TestHelpWhileRingingListsAnswerKeys(t *testing.T) {
	h := newHarness(t)
	h.ring("s1", "bob@example.org", call.CallTypeVideo)
	h.key("?")
	h.mustSee("accept with video", "accept audio-only", "reject")
}

func TestQuitWithoutCall(t *testing.T) {
	h := newHarness(t)
	msgs := h.key("q")
	if _, ok := findMsg[tea.QuitMsg](msgs); !ok {
		t.Fatal("q did not quit")
	}
	msgs = h.key("q") // a second q while quitting does nothing
	equal(t, len(msgs), 0)
}

func TestCtrlCQuits(t *testing.T) {
	h := newHarness(t)
	if _, ok := findMsg[tea.QuitMsg](h.key("ctrl+c")); !ok {
		t.Fatal("ctrl+c did not quit")
	}
}

func TestErrorsAreShortAndClear(t *testing.T) {
	h := newHarness(t)
	msgs := h.chat(chat.ErrorEvent{Err: errors.New("send failed: " + strings.Repeat("x", 300))})
	s := h.screen()
	if !strings.Contains(s, "error: send failed") || strings.Contains(s, strings.Repeat("x", 150)) {
		t.Fatalf("error line:\n%s", s)
	}
	tick, ok := findMsg[tickMsg](msgs)
	if !ok {
		t.Fatal("the error does not clear")
	}
	h.send(tick.Msg)
	h.mustNotSee("error:")
}

func TestAccountEndedQuitsWithError(t *testing.T) {
	h := newHarness(t)
	msgs := h.send(accountEndedMsg{Err: chat.ErrAuth})
	if _, ok := findMsg[tea.QuitMsg](msgs); !ok {
		t.Fatal("no quit")
	}
	if !errors.Is(h.m.fatal, chat.ErrAuth) {
		t.Fatalf("fatal %v", h.m.fatal)
	}
}

// A small terminal (a split pane) gets a screen of exactly its height on every
// screen, the status bar on its last line: lipgloss wrapped a long status bar into
// more lines, which pushed the top off. (Bubble Tea clips lines that are too wide.)
func TestViewFitsSmallTerminals(t *testing.T) {
	for _, size := range [][2]int{{60, 15}, {30, 8}, {12, 4}} {
		h := newHarness(t)
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		check := func(what string) {
			t.Helper()
			lines := strings.Split(h.m.View().Content, "\n")
			if len(lines) != size[1] {
				t.Fatalf("%dx%d %s: %d lines", size[0], size[1], what, len(lines))
			}
			last := stripANSI(lines[len(lines)-1])
			if !strings.HasPrefix(last, " me@") || ansi.StringWidth(last) > size[0] {
				t.Fatalf("%dx%d %s: last line %q", size[0], size[1], what, last)
			}
		}
		h.chat(chat.StateEvent{State: chat.Reconnecting, RetryIn: 5 * time.Second, Err: errBoom})
		check("contacts")
		inCall(t, h)
		check("call")
	}
}

func TestViewIsAltScreenAndFitsHeight(t *testing.T) {
	h := newHarness(t)
	v := h.m.View()
	if !v.AltScreen {
		t.Fatal("not on the alternate screen")
	}
	if n := strings.Count(v.Content, "\n") + 1; n != 45 {
		t.Fatalf("%d lines, want 45", n)
	}
	inCall(t, h)
	h.key("l")
	h.key("s")
	if n := strings.Count(h.m.View().Content, "\n") + 1; n != 45 {
		t.Fatalf("call screen: %d lines, want 45", n)
	}
}

func TestEventsConvertAndCarrySession(t *testing.T) {
	m := meta("sid", "bob@example.org")
	events := []call.Event{
		call.CallEvent{EventMeta: m}, call.AcceptEvent{EventMeta: m}, call.RejectEvent{EventMeta: m},
		call.StopEvent{EventMeta: m}, call.UserNotAnswerEvent{EventMeta: m}, call.SessionCloseEvent{EventMeta: m},
		call.SessionStateEvent{EventMeta: m}, call.ConnectionStateEvent{EventMeta: m}, call.ReconnectEvent{EventMeta: m},
		call.UpdateEvent{EventMeta: m}, call.InvalidEvent{EventMeta: m}, call.RemoteStreamEvent{EventMeta: m},
		call.StatsEvent{EventMeta: m},
	}
	for _, e := range events {
		msg := callEventMsg(e)
		sm, ok := msg.(call.Event)
		if !ok {
			t.Fatalf("%T -> %T, not a session message", e, msg)
		}
		if sm.Session() != "sid" {
			t.Fatalf("%T lost its session", e)
		}
		if !isCallEvent(msg) {
			t.Fatalf("%T: reader would not restart", msg)
		}
	}
}

func TestChatEventsConvert(t *testing.T) {
	j := mustJID(t, "bob@example.org")
	for _, e := range []chat.Event{
		chat.StateEvent{State: chat.Online}, chat.RosterEvent{}, chat.PresenceEvent{JID: j},
		chat.SubscriptionRequestEvent{JID: j}, chat.ErrorEvent{Err: errBoom},
	} {
		msg := chatEventMsg(e)
		if msg == nil || !isChatEvent(msg) {
			t.Fatalf("%T -> %T: reader would not restart", e, msg)
		}
		if isCallEvent(msg) {
			t.Fatalf("%T taken for an engine message", msg)
		}
	}
	// Messages of the UI's own commands restart no reader.
	for _, msg := range []tea.Msg{dialedMsg{}, muteResultMsg{}, hungUpMsg{}, callTickMsg{}, opResultMsg{}} {
		if isCallEvent(msg) || isChatEvent(msg) {
			t.Fatalf("%T would start a second reader", msg)
		}
	}
}

func TestEventReadersReturnOneMessage(t *testing.T) {
	ch := make(chan call.Event, 2)
	ch <- call.AcceptEvent{EventMeta: meta("a", "bob")}
	ch <- call.StopEvent{EventMeta: meta("a", "bob")}
	if _, ok := waitCallEvent(ch)().(call.AcceptEvent); !ok {
		t.Fatal("first event")
	}
	if _, ok := waitCallEvent(ch)().(call.StopEvent); !ok {
		t.Fatal("second event")
	}
	close(ch)
	if _, ok := waitCallEvent(ch)().(engineClosedMsg); !ok {
		t.Fatal("closed stream")
	}

	cch := make(chan chat.Event, 1)
	cch <- chat.StateEvent{State: chat.Online}
	if msg, ok := waitChatEvent(cch)().(serverStateMsg); !ok || msg.State != chat.Online {
		t.Fatal("chat event")
	}
	close(cch)
	if _, ok := waitChatEvent(cch)().(accountClosedMsg); !ok {
		t.Fatal("closed chat stream")
	}
}

func TestUpdateRestartsReaders(t *testing.T) {
	h := newHarness(t)
	ch := make(chan call.Event, 1)
	h.m.callEvents = ch
	_, cmd := h.m.Update(callEventMsg(call.StatsEvent{EventMeta: meta("x", "bob")}))
	ch <- call.StopEvent{EventMeta: meta("x", "bob")}
	msgs := runCmd(cmd)
	if _, ok := findMsg[call.StopEvent](msgs); !ok {
		t.Fatalf("the reader was not restarted: %v", msgs)
	}
}

// The demo's note shows at start and stays in the help after the notice clears.
func TestHelpNote(t *testing.T) {
	h := newHarness(t)
	h.m = New(Options{Account: h.acc, Engine: h.eng, Config: h.m.env.cfg, HelpNote: "To join as bob: ttycall --config /tmp/demo/bob.toml"})
	h.m.callEvents, h.m.chatEvents = nil, nil
	h.send(tea.WindowSizeMsg{Width: 60, Height: 30})
	h.mustSee("To join as bob: ttycall --config")
	h.key("j")
	h.mustNotSee("To join as bob")
	h.key("?")
	h.mustSee("To join as bob: ttycall --config", "/tmp/demo/bob.toml")
}

func TestModeNotice(t *testing.T) {
	if n := modeNotice(video.ModeHalfBlock256, true); !strings.Contains(n, "256 colours") || !strings.Contains(n, "COLORTERM=truecolor") {
		t.Errorf("%q", n)
	}
	for _, m := range []video.Mode{video.ModeHalfBlock, video.ModeKitty} {
		if n := modeNotice(m, true); n != "" {
			t.Errorf("%v: %q", m, n)
		}
	}
	if n := modeNotice(video.ModeHalfBlock256, false); n != "" {
		t.Errorf("chosen mode: %q", n)
	}
}
