package interop

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// jingleDir is the folder of the StanzaJS page, its driver and their npm packages.
const jingleDir = "jingle"

// jingleBundle is where the esbuild bundle of StanzaJS goes: inside node_modules, so it is
// never committed and is rebuilt with the packages.
var jingleBundle = filepath.Join(jingleDir, "node_modules", ".ttycall", "stanza.js")

// needJingle skips (fails under CI=true) unless Chromium, node and the npm packages of
// jingle/ are there, and builds the StanzaJS bundle when setup has not.
func needJingle(tb testing.TB) (chromium, node string) {
	tb.Helper()
	skipf := tb.Skipf
	if os.Getenv("CI") == "true" {
		skipf = tb.Fatalf
	}
	chromium = os.Getenv("TTYCALL_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		skipf("interop: chromium not found at %s (run scripts/setup.sh or make test)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skipf("interop: node not found in PATH (Debian package nodejs)")
	}
	for _, p := range []string{"stanza/package.json", "events/package.json", "esbuild/package.json", "playwright-core/package.json"} {
		if _, err := os.Stat(filepath.Join(jingleDir, "node_modules", p)); err != nil {
			skipf("interop: %s missing: run `cd interop/jingle && npm ci` (make test does it)", filepath.Join("interop/jingle/node_modules", p))
		}
	}
	if err := buildJingleBundle(); err != nil {
		tb.Fatal(err)
	}
	return chromium, node
}

var bundleOnce struct {
	sync.Once
	err error
}

// buildJingleBundle runs esbuild once per test binary when the bundle is missing (setup.sh
// normally builds it).
func buildJingleBundle() error {
	bundleOnce.Do(func() {
		if _, err := os.Stat(jingleBundle); err == nil {
			return
		}
		// esbuild's install puts its native binary in place of bin/esbuild.
		cmd := exec.Command(filepath.Join("node_modules", ".bin", "esbuild"), "entry.js", "--bundle", "--platform=browser", "--log-level=error",
			"--outfile="+filepath.Join("node_modules", ".ttycall", "stanza.js"))
		cmd.Dir = jingleDir
		if out, err := cmd.CombinedOutput(); err != nil {
			bundleOnce.err = &bundleError{err: err, out: string(out)}
		}
	})
	return bundleOnce.err
}

type bundleError struct {
	err error
	out string
}

func (e *bundleError) Error() string {
	return "interop: esbuild of StanzaJS: " + e.err.Error() + ": " + e.out
}

// serveJinglePage serves the StanzaJS page and bundle on 127.0.0.1:0 until cleanup.
func serveJinglePage(tb testing.TB) string {
	tb.Helper()
	files := map[string]struct{ path, ctype string }{
		"/":          {filepath.Join(jingleDir, "page.html"), "text/html; charset=utf-8"},
		"/page.js":   {filepath.Join(jingleDir, "page.js"), "text/javascript; charset=utf-8"},
		"/stanza.js": {jingleBundle, "text/javascript; charset=utf-8"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", f.ctype)
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFile(w, r, f.path)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { // stopped by srv.Close at cleanup
		defer close(done)
		_ = srv.Serve(ln)
	}()
	tb.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// JingleEnv is one Prosody, the StanzaJS page server and one browser.
type JingleEnv struct {
	tb      testing.TB
	Server  *xmppserver.Server
	Browser *Browser
}

// startJingleEnv starts Prosody with the given users (password `password`), the page
// server and the browser; all stop at cleanup.
func startJingleEnv(tb testing.TB, ctx context.Context, users ...string) *JingleEnv {
	tb.Helper()
	chromium, node := needJingle(tb)
	accounts := map[string]string{}
	for _, u := range users {
		accounts[u] = password
	}
	srv := xmppservertest.Start(tb, xmppserver.Options{Domain: "localhost", Users: accounts})
	if srv.WebSocketURL == "" {
		tb.Fatal("interop: the local Prosody has no WebSocket endpoint")
	}
	base := serveJinglePage(tb)
	return &JingleEnv{tb: tb, Server: srv, Browser: startDriver(tb, ctx, jingleDir, base, chromium, node)}
}

// StanzaUser opens a page logged in as user@domain/resource; it returns the page and the
// full JID.
func (e *JingleEnv) StanzaUser(ctx context.Context, user, resource string) (*Page, string) {
	e.tb.Helper()
	p := e.Browser.Open(ctx, user+"-"+resource)
	var res struct{ JID string }
	p.Must(ctx, &res, "login", map[string]any{
		"jid":       user + "@" + e.Server.Domain,
		"password":  password,
		"resource":  resource,
		"websocket": e.Server.WebSocketURL,
	})
	if !strings.HasPrefix(res.JID, user+"@"+e.Server.Domain+"/") {
		e.tb.Fatalf("page logged in as %q, want %s@%s/...", res.JID, user, e.Server.Domain)
	}
	return p, res.JID
}
