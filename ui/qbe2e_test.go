package ui_test

// End-to-end checks of the QuickBlox sign-in in a terminal: the ttycall binary in tmux,
// the QuickBlox REST stand-in (interop/qbstandin) and a private Prosody whose accounts'
// passwords are the stand-in's tokens.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ttycall/ttycall/internal/testbin"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/interop/qbstandin"
)

// qbTUI starts ttycall in tmux (window name) signed in to QuickBlox at api as
// alice_login with password, with the Prosody srv as chat server.
func qbTUI(t *testing.T, dir, name string, srv *xmppserver.Server, api, password string) *tmuxSession {
	t.Helper()
	cfg := filepath.Join(dir, name+".toml")
	text := fmt.Sprintf(`[account]
server = %q
tls = "starttls"
ca_file = %q

[quickblox]
app_id = 77
auth_key = "key-abc"
auth_secret = "secret-xyz"
api_endpoint = %q
chat_endpoint = %q
login = "alice_login"
password = %q

[media]
camera = "test"
microphone = "test"

[ui]
render = "halfblock"
`, srv.Addr, srv.CAFile, api, srv.Domain, password)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &tmuxSession{t: t, socket: filepath.Join(dir, "tmux.sock"), name: name, log: filepath.Join(dir, name+".log")}
	cmdline := fmt.Sprintf("env TTYCALL_ICE_LOOPBACK=1 TERM=xterm-256color XDG_STATE_HOME=%s %s --config %s --log %s; echo EXITED $?; sleep 600",
		filepath.Join(dir, name+"-state"), testbin.Path(t), cfg, s.log)
	if _, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "160", "-y", "30", cmdline); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = s.tmux("kill-server") })
	return s
}

// qbEnvE2E is a Prosody and a stand-in that registers each token as the chat password.
func qbEnvE2E(t *testing.T) (*xmppserver.Server, *qbstandin.StandIn) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	if _, err := lookTmux(); err != nil {
		t.Skip("tmux not installed")
	}
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{}})
	st, err := qbstandin.Start(qbstandin.Options{
		AppID: 77, AuthKey: "key-abc", AuthSecret: "secret-xyz", ChatHost: srv.Domain,
		Users: []qbstandin.User{{ID: 101, Login: "alice_login", FullName: "Alice Liddell", Password: "alice-pw"}},
		OnToken: func(u qbstandin.User, tok string) error {
			return srv.Register(context.Background(), fmt.Sprintf("%d-77", u.ID), tok)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return srv, st
}

// forward relays connections from l to addr until l is closed; the returned func closes
// l and waits for every relay.
func forward(l net.Listener, addr string) func() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return // closed
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(up)
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(up, c); up.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

// TestEndToEndQuickBloxUnreachable: with the API endpoint down, the interface opens at
// once and its status line says what it waits for, counting down to the next try; when
// the endpoint comes up, the next try signs in and the contacts screen shows the
// QuickBlox user online.
func TestEndToEndQuickBloxUnreachable(t *testing.T) {
	srv, st := qbEnvE2E(t)
	dir := t.TempDir()
	// A port nothing listens on (yet): connections are refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	api := "http://" + addr

	s := qbTUI(t, dir, "qb", srv, api, "alice-pw")
	status := "signing in to QuickBlox at " + api + "… (connection refused (is the server running?); retry in "
	screen := s.waitText(screenWait, status)
	s.show("API unreachable", screen)
	// The countdown is live and the retries back off: a wait of 2s or more (a later
	// attempt) is seen counting down.
	seen := map[int]bool{}
	s.waitFor("a countdown from 2s or more going down", screenWait, func(screen string) bool {
		var n int
		if i := strings.Index(screen, status); i >= 0 {
			fmt.Sscanf(screen[i+len(status):], "%ds)", &n)
		}
		seen[n] = true
		return n >= 1 && seen[n+1] && n+1 >= 2
	})
	if screen := s.capture(); strings.Contains(screen, "EXITED") {
		t.Fatalf("ttycall exited:\n%s", screen)
	}

	// q quits while the sign-in waits (a second interface, as the first one goes on).
	q := qbTUI(t, dir, "quitter", srv, api, "alice-pw")
	q.waitText(screenWait, status)
	q.keys("q")
	q.waitText(screenWait, "EXITED 0")

	// The endpoint comes up (a relay to the stand-in on the same port).
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	stop := forward(l, strings.TrimPrefix(st.URL, "http://"))
	defer stop()
	screen = s.waitText(screenWait, "ttycall · contacts", "101-77@localhost · online")
	s.show("signed in", screen)
	if strings.Contains(screen, "signing in") {
		t.Fatalf("sign-in status left:\n%s", screen)
	}
	s.keys("q")
	s.waitText(screenWait, "EXITED 0")
}

// TestEndToEndQuickBloxWrongPassword: a refused password is shown in the interface,
// naming the setting to fix, without retrying; q quits with a failure status.
func TestEndToEndQuickBloxWrongPassword(t *testing.T) {
	srv, st := qbEnvE2E(t)
	s := qbTUI(t, t.TempDir(), "qb", srv, st.URL, "wrong")
	screen := s.waitText(screenWait, "QuickBlox refused the sign-in", "quickblox.password", "QuickBlox sign-in failed · q quits")
	s.show("wrong password", screen)
	if n := st.Count("POST session.json"); n != 1 {
		t.Errorf("%d session requests; want 1 (no retry of a refused password)", n)
	}
	s.keys("q")
	screen = s.waitText(screenWait, "EXITED 1")
	if !strings.Contains(screen, "ttycall: app: login refused") || !strings.Contains(screen, "quickblox.login") {
		t.Errorf("the error is not repeated after quitting:\n%s", screen)
	}
}

func lookTmux() (string, error) { return exec.LookPath("tmux") }
