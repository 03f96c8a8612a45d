package app_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// Tests of what a stranger — a second account on the real Prosody — can make a running
// ttycall (the whole app: account, engine, log file) do.

const hostileWait = 30 * time.Second

// runningApp is an app online on srv with its call events recorded and its log in a
// file.
type runningApp struct {
	*app.App
	logPath string

	mu  sync.Mutex
	evs []call.Event // guarded by mu
	chg chan struct{}
}

func startApp(t *testing.T, srv *xmppserver.Server, user string, edit func(*config.Config)) *runningApp {
	t.Helper()
	cfg := testConfig(srv, user, "pw")
	if edit != nil {
		edit(cfg)
	}
	logPath := filepath.Join(t.TempDir(), user+".log")
	log, closer, err := app.OpenLog(logPath, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, app.Options{LoopbackOnly: true, Echo: true, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ra := &runningApp{App: a, logPath: logPath, chg: make(chan struct{})}
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(context.Background()) }() // ends with Close at cleanup
	t.Cleanup(func() {
		a.Close()
		<-runErr
		closer.Close()
	})
	deadline := time.After(hostileWait)
	for online := false; !online; {
		select {
		case ev := <-a.AccountEvents():
			s, ok := ev.(chat.StateEvent)
			online = ok && s.State == chat.Online
		case <-deadline:
			t.Fatalf("%s not online", user)
		}
	}
	// The recorder; it ends when Close closes the event channels.
	go func() {
		for ev := range a.CallEvents() {
			ra.mu.Lock()
			ra.evs = append(ra.evs, ev)
			close(ra.chg)
			ra.chg = make(chan struct{})
			ra.mu.Unlock()
		}
	}()
	go func() { // drains the account's events; ends when Close closes them
		for range a.AccountEvents() {
		}
	}()
	return ra
}

// wait returns the n-th event that match accepts.
func (ra *runningApp) wait(t *testing.T, what string, n int, match func(call.Event) bool) call.Event {
	t.Helper()
	deadline := time.After(hostileWait)
	for {
		ra.mu.Lock()
		seen := 0
		for _, ev := range ra.evs {
			if match(ev) {
				if seen++; seen == n {
					ra.mu.Unlock()
					return ev
				}
			}
		}
		ch := ra.chg
		ra.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no %s (#%d)", what, n)
			return nil
		}
	}
}

func (ra *runningApp) events() []call.Event {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return append([]call.Event(nil), ra.evs...)
}

// newStranger logs user in as a bare account (no engine) that records the signals it
// receives.
func newStranger(t *testing.T, srv *xmppserver.Server, user string) (*chat.Account, chan *wire.Signal) {
	t.Helper()
	j, err := jid.Parse(user + "@" + srv.Domain)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *wire.Signal, 4096)
	acc, err := chat.New(chat.Config{
		JID: j, Password: "pw", Server: srv.Addr, CAFile: srv.CAFile,
		OnSignal: func(s *wire.Signal) {
			select {
			case got <- s:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- acc.Run(ctx) }() // ends at cleanup
	t.Cleanup(func() { cancel(); <-runErr; acc.Close() })
	deadline := time.After(hostileWait)
	for online := false; !online; {
		select {
		case ev := <-acc.Events():
			s, ok := ev.(chat.StateEvent)
			online = ok && s.State == chat.Online
		case <-deadline:
			t.Fatalf("%s not online", user)
		}
	}
	go func() { // drains events; ends when Close closes them
		for range acc.Events() {
		}
	}()
	return acc, got
}

func send(t *testing.T, acc *chat.Account, to wire.UserID, s *wire.Signal) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
	defer cancel()
	if err := acc.SendSignal(ctx, to, s); err != nil {
		t.Fatal(err)
	}
}

func isBlocked(ev call.Event) bool {
	e, ok := ev.(call.MissedCallEvent)
	return ok && e.Reason == "blocked"
}

func isInvalid(ev call.Event) bool { _, ok := ev.(call.InvalidEvent); return ok }

// TestStrangerLogFlood: 200 signals with 200 KB session IDs (calls and hang-ups of no
// session) leave a few short log lines and short events.
func TestStrangerLogFlood(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "pw", "mallory": "pw"}})
	alice := startApp(t, srv, "alice", func(c *config.Config) { c.Calls.AcceptFrom = config.AcceptAnyone })
	mallory, _ := newStranger(t, srv, "mallory")
	huge := strings.Repeat("s", 200<<10)
	const n = 100
	for i := range n {
		typ := wire.TypeCall
		if i%2 == 1 {
			typ = wire.TypeHangUp
		}
		send(t, mallory, alice.LocalID(), &wire.Signal{
			Type: typ, SessionID: huge, CallType: wire.CallTypeAudio, CallerID: mallory.LocalID(),
			OpponentIDs: []wire.UserID{alice.LocalID()}, Platform: "web", SDP: "v=0\r\n",
		})
	}
	alice.wait(t, "invalid events", n, isInvalid)
	for _, ev := range alice.events() {
		if e, ok := ev.(call.InvalidEvent); ok {
			if l := len(e.SessionID) + len(e.Op) + len(e.Err.Error()); l > guard.MaxString+guard.MaxErr+64 {
				t.Fatalf("an InvalidEvent of %d bytes", l)
			}
		}
	}
	st, err := os.Stat(alice.logPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 32<<10 {
		t.Errorf("%d bytes of log for %d bad signals", st.Size(), n)
	}
}

