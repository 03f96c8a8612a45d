package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/interop/qbstandin"
)

// QuickBlox sign-in through a local stand-in of the REST API (interop/qbstandin): the web
// SDK signs in with QB.createSession and QB.chat.connect({userId, password: token}), and
// ttycall with a [quickblox] config, both against the same stand-in, whose tokens are the
// chat passwords in the test's Prosody. Web user 101, ttycall user 201, app 7.

const (
	qbAuthKey    = "interop-key"
	qbAuthSecret = "interop-secret & ☃"
)

var qbUsers = []qbstandin.User{
	{ID: 101, Login: "web_login", Email: "web@example.org", FullName: "Web User", Password: "web-pw"},
	{ID: 201, Login: "tty_login", Email: "tty@example.org", FullName: "Terminal Tom", Password: "tty-pw"},
}

// startQBEnv is startEnv with no chat accounts: the stand-in registers each token it
// hands out as the user's chat password.
func startQBEnv(t *testing.T, ctx context.Context) (*Env, *qbstandin.StandIn) {
	t.Helper()
	env := startEnv(t, ctx)
	st, err := qbstandin.Start(qbstandin.Options{
		AppID: appID, AuthKey: qbAuthKey, AuthSecret: qbAuthSecret, Users: qbUsers, ChatHost: env.Server.Domain,
		OnToken: func(u qbstandin.User, tok string) error {
			return env.Server.Register(context.Background(), userNode(u.ID), tok)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return env, st
}

// writeQBConfig writes a [quickblox] config for login against the stand-in's plain-HTTP
// endpoint and env's Prosody.
func (e *Env) writeQBConfig(st *qbstandin.StandIn, login, password string, o TtyOpts) string {
	e.tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[account]\nserver = %q\nca_file = %q\nresource = \"interop\"\n\n", e.Server.Addr, e.Server.CAFile)
	fmt.Fprintf(&b, "[quickblox]\napp_id = %d\nauth_key = %q\nauth_secret = %q\napi_endpoint = %q\nchat_endpoint = %q\nlogin = %q\npassword = %q\n\n",
		appID, qbAuthKey, qbAuthSecret, st.URL, e.Server.Domain, login, password)
	b.WriteString("[calls]\n")
	if o.StatsInterval > 0 {
		fmt.Fprintf(&b, "stats_report_time_interval = %g\n", o.StatsInterval)
	}
	b.WriteString("\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\n")
	path := filepath.Join(e.tb.TempDir(), "ttycall-"+login+".toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		e.tb.Fatal(err)
	}
	return path
}

// webREST opens a page that signs in as the web SDK does against the stand-in (HTTPS).
func (e *Env) webREST(ctx context.Context, st *qbstandin.StandIn, login, password, lookup string) (*Page, restLogin) {
	e.tb.Helper()
	p := e.Browser.Open(ctx, "web-"+login)
	var res restLogin
	p.Must(ctx, &res, "loginREST", map[string]any{
		"appId": appID, "authKey": qbAuthKey, "authSecret": qbAuthSecret,
		"api": st.TLSHost, "domain": e.Server.Domain, "websocket": e.Server.WebSocketURL,
		"login": login, "password": password, "lookup": lookup,
	})
	p.User = res.UserID
	return p, res
}

type restLogin struct {
	JID    string `json:"jid"`
	UserID int    `json:"userId"`
	Token  string `json:"token"`
	Peer   struct {
		ID       int    `json:"id"`
		Login    string `json:"login"`
		FullName string `json:"full_name"`
	} `json:"peer"`
}

// TestQuickBloxRESTSignIn: the web SDK and ttycall both sign in through the REST
// stand-in; the page calls ttycall, ttycall calls the page by its login; mid-call
// ttycall's token expires and chat drops: ttycall signs in again with a new token and
// the call goes on; at quit ttycall deletes its session. A wrong password ends ttycall
// with exit 3 and a message naming the key.
func TestQuickBloxRESTSignIn(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env, st := startQBEnv(t, ctx)

	// Wrong password: exit 3, one session request, the key named.
	bad := startTty(t, env.writeQBConfig(st, "tty_login", "wrong", TtyOpts{}), 201, nil)
	if code := bad.Exit(ctx); code != 3 {
		t.Errorf("wrong password: exit %d, want 3", code)
	}
	if st.Count("POST session.json") != 1 {
		t.Errorf("wrong password: %d session requests, want 1 (no retry loop)", st.Count("POST session.json"))
	}

	tty := startTty(t, env.writeQBConfig(st, "tty_login", "tty-pw", TtyOpts{}), 201,
		[]string{"--answer", "auto", "--video"})
	if on := tty.Wait(ctx, 0, "event", "online"); on.Str("user") != "201" {
		t.Errorf("ttycall online as %q, want 201", on.Str("user"))
	}
	web, login := env.webREST(ctx, st, "web_login", "web-pw", "tty_login")
	if login.UserID != 101 || !strings.HasPrefix(login.JID, userNode(101)+"@"+env.Server.Domain) ||
		login.Peer.ID != 201 || login.Peer.FullName != "Terminal Tom" {
		t.Errorf("page signed in as %+v", login)
	}

	// The page calls ttycall.
	wm, tm := web.Mark(), tty.Mark()
	var c callResult
	web.Must(ctx, &c, "call", []int{201}, videoCall, map[string]string{})
	if in := tty.Wait(ctx, tm, "event", "call", "session", c.Session); in.Str("user") != "101" {
		t.Errorf("ttycall call event %s, want user 101", in)
	}
	waitConnected(ctx, web, wm, c.Session, 201)
	tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED")
	waitMediaFlows(t, ctx, web, c.Session, 201)
	web.Must(ctx, nil, "stop", map[string]string{}, c.Session)
	tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)

	// An unknown login is an error, not a call to nobody.
	tm = tty.Mark()
	tty.Send("call nobody_login video")
	if e := tty.Wait(ctx, tm, "event", "error"); !strings.Contains(e.Str("message"), "nobody_login") {
		t.Errorf("call nobody_login: %s", e)
	}

	// ttycall calls the page by login; the page accepts.
	web.Must(ctx, nil, "setAutoAnswer", "accept", map[string]string{})
	wm, tm = web.Mark(), tty.Mark()
	tty.Send("call web_login video")
	in := web.Wait(ctx, wm, "event", "call")
	session := in.Str("session")
	if in.Str("user") != "201" {
		t.Errorf("page call event %s, want user 201", in)
	}
	waitConnected(ctx, web, wm, session, 201)
	tty.Wait(ctx, tm, "event", "connection_state", "session", session, "user", "101", "state", "CONNECTED")
	waitMediaFlows(t, ctx, web, session, 201)

	// Mid-call, ttycall's token expires and the chat connection drops (Prosody restarts):
	// the old token is refused, ttycall makes a new session and signs in again; the
	// call goes on.
	sessions := st.Count("POST session.json")
	if err := st.Expire("tty_login"); err != nil {
		t.Fatal(err)
	}
	tm = tty.Mark()
	if err := env.Server.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := env.Server.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	_, i := tty.WaitIndex(ctx, tm, "event", "offline")
	tty.Wait(ctx, i, "event", "online")
	if n := st.Count("POST session.json") - sessions; n != 1 {
		t.Errorf("%d new sessions after the token expired, want 1", n)
	}
	waitMediaFlows(t, ctx, web, session, 201)
	for _, e := range tty.Events(tm) {
		if e.Str("event") == "session_close" {
			t.Errorf("the call closed when chat signed in again: %s", e)
		}
	}
	tty.Send("hangup")
	web.Wait(ctx, wm, "event", "session_close", "session", session)

	// Quit: the session is deleted.
	deletes := st.Count("DELETE session.json")
	tty.Send("quit")
	if code := tty.Exit(ctx); code != 0 {
		t.Errorf("quit: exit %d", code)
	}
	if st.Count("DELETE session.json") != deletes+1 || st.Tokens("tty_login") != 0 {
		t.Errorf("ttycall did not delete its session at quit (DELETEs %d, live %d)", st.Count("DELETE session.json")-deletes, st.Tokens("tty_login"))
	}
	// Both looked a user up by login: the SDK (QB.users.get) and ttycall (call web_login).
	if n := st.Count("GET users/by_login.json"); n < 2 {
		t.Errorf("%d users/by_login requests, want the page's and ttycall's", n)
	}
	if n := st.SignatureFailures(); n != 0 {
		t.Errorf("%d signatures refused by the stand-in", n)
	}
	checkNoGarbage(t, tty)
}

// TestQuickBloxUnreachableHeadless: with the API endpoint unreachable, `ttycall headless`
// reports each failed sign-in as an error event naming the endpoint and the wait before
// the next attempt (backoff), and SIGTERM ends it cleanly.
func TestQuickBloxUnreachableHeadless(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := &qbstandin.StandIn{URL: "http://" + l.Addr().String()}
	l.Close()
	env := &Env{tb: t, Server: srv}
	tty := startTty(t, env.writeQBConfig(dead, "tty_login", "tty-pw", TtyOpts{}), 201, nil)
	first, i := tty.WaitIndex(ctx, 0, "event", "error")
	second := tty.Wait(ctx, i+1, "event", "error")
	for _, e := range []Event{first, second} {
		if m := e.Str("message"); !strings.Contains(m, "quickblox.api_endpoint") || !strings.Contains(m, "retrying in") {
			t.Errorf("error event %q: want the endpoint key and the retry wait", m)
		}
	}
	if err := tty.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := tty.Exit(ctx); code != 0 {
		t.Errorf("SIGTERM while retrying: exit %d, want 0", code)
	}
}
