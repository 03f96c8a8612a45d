package call

// SessionState is the state of a call session, as in the SDK.
type SessionState int

// Session states. Nothing leaves SessionClosed.
const (
	SessionStateUnknown SessionState = iota
	SessionNew
	SessionActive
	SessionHungUp
	SessionRejected
	SessionClosed
)

func (s SessionState) String() string {
	switch s {
	case SessionNew:
		return "NEW"
	case SessionActive:
		return "ACTIVE"
	case SessionHungUp:
		return "HUNGUP"
	case SessionRejected:
		return "REJECTED"
	case SessionClosed:
		return "CLOSED"
	default:
		return "UNKNOWN"
	}
}

// ConnectionState is the state of the peer connection with one opponent.
type ConnectionState int

// Connection states per opponent, as in the SDK.
const (
	ConnectionStateUnknown ConnectionState = iota
	ConnectionConnecting
	ConnectionConnected
	ConnectionCompleted
	ConnectionDisconnected
	ConnectionFailed
	ConnectionClosed
)

func (s ConnectionState) String() string {
	switch s {
	case ConnectionConnecting:
		return "CONNECTING"
	case ConnectionConnected:
		return "CONNECTED"
	case ConnectionCompleted:
		return "COMPLETED"
	case ConnectionDisconnected:
		return "DISCONNECTED"
	case ConnectionFailed:
		return "FAILED"
	case ConnectionClosed:
		return "CLOSED"
	default:
		return "UNKNOWN"
	}
}

// ReconnectionState reports the progress of restoring a lost peer connection.
type ReconnectionState int

// Reconnection states, as in the SDK.
const (
	ReconnectionStateUnknown ReconnectionState = iota
	Reconnecting
	Reconnected
	ReconnectionFailed
)

func (s ReconnectionState) String() string {
	switch s {
	case Reconnecting:
		return "RECONNECTING"
	case Reconnected:
		return "RECONNECTED"
	case ReconnectionFailed:
		return "FAILED"
	default:
		return "UNKNOWN"
	}
}
