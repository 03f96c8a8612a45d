package chat

// ConnState is the state of the server connection.
type ConnState int

// Connection states.
const (
	ConnStateUnknown ConnState = iota
	Connecting                 // dialling, TLS, SASL, bind, roster
	Online                     // session ready, initial presence sent
	Offline                    // no connection; StateEvent.Err says why
	Reconnecting               // waiting StateEvent.RetryIn before the next attempt
)

func (s ConnState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	case Offline:
		return "offline"
	case Reconnecting:
		return "reconnecting"
	default:
		return "unknown"
	}
}
