package qbapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// renewBefore is how long before its expiry a token is replaced: a login that starts with
// a token about to expire would be refused halfway (the SDK keeps one minute).
const renewBefore = 5 * time.Minute

// userTTL is how long a looked-up user is kept: names change rarely, and a contact list
// must not cost one request per contact per redraw.
const userTTL = 10 * time.Minute

// AccountConfig is what an Account needs besides its Client.
type AccountConfig struct {
	Credentials Credentials
	// ChatEndpoint is the chat host that goes into JIDs; default DefaultChatEndpoint.
	ChatEndpoint string
	// Settings: fetch account_settings (the client needs its account key) before the
	// first session, and take from it the endpoints that are still the defaults, as the
	// SDK's init does.
	Settings bool
	Logger   *slog.Logger
}

// Account is one user signed in to one application: its session (whose token is also
// the chat password), renewed when it nears expiry or is refused, and a cache of the
// application's users. It is safe for concurrent use.
type Account struct {
	c   *Client
	cfg AccountConfig
	log *slog.Logger

	signMu sync.Mutex // one session request at a time

	mu       sync.Mutex
	sess     *Session             // guarded by mu; nil before SignIn and after SignOut
	me       User                 // guarded by mu
	chatHost string               // guarded by mu
	users    map[string]userEntry // guarded by mu; "id:N", "login:x", "email:x", "name:x"
}

type userEntry struct {
	u       User
	fetched time.Time
}

// NewAccount makes an Account; nothing is sent before SignIn.
func NewAccount(c *Client, cfg AccountConfig) (*Account, error) {
	cr := cfg.Credentials
	if cr.Password == "" || (cr.Login == "" && cr.Email == "") {
		return nil, fmt.Errorf("%w: a user needs login or email, and password", ErrConfig)
	}
	if cfg.ChatEndpoint == "" {
		cfg.ChatEndpoint = DefaultChatEndpoint
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Account{c: c, cfg: cfg, log: cfg.Logger, chatHost: cfg.ChatEndpoint, users: map[string]userEntry{}}, nil
}

// SignIn reads the account settings (when configured), creates the user's session and
// reads the user's own record. It returns the user. Errors wrap ErrAuth when the
// credentials are wrong (do not retry), ErrUnavailable or ErrRateLimited when a retry
// may help.
func (a *Account) SignIn(ctx context.Context) (User, error) {
	if a.cfg.Settings {
		st, err := a.c.AccountSettings(ctx)
		if err != nil {
			return User{}, err
		}
		if st.APIEndpoint != "" && a.c.APIEndpoint() == DefaultAPIEndpoint {
			if err := a.c.SetAPIEndpoint(st.APIEndpoint); err != nil {
				return User{}, fmt.Errorf("%w: account settings: api_endpoint: %w", ErrProtocol, err)
			}
		}
		if st.ChatEndpoint != "" && a.cfg.ChatEndpoint == DefaultChatEndpoint {
			a.mu.Lock()
			a.chatHost = strings.TrimPrefix(strings.TrimPrefix(st.ChatEndpoint, "https://"), "http://")
			a.mu.Unlock()
		}
		a.log.Info("quickblox: account settings", "api", a.c.APIEndpoint(), "chat", a.ChatHost())
	}
	if _, err := a.Token(ctx, true); err != nil {
		return User{}, err
	}
	a.mu.Lock()
	id := a.sess.UserID
	a.mu.Unlock()
	me, err := a.User(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("quickblox: reading the signed-in user: %w", err)
	}
	a.mu.Lock()
	a.me = me
	a.mu.Unlock()
	return me, nil
}

// Me is the signed-in user (zero before SignIn).
func (a *Account) Me() User {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.me
}

// UserID is the signed-in user's number (0 before SignIn).
func (a *Account) UserID() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sess == nil {
		return a.me.ID
	}
	return a.sess.UserID
}

// ChatHost is the chat host of JIDs (the configured one, or the account settings').
func (a *Account) ChatHost() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chatHost
}

// ChatJID is the user's chat address, {user_id}-{app_id}@{chat host} (the SDK's
// buildUserJid).
func (a *Account) ChatJID() string {
	return fmt.Sprintf("%d-%d@%s", a.UserID(), a.c.AppID(), a.ChatHost())
}

// APIEndpoint is where the requests go.
func (a *Account) APIEndpoint() string { return a.c.APIEndpoint() }

// Token returns a session token to use now: the current one, or a new session's when
// there is none, when it expires within renewBefore, or when refused says the chat
// server or the API refused the current one. A new session must belong to the same user.
func (a *Account) Token(ctx context.Context, refused bool) (string, error) {
	a.signMu.Lock()
	defer a.signMu.Unlock()
	a.mu.Lock()
	sess := a.sess
	a.mu.Unlock()
	if sess != nil && !refused && time.Until(sess.Expires) > renewBefore {
		return sess.Token, nil
	}
	s, err := a.c.CreateSession(ctx, a.cfg.Credentials)
	if err != nil {
		return "", err
	}
	if sess != nil && s.UserID != sess.UserID {
		return "", fmt.Errorf("%w: create session: signed in as user %d, before as %d", ErrProtocol, s.UserID, sess.UserID)
	}
	a.mu.Lock()
	a.sess = s
	a.mu.Unlock()
	why := "first"
	switch {
	case refused && sess != nil:
		why = "refused"
	case sess != nil:
		why = "expiring"
	}
	a.log.Info("quickblox: new session", "user_id", s.UserID, "why", why, "expires", s.Expires)
	return s.Token, nil
}

