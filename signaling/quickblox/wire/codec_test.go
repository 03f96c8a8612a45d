package wire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"mellium.im/xmpp/jid"
)

const (
	sessionID = "7f0c5b0e-3d7a-4b6e-9a51-2c8e4f1d9a10"
	offerID   = "5d0e7c4a-1b2f-4e3d-8c9a-0f1e2d3c4b5a"
)

func qbScheme(t testing.TB) Scheme {
	t.Helper()
	sch, err := NewScheme("auto", jid.MustParse("1002-77@localhost/ttycall"))
	if err != nil {
		t.Fatal(err)
	}
	if sch.Name() != SchemeQuickBlox {
		t.Fatalf("auto scheme for 1002-77@localhost = %s, want quickblox", sch.Name())
	}
	return sch
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "sdk", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// goldenExtraParams returns the decoder positioned at the <extraParams> of a stanza
// written by the QuickBlox web SDK (testdata/sdk/*.xml, made by testdata/sdk/gen.js).
func goldenDecoder(t testing.TB, name string) *xml.Decoder {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(readFile(t, name)))
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "message" {
		t.Fatalf("%s: first token %v, want <message>", name, tok)
	}
	return d
}

// goldenSignals are the Signals the SDK stanzas carry, as ttycall must read them.
func goldenSignals(t testing.TB) map[string]*Signal {
	offer, answer := readFile(t, "offer.sdp"), readFile(t, "answer.sdp")
	base := func(typ Type) *Signal {
		return &Signal{Type: typ, SessionID: sessionID, CallType: CallTypeVideo, CallerID: "1001",
			OpponentIDs: []UserID{"1002", "1003"}, Platform: "web"}
	}
	with := func(s *Signal, f func(*Signal)) *Signal { f(s); return s }
	return map[string]*Signal{
		"call.xml": with(base(TypeCall), func(s *Signal) {
			s.SDP = offer
			s.UserInfo = Extension{"name": "Alice", "note": `a<b & "c"`, "bandwidth": "0",
				"avatar": Extension{"url": "https://x/a.png", "size": "64"}}
		}),
		"call_noext.xml": with(base(TypeCall), func(s *Signal) {
			s.SDP = offer
			s.UserInfo = Extension{"bandwidth": "0"}
		}),
		"accept.xml": with(base(TypeAccept), func(s *Signal) {
			s.SDP = answer
			s.UserInfo = Extension{"mood": "happy"}
		}),
		"accept_noext.xml": with(base(TypeAccept), func(s *Signal) { s.SDP = answer }),
		"reject.xml":       base(TypeReject),
		"reject_ext.xml":   with(base(TypeReject), func(s *Signal) { s.UserInfo = Extension{"reason": "busy"} }),
		"hangup.xml":       base(TypeHangUp),
		"candidates.xml": with(base(TypeICECandidates), func(s *Signal) {
			s.Candidates = []ICECandidate{
				{Candidate: "candidate:842163049 1 udp 1677729535 192.0.2.7 49203 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sK3z network-cost 999", SDPMid: "0", SDPMLineIndex: 0},
				{Candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0", SDPMid: "1", SDPMLineIndex: 1},
			}
		}),
		"update_offer.xml": with(base(TypeUpdate), func(s *Signal) {
			s.Reason = ReasonReconnect
			s.SessionDescription = &SessionDescription{OfferID: offerID, SDP: offer, Type: "offer"}
		}),
		"update_answer.xml": with(base(TypeUpdate), func(s *Signal) {
			s.Reason = ReasonReconnect
			s.SessionDescription = &SessionDescription{OfferID: offerID, SDP: answer, Type: "answer"}
		}),
	}
}

// TestGoldenDecode reads stanzas written by the QuickBlox web SDK 2.23.0 itself.
func TestGoldenDecode(t *testing.T) {
	sch := qbScheme(t)
	for name, want := range goldenSignals(t) {
		t.Run(name, func(t *testing.T) {
			got, err := Decode(goldenDecoder(t, name), sch)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded\n%#v\nwant\n%#v", got, want)
			}
		})
	}
}

