package chat

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// TLSMode is how the connection is secured.
type TLSMode string

// TLS modes (config key account.tls).
const (
	TLSStartTLS TLSMode = "starttls" // default
	TLSDirect   TLSMode = "direct"   // XEP-0368 style direct TLS
	TLSNone     TLSMode = "none"     // only to a loopback address
)

// Defaults of the Config durations.
const (
	DefaultPingInterval   = 10 * time.Second
	DefaultConnectTimeout = 20 * time.Second
	DefaultSendTimeout    = 10 * time.Second
	DefaultReconnectMin   = 1 * time.Second
	DefaultReconnectMax   = 60 * time.Second
)

// Config configures an Account.
type Config struct {
	JID      jid.JID // bare or full; a resource here is used when Resource is empty
	Password string
	// PasswordFunc, when set, gives the password of each login instead of Password: a
	// QuickBlox session token, which expires and is renewed. refused says the server
	// refused the previous one; then a fresh one is wanted, and the login is tried once
	// more at once. An error wrapping ErrAuth from it ends Run as a refused login does;
	// any other error counts as a failed attempt (reported, retried with backoff).
	PasswordFunc func(ctx context.Context, refused bool) (string, error)
	Server       string // "host:port"; empty: the JID's domain, port 5222
	TLS          TLSMode
	CAFile       string      // extra CA certificate(s) in PEM, added to the system roots
	Resource     string      // empty: the JID's resource, else "ttycall-" and a random suffix
	Priority     int         // presence priority; must be >= 0 to receive headlines; default 0
	Scheme       wire.Scheme // nil: wire.NewScheme("auto", JID)

	PingInterval time.Duration // XEP-0199 keepalive; default 10 s (a dead link is found within PingInterval+PingTimeout, 20 s)
	// PingTimeout is how long a keepalive ping may stay unanswered before the
	// connection counts as dead; default PingInterval.
	PingTimeout time.Duration
	// ConnectTimeout bounds one login (dial, TLS, SASL, bind, roster); default 20 s.
	ConnectTimeout time.Duration
	// SendTimeout bounds a send whose context has no deadline; default 10 s.
	SendTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the exponential backoff between attempts
	// (with jitter); defaults 1 s and 60 s.
	ReconnectMin, ReconnectMax time.Duration

	// OnSignal receives every incoming call signal (From set from the stanza). It runs
	// on the receive goroutine and must not block (a quick SendSignal is fine).
	OnSignal func(*wire.Signal)
	// OnSignalError receives signals that could not be decoded; it must not block.
	OnSignalError func(from wire.UserID, err error)

	Logger *slog.Logger
}

// Presence of a contact.
type Presence struct {
	Available bool
	Show      string // "", "away", "chat", "dnd", "xa"
	Status    string
}

// Contact is a roster item with its presence.
type Contact struct {
	JID          jid.JID // bare
	UserID       wire.UserID
	Name         string
	Subscription string // none, to, from, both
	Pending      bool   // we asked and wait for approval
	Presence     Presence
}

// Account is one XMPP login that stays online: Run connects, reconnects with backoff
// and reports what happens through Events.
type Account struct {
	mu          sync.Mutex
	sess        *xmpp.Session       // guarded by mu; nil unless online
	state       ConnState           // guarded by mu
	contacts    map[string]*contact // guarded by mu; key: bare JID string
	show        string              // guarded by mu; our presence
	status      string              // guarded by mu
	presenceSeq uint64              // guarded by mu; orders contacts' presence updates
	cancelRun   context.CancelFunc  // guarded by mu; set while Run runs
	runDone     chan struct{}       // guarded by mu; closed when Run returns
	held        []heldSignal        // guarded by mu; hang-ups waiting to be online

	cfg     Config
	local   jid.JID // the JID we log in with, with the resource we ask for
	localID wire.UserID
	addr    string      // host:port to dial
	tlsCfg  *tls.Config // nil for TLSNone
	backoff backoff
	refused bool // owned by Run's goroutine: the server refused the last PasswordFunc password
	log     *slog.Logger
	events  *eventQueue
	badLog  *guard.Limiter // log lines about bad signals, per sender

	jingle atomic.Pointer[jingleBox]  // the Jingle adapter (SetJingleHandler); nil: no Jingle
	caps   atomic.Pointer[disco.Caps] // our XEP-0115 caps, from the mux (jingle.go)

	closed        atomic.Bool
	closeOnce     sync.Once
	droppedEvents atomic.Uint64 // events dropped by a full queue (see maxQueuedEvents)
}

