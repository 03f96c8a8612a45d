package ui

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
)

// panicModel panics in Update or View.
type panicModel struct{ inView bool }

type boomMsg struct{}

func (m panicModel) Init() tea.Cmd {
	return func() tea.Msg { return boomMsg{} }
}

func (m panicModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(boomMsg); ok && !m.inView {
		panicHere("in Update")
	}
	return m, nil
}

func (m panicModel) View() tea.View {
	if m.inView {
		panicHere("in View")
	}
	return tea.NewView("hello")
}

//go:noinline
func panicHere(where string) { panic("test panic " + where) }

func TestPanicGoesToTheLog(t *testing.T) {
	for _, inView := range []bool{false, true} {
		logPath := filepath.Join(t.TempDir(), "ttycall.log")
		var screen bytes.Buffer
		p := tea.NewProgram(panicModel{inView: inView}, tea.WithInput(nil), tea.WithOutput(&screen))
		err := runGuarded(p, logPath, discardLog())
		if !errors.Is(err, tea.ErrProgramPanic) {
			t.Fatalf("inView %v: Run returned %v", inView, err)
		}
		logText, rerr := os.ReadFile(logPath)
		if rerr != nil {
			t.Fatal(rerr)
		}
		where := "in Update"
		if inView {
			where = "in View"
		}
		for _, want := range []string{"test panic " + where, "goroutine ", "panicHere"} {
			if !strings.Contains(string(logText), want) {
				t.Fatalf("inView %v: log lacks %q:\n%s", inView, want, logText)
			}
		}
		if strings.Contains(screen.String(), "goroutine") || strings.Contains(screen.String(), "test panic") {
			t.Fatalf("the stack reached the screen: %q", screen.String())
		}
		// What the user sees: one short line naming the log.
		msg := crashError(logPath).Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, logPath) || len(msg) > 200 || !errors.Is(crashError(logPath), ErrCrashed) {
			t.Fatalf("user message %q", msg)
		}
		// Standard error is back where it was.
		os.Stderr.WriteString("panic_test: standard error restored\n")
		if logText, _ := os.ReadFile(logPath); strings.Contains(string(logText), "standard error restored") {
			t.Fatal("standard error still goes to the log")
		}
	}
}

// fakePanicky panics in Stop.
type panicSession struct{ *fakeSession }

func (panicSession) Stop(call.Extension) error { panicHere("in a command"); return nil }

type panicEngine struct{ *fakeEngine }

func (e panicEngine) CreateNewSession(opp []call.UserID, t call.CallType) (Session, error) {
	s, err := e.fakeEngine.CreateNewSession(opp, t)
	return panicSession{s.(*fakeSession)}, err
}

func (e panicEngine) Session(id string) Session {
	if s := e.fakeEngine.session(id); s != nil {
		return panicSession{s}
	}
	return nil
}

// TestPanicInCommand: a command that panics is caught where it runs: the stack goes to
// the log, the model quits (hanging up first) and Run will report crashError.
func TestPanicInCommand(t *testing.T) {
	h := newHarness(t)
	var logBuf bytes.Buffer
	h.m.env.log = slog.New(slog.NewTextHandler(&logBuf, nil))
	h.m.env.engine = panicEngine{h.eng}
	h.key("enter")
	msgs := h.key("h") // hangs up in a command: Stop panics
	if _, ok := findMsg[cmdPanicMsg](msgs); !ok {
		t.Fatalf("no cmdPanicMsg: %v", msgs)
	}
	if !h.m.crashed {
		t.Fatal("model not marked crashed")
	}
	if _, ok := findMsg[tea.QuitMsg](msgs); !ok { // the hang-up on quit panics too: it stops anyway
		t.Fatalf("did not quit: %v", msgs)
	}
	for _, want := range []string{"panic in a command", "test panic in a command", "goroutine ", "panicHere"} {
		if !strings.Contains(logBuf.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, logBuf.String())
		}
	}
}
