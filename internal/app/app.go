// Package app wires a *config.Config into a running client: the ID scheme, the XMPP
// account (package chat), the QuickBlox signaling adapter (signaling/quickblox) and the
// call engine (package call), connected both ways (incoming signals go through the
// adapter to the engine, the engine's messages leave through the adapter and the
// account).
// The terminal interface and the headless mode share it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/qbapi"
	jingleadapter "github.com/ttycall/ttycall/signaling/jingle/adapter"
	"github.com/ttycall/ttycall/signaling/quickblox"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// EnvLoopbackICE, when set to "1" in the environment, makes the engine gather loopback
// candidates only. It is a test hook (tests keep their traffic on 127.0.0.1) and
// deliberately not a config key.
const EnvLoopbackICE = "TTYCALL_ICE_LOOPBACK"

// ErrConfig is wrapped by New's errors about the configuration.
var ErrConfig = errors.New("bad configuration")

// configError is an error that says all it has to say itself (config.NoAccountError)
// and is an ErrConfig too.
type configError struct{ error }

func (e configError) Unwrap() []error { return []error{e.error, ErrConfig} }

// Options are what the consumer adds to the config.
type Options struct {
	// Echo sends back to each opponent what it sends (bots, tests).
	Echo bool
	// DecodeVideo decodes remote video into RemoteStream.Video slots (the TUI).
	DecodeVideo bool
	// AudioOutput receives remote audio (the TUI's player); nil: no playback.
	AudioOutput devices.AudioOutput
	// LoopbackOnly forces loopback-only ICE; also on when EnvLoopbackICE is "1".
	LoopbackOnly bool
	// Platform is sent in every signal; default "ttycall".
	Platform string
	// OnMediaNotice is told what happens to local media after it opened (a camera
	// that failed mid-call and was replaced by the test pattern). It runs on a device
	// goroutine and must not block.
	OnMediaNotice func(notice string)
	// Logger; nil discards.
	Logger *slog.Logger
	// Context bounds the QuickBlox sign-in in New (nil: none; it retries while the API
	// cannot be reached until this ends).
	Context context.Context
	// OnSignInRetry is told each failed QuickBlox sign-in attempt that will be retried
	// (API unreachable, rate limited) and the wait before the next one.
	OnSignInRetry func(err error, retryIn time.Duration)
}

// App is one signed-in user: an account and its call engine.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	scheme  wire.Scheme
	account *chat.Account
	engine  *call.Client
	jingle  *jingleadapter.Adapter // nil when calls.protocol is "quickblox"
	qb      *qbapi.Account         // QuickBlox mode; nil otherwise
	qbc     *qbapi.Client          // its client

	// onSignal and onSignalError hand the account's signals to the engine (through the
	// adapter). Set by New; the account calls them only while Run runs, after New.
	onSignal      func(*wire.Signal)
	onSignalError func(wire.UserID, error)

	mu      sync.Mutex
	cancel  context.CancelFunc // cancels a running Run; guarded by mu
	running chan struct{}      // closed when Run returns; nil before Run; guarded by mu
	closed  bool               // guarded by mu

	closingCh chan struct{} // closed when Close starts

	named *NamedAccount // guarded by mu; the interface's view of the account, nil until asked for

	closeOnce sync.Once
	closeErr  error
}

