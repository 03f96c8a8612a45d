package janus

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Browser is driver.mjs: headless Chromium with janus.js pages.
type Browser struct {
	tb     testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr strings.Builder

	mu      sync.Mutex
	nextID  int
	waiting map[int]chan reply // guarded by mu
	done    chan struct{}
}

type reply struct {
	ID     int             `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Event  string          `json:"event"`
}

// needBrowser skips (fails under CI=true) when node, Chromium or the npm packages are
// missing.
func needBrowser(t testing.TB) {
	t.Helper()
	var missing string
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node"
	} else if _, err := os.Stat("/usr/bin/chromium"); err != nil && os.Getenv("TT_CHROMIUM") == "" {
		missing = "chromium"
	} else if _, err := os.Stat("node_modules/janus-gateway/npm/dist/janus.es.js"); err != nil {
		missing = "interop/janus/node_modules (npm ci)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s missing: run scripts/setup.sh", missing)
	}
	t.Skipf("%s missing: run scripts/setup.sh", missing)
}

func startBrowser(t testing.TB) *Browser {
	t.Helper()
	needBrowser(t)
	b := &Browser{tb: t, waiting: map[int]chan reply{}, done: make(chan struct{})}
	// The pages and the npm packages, served from this directory on loopback.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(".")), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l) // ends at srv.Close in cleanup
	t.Cleanup(func() { srv.Close() })
	b.cmd = exec.Command("node", "driver.mjs")
	b.cmd.Env = append(os.Environ(), "TT_BASE_URL=http://"+l.Addr().String())
	b.cmd.Stderr = &b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go b.read(stdout) // ends when the driver exits
	t.Cleanup(func() {
		_, _ = io.WriteString(b.stdin, `{"id":0,"op":"quit"}`+"\n")
		b.stdin.Close()
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
			<-b.done
		}
		if t.Failed() {
			t.Logf("driver stderr:\n%s", tail(b.stderr.String(), 4000))
		}
	})
	return b
}

func (b *Browser) read(r io.Reader) {
	defer close(b.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rp reply
		if json.Unmarshal(sc.Bytes(), &rp) != nil {
			continue
		}
		if rp.Event != "" {
			if rp.Event == "blocked" || rp.Event == "pageerror" {
				b.tb.Logf("driver: %s", sc.Text())
			}
			continue
		}
		b.mu.Lock()
		ch := b.waiting[rp.ID]
		delete(b.waiting, rp.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- rp
		}
	}
	_ = b.cmd.Wait()
}

// do sends one command and waits for its reply, decoding the result into out.
func (b *Browser) do(ctx context.Context, cmd map[string]any, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan reply, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	cmd["id"] = id
	line, _ := json.Marshal(cmd)
	if _, err := b.stdin.Write(append(line, '\n')); err != nil {
		return err
	}
	select {
	case rp := <-ch:
		if !rp.OK {
			return fmt.Errorf("driver %v: %s", cmd["op"], rp.Error)
		}
		if out != nil {
			return json.Unmarshal(rp.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("driver exited")
	case <-ctx.Done():
		return fmt.Errorf("driver %v %v: %w", cmd["op"], cmd["method"], ctx.Err())
	}
}

// Page is one web participant.
type Page struct {
	b    *Browser
	name string
}

func (b *Browser) Open(ctx context.Context, name string) *Page {
	b.tb.Helper()
	if err := b.do(ctx, map[string]any{"op": "open", "page": name}, nil); err != nil {
		b.tb.Fatal(err)
	}
	return &Page{b: b, name: name}
}

func (p *Page) Invoke(ctx context.Context, out any, method string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return p.b.do(ctx, map[string]any{"op": "invoke", "page": p.name, "method": method, "args": args}, out)
}

func (p *Page) Close(ctx context.Context) error {
	return p.b.do(ctx, map[string]any{"op": "closepage", "page": p.name}, nil)
}

// received is what a page receives per display.
type received map[string]struct{ Audio, Video, Frames float64 }

// waitReceives polls the page's getStats until it receives media from every display.
func (p *Page) waitReceives(t testing.TB, ctx context.Context, video map[string]bool) {
	t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last received
	for {
		var r received
		if err := p.Invoke(ctx, &r, "received"); err != nil {
			t.Fatalf("page %s: %v", p.name, err)
		}
		last = r
		ok := true
		for d, v := range video {
			m, has := r[d]
			ok = ok && has && m.Audio > 5 && (!v || m.Frames > 3)
		}
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			var evs any
			_ = p.Invoke(context.Background(), &evs, "events")
			t.Fatalf("page %s: receives %+v, want from %v; events %v", p.name, last, video, evs)
		}
	}
}
