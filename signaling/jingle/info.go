package jingle

import "encoding/xml"

// Session-info payloads of XEP-0167 §7 (namespace NSRTPInfo).
const (
	InfoActive  = "active"
	InfoHold    = "hold"
	InfoUnhold  = "unhold"
	InfoMute    = "mute"
	InfoUnmute  = "unmute"
	InfoRinging = "ringing"
)

// Info is the payload of a session-info: XMLName says which (in NSRTPInfo for the RTP
// ones), Creator and Name which content a mute or unmute is about (empty: all).
type Info struct {
	XMLName xml.Name
	Creator string `xml:"creator,attr,omitempty"`
	Name    string `xml:"name,attr,omitempty"`
}

// RTPInfo makes an XEP-0167 session-info payload.
func RTPInfo(kind string) *Info {
	return &Info{XMLName: xml.Name{Space: NSRTPInfo, Local: kind}}
}

// Kind is the RTP info's name, or "" when the payload is of another namespace (answered
// with unsupported-info).
func (i *Info) Kind() string {
	if i == nil || i.XMLName.Space != NSRTPInfo {
		return ""
	}
	switch i.XMLName.Local {
	case InfoActive, InfoHold, InfoUnhold, InfoMute, InfoUnmute, InfoRinging:
		return i.XMLName.Local
	}
	return ""
}
