package wire

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"mellium.im/xmlstream"

	"github.com/ttycall/ttycall/signaling"
)

// Limits on what Decode accepts (and Encode produces). They bound the work and memory a
// peer can make us spend on one stanza; the SDKs stay far below them.
const (
	// MaxDepth is the deepest element nesting below <extraParams>: <userInfo> is at
	// depth 1, so userInfo maps may nest MaxDepth-1 levels.
	MaxDepth = 8
	// MaxCandidates is the most <iceCandidate>s in one signal. The JS SDK batches the
	// candidates it gathered before the answer: a few dozen at most.
	MaxCandidates = 128
	// MaxOpponents is the most <opponentID>s: the engine's limit on callees.
	MaxOpponents = signaling.MaxOpponents
	// MaxElements is the most elements of any kind in one payload.
	MaxElements = 4096
)

// Platform is what ttycall writes in <platform> when Signal.Platform is empty.
const Platform = "ttycall"

// Element names of the wire format.
const (
	elExtraParams        = "extraParams"
	elModuleIdentifier   = "moduleIdentifier"
	elSignalType         = "signalType"
	elSessionID          = "sessionID"
	elCallType           = "callType"
	elCallerID           = "callerID"
	elOpponentsIDs       = "opponentsIDs"
	elOpponentID         = "opponentID"
	elPlatform           = "platform"
	elSDP                = "sdp"
	elICECandidates      = "iceCandidates"
	elICECandidate       = "iceCandidate"
	elCandidate          = "candidate"
	elSDPMid             = "sdpMid"
	elSDPMLineIndex      = "sdpMLineIndex"
	elUserInfo           = "userInfo"
	elReason             = "reason"
	elSessionDescription = "sessionDescription"
	elOfferID            = "offerId"
	elType               = "type"
)

// reserved are the top-level names with a meaning of their own; in an update signal
// every other top-level element is a UserInfo entry (the SDK's update(extension) puts
// the caller's keys at the top level).
var reserved = map[string]bool{
	elModuleIdentifier: true, elSignalType: true, elSessionID: true, elCallType: true,
	elCallerID: true, elOpponentsIDs: true, elPlatform: true, elSDP: true,
	elICECandidates: true, elUserInfo: true, elReason: true, elSessionDescription: true,
}

// Encode returns the tokens of s's <extraParams xmlns="jabber:client"> element (the
// envelope fields From, To and StanzaID are not part of it; the transport writes them).
//
// s is validated first (the same rules Decode applies, so whatever Encode writes Decode
// reads back); user IDs are checked and canonicalised with sch. An invalid signal
// yields a reader whose first Token call returns the error wrapped around a sentinel.
// Children are written in the JS SDK's order, see doc.go.
func Encode(s *Signal, sch Scheme) xml.TokenReader {
	toks, err := encodeTokens(s, sch)
	if err != nil {
		return xmlstream.ReaderFunc(func() (xml.Token, error) { return nil, err })
	}
	i := 0
	return xmlstream.ReaderFunc(func() (xml.Token, error) {
		if i >= len(toks) {
			return nil, io.EOF
		}
		t := toks[i]
		i++
		return t, nil
	})
}

// Marshal is Encode on bytes: the XML of the <extraParams> element alone.
func Marshal(s *Signal, sch Scheme) ([]byte, error) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	if _, err := xmlstream.Copy(enc, Encode(s, sch)); err != nil {
		return nil, fmt.Errorf("marshal signal: %w", err)
	}
	if err := enc.Flush(); err != nil {
		return nil, fmt.Errorf("marshal signal: %w", err)
	}
	return buf.Bytes(), nil
}

// Unmarshal is Decode on bytes holding one <extraParams> element. Input longer than
// MaxPayload is refused before it is parsed.
func Unmarshal(data []byte, sch Scheme) (*Signal, error) {
	if len(data) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(data), MaxPayload)
	}
	return Decode(xml.NewDecoder(bytes.NewReader(data)), sch)
}

// tokenWriter collects tokens.
type tokenWriter struct{ toks []xml.Token }

func (w *tokenWriter) start(name string) {
	w.toks = append(w.toks, xml.StartElement{Name: xml.Name{Local: name}})
}
func (w *tokenWriter) end(name string) {
	w.toks = append(w.toks, xml.EndElement{Name: xml.Name{Local: name}})
}
func (w *tokenWriter) text(name, value string) {
	w.start(name)
	if value != "" {
		w.toks = append(w.toks, xml.CharData(value))
	}
	w.end(name)
}

