package jingle

import (
	"encoding/xml"
	"fmt"
)

// Reason conditions of a session-terminate (XEP-0166 §7.4).
const (
	ReasonAlternativeSession  = "alternative-session"
	ReasonBusy                = "busy"
	ReasonCancel              = "cancel"
	ReasonConnectivityError   = "connectivity-error"
	ReasonDecline             = "decline"
	ReasonExpired             = "expired"
	ReasonFailedApplication   = "failed-application"
	ReasonFailedTransport     = "failed-transport"
	ReasonGeneralError        = "general-error"
	ReasonGone                = "gone"
	ReasonIncompatibleParams  = "incompatible-parameters"
	ReasonMediaError          = "media-error"
	ReasonSecurityError       = "security-error"
	ReasonSuccess             = "success"
	ReasonTimeout             = "timeout"
	ReasonUnsupportedApps     = "unsupported-applications"
	ReasonUnsupportedTranspts = "unsupported-transports"
)

var knownReasons = map[string]bool{
	ReasonAlternativeSession: true, ReasonBusy: true, ReasonCancel: true,
	ReasonConnectivityError: true, ReasonDecline: true, ReasonExpired: true,
	ReasonFailedApplication: true, ReasonFailedTransport: true, ReasonGeneralError: true,
	ReasonGone: true, ReasonIncompatibleParams: true, ReasonMediaError: true,
	ReasonSecurityError: true, ReasonSuccess: true, ReasonTimeout: true,
	ReasonUnsupportedApps: true, ReasonUnsupportedTranspts: true,
}

// Reason is a <reason/>: a condition and an optional human text.
type Reason struct {
	Condition string
	Text      string
}

// MarshalXML writes <reason><condition/><text>...</text></reason> in the Jingle namespace.
func (r Reason) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start = xml.StartElement{Name: xml.Name{Space: NS, Local: "reason"}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if r.Condition != "" {
		c := xml.StartElement{Name: xml.Name{Local: r.Condition}}
		if err := e.EncodeToken(c); err != nil {
			return err
		}
		if err := e.EncodeToken(c.End()); err != nil {
			return err
		}
	}
	if r.Text != "" {
		if err := e.EncodeElement(r.Text, xml.StartElement{Name: xml.Name{Local: "text"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// UnmarshalXML reads the condition (the first child in the Jingle namespace that is not
// <text/>) and the text; an unknown condition becomes general-error (XEP-0166 §7.4:
// unknown conditions are treated as general errors).
func (r *Reason) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var raw struct {
		Any []struct {
			XMLName xml.Name
			Text    string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := d.DecodeElement(&raw, &start); err != nil {
		return fmt.Errorf("jingle: reason: %w", err)
	}
	for _, c := range raw.Any {
		if c.XMLName.Space != NS {
			continue
		}
		if c.XMLName.Local == "text" {
			r.Text = c.Text
			continue
		}
		if r.Condition == "" {
			r.Condition = c.XMLName.Local
			if !knownReasons[r.Condition] {
				r.Condition = ReasonGeneralError
			}
		}
	}
	return nil
}
