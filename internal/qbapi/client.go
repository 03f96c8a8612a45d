package qbapi

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Operation names, used in errors.
const (
	opCreateSession   = "create session"
	opDestroySession  = "log out"
	opAccountSettings = "account settings"
)

// maxBody bounds an answer read from the API: the documented ones are a few KB.
const maxBody = 1 << 20

// requestTimeout bounds one request whose context has no deadline.
const requestTimeout = 20 * time.Second

// ClientConfig are an application's credentials and where its API is.
type ClientConfig struct {
	AppID      int
	AuthKey    string
	AuthSecret string
	// AccountKey, when set, lets AccountSettings learn the account's endpoints.
	AccountKey string
	// APIEndpoint is the API's base URL, e.g. "https://api.quickblox.com" (the default)
	// or an Enterprise host. http:// is allowed only to a loopback address.
	APIEndpoint string
	Hash        Hash   // default SHA1
	CAFile      string // extra CA certificates (PEM) to trust besides the system's
	// HTTPClient replaces the default client (20 s per request, the system's proxy
	// settings, CAFile); tests only.
	HTTPClient *http.Client
	// Now and Nonce replace the clock and the random nonce (signature tests).
	Now   func() time.Time
	Nonce func() int
	// UserAgent is sent with every request; default "ttycall".
	UserAgent string
	Logger    *slog.Logger
}

// Client makes the REST requests of one application. It is safe for concurrent use.
type Client struct {
	cfg  ClientConfig
	http *http.Client
	log  *slog.Logger

	mu  sync.Mutex
	api *url.URL // guarded by mu; changed by SetAPIEndpoint (account settings)
}

// NewClient checks cfg and makes a Client; nothing is sent before the first request.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.AppID <= 0 {
		return nil, fmt.Errorf("%w: app_id %d: want the application's number (> 0)", ErrConfig, cfg.AppID)
	}
	if cfg.AuthKey == "" || cfg.AuthSecret == "" {
		return nil, fmt.Errorf("%w: an application needs auth_key and auth_secret", ErrConfig)
	}
	if cfg.Hash == "" {
		cfg.Hash = SHA1
	}
	if cfg.Hash != SHA1 && cfg.Hash != SHA256 {
		return nil, fmt.Errorf("%w: hash %q: want sha1 or sha256", ErrConfig, cfg.Hash)
	}
	if cfg.APIEndpoint == "" {
		cfg.APIEndpoint = DefaultAPIEndpoint
	}
	api, err := ParseEndpoint(cfg.APIEndpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Nonce == nil {
		cfg.Nonce = randomNonce
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "ttycall"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.CAFile != "" {
			roots, err := x509.SystemCertPool()
			if err != nil || roots == nil {
				roots = x509.NewCertPool()
			}
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%w: ca_file: %w", ErrConfig, err)
			}
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: ca_file %s: no PEM certificate in it", ErrConfig, cfg.CAFile)
			}
			tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		}
		hc = &http.Client{Transport: tr, Timeout: requestTimeout}
	}
	return &Client{cfg: cfg, http: hc, api: api, log: cfg.Logger}, nil
}

// ParseEndpoint checks an API endpoint: an https:// URL (a bare host gets https://, as
// the SDK's endpoints.api is a host), or http:// to a loopback address (tests, a local
// stand-in): credentials never cross a network unencrypted.
func ParseEndpoint(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: api endpoint %q: want https://host[:port][/path]", ErrConfig, s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("%w: api endpoint %q: http:// only to a loopback address; use https://", ErrConfig, s)
		}
	default:
		return nil, fmt.Errorf("%w: api endpoint %q: want https://", ErrConfig, s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// APIEndpoint is the base URL requests go to.
func (c *Client) APIEndpoint() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.api.String()
}

// SetAPIEndpoint moves the client to another API host (from account settings).
func (c *Client) SetAPIEndpoint(s string) error {
	u, err := ParseEndpoint(s)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.api = u
	c.mu.Unlock()
	return nil
}

// AppID is the application's number.
func (c *Client) AppID() int { return c.cfg.AppID }

func randomNonce() int {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<31-1))
	if err != nil {
		return int(time.Now().UnixNano() & 0x7fffffff)
	}
	return int(n.Int64()) + 1
}

// Credentials are a user's: Login or Email, and Password.
type Credentials struct {
	Login    string
	Email    string
	Password string
}

