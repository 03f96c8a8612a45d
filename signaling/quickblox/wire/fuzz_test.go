package wire

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"mellium.im/xmpp/jid"
)

// FuzzDecode feeds arbitrary bytes to Unmarshal under both ID schemes. Decode must never
// panic, and whatever it accepts must survive Marshal and Unmarshal unchanged (with the
// default platform filled in), so ttycall can always re-send what it understood.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sdk", "*.xml"))
	for _, name := range files {
		stanza, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		// Seed with the <extraParams> element alone.
		if i, j := bytes.Index(stanza, []byte("<extraParams")), bytes.LastIndex(stanza, []byte("</message>")); i >= 0 && j > i {
			f.Add(stanza[i:j])
		}
	}
	f.Add([]byte(payload(okFields + `<signalType>update</signalType><muted>1</muted><reason>x</reason>`)))
	f.Add([]byte(payload(okFields + `<signalType>reject</signalType><userInfo><a><b>c</b><d/></a></userInfo>`)))
	f.Add([]byte(`<extraParams xmlns="jabber:client"><moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><sessionID>s</sessionID><callType>2</callType><callerID>bob@example.org</callerID><opponentsIDs><opponentID>alice@example.org</opponentID></opponentsIDs></extraParams>`))
	qb, err := NewScheme("quickblox", jid.MustParse("1-77@localhost"))
	if err != nil {
		f.Fatal(err)
	}
	js, err := NewScheme("jid", jid.MustParse("alice@example.org"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sch := range []Scheme{qb, js} {
			s, err := Unmarshal(data, sch)
			if err != nil {
				if s != nil {
					t.Fatalf("signal returned with error %v", err)
				}
				continue
			}
			out, err := Marshal(s, sch)
			if err != nil {
				t.Fatalf("%s: decoded signal does not encode: %v\nsignal %#v", sch.Name(), err, s)
			}
			again, err := Unmarshal(out, sch)
			if err != nil {
				t.Fatalf("%s: re-encoded signal does not decode: %v\n%s", sch.Name(), err, out)
			}
			if s.Platform == "" {
				s.Platform = Platform
			}
			if !reflect.DeepEqual(s, again) {
				t.Fatalf("%s: round trip changed the signal\n got %#v\nwant %#v\n%s", sch.Name(), again, s, out)
			}
			// Encode must also produce tokens a fresh xml.Encoder accepts token by token.
			var buf bytes.Buffer
			enc := xml.NewEncoder(&buf)
			r := Encode(s, sch)
			for {
				tok, err := r.Token()
				if err != nil {
					break
				}
				if err := enc.EncodeToken(tok); err != nil {
					t.Fatalf("%s: token %#v: %v", sch.Name(), tok, err)
				}
			}
		}
	})
}
