package interop

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// node is a generic XML element.
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []node     `xml:",any"`
}

func (n node) child(name string) (node, bool) {
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			return c, true
		}
	}
	return node{}, false
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

var (
	uuidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	qbJIDRE    = regexp.MustCompile(`^[0-9]+-[0-9]+@[^/]+$`)
	digitsOnly = regexp.MustCompile(`^[0-9]+$`)
	candAddrRE = regexp.MustCompile(`candidate:\S+ \d+ \S+ \d+ (\S+) \d+`)
)

// parseSignal parses one stanza the SDK wrote and checks the parts of the wire contract
// (../shared/design/signaling.md) that every signal must have. It returns the signalType.
func parseSignal(t testing.TB, raw, platform string) (string, node) {
	t.Helper()
	var msg node
	if err := xml.Unmarshal([]byte(raw), &msg); err != nil {
		t.Errorf("stanza does not parse: %v\n%s", err, raw)
		return "", msg
	}
	problems := []string{}
	if msg.XMLName.Local != "message" || msg.attr("type") != "headline" {
		problems = append(problems, "not a <message type=headline>")
	}
	if !qbJIDRE.MatchString(msg.attr("to")) {
		problems = append(problems, fmt.Sprintf("to=%q is not a bare {id}-{appID}@host JID", msg.attr("to")))
	}
	if msg.attr("id") == "" {
		problems = append(problems, "no id")
	}
	ep, ok := msg.child("extraParams")
	if !ok {
		t.Errorf("no extraParams: %s", raw)
		return "", msg
	}
	if ep.XMLName.Space != "jabber:client" {
		problems = append(problems, fmt.Sprintf("extraParams namespace %q", ep.XMLName.Space))
	}
	text := func(name string) string {
		c, _ := ep.child(name)
		return strings.TrimSpace(c.Text)
	}
	if text("moduleIdentifier") != "WebRTCVideoChat" {
		problems = append(problems, "moduleIdentifier")
	}
	sig := text("signalType")
	switch sig {
	case "call", "accept", "reject", "hangUp", "iceCandidates", "update":
	default:
		problems = append(problems, fmt.Sprintf("signalType %q", sig))
	}
	if !uuidRE.MatchString(text("sessionID")) {
		problems = append(problems, fmt.Sprintf("sessionID %q is not a UUID v4", text("sessionID")))
	}
	if ct := text("callType"); ct != "1" && ct != "2" {
		problems = append(problems, fmt.Sprintf("callType %q", ct))
	}
	if !digitsOnly.MatchString(text("callerID")) {
		problems = append(problems, fmt.Sprintf("callerID %q", text("callerID")))
	}
	if p := text("platform"); p == "" || platform != "" && p != platform {
		problems = append(problems, fmt.Sprintf("platform %q", text("platform")))
	}
	opp, ok := ep.child("opponentsIDs")
	if !ok || len(opp.Children) == 0 {
		problems = append(problems, "no opponentsIDs")
	}
	for _, o := range opp.Children {
		if o.XMLName.Local != "opponentID" || !digitsOnly.MatchString(o.Text) {
			problems = append(problems, fmt.Sprintf("opponentsIDs child <%s>%s", o.XMLName.Local, o.Text))
		}
	}
	switch sig {
	case "call", "accept":
		if !strings.HasPrefix(text("sdp"), "v=0") {
			problems = append(problems, "no sdp")
		}
	case "iceCandidates":
		ic, _ := ep.child("iceCandidates")
		if len(ic.Children) == 0 {
			problems = append(problems, "no iceCandidate")
		}
		for _, c := range ic.Children {
			cand, _ := c.child("candidate")
			_, mid := c.child("sdpMid")
			_, idx := c.child("sdpMLineIndex")
			if c.XMLName.Local != "iceCandidate" || !strings.HasPrefix(cand.Text, "candidate:") || !mid || !idx {
				problems = append(problems, fmt.Sprintf("bad iceCandidate %+v", c))
			}
		}
	}
	if len(problems) > 0 {
		t.Errorf("SDK stanza differs from the wire contract: %s\n%s", strings.Join(problems, "; "), raw)
	}
	return sig, msg
}