// New builds the scheme, the account and the engine from cfg. Nothing is dialled before
// Run.
func New(cfg *config.Config, o Options) (*App, error) {
	if cfg == nil {
		return nil, fmt.Errorf("app: %w: no config", ErrConfig)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, log: log, closingCh: make(chan struct{})}
	accountJID, password := cfg.Account.JID, ""
	var passwordFunc func(context.Context, bool) (string, error)
	if cfg.QuickBlox.Enabled {
		// QuickBlox mode: a REST session first; its user ID makes the JID and its token
		// is the chat password.
		ctx := o.Context
		if ctx == nil {
			ctx = context.Background()
		}
		qb, qbc, err := NewQuickBlox(ctx, cfg, log.With("part", "quickblox"))
		if err != nil {
			return nil, err
		}
		if _, err := SignInQuickBlox(ctx, qb, o.OnSignInRetry, log.With("part", "quickblox")); err != nil {
			qbc.Close()
			return nil, err
		}
		a.qb, a.qbc = qb, qbc
		accountJID, passwordFunc = qb.ChatJID(), chatPassword(qb)
	}
	if accountJID == "" {
		a.signOut()
		return nil, configError{&config.NoAccountError{Path: cfg.Path}}
	}
	account, err := jid.Parse(accountJID)
	if err != nil {
		a.signOut()
		return nil, fmt.Errorf("app: %w: account.jid %q: %w", ErrConfig, accountJID, err)
	}
	scheme, err := wire.NewScheme(cfg.Account.IDScheme, account)
	if err != nil {
		a.signOut()
		return nil, fmt.Errorf("app: %w: account.id_scheme %q: %w", ErrConfig, cfg.Account.IDScheme, err)
	}
	a.scheme = scheme
	if passwordFunc == nil {
		if password, err = cfg.Account.ResolvePassword(); err != nil {
			return nil, fmt.Errorf("app: %w: account password: %w", ErrConfig, err)
		}
	}

	acc, err := chat.New(chat.Config{
		JID:           account,
		Password:      password,
		PasswordFunc:  passwordFunc,
		Server:        cfg.Account.Server,
		TLS:           chat.TLSMode(cfg.Account.TLS),
		CAFile:        cfg.Account.CAFile,
		Resource:      cfg.Account.Resource,
		Scheme:        scheme,
		OnSignal:      func(s *wire.Signal) { a.onSignal(s) },
		OnSignalError: func(from wire.UserID, err error) { a.onSignalError(from, err) },
		Logger:        log.With("part", "chat"),
	})
	if err != nil {
		a.signOut()
		return nil, fmt.Errorf("app: %w: account: %w", ErrConfig, err)
	}
	a.account = acc

	qb, err := quickblox.New(AdapterConfig(cfg, acc.LocalID(), acc, o))
	if err != nil {
		acc.Close()
		a.signOut()
		return nil, fmt.Errorf("app: signaling: %w", err)
	}
	var sig call.Signaling = qb
	admit := admitter(cfg, scheme, acc)
	// The engine, once made: the Jingle adapter reports the strangers it declines to it.
	var engineRef atomic.Pointer[call.Client]
	if cfg.Calls.Protocol != quickblox.Protocol {
		// Standard calls beside QuickBlox's (protocol.go).
		jg, err := jingleadapter.New(jingleadapter.Config{
			Local: account, Self: acc.FullJID, Transport: acc, Logger: log.With("part", "jingle"),
			AnswerTimeout: cfg.Calls.AnswerTimeInterval.Duration(),
			Admit:         jingleAdmit(admit, &engineRef),
		})
		if err != nil {
			acc.Close()
			a.signOut()
			return nil, fmt.Errorf("app: jingle: %w", err)
		}
		a.jingle = jg
		acc.SetJingleHandler(jg)
		by := map[string]call.Signaling{quickblox.Protocol: qb, jingleadapter.Protocol: jg}
		pick := func(ctx context.Context, u call.UserID) string { return pickProtocol(ctx, cfg, acc, u) }
		sig = &call.Router{Default: newChooser(by, pick), Protocols: by}
	}
	ecfg := EngineConfig(cfg, acc.LocalID(), sig, o)
	ecfg.ICEServersFunc = newICESource(cfg, ecfg.ICEServers, acc, log).servers
	ecfg.Admit = admit
	engine, err := call.NewClient(ecfg)
	if err != nil {
		if a.jingle != nil {
			a.jingle.Close()
		}
		acc.Close()
		a.signOut()
		return nil, fmt.Errorf("app: call engine: %w", err)
	}
	a.engine = engine
	engineRef.Store(engine)
	if a.jingle != nil {
		a.jingle.SetIncoming(engine)
	}
	a.onSignal, a.onSignalError = quickblox.Receiver(engine)
	return a, nil
}

