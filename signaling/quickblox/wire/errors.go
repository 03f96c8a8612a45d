package wire

import "errors"

// Sentinel errors. Decode and the schemes wrap them with the element or value at fault;
// callers test them with errors.Is.
var (
	// ErrNotSignal: the extraParams payload is not a call signal (moduleIdentifier is
	// missing or not WebRTCVideoChat). The transport ignores such headlines silently.
	ErrNotSignal = errors.New("signal: not a call signal")
	// ErrMissingSessionID: the signal carries no sessionID.
	ErrMissingSessionID = errors.New("signal: missing sessionID")
	// ErrUnknownType: signalType is missing or not one of the six types.
	ErrUnknownType = errors.New("signal: unknown signalType")
	// ErrBadCallType: callType is missing or not 1 (video) or 2 (audio).
	ErrBadCallType = errors.New("signal: bad callType")
	// ErrTooLarge: the payload exceeds MaxPayload bytes.
	ErrTooLarge = errors.New("signal: payload too large")
	// ErrBadUserID: a user ID (callerID, opponentID, or an ID given to a Scheme) is not
	// valid in the account's ID scheme, e.g. not a decimal number under quickblox.
	ErrBadUserID = errors.New("signal: bad user ID")
	// ErrForeignJID: a JID does not belong to the scheme's application and host.
	ErrForeignJID = errors.New("signal: JID outside the ID scheme")
	// ErrTooDeep: userInfo (or the payload) nests deeper than MaxDepth.
	ErrTooDeep = errors.New("signal: nesting too deep")
	// ErrTooMany: more than MaxCandidates candidates, MaxOpponents opponents or
	// MaxElements elements.
	ErrTooMany = errors.New("signal: too many elements")
	// ErrMissingSDP: a call or accept without sdp, or an update sessionDescription
	// without sdp.
	ErrMissingSDP = errors.New("signal: missing sdp")
	// ErrMalformed: anything else that is not well-formed for its signal type
	// (bad candidate, bad sessionDescription type, broken XML, bad userInfo key).
	ErrMalformed = errors.New("signal: malformed signal")
	// ErrScheme: unknown ID scheme name, or an account that cannot use the scheme.
	ErrScheme = errors.New("signal: bad ID scheme")
)
