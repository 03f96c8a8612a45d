package call

// The engine's neutral vocabulary is defined in package signaling (which imports
// nothing, so that protocol adapters need not import the engine) and re-exported here:
// an application speaks of call.UserID and call.Offer, an adapter of signaling.UserID
// and signaling.Offer; they are the same types.

import "github.com/ttycall/ttycall/signaling"

// Who and what.
type (
	UserID       = signaling.UserID
	CallType     = signaling.CallType
	Extension    = signaling.Extension
	ICECandidate = signaling.ICECandidate
)

// Call types.
const (
	CallTypeUnknown = signaling.CallTypeUnknown
	CallTypeVideo   = signaling.CallTypeVideo
	CallTypeAudio   = signaling.CallTypeAudio
)

// The messages a call is negotiated with, and the interfaces they cross.
type (
	SessionInfo = signaling.Session
	Header      = signaling.Header
	Message     = signaling.Message
	Offer       = signaling.Offer
	Answer      = signaling.Answer
	Candidates  = signaling.Candidates
	Reject      = signaling.Reject
	Terminate   = signaling.Terminate
	Restart     = signaling.Restart
	Update      = signaling.Update
	Mute        = signaling.Mute
	Muter       = signaling.Muter
	SDPType     = signaling.SDPType
	Signaling   = signaling.Signaling
	Incoming    = signaling.Incoming
	Rules       = signaling.Rules
	Router      = signaling.Router
)

// Limits shared with the adapters.
const (
	MaxOpponents = signaling.MaxOpponents
	MaxSDP       = signaling.MaxSDP
)

// Restart description types.
const (
	SDPOffer  = signaling.SDPOffer
	SDPAnswer = signaling.SDPAnswer
)

// Client receives what adapters decode.
var _ Incoming = (*Client)(nil)
