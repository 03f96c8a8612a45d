package chat

// Tests against a real Prosody (internal/xmppserver) on loopback. They skip only when
// prosody is not installed.

import (
	"context"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/delay"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	t.Cleanup(cancel)
	return ctx
}

func TestSubscribeAndPresence(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	bob := newPeer(t, srv, "bob", nil).online()
	ctx := ctxT(t)
	aliceJID, bobJID := srv.JID("alice"), srv.JID("bob")

	// alice asks; her roster shows bob pending.
	if err := alice.Subscribe(ctx, bobJID); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("pending roster item", func(e Event) bool {
		re, ok := e.(RosterEvent)
		return ok && hasContact(re.Contacts, bobJID.String(), func(c Contact) bool { return c.Pending })
	})
	bob.waitEvent("subscription request", func(e Event) bool {
		se, ok := e.(SubscriptionRequestEvent)
		return ok && se.JID.Equal(aliceJID)
	})
	if err := bob.Approve(ctx, aliceJID); err != nil {
		t.Fatal(err)
	}
	// alice now sees bob online (the server probes bob's resources after the approval).
	p := alice.waitPresence(bobJID, func(p Presence) bool { return p.Available })
	if p.Show != "" {
		t.Errorf("bob's show = %q, want \"\"", p.Show)
	}

	// And the other way round.
	if err := bob.Subscribe(ctx, aliceJID); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("subscription request", func(e Event) bool {
		se, ok := e.(SubscriptionRequestEvent)
		return ok && se.JID.Equal(bobJID)
	})
	if err := alice.Approve(ctx, bobJID); err != nil {
		t.Fatal(err)
	}
	bob.waitUntil("alice available, subscription both", func() bool {
		return hasContact(bob.Roster(), aliceJID.String(), func(c Contact) bool {
			return c.Subscription == "both" && !c.Pending && c.UserID == wire.UserID(aliceJID.String()) &&
				c.Presence.Available
		})
	})

	// Status changes reach the contact.
	if err := bob.SetPresence(ctx, "away", "in a meeting"); err != nil {
		t.Fatal(err)
	}
	alice.waitPresence(bobJID, func(p Presence) bool {
		return p.Available && p.Show == "away" && p.Status == "in a meeting"
	})
	if err := bob.SetPresence(ctx, "dnd", ""); err != nil {
		t.Fatal(err)
	}
	alice.waitPresence(bobJID, func(p Presence) bool { return p.Available && p.Show == "dnd" && p.Status == "" })
	if got := findContact(alice.Roster(), bobJID.String()); got == nil || got.Presence.Show != "dnd" {
		t.Errorf("alice's roster entry of bob = %+v, want show dnd", got)
	}
	if err := bob.SetPresence(ctx, "bored", ""); err == nil {
		t.Error("SetPresence accepted show \"bored\"")
	}

	// bob leaves: alice sees him unavailable.
	if err := bob.Close(); err != nil {
		t.Fatal(err)
	}
	alice.waitPresence(bobJID, func(p Presence) bool { return !p.Available })
}

func TestDenySubscription(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	carol := newPeer(t, srv, "carol", nil).online()
	ctx := ctxT(t)
	if err := alice.Subscribe(ctx, srv.JID("carol")); err != nil {
		t.Fatal(err)
	}
	carol.waitEvent("subscription request", func(e Event) bool {
		se, ok := e.(SubscriptionRequestEvent)
		return ok && se.JID.Equal(srv.JID("alice"))
	})
	if err := carol.Deny(ctx, srv.JID("alice")); err != nil {
		t.Fatal(err)
	}
	alice.waitEvent("request answered with no", func(e Event) bool {
		re, ok := e.(RosterEvent)
		return ok && hasContact(re.Contacts, srv.JID("carol").String(), func(c Contact) bool {
			return !c.Pending && c.Subscription == "none"
		})
	})
}

