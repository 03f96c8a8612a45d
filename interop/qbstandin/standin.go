// Package qbstandin is a local stand-in for the QuickBlox REST endpoints that ttycall and
// the web SDK use to sign in: POST/DELETE session.json, POST/DELETE login.json, the users
// API (by ID, login, email, full name) and account_settings.json. It is test scaffolding
// (QuickBlox's cloud cannot be reached from the test machines) and never part of the
// product.
//
// It checks every session signature with the documented algorithm (written here again,
// on purpose not shared with package internal/qbapi), answers with the documented JSON shapes
// (from the SDK's source: src/modules/qbAuth.js, qbUsers.js, qbMain.js), and calls
// Options.OnToken with each new token so that the test's Prosody accepts it as the
// user's chat password, as QuickBlox's chat does. It listens on 127.0.0.1 only: plain
// HTTP (for ttycall, whose config allows http:// to loopback) and HTTPS with a
// self-signed certificate (the web SDK always calls https://).
package qbstandin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// User is an account of the application.
type User struct {
	ID       int
	Login    string
	Email    string
	FullName string
	Password string
}

// Options configure the stand-in.
type Options struct {
	AppID      int
	AuthKey    string
	AuthSecret string
	AccountKey string // for account_settings.json
	ChatHost   string // chat_endpoint in account_settings; default "localhost"
	Users      []User
	// OnToken is called with every new user token (and with a fresh random string when a
	// token ends: logout, expiry), before the answer is sent: the test registers it as
	// the user's chat password.
	OnToken func(u User, token string) error
	// Lifetime of a token; default two hours.
	Lifetime time.Duration
	// SettingsAPI is the api_endpoint account_settings answers; default the HTTP URL.
	SettingsAPI string
}

// Stand-in is a running stand-in.
type StandIn struct {
	// URL is the plain-HTTP base URL (http://127.0.0.1:PORT), TLSURL the HTTPS one.
	URL, TLSURL string
	// TLSHost is TLSURL's host:port, what the SDK's endpoints.api takes.
	TLSHost string
	// CertPEM is the HTTPS certificate (self-signed, for 127.0.0.1 and localhost).
	CertPEM []byte

	o            Options
	plain, https *http.Server
	wg           sync.WaitGroup

	mu       sync.Mutex
	sessions map[string]*session // guarded by mu; by token
	failNext []int               // guarded by mu; statuses to answer the next requests with
	counts   map[string]int      // guarded by mu; "POST session.json" -> n
	sigFails int                 // guarded by mu
}

type session struct {
	token   string
	user    *User // nil: application session
	expires time.Time
}

// Start listens on 127.0.0.1 (two ports) and serves until Close.
func Start(o Options) (*StandIn, error) {
	if o.ChatHost == "" {
		o.ChatHost = "localhost"
	}
	if o.Lifetime <= 0 {
		o.Lifetime = 2 * time.Hour
	}
	s := &StandIn{o: o, sessions: map[string]*session{}, counts: map[string]int{}}
	cert, certPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	s.CertPEM = certPEM
	l1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l1.Close()
		return nil, err
	}
	s.URL = "http://" + l1.Addr().String()
	s.TLSHost = l2.Addr().String()
	s.TLSURL = "https://" + s.TLSHost
	if s.o.SettingsAPI == "" {
		s.o.SettingsAPI = s.URL
	}
	s.plain = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.https = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); _ = s.plain.Serve(l1) }()                                     // ends with Close
	go func() { defer s.wg.Done(); _ = s.https.Serve(tls.NewListener(l2, s.https.TLSConfig)) }() // ends with Close
	return s, nil
}

// Close stops both listeners and waits for their goroutines.
func (s *StandIn) Close() error {
	err := errors.Join(s.plain.Close(), s.https.Close())
	s.wg.Wait()
	return err
}

// Count is how many requests "METHOD path" (e.g. "POST session.json") were answered.
func (s *StandIn) Count(req string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[req]
}

// SignatureFailures is how many session requests had a wrong signature.
func (s *StandIn) SignatureFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sigFails
}

// FailNext makes the next requests fail with these HTTP statuses, in order (429: rate
// limited, 503: down).
func (s *StandIn) FailNext(statuses ...int) {
	s.mu.Lock()
	s.failNext = append(s.failNext, statuses...)
	s.mu.Unlock()
}

// Expire ends every session of the user, as when its token expires: the tokens stop
// working for the API and, through OnToken, as chat passwords.
func (s *StandIn) Expire(login string) error {
	s.mu.Lock()
	var u *User
	for tok, ss := range s.sessions {
		if ss.user != nil && ss.user.Login == login {
			u = ss.user
			delete(s.sessions, tok)
		}
	}
	s.mu.Unlock()
	if u == nil {
		return fmt.Errorf("qbstandin: no session of %q", login)
	}
	return s.revoke(*u)
}

// Tokens is how many live sessions the user has.
func (s *StandIn) Tokens(login string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ss := range s.sessions {
		if ss.user != nil && ss.user.Login == login && time.Now().Before(ss.expires) {
			n++
		}
	}
	return n
}

