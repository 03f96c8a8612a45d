package jmi

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// parseIn finds the first JMI element in s (a whole <message/>) and parses it.
func parseIn(t testing.TB, s string) (Message, error) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no JMI element in %q: %v", s, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == NS {
			return Parse(d, &se)
		}
	}
}

func write(t testing.TB, m Message) string {
	t.Helper()
	var b bytes.Buffer
	e := xml.NewEncoder(&b)
	if _, err := m.WriteXML(e); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGoldens: StanzaJS's JMI messages (recorded by interop's TestJingleStanzaToStanza)
// parse, and what we write from them parses back the same.
func TestGoldens(t *testing.T) {
	want := map[string]Kind{"propose": Propose, "proceed": Proceed, "reject": Reject, "retract": Retract, "ringing": Ringing}
	for name, kind := range want {
		b, err := os.ReadFile(filepath.Join("..", "jingle", "testdata", "stanzajs-jmi-"+name+".xml"))
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseIn(t, string(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if m.Kind != kind || m.ID == "" {
			t.Errorf("%s: %+v", name, m)
		}
		if kind == Propose && len(m.Media) == 0 {
			t.Errorf("propose without media: %+v", m)
		}
		again, err := parseIn(t, write(t, m))
		if err != nil || !reflect.DeepEqual(m, again) {
			t.Errorf("%s: round trip %+v -> %+v (%v)", name, m, again, err)
		}
	}
}

func TestWriteReason(t *testing.T) {
	m := Message{Kind: Reject, ID: "x1", Reason: "busy"}
	s := write(t, m)
	got, err := parseIn(t, s)
	if err != nil || !reflect.DeepEqual(got, m) {
		t.Fatalf("%s -> %+v %v", s, got, err)
	}
	p := Message{Kind: Propose, ID: "p", Media: []string{"audio", "video"}}
	if got, err := parseIn(t, write(t, p)); err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("propose -> %+v %v", got, err)
	}
}

func TestHostile(t *testing.T) {
	for _, s := range []string{
		`<propose xmlns="urn:xmpp:jingle-message:0"/>`,
		`<propose xmlns="urn:xmpp:jingle-message:0" id="a"/>`,
		`<propose xmlns="urn:xmpp:jingle-message:0" id="a"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="text"/></propose>`,
		`<proceed xmlns="urn:xmpp:jingle-message:0" id="` + strings.Repeat("x", MaxID+1) + `"/>`,
		`<explode xmlns="urn:xmpp:jingle-message:0" id="a"/>`,
		`<propose xmlns="urn:xmpp:jingle-message:0" id="a">` + strings.Repeat(`<description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"/>`, 1000) + `</propose>`,
	} {
		if _, err := parseIn(t, s); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%.80s: %v", s, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`<propose xmlns="urn:xmpp:jingle-message:0" id="a"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"/></propose>`)
	f.Add(`<reject xmlns="urn:xmpp:jingle-message:0" id="a"><reason xmlns="urn:xmpp:jingle:1"><busy/></reason></reject>`)
	f.Fuzz(func(t *testing.T, s string) {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			tok, err := d.Token()
			if err != nil {
				return
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Space == NS {
				m, err := Parse(d, &se)
				if err != nil {
					return
				}
				var b bytes.Buffer
				e := xml.NewEncoder(&b)
				if _, err := m.WriteXML(e); err != nil {
					return // a reason that is not an XML name
				}
				_ = e.Flush()
				d2 := xml.NewDecoder(&b)
				tok, err := d2.Token()
				if err != nil {
					t.Fatalf("our XML: %v", err)
				}
				st := tok.(xml.StartElement)
				m2, err := Parse(d2, &st)
				if err != nil || !reflect.DeepEqual(m, m2) {
					t.Fatalf("round trip %+v -> %+v (%v)", m, m2, err)
				}
				return
			}
		}
	})
}
