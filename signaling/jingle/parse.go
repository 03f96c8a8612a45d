package jingle

import (
	"encoding/xml"
	"fmt"

	"strings"
	"unicode/utf8"

	"mellium.im/xmlstream"
)

// Parse reads a <jingle/> element whose start token is start from r, refusing more than
// MaxElements elements or MaxDepth nesting while it reads, then checks it (Check).
// Prefixed names are resolved by namespace, so <rtcpf:rtcp-fb> and
// <rtcp-fb xmlns="urn:xmpp:jingle:apps:rtp:rtcp-fb:0"> are the same.
func Parse(r xml.TokenReader, start *xml.StartElement) (*Jingle, error) {
	if start.Name.Space != NS || start.Name.Local != "jingle" {
		return nil, fmt.Errorf("%w: %s %s is not a jingle element", ErrBadRequest, start.Name.Space, start.Name.Local)
	}
	lr := &limitReader{r: r, depth: 1}
	var j Jingle
	// The decoder must see the start element itself to match the end element.
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), lr)).Decode(&j); err != nil {
		if lr.err != nil {
			return nil, lr.err
		}
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if err := j.Check(); err != nil {
		return nil, err
	}
	return &j, nil
}

// ParseString parses a <jingle/> element (or an <iq/> holding one) from text: for tests,
// goldens and fuzzing.
func ParseString(s string) (*Jingle, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: no jingle element: %v", ErrBadRequest, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == NS && se.Name.Local == "jingle" {
			return Parse(d, &se)
		}
	}
}

// limitReader fails a token stream past MaxElements elements or MaxDepth nesting.
type limitReader struct {
	r        xml.TokenReader
	elements int
	depth    int
	err      error
}

func (l *limitReader) Token() (xml.Token, error) {
	if l.err != nil {
		return nil, l.err
	}
	tok, err := l.r.Token()
	if err != nil {
		return tok, err
	}
	switch tok.(type) {
	case xml.StartElement:
		l.elements++
		l.depth++
		if l.elements > MaxElements {
			l.err = fmt.Errorf("%w: more than %d elements", ErrTooBig, MaxElements)
		} else if l.depth > MaxDepth {
			l.err = fmt.Errorf("%w: nested deeper than %d", ErrTooBig, MaxDepth)
		}
	case xml.EndElement:
		l.depth--
	case xml.CharData:
		if len(tok.(xml.CharData)) > MaxText {
			if strings.TrimSpace(string(tok.(xml.CharData))) != "" {
				l.err = fmt.Errorf("%w: text longer than %d bytes", ErrTooBig, MaxText)
			}
		}
	}
	if l.err != nil {
		return nil, l.err
	}
	return tok, nil
}

// Check applies the limits and the rules every action shares; what an action needs
// beyond that (a session-initiate needs contents) the caller checks.
func (j *Jingle) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, a...)...)
	}
	big := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrTooBig}, a...)...)
	}
	if !j.Action.Known() {
		return bad("unknown action %q", j.Action)
	}
	if j.SID == "" {
		return bad("no sid")
	}
	for _, s := range []string{j.SID, j.Initiator, j.Responder} {
		if err := checkText(s); err != nil {
			return err
		}
	}
	if len(j.Contents) > MaxContents {
		return big("%d contents", len(j.Contents))
	}
	names := map[string]bool{}
	for i := range j.Contents {
		c := &j.Contents[i]
		if c.Name == "" {
			return bad("content without a name")
		}
		if names[c.Name] {
			return bad("two contents named %q", c.Name)
		}
		names[c.Name] = true
		switch c.Creator {
		case "initiator", "responder":
		case "":
			if j.Action != TransportInfo && j.Action != SessionInfo {
				return bad("content %q without a creator", c.Name)
			}
		default:
			return bad("content %q: creator %q", c.Name, c.Creator)
		}
		switch c.Senders {
		case "", "both", "initiator", "responder", "none":
		default:
			return bad("content %q: senders %q", c.Name, c.Senders)
		}
		if err := checkText(c.Name); err != nil {
			return err
		}
		if d := c.Description; d != nil {
			if err := d.check(); err != nil {
				return fmt.Errorf("content %q: %w", c.Name, err)
			}
		}
		if t := c.Transport; t != nil {
			if err := t.check(); err != nil {
				return fmt.Errorf("content %q: %w", c.Name, err)
			}
		}
	}
	if len(j.Groups) > MaxContents {
		return big("%d groups", len(j.Groups))
	}
	for _, g := range j.Groups {
		if len(g.Contents) > MaxContents {
			return big("group of %d", len(g.Contents))
		}
		if err := checkText(g.Semantics); err != nil {
			return err
		}
		for _, c := range g.Contents {
			if err := checkText(c.Name); err != nil {
				return err
			}
		}
	}
	if j.Reason != nil {
		if err := checkText(j.Reason.Text); err != nil {
			return err
		}
	}
	return nil
}

