package conference

// FeedState is the connection state of one remote feed, as call.ConnectionState is
// for one opponent of a mesh session.
type FeedState int

// Feed states. A feed is CONNECTING once subscribed, CONNECTED when its first media
// arrives, FAILED when the subscriber connection fails, CLOSED when it leaves.
const (
	FeedStateUnknown FeedState = iota
	FeedConnecting
	FeedConnected
	FeedFailed
	FeedClosed
)

func (s FeedState) String() string {
	switch s {
	case FeedConnecting:
		return "CONNECTING"
	case FeedConnected:
		return "CONNECTED"
	case FeedFailed:
		return "FAILED"
	case FeedClosed:
		return "CLOSED"
	default:
		return "UNKNOWN"
	}
}
