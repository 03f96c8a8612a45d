package call

// This file is the engine's public surface, agreed between the engine, the UI and the
// headless mode: Config, Client and its listeners. The Signaling it sends through and
// the messages are in package signaling (types.go re-exports them).
// Session is in session.go, RemoteStream in remote.go.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/guard"
)

// ICEServer is a STUN or TURN server.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Config configures a Client.
type Config struct {
	LocalID UserID
	// Signaling carries the engine's messages to the other participants: one protocol
	// adapter (signaling/quickblox), or a Router over several. What arrives goes to
	// Client.Receive.
	Signaling Signaling
	// Admit, when set, is asked about every new incoming call after the engine's own
	// checks (participants, SDP) and before the busy rule; a non-nil error refuses it:
	// the call never rings, the caller gets a Reject, and the error is reported as an
	// InvalidEvent. It runs with the client's lock held and must not call the Client.
	Admit func(o *Offer) error
	// Screen, when set, sees every incoming message first, in Receive on the adapter's
	// goroutine, before the engine looks at it (per-sender rate limits, sender checks):
	// a non-nil error drops the message, reported as an InvalidEvent wrapping
	// ErrRefused. It must not block or call the Client.
	Screen func(m Message) error

	// Zero durations and limits take config.Default's.
	AnswerTimeInterval     time.Duration
	DisconnectTimeInterval time.Duration
	// ConnectTimeInterval bounds the time a peer has, once offer and answer are
	// exchanged, to reach CONNECTED; then it goes FAILED and closes (incoming or
	// outgoing). Zero: DisconnectTimeInterval.
	ConnectTimeInterval time.Duration
	ReconnectWait       time.Duration // wait for ICE to recover before restarting it; default 5 s (engine-only)
	StatsReportInterval time.Duration // 0: no stats reports
	// AutoReject is the busy rule, applied here only: an incoming call while
	// IncomingLimit sessions are live is rejected and never rings.
	AutoReject    bool
	IncomingLimit int
	BandwidthKbps int // 0: no cap; else b=AS in the video section

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
	// strictCandidates applies the production rule for remote candidates (no
	// loopback) although LoopbackOnly is set, so a test can see loopback refused.
	strictCandidates bool
	// offerLimiter replaces guard.NewOfferLimiter (tests that make hundreds of calls
	// from one sender).
	offerLimiter *guard.Limiter
}