// checkStanzasFrom checks every call signal in the page events: those the SDK sent
// (platform web) and those it received (from another page or from ttycall). It returns
// the first sent stanza of each signalType.
func checkStanzasFrom(t testing.TB, events []Event) map[string]string {
	t.Helper()
	first := map[string]string{}
	for _, e := range events {
		platform := "web"
		switch e.Str("event") {
		case "xml_out":
		case "xml_in":
			platform = ""
		default:
			continue
		}
		raw := e.Str("xml")
		sig, _ := parseSignal(t, raw, platform)
		for _, m := range candAddrRE.FindAllStringSubmatch(raw, -1) {
			if !strings.HasPrefix(m[1], "127.") && m[1] != "::1" {
				t.Errorf("a page sent a non-loopback candidate: %s", m[0])
			}
		}
		if _, ok := first[sig]; !ok && sig != "" && platform == "web" {
			first[sig] = raw
		}
	}
	return first
}

// checkStanzas checks every call signal of the pages, that each kind was sent, and with
// -update writes the first of each signalType to testdata/web-<signalType>.xml as a
// golden for the codec.
func checkStanzas(t testing.TB, events []Event) {
	t.Helper()
	first := checkStanzasFrom(t, events)
	for _, want := range []string{"call", "accept", "iceCandidates", "hangUp", "reject", "update"} {
		if _, ok := first[want]; !ok {
			t.Errorf("the pages sent no %q signal", want)
		}
	}
	if !*update {
		return
	}
	for sig, raw := range first {
		p := filepath.Join("testdata", "web-"+sig+".xml")
		if err := os.WriteFile(p, []byte(raw+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", p)
	}
}

// TestGoldenStanzas checks the committed goldens still satisfy the contract checks.
func TestGoldenStanzas(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "web-*.xml"))
	if len(files) == 0 {
		t.Skip("no goldens yet: go test ./interop -run TestWebToWeb -update")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := parseSignal(t, strings.TrimSpace(string(raw)), "web")
		if want := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "web-"), ".xml"); !strings.HasPrefix(want, sig) || sig == "" {
			t.Errorf("%s holds a %q signal", f, sig)
		}
	}
}

// reconnectUpdate is the sessionDescription of an update with reason reconnect in a
// stanza, or ok false.
func reconnectUpdate(raw string) (typ, offerID string, ok bool) {
	var msg node
	if xml.Unmarshal([]byte(raw), &msg) != nil {
		return "", "", false
	}
	ep, _ := msg.child("extraParams")
	st, _ := ep.child("signalType")
	r, _ := ep.child("reason")
	sd, hasSD := ep.child("sessionDescription")
	if strings.TrimSpace(st.Text) != "update" || strings.TrimSpace(r.Text) != "reconnect" || !hasSD {
		return "", "", false
	}
	t, _ := sd.child("type")
	o, _ := sd.child("offerId")
	return strings.TrimSpace(t.Text), strings.TrimSpace(o.Text), true
}

// sdpFingerprint is the first a=fingerprint value in a stanza's SDP.
func sdpFingerprint(raw string) string {
	m := fingerprintRE.FindStringSubmatch(raw)
	if m == nil {
		return ""
	}
	return m[1]
}

var fingerprintRE = regexp.MustCompile(`a=fingerprint:(\S+ [0-9A-Fa-f:]+)`)

// TestReconnectGoldens: the ICE-restart pair recorded against the SDK (ttycall offers,
// the SDK answers) pass the contract checks and belong together by offerId.
func TestReconnectGoldens(t *testing.T) {
	offer, err1 := os.ReadFile(filepath.Join("testdata", "ttycall-update-reconnect-offer.xml"))
	answer, err2 := os.ReadFile(filepath.Join("testdata", "web-update-reconnect-answer.xml"))
	if err1 != nil || err2 != nil {
		t.Fatalf("reconnect goldens: %v, %v", err1, err2)
	}
	parseSignal(t, strings.TrimSpace(string(offer)), "ttycall")
	parseSignal(t, strings.TrimSpace(string(answer)), "web")
	ot, oid, ok1 := reconnectUpdate(strings.TrimSpace(string(offer)))
	at, aid, ok2 := reconnectUpdate(strings.TrimSpace(string(answer)))
	if !ok1 || !ok2 || ot != "offer" || at != "answer" || oid == "" || oid != aid {
		t.Errorf("reconnect goldens: offer (%v %q %q), answer (%v %q %q): want an update/reconnect offer and its answer with the same offerId", ok1, ot, oid, ok2, at, aid)
	}
}
