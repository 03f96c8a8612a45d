package signal

// CONTRACT STUB: the codec's entry points, agreed with package chat. Replaced when the
// codec lands.

import (
	"encoding/xml"
	"errors"

	"mellium.im/xmpp/jid"
)

var errNotImplemented = errors.New("signal: not implemented yet")

// Encode returns the tokens of s's <extraParams xmlns="jabber:client"> element (the
// envelope fields From, To and StanzaID are not part of it; the transport writes them).
func Encode(s *Signal, sch Scheme) xml.TokenReader { return nil }

// Decode reads one <extraParams> element from r, whose next token is its start element,
// and validates it. From/To/StanzaID are left for the transport to fill.
func Decode(r xml.TokenReader, sch Scheme) (*Signal, error) { return nil, errNotImplemented }

// Marshal and Unmarshal are Encode and Decode on bytes.
func Marshal(s *Signal, sch Scheme) ([]byte, error)      { return nil, errNotImplemented }
func Unmarshal(data []byte, sch Scheme) (*Signal, error) { return nil, errNotImplemented }

// NewScheme picks the ID scheme for an account: name is "auto", "jid" or "quickblox";
// "auto" means quickblox when the account's localpart is "{digits}-{digits}".
func NewScheme(name string, account jid.JID) (Scheme, error) { return nil, errNotImplemented }
