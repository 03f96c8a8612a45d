// Package jingle implements XEP-0166: Jingle, for audio and video calls: the RTP
// application (XEP-0167) with rtcp-fb (XEP-0293), header extensions (XEP-0294), sources
// (XEP-0339) and grouping (XEP-0338), the ICE-UDP transport (XEP-0176) with DTLS-SRTP
// fingerprints (XEP-0320), and the translation between SDP and Jingle that a WebRTC
// stack needs.
//
// Parsing goes by namespace, never by prefix (StanzaJS writes <rtcpf:rtcp-fb>), and
// refuses input beyond the limits in limits.go before anything else sees it. Nothing here
// touches the network: the XMPP plumbing lives in chat/, the call logic in the adapter.
package jingle

import (
	"encoding/xml"
)

// Namespaces of Jingle and the XEPs it is made of.
const (
	NS         = "urn:xmpp:jingle:1"                     // XEP-0166
	NSErrors   = "urn:xmpp:jingle:errors:1"              // XEP-0166 error conditions
	NSRTP      = "urn:xmpp:jingle:apps:rtp:1"            // XEP-0167
	NSRTPInfo  = "urn:xmpp:jingle:apps:rtp:info:1"       // XEP-0167 session-info
	NSAudio    = "urn:xmpp:jingle:apps:rtp:audio"        // XEP-0167 feature
	NSVideo    = "urn:xmpp:jingle:apps:rtp:video"        // XEP-0167 feature
	NSICEUDP   = "urn:xmpp:jingle:transports:ice-udp:1"  // XEP-0176
	NSDTLS     = "urn:xmpp:jingle:apps:dtls:0"           // XEP-0320
	NSRTCPFB   = "urn:xmpp:jingle:apps:rtp:rtcp-fb:0"    // XEP-0293
	NSHdrExt   = "urn:xmpp:jingle:apps:rtp:rtp-hdrext:0" // XEP-0294
	NSSSMA     = "urn:xmpp:jingle:apps:rtp:ssma:0"       // XEP-0339
	NSGrouping = "urn:xmpp:jingle:apps:grouping:0"       // XEP-0338
	NSMSID     = "urn:xmpp:jingle:apps:rtp:msid:0"       // StanzaJS's a=msid (no XEP)
	NSBundle   = "urn:ietf:rfc:5888"                     // XEP-0338 feature
	NSSSMAFeat = "urn:ietf:rfc:5576"                     // XEP-0339 feature
)

// Action is a Jingle action (XEP-0166 §7.2).
type Action string

// The actions ttycall sends or answers.
const (
	ContentAccept    Action = "content-accept"
	ContentAdd       Action = "content-add"
	ContentModify    Action = "content-modify"
	ContentReject    Action = "content-reject"
	ContentRemove    Action = "content-remove"
	DescriptionInfo  Action = "description-info"
	SecurityInfo     Action = "security-info"
	SessionAccept    Action = "session-accept"
	SessionInfo      Action = "session-info"
	SessionInitiate  Action = "session-initiate"
	SessionTerminate Action = "session-terminate"
	TransportAccept  Action = "transport-accept"
	TransportInfo    Action = "transport-info"
	TransportReject  Action = "transport-reject"
	TransportReplace Action = "transport-replace"
)

var knownActions = map[Action]bool{
	ContentAccept: true, ContentAdd: true, ContentModify: true, ContentReject: true,
	ContentRemove: true, DescriptionInfo: true, SecurityInfo: true, SessionAccept: true,
	SessionInfo: true, SessionInitiate: true, SessionTerminate: true, TransportAccept: true,
	TransportInfo: true, TransportReject: true, TransportReplace: true,
}

// Known tells whether a is one of the actions XEP-0166 defines.
func (a Action) Known() bool { return knownActions[a] }

// Jingle is the <jingle/> element of an IQ set.
type Jingle struct {
	XMLName   xml.Name  `xml:"urn:xmpp:jingle:1 jingle"`
	Action    Action    `xml:"action,attr"`
	Initiator string    `xml:"initiator,attr,omitempty"`
	Responder string    `xml:"responder,attr,omitempty"`
	SID       string    `xml:"sid,attr"`
	Contents  []Content `xml:"urn:xmpp:jingle:1 content"`
	Groups    []Group   `xml:"urn:xmpp:jingle:apps:grouping:0 group"`
	Reason    *Reason   `xml:"urn:xmpp:jingle:1 reason"`
	// Info is the payload of a session-info (XEP-0167 §7): ringing, mute, hold...; nil
	// for an empty session-info (a ping).
	Info *Info `xml:",any"`
}

// Content is one <content/>: an application (RTP) and its transport.
type Content struct {
	Creator     string       `xml:"creator,attr"`
	Disposition string       `xml:"disposition,attr,omitempty"`
	Name        string       `xml:"name,attr"`
	Senders     string       `xml:"senders,attr,omitempty"` // both (default), initiator, responder, none
	Description *Description `xml:"urn:xmpp:jingle:apps:rtp:1 description"`
	Transport   *Transport   `xml:"urn:xmpp:jingle:transports:ice-udp:1 transport"`
}