func (d *Description) check() error {
	if d.Media != "audio" && d.Media != "video" {
		return fmt.Errorf("%w: media %q", ErrBadRequest, d.Media)
	}
	if len(d.PayloadTypes) > MaxPayloadTypes || len(d.HdrExts) > MaxHdrExts || len(d.Sources) > MaxSources ||
		len(d.SourceGroups) > MaxSourceGroups || len(d.RTCPFB) > MaxFeedback || len(d.Streams) > MaxSources {
		return fmt.Errorf("%w: description with %d payload types, %d header extensions, %d sources, %d groups, %d feedback, %d streams",
			ErrTooBig, len(d.PayloadTypes), len(d.HdrExts), len(d.Sources), len(d.SourceGroups), len(d.RTCPFB), len(d.Streams))
	}
	texts := []string{d.SSRC}
	for _, p := range d.PayloadTypes {
		if len(p.Params) > MaxParams || len(p.RTCPFB) > MaxFeedback {
			return fmt.Errorf("%w: payload type %d with %d parameters, %d feedback", ErrTooBig, p.ID, len(p.Params), len(p.RTCPFB))
		}
		if p.ID > 127 {
			return fmt.Errorf("%w: payload type id %d", ErrBadRequest, p.ID)
		}
		texts = append(texts, p.Name)
		for _, x := range p.Params {
			texts = append(texts, x.Name, x.Value)
		}
		for _, f := range p.RTCPFB {
			texts = append(texts, f.Type, f.Subtype)
		}
	}
	for _, f := range d.RTCPFB {
		texts = append(texts, f.Type, f.Subtype)
	}
	for _, h := range d.HdrExts {
		if h.ID == 0 || h.ID > 255 {
			return fmt.Errorf("%w: header extension id %d", ErrBadRequest, h.ID)
		}
		texts = append(texts, h.URI, h.Senders)
	}
	for _, s := range d.Sources {
		if len(s.Params) > MaxParams {
			return fmt.Errorf("%w: source with %d parameters", ErrTooBig, len(s.Params))
		}
		texts = append(texts, s.SSRC)
		for _, x := range s.Params {
			texts = append(texts, x.Name, x.Value)
		}
	}
	for _, g := range d.SourceGroups {
		if len(g.Sources) > MaxSources {
			return fmt.Errorf("%w: source group of %d", ErrTooBig, len(g.Sources))
		}
		texts = append(texts, g.Semantics)
		for _, s := range g.Sources {
			texts = append(texts, s.SSRC)
		}
	}
	for _, s := range d.Streams {
		texts = append(texts, s.ID, s.Track)
	}
	for _, s := range texts {
		if err := checkText(s); err != nil {
			return err
		}
	}
	return nil
}

func (t *Transport) check() error {
	if len(t.Candidates) > MaxCandidates {
		return fmt.Errorf("%w: %d candidates", ErrTooBig, len(t.Candidates))
	}
	if len(t.Fingerprints) > MaxFingerprints {
		return fmt.Errorf("%w: %d fingerprints", ErrTooBig, len(t.Fingerprints))
	}
	texts := []string{t.Ufrag, t.Pwd}
	for _, f := range t.Fingerprints {
		switch f.Setup {
		case "", "actpass", "active", "passive":
		default:
			return fmt.Errorf("%w: fingerprint setup %q", ErrBadRequest, f.Setup)
		}
		texts = append(texts, f.Hash, f.Value)
	}
	for _, c := range t.Candidates {
		if c.Component == 0 || c.Component > 256 {
			return fmt.Errorf("%w: candidate component %d", ErrBadRequest, c.Component)
		}
		if c.IP == "" || c.Foundation == "" || c.Type == "" || c.Protocol == "" {
			return fmt.Errorf("%w: candidate without ip, foundation, type or protocol", ErrBadRequest)
		}
		texts = append(texts, c.Foundation, c.ID, c.IP, c.Protocol, c.RelAddr, c.TCPType, c.Type)
	}
	for _, s := range texts {
		if err := checkText(s); err != nil {
			return err
		}
	}
	return nil
}

// checkText refuses over-long text and text that would break an SDP line (line ends,
// NUL) or is not UTF-8: everything here ends up in an SDP.
func checkText(s string) error {
	if len(s) > MaxText {
		return fmt.Errorf("%w: %d-byte text", ErrTooBig, len(s))
	}
	if strings.ContainsAny(s, "\r\n\x00") || !utf8.ValidString(s) {
		return fmt.Errorf("%w: text %.40q", ErrBadRequest, s)
	}
	return nil
}
