package ui

// This file is the only place where engine and account events become tea.Msgs. Every call
// event carries the ID of its session; the root model routes by it and drops events of
// sessions it does not show. A reader Cmd returns one message and Update starts it again.

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
)

// An engine event is its own message: the call.Event values (call.CallEvent,
// call.AcceptEvent, ...) reach Update as they are, each carrying its session's ID, and
// the screens switch on them. A new engine event type needs no edit here, only in the
// screen that presents it.

type (
	// engineClosedMsg: the engine's event stream ended.
	engineClosedMsg struct{}
)

// callEventMsg is the message of one engine event: the event itself.
func callEventMsg(e call.Event) tea.Msg {
	if e == nil {
		return nil
	}
	return e
}

// waitEvent reads one event of ch and returns its message, or closed when ch ends.
// Events conv turns into nil (ignored by the UI) are skipped here, so that the reader
// is restarted only by messages Update handles. Its goroutine (Bubble Tea's, for the
// Cmd) ends with that one message: the engine and the account close their streams
// when they stop.
func waitEvent[E any](ch <-chan E, conv func(E) tea.Msg, closed tea.Msg) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		for e := range ch {
			if msg := conv(e); msg != nil {
				return msg
			}
		}
		return closed
	}
}

// waitCallEvent reads one engine event.
func waitCallEvent(ch <-chan call.Event) tea.Cmd {
	return waitEvent(ch, callEventMsg, engineClosedMsg{})
}

type (
	// serverStateMsg: the XMPP connection changed state.
	serverStateMsg struct {
		State   chat.ConnState
		Err     error
		RetryIn time.Duration
	}
	// rosterMsg: the whole roster.
	rosterMsg struct{ Contacts []chat.Contact }
	// presenceMsg: a contact's presence changed.
	presenceMsg struct {
		JID      jid.JID
		Presence chat.Presence
	}
	// subRequestMsg: someone asks to see our presence.
	subRequestMsg struct{ JID jid.JID }
	// chatErrorMsg: the account reported an error.
	chatErrorMsg struct{ Err error }
	// accountClosedMsg: the account's event stream ended.
	accountClosedMsg struct{}
)

// chatEventMsg turns one account event into a message; nil for events the UI ignores.
func chatEventMsg(e chat.Event) tea.Msg {
	switch e := e.(type) {
	case chat.StateEvent:
		return serverStateMsg{State: e.State, Err: e.Err, RetryIn: e.RetryIn}
	case chat.RosterEvent:
		return rosterMsg{Contacts: e.Contacts}
	case chat.PresenceEvent:
		return presenceMsg{JID: e.JID, Presence: e.Presence}
	case chat.SubscriptionRequestEvent:
		return subRequestMsg{JID: e.JID}
	case chat.ErrorEvent:
		return chatErrorMsg{Err: e.Err}
	}
	return nil
}

// waitChatEvent reads one account event.
func waitChatEvent(ch <-chan chat.Event) tea.Cmd {
	return waitEvent(ch, chatEventMsg, accountClosedMsg{})
}

// isCallEvent reports whether msg came from the engine reader (so Update restarts it):
// the reader's messages, and only they, are call.Events.
func isCallEvent(msg tea.Msg) bool {
	_, ok := msg.(call.Event)
	return ok
}

// isChatEvent reports whether msg came from the account reader.
func isChatEvent(msg tea.Msg) bool {
	switch msg.(type) {
	case serverStateMsg, rosterMsg, presenceMsg, subRequestMsg, chatErrorMsg:
		return true
	}
	return false
}

// mediaNoticeMsg: the media layer tells the user something (a camera replaced by the
// test pattern mid-call).
type mediaNoticeMsg struct{ Text string }

// waitMediaNotice reads one media notice; the reader ends when ui.Run closes the box.
func waitMediaNotice(ch <-chan string) tea.Cmd {
	return waitEvent(ch, func(s string) tea.Msg { return mediaNoticeMsg{Text: s} }, nil)
}
