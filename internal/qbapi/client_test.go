package qbapi

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/interop/qbstandin"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testApp    = 77
	testKey    = "key-abc"
	testSecret = "secret & = ☃"
)

var testUsers = []qbstandin.User{
	{ID: 101, Login: "alice_login", Email: "alice@example.org", FullName: "Alice Liddell", Password: "alice-pw"},
	{ID: 102, Login: "bob", Email: "bob@example.org", FullName: "Bob Builder", Password: "bob-pw"},
	{ID: 103, Login: "bob2", Email: "bob2@example.org", FullName: "Bob Builder", Password: "bob2-pw"},
}

// tokens records what the stand-in registered as chat passwords.
type tokens struct {
	mu sync.Mutex
	m  map[string]string
}

func (tk *tokens) get(login string) string {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return tk.m[login]
}

func startStandIn(t *testing.T, o qbstandin.Options) (*qbstandin.StandIn, *tokens) {
	t.Helper()
	tk := &tokens{m: map[string]string{}}
	if o.AppID == 0 {
		o.AppID, o.AuthKey, o.AuthSecret = testApp, testKey, testSecret
	}
	if o.Users == nil {
		o.Users = testUsers
	}
	o.OnToken = func(u qbstandin.User, tok string) error {
		tk.mu.Lock()
		tk.m[u.Login] = tok
		tk.mu.Unlock()
		return nil
	}
	s, err := qbstandin.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, tk
}