func encodeTokens(s *Signal, sch Scheme) ([]xml.Token, error) {
	if s == nil {
		return nil, fmt.Errorf("encode signal: %w: nil signal", ErrMalformed)
	}
	if sch == nil {
		return nil, fmt.Errorf("encode signal: %w: nil scheme", ErrScheme)
	}
	if !knownType(s.Type) {
		return nil, fmt.Errorf("encode signal: %w: %q", ErrUnknownType, clip(string(s.Type)))
	}
	if strings.TrimSpace(s.SessionID) == "" {
		return nil, fmt.Errorf("encode %s signal: %w", s.Type, ErrMissingSessionID)
	}
	if s.CallType != CallTypeVideo && s.CallType != CallTypeAudio {
		return nil, fmt.Errorf("encode %s signal: %w: %d", s.Type, ErrBadCallType, int(s.CallType))
	}
	caller, err := sch.ParseUserID(string(s.CallerID))
	if err != nil {
		return nil, fmt.Errorf("encode %s signal: callerID: %w", s.Type, err)
	}
	if len(s.OpponentIDs) > MaxOpponents {
		return nil, fmt.Errorf("encode %s signal: %w: %d opponents (limit %d)", s.Type, ErrTooMany, len(s.OpponentIDs), MaxOpponents)
	}
	opponents := make([]UserID, len(s.OpponentIDs))
	for i, o := range s.OpponentIDs {
		if opponents[i], err = sch.ParseUserID(string(o)); err != nil {
			return nil, fmt.Errorf("encode %s signal: opponentID %d: %w", s.Type, i, err)
		}
	}
	if (s.Type == TypeCall || s.Type == TypeAccept) && strings.TrimSpace(s.SDP) == "" {
		return nil, fmt.Errorf("encode %s signal: %w", s.Type, ErrMissingSDP)
	}
	if s.Type == TypeICECandidates && len(s.Candidates) == 0 {
		return nil, fmt.Errorf("encode %s signal: %w: no candidates", s.Type, ErrMalformed)
	}
	if len(s.Candidates) > MaxCandidates {
		return nil, fmt.Errorf("encode %s signal: %w: %d candidates (limit %d)", s.Type, ErrTooMany, len(s.Candidates), MaxCandidates)
	}
	for i, c := range s.Candidates {
		if strings.TrimSpace(c.Candidate) == "" {
			return nil, fmt.Errorf("encode %s signal: candidate %d: %w: empty candidate", s.Type, i, ErrMalformed)
		}
	}
	if err := checkSessionDescription(s); err != nil {
		return nil, fmt.Errorf("encode %s signal: %w", s.Type, err)
	}

	w := &tokenWriter{toks: make([]xml.Token, 0, 32+6*len(s.Candidates)+3*len(s.OpponentIDs))}
	root := xml.StartElement{Name: xml.Name{Space: NS, Local: elExtraParams}}
	w.toks = append(w.toks, root)

	// The SDK's order: the caller's extension first, then the session fields, the
	// payload, and the three fields sendMessage adds last. An update's extension goes
	// inside <userInfo> too: the SDK's update(ext) writes ext's keys at the top level,
	// but its onUpdateCallListener reads only userInfo, so the form SDK apps exchange
	// data with is update({userInfo: {...}}) (checked against the SDK in interop/).
	if len(s.UserInfo) > 0 {
		// An empty userInfo is left out, as the SDK's sendMessage deletes it.
		w.start(elUserInfo)
		if err := encodeExtension(w, s.UserInfo, 2); err != nil {
			return nil, fmt.Errorf("encode %s signal: userInfo: %w", s.Type, err)
		}
		w.end(elUserInfo)
	}
	if s.Type == TypeUpdate {
		if s.Reason != "" {
			w.text(elReason, s.Reason)
		}
		if sd := s.SessionDescription; sd != nil {
			w.start(elSessionDescription)
			w.text(elOfferID, sd.OfferID)
			w.text(elSDP, sd.SDP)
			w.text(elType, sd.Type)
			w.end(elSessionDescription)
		}
	}
	w.text(elSessionID, s.SessionID)
	w.text(elCallType, strconv.Itoa(int(s.CallType)))
	w.text(elCallerID, string(caller))
	w.start(elOpponentsIDs)
	for _, o := range opponents {
		w.text(elOpponentID, string(o))
	}
	w.end(elOpponentsIDs)
	if s.SDP != "" {
		w.text(elSDP, s.SDP)
	}
	if len(s.Candidates) > 0 {
		w.start(elICECandidates)
		for _, c := range s.Candidates {
			w.start(elICECandidate)
			w.text(elCandidate, c.Candidate)
			w.text(elSDPMid, c.SDPMid)
			w.text(elSDPMLineIndex, strconv.FormatUint(uint64(c.SDPMLineIndex), 10))
			w.end(elICECandidate)
		}
		w.end(elICECandidates)
	}
	w.text(elModuleIdentifier, ModuleIdentifier)
	w.text(elSignalType, string(s.Type))
	platform := s.Platform
	if platform == "" {
		platform = Platform
	}
	w.text(elPlatform, platform)
	w.toks = append(w.toks, root.End())
	if err := checkEncodedLimits(w.toks); err != nil {
		return nil, fmt.Errorf("encode %s signal: %w", s.Type, err)
	}
	return w.toks, nil
}