// setDefaults fills zero settings from config.Default, the one place ttycall's
// defaults are written (they are the SDK's).
func (cfg *Config) setDefaults() {
	d := config.Default().Calls
	if cfg.AnswerTimeInterval <= 0 {
		cfg.AnswerTimeInterval = d.AnswerTimeInterval.Duration()
	}
	if cfg.DisconnectTimeInterval <= 0 {
		cfg.DisconnectTimeInterval = d.DisconnectTimeInterval.Duration()
	}
	if cfg.ConnectTimeInterval <= 0 {
		cfg.ConnectTimeInterval = cfg.DisconnectTimeInterval
	}
	if cfg.ReconnectWait <= 0 {
		cfg.ReconnectWait = 5 * time.Second
	}
	if cfg.IncomingLimit <= 0 {
		cfg.IncomingLimit = d.IncomingLimit
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.offerLimiter == nil {
		cfg.offerLimiter = guard.NewOfferLimiter()
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
	listeners listeners           // guarded by mu; handler per event type
	closing   bool                // guarded by mu; no new sessions once set

	cfg Config
	log *slog.Logger
	api *webrtc.API

	evq          *queue[queuedEvent]
	events       chan Event
	stopDispatch chan struct{}
	sendq        *queue[outMessage]
	stopSend     chan struct{}

	badLog *guard.Limiter // log lines about one sender's bad messages
	offers *guard.Limiter // new incoming calls per sender

	statsGetters sync.Map // peer connection stats ID -> stats.Getter (with StatsReportInterval)
	estimators   sync.Map // peer connection stats ID -> cc.BandwidthEstimator (GCC)

	droppedMessages atomic.Uint64 // incoming messages dropped: their session's queue was full
	droppedStream   atomic.Uint64 // events dropped from Events(): its reader fell behind

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
	if cfg.Signaling == nil {
		return nil, fmt.Errorf("%w: Signaling is nil", ErrConfig)
	}
	cfg.setDefaults()
	c := &Client{
		sessions:     make(map[string]*Session),
		recent:       make(map[string]struct{}),
		listeners:    make(listeners),
		cfg:          cfg,
		log:          cfg.Logger.With("local", string(cfg.LocalID)),
		evq:          newQueue[queuedEvent](maxQueuedEvents),
		events:       make(chan Event, 256),
		stopDispatch: make(chan struct{}),
		sendq:        newQueue[outMessage](maxQueuedReplies),
		stopSend:     make(chan struct{}),
		badLog:       guard.NewLogLimiter(),
		offers:       cfg.offerLimiter,
	}
	var onStats func(string, stats.Getter)
	if cfg.StatsReportInterval > 0 {
		onStats = func(id string, g stats.Getter) { c.statsGetters.Store(id, g) }
	}
	api, err := newAPI(&c.cfg, onStats, func(id string, e cc.BandwidthEstimator) { c.estimators.Store(id, e) })
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
func (c *Client) LocalID() UserID { return c.cfg.LocalID }

// Receive takes an incoming message (From set by the adapter from the transport's
// envelope). It never blocks. It implements Incoming.
func (c *Client) Receive(m Message) {
	if m == nil {
		return
	}
	h := m.Head()
	if h.From == c.cfg.LocalID {
		c.log.Debug("own message ignored", "kind", m.Kind(), "session", guard.Clip(h.Session.ID))
		return
	}
	if f := c.cfg.Screen; f != nil {
		if err := f(m); err != nil {
			c.invalidMessage(nil, m, fmt.Errorf("%w: %w", ErrRefused, err))
			return
		}
	}
	// A call's offer is checked before the lock (it may be 256 KiB); the session
	// checks it again when it applies the message.
	var sdpErr error
	offer, isOffer := m.(*Offer)
	if isOffer && c.Session(h.Session.ID) == nil && !offer.Deferred {
		_, sdpErr = c.checkRemoteSDP(offer.SDP, webrtc.SDPTypeOffer, nil)
	}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	s := c.sessions[h.Session.ID]
	if _, closed := c.recent[h.Session.ID]; s == nil && closed {
		c.mu.Unlock()
		c.lateMessage(m)
		return
	}
	if s == nil {
		var err error
		if !isOffer {
			err = ErrUnknownSession
		} else {
			s, err = c.newIncomingLocked(offer, sdpErr)
		}
		if err != nil {
			c.mu.Unlock()
			c.refusedMessage(m, err)
			return
		}
	}
	c.mu.Unlock()
	switch ok, full := s.ops.pushDroppable(func() { s.handle(m) }); {
	case full:
		// A peer that floods a session: its messages wait for nobody.
		c.droppedMessages.Add(1)
		c.log.Debug("message dropped: session queue full", "kind", m.Kind(), "from", string(h.From), "session", h.Session.ID)
	case !ok:
		c.invalidMessage(s, m, ErrSessionClosed)
	}
}

// newIncomingLocked makes the session of an offer for an unknown session, or says
// why not. A busy client rejects the call here.
// sdpErr is what checkRemoteSDP said of the offer.
func (c *Client) newIncomingLocked(o *Offer, sdpErr error) (*Session, error) {
	si := o.Session
	if si.ID == "" || (si.CallType != CallTypeVideo && si.CallType != CallTypeAudio) {
		return nil, fmt.Errorf("%w: call without session ID or call type", ErrBadSignal)
	}
	if len(si.ID) > guard.MaxString {
		// Session IDs are UUIDs; a longer one would only be written into every log
		// line and event of the session.
		return nil, fmt.Errorf("%w: session ID of %d bytes", ErrBadSignal, len(si.ID))
	}
	if len(si.Opponents) > MaxOpponents {
		return nil, fmt.Errorf("%w: call with %d opponents (at most %d)", ErrBadSignal, len(si.Opponents), MaxOpponents)
	}
	if !slices.Contains(si.Opponents, c.cfg.LocalID) || si.Initiator == c.cfg.LocalID {
		return nil, fmt.Errorf("%w: %s is not among the callees", ErrNotParticipant, c.cfg.LocalID)
	}
	if o.From != si.Initiator {
		// The caller shown, logged and stored is the sender of the offer: a new session
		// is started only by its initiator. (mallory naming bob as the caller and
		// himself as an opponent must not ring as "bob".) Rejected, so that a
		// well-meaning mesh peer stops dialing.
		c.rejectLocked(o, nil)
		return nil, fmt.Errorf("%w: offer from %s names %s as the caller", ErrBadSignal, o.From, si.Initiator)
	}
	if ok, _ := c.offers.Allow(string(o.From)); !ok {
		// A flood of offers from one sender: dropped without a reply (a reply each
		// would double the flood), remembered so that their re-sends are dropped too,
		// and never counted against IncomingLimit.
		c.rememberLocked(si.ID)
		return nil, fmt.Errorf("%w: offer from %s", ErrRateLimited, o.From)
	}
	if sdpErr != nil {
		// A call we can never answer: say so at once, so the caller stops dialing,
		// and never ring.
		c.rejectLocked(o, nil)
		return nil, sdpErr
	}
	if c.cfg.Admit != nil {
		if err := c.cfg.Admit(o); err != nil {
			reason := "refused"
			if errors.Is(err, ErrBlocked) {
				reason = "blocked"
			}
			c.missedLocked(o, reason)
			return nil, fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	if c.cfg.AutoReject && len(c.sessions) >= c.cfg.IncomingLimit {
		c.missedLocked(o, "busy")
		return nil, fmt.Errorf("%w: %d live session(s)", ErrBusy, len(c.sessions))
	}
	return c.newSessionLocked(si, false), nil
}

// Blocked reports a call that an adapter refused by the same rule as Config.Admit
// before it reached the engine (the Jingle adapter declines a stranger's propose
// itself, so that the caller never sees ringing): the user sees it as a blocked
// call, as with QuickBlox. The adapter has already declined it; nothing is sent.
// h is the call's header as an Offer would carry it. A flood from one sender is
// rate-limited like offers. It takes no lock of the engine's, so an adapter may call
// it under its own; after Close it does nothing.
func (c *Client) Blocked(h Header, err error) {
	if ok, _ := c.offers.Allow(string(h.From)); !ok {
		return
	}
	if ok, more := c.badLog.Allow(string(h.From)); ok {
		c.log.Info("call blocked", "from", guard.Clip(string(h.From)), "session", guard.Clip(h.Session.ID), "err", err, "suppressed", more)
	}
	c.emitDroppable(nil, MissedCallEvent{
		EventMeta: EventMeta{SessionID: guard.Clip(h.Session.ID), User: h.From, Time: time.Now()},
		CallType:  h.Session.CallType, InitiatorID: h.Session.Initiator,
		OpponentIDs: slices.Clone(h.Session.Opponents), Reason: "blocked",
	})
}

// refusedMessage reports a message that made no session: a blocked call only in the
// log (rate-limited; its MissedCallEvent is out already), a rate-limited offer only as
// often as the sender's log lines (a flood of offers is not a flood of events),
// anything else as an InvalidEvent.
func (c *Client) refusedMessage(m Message, err error) {
	h := m.Head()
	switch {
	case errors.Is(err, ErrBlocked):
		if ok, more := c.badLog.Allow(string(h.From)); ok {
			c.log.Info("call blocked", "from", guard.Clip(string(h.From)), "session", guard.Clip(h.Session.ID), "err", err, "suppressed", more)
		}
	case errors.Is(err, ErrRateLimited):
		if ok, more := c.badLog.Allow(string(h.From)); ok {
			c.log.Info("call offer dropped", "from", guard.Clip(string(h.From)), "err", err, "suppressed", more)
			c.emitDroppable(nil, InvalidEvent{
				EventMeta: EventMeta{SessionID: guard.Clip(h.Session.ID), User: h.From, Time: time.Now()},
				Op:        m.Kind(),
				Err:       err,
			})
		}
	default:
		c.invalidMessage(nil, m, err)
	}
}

// rejectLocked answers an offer that makes no session with a Reject to its sender, and
// remembers its session ID so that its re-sends are dropped. ext is the reject's
// extension (nil: none).
func (c *Client) rejectLocked(o *Offer, ext Extension) {
	rej := &Reject{Header: Header{Session: cloneSession(o.Session), From: c.cfg.LocalID, To: o.From, Ext: ext}}
	c.sendReply(rej)
	c.rememberLocked(o.Session.ID)
}

// missedLocked rejects a call the local user never saw ring and reports it.
func (c *Client) missedLocked(o *Offer, reason string) {
	var ext Extension
	if reason == "busy" {
		// The reason the config docs promise the caller, as the SDKs' reject
		// extension carries it.
		ext = Extension{"reason": "busy"}
	}
	c.rejectLocked(o, ext)
	c.emitDroppable(nil, MissedCallEvent{
		EventMeta: EventMeta{SessionID: guard.Clip(o.Session.ID), User: o.From, Time: time.Now()},
		CallType:  o.Session.CallType, InitiatorID: o.Session.Initiator,
		OpponentIDs: slices.Clone(o.Session.Opponents), Reason: reason,
	})
}

func cloneSession(si SessionInfo) SessionInfo {
	si.Opponents = slices.Clone(si.Opponents)
	return si
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

// invalidMessage reports a message that was not applied. What the sender chose (its
// session ID, the error quoting its input) is clipped, and the log lines about one
// sender are rate-limited: a stranger's flood is not a flood of log.
func (c *Client) invalidMessage(s *Session, m Message, err error) {
	h := m.Head()
	err = guard.ClipErr(err)
	if ok, more := c.badLog.Allow(string(h.From)); ok {
		c.log.Info("invalid message", "kind", m.Kind(), "from", guard.Clip(string(h.From)),
			"session", guard.Clip(h.Session.ID), "err", err, "suppressed", more)
	}
	c.emitDroppable(s, InvalidEvent{
		EventMeta: EventMeta{SessionID: guard.Clip(h.Session.ID), User: h.From, Time: time.Now()},
		Op:        m.Kind(),
		Err:       err,
	})
}

// lateMessage handles a message for a session that closed here. Stragglers of a normal
// end (trickled candidates, a hang-up or reject that crossed ours, a re-sent offer) are
// expected and only logged; anything else is an InvalidEvent.
func (c *Client) lateMessage(m Message) {
	switch m.(type) {
	case *Candidates, *Terminate, *Reject, *Offer:
		h := m.Head()
		c.log.Debug("late message for a closed session dropped", "kind", m.Kind(), "from", guard.Clip(string(h.From)), "session", guard.Clip(h.Session.ID))
	default:
		c.invalidMessage(nil, m, ErrSessionClosed)
	}
}

// ReceiveError reports a message that could not be decoded, as an InvalidEvent. It
// implements Incoming. It is the one log line about it (rate-limited per sender); the
// transport does not log it too.
func (c *Client) ReceiveError(from UserID, err error) {
	err = guard.ClipErr(err)
	if ok, more := c.badLog.Allow(string(from)); ok {
		c.log.Info("undecodable signal", "from", guard.Clip(string(from)), "err", err, "suppressed", more)
	}
	c.emitDroppable(nil, InvalidEvent{
		EventMeta: EventMeta{User: from, Time: time.Now()},
		Op:        "signal",
		Err:       fmt.Errorf("%w: %w", ErrBadSignal, err),
	})
}

// Events is the ordered stream of every event. It is never closed before Close, and a
// slow reader never blocks the engine: up to maxPendingEvents wait for it, and beyond
// that the oldest are dropped from the stream (Drops().Stream counts them; the
// listeners still saw them).
func (c *Client) Events() <-chan Event { return c.events }

// Drops counts what the engine dropped because a bound was reached (see queue.go).
type Drops struct {
	Messages uint64 // incoming messages: their session's queue was full
	Replies  uint64 // replies to remote parties (reject of a call that made no session)
	Events   uint64 // events caused by remote parties (InvalidEvents)
	Stream   uint64 // events dropped from Events() (the listeners saw them)
}

// Drops reports what was dropped so far.
func (c *Client) Drops() Drops {
	return Drops{
		Messages: c.droppedMessages.Load(), Replies: c.sendq.dropped.Load(),
		Events: c.evq.dropped.Load(), Stream: c.droppedStream.Load(),
	}
}

// CreateNewSession makes a NEW outgoing session for the opponents, carried by the
// default protocol.
func (c *Client) CreateNewSession(opponents []UserID, t CallType) (*Session, error) {
	return c.CreateSession(SessionOptions{Opponents: opponents, CallType: t})
}

// SessionOptions describe a new outgoing session.
type SessionOptions struct {
	Opponents []UserID
	CallType  CallType
	// Protocol picks the adapter when Config.Signaling is a Router ("": its default).
	Protocol string
}

// CreateSession makes a NEW outgoing session.
func (c *Client) CreateSession(o SessionOptions) (*Session, error) {
	opponents, t := o.Opponents, o.CallType
	if t != CallTypeVideo && t != CallTypeAudio {
		return nil, fmt.Errorf("%w: call type %d", ErrConfig, t)
	}
	var ops []UserID
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
	si := SessionInfo{ID: uuid.NewString(), Protocol: o.Protocol, CallType: t, Initiator: c.cfg.LocalID, Opponents: ops}
	return c.newSessionLocked(si, true), nil
}

func sameUsers(a, b []UserID) bool {
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

// Listener setters (the seed's listeners): each is Listen for its event type, which
// says when and where handlers run. A nil handler removes the listener.
func (c *Client) OnCall(f func(*Session, CallEvent))                   { Listen(c, f) }
func (c *Client) OnAcceptCall(f func(*Session, AcceptEvent))           { Listen(c, f) }
func (c *Client) OnRejectCall(f func(*Session, RejectEvent))           { Listen(c, f) }
func (c *Client) OnStopCall(f func(*Session, StopEvent))               { Listen(c, f) }
func (c *Client) OnUserNotAnswer(f func(*Session, UserNotAnswerEvent)) { Listen(c, f) }
func (c *Client) OnSessionClose(f func(*Session, SessionCloseEvent))   { Listen(c, f) }
func (c *Client) OnCallStatsReport(f func(*Session, StatsEvent))       { Listen(c, f) }
func (c *Client) OnSessionConnectionStateChanged(f func(*Session, ConnectionStateEvent)) {
	Listen(c, f)
}
func (c *Client) OnUpdateCall(f func(*Session, UpdateEvent))         { Listen(c, f) }
func (c *Client) OnInvalidEvents(f func(*Session, InvalidEvent))     { Listen(c, f) }
func (c *Client) OnRemoteStream(f func(*Session, RemoteStreamEvent)) { Listen(c, f) }
func (c *Client) OnReconnect(f func(*Session, ReconnectEvent))       { Listen(c, f) }
