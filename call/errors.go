package call

import "errors"

// Sentinel errors of the engine. Errors returned by the engine wrap one of these with
// context (check with errors.Is).
var (
	// ErrClientClosed: the Client was closed.
	ErrClientClosed = errors.New("call: client closed")
	// ErrSessionClosed: the session is closed.
	ErrSessionClosed = errors.New("call: session closed")
	// ErrSessionExists: a live session with the same opponents exists.
	ErrSessionExists = errors.New("call: a live session with these opponents exists")
	// ErrInvalidState: the operation makes no sense in the session's current state.
	ErrInvalidState = errors.New("call: invalid state for this operation")
	// ErrUnknownSession: a signal names a session this client does not know.
	ErrUnknownSession = errors.New("call: unknown session")
	// ErrNotParticipant: a signal comes from, or names, a user who is not in the session.
	ErrNotParticipant = errors.New("call: user is not a participant of the session")
	// ErrBusy: an incoming call was rejected because IncomingLimit sessions are live.
	ErrBusy = errors.New("call: busy")
	// ErrRefused: Config.Admit refused an incoming call, or Config.Screen a message.
	ErrRefused = errors.New("call: call refused")
	// ErrBlocked: the caller may not ring this user (calls.accept_from). Config.Admit
	// wraps it to have a refused call reported as a MissedCallEvent with Reason "blocked".
	ErrBlocked = errors.New("call: caller not allowed to ring")
	// ErrRateLimited: a sender made more call offers than the engine takes per minute.
	ErrRateLimited = errors.New("call: too many calls from this sender")
	// ErrBadSignal: a signal is malformed or could not be decoded.
	ErrBadSignal = errors.New("call: bad signal")
	// ErrNoOpponents: a session needs at least one opponent other than the local user.
	ErrNoOpponents = errors.New("call: no opponents")
	// ErrConfig: the Config is incomplete or inconsistent.
	ErrConfig = errors.New("call: bad config")
	// ErrMedia: local media could not be opened or attached.
	ErrMedia = errors.New("call: media")
	// ErrWebRTC: a pion operation (offer, answer, candidate) failed.
	ErrWebRTC = errors.New("call: webrtc")
)