// checkEncodedLimits applies Decode's MaxPayload and MaxElements to the tokens Encode
// made, so a signal that is too big (a huge SDP, thousands of userInfo keys) fails here
// with a clear error instead of being sent and refused by the receiver.
func checkEncodedLimits(toks []xml.Token) error {
	size, elements := 0, 0
	for _, t := range toks {
		size += tokenSize(t)
		if _, ok := t.(xml.StartElement); ok {
			elements++
		}
	}
	if size > MaxPayload {
		return fmt.Errorf("%w: about %d bytes (limit %d)", ErrTooLarge, size, MaxPayload)
	}
	if elements > MaxElements {
		return fmt.Errorf("%w: %d elements (limit %d)", ErrTooMany, elements, MaxElements)
	}
	return nil
}

// checkSessionDescription applies the update rules shared by Encode and Decode.
func checkSessionDescription(s *Signal) error {
	sd := s.SessionDescription
	if sd == nil {
		if s.Type == TypeUpdate && s.Reason == ReasonReconnect {
			return fmt.Errorf("%w: reconnect update without sessionDescription", ErrMalformed)
		}
		return nil
	}
	if s.Type != TypeUpdate {
		return fmt.Errorf("%w: sessionDescription outside an update", ErrMalformed)
	}
	if sd.Type != "offer" && sd.Type != "answer" {
		return fmt.Errorf("%w: sessionDescription type %q (want offer or answer)", ErrMalformed, clip(sd.Type))
	}
	if strings.TrimSpace(sd.SDP) == "" {
		return fmt.Errorf("sessionDescription: %w", ErrMissingSDP)
	}
	return nil
}

// encodeExtension writes m's entries as elements in sorted key order (JS objects keep
// insertion order, which a Go map does not have; the SDK reads them by name, so any
// fixed order works). depth is the depth of the elements written.
func encodeExtension(w *tokenWriter, m Extension, depth int) error {
	if depth > MaxDepth {
		return fmt.Errorf("%w: userInfo deeper than %d", ErrTooDeep, MaxDepth)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !isXMLName(k) {
			return fmt.Errorf("%w: key %q is not an XML element name", ErrMalformed, clip(k))
		}
		var sub Extension
		switch v := m[k].(type) {
		case Extension:
			sub = v
		case map[string]any:
			sub = Extension(v)
		case map[string]string:
			sub = make(Extension, len(v))
			for kk, vv := range v {
				sub[kk] = vv
			}
		case string:
			w.text(k, v)
			continue
		case nil:
			// The SDK turns null into "" before sending.
			w.text(k, "")
			continue
		default:
			w.text(k, fmt.Sprint(v))
			continue
		}
		w.start(k)
		if err := encodeExtension(w, sub, depth+1); err != nil {
			return err
		}
		w.end(k)
	}
	return nil
}

