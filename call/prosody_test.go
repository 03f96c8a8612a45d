package call

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// Tests through a real Prosody on loopback, with the real XMPP account (package chat).

// xmppTarget names a server to log in to (also passed to a child process).
type xmppTarget struct {
	addr, caFile, domain string
}

func startProsody(t testing.TB, users ...string) xmppTarget {
	m := map[string]string{}
	for _, u := range users {
		m[u] = "pw"
	}
	srv := xmppservertest.Start(t, xmppserver.Options{Users: m, Logger: testLogger(t)})
	return xmppTarget{addr: srv.Addr, caFile: srv.CAFile, domain: srv.Domain}
}

// newXMPPParty logs user in and starts an engine on that account; both stop at cleanup
// (the engine first, so its hang-ups still leave).
func newXMPPParty(t testing.TB, x xmppTarget, user string, mutate func(*Config)) *party {
	t.Helper()
	p, _ := newXMPPPartyAcc(t, x, user, nil, mutate)
	return p
}

// newXMPPPartyAcc is newXMPPParty with the account's config edited by editChat, and
// the account returned too (its events, after Online, are for the caller to read).
func newXMPPPartyAcc(t testing.TB, x xmppTarget, user string, editChat func(*chat.Config), mutate func(*Config)) (*party, *chat.Account) {
	t.Helper()
	j, err := jid.Parse(user + "@" + x.domain)
	if err != nil {
		t.Fatal(err)
	}
	var engine atomic.Pointer[Client]
	ccfg := chat.Config{
		JID: j, Password: "pw", Server: x.addr, TLS: chat.TLSStartTLS, CAFile: x.caFile,
		OnSignal: func(s *wire.Signal) {
			if c := engine.Load(); c != nil {
				receiver(c)(s)
			}
		},
		OnSignalError: func(from UserID, err error) {
			if c := engine.Load(); c != nil {
				c.ReceiveError(from, err)
			}
		},
		Logger: testLogger(t),
	}
	if editChat != nil {
		editChat(&ccfg)
	}
	acc, err := chat.New(ccfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- acc.Run(ctx) }() // owner: this helper; ends when cleanup cancels ctx
	t.Cleanup(func() {
		cancel()
		<-runDone
		_ = acc.Close()
	})
	waitOnline(t, acc)

	cfg := testConfig(t, acc.LocalID(), acc)
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	engine.Store(c)
	p := &party{Client: c, rec: record(c)}
	t.Cleanup(func() { p.close(t) })
	return p, acc
}

func waitOnline(t testing.TB, acc *chat.Account) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev := <-acc.Events():
			if st, ok := ev.(chat.StateEvent); ok && st.State == chat.Online {
				return
			}
		case <-deadline:
			t.Fatalf("account %s not online", acc.JID())
		}
	}
}

func TestProsodyVideoCall(t *testing.T) {
	x := startProsody(t, "alice", "bob")
	alice := newXMPPParty(t, x, "alice", nil)
	bob := newXMPPParty(t, x, "bob", nil)
	s, bs := startCall(t, alice, bob, CallTypeVideo, Extension{"a": "1"}, Extension{"b": "2"})
	for _, k := range []devices.Kind{devices.KindAudio, devices.KindVideo} {
		waitPackets(t, remoteStream(t, alice, s.ID(), bob.LocalID(), k), 10)
		waitPackets(t, remoteStream(t, bob, s.ID(), alice.LocalID(), k), 10)
	}
	if ev := bob.rec.wait(t, "call", isType[CallEvent]("")).(CallEvent); ev.Ext["a"] != "1" {
		t.Errorf("call ext %v", ev.Ext)
	}
	if ev := alice.rec.wait(t, "accept", isType[AcceptEvent]("")).(AcceptEvent); ev.Ext["b"] != "2" {
		t.Errorf("accept ext %v", ev.Ext)
	}
	if err := bs.Update(Extension{"c": "3"}); err != nil {
		t.Fatal(err)
	}
	if ev := alice.rec.wait(t, "update", isType[UpdateEvent]("")).(UpdateEvent); ev.Ext["c"] != "3" {
		t.Errorf("update ext %v", ev.Ext)
	}
	if err := s.Stop(Extension{"d": "4"}); err != nil {
		t.Fatal(err)
	}
	if ev := bob.rec.wait(t, "stop", isType[StopEvent]("")).(StopEvent); ev.Ext["d"] != "4" {
		t.Errorf("stop ext %v", ev.Ext)
	}
	bob.rec.wait(t, "bob closed", isSessionClose(s.ID()))
}

// Separate processes: the callee is this test binary re-executed as a child that logs
// in as bob, answers one call in Echo mode and exits when it ends.

const envChild = "CALL_TEST_CHILD_CALLEE"

func TestSeparateProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	x := startProsody(t, "alice", "bob")
	// Until the child is online our call is lost (a headline reaches only available
	// resources); the dialing re-send brings it.
	alice := newXMPPParty(t, x, "alice", func(c *Config) { setDialing(c, 200*time.Millisecond) })

	ctx, cancel := context.WithTimeout(context.Background(), 2*waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildCallee$", "-test.v")
	cmd.Env = append(os.Environ(), envChild+"="+x.addr+"|"+x.caFile+"|"+x.domain)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	childDone := make(chan error, 1)
	go func() { childDone <- cmd.Wait() }() // owner: this test; ends when the child exits (ctx kills it at worst)

	bob := UserID("bob@" + x.domain)
	s, err := alice.CreateNewSession([]UserID{bob}, CallTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserMedia(ctx, devices.MediaParams{Audio: true, Video: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, alice, s.ID(), bob)
	rs := remoteStream(t, alice, s.ID(), bob, devices.KindVideo)
	waitPackets(t, rs, 30) // our own video, echoed by the other process
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-childDone:
		if err != nil {
			t.Fatalf("child: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("child did not end")
	}
}

// TestChildCallee is the child's side of TestSeparateProcesses.
func TestChildCallee(t *testing.T) {
	env := os.Getenv(envChild)
	if env == "" {
		t.Skip("child process of TestSeparateProcesses only")
	}
	var x xmppTarget
	parts := strings.Split(env, "|")
	if len(parts) != 3 {
		t.Fatalf("%s=%q", envChild, env)
	}
	x.addr, x.caFile, x.domain = parts[0], parts[1], parts[2]
	bob := newXMPPParty(t, x, "bob", func(c *Config) { c.Echo = true })
	ev := bob.rec.wait(t, "call", isType[CallEvent]("")).(CallEvent)
	s := bob.Session(ev.SessionID)
	if s == nil {
		t.Fatal("no session")
	}
	if err := s.Accept(nil); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, bob, s.ID(), ev.User)
	bob.rec.wait(t, "hang up", isType[StopEvent](ev.User))
	bob.rec.wait(t, "closed", isSessionClose(s.ID()))
}
