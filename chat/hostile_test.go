package chat

import (
	"encoding/xml"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// TestBadSignalFlood: mallory, a second account on a real Prosody, sends 100
// undecodable call signals with a 200 KB message id. bob (no engine attached: the
// account reports them itself) logs a handful of short lines and reports short errors.
func TestBadSignalFlood(t *testing.T) {
	srv := startServer(t)
	var logBuf syncBuffer
	bob := newPeer(t, srv, "bob", func(c *Config) {
		c.OnSignalError = nil
		c.Logger = slog.New(slog.NewTextHandler(&logBuf, nil))
	}).online()
	mallory := newPeer(t, srv, "carol", nil).online()

	id := strings.Repeat("x", 200<<10)
	const n = 100
	for range n {
		msg := stanza.Message{ID: id, To: srv.JID("bob"), Type: stanza.HeadlineMessage}
		mallory.sendRaw(msg.Wrap(xmlstream.Wrap(xmlstream.MultiReader(
			textElement("moduleIdentifier", wire.ModuleIdentifier),
			textElement("signalType", "dance"),
			textElement("sessionID", strings.Repeat("s", 10<<10)),
		), xml.StartElement{Name: xml.Name{Space: wire.NS, Local: "extraParams"}})))
	}
	good := testSignal(mallory.LocalID(), bob.LocalID(), 1)
	if err := mallory.SendSignal(ctxT(t), bob.LocalID(), good); err != nil {
		t.Fatal(err)
	}
	if got := bob.nextSignal(); got.SessionID != good.SessionID {
		t.Fatalf("got session %s, want %s", got.SessionID, good.SessionID)
	}
	for range n {
		ev := bob.waitEvent("error event", func(e Event) bool { _, ok := e.(ErrorEvent); return ok }).(ErrorEvent)
		if !errors.Is(ev.Err, ErrBadSignal) {
			t.Errorf("ErrorEvent %v: not ErrBadSignal", ev.Err)
		}
		if l := len(ev.Err.Error()); l > guard.MaxErr+64 {
			t.Fatalf("ErrorEvent of %d bytes", l)
		}
	}
	log := logBuf.String()
	if lines := strings.Count(log, "chat: bad signal"); lines == 0 || lines > 10 {
		t.Errorf("%d log lines about bad signals, want a few (rate-limited)", lines)
	}
	if len(log) > 20<<10 {
		t.Errorf("%d bytes of log for %d bad signals", len(log), n)
	}
}

// TestNoFromBeforeStartTLS: the stream header sent in clear text, before StartTLS,
// names no user (seen by a proxy in front of the real Prosody); the login still works.
func TestNoFromBeforeStartTLS(t *testing.T) {
	srv := startServer(t)
	proxy := xmppservertest.NewProxy(t, srv.Addr)
	alice := newPeer(t, srv, "alice", func(c *Config) { c.Server = proxy.Addr }).online()
	starts := proxy.ClientStarts()
	if len(starts) == 0 {
		t.Fatal("the proxy saw no connection")
	}
	clear := string(starts[0])
	if i := strings.Index(clear, "<starttls"); i >= 0 {
		clear = clear[:i]
	} else {
		t.Fatalf("no starttls in the clear part: %q", clear)
	}
	if strings.Contains(clear, "from=") || strings.Contains(clear, "alice") {
		t.Errorf("the clear-text stream names the user: %q", clear)
	}
	if alice.State() != Online {
		t.Errorf("state %v", alice.State())
	}
}