// isXMLName reports whether k can be written as an element name and read back as the
// same name (no prefix). ASCII names are checked directly; others are tried on
// encoding/xml's own parser, so Encode never writes a name Decode would refuse.
func isXMLName(k string) bool {
	if k == "" || len(k) > 256 {
		return false
	}
	ascii := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c >= 0x80:
			ascii = false
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && (c == '-' || c == '.' || '0' <= c && c <= '9'):
		default:
			return false
		}
	}
	if ascii {
		return !strings.HasPrefix(strings.ToLower(k), "xml")
	}
	t, err := xml.NewDecoder(strings.NewReader("<" + k + "/>")).Token()
	if err != nil {
		return false
	}
	se, ok := t.(xml.StartElement)
	return ok && se.Name.Space == "" && se.Name.Local == k
}

func knownType(t Type) bool {
	switch t {
	case TypeCall, TypeAccept, TypeReject, TypeHangUp, TypeICECandidates, TypeUpdate:
		return true
	}
	return false
}

// node is one element of a decoded payload.
type node struct {
	name string
	text []byte
	kids []*node
}

// child returns the last child named name (the SDK keeps the last of duplicates).
func (n *node) child(name string) *node {
	for i := len(n.kids) - 1; i >= 0; i-- {
		if n.kids[i].name == name {
			return n.kids[i]
		}
	}
	return nil
}

func (n *node) value() string { return strings.TrimSpace(string(n.text)) }

// Decode reads one <extraParams> element from r, whose next token is its start element,
// and validates it. From/To/StanzaID are left for the transport to fill.
//
// It reads exactly that element (up to its end element) unless r fails or the payload
// passes MaxPayload, in which case it stops at once. The size is counted as the tokens
// arrive (an estimate of their XML length), so nothing unbounded is buffered here; the
// transport's XML decoder still reads one text token whole, so it should bound the
// stanza size too.
func Decode(r xml.TokenReader, sch Scheme) (*Signal, error) {
	if sch == nil {
		return nil, fmt.Errorf("decode signal: %w: nil scheme", ErrScheme)
	}
	root, err := readTree(r)
	if err != nil {
		return nil, fmt.Errorf("decode signal: %w", err)
	}
	s, err := interpret(root, sch)
	if err != nil {
		if s != nil && s.Type != "" {
			return nil, fmt.Errorf("decode %s signal: %w", s.Type, err)
		}
		return nil, fmt.Errorf("decode signal: %w", err)
	}
	// What Decode accepts, Encode can write again (a signal may be forwarded or answered
	// with its own fields). At the limits the two differ: Decode turns LF into CRLF in
	// SDP, and Encode writes the elements a sender left out.
	if _, err := encodeTokens(s, sch); err != nil {
		return nil, fmt.Errorf("decode %s signal: %w", s.Type, err)
	}
	return s, nil
}

// readTree reads the element into a tree, enforcing MaxPayload, MaxDepth and
// MaxElements. Past the depth or element limits it keeps reading (and counting) without
// storing, so r ends up after the element and the error is about the real problem.
func readTree(r xml.TokenReader) (*node, error) {
	size := 0
	// next reads a token and counts it against MaxPayload; eof describes a premature end.
	next := func(eof string) (xml.Token, error) {
		t, err := r.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: %s", ErrMalformed, eof)
			}
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		size += tokenSize(t)
		if size > MaxPayload {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxPayload)
		}
		return t, nil
	}
	var root *node
	for root == nil {
		t, err := next("no extraParams element")
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if t.Name.Local != elExtraParams || (t.Name.Space != "" && t.Name.Space != NS) {
				return nil, fmt.Errorf("%w: element <%s xmlns=%q> instead of extraParams", ErrNotSignal, clip(t.Name.Local), clip(t.Name.Space))
			}
			root = &node{name: elExtraParams}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, fmt.Errorf("%w: text before extraParams", ErrMalformed)
			}
		case xml.EndElement:
			return nil, fmt.Errorf("%w: end element before extraParams", ErrMalformed)
		}
	}
	stack := []*node{root}
	skipped := 0 // depth inside an element not stored
	elements := 1
	var limitErr error
	for len(stack) > 0 {
		t, err := next("extraParams not closed")
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			if skipped > 0 {
				skipped++
				continue
			}
			elements++
			depth := len(stack) // depth of the new element below extraParams
			switch {
			case depth > MaxDepth:
				limitErr = fmt.Errorf("%w: elements nest deeper than %d below extraParams", ErrTooDeep, MaxDepth)
			case elements > MaxElements:
				limitErr = fmt.Errorf("%w: more than %d elements", ErrTooMany, MaxElements)
			}
			if limitErr != nil {
				skipped = 1
				continue
			}
			n := &node{name: t.Name.Local}
			parent := stack[len(stack)-1]
			parent.kids = append(parent.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			if skipped > 0 {
				skipped--
				continue
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if skipped == 0 {
				n := stack[len(stack)-1]
				n.text = append(n.text, t...)
			}
		}
	}
	if limitErr != nil {
		return nil, limitErr
	}
	return root, nil
}