// Remove drops a contact from the roster (a real Prosody pushes the removal).
func TestRemoveContact(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	ctx := ctxT(t)
	if err := alice.Subscribe(ctx, srv.JID("dave")); err != nil {
		t.Fatal(err)
	}
	alice.waitUntil("dave listed", func() bool { return findContact(alice.Roster(), srv.JID("dave").String()) != nil })
	if err := alice.Remove(ctx, srv.JID("dave")); err != nil {
		t.Fatal(err)
	}
	alice.waitUntil("dave removed", func() bool { return findContact(alice.Roster(), srv.JID("dave").String()) == nil })
}

// 200 signals each way, sent concurrently, arrive complete and in order.
func TestSignalsInOrder(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	bob := newPeer(t, srv, "bob", nil).online()
	const n = 200

	send := func(from, to *peer) <-chan []*wire.Signal {
		sent := make(chan []*wire.Signal, 1)
		// One sender per direction; it ends after n sends.
		go func() {
			var list []*wire.Signal
			defer func() { sent <- list }()
			for i := range n {
				s := testSignal(from.LocalID(), to.LocalID(), i)
				ctx, cancel := context.WithTimeout(context.Background(), waitFor)
				err := from.SendSignal(ctx, to.LocalID(), s)
				cancel()
				if err != nil {
					t.Errorf("send %d: %v", i, err)
					return
				}
				list = append(list, s)
			}
		}()
		return sent
	}
	ab, ba := send(alice, bob), send(bob, alice)

	check := func(name string, rx *peer, sent []*wire.Signal, from, to wire.UserID) {
		t.Helper()
		if len(sent) != n {
			t.Fatalf("%s: sent %d of %d", name, len(sent), n)
		}
		ids := map[string]bool{}
		for i, want := range sent {
			got := rx.nextSignal()
			if got.SessionID != want.SessionID {
				t.Fatalf("%s: signal %d: session %s, want %s (out of order or lost)", name, i, got.SessionID, want.SessionID)
			}
			if got.From != from || got.To != to {
				t.Fatalf("%s: signal %d: from %q to %q, want %q to %q", name, i, got.From, got.To, from, to)
			}
			if got.Type != want.Type || got.CallType != want.CallType || got.CallerID != want.CallerID {
				t.Fatalf("%s: signal %d: %+v, want %+v", name, i, got, want)
			}
			if strings.ReplaceAll(got.SDP, "\r\n", "\n") != strings.ReplaceAll(want.SDP, "\r\n", "\n") {
				t.Fatalf("%s: signal %d: sdp %q, want %q", name, i, got.SDP, want.SDP)
			}
			if got.StanzaID == "" || ids[got.StanzaID] {
				t.Fatalf("%s: signal %d: stanza id %q empty or repeated", name, i, got.StanzaID)
			}
			ids[got.StanzaID] = true
		}
	}
	check("alice->bob", bob, <-ab, alice.LocalID(), bob.LocalID())
	check("bob->alice", alice, <-ba, bob.LocalID(), alice.LocalID())
}