// Description is an RTP <description/> (XEP-0167).
type Description struct {
	Media        string        `xml:"media,attr"`
	SSRC         string        `xml:"ssrc,attr,omitempty"`
	PayloadTypes []PayloadType `xml:"urn:xmpp:jingle:apps:rtp:1 payload-type"`
	// RTCPFB applies to every payload type (XEP-0293 §4: a=rtcp-fb:*).
	RTCPFB       []RTCPFB      `xml:"urn:xmpp:jingle:apps:rtp:rtcp-fb:0 rtcp-fb"`
	HdrExts      []HdrExt      `xml:"urn:xmpp:jingle:apps:rtp:rtp-hdrext:0 rtp-hdrext"`
	ExtmapMixed  *Empty        `xml:"urn:xmpp:jingle:apps:rtp:rtp-hdrext:0 extmap-allow-mixed"`
	RTCPMux      *Empty        `xml:"urn:xmpp:jingle:apps:rtp:1 rtcp-mux"`
	ReducedSize  *Empty        `xml:"urn:xmpp:jingle:apps:rtp:1 rtcp-reduced-size"`
	Sources      []Source      `xml:"urn:xmpp:jingle:apps:rtp:ssma:0 source"`
	SourceGroups []SourceGroup `xml:"urn:xmpp:jingle:apps:rtp:ssma:0 ssrc-group"`
	Streams      []Stream      `xml:"urn:xmpp:jingle:apps:rtp:msid:0 stream"`
}

// Empty is a flag element with no content (<rtcp-mux/>).
type Empty struct{}

// PayloadType is a codec (a=rtpmap, a=fmtp, a=rtcp-fb).
type PayloadType struct {
	ID        uint8       `xml:"id,attr"`
	Name      string      `xml:"name,attr,omitempty"`
	ClockRate uint32      `xml:"clockrate,attr,omitempty"`
	Channels  uint8       `xml:"channels,attr,omitempty"`
	MaxPtime  uint32      `xml:"maxptime,attr,omitempty"`
	Ptime     uint32      `xml:"ptime,attr,omitempty"`
	Params    []Parameter `xml:"urn:xmpp:jingle:apps:rtp:1 parameter"`
	RTCPFB    []RTCPFB    `xml:"urn:xmpp:jingle:apps:rtp:rtcp-fb:0 rtcp-fb"`
}

// Parameter is a name/value pair (a=fmtp parameter, or an ssrc attribute); Value may be
// empty (StanzaJS writes RED's "111/111" as a name with no value).
type Parameter struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr,omitempty"`
}

// RTCPFB is an a=rtcp-fb line (XEP-0293).
type RTCPFB struct {
	Type    string `xml:"type,attr"`
	Subtype string `xml:"subtype,attr,omitempty"`
}

// HdrExt is an a=extmap line (XEP-0294).
type HdrExt struct {
	ID      uint16 `xml:"id,attr"`
	URI     string `xml:"uri,attr"`
	Senders string `xml:"senders,attr,omitempty"`
}

// Source is an SSRC and its a=ssrc attributes (XEP-0339).
type Source struct {
	SSRC   string      `xml:"ssrc,attr"`
	Params []Parameter `xml:"urn:xmpp:jingle:apps:rtp:ssma:0 parameter"`
}

// SourceGroup is an a=ssrc-group line (XEP-0339).
type SourceGroup struct {
	Semantics string      `xml:"semantics,attr"`
	Sources   []SourceRef `xml:"urn:xmpp:jingle:apps:rtp:ssma:0 source"`
}

// SourceRef names an SSRC in a group.
type SourceRef struct {
	SSRC string `xml:"ssrc,attr"`
}

// Stream is StanzaJS's msid element (a=msid:stream track).
type Stream struct {
	ID    string `xml:"id,attr"`
	Track string `xml:"track,attr,omitempty"`
}

// Transport is an ICE-UDP <transport/> (XEP-0176) with DTLS fingerprints (XEP-0320).
type Transport struct {
	Ufrag        string        `xml:"ufrag,attr,omitempty"`
	Pwd          string        `xml:"pwd,attr,omitempty"`
	Fingerprints []Fingerprint `xml:"urn:xmpp:jingle:apps:dtls:0 fingerprint"`
	Candidates   []Candidate   `xml:"urn:xmpp:jingle:transports:ice-udp:1 candidate"`
}

// Fingerprint is a DTLS certificate fingerprint and the setup role (XEP-0320).
type Fingerprint struct {
	Hash  string `xml:"hash,attr"`
	Setup string `xml:"setup,attr,omitempty"` // actpass, active, passive
	Value string `xml:",chardata"`
}

// Candidate is an ICE candidate (XEP-0176 §5.1).
type Candidate struct {
	Component  uint16 `xml:"component,attr"`
	Foundation string `xml:"foundation,attr"`
	Generation uint32 `xml:"generation,attr"`
	ID         string `xml:"id,attr,omitempty"`
	IP         string `xml:"ip,attr"`
	Network    uint32 `xml:"network,attr,omitempty"`
	Port       uint16 `xml:"port,attr"`
	Priority   uint32 `xml:"priority,attr"`
	Protocol   string `xml:"protocol,attr"`
	RelAddr    string `xml:"rel-addr,attr,omitempty"`
	RelPort    uint16 `xml:"rel-port,attr,omitempty"`
	TCPType    string `xml:"tcptype,attr,omitempty"`
	Type       string `xml:"type,attr"`
}

// Group is an XEP-0338 <group/> (a=group:BUNDLE 0 1).
type Group struct {
	Semantics string       `xml:"semantics,attr"`
	Contents  []ContentRef `xml:"urn:xmpp:jingle:apps:grouping:0 content"`
}

// ContentRef names a content in a group.
type ContentRef struct {
	Name string `xml:"name,attr"`
}
