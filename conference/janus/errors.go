package janus

import (
	"errors"
	"fmt"
)

// Sentinel errors; the errors Janus returns are *Error values that match them through
// errors.Is where one applies.
var (
	// ErrClosed: the client was closed, or the connection to Janus was lost (a restart).
	ErrClosed = errors.New("janus: connection closed")
	// ErrTimeout: Janus did not answer a request in time.
	ErrTimeout = errors.New("janus: request timed out")
	// ErrUnauthorized: a wrong room pin or secret, or a missing token (codes 403, 433).
	ErrUnauthorized = errors.New("janus: unauthorized (wrong pin, secret or token)")
	// ErrNoSuchRoom: the room does not exist (VideoRoom 426).
	ErrNoSuchRoom = errors.New("janus: no such room")
	// ErrRoomFull: the room has its maximum of publishers (VideoRoom 432).
	ErrRoomFull = errors.New("janus: room is full")
	// ErrProtocol: Janus sent something this client does not understand.
	ErrProtocol = errors.New("janus: protocol error")
)

// Error is an error Janus returned: from the core (Plugin false) or from a plugin's
// response (error_code and error in its data).
type Error struct {
	Plugin bool
	Code   int
	Reason string
}

func (e *Error) Error() string {
	src := "janus"
	if e.Plugin {
		src = "janus plugin"
	}
	return fmt.Sprintf("%s: error %d: %s", src, e.Code, e.Reason)
}

// Is maps codes onto the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return (!e.Plugin && e.Code == 403) || (e.Plugin && e.Code == 433)
	case ErrNoSuchRoom:
		return e.Plugin && e.Code == 426
	case ErrRoomFull:
		return e.Plugin && e.Code == 432
	}
	return false
}
