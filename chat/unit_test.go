package chat

// Fast tests without a server.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestNewChecksConfig(t *testing.T) {
	alice := mustJID(t, "alice@example.org")
	sch := jidScheme(t, alice)
	for _, tc := range []struct {
		name string
		cfg  Config
		want error // nil: accepted
	}{
		{"starttls default", Config{JID: alice}, nil},
		{"none to loopback ip", Config{JID: alice, TLS: TLSNone, Server: "127.0.0.1:5222"}, nil},
		{"none to ::1", Config{JID: alice, TLS: TLSNone, Server: "[::1]:5222"}, nil},
		{"none to localhost", Config{JID: alice, TLS: TLSNone, Server: "localhost:5222"}, nil},
		{"none to a remote host", Config{JID: alice, TLS: TLSNone, Server: "xmpp.example.org:5222"}, ErrInsecure},
		{"none to the jid's domain", Config{JID: alice, TLS: TLSNone}, ErrInsecure},
		{"none to a lan address", Config{JID: alice, TLS: TLSNone, Server: "192.168.1.2:5222"}, ErrInsecure},
		{"unknown tls mode", Config{JID: alice, TLS: "maybe"}, ErrConfig},
		{"server without port", Config{JID: alice, Server: "example.org"}, ErrConfig},
		{"no localpart", Config{JID: mustJID(t, "example.org")}, ErrConfig},
		{"negative priority", Config{JID: alice, Priority: -1}, ErrConfig},
		{"missing ca file", Config{JID: alice, CAFile: "/nonexistent/ca.pem"}, ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Scheme = sch
			a, err := New(tc.cfg)
			if a != nil {
				defer a.Close()
			}
			if tc.want == nil && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("New: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	a, err := New(Config{JID: mustJID(t, "alice@example.org"), Scheme: jidScheme(t, mustJID(t, "alice@example.org"))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.addr != "example.org:5222" {
		t.Errorf("addr %q, want example.org:5222", a.addr)
	}
	if a.cfg.PingInterval != DefaultPingInterval || a.cfg.PingTimeout != DefaultPingInterval {
		t.Errorf("ping %s/%s", a.cfg.PingInterval, a.cfg.PingTimeout)
	}
	if a.JID().Resourcepart() == "" {
		t.Error("no resource chosen")
	}
	if a.LocalID() != "alice@example.org" {
		t.Errorf("LocalID %q", a.LocalID())
	}
	if a.tlsCfg.ServerName != "example.org" {
		t.Errorf("ServerName %q", a.tlsCfg.ServerName)
	}
}

func TestSendWhileOfflineReturnsAtOnce(t *testing.T) {
	j := mustJID(t, "alice@example.org")
	a, err := New(Config{JID: j, Scheme: jidScheme(t, j)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = a.SendSignal(context.Background(), "bob@example.org", testSignal("alice@example.org", "bob@example.org", 1))
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("SendSignal = %v, want ErrOffline", err)
	}
	if err := a.Subscribe(context.Background(), mustJID(t, "bob@example.org")); !errors.Is(err, ErrOffline) {
		t.Fatalf("Subscribe = %v, want ErrOffline", err)
	}
	// Presence set while offline is kept for the next login.
	if err := a.SetPresence(context.Background(), "away", "later"); err != nil {
		t.Fatal(err)
	}
}

func TestRunAfterCloseAndTwice(t *testing.T) {
	j := mustJID(t, "alice@example.org")
	a, err := New(Config{JID: j, Scheme: jidScheme(t, j)})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := a.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close = %v", err)
	}
	if _, ok := <-a.Events(); ok {
		t.Fatal("events not closed after Close")
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{min: 100 * time.Millisecond, max: 2 * time.Second}
	for attempt := range 10 {
		d := 100 * time.Millisecond << attempt
		if d > b.max {
			d = b.max
		}
		for range 200 {
			got := b.delay(attempt)
			if got < d/2 || got > d {
				t.Fatalf("attempt %d: %s not in [%s, %s]", attempt, got, d/2, d)
			}
		}
	}
	// Jitter: not every wait is the same.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[b.delay(3)] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct waits: no jitter", len(seen))
	}
}

func TestEventQueueOrderAndNoBlock(t *testing.T) {
	q := newEventQueue()
	done := make(chan struct{})
	go func() { defer close(done); q.run() }()
	// Nobody reads yet: pushes must not block.
	const n = 10000
	for i := range n {
		q.push(StateEvent{RetryIn: time.Duration(i)})
	}
	for i := range n {
		e := <-q.out
		if got := e.(StateEvent).RetryIn; got != time.Duration(i) {
			t.Fatalf("event %d out of order: %d", i, got)
		}
	}
	q.push(ErrorEvent{})
	q.close() // an unread event must not keep close waiting
	<-done
	q.push(ErrorEvent{}) // after close: dropped, no panic
}

func TestConnStateString(t *testing.T) {
	for s, want := range map[ConnState]string{
		ConnStateUnknown: "unknown", Connecting: "connecting", Online: "online",
		Offline: "offline", Reconnecting: "reconnecting", ConnState(42): "unknown",
	} {
		if s.String() != want {
			t.Errorf("%d: %q, want %q", int(s), s.String(), want)
		}
	}
}

func TestAggregatePresence(t *testing.T) {
	res := map[string]resourcePresence{
		"phone":  {Presence: Presence{Available: true, Show: "away"}, priority: 0, seq: 3},
		"laptop": {Presence: Presence{Available: true, Show: "dnd"}, priority: 5, seq: 1},
	}
	if got := aggregate(res); got.Show != "dnd" {
		t.Errorf("highest priority not chosen: %+v", got)
	}
	res["tablet"] = resourcePresence{Presence: Presence{Available: true, Status: "new"}, priority: 5, seq: 4}
	if got := aggregate(res); got.Status != "new" {
		t.Errorf("tie not broken by recency: %+v", got)
	}
	if got := aggregate(nil); got.Available {
		t.Errorf("no resources: %+v", got)
	}
}

// A reader that stops reading must not let peers grow the queue without end: past
// maxQueuedEvents only StateEvents are kept, and order holds.
func TestEventQueueBounded(t *testing.T) {
	q := newEventQueue()
	done := make(chan struct{})
	go func() { defer close(done); q.run() }()
	defer func() { q.close(); <-done }()
	accepted := 0
	for range 3 * maxQueuedEvents {
		if q.push(ErrorEvent{}) {
			accepted++
		}
	}
	if !q.push(StateEvent{State: Online}) {
		t.Fatal("a StateEvent was dropped by a full queue")
	}
	accepted++
	if q.push(PresenceEvent{}) {
		t.Fatal("a PresenceEvent was queued past the limit")
	}
	// run may hold one event it took out, waiting for the reader.
	if accepted > maxQueuedEvents+2 {
		t.Fatalf("%d events accepted, limit %d", accepted, maxQueuedEvents)
	}
	var last Event
	timeout := time.After(waitFor)
	for i := range accepted {
		select {
		case last = <-q.out:
		case <-timeout:
			t.Fatalf("event %d of %d not delivered", i, accepted)
		}
	}
	if se, ok := last.(StateEvent); !ok || se.State != Online {
		t.Fatalf("last event %#v, want the StateEvent pushed last", last)
	}
}

// A contact's resources are bounded however many resources send presence.
func TestPresenceResourcesBounded(t *testing.T) {
	a := offlineAccount(t, "bob@example.org")
	for i := range 3 * maxResources {
		feed(t, a, fmt.Sprintf(`<presence xmlns="jabber:client" from="bob@example.org/r%d"/>`, i))
	}
	// A known resource still updates.
	feed(t, a, `<presence xmlns="jabber:client" from="bob@example.org/r0"><show>dnd</show><priority>9</priority></presence>`)
	a.mu.Lock()
	n := len(a.contacts["bob@example.org"].resources)
	a.mu.Unlock()
	if n != maxResources {
		t.Fatalf("%d resources tracked, want the limit %d", n, maxResources)
	}
	if c := findContact(a.Roster(), "bob@example.org"); c.Presence.Show != "dnd" {
		t.Fatalf("known resource not updated past the limit: %+v", c.Presence)
	}
}
