// Package jmi implements XEP-0353: Jingle Message Initiation, the messages that make
// every device of a callee ring before a Jingle session exists: propose (to the bare
// JID, with the media), ringing, proceed (to the caller's device that will take the
// call), accept (to our own bare JID, so our other devices stop ringing), reject,
// retract (the caller gives up) and finish (the call has ended).
//
// The proposal's id is the sid of the Jingle session that follows a proceed.
package jmi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
)

// NS is the XEP-0353 namespace (also a disco feature).
const NS = "urn:xmpp:jingle-message:0"

// nsRTP is the namespace of the <description/> children of a propose (XEP-0167).
const nsRTP = "urn:xmpp:jingle:apps:rtp:1"

// nsJingle holds the <reason/> of a reject, retract or finish (XEP-0166).
const nsJingle = "urn:xmpp:jingle:1"

// Kind is the JMI element.
type Kind string

// The JMI elements.
const (
	Propose Kind = "propose"
	Ringing Kind = "ringing"
	Proceed Kind = "proceed"
	Accept  Kind = "accept"
	Reject  Kind = "reject"
	Retract Kind = "retract"
	Finish  Kind = "finish"
)

var kinds = map[string]Kind{"propose": Propose, "ringing": Ringing, "proceed": Proceed,
	"accept": Accept, "reject": Reject, "retract": Retract, "finish": Finish}

// Limits of what a message from anyone may hold.
const (
	// MaxID bounds the id (it becomes a Jingle sid).
	MaxID = 256
	// MaxMedia bounds the descriptions of a propose (audio, video).
	MaxMedia = 4
	// maxElements bounds the elements read from one JMI element.
	maxElements = 64
)

// ErrBadMessage: a JMI element that breaks XEP-0353 or the limits; it is dropped.
var ErrBadMessage = errors.New("jmi: bad message")

// Message is one JMI element.
type Message struct {
	Kind  Kind
	ID    string
	Media []string // propose: "audio", "video"
	// Reason is the condition of a reject, retract or finish (a XEP-0166 reason:
	// busy, decline, cancel, success...), "" when absent.
	Reason string
}

// Envelope is a received JMI element and where it came from (filled by the transport).
type Envelope struct {
	Message
	From, To jid.JID // full JIDs as the server gave them
	// Carbon: a copy (XEP-0280) of a message one of our other devices sent ("sent")
	// or received ("received"); "" for a message to us. From/To are the copied
	// message's.
	Carbon string
	// Delayed: the server stored it (offline delivery or an archive): a stale
	// proposal must not ring.
	Delayed bool
	// Bounced: an error message returned our own propose of this ID (Kind Propose):
	// the contact has no device online to take it (and no server stores it). From
	// is the address it was sent to.
	Bounced bool
}

// ProposeStanzaID is the message ID our propose of JMI id goes out with: a bounce
// (an error message carries the ID, rarely the element) names the call it ends.
func ProposeStanzaID(id string) string { return "jmi-propose-" + id }

// BouncedPropose returns the JMI id of our propose that stanzaID names, if it does.
func BouncedPropose(stanzaID string) (string, bool) {
	id, ok := strings.CutPrefix(stanzaID, "jmi-propose-")
	return id, ok && id != ""
}

// Parse reads the JMI element whose start token is start from r.
func Parse(r xml.TokenReader, start *xml.StartElement) (Message, error) {
	if start.Name.Space != NS {
		return Message{}, fmt.Errorf("%w: namespace %q", ErrBadMessage, start.Name.Space)
	}
	k, ok := kinds[start.Name.Local]
	if !ok {
		return Message{}, fmt.Errorf("%w: element %q", ErrBadMessage, start.Name.Local)
	}
	m := Message{Kind: k}
	for _, a := range start.Attr {
		if a.Name.Space == "" && a.Name.Local == "id" {
			m.ID = a.Value
		}
	}
	if m.ID == "" || len(m.ID) > MaxID || !utf8.ValidString(m.ID) || strings.ContainsAny(m.ID, "\r\n\x00") {
		return Message{}, fmt.Errorf("%w: %s id %.40q", ErrBadMessage, k, m.ID)
	}
	var raw struct {
		Desc []struct {
			Media string `xml:"media,attr"`
		} `xml:"urn:xmpp:jingle:apps:rtp:1 description"`
		Reason *struct {
			Any []struct{ XMLName xml.Name } `xml:",any"`
		} `xml:"urn:xmpp:jingle:1 reason"`
	}
	lr := &limited{r: r}
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), lr)).Decode(&raw); err != nil {
		return Message{}, fmt.Errorf("%w: %s: %v", ErrBadMessage, k, err)
	}
	if len(raw.Desc) > MaxMedia {
		return Message{}, fmt.Errorf("%w: propose of %d descriptions", ErrBadMessage, len(raw.Desc))
	}
	for _, d := range raw.Desc {
		if d.Media != "audio" && d.Media != "video" {
			return Message{}, fmt.Errorf("%w: media %.20q", ErrBadMessage, d.Media)
		}
		m.Media = append(m.Media, d.Media)
	}
	if k == Propose && len(m.Media) == 0 {
		return Message{}, fmt.Errorf("%w: propose without an RTP description", ErrBadMessage)
	}
	if raw.Reason != nil {
		for _, c := range raw.Reason.Any {
			if c.XMLName.Space == nsJingle && c.XMLName.Local != "text" {
				m.Reason = c.XMLName.Local
				break
			}
		}
	}
	return m, nil
}

// limited fails a token stream past maxElements elements.
type limited struct {
	r xml.TokenReader
	n int
}

func (l *limited) Token() (xml.Token, error) {
	tok, err := l.r.Token()
	if _, ok := tok.(xml.StartElement); ok {
		l.n++
		if l.n > maxElements {
			return nil, fmt.Errorf("more than %d elements", maxElements)
		}
	}
	return tok, err
}

// TokenReader writes the element.
func (m Message) TokenReader() xml.TokenReader {
	start := xml.StartElement{Name: xml.Name{Space: NS, Local: string(m.Kind)}, Attr: []xml.Attr{{Name: xml.Name{Local: "id"}, Value: m.ID}}}
	var inner []xml.TokenReader
	for _, media := range m.Media {
		d := xml.StartElement{Name: xml.Name{Space: nsRTP, Local: "description"}, Attr: []xml.Attr{{Name: xml.Name{Local: "media"}, Value: media}}}
		inner = append(inner, xmlstream.Wrap(nil, d))
	}
	if m.Reason != "" {
		c := xml.StartElement{Name: xml.Name{Local: m.Reason}}
		inner = append(inner, xmlstream.Wrap(xmlstream.Wrap(nil, c), xml.StartElement{Name: xml.Name{Space: nsJingle, Local: "reason"}}))
	}
	return xmlstream.Wrap(xmlstream.MultiReader(inner...), start)
}

// WriteXML writes the element to w.
func (m Message) WriteXML(w xmlstream.TokenWriter) (int, error) {
	return xmlstream.Copy(w, m.TokenReader())
}
