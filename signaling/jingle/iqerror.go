package jingle

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"

	"mellium.im/xmlstream"
)

// nsStanzas is the namespace of stanza error conditions (RFC 6120 §8.3).
const nsStanzas = "urn:ietf:params:xml:ns:xmpp-stanzas"

// Error is the IQ error XEP-0166 names for a refused action (§7.3, §8): a stanza error
// condition and, for the Jingle-specific cases, a condition in NSErrors.
type Error struct {
	Type      string // cancel, modify, wait
	Condition string // stanza condition: bad-request, item-not-found, ...
	Jingle    string // out-of-order, tie-break, unknown-session, unsupported-info, or ""
	Text      string // for logs and the peer; never shown as ours
}

// The errors XEP-0166 prescribes.
var (
	// ErrIQBadRequest: malformed or unknown action, or beyond our limits.
	ErrIQBadRequest = &Error{Type: "cancel", Condition: "bad-request"}
	// ErrUnknownSession: no session with this sid, or the sender is not its peer.
	ErrUnknownSession = &Error{Type: "cancel", Condition: "item-not-found", Jingle: "unknown-session"}
	// ErrOutOfOrder: an action that makes no sense in the session's state (a
	// session-accept for a session we did not initiate).
	ErrOutOfOrder = &Error{Type: "wait", Condition: "unexpected-request", Jingle: "out-of-order"}
	// ErrTieBreak: a session-initiate while we have one pending with the same peer.
	ErrTieBreak = &Error{Type: "cancel", Condition: "conflict", Jingle: "tie-break"}
	// ErrUnsupportedInfo: a session-info payload we do not know.
	ErrUnsupportedInfo = &Error{Type: "modify", Condition: "feature-not-implemented", Jingle: "unsupported-info"}
	// ErrFeatureNotImplemented: an action we do not do (content-add, transport-replace).
	ErrFeatureNotImplemented = &Error{Type: "cancel", Condition: "feature-not-implemented"}
	// ErrNotAcceptable: a session we do not take (a stranger, a content we cannot do).
	ErrNotAcceptable = &Error{Type: "cancel", Condition: "not-acceptable"}
)

func (e *Error) Error() string {
	s := "jingle: " + e.Condition
	if e.Jingle != "" {
		s += " (" + e.Jingle + ")"
	}
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is matches errors with the same conditions (Text aside).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Condition == e.Condition && t.Jingle == e.Jingle
}

// With returns a copy of e carrying text.
func (e *Error) With(format string, a ...any) *Error {
	c := *e
	c.Text = fmt.Sprintf(format, a...)
	return &c
}

// TokenReader writes the <error/> element of an IQ error.
func (e *Error) TokenReader() xml.TokenReader {
	inner := []xml.TokenReader{xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsStanzas, Local: e.Condition}})}
	if e.Jingle != "" {
		inner = append(inner, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: NSErrors, Local: e.Jingle}}))
	}
	return xmlstream.Wrap(xmlstream.MultiReader(inner...), xml.StartElement{
		Name: xml.Name{Local: "error"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "type"}, Value: e.Type}},
	})
}

// ParseError reads the <error/> of an IQ error reply (start is its start element).
func ParseError(r xml.TokenReader, start *xml.StartElement) (*Error, error) {
	var raw struct {
		Type string `xml:"type,attr"`
		Any  []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	lr := &limitReader{r: r, depth: 1}
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), lr)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: error element: %v", ErrBadRequest, err)
	}
	e := &Error{Type: raw.Type}
	for _, c := range raw.Any {
		switch {
		case c.XMLName.Space == nsStanzas && c.XMLName.Local == "text":
			e.Text = c.Text
		case c.XMLName.Space == nsStanzas && e.Condition == "":
			e.Condition = c.XMLName.Local
		case c.XMLName.Space == NSErrors:
			e.Jingle = c.XMLName.Local
		}
	}
	return e, nil
}

// TokenReader writes the element for sending: the XML of encoding/xml's Marshal read
// back as tokens, without the xmlns attributes (each name carries its namespace, and
// an encoder would write them twice).
func (j *Jingle) TokenReader() xml.TokenReader {
	b, err := xml.Marshal(j)
	if err != nil {
		return errReader{err}
	}
	return nsStripper{xml.NewDecoder(bytes.NewReader(b))}
}

type errReader struct{ err error }

func (e errReader) Token() (xml.Token, error) { return nil, e.err }

type nsStripper struct{ d *xml.Decoder }

func (s nsStripper) Token() (xml.Token, error) {
	tok, err := s.d.Token()
	if err == io.EOF && tok == nil {
		return nil, io.EOF
	}
	if se, ok := tok.(xml.StartElement); ok {
		attrs := se.Attr[:0:0]
		for _, a := range se.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue
			}
			attrs = append(attrs, a)
		}
		se.Attr = attrs
		return se, err
	}
	return tok, err
}