// Session is an API session. A user session's Token is also the user's chat password.
type Session struct {
	ID            int    `json:"id"`
	ApplicationID int    `json:"application_id"`
	UserID        int    `json:"user_id"`
	Token         string `json:"token"`
	Nonce         int    `json:"nonce"`
	TS            int64  `json:"ts"`
	// Expires is when the token stops working, from the QB-Token-ExpirationDate header
	// or, without it, two hours from the answer (the API's sliding session lifetime).
	Expires time.Time `json:"-"`
}

// User is a user of the application (the users API's user object, the fields ttycall
// uses).
type User struct {
	ID       int    `json:"id"`
	Login    string `json:"login"`
	Email    string `json:"email"`
	FullName string `json:"full_name"`
	Phone    string `json:"phone"`
}

// DisplayName is the full name, else the login, else the email, else the number.
func (u User) DisplayName() string {
	for _, s := range []string{u.FullName, u.Login, u.Email} {
		if s != "" {
			return s
		}
	}
	return strconv.Itoa(u.ID)
}

// AccountSettings are an account's endpoints (GET /account_settings.json).
type AccountSettings struct {
	APIEndpoint        string `json:"api_endpoint"`
	ChatEndpoint       string `json:"chat_endpoint"`
	TurnServerEndpoint string `json:"turnserver_endpoint"`
}

// sessionLifetime is how long a token lives after the last request when the API does
// not say (QuickBlox documents two hours; the SDK's liveSessionInterval is 120 minutes).
const sessionLifetime = 2 * time.Hour

// CreateSession makes a session for the application, signed in as the user when creds
// names one (POST /session.json).
func (c *Client) CreateSession(ctx context.Context, creds Credentials) (*Session, error) {
	r := SessionRequest{
		AppID:     c.cfg.AppID,
		AuthKey:   c.cfg.AuthKey,
		Nonce:     c.cfg.Nonce(),
		Timestamp: c.cfg.Now().Unix(),
		Login:     creds.Login,
		Email:     creds.Email,
		Password:  creds.Password,
	}
	body, err := r.Body(c.cfg.AuthSecret, c.cfg.Hash)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var out struct {
		Session *Session `json:"session"`
	}
	h, err := c.do(ctx, opCreateSession, http.MethodPost, "session.json", "", body, nil, &out)
	if err != nil {
		return nil, err
	}
	if out.Session == nil || out.Session.Token == "" {
		return nil, fmt.Errorf("%w: %s: no session token in the answer", ErrProtocol, opCreateSession)
	}
	if (creds.Login != "" || creds.Email != "") && out.Session.UserID <= 0 {
		return nil, fmt.Errorf("%w: %s: no user_id in the answer", ErrProtocol, opCreateSession)
	}
	out.Session.Expires = c.expiry(h)
	return out.Session, nil
}

// expiry reads QB-Token-ExpirationDate ("2006-01-02 15:04:05 UTC"), else now + two hours.
func (c *Client) expiry(h http.Header) time.Time {
	if v := h.Get("QB-Token-ExpirationDate"); v != "" {
		for _, layout := range []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700", time.RFC3339, "2006/01/02 15:04:05 MST"} {
			if t, err := time.Parse(layout, v); err == nil {
				return t
			}
		}
	}
	return c.cfg.Now().Add(sessionLifetime)
}

// DestroySession ends the session (DELETE /session.json): the token stops working, also
// as a chat password.
func (c *Client) DestroySession(ctx context.Context, token string) error {
	_, err := c.do(ctx, opDestroySession, http.MethodDelete, "session.json", token, "", nil, nil)
	return err
}

// AccountSettings asks for the account's endpoints with the account key
// (GET /account_settings.json, header QB-Account-Key), as the SDK's init does.
func (c *Client) AccountSettings(ctx context.Context) (*AccountSettings, error) {
	if c.cfg.AccountKey == "" {
		return nil, fmt.Errorf("%w: account settings need account_key", ErrConfig)
	}
	var out AccountSettings
	hdr := http.Header{"QB-Account-Key": {c.cfg.AccountKey}}
	if _, err := c.do(ctx, opAccountSettings, http.MethodGet, "account_settings.json", "", "", hdr, &out); err != nil {
		return nil, err
	}
	if out.APIEndpoint == "" && out.ChatEndpoint == "" {
		return nil, fmt.Errorf("%w: %s: no endpoints in the answer", ErrProtocol, opAccountSettings)
	}
	return &out, nil
}

// UserByID is GET /users/{id}.json.
func (c *Client) UserByID(ctx context.Context, token string, id int) (*User, error) {
	return c.oneUser(ctx, "user "+strconv.Itoa(id), token, "users/"+strconv.Itoa(id)+".json", "")
}

