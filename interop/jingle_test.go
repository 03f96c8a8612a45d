package interop

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// jingleGoldenDir is where -update writes StanzaJS's stanzas: beside the translation they
// check (signaling/jingle), which reads them as its round-trip property.
var jingleGoldenDir = filepath.Join("..", "signaling", "jingle", "testdata")

// waitJingleMedia waits until page p has sent and received RTP in session sid, and the
// received bytes grow between two looks.
func waitJingleMedia(t testing.TB, ctx context.Context, p *Page, sid string, kinds ...string) RTPStats {
	t.Helper()
	var first, last RTPStats
	seen := false
	err := until(ctx, 100*time.Millisecond, "media of "+p.Name, func() (bool, error) {
		var s RTPStats
		if err := p.Invoke(ctx, &s, "getStats", sid); err != nil {
			return false, err
		}
		if s.InBytes == 0 || s.OutBytes == 0 {
			return false, nil
		}
		if !seen {
			first, seen = s, true
			return false, nil
		}
		last = s
		for _, k := range kinds {
			if k == "audio" && (s.InAudioBytes == 0 || s.OutAudioBytes == 0) {
				return false, nil
			}
			if k == "video" && (s.InVideoBytes == 0 || s.OutVideoBytes == 0) {
				return false, nil
			}
		}
		return last.InBytes > first.InBytes && last.OutBytes > first.OutBytes, nil
	})
	if err != nil {
		t.Fatalf("page %s: %v", p.Name, err)
	}
	return last
}

// stanzaKind names a Jingle or JMI stanza: the Jingle action ("session-initiate"), the
// session-info payload ("session-info-ringing"), the JMI element ("jmi-propose"), or the
// IQ type of a reply ("iq-result").
func stanzaKind(raw string) string {
	d := xml.NewDecoder(strings.NewReader(raw))
	depth := 0
	top := ""
	var jingleAction string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				top = el.Name.Local
				if top == "iq" {
					for _, a := range el.Attr {
						if a.Name.Local == "type" && (a.Value == "result" || a.Value == "error") {
							return "iq-" + a.Value
						}
					}
				}
			}
			if el.Name.Space == "urn:xmpp:jingle-message:0" {
				return "jmi-" + el.Name.Local
			}
			if el.Name.Space == "urn:xmpp:jingle:1" && el.Name.Local == "jingle" {
				for _, a := range el.Attr {
					if a.Name.Local == "action" {
						jingleAction = a.Value
					}
				}
				if jingleAction != "session-info" {
					return jingleAction
				}
			} else if jingleAction == "session-info" && depth == 3 {
				return "session-info-" + el.Name.Local
			}
		case xml.EndElement:
			depth--
		}
	}
	if jingleAction != "" {
		return jingleAction
	}
	return top
}

// saveStanzas writes, with -update, the first stanza of each kind page p sent as
// stanzajs-<kind>.xml.
func saveStanzas(t *testing.T, p *Page, kinds ...string) {
	t.Helper()
	first := map[string]string{}
	for _, e := range p.Events(0) {
		if e.Str("event") != "xml_out" {
			continue
		}
		k := stanzaKind(e.Str("xml"))
		if _, ok := first[k]; !ok {
			first[k] = e.Str("xml")
		}
	}
	for _, k := range kinds {
		if _, ok := first[k]; !ok {
			t.Errorf("page %s sent no %s", p.Name, k)
		}
	}
	if !*update {
		return
	}
	for _, k := range kinds {
		raw, ok := first[k]
		if !ok {
			continue
		}
		path := filepath.Join(jingleGoldenDir, "stanzajs-"+k+".xml")
		if err := os.WriteFile(path, []byte(raw+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	}
}

// TestJingleStanzaToStanza: two StanzaJS pages call each other through the local Prosody
// with JMI and Jingle, media both ways. It proves the page, the driver and the server
// before ttycall comes in, and -update records StanzaJS's stanzas as goldens.
func TestJingleStanzaToStanza(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob")
	alice, aliceJID := env.StanzaUser(ctx, "alice", "pageA")
	bob, bobJID := env.StanzaUser(ctx, "bob", "pageB")
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "proceed"})

	mark := alice.Mark()
	sid := fmt.Sprintf("s2s-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@" + env.Server.Domain, "id": sid, "media": []string{"audio", "video"}})
	bob.Wait(ctx, mark, "event", "jmi", "kind", "propose", "id", sid, "from", aliceJID)
	alice.Wait(ctx, mark, "event", "jmi", "kind", "proceed", "id", sid, "from", bobJID)
	bob.Wait(ctx, mark, "event", "incoming", "sid", sid)
	alice.Wait(ctx, mark, "event", "ringing", "sid", sid)
	alice.Wait(ctx, mark, "event", "accepted", "sid", sid)
	alice.Wait(ctx, mark, "event", "connection", "sid", sid, "state", "connected")
	bob.Wait(ctx, mark, "event", "connection", "sid", sid, "state", "connected")
	waitJingleMedia(t, ctx, alice, sid, "audio", "video")
	waitJingleMedia(t, ctx, bob, sid, "audio", "video")

	alice.Must(ctx, nil, "mute", map[string]any{"sid": sid, "name": "0"})
	bob.Wait(ctx, mark, "event", "mute", "sid", sid)
	alice.Must(ctx, nil, "hold", map[string]any{"sid": sid})
	bob.Wait(ctx, mark, "event", "hold", "sid", sid)
	alice.Must(ctx, nil, "end", map[string]any{"sid": sid, "reason": "success"})
	bob.Wait(ctx, mark, "event", "terminated", "sid", sid, "reason", "success")

	// A proposal the callee rejects, and one the caller retracts while it rings.
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "reject"})
	rej := sid + "-rej"
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@" + env.Server.Domain, "id": rej, "media": []string{"audio"}})
	alice.Wait(ctx, mark, "event", "jmi", "kind", "reject", "id", rej)
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "ring"})
	ret := sid + "-ret"
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@" + env.Server.Domain, "id": ret, "media": []string{"audio"}})
	alice.Wait(ctx, mark, "event", "jmi", "kind", "ringing", "id", ret)
	alice.Must(ctx, nil, "jmi", map[string]any{"to": "bob@" + env.Server.Domain, "kind": "retract", "id": ret})
	bob.Wait(ctx, mark, "event", "jmi", "kind", "retract", "id", ret)

	// A session without JMI that the callee ends as busy.
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "busy"})
	busy := sid + "-busy"
	alice.Must(ctx, nil, "call", map[string]any{"to": bobJID, "sid": busy, "media": []string{"audio"}})
	alice.Wait(ctx, mark, "event", "terminated", "sid", busy, "reason", "busy")

	saveStanzas(t, alice, "jmi-propose", "jmi-retract", "session-initiate", "transport-info",
		"session-info-mute", "session-info-hold", "session-terminate")
	saveStanzas(t, bob, "jmi-proceed", "jmi-ringing", "jmi-reject", "session-accept",
		"session-info-ringing")
}
