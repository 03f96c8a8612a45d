package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// webDir is the folder of the page, the driver and their npm packages.
const webDir = "web"

// needBrowser skips the test, saying what is missing, unless Chromium, node and the npm
// packages of web/ are all there. `make test` installs them, so under CI (CI=true) a
// missing one fails the test instead: a green CI must not hide a broken install.
func needBrowser(tb testing.TB) (chromium, node string) {
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
	for _, p := range []string{"quickblox/quickblox.min.js", "playwright-core/package.json"} {
		if _, err := os.Stat(filepath.Join(webDir, "node_modules", p)); err != nil {
			skipf("interop: %s missing: run `cd interop/web && npm ci` (make test does it)", filepath.Join("interop/web/node_modules", p))
		}
	}
	return chromium, node
}

// servePage serves the test page and the SDK bundle on 127.0.0.1:0 until cleanup.
func servePage(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return servePageOn(tb, ln)
}

// servePageOn serves the test page on ln (closed at cleanup) and returns its base URL.
func servePageOn(tb testing.TB, ln net.Listener) string {
	tb.Helper()
	files := map[string]struct{ path, ctype string }{
		"/":                 {filepath.Join(webDir, "page.html"), "text/html; charset=utf-8"},
		"/page.js":          {filepath.Join(webDir, "page.js"), "text/javascript; charset=utf-8"},
		"/quickblox.min.js": {filepath.Join(webDir, "node_modules", "quickblox", "quickblox.min.js"), "text/javascript; charset=utf-8"},
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

// Event is one JSON line from the driver or from ttycall headless.
type Event map[string]any

// Str returns a field as text ("" when absent); numbers print without a fraction.
func (e Event) Str(k string) string {
	switch v := e[k].(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Ext returns the "ext" field as a string map (nested values as JSON text).
func (e Event) Ext() map[string]string {
	m, _ := e["ext"].(map[string]any)
	out := map[string]string{}
	for k := range m {
		out[k] = Event(m).Str(k)
	}
	return out
}

// Float returns a numeric field.
func (e Event) Float(k string) float64 {
	v, _ := e[k].(float64)
	return v
}

func (e Event) String() string {
	b, _ := json.Marshal(e)
	return string(b)
}

// eventLog is an append-only list of events that waiters scan from an index.
type eventLog struct {
	mu     sync.Mutex
	events []Event       // guarded by mu
	grew   chan struct{} // guarded by mu; closed and replaced on each append
	closed bool          // guarded by mu
	err    error         // guarded by mu; why the source ended
}

func newEventLog() *eventLog { return &eventLog{grew: make(chan struct{})} }

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	close(l.grew)
	l.grew = make(chan struct{})
	l.mu.Unlock()
}

func (l *eventLog) close(err error) {
	l.mu.Lock()
	if !l.closed {
		l.closed, l.err = true, err
		close(l.grew)
		l.grew = make(chan struct{})
	}
	l.mu.Unlock()
}

// Len is the number of events so far: a mark to wait from.
func (l *eventLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

// All returns a copy of the events.
func (l *eventLog) All() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// waitFrom returns the first event at index >= from that match accepts, and its index.
func (l *eventLog) waitFrom(ctx context.Context, from int, what string, match func(Event) bool) (Event, int, error) {
	for {
		l.mu.Lock()
		for i := from; i < len(l.events); i++ {
			if match(l.events[i]) {
				e := l.events[i]
				l.mu.Unlock()
				return e, i, nil
			}
		}
		from = len(l.events)
		grew, closed, err := l.grew, l.closed, l.err
		l.mu.Unlock()
		if closed {
			return nil, 0, fmt.Errorf("waiting for %s: event source ended: %v", what, err)
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return nil, 0, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		}
	}
}

// match builds a predicate on string fields: key, value, key, value...
func match(kv ...string) func(Event) bool {
	return func(e Event) bool {
		for i := 0; i+1 < len(kv); i += 2 {
			if e.Str(kv[i]) != kv[i+1] {
				return false
			}
		}
		return true
	}
}

// Browser is one headless Chromium run by web/driver.mjs.
type Browser struct {
	tb     testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	log    *eventLog
	done   chan struct{} // closed when the reader goroutine ends
	mu     sync.Mutex
	nextID int                // guarded by mu
	calls  map[int]chan Event // guarded by mu
	// allowBlocked: a blocked request is what the test wants, not a failure.
	allowBlocked bool
}

// startBrowser starts the driver with the page served at base; it is stopped at cleanup.
// Any request the page makes to anything but loopback fails the test.
func startBrowser(tb testing.TB, ctx context.Context, base string) *Browser {
	tb.Helper()
	chromium, node := needBrowser(tb)
	return startDriver(tb, ctx, webDir, base, chromium, node)
}

// startDriver runs dir/driver.mjs (the QuickBlox page's or the Jingle page's) with the page
// served at base; it is stopped at cleanup.
func startDriver(tb testing.TB, ctx context.Context, dir, base, chromium, node string) *Browser {
	tb.Helper()
	return startDriverIn(tb, ctx, dir, base, chromium, node, nil, nil)
}

// startDriverIn is startDriver with the command prefixed by wrap (["ip", "netns", "exec",
// NS]: the browser lives in that namespace) and env added (TT_ALLOW_HOSTS,
// TT_CHROMIUM_ARGS: see driver.mjs).
func startDriverIn(tb testing.TB, ctx context.Context, dir, base, chromium, node string, wrap, env []string) *Browser {
	tb.Helper()
	argv := append(append([]string(nil), wrap...), node, "driver.mjs")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TT_BASE_URL="+base, "TT_CHROMIUM="+chromium), env...)
	// SIGTERM (the driver closes Chromium, then exits) when the test binary dies without
	// running its cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stderr, err := os.CreateTemp(tb.TempDir(), "driver-*.log")
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	b := &Browser{tb: tb, cmd: cmd, stdin: stdin, log: newEventLog(), done: make(chan struct{}), calls: map[int]chan Event{}}
	go b.read(stdout) // ends when the driver's stdout closes
	tb.Cleanup(func() {
		b.quit()
		for _, e := range b.log.All() {
			if e.Str("event") == "blocked" && !b.allowBlocked {
				tb.Errorf("interop: the page tried to reach a non-loopback address: %s", e)
			}
		}
		if tb.Failed() {
			if data, err := os.ReadFile(stderr.Name()); err == nil {
				tb.Logf("driver stderr (tail):\n%s", tail(string(data), 4000))
			}
			var evs []string
			for _, e := range b.log.All() {
				evs = append(evs, e.String())
			}
			tb.Logf("page events (tail):\n%s", tail(strings.Join(evs, "\n"), 12000))
		}
		stderr.Close()
	})
	if _, _, err := b.log.waitFrom(ctx, 0, "driver ready", match("event", "ready")); err != nil {
		tb.Fatal(err)
	}
	return b
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (b *Browser) read(r io.Reader) {
	defer close(b.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			b.log.add(Event{"event": "driver_garbage", "line": sc.Text()})
			continue
		}
		if id, ok := e["id"].(float64); ok {
			b.mu.Lock()
			ch := b.calls[int(id)]
			delete(b.calls, int(id))
			b.mu.Unlock()
			if ch != nil {
				ch <- e
			}
			continue
		}
		b.log.add(e)
	}
	b.log.close(errors.New("driver exited"))
	b.mu.Lock()
	for id, ch := range b.calls {
		close(ch)
		delete(b.calls, id)
	}
	b.mu.Unlock()
}

// do sends one command and waits for its reply.
func (b *Browser) do(ctx context.Context, cmd map[string]any) (any, error) {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan Event, 1)
	b.calls[id] = ch
	b.mu.Unlock()
	cmd["id"] = id
	line, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	if _, err := b.stdin.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("driver: %w", err)
	}
	select {
	case rep, ok := <-ch:
		if !ok {
			return nil, errors.New("driver exited")
		}
		if ok, _ := rep["ok"].(bool); !ok {
			return nil, fmt.Errorf("driver: %s %v: %s", cmd["op"], cmd["method"], rep.Str("error"))
		}
		return rep["result"], nil
	case <-ctx.Done():
		return nil, fmt.Errorf("driver: %s %v: %w", cmd["op"], cmd["method"], ctx.Err())
	}
}

func (b *Browser) quit() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = b.do(ctx, map[string]any{"op": "quit"})
	_ = b.stdin.Close()
	select {
	case <-b.done:
	case <-ctx.Done():
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	_ = b.cmd.Wait()
}

// Page is one tab of the browser running the test page.
type Page struct {
	b    *Browser
	Name string
	User int // QuickBlox user ID once logged in
}

// Open opens a new tab with the test page.
func (b *Browser) Open(ctx context.Context, name string) *Page {
	b.tb.Helper()
	if _, err := b.do(ctx, map[string]any{"op": "open", "page": name}); err != nil {
		b.tb.Fatal(err)
	}
	return &Page{b: b, Name: name}
}

// Invoke awaits window.tt[method](args...) in the page and decodes its result into out.
func (p *Page) Invoke(ctx context.Context, out any, method string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	res, err := p.b.do(ctx, map[string]any{"op": "invoke", "page": p.Name, "method": method, "args": args})
	if err != nil {
		return fmt.Errorf("page %s: %w", p.Name, err)
	}
	if out == nil {
		return nil
	}
	data, _ := json.Marshal(res)
	return json.Unmarshal(data, out)
}

// Must is Invoke that fails the test on error.
func (p *Page) Must(ctx context.Context, out any, method string, args ...any) {
	p.b.tb.Helper()
	if err := p.Invoke(ctx, out, method, args...); err != nil {
		p.b.tb.Fatal(err)
	}
}

// Mark is the position in the event log to wait from.
func (p *Page) Mark() int { return p.b.log.Len() }

// Wait returns the first event of this page after mark that has all the given fields.
func (p *Page) Wait(ctx context.Context, mark int, kv ...string) Event {
	p.b.tb.Helper()
	e, err := p.WaitErr(ctx, mark, kv...)
	if err != nil {
		p.b.tb.Fatalf("page %s: %v", p.Name, err)
	}
	return e
}

// WaitErr is Wait returning the error.
func (p *Page) WaitErr(ctx context.Context, mark int, kv ...string) (Event, error) {
	m := match(append([]string{"page", p.Name}, kv...)...)
	e, _, err := p.b.log.waitFrom(ctx, mark, strings.Join(kv, " "), m)
	return e, err
}

// Events returns this page's events after mark.
func (p *Page) Events(mark int) []Event {
	var out []Event
	for i, e := range p.b.log.All() {
		if i >= mark && e.Str("page") == p.Name {
			out = append(out, e)
		}
	}
	return out
}

// RTPStats is what the page's getStats reports per opponent.
type RTPStats struct {
	InBytes       float64 `json:"inBytes"`
	OutBytes      float64 `json:"outBytes"`
	InPackets     float64 `json:"inPackets"`
	OutPackets    float64 `json:"outPackets"`
	InAudioBytes  float64 `json:"inAudioBytes"`
	InVideoBytes  float64 `json:"inVideoBytes"`
	OutAudioBytes float64 `json:"outAudioBytes"`
	OutVideoBytes float64 `json:"outVideoBytes"`
	FramesDecoded float64 `json:"framesDecoded"`
	IceState      string  `json:"iceState"`  // of the transport: new, checking, connected...
	DtlsState     string  `json:"dtlsState"` // new, connecting, connected, closed, failed
	// The selected candidate pair: host, srflx, prflx or relay on each end, and how the
	// local relay is reached (udp, tcp, tls).
	LocalCandidateType  string `json:"localCandidateType"`
	RemoteCandidateType string `json:"remoteCandidateType"`
	LocalRelayProtocol  string `json:"localRelayProtocol"`
}

// Stats returns the RTP counters of the given session (or the current one), by opponent.
func (p *Page) Stats(ctx context.Context, session string) map[string]RTPStats {
	p.b.tb.Helper()
	var out map[string]RTPStats
	var id any
	if session != "" {
		id = session
	}
	p.Must(ctx, &out, "getStats", id)
	return out
}
