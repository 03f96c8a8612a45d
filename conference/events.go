package conference

import (
	"time"

	"github.com/ttycall/ttycall/devices"
)

// Event is one thing that happened in a room; events reach Config.OnEvent in order.
type Event interface{ event() }

// JoinedEvent: we are in the room (again, after a lost Janus, when Rejoined).
type JoinedEvent struct {
	Room     string
	ID       string // our publisher ID
	Rejoined bool
}

// ParticipantJoinedEvent: a participant is in the room (a publisher, or an attendee
// in notify_joining rooms), including those already there when we joined.
type ParticipantJoinedEvent struct {
	ID, Display string
}

// ParticipantLeftEvent: a participant left ("left"), stopped publishing
// ("unpublished"), was kicked, or is gone with the server ("server lost").
type ParticipantLeftEvent struct {
	ID, Display, Reason string
}

// FeedStateEvent: the connection state of a participant's feed changed.
type FeedStateEvent struct {
	ID    string
	State FeedState
}

// RemoteStreamEvent: media of a participant started arriving.
type RemoteStreamEvent struct {
	ID, Display string
	Stream      *RemoteStream
}

// TalkingEvent: a participant started or stopped talking (Janus' audio level events,
// or ttycall's own estimate for feeds that carry no audio level).
type TalkingEvent struct {
	ID      string
	Talking bool
	// Level is Janus' average level in -dBov (0 loudest, 127 silence); -1 when unknown.
	Level float64
}

// SlowLinkEvent: Janus reports losses on one of our links: Uplink is what we send
// (ID empty), else what we receive.
type SlowLinkEvent struct {
	Uplink bool
	Lost   int
	At     time.Time
}

// ServerLostEvent: the connection to Janus dropped (a restart); the room rejoins by
// itself and sends JoinedEvent{Rejoined: true}.
type ServerLostEvent struct {
	Err error
}

// LeftEvent: the room is over for us; the last event. Err is nil after Close.
type LeftEvent struct {
	Reason string
	Err    error
}

func (JoinedEvent) event()            {}
func (ParticipantJoinedEvent) event() {}
func (ParticipantLeftEvent) event()   {}
func (FeedStateEvent) event()         {}
func (RemoteStreamEvent) event()      {}
func (TalkingEvent) event()           {}
func (SlowLinkEvent) event()          {}
func (ServerLostEvent) event()        {}
func (LeftEvent) event()              {}

// Participant is a participant of the room as the room knows it now.
type Participant struct {
	ID, Display string
	State       FeedState
	Talking     bool
	// Audio and Video tell whether the participant publishes them.
	Audio, Video bool
	// Simulcast: its video comes in three layers (Janus' substreams), so SetLayers
	// changes the size received.
	Simulcast bool
	// VideoStream is the participant's video when subscribed and arriving (nil else).
	VideoStream *RemoteStream
	// Streams are the participant's streams arriving now (audio, video).
	Streams []*RemoteStream
}

// videoKind is a short alias.
const videoKind = devices.KindVideo