// Prosody dies during a session and comes back on the same port: both clients report
// Offline, come back Online by themselves, and signals flow again.
func TestReconnectAfterServerKill(t *testing.T) {
	srv := startServer(t)
	fast := func(c *Config) {
		c.PingInterval = 500 * time.Millisecond
		c.ReconnectMin = 20 * time.Millisecond
		c.ReconnectMax = 200 * time.Millisecond
	}
	alice := newPeer(t, srv, "alice", fast).online()
	bob := newPeer(t, srv, "bob", fast).online()
	if err := alice.SendSignal(ctxT(t), bob.LocalID(), testSignal(alice.LocalID(), bob.LocalID(), 1)); err != nil {
		t.Fatal(err)
	}
	bob.nextSignal()

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*peer{alice, bob} {
		off := p.waitState(Offline)
		if off.Err == nil {
			t.Errorf("%s: Offline without a reason", p.JID())
		}
		re := p.waitState(Reconnecting)
		if re.RetryIn <= 0 {
			t.Errorf("%s: Reconnecting with RetryIn %s", p.JID(), re.RetryIn)
		}
	}
	// While the server is down sends fail at once.
	err := alice.SendSignal(context.Background(), bob.LocalID(), testSignal(alice.LocalID(), bob.LocalID(), 2))
	if !errors.Is(err, ErrOffline) {
		t.Errorf("SendSignal while down: %v, want ErrOffline", err)
	}

	if err := srv.Restart(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	alice.waitState(Online)
	bob.waitState(Online)
	want := testSignal(alice.LocalID(), bob.LocalID(), 3)
	if err := alice.SendSignal(ctxT(t), bob.LocalID(), want); err != nil {
		t.Fatal(err)
	}
	if got := bob.nextSignal(); got.SessionID != want.SessionID {
		t.Fatalf("after reconnect got session %s, want %s", got.SessionID, want.SessionID)
	}
	back := testSignal(bob.LocalID(), alice.LocalID(), 4)
	if err := bob.SendSignal(ctxT(t), alice.LocalID(), back); err != nil {
		t.Fatal(err)
	}
	if got := alice.nextSignal(); got.SessionID != back.SessionID {
		t.Fatalf("after reconnect got session %s, want %s", got.SessionID, back.SessionID)
	}
}

// A wrong password ends Run with ErrAuth after exactly one attempt.
func TestWrongPassword(t *testing.T) {
	srv := startServer(t)
	logs := &syncBuffer{}
	p := newPeer(t, srv, "alice", func(c *Config) {
		c.Password = "not-the-password"
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}).start()
	var err error
	select {
	case err = <-p.runErr:
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Run = %v, want ErrAuth", err)
	}
	// Said the way a user can act on it, without SASL internals.
	if want := "login refused for " + srv.JID("alice").String() + ": wrong password (server said: not-authorized)"; err.Error() != want {
		t.Errorf("Run = %q, want %q", err, want)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Errorf("the error shows the password: %v", err)
	}
	// The whole event history: one Connecting, then Offline with the reason.
	var states []StateEvent
	timeout := time.After(waitFor)
	for len(states) < 2 {
		select {
		case e := <-p.Events():
			if se, ok := e.(StateEvent); ok {
				states = append(states, se)
			}
		case <-timeout:
			t.Fatalf("states so far %+v", states)
		}
	}
	if states[0].State != Connecting || states[1].State != Offline || !errors.Is(states[1].Err, ErrAuth) {
		t.Fatalf("states %+v, want connecting then offline with ErrAuth", states)
	}
	if strings.Contains(logs.String(), "not-the-password") || !strings.Contains(logs.String(), "offline") {
		t.Errorf("the log shows the password or misses the state change:\n%s", logs.String())
	}
	if st := p.State(); st != Offline {
		t.Errorf("State() = %s after Run returned, want offline", st)
	}
}

// An unreachable server gives a clear error and retries with a growing backoff.
func TestUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	p := &peer{t: t, runErr: make(chan error, 1)}
	a, err := New(Config{
		JID: mustJID(t, "alice@localhost"), Password: "pw", Server: addr,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: time.Second,
		Scheme: jidScheme(t, mustJID(t, "alice@localhost")), Logger: testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	p.Account = a
	p.start()
	var waits []time.Duration
	for range 3 {
		p.waitState(Connecting)
		off := p.waitState(Offline)
		if !errors.Is(off.Err, syscall.ECONNREFUSED) || !strings.Contains(off.Err.Error(), addr) {
			t.Fatalf("Offline reason %v, want connection refused naming %s", off.Err, addr)
		}
		waits = append(waits, p.waitState(Reconnecting).RetryIn)
	}
	// Equal jitter: attempt n waits within [d/2, d], d doubling, so waits never shrink.
	for i := 1; i < len(waits); i++ {
		if waits[i] < waits[i-1] {
			t.Errorf("backoff shrank: %v", waits)
		}
	}
	if waits[0] > 20*time.Millisecond || waits[2] < 40*time.Millisecond {
		t.Errorf("backoff %v, want the first <= 20ms and the third >= 40ms", waits)
	}
}

// Offline and archived copies (with <delay>) never ring: they are dropped, whether the
// delay comes before or after the payload.
func TestDelayedSignalDropped(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	bob := newPeer(t, srv, "bob", nil).online()
	stale := delay.Delay{From: srv.JID("alice").Domain(), Time: time.Now().Add(-time.Hour)}
	msg := stanza.Message{To: srv.JID("bob"), Type: stanza.HeadlineMessage}

	s1 := testSignal(alice.LocalID(), bob.LocalID(), 1)
	msg.ID = "stale-1"
	alice.sendRaw(msg.Wrap(xmlstream.MultiReader(stale.TokenReader(), wire.Encode(s1, alice.cfg.Scheme))))
	s2 := testSignal(alice.LocalID(), bob.LocalID(), 2)
	msg.ID = "stale-2"
	alice.sendRaw(msg.Wrap(xmlstream.MultiReader(wire.Encode(s2, alice.cfg.Scheme), stale.TokenReader())))
	fresh := testSignal(alice.LocalID(), bob.LocalID(), 3)
	if err := alice.SendSignal(ctxT(t), bob.LocalID(), fresh); err != nil {
		t.Fatal(err)
	}
	if got := bob.nextSignal(); got.SessionID != fresh.SessionID {
		t.Fatalf("first signal delivered: session %s (a delayed one?), want %s", got.SessionID, fresh.SessionID)
	}
}

// A malformed signal reaches OnSignalError (with the sender) and an ErrorEvent; a
// payload of another module is ignored; the stream carries on.
func TestMalformedSignal(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	bob := newPeer(t, srv, "bob", nil).online()
	msg := stanza.Message{To: srv.JID("bob"), Type: stanza.HeadlineMessage}
	extra := func(children ...[2]string) xml.TokenReader {
		var rs []xml.TokenReader
		for _, c := range children {
			rs = append(rs, textElement(c[0], c[1]))
		}
		return xmlstream.Wrap(xmlstream.MultiReader(rs...), xml.StartElement{Name: xml.Name{Space: wire.NS, Local: "extraParams"}})
	}
	msg.ID = "other-module"
	alice.sendRaw(msg.Wrap(extra([2]string{"moduleIdentifier", "SomeChatModule"}, [2]string{"foo", "bar"})))
	msg.ID = "bad-type"
	alice.sendRaw(msg.Wrap(extra(
		[2]string{"moduleIdentifier", wire.ModuleIdentifier},
		[2]string{"signalType", "dance"},
		[2]string{"sessionID", "0f8c3a36-5e0a-4a6f-9b1e-0d6d6f6f6f6f"},
		[2]string{"callType", "1"},
		[2]string{"callerID", string(alice.LocalID())},
		[2]string{"platform", "web"},
	)))
	good := testSignal(alice.LocalID(), bob.LocalID(), 1)
	if err := alice.SendSignal(ctxT(t), bob.LocalID(), good); err != nil {
		t.Fatal(err)
	}
	// With OnSignalError set, the engine reports a bad signal: no ErrorEvent here (it
	// would be reported twice); TestBadSignalFlood covers the account on its own.
	if got := bob.nextSignal(); got.SessionID != good.SessionID {
		t.Fatalf("got session %s, want %s", got.SessionID, good.SessionID)
	}
	// Everything before the good signal has been handled: exactly one error, from alice.
	if n := len(bob.badSigs); n != 1 {
		t.Fatalf("OnSignalError called %d times, want 1", n)
	}
	if err, from := <-bob.badSigs, <-bob.badFrom; from != alice.LocalID() || !errors.Is(err, wire.ErrUnknownType) || !errors.Is(err, ErrBadSignal) {
		t.Errorf("OnSignalError(%q, %v), want sender %q and ErrBadSignal wrapping ErrUnknownType", from, err, alice.LocalID())
	}
}

// tls = "none" works to loopback with SCRAM; direct TLS works with the CA file.
func TestTLSModes(t *testing.T) {
	srv := startServer(t)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"none", func(c *Config) { c.TLS = TLSNone }},
		{"direct", func(c *Config) { c.TLS = TLSDirect; c.Server = srv.DirectTLSAddr }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alice := newPeer(t, srv, "alice", tc.edit).online()
			bob := newPeer(t, srv, "bob", nil).online()
			s := testSignal(bob.LocalID(), alice.LocalID(), 1)
			if err := bob.SendSignal(ctxT(t), alice.LocalID(), s); err != nil {
				t.Fatal(err)
			}
			if got := alice.nextSignal(); got.SessionID != s.SessionID {
				t.Fatalf("got %s, want %s", got.SessionID, s.SessionID)
			}
		})
	}
}

