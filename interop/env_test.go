package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// appID is the QuickBlox application ID of every account: user N is N-7@localhost.
const appID = 7

// password of every test account.
const password = "interop-pw"

// userJID is the local part of QuickBlox user id in this app.
func userNode(id int) string { return fmt.Sprintf("%d-%d", id, appID) }

// Env is one Prosody, one page server and one browser, for one test or benchmark.
type Env struct {
	tb      testing.TB
	Server  *xmppserver.Server
	Base    string // the page server, http://127.0.0.1:port
	Browser *Browser
}

// startEnv starts Prosody with users ids (QuickBlox-style accounts), the page server and
// the browser. All stop at cleanup. It skips when chromium, node, the npm packages or
// prosody are missing.
func startEnv(tb testing.TB, ctx context.Context, ids ...int) *Env {
	tb.Helper()
	needBrowser(tb)
	users := map[string]string{}
	for _, id := range ids {
		users[userNode(id)] = password
	}
	srv := xmppservertest.Start(tb, xmppserver.Options{Domain: "localhost", Users: users})
	if srv.WebSocketURL == "" {
		tb.Fatal("interop: the local Prosody has no WebSocket endpoint")
	}
	base := servePage(tb)
	return &Env{tb: tb, Server: srv, Base: base, Browser: startBrowser(tb, ctx, base)}
}

// WebRTC holds the page's QB webrtc settings (seconds); zero values keep the SDK's
// defaults.
type WebRTC struct {
	AnswerTimeInterval  float64 `json:"answerTimeInterval,omitempty"`
	DialingTimeInterval float64 `json:"dialingTimeInterval,omitempty"`
	// DisconnectTimeInterval: how long a broken connection may take to come back.
	DisconnectTimeInterval float64 `json:"disconnectTimeInterval,omitempty"`
	// IceServers for the SDK's peer connections ({urls, username, credential}).
	IceServers []map[string]any `json:"iceServers,omitempty"`
	// RelayOnly makes the page's peer connections relay-only (not an SDK setting).
	RelayOnly bool `json:"-"`
}

// WebUser opens a page and logs it in as QuickBlox user id.
func (e *Env) WebUser(ctx context.Context, id int, w WebRTC) *Page {
	e.tb.Helper()
	p := e.Browser.Open(ctx, fmt.Sprintf("web%d", id))
	p.User = id
	var res struct{ JID string }
	p.Must(ctx, &res, "login", map[string]any{
		"appId":     appID,
		"userId":    id,
		"password":  password,
		"websocket": e.Server.WebSocketURL,
		"domain":    e.Server.Domain,
		"webrtc":    w,
		"relayOnly": w.RelayOnly,
	})
	want := fmt.Sprintf("%s@%s", userNode(id), e.Server.Domain)
	if len(res.JID) < len(want) || res.JID[:len(want)] != want {
		e.tb.Fatalf("page %d logged in as %q, want %s/...", id, res.JID, want)
	}
	return p
}

// ctxFor returns a context that ends d from now or when tb ends.
func ctxFor(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// until calls cond every tick until it is true or ctx ends: for counters that have no
// event of their own (RTP bytes in the browser's getStats).
func until(ctx context.Context, tick time.Duration, what string, cond func() (bool, error)) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}
