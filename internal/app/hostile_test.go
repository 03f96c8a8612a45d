package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
