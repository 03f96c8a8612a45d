package chat

// The receive path without a server: stanzas as text through the handlers.

import (
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

type nopEncoder struct{}

func (nopEncoder) EncodeToken(xml.Token) error               { return nil }
func (nopEncoder) Flush() error                              { return nil }
func (nopEncoder) Encode(any) error                          { return nil }
func (nopEncoder) EncodeElement(any, xml.StartElement) error { return nil }

// feed hands one stanza to the account's handler as Serve would.
func feed(t *testing.T, a *Account, raw string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(raw))
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	start := tok.(xml.StartElement).Copy()
	rw := struct {
		xml.TokenReader
		xmlstream.Encoder
	}{xmlstream.InnerElement(d), nopEncoder{}}
	if err := a.handler().HandleXMPP(rw, &start); err != nil {
		t.Fatalf("handler: %v", err)
	}
}

const callPayload = `<extraParams xmlns="jabber:client"><moduleIdentifier>WebRTCVideoChat</moduleIdentifier>` +
	`<signalType>call</signalType><sessionID>0f8c3a36-5e0a-4a6f-9b1e-0d6d6f6f6f6f</sessionID><callType>1</callType>` +
	`<callerID>bob@example.org</callerID><opponentsIDs><opponentID>alice@example.org</opponentID></opponentsIDs>` +
	`<platform>web</platform><sdp>v=0</sdp></extraParams>`

