package nattest

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/netsim"
	"github.com/ttycall/ttycall/internal/testbin"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

var bin string

func TestMain(m *testing.M) { testbin.Run(m, &bin) }

const (
	short = 20 * time.Second
	long  = 60 * time.Second
)

// world is a topology with a Prosody (and usually a coturn) on pub.
type world struct {
	t    testing.TB
	net  *netsim.Net
	srv  *xmppserver.Server
	turn *netsim.TURN
}

// worldOpts choose the NATs, the TURN server and what Prosody hands out by XEP-0215.
type worldOpts struct {
	natA, natB netsim.NAT
	turn       bool // run coturn on pub
	turnTLS    bool // ... with a TLS port
	extdisco   bool // Prosody hands out coturn's credentials (mod_turn_external)
	extTTL     int  // their lifetime in seconds; default 3600
	extSecret  string
}

const turnSecret = "nat-test-secret"

func newWorld(t testing.TB, o worldOpts, users ...string) *world {
	t.Helper()
	n := netsim.New(t, o.natA, o.natB)
	w := &world{t: t, net: n}
	if o.turn {
		w.turn = n.StartTURN(t, turnSecret, o.turnTLS)
	}
	xo := xmppserver.Options{IP: netsim.PubIP, Wrap: netsim.Wrap(n.Pub), Dial: netsim.Dialer(n.Pub),
		Users: map[string]string{}}
	for _, u := range users {
		xo.Users[u] = u
	}
	if o.extdisco {
		secret := o.extSecret
		if secret == "" {
			secret = turnSecret
		}
		ttl := o.extTTL
		if ttl == 0 {
			ttl = 3600
		}
		xo.Modules = []string{"turn_external"}
		xo.Extra = fmt.Sprintf("turn_external_secret = %q\nturn_external_host = %q\nturn_external_port = %d\nturn_external_ttl = %d\nturn_external_tcp = true\n",
			secret, netsim.PubIP, netsim.TURNPort, ttl)
		if o.turnTLS {
			xo.Extra += fmt.Sprintf("turn_external_tls_port = %d\n", netsim.TURNTLSPort)
		}
	}
	w.srv = xmppservertest.Start(t, xo)
	if err := w.srv.Befriend(users...); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) id(user string) string { return user + "@" + w.srv.Domain }

// config writes user's config with extra TOML appended.
func (w *world) config(user, extra string) string {
	w.t.Helper()
	text := fmt.Sprintf("[account]\njid = %q\npassword = %q\nserver = %q\nca_file = %q\nresource = \"test\"\n\n%s\n",
		w.id(user), user, w.srv.Addr, w.srv.CAFile, extra)
	if !strings.Contains(extra, "[media]") {
		text += "[media]\ncamera = \"test\"\nmicrophone = \"test\"\n"
	}
	path := filepath.Join(w.t.TempDir(), user+".toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

// turnServer is an [[ice.servers]] entry for the coturn with fresh REST credentials.
func turnServer(urls string, ttl time.Duration) string {
	u, p := netsim.Credentials(turnSecret, "cfg", ttl)
	return fmt.Sprintf("[[ice.servers]]\nurls = [%s]\nusername = %q\ncredential = %q\n", urls, u, p)
}

// event is one JSON line of a headless process.
type event map[string]any

func (e event) str(k string) string { s, _ := e[k].(string); return s }

func (e event) String() string { b, _ := json.Marshal(e); return string(b) }

// proc is one `ttycall headless` running in a namespace.
type proc struct {
	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   string

	mu      sync.Mutex
	events  []event
	changed chan struct{}

	done chan struct{}
	code int
}

// start runs `ttycall headless ARGS` in namespace ns with env added.
func (w *world) start(ns, name string, env []string, args ...string) *proc {
	t := w.t
	t.Helper()
	cmd := w.net.Command(ns, bin, append([]string{"headless", "--log-level", "debug"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	if e := os.Getenv("NATTEST_ENV"); e != "" { // debugging: PION_LOG_TRACE=ice,turn
		cmd.Env = append(cmd.Env, e)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logDir := os.Getenv("NATTEST_LOGDIR") // keeps the logs (debugging)
	if logDir == "" {
		logDir = t.TempDir()
	}
	logPath := filepath.Join(logDir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, stdin: stdin, log: logPath, changed: make(chan struct{}), done: make(chan struct{})}
	go p.read(stdout) // ends when the process exits
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			s := string(data)
			if len(s) > 12000 {
				s = "..." + s[len(s)-12000:]
			}
			t.Logf("%s (exit %d) stderr:\n%s", name, p.code, s)
			var lines []string
			for _, e := range p.all() {
				if e.str("event") == "stats" {
					continue
				}
				lines = append(lines, e.String())
			}
			t.Logf("%s events:\n%s", name, strings.Join(lines, "\n"))
		}
		logf.Close()
	})
	return p
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		p.mu.Lock()
		p.events = append(p.events, e)
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	}
	err := p.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		p.code = ee.ExitCode()
	}
	close(p.done)
}

func (p *proc) all() []event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]event(nil), p.events...)
}

func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("%s stdin: %v", p.name, err)
	}
}

// wait returns the index and the first event at or after from for which ok holds.
func (p *proc) waitFn(from int, timeout time.Duration, what string, ok func(event) bool) (int, event) {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		for i := from; i < len(p.events); i++ {
			if ok(p.events[i]) {
				e := p.events[i]
				p.mu.Unlock()
				return i, e
			}
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-p.done:
			p.mu.Lock()
			n := len(p.events)
			p.mu.Unlock()
			if n > from {
				if i, e, found := p.find(from, ok); found {
					return i, e
				}
			}
			p.t.Fatalf("%s exited (code %d) before %s", p.name, p.code, what)
		case <-deadline.C:
			p.t.Fatalf("%s: no %s within %v", p.name, what, timeout)
		}
	}
}

func (p *proc) find(from int, ok func(event) bool) (int, event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := from; i < len(p.events); i++ {
		if ok(p.events[i]) {
			return i, p.events[i], true
		}
	}
	return 0, nil, false
}

// wait is waitFn for the event whose fields equal kv.
func (p *proc) wait(from int, timeout time.Duration, kv ...string) (int, event) {
	p.t.Helper()
	return p.waitFn(from, timeout, fmt.Sprint(kv), func(e event) bool {
		for i := 0; i+1 < len(kv); i += 2 {
			if e.str(kv[i]) != kv[i+1] {
				return false
			}
		}
		return true
	})
}

// receiving waits for a stats event of session sid in which the remote audio and video
// have packets, and returns it.
func (p *proc) receiving(from int, sid string) event {
	p.t.Helper()
	_, e := p.waitFn(from, long, "stats with remote audio and video packets", func(e event) bool {
		if e.str("event") != "stats" || e.str("session") != sid {
			return false
		}
		r, _ := e["remote"].(map[string]any)
		a, _ := r["audio"].(map[string]any)
		v, _ := r["video"].(map[string]any)
		pa, _ := a["packets"].(float64)
		pv, _ := v["packets"].(float64)
		return pa > 0 && pv > 0
	})
	return e
}

// candidate returns the candidate pair of a stats event.
func candidate(e event) map[string]any { c, _ := e["candidate"].(map[string]any); return c }
