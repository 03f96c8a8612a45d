package call

// This file is the engine's public surface, agreed between the engine, the UI and the
// headless mode. CONTRACT STUB: the bodies are placeholders until the engine lands.

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ttycall/ttycall/call/signal"
	"github.com/ttycall/ttycall/devices"
)

var errNotImplemented = errors.New("call: not implemented yet")

// Signaler sends signals to opponents; the XMPP account implements it. Incoming signals
// are handed to Client.HandleSignal by whoever owns the account.
type Signaler interface {
	SendSignal(ctx context.Context, to signal.UserID, s *signal.Signal) error
}

// ICEServer is a STUN or TURN server.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Config configures a Client. Zero durations take the SDK's defaults.
type Config struct {
	LocalID  signal.UserID
	Signaler Signaler
	Platform string // sent in every signal; default "ttycall"

	AnswerTimeInterval     time.Duration // default 60 s
	DialingTimeInterval    time.Duration // default 5 s
	DisconnectTimeInterval time.Duration // default 30 s
	ReconnectWait          time.Duration // wait for ICE to recover before restarting it; default 5 s
	StatsReportInterval    time.Duration // 0: no stats reports
	AutoReject             bool          // busy: reject calls beyond IncomingLimit
	IncomingLimit          int           // default 1
	BandwidthKbps          int           // 0: no cap; else b=AS in the video section

	ICEServers []ICEServer
	RelayOnly  bool
	// LoopbackOnly gathers only loopback candidates (tests: traffic stays on 127.0.0.1).
	LoopbackOnly bool

	// Media is used by Session.GetUserMedia.
	Media devices.Options
	// Echo sends back to each opponent what it sends (bots, tests) instead of local media.
	Echo bool
	// DecodeVideo decodes remote video into RemoteStream.Video slots (the TUI wants it,
	// a headless bot does not).
	DecodeVideo bool
	// AudioOutput, when set, receives every remote audio track's decoded PCM (mixed).
	AudioOutput devices.AudioOutput

	Logger *slog.Logger
}

// Client is one user's call engine.
type Client struct{}

// NewClient starts an engine; Close stops it.
func NewClient(cfg Config) (*Client, error) { return nil, errNotImplemented }

// HandleSignal takes an incoming signal (From set by the transport). It never blocks.
func (c *Client) HandleSignal(s *signal.Signal) {}

// HandleSignalError reports a signal that could not be decoded, as an InvalidEvent.
func (c *Client) HandleSignalError(from signal.UserID, err error) {}

// Events is the ordered stream of every event. It is never closed before Close, and a
// slow reader never blocks the engine (the queue grows instead).
func (c *Client) Events() <-chan Event { return nil }

// CreateNewSession makes a NEW outgoing session for the opponents.
func (c *Client) CreateNewSession(opponents []signal.UserID, t signal.CallType) (*Session, error) {
	return nil, errNotImplemented
}

// Session returns a live session by ID, or nil.
func (c *Client) Session(id string) *Session { return nil }

// Sessions returns the live sessions.
func (c *Client) Sessions() []*Session { return nil }

// Close hangs up every session, closes every peer connection and waits for the engine's
// goroutines to end.
func (c *Client) Close() error { return nil }

// Listener setters (the seed's listeners). Each handler runs on the engine's event
// goroutine, in order, after the event is queued for Events(); a handler must not block.
func (c *Client) OnCall(func(*Session, CallEvent))                                     {}
func (c *Client) OnAcceptCall(func(*Session, AcceptEvent))                             {}
func (c *Client) OnRejectCall(func(*Session, RejectEvent))                             {}
func (c *Client) OnStopCall(func(*Session, StopEvent))                                 {}
func (c *Client) OnUserNotAnswer(func(*Session, UserNotAnswerEvent))                   {}
func (c *Client) OnSessionClose(func(*Session, SessionCloseEvent))                     {}
func (c *Client) OnCallStatsReport(func(*Session, StatsEvent))                         {}
func (c *Client) OnSessionConnectionStateChanged(func(*Session, ConnectionStateEvent)) {}
func (c *Client) OnUpdateCall(func(*Session, UpdateEvent))                             {}
func (c *Client) OnInvalidEvents(func(*Session, InvalidEvent))                         {}
func (c *Client) OnRemoteStream(func(*Session, RemoteStreamEvent))                     {}
func (c *Client) OnReconnect(func(*Session, ReconnectEvent))                           {}

// Session is one call session.
type Session struct{}

func (s *Session) ID() string                   { return "" }
func (s *Session) State() SessionState          { return SessionStateUnknown }
func (s *Session) InitiatorID() signal.UserID   { return "" }
func (s *Session) OpponentIDs() []signal.UserID { return nil }
func (s *Session) CallType() signal.CallType    { return signal.CallTypeUnknown }
func (s *Session) ConnectionStateForUser(id signal.UserID) ConnectionState {
	return ConnectionStateUnknown
}

// GetUserMedia opens local media for the session (before Call or Accept).
func (s *Session) GetUserMedia(ctx context.Context, p devices.MediaParams) (*devices.LocalStream, error) {
	return nil, errNotImplemented
}

// LocalStream is the stream GetUserMedia opened, or nil.
func (s *Session) LocalStream() *devices.LocalStream { return nil }

// Call dials every opponent with ext as userInfo.
func (s *Session) Call(ext signal.Extension) error { return errNotImplemented }

// Accept answers an incoming call.
func (s *Session) Accept(ext signal.Extension) error { return errNotImplemented }

// Reject declines an incoming call.
func (s *Session) Reject(ext signal.Extension) error { return errNotImplemented }

// Stop hangs up.
func (s *Session) Stop(ext signal.Extension) error { return errNotImplemented }

// Update sends ext to every opponent, or only to the given ones.
func (s *Session) Update(ext signal.Extension, to ...signal.UserID) error {
	return errNotImplemented
}

// Mute turns the local track of the kind off without renegotiation; Unmute turns it on.
func (s *Session) Mute(k devices.Kind) error   { return errNotImplemented }
func (s *Session) Unmute(k devices.Kind) error { return errNotImplemented }

// RemoteStream is the media one opponent sends in a session: one per remote track.
type RemoteStream struct {
	SessionID string
	User      signal.UserID
	Kind      devices.Kind
	// Video holds decoded frames when Config.DecodeVideo is set (video tracks only).
	Video *devices.FrameSlot
}

// AddSink feeds every further packet of the track to sink (a recorder, a meter) until
// the returned function is called or the track ends. Sinks must not block.
func (r *RemoteStream) AddSink(sink devices.RTPSink) (remove func()) { return func() {} }

// RequestKeyFrame sends a PLI for a video track.
func (r *RemoteStream) RequestKeyFrame() {}

// PacketsReceived counts the RTP packets received on the track.
func (r *RemoteStream) PacketsReceived() uint64 { return 0 }
