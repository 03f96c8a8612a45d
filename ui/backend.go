package ui

// This file names what the interface needs from the XMPP account and the call engine, so
// that screens are written (and tested) against small interfaces and fakes. The real
// *chat.Account and *call.Client are adapted in adapters.go.

import (
	"context"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/devices"
)

// Account is the part of *chat.Account the interface uses.
type Account interface {
	Events() <-chan chat.Event
	LocalID() call.UserID
	Roster() []chat.Contact
	Subscribe(ctx context.Context, j jid.JID) error
	Approve(ctx context.Context, j jid.JID) error
	// Remove deletes a contact from the roster.
	Remove(ctx context.Context, j jid.JID) error
	Deny(ctx context.Context, j jid.JID) error
}

// Engine is the part of *call.Client the interface uses.
type Engine interface {
	Events() <-chan call.Event
	CreateNewSession(opponents []call.UserID, t call.CallType) (Session, error)
	// Session returns a live session, or nil.
	Session(id string) Session
}

// Session is the part of *call.Session the interface uses.
type Session interface {
	ID() string
	GetUserMedia(ctx context.Context, p devices.MediaParams) (*devices.LocalStream, error)
	LocalStream() *devices.LocalStream
	Call(ext call.Extension) error
	Accept(ext call.Extension) error
	Reject(ext call.Extension) error
	Stop(ext call.Extension) error
	Mute(k devices.Kind) error
	Unmute(k devices.Kind) error
}
