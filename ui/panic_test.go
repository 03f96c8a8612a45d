package ui

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

// panicModel panics in Update or in a command.
type panicModel struct{ inCmd bool }

type boomMsg struct{}

func (m panicModel) Init() tea.Cmd {
	if m.inCmd {
		return func() tea.Msg { panicHere("in a command"); return nil }
	}
	return func() tea.Msg { return boomMsg{} }
}

func (m panicModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if _, ok := msg.(boomMsg); ok {
		panicHere("in Update")
	}
	return m, nil
}

func (m panicModel) View() tea.View { return tea.NewView("hello") }

//go:noinline
func panicHere(where string) { panic("test panic " + where) }

func TestPanicGoesToTheLog(t *testing.T) {
	for _, inCmd := range []bool{false, true} {
		logPath := filepath.Join(t.TempDir(), "ttycall.log")
		var screen bytes.Buffer
		p := tea.NewProgram(panicModel{inCmd: inCmd}, tea.WithInput(nil), tea.WithOutput(&screen))
		err := runGuarded(p, logPath, discardLog())
		if !errors.Is(err, tea.ErrProgramPanic) {
			t.Fatalf("inCmd %v: Run returned %v", inCmd, err)
		}
		logText, rerr := os.ReadFile(logPath)
		if rerr != nil {
			t.Fatal(rerr)
		}
		where := "in Update"
		if inCmd {
			where = "in a command"
		}
		for _, want := range []string{"test panic " + where, "goroutine ", "panicHere"} {
			if !strings.Contains(string(logText), want) {
				t.Fatalf("inCmd %v: log lacks %q:\n%s", inCmd, want, logText)
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
