package chat

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/stream"
)

// tlsConfig verifies the server against the system roots plus cfg.CAFile, with the
// JID's domain as the server name (also when Server is an IP address).
func tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.TLS == TLSNone {
		return nil, nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("chat: %w: ca_file: %w", ErrConfig, err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("chat: %w: ca_file %s: no PEM certificate in it", ErrConfig, cfg.CAFile)
		}
	}
	return &tls.Config{
		ServerName: cfg.JID.Domainpart(),
		RootCAs:    roots,
		MinVersion: tls.VersionTLS12,
	}, nil
}

// dial opens a TCP (or direct TLS) connection and negotiates the stream: StartTLS,
// SASL, resource binding. A refused login is reported wrapping ErrAuth.
func (a *Account) dial(ctx context.Context) (*xmpp.Session, error) {
	password, err := a.password(ctx)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", a.addr)
	if err != nil {
		return nil, fmt.Errorf("chat: connect: %w", err)
	}
	conn = stableConn{conn}
	var rw net.Conn = conn
	var state xmpp.SessionState
	// origin is the `from` of our stream header. Before StartTLS the header travels in
	// clear text: it says nothing of who we are (RFC 6120 §4.7.1 makes `from`
	// optional there); the StartTLS feature sets it once the stream is encrypted.
	origin := a.local
	features := make([]xmpp.StreamFeature, 0, 3)
	switch a.cfg.TLS {
	case TLSDirect:
		tc := tls.Client(conn, a.tlsCfg.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("chat: tls with %s: %w", a.addr, err)
		}
		rw = tc // mellium marks a *tls.Conn as secure
	case TLSNone:
		// Loopback only (checked by New). mellium requires a secure stream before SASL;
		// we vouch for it, and mechanisms keeps to SCRAM.
		state = xmpp.Secure
	default:
		// mellium negotiates StartTLS even when the server does not offer it (RFC 7590
		// downgrade protection), so SASL below always runs inside TLS.
		features = append(features, startTLSFeature(a.tlsCfg.Clone(), a.local))
		origin = jid.JID{}
	}
	features = append(features, authFeature(a.local, xmpp.SASL("", password, mechanisms(a.cfg.TLS)...)), bindFeature(a.local))

	// mellium v0.22 cancels a blocked read by setting a past deadline and clearing it at
	// once, which the read may miss: a server that stops talking during the login then
	// hangs it past ConnectTimeout and Close. Closing the connection when ctx ends is
	// reliable.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	s, err := xmpp.NewSession(ctx, a.local.Domain(), origin, rw, state, xmpp.NewNegotiator(
		func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features}
		}))
	if !stop() { // ctx ended and the connection is closed, whatever NewSession says
		if err == nil {
			err = ctx.Err()
		} else {
			err = fmt.Errorf("%w: %w", ctx.Err(), err)
		}
	}
	if err != nil {
		rw.Close()
		if isAuth(err) {
			return nil, err
		}
		return nil, fmt.Errorf("chat: login at %s: %w", a.addr, err)
	}
	return s, nil
}

// startTLSFeature is mellium's StartTLS that, once TLS is up, makes local the `from`
// of the streams that follow (SASL takes the user name from it too).
func startTLSFeature(cfg *tls.Config, local jid.JID) xmpp.StreamFeature {
	f := xmpp.StartTLS(cfg)
	negotiate := f.Negotiate
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, data any) (xmpp.SessionState, io.ReadWriter, error) {
		mask, rw, err := negotiate(ctx, s, data)
		if err == nil {
			s.UpdateAddr(local)
		}
		return mask, rw, err
	}
	return f
}

// mechanisms are the SASL mechanisms we accept, best first: SCRAM, which never sends
// the password, always; PLAIN, which does, only inside TLS.
func mechanisms(mode TLSMode) []sasl.Mechanism {
	mechs := []sasl.Mechanism{sasl.ScramSha256, sasl.ScramSha1}
	if mode != TLSNone {
		mechs = append(mechs, sasl.Plain)
	}
	return mechs
}

// authFeature wraps the SASL feature so that a <failure/> from the server (wrong
// password, account disabled) or no usable mechanism is reported as ErrAuth; network
// errors during SASL stay what they are (and are retried).
func authFeature(local jid.JID, f xmpp.StreamFeature) xmpp.StreamFeature {
	negotiate := f.Negotiate
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, data any) (xmpp.SessionState, io.ReadWriter, error) {
		mask, rw, err := negotiate(ctx, s, data)
		if err != nil && isSASLRefusal(err) {
			err = &loginError{account: local.Bare().String(), err: err}
		}
		return mask, rw, err
	}
	return f
}

// loginError is a refused login, said the way a user can act on it ("login refused
// for alice@example.org: wrong password (server said: not-authorized)"), with no SASL
// internals. It wraps ErrAuth.
type loginError struct {
	account string
	err     error // what mellium reported
}

