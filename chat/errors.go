package chat

import "errors"

// Sentinel errors of the account. Errors returned or reported by this package wrap one
// of these (or a network error) with context; check them with errors.Is.
var (
	// ErrAuth is wrapped by the error Run returns when the server refuses the
	// credentials (or offers no mechanism we may use). Run makes no further attempt.
	ErrAuth = errors.New("authentication failed")
	// ErrOffline is wrapped by SendSignal and the other senders when the account is not
	// online; they return at once instead of waiting for a connection.
	ErrOffline = errors.New("not connected")
	// ErrConfig is wrapped by New for an unusable Config.
	ErrConfig = errors.New("bad account config")
	// ErrInsecure is wrapped by New when tls = "none" is asked for a server that is not
	// a loopback address.
	ErrInsecure = errors.New("unencrypted connection refused")
	// ErrClosed is returned by Run after Close.
	ErrClosed = errors.New("account closed")
	// ErrRunning is returned by a second call of Run.
	ErrRunning = errors.New("account already running")
	// ErrPingTimeout is the reason reported when the server stopped answering
	// keepalive pings (a dead connection).
	ErrPingTimeout = errors.New("server did not answer ping")
	// ErrBadSignal wraps the reason an incoming signal could not be decoded; it is what
	// OnSignalError and ErrorEvent receive.
	ErrBadSignal = errors.New("bad call signal")
)

// ErrDisconnected is the reason reported when an established connection ended
// without a keepalive failure (closed by the server, reset, stream error).
var ErrDisconnected = errors.New("connection lost")
