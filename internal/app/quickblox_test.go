package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/qbapi"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/interop/qbstandin"
)

const qbApp = 77

var qbUsers = []qbstandin.User{
	{ID: 101, Login: "alice_login", Email: "alice@example.org", FullName: "Alice Liddell", Password: "alice-pw"},
	{ID: 102, Login: "bob_login", Email: "bob@example.org", FullName: "Bob Builder", Password: "bob-pw"},
}

// qbEnv is a Prosody whose accounts' passwords are the stand-in's tokens.
func qbEnv(t *testing.T) (*xmppserver.Server, *qbstandin.StandIn) {
	t.Helper()
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{}})
	st, err := qbstandin.Start(qbstandin.Options{
		AppID: qbApp, AuthKey: "key-abc", AuthSecret: "secret-xyz", Users: qbUsers, ChatHost: srv.Domain,
		OnToken: func(u qbstandin.User, tok string) error {
			return srv.Register(context.Background(), fmt.Sprintf("%d-%d", u.ID, qbApp), tok)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return srv, st
}

// qbConfig is a config with a [quickblox] table for login, as a user writes it.
func qbConfig(t *testing.T, srv *xmppserver.Server, api, login, password, extra string) *config.Config {
	t.Helper()
	text := fmt.Sprintf(`[account]
server = %q
ca_file = %q

[quickblox]
app_id = %d
auth_key = "key-abc"
auth_secret = "secret-xyz"
api_endpoint = %q
chat_endpoint = %q
login = %q
password = %q
%s`, srv.Addr, srv.CAFile, qbApp, api, srv.Domain, login, password, extra)
	cfg, err := config.Parse([]byte(text), "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// waitOnline runs a and waits for Online; the returned channel gets Run's result.
func waitOnline(t *testing.T, a *app.App) chan error {
	t.Helper()
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(context.Background()) }() // ends with Close
	waitState(t, a, runErr, chat.Online)
	return runErr
}

func waitState(t *testing.T, a *app.App, runErr chan error, want chat.ConnState) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case ev := <-a.AccountEvents():
			if s, ok := ev.(chat.StateEvent); ok && s.State == want {
				return
			}
		case err := <-runErr:
			t.Fatalf("Run returned before %s: %v", want, err)
		case <-deadline:
			t.Fatalf("not %s within 30 s", want)
		}
	}
}