func (e *loginError) Error() string {
	cond := saslCondition(e.err)
	var why string
	switch {
	case cond == "not-authorized":
		why = "wrong password"
	case cond == "account-disabled":
		why = "the account is disabled"
	case cond == "credentials-expired":
		why = "the password has expired"
	case cond == "temporary-auth-failure":
		why = "the server could not check the password just now; try again later"
	case cond != "":
		why = "the server refused the login"
	case errors.Is(e.err, sasl.ErrAuthn):
		why = "the server could not prove it knows the password (SCRAM check failed)"
	default:
		why = "no login method in common with the server"
	}
	if cond != "" {
		why += " (server said: " + cond + ")"
	}
	return "login refused for " + e.account + ": " + why
}

func (e *loginError) Unwrap() []error { return []error{ErrAuth, e.err} }

// saslCondition is the condition of a SASL <failure/> (not-authorized, ...), read from
// the element mellium's error marshals to; "" for other errors.
func saslCondition(err error) string {
	var m interface {
		error
		TokenReader() xml.TokenReader
	}
	if !errors.As(err, &m) {
		return ""
	}
	r := m.TokenReader()
	depth := 0
	for range 32 {
		tok, err := r.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local != "text" {
				return t.Name.Local
			}
		case xml.EndElement:
			depth--
		}
	}
	return ""
}

// bindFeature is RFC 6120 resource binding, client side, asking for local's resource.
// mellium v0.22's BindResource writes an empty <resource/> whenever a resource is
// requested (its payload encoder writes the JID field there), so the server always
// picked a random one; this keeps mellium's feature description and replaces the
// exchange.
func bindFeature(local jid.JID) xmpp.StreamFeature {
	f := xmpp.BindResource()
	f.Negotiate = func(ctx context.Context, s *xmpp.Session, _ any) (xmpp.SessionState, io.ReadWriter, error) {
		w := s.TokenWriter()
		defer w.Close()
		r := s.TokenReader()
		defer r.Close()

		id := randomID()
		req := stanza.IQ{ID: id, Type: stanza.SetIQ}.Wrap(xmlstream.Wrap(
			xmlstream.Wrap(xmlstream.Token(xml.CharData(local.Resourcepart())), xml.StartElement{Name: xml.Name{Local: "resource"}}),
			xml.StartElement{Name: xml.Name{Space: nsBind, Local: "bind"}},
		))
		if _, err := xmlstream.Copy(w, req); err != nil {
			return 0, nil, fmt.Errorf("bind: %w", err)
		}
		if err := w.Flush(); err != nil {
			return 0, nil, fmt.Errorf("bind: %w", err)
		}

		d := xml.NewTokenDecoder(r)
		tok, err := d.Token()
		if err != nil {
			return 0, nil, fmt.Errorf("bind: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "iq" {
			return 0, nil, fmt.Errorf("bind: %w", stream.BadFormat)
		}
		var resp struct {
			ID   string        `xml:"id,attr"`
			Type stanza.IQType `xml:"type,attr"`
			JID  string        `xml:"urn:ietf:params:xml:ns:xmpp-bind bind>jid"`
			Err  *stanza.Error `xml:"error"`
		}
		if err := d.DecodeElement(&resp, &start); err != nil {
			return 0, nil, fmt.Errorf("bind: %w", err)
		}
		switch {
		case resp.ID != id:
			return 0, nil, fmt.Errorf("bind: %w", stream.UndefinedCondition)
		case resp.Type == stanza.ErrorIQ && resp.Err != nil:
			return 0, nil, fmt.Errorf("bind %q: %w", local.Resourcepart(), *resp.Err)
		case resp.Type != stanza.ResultIQ:
			return 0, nil, fmt.Errorf("bind: %w", stream.BadFormat)
		}
		bound, err := jid.Parse(resp.JID)
		if err != nil {
			return 0, nil, fmt.Errorf("bind: server gave %q: %w", resp.JID, err)
		}
		s.UpdateAddr(bound)
		return xmpp.Ready, nil, nil
	}
	return f
}

// nsBind is the namespace of RFC 6120 resource binding.
const nsBind = "urn:ietf:params:xml:ns:xmpp-bind"

// isSASLRefusal recognises the errors of a server that answered and said no: a SASL
// <failure/> (mellium's internal saslerr.Error, a marshalable error that is not a
// stream error), a failed SCRAM verification, or no mechanism in common.
func isSASLRefusal(err error) bool {
	var se stream.Error
	if errors.As(err, &se) {
		return false
	}
	var m interface {
		error
		TokenReader() xml.TokenReader
	}
	if errors.As(err, &m) {
		return true
	}
	if errors.Is(err, sasl.ErrAuthn) {
		return true
	}
	return err.Error() == "xmpp: no matching SASL mechanisms found"
}

func isAuth(err error) bool { return errors.Is(err, ErrAuth) }
