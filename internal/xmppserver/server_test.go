package xmppserver_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// login does a real StartTLS + SCRAM login, verifying the server's certificate.
func login(ctx context.Context, s *xmppserver.Server, user, pass string) (*xmpp.Session, error) {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	j := jid.MustParse(user + "@" + s.Domain + "/test")
	return xmpp.NewClientSession(ctx, j, conn,
		xmpp.StartTLS(&tls.Config{ServerName: s.Domain, RootCAs: roots, MinVersion: tls.VersionTLS12}),
		xmpp.SASL("", pass, sasl.ScramSha256Plus, sasl.ScramSha256, sasl.ScramSha1),
		xmpp.BindResource(),
	)
}

func TestLoginRegisterKillRestart(t *testing.T) {
	s := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "pw-a", "101-7": `q"uo\te`}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	sess, err := login(ctx, s, "alice", "pw-a")
	if err != nil {
		t.Fatalf("alice login: %v", err)
	}
	sess.Close()
	if _, err := login(ctx, s, "alice", "wrong"); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	sess, err = login(ctx, s, "101-7", `q"uo\te`)
	if err != nil {
		t.Fatalf("quickblox-style account with quoted password: %v", err)
	}
	sess.Close()

	// Accounts can be added while the server runs.
	if err := s.Register(ctx, "carol", "pw-c"); err != nil {
		t.Fatal(err)
	}
	if sess, err = login(ctx, s, "carol", "pw-c"); err != nil {
		t.Fatalf("carol login after live register: %v", err)
	}
	sess.Close()

	// A killed server refuses connections; a restarted one serves the same accounts
	// on the same port.
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatal("port still answers after Kill")
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if sess, err = login(ctx, s, "alice", "pw-a"); err != nil {
		t.Fatalf("login after restart: %v", err)
	}
	sess.Close()
}

func TestListensOnLoopbackOnly(t *testing.T) {
	s := xmppservertest.Start(t, xmppserver.Options{})
	for _, addr := range []string{s.Addr, s.DirectTLSAddr, s.HTTPAddr} {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("address %s is not loopback", addr)
		}
	}
	// The websocket endpoint answers an HTTP upgrade request.
	c, err := net.DialTimeout("tcp", s.HTTPAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := "GET /xmpp-websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: xmpp\r\n\r\n"
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	n, _ := c.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 101") {
		t.Fatalf("websocket upgrade answered %q", buf[:n])
	}
}

func TestStopLeavesNothing(t *testing.T) {
	s, err := xmppserver.Start(context.Background(), xmppserver.Options{})
	if errors.Is(err, xmppserver.ErrNoProsody) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temp dir %s left behind", dir)
	}
	out, _ := exec.Command("pgrep", "-f", dir).Output()
	if len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("prosody processes left: %s", out)
	}
}

// BenchmarkStart measures start-to-ready with two accounts (target: under 2 s).
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := xmppserver.Start(context.Background(), xmppserver.Options{Users: map[string]string{"a": "a", "b": "b"}})
		if err != nil {
			b.Fatal(err)
		}
		s.Stop()
	}
}

// TestHelperServer is the child of TestParentDeathKillsServer: it starts a server,
// prints its directory and waits to be killed. It skips in a normal test run.
func TestHelperServer(t *testing.T) {
	if os.Getenv("XMPPSERVER_TEST_HELPER") == "" {
		t.Skip("helper process of TestParentDeathKillsServer")
	}
	s, err := xmppserver.Start(context.Background(), xmppserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("dir", s.Dir)
	select {} // until the parent kills us
}

// A process that dies without stopping its server (a crash, SIGKILL, Ctrl-C) leaves no
// Prosody running.
func TestParentDeathKillsServer(t *testing.T) {
	if _, err := exec.LookPath("prosody"); err != nil {
		t.Skip(xmppserver.ErrNoProsody)
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$", "-test.v")
			cmd.Env = append(os.Environ(), "XMPPSERVER_TEST_HELPER=1")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			dir := make(chan string, 1)
			// Reads the helper's output; ends when the helper dies.
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if d, ok := strings.CutPrefix(sc.Text(), "dir "); ok {
						dir <- d
					}
				}
				close(dir)
			}()
			var d string
			select {
			case d = <-dir:
			case <-time.After(20 * time.Second):
				t.Fatal("helper did not start a server")
			}
			if d == "" {
				t.Fatal("helper ended without starting a server")
			}
			t.Cleanup(func() { _ = os.RemoveAll(d) })
			if !running(d) {
				t.Fatal("no prosody running for the helper's server")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			deadline := time.Now().Add(10 * time.Second)
			for running(d) {
				if time.Now().After(deadline) {
					t.Fatalf("prosody of %s still running 10 s after its parent died", d)
				}
				time.Sleep(20 * time.Millisecond) // polling the process table: no event to wait on
			}
		})
	}
}

// running reports whether a process with dir in its command line is alive.
func running(dir string) bool {
	out, _ := exec.Command("pgrep", "-f", dir).Output()
	return len(strings.TrimSpace(string(out))) > 0
}