// SignOut ends the session (DELETE /session.json), so that its token no longer works.
func (a *Account) SignOut(ctx context.Context) error {
	a.signMu.Lock()
	defer a.signMu.Unlock()
	a.mu.Lock()
	sess := a.sess
	a.sess = nil
	a.mu.Unlock()
	if sess == nil {
		return nil
	}
	return a.c.DestroySession(ctx, sess.Token)
}

// withToken runs f with a token; when the API says the token is no longer valid, once
// more with a new session's.
func (a *Account) withToken(ctx context.Context, f func(token string) error) error {
	tok, err := a.Token(ctx, false)
	if err != nil {
		return err
	}
	err = f(tok)
	if !errors.Is(err, ErrExpired) {
		return err
	}
	if tok, err = a.Token(ctx, true); err != nil {
		return err
	}
	return f(tok)
}

func (a *Account) cached(key string) (User, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.users[key]
	if !ok || time.Since(e.fetched) > userTTL {
		return User{}, false
	}
	return e.u, true
}

func (a *Account) remember(u User, keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := time.Now()
	a.users["id:"+strconv.Itoa(u.ID)] = userEntry{u, now}
	for _, k := range keys {
		a.users[k] = userEntry{u, now}
	}
}

// User is user id of the application (cached).
func (a *Account) User(ctx context.Context, id int) (User, error) {
	if u, ok := a.cached("id:" + strconv.Itoa(id)); ok {
		return u, nil
	}
	var u *User
	err := a.withToken(ctx, func(tok string) (err error) {
		u, err = a.c.UserByID(ctx, tok, id)
		return err
	})
	if err != nil {
		return User{}, err
	}
	a.remember(*u)
	return *u, nil
}

// DisplayName is user id's full name (or login, email), cached; "" when it cannot be
// learned now.
func (a *Account) DisplayName(ctx context.Context, id int) string {
	u, err := a.User(ctx, id)
	if err != nil {
		return ""
	}
	return u.DisplayName()
}

// Resolve finds the user a person means: a number is a user ID; otherwise a login, an
// email (when it has an @), or a full name, tried in that order (cached). An unknown name
// wraps ErrNotFound; a full name that several users share is an error listing them.
func (a *Account) Resolve(ctx context.Context, who string) (User, error) {
	who = strings.TrimSpace(who)
	if who == "" {
		return User{}, fmt.Errorf("%w: empty user name", ErrNotFound)
	}
	if id, err := strconv.Atoi(who); err == nil && id > 0 {
		return a.User(ctx, id)
	}
	key := "who:" + who
	if u, ok := a.cached(key); ok {
		return u, nil
	}
	try := func(f func(tok string) (*User, error)) (*User, error) {
		var u *User
		err := a.withToken(ctx, func(tok string) (err error) {
			u, err = f(tok)
			return err
		})
		return u, err
	}
	lookups := []func(tok string) (*User, error){
		func(tok string) (*User, error) { return a.c.UserByLogin(ctx, tok, who) },
	}
	if strings.Contains(who, "@") {
		lookups = append([]func(string) (*User, error){
			func(tok string) (*User, error) { return a.c.UserByEmail(ctx, tok, who) },
		}, lookups...)
	}
	for _, f := range lookups {
		u, err := try(f)
		if err == nil {
			a.remember(*u, key)
			return *u, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return User{}, err
		}
	}
	var list []User
	err := a.withToken(ctx, func(tok string) (err error) {
		list, err = a.c.UsersByFullName(ctx, tok, who)
		return err
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	switch len(list) {
	case 0:
		return User{}, fmt.Errorf("%w: no user with login, email or full name %q in application %d", ErrNotFound, who, a.c.AppID())
	case 1:
		a.remember(list[0], key)
		return list[0], nil
	}
	var names []string
	for _, u := range list {
		names = append(names, fmt.Sprintf("%d (%s)", u.ID, u.Login))
	}
	return User{}, fmt.Errorf("%w: %d users are called %q: %s; call one by number or login", ErrNotFound, len(list), who, strings.Join(names, ", "))
}

// WriteWhoami prints the signed-in user and the endpoints used, one "key: value" line
// each (ttycall quickblox whoami).
func (a *Account) WriteWhoami(w io.Writer) error {
	me := a.Me()
	_, err := fmt.Fprintf(w, "user_id:   %d\nlogin:     %s\nfull_name: %s\nemail:     %s\napp_id:    %d\nchat_jid:  %s\napi:       %s\nchat_host: %s\n",
		me.ID, me.Login, me.FullName, me.Email, a.c.AppID(), a.ChatJID(), a.APIEndpoint(), a.ChatHost())
	return err
}

// CachedUser is user id from the cache, without a request; ok is false when it is not
// there or has expired.
func (a *Account) CachedUser(id int) (User, bool) {
	return a.cached("id:" + strconv.Itoa(id))
}