// tokenSize estimates the XML length of t, to enforce MaxPayload on token streams.
func tokenSize(t xml.Token) int {
	switch t := t.(type) {
	case xml.StartElement:
		n := 2 + len(t.Name.Local)
		if t.Name.Space != "" {
			n += len(t.Name.Space) + 9
		}
		for _, a := range t.Attr {
			n += 4 + len(a.Name.Space) + len(a.Name.Local) + len(a.Value)
		}
		return n
	case xml.EndElement:
		return 3 + len(t.Name.Local)
	case xml.CharData:
		return len(t)
	case xml.Comment:
		return 7 + len(t)
	case xml.ProcInst:
		return 5 + len(t.Target) + len(t.Inst)
	case xml.Directive:
		return 3 + len(t)
	}
	return 0
}

// interpret turns a payload tree into a Signal. The returned Signal is non-nil with its
// Type set once the type is known, so errors can name it.
func interpret(root *node, sch Scheme) (*Signal, error) {
	mod := root.child(elModuleIdentifier)
	if mod == nil {
		return nil, fmt.Errorf("%w: no moduleIdentifier", ErrNotSignal)
	}
	if v := mod.value(); v != ModuleIdentifier {
		return nil, fmt.Errorf("%w: moduleIdentifier %q", ErrNotSignal, clip(v))
	}
	s := &Signal{}
	st := root.child(elSignalType)
	if st == nil {
		return s, fmt.Errorf("%w: no signalType", ErrUnknownType)
	}
	s.Type = Type(st.value())
	if !knownType(s.Type) {
		bad := s.Type
		s.Type = ""
		return s, fmt.Errorf("%w: %q", ErrUnknownType, clip(string(bad)))
	}
	if n := root.child(elSessionID); n != nil {
		s.SessionID = n.value()
	}
	if s.SessionID == "" {
		return s, ErrMissingSessionID
	}
	ct := root.child(elCallType)
	if ct == nil {
		return s, fmt.Errorf("%w: no callType", ErrBadCallType)
	}
	switch v := ct.value(); v {
	case "1":
		s.CallType = CallTypeVideo
	case "2":
		s.CallType = CallTypeAudio
	default:
		return s, fmt.Errorf("%w: %q (want 1 video or 2 audio)", ErrBadCallType, clip(v))
	}
	caller := root.child(elCallerID)
	if caller == nil {
		return s, fmt.Errorf("callerID: %w: missing", ErrBadUserID)
	}
	id, err := sch.ParseUserID(caller.value())
	if err != nil {
		return s, fmt.Errorf("callerID: %w", err)
	}
	s.CallerID = id
	if n := root.child(elPlatform); n != nil {
		s.Platform = n.value()
	}

	var userInfo, topLevel Extension
	for _, k := range root.kids {
		switch {
		case k.name == elOpponentsIDs:
			// The SDK appends the IDs of every opponentsIDs element to one list.
			for _, o := range k.kids {
				if len(s.OpponentIDs) == MaxOpponents {
					return s, fmt.Errorf("%w: more than %d opponents", ErrTooMany, MaxOpponents)
				}
				id, err := sch.ParseUserID(o.value())
				if err != nil {
					return s, fmt.Errorf("opponentID %d: %w", len(s.OpponentIDs), err)
				}
				s.OpponentIDs = append(s.OpponentIDs, id)
			}
		case k.name == elICECandidates:
			for _, c := range k.kids {
				if len(s.Candidates) == MaxCandidates {
					return s, fmt.Errorf("%w: more than %d candidates", ErrTooMany, MaxCandidates)
				}
				cand, err := decodeCandidate(c)
				if err != nil {
					return s, fmt.Errorf("candidate %d: %w", len(s.Candidates), err)
				}
				s.Candidates = append(s.Candidates, cand)
			}
		case k.name == elUserInfo:
			ext, err := decodeExtension(k)
			if err != nil {
				return s, fmt.Errorf("userInfo: %w", err)
			}
			userInfo = ext
		case s.Type == TypeUpdate && !reserved[k.name]:
			// The SDK's raw update(ext) form: ext's keys at the top level. They are
			// kept as if they were inside userInfo, so they must fit its depth.
			if !isXMLName(k.name) {
				return s, fmt.Errorf("%w: extension key %q", ErrMalformed, clip(k.name))
			}
			if height(k)+1 > MaxDepth {
				return s, fmt.Errorf("%w: update extension %s deeper than %d", ErrTooDeep, k.name, MaxDepth)
			}
			v, err := decodeValue(k)
			if err != nil {
				return s, fmt.Errorf("update extension %s: %w", k.name, err)
			}
			if topLevel == nil {
				topLevel = Extension{}
			}
			topLevel[k.name] = v
		}
	}
	// Entries of <userInfo> win over top-level keys of the same name.
	for k, v := range userInfo {
		if topLevel == nil {
			topLevel = Extension{}
		}
		topLevel[k] = v
	}
	if len(topLevel) > 0 {
		s.UserInfo = topLevel
	}
	if n := root.child(elSDP); n != nil {
		s.SDP = signaling.NormalizeSDP(string(n.text))
	}
	if (s.Type == TypeCall || s.Type == TypeAccept) && strings.TrimSpace(s.SDP) == "" {
		return s, ErrMissingSDP
	}
	if s.Type == TypeICECandidates && len(s.Candidates) == 0 {
		return s, fmt.Errorf("%w: no candidates", ErrMalformed)
	}
	if s.Type == TypeUpdate {
		if n := root.child(elReason); n != nil {
			s.Reason = n.value()
		}
		if n := root.child(elSessionDescription); n != nil {
			sd := &SessionDescription{}
			if c := n.child(elOfferID); c != nil {
				sd.OfferID = c.value()
			}
			if c := n.child(elSDP); c != nil {
				sd.SDP = signaling.NormalizeSDP(string(c.text))
			}
			if c := n.child(elType); c != nil {
				sd.Type = c.value()
			}
			s.SessionDescription = sd
		}
		if err := checkSessionDescription(s); err != nil {
			return s, err
		}
	}
	return s, nil
}