// admitter is the engine's Admit for calls.accept_from: with "contacts", a call from
// anyone but a contact with a subscription is refused as blocked (declined without
// ringing; the engine reports a MissedCallEvent, reason "blocked"). The default is "contacts", and
// "anyone" in QuickBlox mode (also when the quickblox ID scheme was picked
// automatically): QuickBlox apps rarely keep rosters.
func admitter(cfg *config.Config, scheme wire.Scheme, acc *chat.Account) func(*call.Offer) error {
	mode := cfg.AcceptFromMode()
	if cfg.Calls.AcceptFrom == "" && scheme.Name() == "quickblox" {
		mode = config.AcceptAnyone
	}
	if mode == config.AcceptAnyone {
		return nil
	}
	return func(o *call.Offer) error {
		if acc.IsContact(o.From) {
			return nil
		}
		return fmt.Errorf("%w: %s is not a contact (calls.accept_from = %q)", call.ErrBlocked, o.From, mode)
	}
}

// jingleAdmit is the Jingle adapter's admission by the same calls.accept_from rule as
// the engine's: a stranger's propose is declined (JMI reject) before anything rings or
// answers ringing, here or on the caller's side. The engine never sees that call, so
// it is reported to it (engine, nil until made) as blocked, as the engine reports a
// QuickBlox stranger's: a MissedCallEvent the user can add the caller from.
func jingleAdmit(admit func(*call.Offer) error, engine *atomic.Pointer[call.Client]) func(call.Header) error {
	if admit == nil {
		return nil
	}
	return func(h call.Header) error {
		err := admit(&call.Offer{Header: h})
		if errors.Is(err, call.ErrBlocked) {
			if c := engine.Load(); c != nil {
				c.Blocked(h, err)
			}
		}
		return err
	}
}

// AdapterConfig maps the config onto the QuickBlox signaling adapter's settings.
func AdapterConfig(cfg *config.Config, local call.UserID, t quickblox.Transport, o Options) quickblox.Config {
	return quickblox.Config{
		Local:               local,
		Transport:           t,
		Platform:            o.Platform,
		DialingTimeInterval: cfg.Calls.DialingTimeInterval.Duration(),
	}
}

