package chat

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// passwords is a PasswordFunc that hands out the given answers in turn and records the
// refused flags it was asked with.
type passwords struct {
	mu      sync.Mutex
	answers []string
	errs    []error
	asked   []bool
}

func (p *passwords) get(_ context.Context, refused bool) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := len(p.asked)
	p.asked = append(p.asked, refused)
	if i < len(p.errs) && p.errs[i] != nil {
		return "", p.errs[i]
	}
	if i >= len(p.answers) {
		return "wrong", nil
	}
	return p.answers[i], nil
}

func (p *passwords) calls() []bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bool(nil), p.asked...)
}

// TestPasswordFuncFreshAfterRefusal: a refused (expired) password is replaced at once by
// a fresh one from PasswordFunc, asked with refused=true; a second refusal ends Run with
// ErrAuth (no loop).
func TestPasswordFuncFreshAfterRefusal(t *testing.T) {
	srv := startServer(t)
	pw := &passwords{answers: []string{"expired-token", testUsers["alice"]}}
	p := newPeer(t, srv, "alice", func(c *Config) { c.Password, c.PasswordFunc = "", pw.get })
	p.online()
	if got := pw.calls(); len(got) != 2 || got[0] || !got[1] {
		t.Errorf("PasswordFunc asked with refused=%v, want [false true]", got)
	}

	bad := &passwords{answers: []string{"wrong-1", "wrong-2", "wrong-3"}}
	q := newPeer(t, srv, "bob", func(c *Config) { c.Password, c.PasswordFunc = "", bad.get })
	q.start()
	select {
	case err := <-q.runErr:
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("Run = %v, want ErrAuth", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not end after two refusals")
	}
	if got := bad.calls(); len(got) != 2 {
		t.Errorf("PasswordFunc asked %d times, want 2", len(got))
	}
}

// TestPasswordFuncErrors: an ErrAuth from PasswordFunc (wrong REST credentials) ends Run
// at once; another error (API unreachable) is retried with backoff and reported.
func TestPasswordFuncErrors(t *testing.T) {
	srv := startServer(t)
	authErr := &passwords{errs: []error{ErrAuth}}
	p := newPeer(t, srv, "alice", func(c *Config) { c.Password, c.PasswordFunc = "", authErr.get })
	p.start()
	select {
	case err := <-p.runErr:
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("Run = %v, want ErrAuth", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not end")
	}
	if n := len(authErr.calls()); n != 1 {
		t.Errorf("PasswordFunc asked %d times, want 1", n)
	}

	unreachable := errors.New("API unreachable")
	flaky := &passwords{errs: []error{unreachable, unreachable}, answers: []string{"", "", testUsers["bob"]}}
	q := newPeer(t, srv, "bob", func(c *Config) { c.Password, c.PasswordFunc = "", flaky.get })
	q.start()
	ev := q.waitEvent("offline with the error", func(e Event) bool {
		s, ok := e.(StateEvent)
		return ok && s.State == Offline && errors.Is(s.Err, unreachable)
	})
	_ = ev
	q.waitEvent("reconnecting", func(e Event) bool {
		s, ok := e.(StateEvent)
		return ok && s.State == Reconnecting && s.RetryIn > 0
	})
	q.waitState(Online)
}
