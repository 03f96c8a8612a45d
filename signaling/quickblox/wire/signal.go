// The Signal type and its parts; the codec is in codec.go, the format in doc.go.

package wire

import (
	"encoding/xml"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/signaling"
)

// ModuleIdentifier marks an extraParams payload as a call signal.
const ModuleIdentifier = "WebRTCVideoChat"

// NS is the namespace of the extraParams element as the SDKs write it.
const NS = "jabber:client"

// MaxPayload is the largest extraParams payload (in bytes of XML) Decode accepts.
const MaxPayload = 256 << 10

// Type is the signalType of a signal.
type Type string

// The signal types of the wire format.
const (
	TypeCall          Type = "call"
	TypeAccept        Type = "accept"
	TypeReject        Type = "reject"
	TypeHangUp        Type = "hangUp"
	TypeICECandidates Type = "iceCandidates"
	TypeUpdate        Type = "update"
)

// CallType is the callType of a session: 1 video, 2 audio (the engine's neutral
// values are these numbers).
type CallType = signaling.CallType

// Call types as numbered on the wire.
const (
	CallTypeUnknown = signaling.CallTypeUnknown
	CallTypeVideo   = signaling.CallTypeVideo
	CallTypeAudio   = signaling.CallTypeAudio
)

// UserID identifies a user. In the quickblox scheme it is a decimal number ("12345");
// in the jid scheme it is a bare JID ("alice@example.org").
type UserID = signaling.UserID

// ICECandidate is one trickled candidate.
type ICECandidate = signaling.ICECandidate

// SessionDescription is carried by update signals used for an ICE restart
// (Reason == ReasonReconnect).
type SessionDescription struct {
	OfferID string
	SDP     string
	Type    string // "offer" or "answer"
}

// ReasonReconnect is the update reason of an ICE-restart offer or answer.
const ReasonReconnect = "reconnect"

// Extension is the caller-supplied key-value map sent as userInfo. Values are strings
// or nested Extension maps (the SDK nests maps as nested elements).
type Extension = signaling.Extension

// Signal is one call signal. From and To are the envelope (the stanza's from and to,
// mapped to user IDs); the rest is the payload.
type Signal struct {
	// Envelope, set by the transport. From is the sender (from the stanza's from JID,
	// not from CallerID); To is the addressee.
	From UserID
	To   UserID
	// StanzaID is the message id; fresh for every send.
	StanzaID string

	Type        Type
	SessionID   string
	CallType    CallType
	CallerID    UserID   // the session's initiator
	OpponentIDs []UserID // every callee; the initiator is not included
	Platform    string   // free text; the web SDK sends "web", ttycall sends "ttycall"

	SDP        string         // call (offer) and accept (answer)
	Candidates []ICECandidate // iceCandidates
	UserInfo   Extension      // optional

	Reason             string              // update: "reconnect" for ICE restart
	SessionDescription *SessionDescription // update with Reason == ReasonReconnect
}

// Scheme maps between user IDs and JIDs and validates IDs read from the wire.
type Scheme interface {
	// Name is "quickblox" or "jid".
	Name() string
	// UserID maps a (full or bare) JID to the user ID it belongs to.
	UserID(j jid.JID) (UserID, error)
	// JID maps a user ID to the bare JID to address signals to.
	JID(id UserID) (jid.JID, error)
	// ParseUserID validates a user ID as written in callerID or opponentID.
	ParseUserID(text string) (UserID, error)
}

// Compile-time reminder of the token interface the codec produces and consumes.
var _ xml.TokenReader = (xml.TokenReader)(nil)