// TestGoldenDecodeLeavesReaderAfterElement checks Decode consumes exactly extraParams.
func TestGoldenDecodeLeavesReaderAfterElement(t *testing.T) {
	d := goldenDecoder(t, "hangup.xml")
	if _, err := Decode(d, qbScheme(t)); err != nil {
		t.Fatal(err)
	}
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	if end, ok := tok.(xml.EndElement); !ok || end.Name.Local != "message" {
		t.Fatalf("token after Decode = %#v, want </message>", tok)
	}
}

// TestGoldenEncode checks that ttycall writes what the SDK writes: same elements in the
// same order with the same text, apart from userInfo's key order (JS insertion order
// versus sorted; the SDK reads userInfo by name) and the SDP's CRs (the SDK writes raw
// CRs, which XML parsing turns into LF; ttycall writes &#xD; which survives).
func TestGoldenEncode(t *testing.T) {
	sch := qbScheme(t)
	for name, s := range goldenSignals(t) {
		t.Run(name, func(t *testing.T) {
			out, err := Marshal(s, sch)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := readTree(xml.NewDecoder(bytes.NewReader(out)))
			if err != nil {
				t.Fatal(err)
			}
			sdk, err := readTree(goldenDecoder(t, name))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := canonical(ours), canonical(sdk); g != w {
				t.Errorf("ttycall writes\n%s\nthe SDK writes\n%s", g, w)
			}
		})
	}
}

// canonical renders a payload tree for comparison: text with LF line ends, userInfo
// first and its keys sorted.
func canonical(n *node) string {
	var b strings.Builder
	var walk func(n *node, sortKids bool)
	walk = func(n *node, sortKids bool) {
		b.WriteString("<" + n.name + ">")
		kids := append([]*node(nil), n.kids...)
		if sortKids {
			sort.SliceStable(kids, func(i, j int) bool { return kids[i].name < kids[j].name })
		} else {
			sort.SliceStable(kids, func(i, j int) bool { return kids[i].name == elUserInfo && kids[j].name != elUserInfo })
		}
		if len(kids) == 0 {
			b.WriteString(strings.ReplaceAll(string(n.text), "\r\n", "\n"))
		}
		for _, k := range kids {
			walk(k, sortKids || k.name == elUserInfo)
		}
		b.WriteString("</" + n.name + ">\n")
	}
	walk(n, false)
	return b.String()
}

func TestEncodeExactBytes(t *testing.T) {
	s := &Signal{Type: TypeHangUp, SessionID: "s1", CallType: CallTypeAudio, CallerID: "1001",
		OpponentIDs: []UserID{"1002"}, UserInfo: Extension{"b": "2", "a": Extension{"y": "1", "x": "0"}}}
	out, err := Marshal(s, qbScheme(t))
	if err != nil {
		t.Fatal(err)
	}
	want := `<extraParams xmlns="jabber:client"><userInfo><a><x>0</x><y>1</y></a><b>2</b></userInfo>` +
		`<sessionID>s1</sessionID><callType>2</callType><callerID>1001</callerID>` +
		`<opponentsIDs><opponentID>1002</opponentID></opponentsIDs>` +
		`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType>` +
		`<platform>ttycall</platform></extraParams>`
	if string(out) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", out, want)
	}
}

