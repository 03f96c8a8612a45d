// Package app wires a *config.Config into a running client: the ID scheme, the XMPP
// account (package chat) and the call engine (package call), connected both ways
// (incoming signals go to the engine, the engine's signals leave through the account).
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
	"github.com/ttycall/ttycall/call/signal"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
)

// EnvLoopbackICE, when set to "1" in the environment, makes the engine gather loopback
// candidates only. It is a test hook (tests keep their traffic on 127.0.0.1) and
// deliberately not a config key.
const EnvLoopbackICE = "TTYCALL_ICE_LOOPBACK"

// ErrConfig is wrapped by New's errors about the configuration.
var ErrConfig = errors.New("bad configuration")

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
	// DefaultICEServers are the platform's STUN/TURN servers, added after the config's
	// and the XMPP server's (QuickBlox mode: the SDK's defaults).
	DefaultICEServers []call.ICEServer
	// Logger; nil discards.
	Logger *slog.Logger
}

// App is one signed-in user: an account and its call engine.
type App struct {
	cfg     *config.Config
	log     *slog.Logger
	scheme  signal.Scheme
	account *chat.Account
	engine  *call.Client

	// engineReady is set once the engine exists; signals that arrive before are dropped.
	engineReady atomic.Pointer[call.Client]

	mu      sync.Mutex
	cancel  context.CancelFunc // cancels a running Run; guarded by mu
	running chan struct{}      // closed when Run returns; nil before Run; guarded by mu
	closed  bool               // guarded by mu

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
	account, err := jid.Parse(cfg.Account.JID)
	if err != nil {
		return nil, fmt.Errorf("app: %w: account.jid %q: %w", ErrConfig, cfg.Account.JID, err)
	}
	scheme, err := signal.NewScheme(cfg.Account.IDScheme, account)
	if err != nil {
		return nil, fmt.Errorf("app: %w: account.id_scheme %q: %w", ErrConfig, cfg.Account.IDScheme, err)
	}
	password, err := cfg.Account.ResolvePassword()
	if err != nil {
		return nil, fmt.Errorf("app: %w: account password: %w", ErrConfig, err)
	}
	a := &App{cfg: cfg, log: log, scheme: scheme}

	acc, err := chat.New(chat.Config{
		JID:      account,
		Password: password,
		Server:   cfg.Account.Server,
		TLS:      chat.TLSMode(cfg.Account.TLS),
		CAFile:   cfg.Account.CAFile,
		Resource: cfg.Account.Resource,
		Scheme:   scheme,
		OnSignal: func(s *signal.Signal) {
			if e := a.engineReady.Load(); e != nil {
				e.HandleSignal(s)
			}
		},
		OnSignalError: func(from signal.UserID, err error) {
			if e := a.engineReady.Load(); e != nil {
				e.HandleSignalError(from, err)
			}
		},
		Logger: log.With("part", "chat"),
	})
	if err != nil {
		return nil, fmt.Errorf("app: %w: account: %w", ErrConfig, err)
	}
	a.account = acc

	ecfg := EngineConfig(cfg, acc.LocalID(), acc, o)
	src := &iceSource{configured: ecfg.ICEServers, defaults: o.DefaultICEServers, now: time.Now}
	if cfg.ICE.ExternalServices {
		src.discover = func(ctx context.Context) ([]chat.ExternalService, error) {
			list, err := acc.ExternalServices(ctx)
			if err != nil {
				log.Info("app: no external services (XEP-0215)", "err", err)
			}
			return list, err
		}
	}
	ecfg.ICEServersFunc = src.servers
	engine, err := call.NewClient(ecfg)
	if err != nil {
		acc.Close()
		return nil, fmt.Errorf("app: call engine: %w", err)
	}
	a.engine = engine
	a.engineReady.Store(engine)
	return a, nil
}

// EngineConfig maps the config onto the engine's settings.
func EngineConfig(cfg *config.Config, local signal.UserID, sig call.Signaler, o Options) call.Config {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var servers []call.ICEServer
	for _, s := range cfg.ICE.Servers {
		servers = append(servers, call.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return call.Config{
		LocalID:                local,
		Signaler:               sig,
		Platform:               o.Platform,
		AnswerTimeInterval:     cfg.Calls.AnswerTimeInterval.Duration(),
		DialingTimeInterval:    cfg.Calls.DialingTimeInterval.Duration(),
		DisconnectTimeInterval: cfg.Calls.DisconnectTimeInterval.Duration(),
		StatsReportInterval:    cfg.Calls.StatsReportTimeInterval.Duration(),
		AutoReject:             cfg.Calls.AutoReject,
		IncomingLimit:          cfg.Calls.IncomingLimit,
		BandwidthKbps:          cfg.Calls.Bandwidth,
		ICEServers:             servers,
		RelayOnly:              cfg.ICE.TransportPolicy == "relay",
		LoopbackOnly:           o.LoopbackOnly || LoopbackFromEnv(),
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
func (a *App) Scheme() signal.Scheme { return a.scheme }

// LocalID is the signed-in user's ID.
func (a *App) LocalID() signal.UserID { return a.account.LocalID() }

// AccountEvents is the account's ordered event stream; it never blocks the account.
func (a *App) AccountEvents() <-chan chat.Event { return a.account.Events() }

// CallEvents is the engine's ordered event stream; it never blocks the engine.
func (a *App) CallEvents() <-chan call.Event { return a.engine.Events() }

// ParseUserIDs turns "ID[,ID...]" into user IDs of the account's scheme.
func (a *App) ParseUserIDs(list []string) ([]signal.UserID, error) {
	var ids []signal.UserID
	for _, s := range list {
		id, err := a.scheme.ParseUserID(s)
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
// closes the engine, then the account, and waits for Run to return. Idempotent.
func (a *App) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		cancel, running := a.cancel, a.running
		a.mu.Unlock()

		var errs []error
		if err := a.engine.Close(); err != nil {
			errs = append(errs, fmt.Errorf("app: close engine: %w", err))
		}
		if cancel != nil {
			cancel()
		}
		if err := a.account.Close(); err != nil {
			errs = append(errs, fmt.Errorf("app: close account: %w", err))
		}
		if running != nil {
			<-running
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}
