package chat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
)

// run is Run's loop: connect, serve until the connection ends, wait with backoff,
// again. It ends when ctx ends or the server refuses the credentials.
func (a *Account) run(ctx context.Context) error {
	attempt := 0
	for {
		a.setState(StateEvent{State: Connecting})
		online, err := a.connectAndServe(ctx)
		if ctx.Err() != nil {
			a.setState(StateEvent{State: Offline})
			return ctx.Err()
		}
		a.setState(StateEvent{State: Offline, Err: err})
		var pe *passwordError
		if isAuth(err) && a.cfg.PasswordFunc != nil && !a.refused && !errors.As(err, &pe) {
			// A token refused (expired): once more at once, with a fresh one.
			a.refused = true
			continue
		}
		if isAuth(err) {
			return err
		}
		if !errors.As(err, &pe) {
			a.refused = false
		}
		if online {
			attempt = 0
		}
		wait := a.backoff.delay(attempt)
		attempt++
		a.setState(StateEvent{State: Reconnecting, RetryIn: wait})
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			a.setState(StateEvent{State: Offline})
			return ctx.Err()
		case <-t.C:
		}
	}
}

// passwordError is an error of Config.PasswordFunc: not the server's refusal of a
// password, so a fresh password is not asked for again at once.
type passwordError struct{ err error }

func (e *passwordError) Error() string { return "chat: password: " + e.err.Error() }
func (e *passwordError) Unwrap() error { return e.err }

// password is the password of the next login: Config.Password, or PasswordFunc's (a
// fresh one after a refusal).
func (a *Account) password(ctx context.Context) (string, error) {
	if a.cfg.PasswordFunc == nil {
		return a.cfg.Password, nil
	}
	pw, err := a.cfg.PasswordFunc(ctx, a.refused)
	if err != nil {
		return "", &passwordError{err}
	}
	return pw, nil
}

// setState is the one place the connection state changes: it logs old and new and
// reports the change.
func (a *Account) setState(ev StateEvent) {
	a.mu.Lock()
	old := a.state
	a.state = ev.State
	a.mu.Unlock()
	attrs := []any{"from", old.String(), "to", ev.State.String()}
	if ev.Err != nil {
		attrs = append(attrs, "err", ev.Err)
	}
	if ev.RetryIn > 0 {
		attrs = append(attrs, "retry_in", ev.RetryIn)
	}
	a.log.Info("chat: connection state", attrs...)
	a.emit(ev)
}

// connectAndServe makes one connection and keeps it until it breaks or ctx ends.
// online reports whether it got as far as Online (then the backoff starts over).
func (a *Account) connectAndServe(ctx context.Context) (online bool, err error) {
	loginCtx, cancelLogin := context.WithTimeout(ctx, a.cfg.ConnectTimeout)
	defer cancelLogin()
	s, err := a.dial(loginCtx)
	if err != nil {
		return false, err
	}
	conn := s.Conn()

	// The receive loop. It ends when the connection is closed or the server ends the
	// stream; every path below closes the connection and waits for it.
	serveDone := make(chan error, 1)
	go func() { serveDone <- s.Serve(a.handler()) }()

	connCtx, cancelConn := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var deadMu sync.Mutex
	var deadErr error // guarded by deadMu: why keepalive gave up
	var deadOnce sync.Once

	defer func() {
		a.clearSession(s)
		cancelConn()
		wg.Wait()
		_ = conn.Close()
	}()

	if err := a.setup(loginCtx, s); err != nil {
		_ = conn.Close()
		<-serveDone
		return false, err
	}
	a.sendHeld(loginCtx, s)
	a.setState(StateEvent{State: Online})

	// The keepalive; it ends with connCtx (cancelled by the deferred func above).
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.keepalive(connCtx, s, func(err error) {
			deadOnce.Do(func() {
				deadMu.Lock()
				deadErr = err
				deadMu.Unlock()
				_ = conn.Close() // Serve returns
			})
		})
	}()

	select {
	case err := <-serveDone:
		deadMu.Lock()
		reason := deadErr
		deadMu.Unlock()
		if reason != nil {
			return true, reason
		}
		if err == nil {
			return true, fmt.Errorf("chat: %w: server closed the stream", ErrDisconnected)
		}
		return true, fmt.Errorf("chat: %w: %w", ErrDisconnected, err)
	case <-ctx.Done():
		a.clearSession(s)
		// goodbye needs the write lock, which a send blocked on a full socket holds
		// with no deadline that works (see dial): close the connection if the goodbye
		// has not ended a little after its own deadline.
		force := time.AfterFunc(goodbyeTime+goodbyeTime/2, func() { _ = conn.Close() })
		a.goodbye(s)
		<-serveDone
		force.Stop()
		return true, ctx.Err()
	}
}

// setup runs once per connection before Online: roster first (RFC 6121 §2.2), then the
// initial presence that makes us reachable for headlines.
func (a *Account) setup(ctx context.Context, s *xmpp.Session) error {
	if err := a.fetchRoster(ctx, s); err != nil {
		return fmt.Errorf("chat: roster: %w", err)
	}
	a.mu.Lock()
	a.sess = s
	show, status := a.show, a.status
	a.mu.Unlock()
	a.enableCarbons(ctx, s) // before presence: no JMI copy is missed (jingle.go)
	if err := a.sendPresence(ctx, s, show, status); err != nil {
		return fmt.Errorf("chat: initial presence: %w", err)
	}
	// The server handles a session's stanzas in order: once it answers this ping it has
	// processed our presence, so headlines to our bare JID reach us from Online on.
	if err := ping.Send(ctx, s, a.local.Domain()); err != nil {
		return fmt.Errorf("chat: ping after initial presence: %w", err)
	}
	return nil
}

// clearSession marks the account offline for senders (they get ErrOffline) and resets
// the contacts' presence, which is unknown until the next session; contacts that were
// available are reported unavailable, so the events agree with Roster.
func (a *Account) clearSession(s *xmpp.Session) {
	a.mu.Lock()
	if a.sess != s {
		a.mu.Unlock()
		return
	}
	a.sess = nil
	var gone []jid.JID
	for _, c := range a.contacts {
		if c.Presence.Available {
			gone = append(gone, c.JID)
		}
		c.resources = nil
		c.Presence = Presence{}
	}
	a.mu.Unlock()
	for _, j := range gone {
		a.emit(PresenceEvent{JID: j})
	}
}

// goodbyeTime bounds the polite end of a stream.
const goodbyeTime = time.Second

// goodbye ends the stream politely (unavailable presence, </stream:stream>) and gives
// the server a second to close its side; Serve returns at the latest then.
func (a *Account) goodbye(s *xmpp.Session) {
	conn := s.Conn()
	deadline := time.Now().Add(goodbyeTime)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	_ = s.Send(ctx, unavailablePresence())
	_ = conn.SetWriteDeadline(deadline)
	if err := s.Close(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		a.log.Debug("chat: closing stream", "err", err)
	}
	_ = conn.SetReadDeadline(deadline)
}