// UserByLogin is GET /users/by_login.json?login=...
func (c *Client) UserByLogin(ctx context.Context, token, login string) (*User, error) {
	return c.oneUser(ctx, fmt.Sprintf("user by login %q", login), token, "users/by_login.json", "login="+encodeURIComponent(login))
}

// UserByEmail is GET /users/by_email.json?email=...
func (c *Client) UserByEmail(ctx context.Context, token, email string) (*User, error) {
	return c.oneUser(ctx, fmt.Sprintf("user by email %q", email), token, "users/by_email.json", "email="+encodeURIComponent(email))
}

func (c *Client) oneUser(ctx context.Context, op, token, path, query string) (*User, error) {
	var out struct {
		User *User `json:"user"`
	}
	if _, err := c.do(ctx, op, http.MethodGet, path, token, query, nil, &out); err != nil {
		return nil, err
	}
	if out.User == nil || out.User.ID <= 0 {
		return nil, fmt.Errorf("%w: %s: no user in the answer", ErrProtocol, op)
	}
	return out.User, nil
}

// UsersByFullName is GET /users/by_full_name.json?full_name=... (first page, up to 10).
func (c *Client) UsersByFullName(ctx context.Context, token, name string) ([]User, error) {
	op := fmt.Sprintf("users by full name %q", name)
	var out struct {
		Items []struct {
			User User `json:"user"`
		} `json:"items"`
	}
	if _, err := c.do(ctx, op, http.MethodGet, "users/by_full_name.json", token, "full_name="+encodeURIComponent(name), nil, &out); err != nil {
		return nil, err
	}
	users := make([]User, 0, len(out.Items))
	for _, it := range out.Items {
		if it.User.ID > 0 {
			users = append(users, it.User)
		}
	}
	return users, nil
}

// do sends one request. For GET and DELETE, params is the query; otherwise the
// form-urlencoded body. The answer's JSON goes into out (when not nil).
func (c *Client) do(ctx context.Context, op, method, path, token, params string, hdr http.Header, out any) (http.Header, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, requestTimeout)
		defer cancel()
	}
	c.mu.Lock()
	u := *c.api
	c.mu.Unlock()
	u.Path += "/" + path
	var body io.Reader
	if params != "" {
		if method == http.MethodGet || method == http.MethodDelete {
			u.RawQuery = params
		} else {
			body = strings.NewReader(params)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrConfig, op, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	}
	if token != "" {
		req.Header.Set("QB-Token", token)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("quickblox: %s: %w", op, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %s: cannot reach %s (check quickblox.api_endpoint and the network): %w", ErrUnavailable, op, u.Host, unwrapURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s at %s: reading the answer: %w", ErrUnavailable, op, u.Host, err)
	}
	if len(data) > maxBody {
		return nil, fmt.Errorf("%w: %s: answer larger than %d bytes", ErrProtocol, op, maxBody)
	}
	c.log.Debug("quickblox: request", "op", op, "method", method, "path", path, "status", resp.StatusCode)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, classify(op, resp.StatusCode, errorTexts(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%w: %s: the answer is not the documented JSON: %v", ErrProtocol, op, err)
		}
	}
	return resp.Header, nil
}

// unwrapURL drops *url.Error's "Post \"https://...\":" prefix: the op and host are said
// already.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// errorTexts flattens the API's error JSON: {"errors":{"base":["Unexpected signature"]}},
// {"errors":["Unauthorized"]}, {"errors":{"login":["is invalid"]}}, {"message":"..."}.
// Anything else gives no text (the status still classifies it); the raw body is never
// shown.
func errorTexts(data []byte) []string {
	var v struct {
		Errors  json.RawMessage `json:"errors"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	var out []string
	var list []string
	var byField map[string]json.RawMessage
	switch {
	case json.Unmarshal(v.Errors, &list) == nil:
		out = append(out, list...)
	case json.Unmarshal(v.Errors, &byField) == nil:
		keys := make([]string, 0, len(byField))
		for k := range byField {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var msgs []string
			var one string
			if json.Unmarshal(byField[k], &msgs) != nil {
				if json.Unmarshal(byField[k], &one) != nil {
					continue
				}
				msgs = []string{one}
			}
			for _, m := range msgs {
				if k == "base" {
					out = append(out, m)
				} else {
					out = append(out, k+" "+m)
				}
			}
		}
	}
	if v.Message != "" {
		out = append(out, v.Message)
	}
	for i, s := range out {
		if len(s) > 200 {
			out[i] = s[:200] + "..."
		}
	}
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}

// Close drops the client's idle connections (their reader goroutines end).
func (c *Client) Close() { c.http.CloseIdleConnections() }