// Without the server's CA the StartTLS certificate is refused (and retried, as the
// certificate may be fixed on the server).
func TestUntrustedCertificate(t *testing.T) {
	srv := startServer(t)
	p := newPeer(t, srv, "alice", func(c *Config) { c.CAFile = "" }).start()
	off := p.waitState(Offline)
	var unknown x509.UnknownAuthorityError
	if off.Err == nil || !(errors.As(off.Err, &unknown) || strings.Contains(off.Err.Error(), "unknown authority")) {
		t.Fatalf("Offline reason %v, want an unknown-authority certificate error", off.Err)
	}
}

// OnSignal may answer right away: SendSignal from the receive goroutine does not
// deadlock.
func TestSendFromOnSignal(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	var bob *peer
	bob = newPeer(t, srv, "bob", func(c *Config) {
		c.OnSignal = func(s *wire.Signal) {
			reply := *s
			reply.Type = wire.TypeAccept
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			if err := bob.SendSignal(ctx, s.From, &reply); err != nil {
				t.Error(err)
			}
		}
	})
	bob.online()
	call := testSignal(alice.LocalID(), bob.LocalID(), 1)
	if err := alice.SendSignal(ctxT(t), bob.LocalID(), call); err != nil {
		t.Fatal(err)
	}
	if got := alice.nextSignal(); got.Type != wire.TypeAccept || got.SessionID != call.SessionID {
		t.Fatalf("got %s %s, want accept of %s", got.Type, got.SessionID, call.SessionID)
	}
}