func (s *StandIn) revoke(u User) error {
	if s.o.OnToken == nil {
		return nil
	}
	return s.o.OnToken(u, "revoked-"+randomHex(8))
}

// ServeHTTP routes the endpoints.
func (s *StandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The SDK's page is on another origin (the page server): CORS as QuickBlox's API.
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "QB-Token, QB-SDK, QB-OS, QB-Account-Key, Content-Type")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
	h.Set("Access-Control-Expose-Headers", "QB-Token-ExpirationDate")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.counts[r.Method+" "+path]++
	var fail int
	if len(s.failNext) > 0 {
		fail, s.failNext = s.failNext[0], s.failNext[1:]
	}
	s.mu.Unlock()
	if fail != 0 {
		writeErrors(w, fail, map[string][]string{"base": {http.StatusText(fail)}})
		return
	}
	switch {
	case path == "session.json" && r.Method == http.MethodPost:
		s.createSession(w, r)
	case path == "session.json" && r.Method == http.MethodDelete:
		s.destroySession(w, r)
	case path == "session.json" && r.Method == http.MethodGet:
		if ss := s.auth(w, r); ss != nil {
			writeJSON(w, 200, map[string]any{"session": s.sessionJSON(ss)})
		}
	case path == "login.json" && r.Method == http.MethodPost:
		s.login(w, r)
	case path == "login.json" && r.Method == http.MethodDelete:
		if ss := s.auth(w, r); ss != nil {
			s.mu.Lock()
			u := ss.user
			ss.user = nil
			s.mu.Unlock()
			if u != nil {
				_ = s.revoke(*u)
			}
			w.WriteHeader(200)
		}
	case path == "account_settings.json" && r.Method == http.MethodGet:
		if s.o.AccountKey == "" || r.Header.Get("QB-Account-Key") != s.o.AccountKey {
			writeErrors(w, 401, map[string][]string{"base": {"Unauthorized"}})
			return
		}
		writeJSON(w, 200, map[string]any{
			"api_endpoint":        s.o.SettingsAPI,
			"chat_endpoint":       s.o.ChatHost,
			"turnserver_endpoint": "turn." + s.o.ChatHost,
		})
	case strings.HasPrefix(path, "users/") && r.Method == http.MethodGet:
		s.users(w, r, strings.TrimSuffix(strings.TrimPrefix(path, "users/"), ".json"))
	default:
		writeErrors(w, 404, map[string][]string{"base": {"Not found"}})
	}
}

