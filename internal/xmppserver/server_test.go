package xmppserver_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
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
