package conference

import "github.com/ttycall/ttycall/call"

// FeedState is the connection state of one remote feed: the engine's own
// call.ConnectionState, so that a UI or a script reads a room's feeds as it reads a
// mesh session's opponents.
type FeedState = call.ConnectionState

// The states a feed goes through: CONNECTING once subscribed, CONNECTED when its first
// media arrives, FAILED when the subscriber connection fails, CLOSED when it leaves.
const (
	FeedStateUnknown = call.ConnectionStateUnknown
	FeedConnecting   = call.ConnectionConnecting
	FeedConnected    = call.ConnectionConnected
	FeedFailed       = call.ConnectionFailed
	FeedClosed       = call.ConnectionClosed
)
