package chat

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
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