// An oversized signal (past wire.MaxPayload, within the server's stanza limit) is
// reported as ErrTooLarge and the rest of the stanza is skipped: the stream carries on.
func TestOversizedSignal(t *testing.T) {
	srv := startServer(t)
	alice := newPeer(t, srv, "alice", nil).online()
	bob := newPeer(t, srv, "bob", nil).online()
	// Encode refuses such a signal, so its XML is made by hand.
	payload, err := wire.Marshal(testSignal(alice.LocalID(), bob.LocalID(), 1), alice.cfg.Scheme)
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.Replace(string(payload), "<userInfo>", "<userInfo><pad>"+strings.Repeat("x", wire.MaxPayload)+"</pad>", 1)
	d := xml.NewDecoder(strings.NewReader(raw))
	msg := stanza.Message{ID: "big", To: srv.JID("bob"), Type: stanza.HeadlineMessage}
	alice.sendRaw(msg.Wrap(xmlstream.MultiReader(d, textElement("after", "x"))))
	good := testSignal(alice.LocalID(), bob.LocalID(), 2)
	if err := alice.SendSignal(ctxT(t), bob.LocalID(), good); err != nil {
		t.Fatal(err)
	}
	if got := bob.nextSignal(); got.SessionID != good.SessionID {
		t.Fatalf("got session %s, want %s", got.SessionID, good.SessionID)
	}
	// Reported to OnSignalError (the engine reports it; no ErrorEvent of its own).
	if len(bob.badSigs) != 1 {
		t.Fatalf("%d bad signals reported, want 1", len(bob.badSigs))
	}
	if err := <-bob.badSigs; !errors.Is(err, wire.ErrTooLarge) {
		t.Errorf("OnSignalError(%v), want ErrTooLarge", err)
	}
}
