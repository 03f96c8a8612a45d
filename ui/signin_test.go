package ui

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/interop/qbstandin"
)

// qbUIConfig is a QuickBlox config as a user writes it; the sign-in fails before chat,
// so no chat server is needed.
func qbUIConfig(t *testing.T, api, password string) *config.Config {
	t.Helper()
	text := fmt.Sprintf(`[account]
server = "127.0.0.1:1"

[quickblox]
app_id = 77
auth_key = "key-abc"
auth_secret = "secret-xyz"
api_endpoint = %q
login = "alice_login"
password = %q
`, api, password)
	cfg, err := config.Parse([]byte(text), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = "/home/u/.config/ttycall/config.toml"
	return cfg
}

// signInHarness drives a signInModel with a settable clock; ticks are returned, not run.
type signInHarness struct {
	t   *testing.T
	s   *signInModel
	now time.Time
}

func newSignInHarness(t *testing.T, endpoint string) *signInHarness {
	h := &signInHarness{t: t, now: time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)}
	h.s = newSignIn(nil, endpoint, "/home/u/.config/ttycall/config.toml")
	h.s.now = func() time.Time { return h.now }
	h.s.tick = func(d time.Duration, fn func(time.Time) tea.Msg) tea.Cmd {
		return func() tea.Msg { return tickMsg{D: d, Msg: fn(h.now)} }
	}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 30})
	return h
}

func (h *signInHarness) send(msg tea.Msg) []tea.Msg {
	h.t.Helper()
	_, cmd := h.s.Update(msg)
	return runCmd(cmd)
}

func (h *signInHarness) screen() string { return stripANSI(h.s.View().Content) }

func (h *signInHarness) mustSee(want ...string) {
	h.t.Helper()
	scr := h.screen()
	for _, w := range want {
		if !strings.Contains(scr, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, scr)
		}
	}
}

// statusLine is the screen's last line.
func (h *signInHarness) statusLine() string {
	lines := strings.Split(strings.TrimRight(h.screen(), "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TestSignInUnreachableCountsDown: the interface is open while the API cannot be
// reached; its status line names the endpoint and the cause of the real client's
// failure and counts down to the next try; once signed in, the contacts show (with the
// size the terminal gave before), and the sign-in's late ticks are dropped.
func TestSignInUnreachableCountsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()

	// A real failed attempt of the sign-in Run starts.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	retries := make(chan signInRetryMsg, 1)
	_, err = app.New(qbUIConfig(t, dead, "alice-pw"), app.Options{Context: ctx,
		OnSignInRetry: func(err error, retryIn time.Duration) {
			select {
			case retries <- signInRetryMsg{Err: err, RetryIn: retryIn}:
			default:
			}
			cancel()
		}})
	if err == nil {
		t.Fatal("app.New signed in to nothing")
	}
	retry := <-retries

	h := newSignInHarness(t, dead)
	if got, want := h.statusLine(), "signing in to QuickBlox at "+dead+"…"; got != want {
		t.Fatalf("before any failure: status %q, want %q", got, want)
	}
	retry.RetryIn = 4 * time.Second // the real wait is jittered
	msgs := h.send(retry)
	want := "signing in to QuickBlox at " + dead + "… (connection refused (is the server running?); retry in 4s)"
	if got := h.statusLine(); got != want {
		t.Fatalf("status %q, want %q", got, want)
	}
	tick, ok := findMsg[tickMsg](msgs)
	if !ok || tick.D != time.Second {
		t.Fatalf("no countdown tick: %v", msgs)
	}
	h.now = h.now.Add(time.Second)
	msgs = h.send(tick.Msg)
	h.mustSee("retry in 3s")
	if _, ok := findMsg[tickMsg](msgs); !ok {
		t.Fatal("countdown stopped")
	}
	h.now = h.now.Add(3 * time.Second)
	if msgs := h.send(signInTickMsg{}); len(msgs) != 0 {
		t.Fatalf("ticks after the countdown ended: %v", msgs)
	}
	h.mustSee("(connection refused (is the server running?); retrying)")

	// A narrow terminal cuts the cause, not the countdown; the body says it whole.
	h.send(retry)
	h.send(tea.WindowSizeMsg{Width: 80, Height: 30})
	if got := h.statusLine(); !strings.HasSuffix(got, "…; retry in 4s)") || !strings.HasPrefix(got, "signing in to QuickBlox at "+dead+"… (connectio") {
		t.Fatalf("narrow status %q", got)
	}
	h.mustSee("running?); retry in 4s)")

	// Signed in: the root model takes over at the terminal's size.
	mh := newHarness(t)
	mh.m.width, mh.m.height = 60, 20
	h.send(signedInMsg{Model: mh.m})
	h.mustSee("ttycall · contacts", "Bob")
	if mh.m.width != 80 || mh.m.height != 30 {
		t.Fatalf("model size %dx%d, want the terminal's 80x30", mh.m.width, mh.m.height)
	}
	if strings.Contains(h.screen(), "signing in") {
		t.Fatalf("sign-in status left on the contacts:\n%s", h.screen())
	}
	if msgs := h.send(signInTickMsg{}); len(msgs) != 0 {
		t.Fatalf("a late sign-in tick did something: %v", msgs)
	}
	// Keys reach the contacts now: ? opens the help.
	h.send(keyPress("?"))
	h.mustSee("log file:")
}

// TestSignInRefusedSaysWhatToFix: a refused password (the stand-in's real answer) is
// shown in the interface naming the setting to fix, with no retry; q quits.
func TestSignInRefusedSaysWhatToFix(t *testing.T) {
	st, err := qbstandin.Start(qbstandin.Options{AppID: 77, AuthKey: "key-abc", AuthSecret: "secret-xyz",
		Users: []qbstandin.User{{ID: 101, Login: "alice_login", FullName: "Alice", Password: "alice-pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = app.New(qbUIConfig(t, st.URL, "wrong"), app.Options{
		OnSignInRetry: func(err error, _ time.Duration) { t.Errorf("retried a refused password: %v", err) }})
	if err == nil {
		t.Fatal("signed in with a wrong password")
	}

	h := newSignInHarness(t, st.URL)
	if msgs := h.send(signInFailedMsg{Err: err}); len(msgs) != 0 {
		t.Fatalf("a refusal started %v", msgs)
	}
	h.mustSee("QuickBlox refused the sign-in: wrong user name or password: check quickblox.login",
		"quickblox.password", "Fix /home/u/.config/ttycall/config.toml and start ttycall again; q quits.",
		"QuickBlox sign-in failed · q quits", "ttycall · sign-in failed")
	if strings.Contains(h.screen(), "{") {
		t.Fatalf("raw JSON on the screen:\n%s", h.screen())
	}
	msgs := h.send(keyPress("q"))
	if _, ok := findMsg[tea.QuitMsg](msgs); !ok {
		t.Fatalf("q did not quit: %v", msgs)
	}
}