// EngineConfig maps the config onto the engine's settings.
func EngineConfig(cfg *config.Config, local call.UserID, sig call.Signaling, o Options) call.Config {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var servers []call.ICEServer
	for _, s := range cfg.ICE.Servers {
		servers = append(servers, call.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	loopbackOnly := o.LoopbackOnly || LoopbackFromEnv()
	if servers == nil {
		servers = quickbloxICE(cfg, loopbackOnly)
	}
	return call.Config{
		LocalID:                local,
		Signaling:              sig,
		AnswerTimeInterval:     cfg.Calls.AnswerTimeInterval.Duration(),
		DisconnectTimeInterval: cfg.Calls.DisconnectTimeInterval.Duration(),
		ConnectTimeInterval:    cfg.Calls.ConnectTimeInterval.Duration(),
		StatsReportInterval:    cfg.Calls.StatsReportTimeInterval.Duration(),
		AutoReject:             cfg.Calls.AutoReject,
		IncomingLimit:          cfg.Calls.IncomingLimit,
		BandwidthKbps:          cfg.Calls.Bandwidth,
		ICEServers:             servers,
		RelayOnly:              cfg.ICE.TransportPolicy == "relay",
		LoopbackOnly:           loopbackOnly,
		Media: devices.Options{
			Camera:     cfg.Media.Camera,
			Microphone: cfg.Media.Microphone,
			Width:      cfg.Media.Width,
			Height:     cfg.Media.Height,
			FPS:        cfg.Media.FPS,
			OnNotice:   o.OnMediaNotice,
			Logger:     log.With("part", "devices"),
		},
		Echo:        o.Echo,
		DecodeVideo: o.DecodeVideo,
		AudioOutput: o.AudioOutput,
		Logger:      log.With("part", "call"),
	}
}

// LoopbackFromEnv reports whether EnvLoopbackICE asks for loopback-only ICE.
func LoopbackFromEnv() bool { return os.Getenv(EnvLoopbackICE) == "1" }

// Account is the XMPP account (roster, presence, subscriptions).
func (a *App) Account() *chat.Account { return a.account }

// Engine is the call engine.
func (a *App) Engine() *call.Client { return a.engine }

// Scheme is the account's ID scheme.
func (a *App) Scheme() wire.Scheme { return a.scheme }

// LocalID is the signed-in user's ID.
func (a *App) LocalID() call.UserID { return a.account.LocalID() }

// AccountEvents is the account's ordered event stream; it never blocks the account.
func (a *App) AccountEvents() <-chan chat.Event { return a.account.Events() }

// CallEvents is the engine's ordered event stream; it never blocks the engine.
func (a *App) CallEvents() <-chan call.Event { return a.engine.Events() }

// ParseUserIDs turns "ID[,ID...]" into user IDs of the account's scheme. In QuickBlox
// mode a login, email or full name is looked up too (an unknown one is an error).
func (a *App) ParseUserIDs(list []string) ([]call.UserID, error) {
	var ids []call.UserID
	for _, s := range list {
		id, err := a.resolveUser(s)
		if err != nil {
			return nil, fmt.Errorf("user ID %q: %w", s, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Run keeps the account online until ctx ends, Close is called, or the login is refused
// (the error then wraps chat.ErrAuth). It may be called once. When ctx ends, Run does
// what Close does (the calls are hung up while the account is still online) before it
// returns.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return errors.New("app: closed")
	}
	if a.running != nil {
		a.mu.Unlock()
		return errors.New("app: Run called twice")
	}
	// The account's context ends only through Close, so that the engine's hangUps still
	// leave after ctx has ended.
	inner, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	done := make(chan struct{})
	a.running = done
	a.mu.Unlock()
	defer close(done)
	defer cancel()
	// The AfterFunc goroutine runs Close, which ends the account below; stopWatch
	// unregisters it when Run ends first.
	stopWatch := context.AfterFunc(ctx, func() { a.Close() })
	defer stopWatch()

	err := a.account.Run(inner)
	if err != nil && inner.Err() != nil && !errors.Is(err, chat.ErrAuth) {
		return nil // ended by ctx or Close
	}
	if err != nil {
		return fmt.Errorf("app: account: %w", err)
	}
	return nil
}

// Close hangs up every call (the hangUp signals leave while the account is still online),
// closes the engine, then the account, waits for Run to return, and in QuickBlox mode
// ends the session (its token stops working). Idempotent.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		close(a.closingCh)
		a.mu.Lock()
		a.closed = true
		cancel, running := a.cancel, a.running
		a.mu.Unlock()

		var errs []error
		if err := a.engine.Close(); err != nil {
			errs = append(errs, fmt.Errorf("app: close engine: %w", err))
		}
		if a.jingle != nil {
			// Proposals still ringing on the contacts' devices are retracted while
			// the account is online.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			a.jingle.EndAll(ctx)
			cancel()
		}
		if cancel != nil {
			cancel()
		}
		if err := a.account.Close(); err != nil {
			errs = append(errs, fmt.Errorf("app: close account: %w", err))
		}
		if a.jingle != nil {
			_ = a.jingle.Close()
		}
		if running != nil {
			<-running
		}
		a.mu.Lock()
		named := a.named
		a.mu.Unlock()
		named.wait() // its events end with the account's
		if err := a.signOut(); err != nil {
			errs = append(errs, err)
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// signOut ends the QuickBlox session (DELETE session.json) and drops the client's
// connections; nothing without QuickBlox.
func (a *App) signOut() error {
	if a.qb == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
	defer cancel()
	err := a.qb.SignOut(ctx)
	a.qbc.Close()
	if err != nil {
		return fmt.Errorf("app: quickblox logout: %w", err)
	}
	return nil
}

// closing is closed when Close starts.
func (a *App) closing() <-chan struct{} { return a.closingCh }
