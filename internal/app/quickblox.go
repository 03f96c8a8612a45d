package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/qbapi"
)

// ErrLogin is wrapped by New's errors when the sign-in was refused (QuickBlox mode:
// wrong keys, secret, login or password; fix the config, retrying does not help).
var ErrLogin = errors.New("login refused")

// Bounds of the backoff between sign-in attempts while the QuickBlox API cannot be
// reached (the same as the chat account's reconnects).
const (
	signInRetryMin = time.Second
	signInRetryMax = time.Minute
)

// lookupTimeout bounds a user lookup made for a command (call alice_login).
const lookupTimeout = 15 * time.Second

// logoutTimeout bounds the DELETE of the session at Close.
const logoutTimeout = 5 * time.Second

// NewQuickBlox makes the QuickBlox account of a config with a [quickblox] table (not
// signed in yet).
func NewQuickBlox(ctx context.Context, cfg *config.Config, log *slog.Logger) (*qbapi.Account, *qbapi.Client, error) {
	q := cfg.QuickBlox
	secret, err := q.ResolveAuthSecret(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w: %w", ErrConfig, err)
	}
	password, err := q.ResolvePassword(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w: %w", ErrConfig, err)
	}
	client, err := qbapi.NewClient(qbapi.ClientConfig{
		AppID:       q.AppID,
		AuthKey:     q.AuthKey,
		AuthSecret:  secret,
		AccountKey:  q.AccountKey,
		APIEndpoint: q.APIEndpoint,
		Hash:        qbapi.Hash(q.Hash),
		CAFile:      cfg.Account.CAFile,
		Logger:      log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("app: %w: %w", ErrConfig, err)
	}
	acc, err := qbapi.NewAccount(client, qbapi.AccountConfig{
		Credentials:  qbapi.Credentials{Login: q.Login, Email: q.Email, Password: password},
		ChatEndpoint: q.ChatEndpoint,
		Settings:     q.AccountKey != "",
		Logger:       log,
	})
	if err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("app: %w: %w", ErrConfig, err)
	}
	return acc, client, nil
}

