package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

// fakeAccount records what the UI asks of the account.
type fakeAccount struct {
	mu      sync.Mutex
	events  chan chat.Event
	roster  []chat.Contact
	calls   []string // "subscribe x", "approve x", "deny x"
	failOps error
}

func (a *fakeAccount) Events() <-chan chat.Event { return a.events }
func (a *fakeAccount) LocalID() call.UserID      { return "me@example.org" }
func (a *fakeAccount) Roster() []chat.Contact    { return a.roster }
func (a *fakeAccount) record(op string, j jid.JID) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, op+" "+j.String())
	return a.failOps
}
func (a *fakeAccount) Subscribe(ctx context.Context, j jid.JID) error {
	return a.record("subscribe", j)
}
func (a *fakeAccount) Approve(ctx context.Context, j jid.JID) error { return a.record("approve", j) }
func (a *fakeAccount) Deny(ctx context.Context, j jid.JID) error    { return a.record("deny", j) }
func (a *fakeAccount) Remove(ctx context.Context, j jid.JID) error  { return a.record("remove", j) }
func (a *fakeAccount) ops() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// fakeEngine hands out fakeSessions.
type fakeEngine struct {
	mu       sync.Mutex
	events   chan call.Event
	sessions map[string]*fakeSession
	next     int
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{events: make(chan call.Event, 16), sessions: map[string]*fakeSession{}}
}

func (e *fakeEngine) Events() <-chan call.Event { return e.events }

func (e *fakeEngine) CreateNewSession(opp []call.UserID, t call.CallType) (Session, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next++
	s := &fakeSession{id: fmt.Sprintf("out-%d", e.next), opponents: opp, callType: t}
	e.sessions[s.id] = s
	return s, nil
}

func (e *fakeEngine) Session(id string) Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.sessions[id]; ok {
		return s
	}
	return nil
}

// ring adds an incoming session (as the engine does before its CallEvent).
func (e *fakeEngine) ring(id string) *fakeSession {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := &fakeSession{id: id}
	e.sessions[id] = s
	return s
}

func (e *fakeEngine) session(id string) *fakeSession {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions[id]
}

func (e *fakeEngine) remove(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.sessions, id)
}

// fakeSession records the operations.
type fakeSession struct {
	mu        sync.Mutex
	id        string
	opponents []call.UserID
	callType  call.CallType
	ops       []string
	media     devices.MediaParams
	local     *devices.LocalStream
}

func (s *fakeSession) ID() string { return s.id }
func (s *fakeSession) op(o string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, o)
	return nil
}
func (s *fakeSession) GetUserMedia(ctx context.Context, p devices.MediaParams) (*devices.LocalStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media = p
	s.ops = append(s.ops, "media")
	s.local = &devices.LocalStream{Preview: &devices.FrameSlot{}}
	return s.local, nil
}
func (s *fakeSession) LocalStream() *devices.LocalStream { return s.local }
func (s *fakeSession) Call(call.Extension) error         { return s.op("call") }
func (s *fakeSession) Accept(call.Extension) error       { return s.op("accept") }
func (s *fakeSession) Reject(call.Extension) error       { return s.op("reject") }
func (s *fakeSession) Stop(call.Extension) error         { return s.op("stop") }
func (s *fakeSession) Mute(k devices.Kind) error         { return s.op("mute " + k.String()) }
func (s *fakeSession) Unmute(k devices.Kind) error       { return s.op("unmute " + k.String()) }
func (s *fakeSession) opsList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ops...)
}

// tickMsg is what a timer Cmd returns in tests: the message it would deliver after D.
type tickMsg struct {
	D   time.Duration
	Msg tea.Msg
}

// harness is a root model over fakes with a settable clock.
type harness struct {
	t   testing.TB
	m   *Model
	acc *fakeAccount
	eng *fakeEngine
	vid *fakeVideo
	now time.Time
}

