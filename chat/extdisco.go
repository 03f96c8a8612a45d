package chat

// XEP-0215 external service discovery: the STUN and TURN servers the XMPP server
// announces, with time-limited TURN credentials (Prosody's mod_turn_external hands out
// coturn's REST credentials this way). mellium has no XEP-0215; this is written the way
// roster.go asks for the roster.

import (
	"context"
	"encoding/xml"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// NSExtDisco is the XEP-0215 namespace.
const NSExtDisco = "urn:xmpp:extdisco:2"

// ExternalService is one service of an XEP-0215 answer.
type ExternalService struct {
	Type      string // "stun", "turn", "turns" (others are listed but not ICE servers)
	Host      string
	Port      int    // 0: the scheme's default
	Transport string // "udp", "tcp" or ""
	Username  string
	Password  string
	// Expires is when the credentials stop working; zero when the server gave none.
	Expires    time.Time
	Restricted bool
}

// ICE reports whether the service is a STUN or TURN server.
func (s ExternalService) ICE() bool {
	return s.Type == "stun" || s.Type == "turn" || s.Type == "turns"
}

// URL is the service as an ICE server URL: stun:host:port, turn:host:port (with
// ?transport=tcp for TURN over TCP), turns:host:port. STUN URLs carry no transport
// (browsers refuse one).
func (s ExternalService) URL() string {
	host := s.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	u := s.Type + ":" + host
	if s.Port > 0 {
		u += ":" + strconv.Itoa(s.Port)
	}
	if s.Type == "turn" && s.Transport == "tcp" {
		u += "?transport=tcp"
	}
	return u
}

// serviceXML is a <service/> as the server sends it.
type serviceXML struct {
	Type       string `xml:"type,attr"`
	Host       string `xml:"host,attr"`
	Port       string `xml:"port,attr"`
	Transport  string `xml:"transport,attr"`
	Username   string `xml:"username,attr"`
	Password   string `xml:"password,attr"`
	Expires    string `xml:"expires,attr"`
	Restricted string `xml:"restricted,attr"`
}

// maxServices bounds what one answer may make us keep.
const maxServices = 64

// ExternalServices asks the account's server for its external services (XEP-0215
// §3.1, with credentials where the server includes them). A "turns" entry without
// credentials takes those of a "turn" entry on the same host: Prosody's
// mod_turn_external signs only "turn" entries, for the same coturn secret.
func (a *Account) ExternalServices(ctx context.Context) ([]ExternalService, error) {
	sess := a.session()
	if sess == nil {
		return nil, fmt.Errorf("chat: external services: %w", ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	var query struct {
		Services []serviceXML `xml:"service"`
	}
	domain, err := jid.New("", a.local.Domainpart(), "")
	if err != nil {
		return nil, fmt.Errorf("chat: external services: %w", err)
	}
	iq := stanza.IQ{ID: randomID(), Type: stanza.GetIQ, To: domain}
	payload := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: NSExtDisco, Local: "services"}})
	if err := sess.UnmarshalIQ(ctx, iq.Wrap(payload), &query); err != nil {
		return nil, fmt.Errorf("chat: external services: %w", err)
	}
	return parseServices(query.Services, a.log.Debug), nil
}

// parseServices turns the answer into services, skipping entries without a host or
// with a bad port, and fills turns credentials as ExternalServices says.
func parseServices(in []serviceXML, debug func(msg string, args ...any)) []ExternalService {
	var out []ExternalService
	for _, x := range in {
		if len(out) == maxServices {
			break
		}
		s := ExternalService{Type: strings.ToLower(x.Type), Host: x.Host, Transport: strings.ToLower(x.Transport),
			Username: x.Username, Password: x.Password, Restricted: x.Restricted == "1" || x.Restricted == "true"}
		if s.Host == "" || strings.ContainsAny(s.Host, " /?#@") || (strings.Contains(s.Host, ":") && net.ParseIP(s.Host) == nil) {
			debug("chat: external service with a bad host", "host", x.Host)
			continue
		}
		if x.Port != "" {
			p, err := strconv.Atoi(x.Port)
			if err != nil || p <= 0 || p > 65535 {
				debug("chat: external service with a bad port", "port", x.Port)
				continue
			}
			s.Port = p
		}
		if x.Expires != "" {
			if t, err := time.Parse(time.RFC3339, x.Expires); err == nil {
				s.Expires = t
			}
		}
		out = append(out, s)
	}
	for i := range out {
		if out[i].Type != "turns" || out[i].Username != "" {
			continue
		}
		for _, t := range out {
			if t.Type == "turn" && t.Host == out[i].Host && t.Username != "" {
				out[i].Username, out[i].Password, out[i].Expires = t.Username, t.Password, t.Expires
				break
			}
		}
	}
	return out
}
