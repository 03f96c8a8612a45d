package ui

// This file is the only place where engine and account events become tea.Msgs. Every call
// message carries the ID of its session; the root model routes by it and drops messages of
// sessions it does not show. A reader Cmd returns one message and Update starts it again.

import (
	"time"

	tea "charm.land/bubbletea/v2"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/call/signal"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/devices"
)

// sessionMsg is a message about one call session.
type sessionMsg interface {
	sessionID() string
}

// callMeta is embedded in every call message.
type callMeta struct {
	SessionID string
	User      signal.UserID
	Time      time.Time
}

func (m callMeta) sessionID() string { return m.SessionID }

func metaOf(e call.Event) callMeta {
	em := e.Meta()
	t := em.Time
	if t.IsZero() {
		t = time.Now()
	}
	return callMeta{SessionID: em.SessionID, User: em.User, Time: t}
}

type (
	// incomingCallMsg: a new incoming call is ringing.
	incomingCallMsg struct {
		callMeta
		CallType    signal.CallType
		InitiatorID signal.UserID
		OpponentIDs []signal.UserID
	}
	// acceptMsg: an opponent accepted our call.
	acceptMsg struct{ callMeta }
	// rejectMsg: an opponent rejected our call.
	rejectMsg struct{ callMeta }
	// stopMsg: an opponent hung up.
	stopMsg struct{ callMeta }
	// notAnsweredMsg: an opponent did not answer in time.
	notAnsweredMsg struct{ callMeta }
	// sessionClosedMsg: the session ended; it is the last message of its session.
	sessionClosedMsg struct {
		callMeta
		Reason string
	}
	// sessionStateMsg: the session's state changed.
	sessionStateMsg struct {
		callMeta
		Old, New call.SessionState
	}
	// connStateMsg: the peer connection with User changed state.
	connStateMsg struct {
		callMeta
		State  call.ConnectionState
		Reason string // why FAILED, when the engine knows
	}
	// reconnectMsg: reconnection progress with User.
	reconnectMsg struct {
		callMeta
		State call.ReconnectionState
	}
	// updateMsg: an opponent sent an update.
	updateMsg struct {
		callMeta
		Ext signal.Extension
	}
	// invalidMsg: an operation or signal could not be applied.
	invalidMsg struct {
		callMeta
		Op  string
		Err error
	}
	// remoteStreamMsg: media from User started to arrive.
	remoteStreamMsg struct {
		callMeta
		Kind  devices.Kind
		Video *devices.FrameSlot // nil for audio, or when video is not decoded
	}
	// statsMsg: a stats report for User.
	statsMsg struct {
		callMeta
		Stats call.Stats
	}
	// engineClosedMsg: the engine's event stream ended.
	engineClosedMsg struct{}
)

// callEventMsg turns one engine event into a message; nil for events the UI ignores.
func callEventMsg(e call.Event) tea.Msg {
	m := metaOf(e)
	switch e := e.(type) {
	case call.CallEvent:
		return incomingCallMsg{callMeta: m, CallType: e.CallType, InitiatorID: e.InitiatorID, OpponentIDs: e.OpponentIDs}
	case *call.CallEvent:
		return callEventMsg(*e)
	case call.AcceptEvent:
		return acceptMsg{m}
	case call.RejectEvent:
		return rejectMsg{m}
	case call.StopEvent:
		return stopMsg{m}
	case call.UserNotAnswerEvent:
		return notAnsweredMsg{m}
	case call.SessionCloseEvent:
		return sessionClosedMsg{callMeta: m, Reason: e.Reason}
	case call.SessionStateEvent:
		return sessionStateMsg{callMeta: m, Old: e.Old, New: e.New}
	case call.ConnectionStateEvent:
		return connStateMsg{callMeta: m, State: e.State, Reason: e.Reason}
	case call.ReconnectEvent:
		return reconnectMsg{callMeta: m, State: e.State}
	case call.UpdateEvent:
		return updateMsg{callMeta: m, Ext: e.Ext}
	case call.InvalidEvent:
		return invalidMsg{callMeta: m, Op: e.Op, Err: e.Err}
	case call.RemoteStreamEvent:
		rs := remoteStreamMsg{callMeta: m}
		if e.Stream != nil {
			rs.Kind = e.Stream.Kind
			rs.Video = e.Stream.Video
			if rs.User == "" {
				rs.User = e.Stream.User
			}
		}
		return rs
	case call.StatsEvent:
		return statsMsg{callMeta: m, Stats: e.Stats}
	}
	return nil
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
// the reader's messages, and only they, embed callMeta.
func isCallEvent(msg tea.Msg) bool {
	_, ok := msg.(sessionMsg)
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
