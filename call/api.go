package call

// This file is the engine's public surface, agreed between the engine, the UI and the
// headless mode: Config, Client and its listeners, and the Signaler it sends through.
// Session is in session.go, RemoteStream in remote.go.

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/call/signal"
	"github.com/ttycall/ttycall/devices"
)

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

	// ICEServers are the STUN/TURN servers of every call. ICEServersFunc, when set,
	// is asked for each new peer connection instead (credentials that expire are
	// fetched per call); when it fails, ICEServers are used.
	ICEServers     []ICEServer
	ICEServersFunc func(ctx context.Context) ([]ICEServer, error)
	// RelayOnly: candidates through TURN relays only; no host or server-reflexive
	// candidate ever leaves, in an SDP or trickled (peers never learn our addresses).
	RelayOnly bool
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

	// Test hooks (unexported: set only by this package's tests).
	net           transport.Net // wraps pion's sockets (network-break tests)
	iceTimeouts   [3]time.Duration
	getUserMedia  func(ctx context.Context, p devices.MediaParams, o devices.Options) (*devices.LocalStream, error)
	senderTimeout time.Duration
}

func (cfg *Config) setDefaults() {
	if cfg.Platform == "" {
		cfg.Platform = "ttycall"
	}
	if cfg.AnswerTimeInterval <= 0 {
		cfg.AnswerTimeInterval = 60 * time.Second
	}
	if cfg.DialingTimeInterval <= 0 {
		cfg.DialingTimeInterval = 5 * time.Second
	}
	if cfg.DisconnectTimeInterval <= 0 {
		cfg.DisconnectTimeInterval = 30 * time.Second
	}
	if cfg.ReconnectWait <= 0 {
		cfg.ReconnectWait = 5 * time.Second
	}
	if cfg.IncomingLimit <= 0 {
		cfg.IncomingLimit = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.getUserMedia == nil {
		cfg.getUserMedia = devices.GetUserMedia
	}
	if cfg.senderTimeout <= 0 {
		cfg.senderTimeout = 10 * time.Second
	}
}

// Client is one user's call engine.
type Client struct {
	mu        sync.Mutex
	sessions  map[string]*Session // guarded by mu; live sessions by ID
	recent    map[string]struct{} // guarded by mu; IDs of closed sessions
	recentIDs []string            // guarded by mu; recent in closing order (bounded)
	listeners listeners           // guarded by mu
	closing   bool                // guarded by mu; no new sessions once set

	cfg Config
	log *slog.Logger
	api *webrtc.API

	evq          *queue[queuedEvent]
	events       chan Event
	stopDispatch chan struct{}
	sendq        *queue[outSignal]
	stopSend     chan struct{}

	statsGetters sync.Map // peer connection stats ID -> stats.Getter (with StatsReportInterval)

	sessWG    sync.WaitGroup // session goroutines
	bgWG      sync.WaitGroup // dispatcher and sender goroutines
	closeOnce sync.Once      // Close: the first call closes, the others wait for it
}

// maxRecent bounds the memory of closed session IDs (late signals of those are invalid,
// and a late re-sent call must not ring again).
const maxRecent = 1024

// NewClient starts an engine; Close stops it.
func NewClient(cfg Config) (*Client, error) {
	if cfg.LocalID == "" {
		return nil, fmt.Errorf("%w: LocalID is empty", ErrConfig)
	}
	if cfg.Signaler == nil {
		return nil, fmt.Errorf("%w: Signaler is nil", ErrConfig)
	}
	cfg.setDefaults()
	c := &Client{
		sessions:     make(map[string]*Session),
		recent:       make(map[string]struct{}),
		listeners:    noopListeners(),
		cfg:          cfg,
		log:          cfg.Logger.With("local", string(cfg.LocalID)),
		evq:          newQueue[queuedEvent](),
		events:       make(chan Event, 256),
		stopDispatch: make(chan struct{}),
		sendq:        newQueue[outSignal](),
		stopSend:     make(chan struct{}),
	}
	var onStats func(string, stats.Getter)
	if cfg.StatsReportInterval > 0 {
		onStats = func(id string, g stats.Getter) { c.statsGetters.Store(id, g) }
	}
	api, err := newAPI(&c.cfg, onStats)
	if err != nil {
		return nil, err
	}
	c.api = api
	c.bgWG.Add(2)
	go c.runDispatcher() // owner: Client; stopped by Close (stopDispatch)
	go c.runSender()     // owner: Client; stopped by Close (stopSend)
	return c, nil
}

// LocalID is the local user's ID.
func (c *Client) LocalID() signal.UserID { return c.cfg.LocalID }

// HandleSignal takes an incoming signal (From set by the transport). It never blocks.
func (c *Client) HandleSignal(sig *signal.Signal) {
	if sig == nil {
		return
	}
	if sig.From == c.cfg.LocalID {
		c.log.Debug("own signal ignored", "type", sig.Type, "session", sig.SessionID)
		return
	}
	// A call's offer is checked before the lock (it may be 256 KiB); the session
	// checks it again when it applies the signal.
	var sdpErr error
	if sig.Type == signal.TypeCall && c.Session(sig.SessionID) == nil {
		_, sdpErr = c.checkRemoteSDP(sig.SDP, webrtc.SDPTypeOffer, nil)
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	s := c.sessions[sig.SessionID]
	if _, closed := c.recent[sig.SessionID]; s == nil && closed {
		c.mu.Unlock()
		c.lateSignal(sig)
		return
	}
	if s == nil {
		var err error
		s, err = c.newIncomingLocked(sig, sdpErr)
		if err != nil {
			c.mu.Unlock()
			c.invalidSignal(nil, sig, err)
			return
		}
	}
	c.mu.Unlock()
	if !s.post(func() { s.handleSignal(sig) }) {
		c.invalidSignal(s, sig, ErrSessionClosed)
	}
}

// newIncomingLocked makes the session of a call signal for an unknown session, or says
// why not. A busy client rejects the call here.
// sdpErr is what checkRemoteSDP said of the call's offer.
func (c *Client) newIncomingLocked(sig *signal.Signal, sdpErr error) (*Session, error) {
	if sig.Type != signal.TypeCall {
		return nil, ErrUnknownSession
	}
	if sig.SessionID == "" || (sig.CallType != signal.CallTypeVideo && sig.CallType != signal.CallTypeAudio) {
		return nil, fmt.Errorf("%w: call without session ID or call type", ErrBadSignal)
	}
	if len(sig.OpponentIDs) > maxOpponents {
		return nil, fmt.Errorf("%w: call with %d opponents (at most %d)", ErrBadSignal, len(sig.OpponentIDs), maxOpponents)
	}
	if !slices.Contains(sig.OpponentIDs, c.cfg.LocalID) || sig.CallerID == c.cfg.LocalID {
		return nil, fmt.Errorf("%w: %s is not among the callees", ErrNotParticipant, c.cfg.LocalID)
	}
	if sig.From != sig.CallerID && !slices.Contains(sig.OpponentIDs, sig.From) {
		return nil, fmt.Errorf("%w: sender %s", ErrNotParticipant, sig.From)
	}
	if sdpErr != nil {
		// A call we can never answer: say so at once, so the caller stops dialing,
		// and never ring.
		c.rejectLocked(sig)
		return nil, sdpErr
	}
	if c.cfg.AutoReject && len(c.sessions) >= c.cfg.IncomingLimit {
		c.rejectLocked(sig)
		return nil, fmt.Errorf("%w: %d live session(s)", ErrBusy, len(c.sessions))
	}
	return c.newSessionLocked(sig.SessionID, sig.CallerID, sig.OpponentIDs, sig.CallType, false), nil
}

// rejectLocked answers a call that makes no session with reject, and remembers its
// session ID so that its re-sends are dropped.
func (c *Client) rejectLocked(sig *signal.Signal) {
	rej := &signal.Signal{
		To: sig.From, From: c.cfg.LocalID, Type: signal.TypeReject, SessionID: sig.SessionID,
		CallType: sig.CallType, CallerID: sig.CallerID, OpponentIDs: slices.Clone(sig.OpponentIDs),
		Platform: c.cfg.Platform,
	}
	c.send(nil, rej)
	c.rememberLocked(sig.SessionID)
}

func (c *Client) rememberLocked(id string) {
	if _, ok := c.recent[id]; ok {
		return
	}
	c.recent[id] = struct{}{}
	c.recentIDs = append(c.recentIDs, id)
	if len(c.recentIDs) > maxRecent {
		delete(c.recent, c.recentIDs[0])
		c.recentIDs = c.recentIDs[1:]
	}
}

// removeSession forgets a closed session.
func (c *Client) removeSession(s *Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sessions[s.id] == s {
		delete(c.sessions, s.id)
	}
	c.rememberLocked(s.id)
}

// invalidSignal reports a signal that was not applied.
func (c *Client) invalidSignal(s *Session, sig *signal.Signal, err error) {
	c.log.Info("invalid signal", "type", sig.Type, "from", string(sig.From), "session", sig.SessionID, "err", err)
	c.emit(s, InvalidEvent{
		EventMeta: EventMeta{SessionID: sig.SessionID, User: sig.From, Time: time.Now()},
		Op:        string(sig.Type),
		Err:       err,
	})
}

// lateSignal handles a signal for a session that closed here. Stragglers of a normal
// end (trickled candidates, a hang-up or reject that crossed ours, a re-sent call) are
// expected and only logged; anything else is an InvalidEvent.
func (c *Client) lateSignal(sig *signal.Signal) {
	switch sig.Type {
	case signal.TypeICECandidates, signal.TypeHangUp, signal.TypeReject, signal.TypeCall:
		c.log.Debug("late signal for a closed session dropped", "type", sig.Type, "from", string(sig.From), "session", sig.SessionID)
	default:
		c.invalidSignal(nil, sig, ErrSessionClosed)
	}
}

// HandleSignalError reports a signal that could not be decoded, as an InvalidEvent.
func (c *Client) HandleSignalError(from signal.UserID, err error) {
	c.log.Info("undecodable signal", "from", string(from), "err", err)
	c.emit(nil, InvalidEvent{
		EventMeta: EventMeta{User: from, Time: time.Now()},
		Op:        "signal",
		Err:       fmt.Errorf("%w: %w", ErrBadSignal, err),
	})
}

// Events is the ordered stream of every event. It is never closed before Close, and a
// slow reader never blocks the engine (the queue grows instead).
func (c *Client) Events() <-chan Event { return c.events }

// CreateNewSession makes a NEW outgoing session for the opponents.
func (c *Client) CreateNewSession(opponents []signal.UserID, t signal.CallType) (*Session, error) {
	if t != signal.CallTypeVideo && t != signal.CallTypeAudio {
		return nil, fmt.Errorf("%w: call type %d", ErrConfig, t)
	}
	var ops []signal.UserID
	for _, o := range opponents {
		if o != "" && o != c.cfg.LocalID && !slices.Contains(ops, o) {
			ops = append(ops, o)
		}
	}
	if len(ops) == 0 {
		return nil, ErrNoOpponents
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return nil, ErrClientClosed
	}
	for _, s := range c.sessions {
		if sameUsers(s.peerIDs(), ops) {
			return nil, fmt.Errorf("%w: session %s", ErrSessionExists, s.id)
		}
	}
	return c.newSessionLocked(uuid.NewString(), c.cfg.LocalID, ops, t, true), nil
}

func sameUsers(a, b []signal.UserID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// Session returns a live session by ID, or nil.
func (c *Client) Session(id string) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[id]
}

// Sessions returns the live sessions.
func (c *Client) Sessions() []*Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Session, 0, len(c.sessions))
	for _, s := range c.sessions {
		out = append(out, s)
	}
	return out
}

