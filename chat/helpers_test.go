package chat

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// waitFor bounds every wait of these tests; nothing sleeps.
const waitFor = 20 * time.Second

var testUsers = map[string]string{"alice": "alice-pw", "bob": "bob-pw", "carol": "carol-pw"}

func startServer(t testing.TB) *xmppserver.Server {
	t.Helper()
	return xmppservertest.Start(t, xmppserver.Options{Users: testUsers})
}

func testLogger() *slog.Logger {
	if os.Getenv("CHAT_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// peer is an account under test with what its callbacks received.
type peer struct {
	*Account
	t       testing.TB
	signals chan *wire.Signal // OnSignal
	badSigs chan error        // OnSignalError
	badFrom chan wire.UserID
	runErr  chan error // Run's result
}

func jidScheme(t testing.TB, j jid.JID) wire.Scheme {
	t.Helper()
	sch, err := wire.NewScheme("jid", j)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// newPeer makes an account for user on srv (StartTLS verified with srv.CAFile) and
// lets edit change the config. It is not running yet.
func newPeer(t testing.TB, srv *xmppserver.Server, user string, edit func(*Config)) *peer {
	t.Helper()
	p := &peer{
		t:       t,
		signals: make(chan *wire.Signal, 1024),
		badSigs: make(chan error, 64),
		badFrom: make(chan wire.UserID, 64),
		runErr:  make(chan error, 1),
	}
	cfg := Config{
		JID:            srv.JID(user),
		Password:       testUsers[user],
		Server:         srv.Addr,
		CAFile:         srv.CAFile,
		Scheme:         jidScheme(t, srv.JID(user)),
		ReconnectMin:   50 * time.Millisecond,
		ReconnectMax:   500 * time.Millisecond,
		ConnectTimeout: 10 * time.Second,
		OnSignal: func(s *wire.Signal) {
			select {
			case p.signals <- s:
			default:
				t.Errorf("%s: signal buffer full", user)
			}
		},
		OnSignalError: func(from wire.UserID, err error) {
			select {
			case p.badSigs <- err:
				p.badFrom <- from
			default:
			}
		},
		Logger: testLogger().With("user", user),
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Account = a
	t.Cleanup(func() { _ = a.Close() })
	return p
}

// start runs the account in the background (until Close at cleanup).
func (p *peer) start() *peer {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	// Run's goroutine; it ends at cleanup (cancel, then Close waits for it).
	go func() {
		defer wg.Done()
		p.runErr <- p.Run(ctx)
	}()
	p.t.Cleanup(func() {
		cancel()
		_ = p.Close()
		wg.Wait()
	})
	return p
}

// online starts the account and waits for Online.
func (p *peer) online() *peer {
	p.t.Helper()
	p.start()
	p.waitState(Online)
	return p
}

// waitEvent reads events until match accepts one; it fails the test at the deadline.
func (p *peer) waitEvent(what string, match func(Event) bool) Event {
	p.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		select {
		case e, ok := <-p.Events():
			if !ok {
				p.t.Fatalf("%s: events closed while waiting for %s", p.JID(), what)
			}
			if match(e) {
				return e
			}
		case <-deadline.C:
			p.t.Fatalf("%s: no %s within %s", p.JID(), what, waitFor)
		}
	}
}

func (p *peer) waitState(s ConnState) StateEvent {
	p.t.Helper()
	return p.waitEvent("state "+s.String(), func(e Event) bool {
		se, ok := e.(StateEvent)
		return ok && se.State == s
	}).(StateEvent)
}

func (p *peer) waitPresence(from jid.JID, match func(Presence) bool) Presence {
	p.t.Helper()
	return p.waitEvent("presence of "+from.String(), func(e Event) bool {
		pe, ok := e.(PresenceEvent)
		return ok && pe.JID.Equal(from.Bare()) && match(pe.Presence)
	}).(PresenceEvent).Presence
}

// nextSignal waits for the next incoming wire.
func (p *peer) nextSignal() *wire.Signal {
	p.t.Helper()
	select {
	case s := <-p.signals:
		return s
	case <-time.After(waitFor):
		p.t.Fatalf("%s: no signal within %s", p.JID(), waitFor)
		return nil
	}
}

// testSignal is a call offer from caller to callee with a fresh session.
func testSignal(caller, callee wire.UserID, n int) *wire.Signal {
	return &wire.Signal{
		Type:        wire.TypeCall,
		SessionID:   uuid.NewString(),
		CallType:    wire.CallTypeVideo,
		CallerID:    caller,
		OpponentIDs: []wire.UserID{callee},
		Platform:    "ttycall",
		SDP:         fmt.Sprintf("v=0\r\no=- %d 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", n),
		UserInfo:    wire.Extension{"n": fmt.Sprint(n)},
	}
}

// sendRaw writes a hand-made stanza on p's live session.
func (p *peer) sendRaw(r xml.TokenReader) {
	p.t.Helper()
	s := p.session()
	if s == nil {
		p.t.Fatal(errors.New("sendRaw: offline"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := s.Send(ctx, r); err != nil {
		p.t.Fatal(err)
	}
}

func mustJID(t testing.TB, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func findContact(list []Contact, bare string) *Contact {
	for i := range list {
		if list[i].JID.String() == bare {
			return &list[i]
		}
	}
	return nil
}

func hasContact(list []Contact, bare string, match func(Contact) bool) bool {
	c := findContact(list, bare)
	return c != nil && match(*c)
}

// waitUntil waits for cond, checked now and after every event (the account updates its
// state before it reports the change).
func (p *peer) waitUntil(what string, cond func() bool) {
	p.t.Helper()
	if cond() {
		return
	}
	p.waitEvent(what, func(Event) bool { return cond() })
}

// syncBuffer is a bytes.Buffer safe for the account's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// offlineAccount is alice's account, never connected, with the given contacts in its
// roster (subscription both): for tests that feed stanzas straight to the handlers.
func offlineAccount(t *testing.T, contacts ...string) *Account {
	t.Helper()
	j := mustJID(t, "alice@example.org/tty")
	a, err := New(Config{JID: j, Scheme: jidScheme(t, j)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	a.mu.Lock()
	for _, c := range contacts {
		a.applyItemLocked(rosterItem{JID: c, Subscription: "both"})
	}
	a.mu.Unlock()
	return a
}