// offerSDP is a valid audio offer (no candidates), made by pion without gathering.
func offerSDP(t *testing.T) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

func callFrom(from *chat.Account, to wire.UserID, sdp string) *wire.Signal {
	return &wire.Signal{
		Type: wire.TypeCall, SessionID: uuid.NewString(), CallType: wire.CallTypeAudio,
		CallerID: from.LocalID(), OpponentIDs: []wire.UserID{to}, Platform: "web", SDP: sdp,
	}
}

// waitSignal waits for a signal of type typ (and session sid, unless empty).
func waitSignal(t *testing.T, got chan *wire.Signal, typ wire.Type, sid string) *wire.Signal {
	t.Helper()
	deadline := time.After(hostileWait)
	for {
		select {
		case s := <-got:
			if s.Type == typ && (sid == "" || s.SessionID == sid) {
				return s
			}
		case <-deadline:
			t.Fatalf("no %s for %s", typ, sid)
			return nil
		}
	}
}

// TestAcceptFromContacts: with accept_from = "contacts" (the default), a stranger's call
// is declined (reject) without ringing and reported as a blocked call from the
// stanza's sender; a contact's call rings, even with incoming_limit = 1 and a flood of
// the stranger's calls just before (blocked and rate-limited calls hold no line).
func TestAcceptFromContacts(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "pw", "bob": "pw", "mallory": "pw"}})
	if err := srv.Befriend("alice", "bob"); err != nil {
		t.Fatal(err)
	}
	alice := startApp(t, srv, "alice", func(c *config.Config) { c.Calls.IncomingLimit = 1 })
	mallory, toMallory := newStranger(t, srv, "mallory")
	bob, _ := newStranger(t, srv, "bob")
	sdp := offerSDP(t)

	first := callFrom(mallory, alice.LocalID(), sdp)
	send(t, mallory, alice.LocalID(), first)
	waitSignal(t, toMallory, wire.TypeReject, first.SessionID)
	ev := alice.wait(t, "blocked call", 1, isBlocked).(call.MissedCallEvent)
	if ev.User != mallory.LocalID() || ev.InitiatorID != mallory.LocalID() || ev.SessionID != first.SessionID || ev.CallType != call.CallTypeAudio {
		t.Errorf("blocked event %+v", ev)
	}
	const flood = 50
	for range flood {
		send(t, mallory, alice.LocalID(), callFrom(mallory, alice.LocalID(), sdp))
	}
	good := callFrom(bob, alice.LocalID(), sdp)
	send(t, bob, alice.LocalID(), good)
	ring := alice.wait(t, "bob's call", 1, func(ev call.Event) bool { _, ok := ev.(call.CallEvent); return ok }).(call.CallEvent)
	if ring.User != bob.LocalID() || ring.SessionID != good.SessionID {
		t.Errorf("call event %+v, want bob's", ring)
	}
	blocked := 0
	for _, ev := range alice.events() {
		switch e := ev.(type) {
		case call.CallEvent:
			if e.User != bob.LocalID() {
				t.Errorf("a call from %s rang", e.User)
			}
		case call.MissedCallEvent:
			if e.Reason == "blocked" {
				blocked++
			}
		}
	}
	// The flood is rate-limited before the roster is asked: a handful of blocked
	// calls for the history, not 51.
	if blocked > 10 {
		t.Errorf("%d blocked-call events for %d calls of one stranger", blocked, flood+1)
	}
}

// TestForgedCaller: mallory's offer names bob as its caller and mallory as an
// opponent. It is an invalid event answered with reject, and nothing rings as bob.
func TestForgedCaller(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "pw", "bob": "pw", "mallory": "pw"}})
	alice := startApp(t, srv, "alice", func(c *config.Config) { c.Calls.AcceptFrom = config.AcceptAnyone })
	mallory, toMallory := newStranger(t, srv, "mallory")
	forged := callFrom(mallory, alice.LocalID(), offerSDP(t))
	forged.CallerID = wire.UserID("bob@" + srv.Domain)
	forged.OpponentIDs = []wire.UserID{alice.LocalID(), mallory.LocalID()}
	send(t, mallory, alice.LocalID(), forged)
	waitSignal(t, toMallory, wire.TypeReject, forged.SessionID)
	inv := alice.wait(t, "invalid event", 1, isInvalid).(call.InvalidEvent)
	if inv.User != mallory.LocalID() || inv.SessionID != forged.SessionID || !errors.Is(inv.Err, call.ErrBadSignal) {
		t.Errorf("invalid event %+v", inv)
	}
	// A good call from mallory afterwards rings as mallory: the forged one left nothing.
	good := callFrom(mallory, alice.LocalID(), offerSDP(t))
	send(t, mallory, alice.LocalID(), good)
	ring := alice.wait(t, "mallory's own call", 1, func(ev call.Event) bool { _, ok := ev.(call.CallEvent); return ok }).(call.CallEvent)
	if ring.User != mallory.LocalID() || ring.InitiatorID != mallory.LocalID() || ring.SessionID != good.SessionID {
		t.Errorf("call event %+v", ring)
	}
}
