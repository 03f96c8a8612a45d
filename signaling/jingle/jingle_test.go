package jingle

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goldens returns the StanzaJS stanzas recorded by interop's TestJingleStanzaToStanza
// (-update) that hold a <jingle/>.
func goldens(t testing.TB) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "stanzajs-*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no goldens in testdata (go test ./interop -run TestJingleStanzaToStanza -update): %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), NS+`"`) {
			out[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "stanzajs-"), ".xml")] = strings.TrimSpace(string(b))
		}
	}
	return out
}

// writerOf is the role of the party that wrote a golden: StanzaJS's initiator (page A)
// or responder (page B).
func writerOf(kind string) Role {
	if kind == "session-accept" || kind == "session-info-ringing" {
		return Responder
	}
	return Initiator
}

func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := xml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// normal makes two parses comparable: the default senders spelled out.
func normal(cs []Content) []Content {
	out := append([]Content(nil), cs...)
	for i := range out {
		if out[i].Senders == "" {
			out[i].Senders = "both"
		}
	}
	return out
}

// TestGoldensParse: every StanzaJS stanza parses (prefixes and all), and what we write
// from it parses back to the same value.
func TestGoldensParse(t *testing.T) {
	want := map[string]Action{
		"session-initiate": SessionInitiate, "session-accept": SessionAccept,
		"transport-info": TransportInfo, "session-terminate": SessionTerminate,
		"session-info-ringing": SessionInfo, "session-info-mute": SessionInfo, "session-info-hold": SessionInfo,
	}
	g := goldens(t)
	for kind, action := range want {
		raw, ok := g[kind]
		if !ok {
			t.Errorf("no golden %s", kind)
			continue
		}
		j, err := ParseString(raw)
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		if j.Action != action {
			t.Errorf("%s: action %q", kind, j.Action)
		}
		again, err := ParseString(mustMarshal(t, j))
		if err != nil {
			t.Errorf("%s: our own XML: %v\n%s", kind, err, mustMarshal(t, j))
			continue
		}
		if !reflect.DeepEqual(j, again) {
			t.Errorf("%s: XML round trip differs:\n%+v\n%+v", kind, j, again)
		}
	}
	init, _ := ParseString(g["session-initiate"])
	if n := len(init.Contents); n != 2 || init.Contents[0].Name != "0" || init.Contents[1].Name != "1" {
		t.Fatalf("session-initiate contents %+v", init.Contents)
	}
	d := init.Contents[1].Description
	if d.Media != "video" || len(d.PayloadTypes) < 5 || len(d.PayloadTypes[0].RTCPFB) == 0 || len(d.HdrExts) == 0 || len(d.SourceGroups) == 0 {
		t.Errorf("video description lost its rtcp-fb, hdrext or ssrc-group (prefixed elements): %+v", d)
	}
	if fp := init.Contents[0].Transport.Fingerprints; len(fp) != 1 || fp[0].Setup != "actpass" || fp[0].Hash != "sha-256" {
		t.Errorf("fingerprints %+v", fp)
	}
	if len(init.Groups) != 1 || init.Groups[0].Semantics != "BUNDLE" || len(init.Groups[0].Contents) != 2 {
		t.Errorf("groups %+v", init.Groups)
	}
	ti, _ := ParseString(g["transport-info"])
	if len(ti.Contents) != 1 || len(ti.Contents[0].Transport.Candidates) != 1 || ti.Contents[0].Transport.Candidates[0].IP == "" {
		t.Errorf("transport-info %+v", ti.Contents)
	}
	term, _ := ParseString(g["session-terminate"])
	if term.Reason == nil || term.Reason.Condition != ReasonSuccess {
		t.Errorf("terminate reason %+v", term.Reason)
	}
	for kind, info := range map[string]string{"session-info-ringing": InfoRinging, "session-info-mute": InfoMute, "session-info-hold": InfoHold} {
		j, _ := ParseString(g[kind])
		if j.Info.Kind() != info {
			t.Errorf("%s: info %+v", kind, j.Info)
		}
	}
}

// TestGoldensSDPRoundTrip is the property the issue asks for: a real peer's descriptions
// survive Jingle -> SDP -> Jingle unchanged.
func TestGoldensSDPRoundTrip(t *testing.T) {
	for kind, raw := range goldens(t) {
		j, err := ParseString(raw)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if j.Action != SessionInitiate && j.Action != SessionAccept {
			continue
		}
		w := writerOf(kind)
		s, err := ToSDP(j.Contents, j.Groups, w)
		if err != nil {
			t.Fatalf("%s: ToSDP: %v", kind, err)
		}
		cs, gs, err := FromSDP(s, w)
		if err != nil {
			t.Fatalf("%s: FromSDP: %v\n%s", kind, err, s)
		}
		if !reflect.DeepEqual(normal(j.Contents), normal(cs)) {
			for i := range cs {
				if !reflect.DeepEqual(normal(j.Contents)[i], normal(cs)[i]) {
					t.Errorf("%s: content %d differs after SDP:\n%+v\n%+v", kind, i, *j.Contents[i].Description, *cs[i].Description)
				}
			}
		}
		if !reflect.DeepEqual(j.Groups, gs) {
			t.Errorf("%s: groups %+v -> %+v", kind, j.Groups, gs)
		}
		s2, err := ToSDP(cs, gs, w)
		if err != nil || s2 != s {
			t.Errorf("%s: SDP is not a fixed point (%v)", kind, err)
		}
	}
}

func candidatesXML(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `<candidate component="1" foundation="%d" generation="0" ip="127.0.0.1" port="%d" priority="1" protocol="udp" type="host"/>`, i, 1000+i%60000)
	}
	return b.String()
}

// TestHostileParse: what an attacker can put in a Jingle IQ is refused on parse with
// the error that maps to bad-request.
func TestHostileParse(t *testing.T) {
	transport := func(inner string) string {
		return `<jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="s"><content creator="initiator" name="0"><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="u" pwd="p">` + inner + `</transport></content></jingle>`
	}
	var manyPT strings.Builder
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&manyPT, `<payload-type id="%d" name="x" clockrate="90000"/>`, i)
	}
	deep := strings.Repeat("<a>", 50) + strings.Repeat("</a>", 50)
	cases := []struct {
		name, xml string
		want      error
	}{
		{"unknown action", `<jingle xmlns="urn:xmpp:jingle:1" action="session-explode" sid="s"/>`, ErrBadRequest},
		{"no action", `<jingle xmlns="urn:xmpp:jingle:1" sid="s"/>`, ErrBadRequest},
		{"no sid", `<jingle xmlns="urn:xmpp:jingle:1" action="session-terminate"/>`, ErrBadRequest},
		{"thousands of candidates", transport(candidatesXML(5000)), ErrTooBig},
		{"too many candidates", transport(candidatesXML(MaxCandidates + 1)), ErrTooBig},
		{"huge description", `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content creator="initiator" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video">` + manyPT.String() + `</description></content></jingle>`, ErrTooBig},
		{"deep nesting", `<jingle xmlns="urn:xmpp:jingle:1" action="session-info" sid="s">` + deep + `</jingle>`, ErrTooBig},
		{"long sid", `<jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="` + strings.Repeat("x", MaxText+1) + `"/>`, ErrTooBig},
		{"huge text", `<jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="s"><reason><success/><text>` + strings.Repeat("x", 100000) + `</text></reason></jingle>`, ErrTooBig},
		{"two contents one name", `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content creator="initiator" name="0"/><content creator="initiator" name="0"/></jingle>`, ErrBadRequest},
		{"bad creator", `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content creator="me" name="0"/></jingle>`, ErrBadRequest},
		{"bad media", `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content creator="initiator" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="text"/></content></jingle>`, ErrBadRequest},
		{"payload id out of range", `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content creator="initiator" name="0"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><payload-type id="300" name="x"/></description></content></jingle>`, ErrBadRequest},
		{"line end in ufrag", transport(``)[:0] + `<jingle xmlns="urn:xmpp:jingle:1" action="transport-info" sid="s"><content creator="initiator" name="0"><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="u&#xA;a=x" pwd="p"/></content></jingle>`, ErrBadRequest},
		{"candidate without ip", transport(`<candidate component="1" foundation="1" generation="0" port="1" priority="1" protocol="udp" type="host"/>`), ErrBadRequest},
		{"malformed", `<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content`, ErrBadRequest},
	}
	for _, c := range cases {
		_, err := ParseString(c.xml)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

// TestSenders: the direction <-> senders mapping from both sides (XEP-0167 §5).
func TestSenders(t *testing.T) {
	for _, c := range []struct {
		writer    Role
		direction string
		senders   string
	}{
		{Initiator, "sendrecv", "both"}, {Initiator, "sendonly", "initiator"}, {Initiator, "recvonly", "responder"},
		{Responder, "sendonly", "responder"}, {Responder, "recvonly", "initiator"}, {Responder, "inactive", "none"},
	} {
		if got := sendersOf(c.writer, c.direction); got != c.senders {
			t.Errorf("sendersOf(%s, %s) = %s, want %s", c.writer, c.direction, got, c.senders)
		}
		if got := directionOf(c.writer, c.senders); got != c.direction {
			t.Errorf("directionOf(%s, %s) = %s, want %s", c.writer, c.senders, got, c.direction)
		}
	}
}

func TestCandidateSDP(t *testing.T) {
	for _, line := range []string{
		"candidate:1115629103 1 udp 2122260223 127.0.0.1 35944 typ host generation 0",
		"candidate:842163049 1 udp 1677729535 203.0.113.7 40000 typ srflx raddr 10.0.0.2 rport 40000 generation 0",
		"candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0",
	} {
		c, err := ParseCandidate(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if got := c.SDP(); got != line {
			t.Errorf("round trip:\n%s\n%s", line, got)
		}
	}
	for _, bad := range []string{"", "candidate:1 1 udp", "candidate:1 x udp 1 1.2.3.4 5 typ host", "candidate:1 1 udp 1 1.2.3.4 5 type host"} {
		if _, err := ParseCandidate(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