// signatureString is the documented algorithm: every parameter but the signature as
// key=value (nested ones as key[sub]=value), values as received (unencoded), sorted,
// joined with '&'.
func signatureString(form url.Values) string {
	var parts []string
	for k, vs := range form {
		if k == "signature" {
			continue
		}
		for _, v := range vs {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

func hmacHex(f func() hash.Hash, key, msg string) string {
	m := hmac.New(f, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func (s *StandIn) createSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeErrors(w, 400, map[string][]string{"base": {"Bad request"}})
		return
	}
	f := r.PostForm
	for _, k := range []string{"application_id", "auth_key", "nonce", "timestamp", "signature"} {
		if f.Get(k) == "" {
			writeErrors(w, 422, map[string][]string{k: {"can't be blank"}})
			return
		}
	}
	if f.Get("application_id") != strconv.Itoa(s.o.AppID) {
		writeErrors(w, 422, map[string][]string{"base": {"Unknown application"}})
		return
	}
	if f.Get("auth_key") != s.o.AuthKey {
		writeErrors(w, 422, map[string][]string{"base": {"Unknown auth_key"}})
		return
	}
	msg := signatureString(f)
	sig := f.Get("signature")
	if sig != hmacHex(sha1.New, s.o.AuthSecret, msg) && sig != hmacHex(sha256.New, s.o.AuthSecret, msg) {
		s.mu.Lock()
		s.sigFails++
		s.mu.Unlock()
		writeErrors(w, 422, map[string][]string{"base": {"Unexpected signature"}})
		return
	}
	ts, _ := strconv.ParseInt(f.Get("timestamp"), 10, 64)
	if d := time.Since(time.Unix(ts, 0)); d > time.Hour || d < -time.Hour {
		writeErrors(w, 422, map[string][]string{"base": {"Unexpected timestamp"}})
		return
	}
	var u *User
	if login, email := f.Get("user[login]"), f.Get("user[email]"); login != "" || email != "" {
		u = s.check(login, email, f.Get("user[password]"))
		if u == nil {
			writeErrors(w, 401, map[string][]string{"base": {"Unauthorized"}})
			return
		}
	}
	ss := &session{token: randomHex(20), user: u, expires: time.Now().Add(s.o.Lifetime)}
	if u != nil && s.o.OnToken != nil {
		if err := s.o.OnToken(*u, ss.token); err != nil {
			writeErrors(w, 500, map[string][]string{"base": {"chat registration failed"}})
			return
		}
	}
	s.mu.Lock()
	s.sessions[ss.token] = ss
	s.mu.Unlock()
	w.Header().Set("QB-Token-ExpirationDate", ss.expires.UTC().Format("2006-01-02 15:04:05 UTC"))
	writeJSON(w, 201, map[string]any{"session": s.sessionJSON(ss)})
}

func (s *StandIn) sessionJSON(ss *session) map[string]any {
	uid := 0
	if ss.user != nil {
		uid = ss.user.ID
	}
	now := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{
		"_id": randomHex(12), "id": 1, "application_id": s.o.AppID, "user_id": uid,
		"token": ss.token, "nonce": 0, "ts": time.Now().Unix(),
		"created_at": now, "updated_at": now,
	}
}

func (s *StandIn) check(login, email, password string) *User {
	for i := range s.o.Users {
		u := &s.o.Users[i]
		if ((login != "" && u.Login == login) || (login == "" && email != "" && u.Email == email)) && u.Password == password {
			return u
		}
	}
	return nil
}

// auth finds the request's session from QB-Token, or answers 401 as the API does.
func (s *StandIn) auth(w http.ResponseWriter, r *http.Request) *session {
	tok := r.Header.Get("QB-Token")
	if tok == "" {
		writeErrors(w, 401, []string{"Token is required"})
		return nil
	}
	s.mu.Lock()
	ss := s.sessions[tok]
	if ss != nil && time.Now().After(ss.expires) {
		delete(s.sessions, tok)
		ss = nil
	}
	if ss != nil {
		ss.expires = time.Now().Add(s.o.Lifetime) // the lifetime slides with each request
	}
	s.mu.Unlock()
	if ss == nil {
		writeErrors(w, 401, map[string][]string{"base": {"Required session does not exist"}})
		return nil
	}
	w.Header().Set("QB-Token-ExpirationDate", ss.expires.UTC().Format("2006-01-02 15:04:05 UTC"))
	return ss
}

func (s *StandIn) destroySession(w http.ResponseWriter, r *http.Request) {
	ss := s.auth(w, r)
	if ss == nil {
		return
	}
	s.mu.Lock()
	delete(s.sessions, ss.token)
	s.mu.Unlock()
	if ss.user != nil {
		_ = s.revoke(*ss.user)
	}
	w.WriteHeader(200)
}

func (s *StandIn) login(w http.ResponseWriter, r *http.Request) {
	ss := s.auth(w, r)
	if ss == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		writeErrors(w, 400, map[string][]string{"base": {"Bad request"}})
		return
	}
	u := s.check(r.PostForm.Get("login"), r.PostForm.Get("email"), r.PostForm.Get("password"))
	if u == nil {
		writeErrors(w, 401, map[string][]string{"base": {"Unauthorized"}})
		return
	}
	if s.o.OnToken != nil {
		if err := s.o.OnToken(*u, ss.token); err != nil {
			writeErrors(w, 500, map[string][]string{"base": {"chat registration failed"}})
			return
		}
	}
	s.mu.Lock()
	ss.user = u
	s.mu.Unlock()
	writeJSON(w, 202, map[string]any{"user": userJSON(u)})
}

func (s *StandIn) users(w http.ResponseWriter, r *http.Request, what string) {
	if s.auth(w, r) == nil {
		return
	}
	q := r.URL.Query()
	var found []*User
	for i := range s.o.Users {
		u := &s.o.Users[i]
		switch what {
		case "by_login":
			if u.Login == q.Get("login") {
				found = append(found, u)
			}
		case "by_email":
			if u.Email == q.Get("email") {
				found = append(found, u)
			}
		case "by_full_name":
			if q.Get("full_name") != "" && strings.Contains(strings.ToLower(u.FullName), strings.ToLower(q.Get("full_name"))) {
				found = append(found, u)
			}
		default:
			if strconv.Itoa(u.ID) == what {
				found = append(found, u)
			}
		}
	}
	if what == "by_full_name" {
		items := []map[string]any{}
		for _, u := range found {
			items = append(items, map[string]any{"user": userJSON(u)})
		}
		writeJSON(w, 200, map[string]any{"current_page": 1, "per_page": 10, "total_entries": len(items), "items": items})
		return
	}
	if len(found) == 0 {
		writeErrors(w, 404, map[string][]string{"base": {"Entity you are looking for was not found."}})
		return
	}
	writeJSON(w, 200, map[string]any{"user": userJSON(found[0])})
}

func userJSON(u *User) map[string]any {
	return map[string]any{
		"id": u.ID, "login": u.Login, "email": u.Email, "full_name": u.FullName,
		"phone": nil, "website": nil, "external_user_id": nil, "facebook_id": nil, "blob_id": nil,
		"custom_data": nil, "user_tags": nil, "created_at": "2024-01-01T00:00:00Z",
		"updated_at": "2024-01-01T00:00:00Z", "last_request_at": nil,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErrors answers {"errors": ...}: a list or an object of lists, as the API does.
func writeErrors(w http.ResponseWriter, status int, errs any) {
	writeJSON(w, status, map[string]any{"errors": errs})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "qbstandin"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}