// Close hangs up every session, closes every peer connection and waits for the engine's
// goroutines to end. It is idempotent: a second (or concurrent) Close returns once the
// first has finished. Do not call it from a listener: it waits for the event goroutine
// that runs the listeners.
func (c *Client) Close() error {
	c.closeOnce.Do(c.close)
	return nil
}

func (c *Client) close() {
	c.mu.Lock()
	c.closing = true
	live := make([]*Session, 0, len(c.sessions))
	for _, s := range c.sessions {
		live = append(live, s)
	}
	c.mu.Unlock()
	for _, s := range live {
		s.post(func() { s.shutdown("client closed") })
	}
	c.sessWG.Wait()
	close(c.stopSend)
	close(c.stopDispatch)
	c.bgWG.Wait()
}

// Listener setters (the seed's listeners). Each handler runs on the engine's event
// goroutine, in order, after the event is queued for Events(); a handler must not block.
// The *Session is nil for an InvalidEvent about a session this client does not know.
// A nil handler removes the listener.
func (c *Client) OnCall(f func(*Session, CallEvent)) { setListener(c, &c.listeners.onCall, f) }
func (c *Client) OnAcceptCall(f func(*Session, AcceptEvent)) {
	setListener(c, &c.listeners.onAccept, f)
}
func (c *Client) OnRejectCall(f func(*Session, RejectEvent)) {
	setListener(c, &c.listeners.onReject, f)
}
func (c *Client) OnStopCall(f func(*Session, StopEvent)) { setListener(c, &c.listeners.onStop, f) }
func (c *Client) OnUserNotAnswer(f func(*Session, UserNotAnswerEvent)) {
	setListener(c, &c.listeners.onUserNotAnswer, f)
}
func (c *Client) OnSessionClose(f func(*Session, SessionCloseEvent)) {
	setListener(c, &c.listeners.onSessionClose, f)
}
func (c *Client) OnCallStatsReport(f func(*Session, StatsEvent)) {
	setListener(c, &c.listeners.onStats, f)
}
func (c *Client) OnSessionConnectionStateChanged(f func(*Session, ConnectionStateEvent)) {
	setListener(c, &c.listeners.onConnState, f)
}
func (c *Client) OnUpdateCall(f func(*Session, UpdateEvent)) {
	setListener(c, &c.listeners.onUpdate, f)
}
func (c *Client) OnInvalidEvents(f func(*Session, InvalidEvent)) {
	setListener(c, &c.listeners.onInvalid, f)
}
func (c *Client) OnRemoteStream(f func(*Session, RemoteStreamEvent)) {
	setListener(c, &c.listeners.onRemoteStream, f)
}
func (c *Client) OnReconnect(f func(*Session, ReconnectEvent)) {
	setListener(c, &c.listeners.onReconnect, f)
}

func setListener[E any](c *Client, field *func(*Session, E), f func(*Session, E)) {
	if f == nil {
		f = func(*Session, E) {}
	}
	c.mu.Lock()
	*field = f
	c.mu.Unlock()
}