func mustJID(t testing.TB, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)}
	h.acc = &fakeAccount{events: make(chan chat.Event, 16)}
	for _, c := range []struct{ user, name, show string }{{"bob", "Bob", ""}, {"carol", "", "away"}, {"dave", "Dave", "off"}} {
		j := mustJID(t, c.user+"@example.org")
		h.acc.roster = append(h.acc.roster, chat.Contact{
			JID: j, UserID: call.UserID(j.String()), Name: c.name, Subscription: "both",
			Presence: chat.Presence{Available: c.show != "off", Show: strings.TrimSuffix(c.show, "off"), Status: c.user + " status"},
		})
	}
	h.eng = newFakeEngine()
	cfg := config.Default()
	cfg.Calls.IncomingLimit = 2
	cfg.Calls.AnswerTimeInterval = 30
	cfg.Media.Camera = "test"
	cfg.Media.Microphone = "test"
	h.vid = &fakeVideo{mode: video.ModeHalfBlock}
	h.m = New(Options{Account: h.acc, Engine: h.eng, Config: cfg, Self: "me@example.org",
		LogPath: "/tmp/ttycall-test.log", Now: func() time.Time { return h.now }, Video: h.vid})
	h.m.env.tick = func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
		return func() tea.Msg { return tickMsg{D: d, Msg: fn(h.now)} }
	}
	// Events are delivered by the tests (h.event, h.chat); reading is tested apart.
	h.m.callEvents, h.m.chatEvents = nil, nil
	h.send(tea.WindowSizeMsg{Width: 160, Height: 45})
	return h
}

// send delivers msg and runs the returned commands, feeding their messages back, except
// timers (returned) and quit. It returns every message the commands produced.
func (h *harness) send(msg tea.Msg) []tea.Msg {
	h.t.Helper()
	var out []tea.Msg
	queue := []tea.Msg{msg}
	for len(queue) > 0 && len(out) < 1000 {
		msg := queue[0]
		queue = queue[1:]
		_, cmd := h.m.Update(msg)
		for _, r := range runCmd(cmd) {
			out = append(out, r)
			switch r.(type) {
			case tickMsg, tea.RawMsg, tea.QuitMsg:
			default:
				queue = append(queue, r)
			}
		}
	}
	return out
}

// runCmd runs cmd and the commands of batches. The harness has no event readers (the
// tests deliver engine and account events through callEventMsg/chatEventMsg), so every
// command returns at once.
func runCmd(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runCmd(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

// event delivers an engine event the way the reader would.
func (h *harness) event(e call.Event) []tea.Msg {
	h.t.Helper()
	msg := callEventMsg(e)
	if msg == nil {
		h.t.Fatalf("event %T converts to no message", e)
	}
	return h.send(msg)
}

// chat delivers an account event the way the reader would.
func (h *harness) chat(e chat.Event) []tea.Msg {
	h.t.Helper()
	return h.send(chatEventMsg(e))
}

func (h *harness) key(k string) []tea.Msg {
	h.t.Helper()
	return h.send(keyPress(k))
}

// keyPress builds the KeyPressMsg a terminal would send for k.
func keyPress(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(k)[0]
	if r >= 'A' && r <= 'Z' {
		return tea.KeyPressMsg{Code: r + ('a' - 'A'), ShiftedCode: r, Text: k, Mod: tea.ModShift}
	}
	return tea.KeyPressMsg{Code: r, Text: k}
}

func (h *harness) screen() string { return stripANSI(h.m.render()) }

func (h *harness) mustSee(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

func (h *harness) mustNotSee(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if strings.Contains(s, w) {
			h.t.Fatalf("screen shows %q:\n%s", w, s)
		}
	}
}

// stripANSI removes escape sequences.
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func findMsg[T any](msgs []tea.Msg) (T, bool) {
	for _, m := range msgs {
		if v, ok := m.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func meta(id, user string) call.EventMeta {
	return call.EventMeta{SessionID: id, User: call.UserID(user), Time: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)}
}

func equal(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

var errBoom = errors.New("boom")

// testFrame is a grey picture (a black one reads as a camera switched off).
func testFrame() *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, 8, 8), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = 128
	}
	return img
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeVideo records what the model asks of the video screen.
type fakeVideo struct {
	mode  video.Mode
	calls [][]video.Tile // every SetTiles, in order
}

func (v *fakeVideo) SetTiles(t []video.Tile) error {
	v.calls = append(v.calls, append([]video.Tile(nil), t...))
	return nil
}
func (v *fakeVideo) SetMode(m video.Mode) error { v.mode = m; return nil }
func (v *fakeVideo) Mode() video.Mode           { return v.mode }

// last is the tiles of the latest SetTiles (nil before any).
func (v *fakeVideo) last() []video.Tile {
	if len(v.calls) == 0 {
		return nil
	}
	return v.calls[len(v.calls)-1]
}