func newClient(t *testing.T, api string, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{AppID: testApp, AuthKey: testKey, AuthSecret: testSecret, APIEndpoint: api}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newAccount(t *testing.T, c *Client, cr Credentials) *Account {
	t.Helper()
	a, err := NewAccount(c, AccountConfig{Credentials: cr, ChatEndpoint: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestSignInAgainstStandIn: by login (sha1) and by email (sha256), the stand-in accepts
// the signatures, the token is the one registered as chat password, the JID is
// {user}-{app}@{chat host}, and SignOut deletes the session.
func TestSignInAgainstStandIn(t *testing.T) {
	s, tk := startStandIn(t, qbstandin.Options{})
	for _, tc := range []struct {
		name string
		cr   Credentials
		hash Hash
	}{
		{"login-sha1", Credentials{Login: "alice_login", Password: "alice-pw"}, SHA1},
		{"email-sha256", Credentials{Email: "alice@example.org", Password: "alice-pw"}, SHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, s.URL, func(c *ClientConfig) { c.Hash = tc.hash })
			a := newAccount(t, c, tc.cr)
			me, err := a.SignIn(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if me.ID != 101 || me.FullName != "Alice Liddell" || me.Login != "alice_login" {
				t.Errorf("me = %+v", me)
			}
			if got := a.ChatJID(); got != "101-77@localhost" {
				t.Errorf("ChatJID = %s", got)
			}
			tok, err := a.Token(ctx(t), false)
			if err != nil || tok == "" || tok != tk.get("alice_login") {
				t.Errorf("token %q (%v), registered %q", tok, err, tk.get("alice_login"))
			}
			deletes := s.Count("DELETE session.json")
			if err := a.SignOut(ctx(t)); err != nil {
				t.Fatal(err)
			}
			if s.Count("DELETE session.json") != deletes+1 || tk.get("alice_login") == tok {
				t.Error("SignOut did not end the session")
			}
		})
	}
	if n := s.SignatureFailures(); n != 0 {
		t.Errorf("%d signatures refused", n)
	}
}

// TestSignInErrors: each refusal is a clear error naming what to fix, wrapping ErrAuth
// (not retried) or a temporary sentinel, never the JSON.
func TestSignInErrors(t *testing.T) {
	s, _ := startStandIn(t, qbstandin.Options{})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + closed.Addr().String()
	closed.Close()
	alice := Credentials{Login: "alice_login", Password: "alice-pw"}
	for _, tc := range []struct {
		name  string
		api   string
		mod   func(*ClientConfig)
		cr    Credentials
		fail  []int
		kind  error
		words string
	}{
		{"wrong secret", s.URL, func(c *ClientConfig) { c.AuthSecret = "nope" }, alice, nil, ErrAuth, "quickblox.auth_secret"},
		{"wrong password", s.URL, nil, Credentials{Login: "alice_login", Password: "nope"}, nil, ErrAuth, "quickblox.password"},
		{"unknown login", s.URL, nil, Credentials{Login: "nobody", Password: "x"}, nil, ErrAuth, "quickblox.login"},
		{"unknown app", s.URL, func(c *ClientConfig) { c.AppID = 999 }, alice, nil, ErrAuth, "quickblox.app_id"},
		{"wrong auth key", s.URL, func(c *ClientConfig) { c.AuthKey = "other" }, alice, nil, ErrAuth, "quickblox.auth_key"},
		{"rate limited", s.URL, nil, alice, []int{429}, ErrRateLimited, "wait"},
		{"server down", s.URL, nil, alice, []int{503}, ErrUnavailable, "retried"},
		{"unreachable", deadURL, nil, alice, nil, ErrUnavailable, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.FailNext(tc.fail...)
			a := newAccount(t, newClient(t, tc.api, tc.mod), tc.cr)
			_, err := a.SignIn(ctx(t))
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if Temporary(err) == errors.Is(err, ErrAuth) {
				t.Errorf("Temporary(%v) = %v", err, Temporary(err))
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.words) || strings.ContainsAny(msg, "{}") {
				t.Errorf("message %q: want it to name %q and show no JSON", msg, tc.words)
			}
			t.Log(msg)
		})
	}
}

// TestResolveUsers: numbers, logins, emails and full names become users; an unknown name
// and a shared full name are clear errors; answers are cached.
func TestResolveUsers(t *testing.T) {
	s, _ := startStandIn(t, qbstandin.Options{})
	a := newAccount(t, newClient(t, s.URL, nil), Credentials{Login: "alice_login", Password: "alice-pw"})
	if _, err := a.SignIn(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for who, id := range map[string]int{"102": 102, "bob": 102, "bob2@example.org": 103, "Alice Liddell": 101, "alice liddell": 101} {
		u, err := a.Resolve(ctx(t), who)
		if err != nil || u.ID != id {
			t.Errorf("Resolve(%q) = %+v, %v; want %d", who, u, err, id)
		}
	}
	for _, who := range []string{"nobody", "Bob Builder", "nobody@example.org"} {
		_, err := a.Resolve(ctx(t), who)
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), who) {
			t.Errorf("Resolve(%q) err = %v", who, err)
		}
		t.Log(err)
	}
	n := s.Count("GET users/by_login.json")
	if _, err := a.Resolve(ctx(t), "bob"); err != nil || s.Count("GET users/by_login.json") != n {
		t.Errorf("second Resolve(bob) asked again (%v)", err)
	}
	if got := a.DisplayName(ctx(t), 102); got != "Bob Builder" {
		t.Errorf("DisplayName(102) = %q", got)
	}
}

// TestTokenRenewal: an expired token is replaced when the API refuses it, and when asked
// with refused (the chat server refused it); the user stays the same.
func TestTokenRenewal(t *testing.T) {
	s, tk := startStandIn(t, qbstandin.Options{})
	a := newAccount(t, newClient(t, s.URL, nil), Credentials{Login: "alice_login", Password: "alice-pw"})
	if _, err := a.SignIn(ctx(t)); err != nil {
		t.Fatal(err)
	}
	first, _ := a.Token(ctx(t), false)
	if err := s.Expire("alice_login"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Resolve(ctx(t), "bob"); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	second, _ := a.Token(ctx(t), false)
	if second == first || second != tk.get("alice_login") {
		t.Errorf("token not renewed after expiry: %q -> %q", first, second)
	}
	third, err := a.Token(ctx(t), true)
	if err != nil || third == second || third != tk.get("alice_login") {
		t.Errorf("refused token not renewed: %q -> %q (%v)", second, third, err)
	}
	if a.UserID() != 101 {
		t.Errorf("UserID = %d", a.UserID())
	}
}

// TestTokenRenewedBeforeExpiry: a token within renewBefore of its end is replaced.
func TestTokenRenewedBeforeExpiry(t *testing.T) {
	s, _ := startStandIn(t, qbstandin.Options{Lifetime: renewBefore - time.Second})
	a := newAccount(t, newClient(t, s.URL, nil), Credentials{Login: "alice_login", Password: "alice-pw"})
	if _, err := a.SignIn(ctx(t)); err != nil {
		t.Fatal(err)
	}
	n := s.Count("POST session.json")
	if _, err := a.Token(ctx(t), false); err != nil || s.Count("POST session.json") != n+1 {
		t.Errorf("a token about to expire was not renewed (%v)", err)
	}
}

// TestAccountSettings: with an account key, the endpoints come from account_settings.
func TestAccountSettings(t *testing.T) {
	s, _ := startStandIn(t, qbstandin.Options{AccountKey: "acc-key", ChatHost: "chat.example.test"})
	// The client starts at the default endpoint in real life; here the stand-in is asked
	// for settings and answers its own URL.
	c := newClient(t, s.URL, func(c *ClientConfig) { c.AccountKey = "acc-key" })
	st, err := c.AccountSettings(ctx(t))
	if err != nil || st.APIEndpoint != s.URL || st.ChatEndpoint != "chat.example.test" {
		t.Fatalf("settings %+v, %v", st, err)
	}
	a, err := NewAccount(c, AccountConfig{Credentials: Credentials{Login: "alice_login", Password: "alice-pw"}, Settings: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SignIn(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if a.ChatJID() != "101-77@chat.example.test" {
		t.Errorf("ChatJID = %s", a.ChatJID())
	}
	bad := newClient(t, s.URL, func(c *ClientConfig) { c.AccountKey = "wrong" })
	if _, err := bad.AccountSettings(ctx(t)); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "account_key") {
		t.Errorf("wrong account key: %v", err)
	}
}

func TestParseEndpoint(t *testing.T) {
	for in, ok := range map[string]bool{
		"https://api.quickblox.com": true, "api.quickblox.com": true, "http://127.0.0.1:8080": true,
		"http://localhost:1": true, "http://api.quickblox.com": false, "ftp://x": false, "https://": false,
		"https://u:p@host": false,
	} {
		if _, err := ParseEndpoint(in); (err == nil) != ok {
			t.Errorf("ParseEndpoint(%q) err = %v", in, err)
		}
	}
}

func TestErrorTexts(t *testing.T) {
	for in, want := range map[string]string{
		`{"errors":{"base":["Unexpected signature"]}}`: "Unexpected signature",
		`{"errors":["Unauthorized"]}`:                  "Unauthorized",
		`{"errors":{"login":["is invalid"]}}`:          "login is invalid",
		`{"message":"Too Many Requests"}`:              "Too Many Requests",
		`<html>oops</html>`:                            "",
	} {
		if got := strings.Join(errorTexts([]byte(in)), "; "); got != want {
			t.Errorf("errorTexts(%s) = %q, want %q", in, got, want)
		}
	}
}
