package call

import (
	"time"
)

// Event is one thing that happened in the engine. Events reach consumers in order
// through Client.Events and, built from the same values, through the OnX listeners.
// Every event carries the ID of the session it belongs to.
type Event interface {
	// Session is the ID of the session the event belongs to.
	Session() string
	// Meta returns the common fields.
	Meta() EventMeta
}

// EventMeta holds the fields every event has.
type EventMeta struct {
	SessionID string
	// User is the opponent the event is about (the sender of a message, the peer of a
	// connection); empty for events about the whole session.
	User UserID
	Time time.Time
}

// Session implements Event.
func (m EventMeta) Session() string { return m.SessionID }

// Meta implements Event.
func (m EventMeta) Meta() EventMeta { return m }

// CallEvent: a new incoming call session (onCallListener). The session is NEW; accept
// or reject it through Client.Session(ID).
type CallEvent struct {
	EventMeta
	CallType    CallType
	InitiatorID UserID
	OpponentIDs []UserID
	Ext         Extension
}

// MissedCallEvent: an incoming call that never rang because the engine refused it:
// busy (AutoReject beyond IncomingLimit), refused by Config.Admit, or blocked (Admit's
// error wraps ErrBlocked: the caller may not ring, calls.accept_from). The caller was
// rejected; no session exists for it (an InvalidEvent reports a busy or refused call
// too; a blocked one is policy, not an error). User and InitiatorID are the sender of
// the offer, the only caller ttycall trusts.
type MissedCallEvent struct {
	EventMeta
	CallType    CallType
	InitiatorID UserID
	OpponentIDs []UserID
	Reason      string // "busy", "refused" or "blocked"
}

// AcceptEvent: an opponent accepted the call (onAcceptCallListener).
type AcceptEvent struct {
	EventMeta
	CallType CallType
	Ext      Extension
}

// RejectEvent: an opponent rejected the call (onRejectCallListener).
type RejectEvent struct {
	EventMeta
	CallType CallType
	Ext      Extension
}

// StopEvent: an opponent hung up (onStopCallListener).
type StopEvent struct {
	EventMeta
	CallType CallType
	Ext      Extension
}

// UserNotAnswerEvent: an opponent did not answer within the answer time interval
// (onUserNotAnswerListener).
type UserNotAnswerEvent struct {
	EventMeta
}

// SessionCloseEvent: the session closed (onSessionCloseListener); it is the last
// event of its session, except InvalidEvents about operations attempted on the closed
// session (Accept after close) or messages that make no sense after it.
type SessionCloseEvent struct {
	EventMeta
	// Reason says why, in words for a log or a status line ("hung up", "rejected",
	// "not answered", "answer timeout", "all peers closed", "client closed",
	// "connection failed", "call failed", "bad call", "bad answer").
	Reason string
}

// SessionStateEvent: the session's state changed (NEW, ACTIVE, HUNGUP, REJECTED, CLOSED).
type SessionStateEvent struct {
	EventMeta
	Old, New SessionState
}

// ConnectionStateEvent: the peer connection with User changed state
// (onSessionConnectionStateChangedListener).
type ConnectionStateEvent struct {
	EventMeta
	State ConnectionState
	// Reason says why, with FAILED before the first connection: which relay could not
	// be used, or that none is configured. "" otherwise.
	Reason string
}

// ReconnectEvent: reconnection progress with User (RECONNECTING, RECONNECTED, FAILED).
type ReconnectEvent struct {
	EventMeta
	State ReconnectionState
}

// UpdateEvent: an opponent sent update() with an extension (onUpdateCallListener).
type UpdateEvent struct {
	EventMeta
	Ext Extension
}

// InvalidEvent: a message or an operation that could not be applied
// (onInvalidEventsListener). Nothing else changed because of it.
type InvalidEvent struct {
	EventMeta
	// Op names what was attempted: the kind of an incoming message ("offer",
	// "terminate", ...; "signal" for one the adapter could not decode), "send <kind>"
	// for one that could not be sent, or a method ("Accept").
	Op  string
	Err error
}

// RemoteStreamEvent: media from User started to arrive (onRemoteStreamListener).
// It fires once per remote track.
type RemoteStreamEvent struct {
	EventMeta
	Stream *RemoteStream
}

// StatsEvent: a periodic stats report for User (onCallStatsReport).
type StatsEvent struct {
	EventMeta
	Stats Stats
}

// Stats is one report for one opponent.
type Stats struct {
	Local, Remote MediaStats // Local: what we send; Remote: what we receive
	RTT           time.Duration
	Candidate     CandidatePair
	// AvailableOutgoingBitrate (bit/s) is the congestion controller's (GCC) estimate of
	// what the path to this opponent carries, as getStats' candidate-pair names it.
	AvailableOutgoingBitrate float64
}

// MediaStats are the figures for one direction.
type MediaStats struct {
	Audio TrackStats
	Video TrackStats
}

// TrackStats are the figures of one track in one direction.
type TrackStats struct {
	BitrateKbps float64
	Bytes       uint64
	Packets     uint64
	PacketsLost int64
	Jitter      float64 // seconds
	FPS         float64 // video only (framesPerSecond)
	Width       int     // video only
	Height      int     // video only
	// The rest as getStats names them. NACKCount and PLICount: sent for a received
	// stream, received for a sent one.
	NACKCount uint64
	PLICount  uint64
	// Received video: freezes by Chromium's definition (a frame later than
	// max(3 x the mean frame interval, the mean + 150 ms)).
	FreezeCount          uint64
	TotalFreezesDuration time.Duration
	// Received video and audio: the mean time a frame (video: between its first packet
	// and its decode) or a sample (audio: between its packet's arrival and its playout)
	// waited in the jitter buffer: jitterBufferDelay divided by jitterBufferEmittedCount.
	JitterBufferDelay time.Duration
	// Received audio: the jitter buffer's target delay, the mean over emitted samples
	// (jitterBufferTargetDelay divided by jitterBufferEmittedCount).
	JitterBufferTargetDelay time.Duration
	// Received audio: samples played out (decoded, rebuilt from FEC, concealed, or
	// DTX silence) and those made up for missing packets (lost, late, or the buffer ran
	// dry), in how many runs; samples inserted or dropped to move the jitter buffer's
	// delay to its target.
	TotalSamplesReceived           uint64
	ConcealedSamples               uint64
	ConcealmentEvents              uint64
	InsertedSamplesForDeceleration uint64
	RemovedSamplesForAcceleration  uint64
	// Sent video: "none" or "bandwidth" (the encoder lowered its frame rate or size).
	QualityLimitationReason string
}

// CandidatePair is the selected ICE candidate pair.
type CandidatePair struct {
	Protocol      string // "udp" or "tcp"
	LocalType     string // host, srflx, prflx, relay
	LocalAddress  string
	LocalPort     int
	RemoteType    string
	RemoteAddress string
	RemotePort    int
	// RelayProtocol is how we reach our TURN server when LocalType is relay: "udp",
	// "tcp" or "tls" ("" otherwise).
	RelayProtocol string
}