// TestQuickBloxSignIn: with [quickblox] and no jid, ttycall creates a session, signs in
// to chat as {user_id}-{app_id}@{chat host} with the token, resolves logins to user IDs,
// and deletes the session on Close.
func TestQuickBloxSignIn(t *testing.T) {
	srv, st := qbEnv(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := app.New(qbConfig(t, srv, st.URL, "alice_login", "alice-pw", ""), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.LocalID() != "101" || a.Account().JID().Bare().String() != "101-77@localhost" {
		t.Errorf("LocalID %q, JID %s", a.LocalID(), a.Account().JID())
	}
	waitOnline(t, a)
	ids, err := a.ParseUserIDs([]string{"bob_login", "alice@example.org", "Bob Builder", "102"})
	if err != nil || strings.Join(toStrings(ids), ",") != "102,101,102,102" {
		t.Errorf("ParseUserIDs = %v, %v", ids, err)
	}
	if _, err := a.ParseUserIDs([]string{"nobody_login"}); !errors.Is(err, qbapi.ErrNotFound) || !strings.Contains(err.Error(), "nobody_login") {
		t.Errorf("unknown login: %v", err)
	}
	if n := a.DisplayName(context.Background(), "102"); n != "Bob Builder" {
		t.Errorf("DisplayName(102) = %q", n)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if st.Count("DELETE session.json") != 1 || st.Tokens("alice_login") != 0 {
		t.Errorf("session not deleted on Close (DELETEs %d, live tokens %d)", st.Count("DELETE session.json"), st.Tokens("alice_login"))
	}
}

func toStrings[T ~string](ids []T) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

// TestQuickBloxWrongCredentials: a wrong auth secret or password is ErrLogin at once,
// with one request, and a message naming the key to fix.
func TestQuickBloxWrongCredentials(t *testing.T) {
	srv, st := qbEnv(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, tc := range []struct{ name, password, extra, names string }{
		{"secret", "alice-pw", "", "quickblox.auth_secret"},
		{"password", "wrong", "", "quickblox.password"},
	} {
		cfg := qbConfig(t, srv, st.URL, "alice_login", tc.password, tc.extra)
		if tc.name == "secret" {
			cfg.QuickBlox.AuthSecret = "wrong-secret"
		}
		before := st.Count("POST session.json")
		var retries int
		_, err := app.New(cfg, app.Options{LoopbackOnly: true, OnSignInRetry: func(error, time.Duration) { retries++ }})
		if !errors.Is(err, app.ErrLogin) || !errors.Is(err, qbapi.ErrAuth) || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
		if n := st.Count("POST session.json") - before; n != 1 || retries != 0 {
			t.Errorf("%s: %d session requests, %d retries; want 1, 0", tc.name, n, retries)
		}
	}
}

// TestQuickBloxUnreachable: an API that cannot be reached is retried with backoff, each
// failure reported with a clear error, until the context ends.
func TestQuickBloxUnreachable(t *testing.T) {
	srv, _ := qbEnv(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []string
	_, err = app.New(qbConfig(t, srv, dead, "alice_login", "alice-pw", ""), app.Options{LoopbackOnly: true, Context: ctx,
		OnSignInRetry: func(err error, retryIn time.Duration) {
			mu.Lock()
			got = append(got, fmt.Sprintf("%v (retry in %v)", err, retryIn))
			n := len(got)
			mu.Unlock()
			if retryIn <= 0 {
				t.Errorf("retry in %v", retryIn)
			}
			if n == 2 {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) || errors.Is(err, app.ErrLogin) {
		t.Errorf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || !strings.Contains(got[0], "quickblox.api_endpoint") || !errors.Is(err, qbapi.ErrUnavailable) {
		t.Errorf("retries reported: %q (err %v)", got, err)
	}
}

// TestQuickBloxTokenExpired: the token expires (the chat password changes) and the chat
// connection drops; the next login is refused, a new session is made, and chat is
// online again.
func TestQuickBloxTokenExpired(t *testing.T) {
	srv, st := qbEnv(t)
	ignore := goleak.IgnoreCurrent()
	a, err := app.New(qbConfig(t, srv, st.URL, "alice_login", "alice-pw", ""), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		a.Close()
		_ = srv.Kill() // the restarted server's goroutines end too
		goleak.VerifyNone(t, ignore)
	}()
	runErr := waitOnline(t, a)
	sessions := st.Count("POST session.json")
	if err := st.Expire("alice_login"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil { // drops the chat connection
		t.Fatal(err)
	}
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitState(t, a, runErr, chat.Online)
	if n := st.Count("POST session.json") - sessions; n != 1 {
		t.Errorf("%d new sessions after the expiry, want 1", n)
	}
}

// TestQuickBloxICEDefaults: in QuickBlox mode without [ice] servers the engine gets the
// SDK's ICE servers; [ice] servers replace them; loopback-only tests get none.
func TestQuickBloxICEDefaults(t *testing.T) {
	cfg := config.Default()
	cfg.QuickBlox.Enabled = true
	c := app.EngineConfig(cfg, "101", nil, app.Options{})
	if c.LoopbackOnly { // TTYCALL_ICE_LOOPBACK set in the environment
		t.Skip("loopback-only ICE from the environment")
	}
	want := qbapi.DefaultICEServers()
	if len(c.ICEServers) != 1 || c.ICEServers[0].URLs[0] != want[0].URLs[0] || c.ICEServers[0].Credential != want[0].Credential {
		t.Errorf("ICE servers %+v, want the SDK's %+v", c.ICEServers, want)
	}
	cfg.ICE.Servers = []config.ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}}}
	if c := app.EngineConfig(cfg, "101", nil, app.Options{}); len(c.ICEServers) != 1 || c.ICEServers[0].URLs[0] != "stun:127.0.0.1:3478" {
		t.Errorf("[ice] servers did not replace the defaults: %+v", c.ICEServers)
	}
	cfg.ICE.Servers = nil
	if c := app.EngineConfig(cfg, "101", nil, app.Options{LoopbackOnly: true}); len(c.ICEServers) != 0 {
		t.Errorf("loopback-only: %+v", c.ICEServers)
	}
	cfg.QuickBlox.Enabled = false
	if c := app.EngineConfig(cfg, "101", nil, app.Options{}); len(c.ICEServers) != 0 {
		t.Errorf("not QuickBlox: %+v", c.ICEServers)
	}
}

// TestQuickBloxWhoami: the subcommand signs in, prints who and where, and logs out.
func TestQuickBloxWhoami(t *testing.T) {
	srv, st := qbEnv(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := qbConfig(t, srv, st.URL, "alice_login", "alice-pw", "")
	path := writeQBConfig(t, cfg, srv, st.URL, "alice-pw")
	var out, errb bytes.Buffer
	if code := app.QuickBloxMain(context.Background(), []string{"whoami", "--config", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"user_id:   101", "login:     alice_login", "full_name: Alice Liddell", "chat_jid:  101-77@localhost", "api:       " + st.URL} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if st.Count("DELETE session.json") != 1 {
		t.Error("whoami did not log out")
	}
	out.Reset()
	errb.Reset()
	bad := writeQBConfig(t, cfg, srv, st.URL, "wrong")
	if code := app.QuickBloxMain(context.Background(), []string{"whoami", "--config", bad}, &out, &errb); code != 3 || !strings.Contains(errb.String(), "quickblox.password") {
		t.Errorf("wrong password: exit %d, %s", code, errb.String())
	}
}

func writeQBConfig(t *testing.T, cfg *config.Config, srv *xmppserver.Server, api, password string) string {
	t.Helper()
	p := t.TempDir() + "/config.toml"
	text := fmt.Sprintf("[account]\nserver = %q\nca_file = %q\n\n[quickblox]\napp_id = %d\nauth_key = \"key-abc\"\nauth_secret = \"secret-xyz\"\napi_endpoint = %q\nchat_endpoint = \"localhost\"\nlogin = \"alice_login\"\npassword = %q\n",
		srv.Addr, srv.CAFile, qbApp, api, password)
	if err := writeFile(p, text); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFile(p, text string) error { return os.WriteFile(p, []byte(text), 0o600) }

// TestQuickBloxContactNames: the interface's view of the roster names QuickBlox users by
// their full names, looked up once in the users API; its events end with Close.
func TestQuickBloxContactNames(t *testing.T) {
	srv, st := qbEnv(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	if err := srv.SetRoster("101-77", []xmppserver.RosterItem{{JID: "102-77@localhost", Subscription: "both"}}); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(qbConfig(t, srv, st.URL, "alice_login", "alice-pw", ""), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	n := a.NamedAccount()
	events := n.Events()
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(context.Background()) }() // ends with Close
	deadline := time.After(30 * time.Second)
	// The roster comes during the connection's setup, before it is online: subscribing
	// waits for both.
	for named, online := false, false; !named || !online; {
		select {
		case ev := <-events:
			switch e := ev.(type) {
			case chat.RosterEvent:
				for _, c := range e.Contacts {
					named = named || (c.UserID == "102" && c.Name == "Bob Builder")
				}
			case chat.StateEvent:
				online = e.State == chat.Online
			}
		case err := <-runErr:
			t.Fatalf("Run: %v", err)
		case <-deadline:
			t.Fatal("no roster event naming user 102 \"Bob Builder\" while online")
		}
	}
	// Adding a contact by email subscribes to its chat address.
	login, err := jid.Parse("bob@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Subscribe(context.Background(), login); err != nil {
		t.Fatalf("Subscribe(bob@example.org): %v", err)
	}
	nobody, _ := jid.Parse("nobody@example.org")
	if err := n.Subscribe(context.Background(), nobody); !errors.Is(err, qbapi.ErrNotFound) {
		t.Errorf("Subscribe(nobody@example.org) = %v, want ErrNotFound", err)
	}
	// What the interface's "add contact" sends: a login with an underscore (not a JID)
	// and a full name with spaces.
	if !n.ResolvesNames() {
		t.Error("NamedAccount does not resolve names in QuickBlox mode")
	}
	for _, name := range []string{"bob_login", "Bob Builder"} {
		if err := n.SubscribeName(context.Background(), name); err != nil {
			t.Errorf("SubscribeName(%q): %v", name, err)
		}
	}
	if err := n.SubscribeName(context.Background(), "nobody_login"); !errors.Is(err, qbapi.ErrNotFound) {
		t.Errorf("SubscribeName(nobody_login) = %v, want ErrNotFound", err)
	}
	lookups := st.Count("GET users/102.json")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for range events { // closed after the account's events
	}
	if lookups != 1 {
		t.Errorf("user 102 looked up %d times, want 1", lookups)
	}
}

// BenchmarkQuickBloxSignIn: from New (REST session, the user's record) to chat Online
// with the token, against the local stand-in and Prosody, then Close (logout).
func BenchmarkQuickBloxSignIn(b *testing.B) {
	srv := xmppservertest.Start(b, xmppserver.Options{Users: map[string]string{}})
	st, err := qbstandin.Start(qbstandin.Options{
		AppID: qbApp, AuthKey: "key-abc", AuthSecret: "secret-xyz", Users: qbUsers, ChatHost: srv.Domain,
		OnToken: func(u qbstandin.User, tok string) error {
			return srv.Register(context.Background(), fmt.Sprintf("%d-%d", u.ID, qbApp), tok)
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	text := fmt.Sprintf("[account]\nserver = %q\nca_file = %q\n\n[quickblox]\napp_id = %d\nauth_key = \"key-abc\"\nauth_secret = \"secret-xyz\"\napi_endpoint = %q\nchat_endpoint = %q\nlogin = \"alice_login\"\npassword = \"alice-pw\"\n",
		srv.Addr, srv.CAFile, qbApp, st.URL, srv.Domain)
	cfg, err := config.Parse([]byte(text), "")
	if err != nil {
		b.Fatal(err)
	}
	var signIn, online time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		a, err := app.New(cfg, app.Options{LoopbackOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		signIn += time.Since(start)
		runErr := make(chan error, 1)
		go func() { runErr <- a.Run(context.Background()) }() // ends with Close
	wait:
		for {
			select {
			case ev := <-a.AccountEvents():
				if s, ok := ev.(chat.StateEvent); ok && s.State == chat.Online {
					break wait
				}
			case err := <-runErr:
				b.Fatalf("Run: %v", err)
			}
		}
		online += time.Since(start)
		a.Close()
	}
	b.ReportMetric(float64(online.Microseconds())/1000/float64(b.N), "ms/online")
	b.ReportMetric(float64(signIn.Microseconds())/1000/float64(b.N), "ms/rest-signin")
}
