package chat

import (
	"net"
	"time"
)

// stableConn is the connection as mellium sees it. mellium v0.22 cancels a send whose
// context ends by setting a past deadline on the connection, from a goroutine
// (session.go, setWriteDeadline) that may run only after the send has returned and its
// context was cancelled: a concurrent send on the same stream (the engine's signals,
// a keepalive ping, a presence) then fails with "i/o timeout", maybe halfway through a
// stanza. So past deadlines are ignored here. Nothing is left without a bound by it: a
// login that hangs ends when dial closes the connection with its context, and a stuck
// write when the keepalive or Close closes it. Future deadlines (goodbye) still apply.
type stableConn struct{ net.Conn }

func (c stableConn) SetDeadline(t time.Time) error {
	if past(t) {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

func (c stableConn) SetWriteDeadline(t time.Time) error {
	if past(t) {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// past reports whether t is a deadline that has already passed (the zero time clears a
// deadline and is never past).
func past(t time.Time) bool { return !t.IsZero() && t.Before(time.Now()) }