func decodeCandidate(n *node) (ICECandidate, error) {
	var c ICECandidate
	if k := n.child(elCandidate); k != nil {
		c.Candidate = k.value()
	}
	if c.Candidate == "" {
		return c, fmt.Errorf("%w: empty candidate", ErrMalformed)
	}
	if k := n.child(elSDPMid); k != nil {
		c.SDPMid = k.value()
	}
	if k := n.child(elSDPMLineIndex); k != nil {
		// The SDK writes a JS null as the text "null"; both mean "not given" (0).
		if v := k.value(); v != "" && v != "null" {
			i, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return c, fmt.Errorf("%w: sdpMLineIndex %q", ErrMalformed, clip(v))
			}
			c.SDPMLineIndex = uint16(i)
		}
	}
	return c, nil
}

// decodeExtension reads the children of n as a map; elements with children are nested
// maps, others strings. Keys must pass isXMLName so the map can be written back.
func decodeExtension(n *node) (Extension, error) {
	if len(n.kids) == 0 {
		return nil, nil
	}
	m := make(Extension, len(n.kids))
	for _, k := range n.kids {
		if !isXMLName(k.name) {
			return nil, fmt.Errorf("%w: key %q is not an element name", ErrMalformed, clip(k.name))
		}
		v, err := decodeValue(k)
		if err != nil {
			return nil, err
		}
		m[k.name] = v
	}
	return m, nil
}

// height is the number of element levels from n down to its deepest descendant (1 for
// a leaf).
func height(n *node) int {
	h := 0
	for _, k := range n.kids {
		h = max(h, height(k))
	}
	return h + 1
}

// decodeValue is one extension value: a string, or a map when n has children.
func decodeValue(n *node) (any, error) {
	if len(n.kids) == 0 {
		return string(n.text), nil
	}
	return decodeExtension(n)
}
