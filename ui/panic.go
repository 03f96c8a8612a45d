package ui

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"

	tea "charm.land/bubbletea/v2"
)

// ErrCrashed: the interface stopped on an internal error (a panic); the stack is in
// the log file.
var ErrCrashed = errors.New("stopped on an internal error")

func crashError(logPath string) error {
	return fmt.Errorf("%w; details in %s", ErrCrashed, logPath)
}

// cmdPanicMsg: a command panicked; guardCmd logged the stack.
type cmdPanicMsg struct{ Value any }

// guardCmd runs cmd (and the commands of a batch it returns) recovering from a panic:
// the stack goes to the log and the model gets a cmdPanicMsg, on which it quits. Bubble
// Tea would also catch it, but would print the stack from the command's goroutine
// after Run has returned, when standard error is the terminal again.
func guardCmd(log *slog.Logger, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() (msg tea.Msg) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in a command", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				msg = cmdPanicMsg{Value: r}
			}
		}()
		msg = cmd()
		if b, ok := msg.(tea.BatchMsg); ok {
			out := make(tea.BatchMsg, len(b))
			for i, c := range b {
				out[i] = guardCmd(log, c)
			}
			return out
		}
		return msg
	}
}

// runGuarded runs p with the process's standard error sent to the log file. Bubble Tea
// catches a panic in Update, View or a command, restores the terminal and prints the
// panic and its stack to standard error: that lands in the log, and the caller shows
// the user crashError only. Anything else written to standard error while the
// interface runs (it would garble the screen) goes to the log too. Panics in commands
// are caught earlier, by guardCmd.
func runGuarded(p *tea.Program, logPath string, log *slog.Logger) error {
	if logPath != "" {
		restore, err := redirectStderr(logPath)
		if err != nil {
			log.Warn("standard error not sent to the log", "err", err)
		} else {
			defer restore()
		}
	}
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramPanic) {
		log.Error("the interface stopped on a panic; Bubble Tea's report with the stack precedes this line")
	}
	return err
}

// redirectStderr points file descriptor 2 at the file at path (appending) until
// restore is called.
func redirectStderr(path string) (restore func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	saved, err := dupFD(2)
	if err != nil {
		return nil, err
	}
	if err := dup2(int(f.Fd()), 2); err != nil {
		closeFD(saved)
		return nil, err
	}
	return func() {
		_ = dup2(saved, 2)
		closeFD(saved)
	}, nil
}