// New checks cfg and makes an Account; nothing is dialled before Run. Close must be
// called when the Account is no longer needed (it owns the event goroutine).
func New(cfg Config) (*Account, error) {
	if cfg.JID.Localpart() == "" || cfg.JID.Domainpart() == "" {
		return nil, fmt.Errorf("chat: %w: jid %q needs a user and a domain", ErrConfig, cfg.JID)
	}
	if cfg.Priority < 0 || cfg.Priority > 127 {
		return nil, fmt.Errorf("chat: %w: priority %d: must be 0..127 (headlines reach only resources with priority >= 0)", ErrConfig, cfg.Priority)
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = cfg.PingInterval
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = DefaultSendTimeout
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = DefaultReconnectMin
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = DefaultReconnectMax
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = cfg.ReconnectMin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Scheme == nil {
		sch, err := wire.NewScheme("auto", cfg.JID.Bare())
		if err != nil {
			return nil, fmt.Errorf("chat: %w: id scheme: %w", ErrConfig, err)
		}
		cfg.Scheme = sch
	}
	localID, err := cfg.Scheme.UserID(cfg.JID.Bare())
	if err != nil {
		return nil, fmt.Errorf("chat: %w: jid %s in scheme %s: %w", ErrConfig, cfg.JID.Bare(), cfg.Scheme.Name(), err)
	}

	addr, err := serverAddr(cfg)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}

	resource := cfg.Resource
	if resource == "" {
		resource = cfg.JID.Resourcepart()
	}
	if resource == "" {
		resource = "ttycall-" + randomID()[:8]
	}
	local, err := cfg.JID.Bare().WithResource(resource)
	if err != nil {
		return nil, fmt.Errorf("chat: %w: resource %q: %w", ErrConfig, resource, err)
	}

	a := &Account{
		state:    ConnStateUnknown,
		contacts: make(map[string]*contact),
		cfg:      cfg,
		local:    local,
		localID:  localID,
		addr:     addr,
		tlsCfg:   tlsCfg,
		backoff:  backoff{min: cfg.ReconnectMin, max: cfg.ReconnectMax},
		log:      cfg.Logger.With("jid", local.String()),
		events:   newEventQueue(),
		badLog:   guard.NewLogLimiter(),
	}
	// The event goroutine; Close stops it (eventQueue.close).
	go a.events.run()
	return a, nil
}

// serverAddr is the host:port to dial; for TLSNone it must be a loopback address.
func serverAddr(cfg Config) (string, error) {
	addr := cfg.Server
	if addr == "" {
		addr = net.JoinHostPort(cfg.JID.Domainpart(), "5222")
		if cfg.TLS == TLSDirect {
			addr = net.JoinHostPort(cfg.JID.Domainpart(), "5223")
		}
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("chat: %w: server %q: want host:port: %w", ErrConfig, addr, err)
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSDirect:
	case TLSNone:
		if !isLoopback(host) {
			return "", fmt.Errorf("chat: %w: tls = \"none\" is allowed only to a loopback address, not %q", ErrInsecure, host)
		}
	default:
		return "", fmt.Errorf("chat: %w: tls %q: want starttls, direct or none", ErrConfig, cfg.TLS)
	}
	return addr, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run connects and keeps the account online until ctx ends or authentication fails
// (then it returns an error wrapping ErrAuth; no retries). It returns nil after Close,
// ctx's error when ctx ends. It may be called once.
func (a *Account) Run(ctx context.Context) error {
	if a.closed.Load() {
		return fmt.Errorf("chat: run: %w", ErrClosed)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	if a.runDone != nil {
		a.mu.Unlock()
		return fmt.Errorf("chat: run: %w", ErrRunning)
	}
	done := make(chan struct{})
	a.runDone, a.cancelRun = done, cancel
	a.mu.Unlock()
	defer close(done)
	if a.closed.Load() { // Close ran between the first check and runDone being set
		return nil
	}
	err := a.run(ctx)
	if a.closed.Load() && !isAuth(err) {
		return nil
	}
	return err
}

// Events is the ordered stream of what happens; a slow reader never blocks the account.
// While more than 4096 events wait unread, new ones other than StateEvents are dropped
// (Roster stays current). It is closed by Close (events not yet read are then dropped).
func (a *Account) Events() <-chan Event { return a.events.out }

// LocalID is this account's user ID in its scheme.
func (a *Account) LocalID() wire.UserID { return a.localID }

// JID is the address the account logs in with (with the resource it asks for; the
// server may bind another).
func (a *Account) JID() jid.JID { return a.local }

// State is the current connection state.
func (a *Account) State() ConnState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// Roster returns the current contact list, sorted by JID.
func (a *Account) Roster() []Contact {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rosterLocked()
}

func (a *Account) rosterLocked() []Contact {
	list := make([]Contact, 0, len(a.contacts))
	for _, c := range a.contacts {
		list = append(list, c.Contact)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].JID.String() < list[j].JID.String() })
	return list
}

// Close goes offline and waits for the account's goroutines (Run returns). Idempotent;
// every caller waits until the account is closed.
func (a *Account) Close() error {
	a.closeOnce.Do(func() {
		a.closed.Store(true)
		a.mu.Lock()
		cancel, done := a.cancelRun, a.runDone
		a.mu.Unlock()
		if cancel != nil {
			cancel()
			<-done
		}
		a.events.close()
	})
	return nil
}

// session is the live session or nil.
func (a *Account) session() *xmpp.Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sess
}

// emit queues an event; it never blocks. Events dropped because nobody reads them are
// logged at 1, 2, 4, 8, ... drops, so a flood does not flood the log too.
func (a *Account) emit(e Event) {
	if a.events.push(e) || a.closed.Load() {
		return
	}
	if n := a.droppedEvents.Add(1); n&(n-1) == 0 {
		a.log.Warn("chat: events not read, dropping", "event", fmt.Sprintf("%T", e), "dropped", n)
	}
}