// SignInQuickBlox signs acc in, retrying with backoff while the API cannot be reached
// or limits the rate (each failure is told to onRetry, when set). Refused credentials
// end it at once with an error wrapping ErrLogin and qbapi.ErrAuth.
func SignInQuickBlox(ctx context.Context, acc *qbapi.Account, onRetry func(err error, retryIn time.Duration), log *slog.Logger) (qbapi.User, error) {
	for attempt := 0; ; attempt++ {
		me, err := acc.SignIn(ctx)
		if err == nil {
			log.Info("quickblox: signed in", "user_id", me.ID, "login", me.Login, "jid", acc.ChatJID(), "api", acc.APIEndpoint())
			return me, nil
		}
		if ctx.Err() != nil {
			return qbapi.User{}, fmt.Errorf("app: quickblox sign-in: %w", ctx.Err())
		}
		if errors.Is(err, qbapi.ErrAuth) {
			return qbapi.User{}, fmt.Errorf("app: %w: %w", ErrLogin, err)
		}
		if !qbapi.Temporary(err) {
			return qbapi.User{}, fmt.Errorf("app: quickblox sign-in: %w", err)
		}
		wait := backoff(attempt)
		log.Warn("quickblox: sign-in failed; retrying", "err", err, "retry_in", wait)
		if onRetry != nil {
			onRetry(err, wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return qbapi.User{}, fmt.Errorf("app: quickblox sign-in: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// backoff is attempt n's wait: exponential from signInRetryMin to signInRetryMax, with
// equal jitter.
func backoff(attempt int) time.Duration {
	d := signInRetryMin
	for i := 0; i < attempt && d < signInRetryMax; i++ {
		d *= 2
	}
	d = min(d, signInRetryMax)
	return d/2 + rand.N(d/2+1)
}

// chatPassword is the chat account's PasswordFunc in QuickBlox mode: the session token,
// renewed before it expires and when chat refused it. Refused credentials become
// chat.ErrAuth, so the account stops instead of looping.
func chatPassword(acc *qbapi.Account) func(ctx context.Context, refused bool) (string, error) {
	return func(ctx context.Context, refused bool) (string, error) {
		tok, err := acc.Token(ctx, refused)
		if errors.Is(err, qbapi.ErrAuth) {
			return "", fmt.Errorf("%w: %w", chat.ErrAuth, err)
		}
		return tok, err
	}
}

// quickbloxICE is the engine's ICE servers in QuickBlox mode when [ice] names none: the
// web SDK's defaults (qbapi.DefaultICEServers, a plain value to merge with servers from
// elsewhere). Loopback-only ICE (tests) has no use for servers on the internet.
func quickbloxICE(cfg *config.Config, loopbackOnly bool) []call.ICEServer {
	if !cfg.QuickBlox.Enabled || len(cfg.ICE.Servers) > 0 || loopbackOnly {
		return nil
	}
	var out []call.ICEServer
	for _, s := range qbapi.DefaultICEServers() {
		out = append(out, call.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	return out
}

// QuickBlox is the signed-in QuickBlox account; nil without [quickblox].
func (a *App) QuickBlox() *qbapi.Account { return a.qb }

// resolveUser turns what a person typed into a user ID: an ID of the account's scheme,
// or, in QuickBlox mode, a login, email or full name looked up in the users API.
func (a *App) resolveUser(s string) (call.UserID, error) {
	id, err := a.scheme.ParseUserID(s)
	if err == nil || a.qb == nil {
		return id, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	u, lerr := a.qb.Resolve(ctx, s)
	if lerr != nil {
		return "", lerr
	}
	return a.scheme.ParseUserID(strconv.Itoa(u.ID))
}

// DisplayName is the user's full name in QuickBlox mode (looked up once, then cached
// with an expiry); "" when unknown or not in QuickBlox mode. It may make a request:
// call it off the UI's goroutine.
func (a *App) DisplayName(ctx context.Context, id call.UserID) string {
	if a.qb == nil {
		return ""
	}
	n, err := strconv.Atoi(string(id))
	if err != nil {
		return ""
	}
	return a.qb.DisplayName(ctx, n)
}

// QuickBloxMain runs `ttycall quickblox SUBCOMMAND`: whoami signs in with the config's
// [quickblox] table, prints the user's ID, login and full name and the endpoints used,
// ends the session and exits. Exit codes: 0 signed in, 1 the API could not be reached,
// 2 usage or config error, 3 sign-in refused.
func QuickBloxMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const usage = "Usage: ttycall quickblox whoami [--config FILE]\n\n" +
		"whoami: sign in with the config's [quickblox] table, print the user's ID, login and\n" +
		"full name and the endpoints used, log out and exit (0 signed in, 1 API unreachable,\n" +
		"2 config error, 3 sign-in refused).\n"
	if len(args) == 0 || args[0] != "whoami" {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	fs := flag.NewFlagSet("ttycall quickblox whoami", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage+"\nFlags:\n"); fs.PrintDefaults() }
	cfgPath := fs.String("config", "", "config file (default "+config.DefaultPath()+")")
	logPath := fs.String("log", "", "log file (default: none)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	log := slog.New(slog.DiscardHandler)
	if *logPath != "" {
		l, closer, err := OpenLog(*logPath, slog.LevelDebug, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "ttycall quickblox:", err)
			return 2
		}
		defer closer.Close()
		log = l
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, "ttycall quickblox:", err)
		return 2
	}
	if !cfg.QuickBlox.Enabled {
		where := cfg.Path
		if where == "" {
			where = "the config"
		}
		fmt.Fprintf(stderr, "ttycall quickblox: %s has no [quickblox] table (see config.toml.example)\n", where)
		return 2
	}
	acc, client, err := NewQuickBlox(ctx, cfg, log)
	if err != nil {
		fmt.Fprintln(stderr, "ttycall quickblox:", err)
		return 2
	}
	defer client.Close()
	if _, err := acc.SignIn(ctx); err != nil {
		fmt.Fprintln(stderr, "ttycall quickblox whoami:", err)
		if errors.Is(err, qbapi.ErrAuth) {
			return 3
		}
		return 1
	}
	logout, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	defer func() {
		if err := acc.SignOut(logout); err != nil {
			fmt.Fprintln(stderr, "ttycall quickblox whoami: logout:", err)
		}
	}()
	if err := acc.WriteWhoami(stdout); err != nil {
		return 1
	}
	server := cfg.Account.Server
	if server == "" {
		server = acc.ChatHost() + ":5222"
	}
	fmt.Fprintf(stdout, "chat:      %s (tls %s)\n", server, cfg.Account.TLS)
	return 0
}
