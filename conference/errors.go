package conference

import (
	"errors"

	"github.com/ttycall/ttycall/conference/janus"
)

var (
	// ErrUnauthorized: a wrong room pin (or a missing/wrong token).
	ErrUnauthorized = janus.ErrUnauthorized
	// ErrNoSuchRoom: the room does not exist on the server.
	ErrNoSuchRoom = janus.ErrNoSuchRoom
	// ErrConfig: the configuration is incomplete (no server or room).
	ErrConfig = errors.New("conference: bad configuration")
	// ErrWebRTC: a peer connection operation failed.
	ErrWebRTC = errors.New("conference: webrtc")
	// ErrClosed: the room was left.
	ErrClosed = errors.New("conference: room closed")
)