func TestReceivePath(t *testing.T) {
	j := mustJID(t, "alice@example.org/tty")
	var got []*wire.Signal
	var bad []error
	var badFrom []wire.UserID
	a, err := New(Config{
		JID: j, Scheme: jidScheme(t, j),
		OnSignal:      func(s *wire.Signal) { got = append(got, s) },
		OnSignalError: func(from wire.UserID, err error) { bad = append(bad, err); badFrom = append(badFrom, from) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	msg := func(attrs, body string) string {
		return `<message xmlns="jabber:client" ` + attrs + `>` + body + `</message>`
	}
	head := `type="headline" from="bob@example.org/web" to="alice@example.org" id="m1"`

	feed(t, a, msg(head, callPayload))
	if len(got) != 1 || got[0].From != "bob@example.org" || got[0].To != "alice@example.org" || got[0].StanzaID != "m1" {
		t.Fatalf("signal envelope: %+v", got)
	}
	// callerID names the initiator, not the sender: From comes from the stanza.
	feed(t, a, msg(`type="headline" from="carol@example.org/x" id="m2"`, callPayload))
	if len(got) != 2 || got[1].From != "carol@example.org" || got[1].CallerID != "bob@example.org" {
		t.Fatalf("From not taken from the stanza: %+v", got[1])
	}
	// Delayed copies: dropped, before or after the payload.
	stamp := `<delay xmlns="urn:xmpp:delay" stamp="2020-01-01T00:00:00Z"/>`
	feed(t, a, msg(head, stamp+callPayload))
	feed(t, a, msg(head, callPayload+stamp))
	// Not headline (an error bounce, a chat message): ignored.
	feed(t, a, msg(`type="error" from="bob@example.org"`, callPayload))
	feed(t, a, msg(`type="chat" from="bob@example.org"`, callPayload+`<body>hi</body>`))
	// Another module: ignored silently.
	feed(t, a, msg(head, `<extraParams xmlns="jabber:client"><moduleIdentifier>Chat</moduleIdentifier></extraParams>`))
	if len(got) != 2 || len(bad) != 0 {
		t.Fatalf("delivered %d signals and %d errors, want 2 and 0", len(got), len(bad))
	}
	// Malformed: OnSignalError with the sender (which reports it: no ErrorEvent too;
	// TestBadSignalFlood has the ErrorEvents of an account without OnSignalError).
	feed(t, a, msg(head, strings.Replace(callPayload, "<callType>1</callType>", "<callType>7</callType>", 1)))
	if len(bad) != 1 || badFrom[0] != "bob@example.org" || !errors.Is(bad[0], wire.ErrBadCallType) || !errors.Is(bad[0], ErrBadSignal) {
		t.Fatalf("bad signal report: %v from %v", bad, badFrom)
	}
	// Garbage inside the payload never panics.
	feed(t, a, msg(head, `<extraParams xmlns="jabber:client"><moduleIdentifier>WebRTCVideoChat</moduleIdentifier><sessionID><x/><y>`+strings.Repeat("z", 1000)+`</y></sessionID></extraParams>`))
	if len(bad) != 2 {
		t.Fatalf("garbage payload: %d errors, want 2", len(bad))
	}
}

func TestPresencePath(t *testing.T) {
	a := offlineAccount(t, "bob@example.org")
	feed(t, a, `<presence xmlns="jabber:client" from="bob@example.org/a"><show>away</show><status>lunch</status><priority>1</priority></presence>`)
	feed(t, a, `<presence xmlns="jabber:client" from="bob@example.org/b"><priority>0</priority></presence>`)
	feed(t, a, `<presence xmlns="jabber:client" from="carol@example.org" type="subscribe"/>`)
	c := findContact(a.Roster(), "bob@example.org")
	if c == nil || !c.Presence.Available || c.Presence.Show != "away" || c.Presence.Status != "lunch" {
		t.Fatalf("bob: %+v (the priority-1 resource should win)", c)
	}
	feed(t, a, `<presence xmlns="jabber:client" from="bob@example.org/a" type="unavailable"/>`)
	if c := findContact(a.Roster(), "bob@example.org"); !c.Presence.Available || c.Presence.Show != "" {
		t.Fatalf("bob after /a left: %+v", c)
	}
	feed(t, a, `<presence xmlns="jabber:client" from="bob@example.org/b" type="unavailable"/>`)
	if c := findContact(a.Roster(), "bob@example.org"); c.Presence.Available {
		t.Fatalf("bob after all left: %+v", c)
	}
	want := []string{"presence away", "subscribe carol@example.org", "presence available", "presence unavailable"} // /b joining changed nothing
	for i, w := range want {
		var got string
		switch e := (<-a.Events()).(type) {
		case PresenceEvent:
			got = "presence unavailable"
			if e.Presence.Available {
				got = "presence available"
				if e.Presence.Show != "" {
					got = "presence " + e.Presence.Show
				}
			}
		case SubscriptionRequestEvent:
			got = "subscribe " + e.JID.String()
		default:
			got = "other"
		}
		if got != w {
			t.Fatalf("event %d: %s, want %s", i, got, w)
		}
	}
}

// Going offline makes every contact's presence unknown; those that were available are
// reported unavailable, so the events agree with Roster.
func TestOfflineReportsContactsUnavailable(t *testing.T) {
	a := offlineAccount(t, "bob@example.org", "carol@example.org")
	sess := &xmpp.Session{} // only its identity matters to clearSession
	a.mu.Lock()
	a.sess = sess
	a.mu.Unlock()
	feed(t, a, `<presence xmlns="jabber:client" from="bob@example.org/a"/>`)
	if ev := (<-a.Events()).(PresenceEvent); !ev.Presence.Available {
		t.Fatalf("bob: %+v, want available", ev)
	}
	a.clearSession(sess)
	ev := (<-a.Events()).(PresenceEvent)
	if ev.JID.String() != "bob@example.org" || ev.Presence.Available {
		t.Fatalf("after going offline: %+v, want bob unavailable", ev)
	}
	if c := findContact(a.Roster(), "bob@example.org"); c.Presence.Available {
		t.Fatalf("roster still shows bob available: %+v", c)
	}
	a.clearSession(sess) // a second time: nothing more to report
	a.emit(ErrorEvent{})
	if e, ok := (<-a.Events()).(ErrorEvent); !ok {
		t.Fatalf("event %#v after a repeated clearSession, want none before the marker", e)
	}
}
