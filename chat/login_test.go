package chat

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// A server without TLS that offers only PLAIN never gets the password: the login fails
// with ErrAuth (no mechanism we may use there), once, and the password is not on the
// wire in any form.
func TestNoPlainWithoutTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var got bytes.Buffer // guarded by mu: everything the client sent
	served := make(chan struct{})
	// The fake server: one connection, stream header and features, then it records
	// what the client sends until the client hangs up.
	go func() {
		defer close(served)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(waitFor))
		buf := make([]byte, 4096)
		wrote := false
		for {
			n, err := c.Read(buf)
			mu.Lock()
			got.Write(buf[:n])
			header := strings.Contains(got.String(), "<stream:stream")
			mu.Unlock()
			if header && !wrote {
				wrote = true
				_, _ = io.WriteString(c, `<?xml version='1.0'?><stream:stream xmlns='jabber:client' `+
					`xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>`+
					`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>`+
					`<mechanism>PLAIN</mechanism></mechanisms></stream:features>`)
			}
			if err != nil {
				return
			}
		}
	}()

	const pw = "plain-secret"
	j := mustJID(t, "alice@localhost")
	p := &peer{t: t, runErr: make(chan error, 1)}
	a, err := New(Config{JID: j, Password: pw, Server: l.Addr().String(), TLS: TLSNone,
		Scheme: jidScheme(t, j), Logger: testLogger(), ReconnectMin: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	p.Account = a
	p.start()
	select {
	case err = <-p.runErr:
	case <-time.After(waitFor):
		t.Fatal("Run did not return")
	}
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Run = %v, want ErrAuth", err)
	}
	l.Close()
	<-served
	mu.Lock()
	defer mu.Unlock()
	sent := got.String()
	for _, secret := range []string{pw, base64.StdEncoding.EncodeToString([]byte("\x00alice\x00" + pw))} {
		if strings.Contains(sent, secret) {
			t.Fatalf("the password went out without TLS:\n%s", sent)
		}
	}
	if strings.Contains(sent, `mechanism="PLAIN"`) {
		t.Fatalf("the client chose PLAIN without TLS:\n%s", sent)
	}
}

// A server that accepts the connection and never speaks does not hang the account:
// the login gives up after ConnectTimeout and is retried, and Close ends it at once.
func TestSilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn // guarded by mu
	wg.Add(1)
	// Accepts and holds connections without a word; ends when the listener closes.
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		l.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()

	j := mustJID(t, "alice@localhost")
	a, err := New(Config{JID: j, Password: "pw", Server: l.Addr().String(), TLS: TLSNone,
		Scheme: jidScheme(t, j), Logger: testLogger(),
		ConnectTimeout: 200 * time.Millisecond, ReconnectMin: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{Account: a, t: t, runErr: make(chan error, 1)}
	t.Cleanup(func() { _ = a.Close() })
	p.start()
	off := p.waitState(Offline)
	if !errors.Is(off.Err, context.DeadlineExceeded) && !errors.Is(off.Err, os.ErrDeadlineExceeded) {
		t.Errorf("Offline reason %v, want a deadline", off.Err)
	}
	p.waitState(Reconnecting)
	p.waitState(Connecting) // the next attempt hangs in the same way
	closed := make(chan struct{})
	// Close cancels the hung login rather than waiting for it.
	go func() { _ = a.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(waitFor):
		t.Fatal("Close hung behind a silent server")
	}
	if err := <-p.runErr; err != nil {
		t.Errorf("Run after Close = %v, want nil", err)
	}
}
