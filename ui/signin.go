package ui

// The program's root while a QuickBlox sign-in is under way. The REST session must
// exist before the account and the engine can be built (its user ID makes the JID, its
// token is the chat password), and the API may be unreachable for a while: rather than
// wait with a blank terminal, the interface opens at once and its status line says what
// the sign-in waits for, with a countdown to the next try. A refused sign-in (wrong key,
// secret or password) is shown whole, naming the setting to fix, until the user quits.
// Once signed in, every message goes to the root Model (app.go).

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/internal/qbapi"
)

type (
	// signInRetryMsg: an attempt failed and the next one is due in RetryIn.
	signInRetryMsg struct {
		Err     error
		RetryIn time.Duration
	}
	// signInFailedMsg: the sign-in gave up (refused credentials, bad settings).
	signInFailedMsg struct{ Err error }
	// signedInMsg: the account and the engine exist; Model shows them from now on.
	signedInMsg struct{ Model *Model }
	// signInTickMsg moves the countdown.
	signInTickMsg struct{}
)

// signInModel wraps the root Model, which it builds late: before signedInMsg it draws
// the sign-in status itself, after it hands every message on.
type signInModel struct {
	inner *Model // nil until signed in

	endpoint string // the QuickBlox API being signed in to
	cfgPath  string // the config file, named in a refusal
	keys     KeyMap
	styles   Styles
	now      func() time.Time
	tick     func(time.Duration, func(time.Time) tea.Msg) tea.Cmd

	width, height int
	sized         *tea.WindowSizeMsg // the last size, replayed to the Model
	cause         string             // why the last attempt failed; "" before any failed
	retryAt       time.Time          // the next attempt
	ticking       bool               // a signInTickMsg is on its way
	failed        error              // the sign-in gave up
}

// newSignIn starts the sign-in screen; inner, when not nil, is already signed in (no
// QuickBlox: nothing to wait for) and takes over at once.
func newSignIn(inner *Model, endpoint, cfgPath string) *signInModel {
	return &signInModel{
		inner: inner, endpoint: endpoint, cfgPath: cfgPath,
		keys: DefaultKeyMap(), styles: DefaultStyles(), now: time.Now, tick: tea.Tick,
		width: 80, height: 24,
	}
}

func (s *signInModel) Init() tea.Cmd {
	if s.inner != nil {
		return s.inner.Init()
	}
	return nil
}

func (s *signInModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if s.inner != nil {
		switch msg.(type) {
		case signInRetryMsg, signInFailedMsg, signInTickMsg:
			return s, nil // a late tick of the sign-in screen
		}
		_, cmd := s.inner.Update(msg)
		return s, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		s.width, s.height = msg.Width, msg.Height
		s.sized = &msg
	case tea.KeyPressMsg:
		if key.Matches(msg, s.keys.Quit, s.keys.Interrupt) {
			return s, tea.Quit // nothing to hang up yet; Run ends the sign-in
		}
	case signInRetryMsg:
		s.cause = serverCause(msg.Err)
		s.retryAt = s.now().Add(msg.RetryIn)
		return s, s.countdown()
	case signInTickMsg:
		s.ticking = false
		return s, s.countdown()
	case signInFailedMsg:
		s.failed = msg.Err
	case signedInMsg:
		s.inner = msg.Model
		cmds := []tea.Cmd{s.inner.Init()}
		if s.sized != nil {
			_, cmd := s.inner.Update(*s.sized)
			cmds = append(cmds, cmd)
		}
		return s, tea.Batch(cmds...)
	}
	return s, nil
}

// retryLeft is the countdown in whole seconds rounded up; 0 when due or none planned.
func (s *signInModel) retryLeft() time.Duration {
	if s.retryAt.IsZero() {
		return 0
	}
	left := s.retryAt.Sub(s.now())
	if left <= 0 {
		return 0
	}
	return (left + time.Second - 1).Truncate(time.Second)
}

// countdown ticks once a second while an attempt is planned; one tick at a time.
func (s *signInModel) countdown() tea.Cmd {
	if s.ticking || s.retryLeft() == 0 || s.failed != nil {
		return nil
	}
	s.ticking = true
	return s.tick(time.Second, func(time.Time) tea.Msg { return signInTickMsg{} })
}

// status is the status line's text in at most w cells (0: no limit). A long cause is
// cut, not the countdown after it.
func (s *signInModel) status(w int) string {
	if s.failed != nil {
		return "QuickBlox sign-in failed · q quits"
	}
	st := "signing in to QuickBlox at " + s.endpoint + "…"
	if s.cause == "" {
		return st
	}
	tail := "; retrying)"
	if left := s.retryLeft(); left > 0 {
		tail = fmt.Sprintf("; retry in %s)", left)
	}
	cause := s.cause
	if room := w - ansi.StringWidth(st+" ("+tail); w > 0 && ansi.StringWidth(cause) > room {
		cause = ansi.Truncate(cause, max(room, 1), "…")
	}
	return st + " (" + cause + tail
}

// refusal says why the sign-in gave up, the QuickBlox hint (which names the setting to
// fix) first.
func (s *signInModel) refusal() string {
	var b strings.Builder
	var api *qbapi.APIError
	if errors.As(s.failed, &api) && api.Hint != "" {
		b.WriteString("QuickBlox refused the sign-in: " + api.Hint + ".\n\n")
	} else {
		b.WriteString("The QuickBlox sign-in failed.\n\n")
	}
	b.WriteString(s.failed.Error())
	where := "the configuration"
	if s.cfgPath != "" {
		where = s.cfgPath
	}
	b.WriteString("\n\nFix " + where + " and start ttycall again; q quits.")
	return b.String()
}

func (s *signInModel) View() tea.View {
	if s.inner != nil {
		return s.inner.View()
	}
	v := tea.NewView(s.render())
	v.AltScreen = true
	v.WindowTitle = "ttycall"
	return v
}

func (s *signInModel) render() string {
	st := s.styles
	w := max(s.width, 10)
	title := "ttycall · signing in"
	if s.failed != nil {
		title = "ttycall · sign-in failed"
	}
	title = st.Title.Render(ansi.Truncate(title, w, "…"))
	var body string
	if s.failed != nil {
		body = st.Error.Render(ansi.Wrap(s.refusal(), w, " /"))
	} else {
		// The status line may be cut on a narrow terminal: the body says it whole.
		body = ansi.Wrap(s.status(0), w, " /") + "\n\n" +
			st.Muted.Render(ansi.Wrap("The contacts appear once QuickBlox has signed you in. q quits.", w, " "))
	}
	bar := st.StatusBar.Width(w).Render(ansi.Truncate(" "+s.status(w-2)+" ", w, "…"))
	bodyH := max(s.height-2, 1)
	return title + "\n" + fitLines(body, w, bodyH) + "\n" + bar
}