// TestUpdateExtension: ttycall writes an update's extension inside <userInfo> (what the
// SDK's onUpdateCallListener reads), and reads both that and the SDK's raw update(ext)
// form with the keys at the top level.
func TestUpdateExtension(t *testing.T) {
	s := &Signal{Type: TypeUpdate, SessionID: "s1", CallType: CallTypeVideo, CallerID: "1001",
		OpponentIDs: []UserID{"1002"}, UserInfo: Extension{"muted": "true"}}
	out, err := Marshal(s, qbScheme(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out, []byte(`<extraParams xmlns="jabber:client"><userInfo><muted>true</muted></userInfo><sessionID>`)) {
		t.Errorf("update extension not in userInfo: %s", out)
	}
	got, err := Unmarshal(out, qbScheme(t))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.UserInfo, s.UserInfo) {
		t.Errorf("UserInfo = %v, want %v", got.UserInfo, s.UserInfo)
	}

	raw := `<extraParams xmlns="jabber:client"><color>blue</color><userInfo><muted>true</muted><color>red</color></userInfo>` +
		`<sessionID>s1</sessionID><callType>1</callType><callerID>1001</callerID><opponentsIDs><opponentID>1002</opponentID></opponentsIDs>` +
		`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>update</signalType><platform>web</platform></extraParams>`
	got, err = Unmarshal([]byte(raw), qbScheme(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Extension{"muted": "true", "color": "red"}
	if !reflect.DeepEqual(got.UserInfo, want) {
		t.Errorf("raw update UserInfo = %v, want %v (userInfo entries win)", got.UserInfo, want)
	}
}

func TestRoundTrip(t *testing.T) {
	jidSch, err := NewScheme("auto", jid.MustParse("alice@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	if jidSch.Name() != SchemeJID {
		t.Fatalf("auto for alice@example.org = %s", jidSch.Name())
	}
	for name, s := range goldenSignals(t) {
		t.Run("quickblox/"+name, func(t *testing.T) { roundTrip(t, s, qbScheme(t)) })
		js := *s
		js.CallerID = "bob@example.org"
		js.OpponentIDs = []UserID{"alice@example.org", "carol@example.org"}
		t.Run("jid/"+name, func(t *testing.T) { roundTrip(t, &js, jidSch) })
	}
	t.Run("deep userInfo", func(t *testing.T) {
		ext := Extension{"leaf": "v"}
		for i := 0; i < MaxDepth-2; i++ {
			ext = Extension{"k": ext, "s": "x\ty\r\nz & <w>"}
		}
		roundTrip(t, &Signal{Type: TypeReject, SessionID: "s", CallType: CallTypeAudio,
			CallerID: "7", UserInfo: ext, Platform: "web"}, qbScheme(t))
	})
}

func roundTrip(t *testing.T, s *Signal, sch Scheme) {
	t.Helper()
	out, err := Marshal(s, sch)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(out, sch)
	if err != nil {
		t.Fatalf("Unmarshal(Marshal(s)): %v\n%s", err, out)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip changed the signal:\n got %#v\nwant %#v", got, s)
	}
}

func TestDecodeAcceptsLFAndCRLF(t *testing.T) {
	for _, sdp := range []string{"v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\n", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n", "v=0\ro=- 1 2 IN IP4 127.0.0.1\rs=-"} {
		s := &Signal{Type: TypeCall, SessionID: "s", CallType: CallTypeVideo, CallerID: "1", SDP: sdp}
		out, err := Marshal(s, qbScheme(t))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unmarshal(out, qbScheme(t))
		if err != nil {
			t.Fatal(err)
		}
		if want := "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"; got.SDP != want {
			t.Errorf("SDP %q decoded as %q, want %q", sdp, got.SDP, want)
		}
	}
}

// payload builds an extraParams element from inner XML.
func payload(inner string) string {
	return `<extraParams xmlns="jabber:client">` + inner + `</extraParams>`
}

const okFields = `<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><sessionID>s</sessionID><callType>1</callType><callerID>1001</callerID>`

func TestDecodeErrors(t *testing.T) {
	deep := strings.Repeat("<a>", MaxDepth) + "x" + strings.Repeat("</a>", MaxDepth)
	many := func(n int, el string) string { return strings.Repeat(el, n) }
	cand := `<iceCandidate><candidate>candidate:1 1 udp 1 127.0.0.1 1 typ host</candidate><sdpMid>0</sdpMid><sdpMLineIndex>0</sdpMLineIndex></iceCandidate>`
	tests := []struct {
		name, xml string
		want      error
	}{
		{"other module", payload(`<moduleIdentifier>Chat</moduleIdentifier><signalType>call</signalType>`), ErrNotSignal},
		{"no module", payload(`<signalType>call</signalType>`), ErrNotSignal},
		{"other element", `<body>hi</body>`, ErrNotSignal},
		{"other namespace", `<extraParams xmlns="urn:x"/>`, ErrNotSignal},
		{"no sessionID", payload(`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><callType>1</callType><callerID>1</callerID>`), ErrMissingSessionID},
		{"empty sessionID", payload(`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><sessionID> </sessionID>`), ErrMissingSessionID},
		{"unknown type", payload(okFields + `<signalType>ring</signalType>`), ErrUnknownType},
		{"no type", payload(okFields), ErrUnknownType},
		{"bad callType", payload(`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><sessionID>s</sessionID><callType>3</callType><callerID>1</callerID>`), ErrBadCallType},
		{"no callType", payload(`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><sessionID>s</sessionID><callerID>1</callerID>`), ErrBadCallType},
		{"non-numeric caller", payload(`<moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><sessionID>s</sessionID><callType>1</callType><callerID>bob@example.org</callerID>`), ErrBadUserID},
		{"non-numeric opponent", payload(okFields + `<signalType>hangUp</signalType><opponentsIDs><opponentID>12a</opponentID></opponentsIDs>`), ErrBadUserID},
		{"negative opponent", payload(okFields + `<signalType>hangUp</signalType><opponentsIDs><opponentID>-5</opponentID></opponentsIDs>`), ErrBadUserID},
		{"call without sdp", payload(okFields + `<signalType>call</signalType>`), ErrMissingSDP},
		{"too large", payload(okFields + `<signalType>hangUp</signalType><x>` + strings.Repeat("a", MaxPayload) + `</x>`), ErrTooLarge},
		{"too deep", payload(okFields + `<signalType>hangUp</signalType><userInfo>` + deep + `</userInfo>`), ErrTooDeep},
		{"too many candidates", payload(okFields + `<signalType>iceCandidates</signalType><iceCandidates>` + many(MaxCandidates+1, cand) + `</iceCandidates>`), ErrTooMany},
		{"too many opponents", payload(okFields + `<signalType>hangUp</signalType><opponentsIDs>` + many(MaxOpponents+1, `<opponentID>5</opponentID>`) + `</opponentsIDs>`), ErrTooMany},
		{"too many elements", payload(okFields + `<signalType>hangUp</signalType>` + many(MaxElements, `<x/>`)), ErrTooMany},
		{"no candidates", payload(okFields + `<signalType>iceCandidates</signalType><iceCandidates/>`), ErrMalformed},
		{"bad mline index", payload(okFields + `<signalType>iceCandidates</signalType><iceCandidates><iceCandidate><candidate>c</candidate><sdpMLineIndex>x</sdpMLineIndex></iceCandidate></iceCandidates>`), ErrMalformed},
		{"bad sd type", payload(okFields + `<signalType>update</signalType><reason>reconnect</reason><sessionDescription><offerId>o</offerId><sdp>v=0</sdp><type>pranswer</type></sessionDescription>`), ErrMalformed},
		{"reconnect without sd", payload(okFields + `<signalType>update</signalType><reason>reconnect</reason>`), ErrMalformed},
		{"sd without sdp", payload(okFields + `<signalType>update</signalType><reason>reconnect</reason><sessionDescription><offerId>o</offerId><type>offer</type></sessionDescription>`), ErrMissingSDP},
		{"truncated", `<extraParams xmlns="jabber:client"><moduleIdentifier>WebRTCVideoChat`, ErrMalformed},
		{"empty", ``, ErrMalformed},
	}
	sch := qbScheme(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Unmarshal([]byte(tc.xml), sch)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v (signal %#v)", err, tc.want, s)
			}
			if s != nil {
				t.Errorf("signal %#v returned with error", s)
			}
		})
	}
}

// A payload within MaxPayload whose SDP grows past it when its LF line ends become
// CRLF is refused: Decode accepts only what Encode can write again.
func TestDecodeRefusesWhatCannotBeReencoded(t *testing.T) {
	head := payload(okFields + `<signalType>call</signalType><platform>web</platform><sdp>`)
	lines := (MaxPayload - len(head) - 100) / len("a=x\n")
	raw := strings.Replace(head, "</extraParams>", "", 1) + "v=0\n" + strings.Repeat("a=x\n", lines) + "</sdp></extraParams>"
	if len(raw) > MaxPayload {
		t.Fatalf("test payload of %d bytes is over the limit", len(raw))
	}
	_, err := Unmarshal([]byte(raw), qbScheme(t))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

// TestDecodeLimitStopsReading checks that an oversized stream is not read to its end.
func TestDecodeLimitStopsReading(t *testing.T) {
	reads := 0
	big := xml.CharData(strings.Repeat("a", 1024))
	r := tokenFunc(func() (xml.Token, error) {
		reads++
		if reads == 1 {
			return xml.StartElement{Name: xml.Name{Space: NS, Local: elExtraParams}}, nil
		}
		return big, nil // never ends
	})
	_, err := Decode(r, qbScheme(t))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if max := MaxPayload/len(big) + 2; reads > max {
		t.Errorf("read %d tokens, want at most %d", reads, max)
	}
}

type tokenFunc func() (xml.Token, error)

func (f tokenFunc) Token() (xml.Token, error) { return f() }

func TestEncodeErrors(t *testing.T) {
	ok := func() *Signal {
		return &Signal{Type: TypeHangUp, SessionID: "s", CallType: CallTypeVideo, CallerID: "1", OpponentIDs: []UserID{"2"}}
	}
	deep := Extension{"v": "x"}
	for i := 0; i < MaxDepth; i++ {
		deep = Extension{"k": deep}
	}
	loop := Extension{}
	loop["self"] = loop
	tests := []struct {
		name string
		mod  func(*Signal)
		want error
	}{
		{"unknown type", func(s *Signal) { s.Type = "ring" }, ErrUnknownType},
		{"no session", func(s *Signal) { s.SessionID = "" }, ErrMissingSessionID},
		{"bad call type", func(s *Signal) { s.CallType = 0 }, ErrBadCallType},
		{"bad caller", func(s *Signal) { s.CallerID = "alice@example.org" }, ErrBadUserID},
		{"bad opponent", func(s *Signal) { s.OpponentIDs = []UserID{"x"} }, ErrBadUserID},
		{"call without sdp", func(s *Signal) { s.Type = TypeCall }, ErrMissingSDP},
		{"bad key", func(s *Signal) { s.UserInfo = Extension{"a b": "x"} }, ErrMalformed},
		{"prefixed key", func(s *Signal) { s.UserInfo = Extension{"a:b": "x"} }, ErrMalformed},
		{"too deep", func(s *Signal) { s.UserInfo = deep }, ErrTooDeep},
		{"cycle", func(s *Signal) { s.UserInfo = loop }, ErrTooDeep},
		{"too many opponents", func(s *Signal) { s.OpponentIDs = make([]UserID, MaxOpponents+1) }, ErrTooMany},
		{"too many candidates", func(s *Signal) {
			s.Type = TypeICECandidates
			s.Candidates = make([]ICECandidate, MaxCandidates+1)
			for i := range s.Candidates {
				s.Candidates[i].Candidate = "candidate:1 1 udp 1 127.0.0.1 1 typ host"
			}
		}, ErrTooMany},
		{"no candidates", func(s *Signal) { s.Type = TypeICECandidates }, ErrMalformed},
		{"empty candidate", func(s *Signal) { s.Type = TypeICECandidates; s.Candidates = []ICECandidate{{}} }, ErrMalformed},
		{"too large", func(s *Signal) { s.Type = TypeCall; s.SDP = "v=0\r\n" + strings.Repeat("a=x\r\n", MaxPayload/5) }, ErrTooLarge},
		{"too many elements", func(s *Signal) {
			s.UserInfo = Extension{}
			for i := range MaxElements {
				s.UserInfo[fmt.Sprintf("k%d", i)] = "v"
			}
		}, ErrTooMany},
		{"sd outside update", func(s *Signal) { s.SessionDescription = &SessionDescription{Type: "offer", SDP: "v=0"} }, ErrMalformed},
	}
	sch := qbScheme(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			tc.mod(s)
			if _, err := Marshal(s, sch); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, err := Encode(s, sch).Token(); !errors.Is(err, tc.want) {
				t.Fatalf("Encode first token err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Marshal(nil, sch); !errors.Is(err, ErrMalformed) {
		t.Errorf("Marshal(nil) err = %v", err)
	}
}

func TestEncodeNonASCIIKeys(t *testing.T) {
	s := &Signal{Type: TypeReject, SessionID: "s", CallType: CallTypeVideo, CallerID: "1",
		UserInfo: Extension{"имя": "Алиса"}, Platform: "web"}
	roundTrip(t, s, qbScheme(t))
}
