package janus

import (
	"bufio"
	"context"
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

	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/testbin"
)

// Event is one JSON line of ttycall headless.
type Event map[string]any

func (e Event) str(k string) string { s, _ := e[k].(string); return s }

// Tty is one running `ttycall headless --room`.
type Tty struct {
	tb      testing.TB
	Name    string
	logPath string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	start   time.Time

	mu   sync.Mutex
	evs  []Event
	wake chan struct{}
	done chan struct{} // closed when the process exited and stdout is drained
	code int           // valid after done
}

// TtyOpts configure one process.
type TtyOpts struct {
	Video bool
	Pin   string
	Stats time.Duration
	// Width, Height, FPS of the test pattern; 0: 160x120 at 15.
	Width, Height, FPS int
	// Quiet logs warnings only (benchmarks).
	Quiet bool
}

// startTty runs `ttycall headless --room room` as name against s.
func startTty(tb testing.TB, s *janusserver.Server, room, name string, o TtyOpts) *Tty {
	tb.Helper()
	if o.Width == 0 {
		o.Width, o.Height, o.FPS = 160, 120, 15
	}
	cfg := fmt.Sprintf("[conference]\nserver = %q\ndisplay = %q\nbitrate = 128\n\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\nwidth = %d\nheight = %d\nfps = %d\n",
		s.URL, name, o.Width, o.Height, o.FPS)
	return runTty(tb, name, cfg, o, "--room", room)
}

// runTty runs `ttycall headless` with the config text cfg and the flags of o plus args.
func runTty(tb testing.TB, name, cfg string, o TtyOpts, args ...string) *Tty {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	level := "debug"
	if o.Quiet {
		level = "warn"
	}
	args = append([]string{"headless", "--config", path, "--log", filepath.Join(dir, "ttycall.log"), "--log-level", level}, args...)
	if o.Video {
		args = append(args, "--video")
	}
	if o.Pin != "" {
		args = append(args, "--pin", o.Pin)
	}
	if o.Stats > 0 {
		args = append(args, "--stats", o.Stats.String())
	}
	cmd := exec.Command(testbin.Path(tb), args...)
	cmd.Env = append(os.Environ(), "TTYCALL_ICE_LOOPBACK=1", "TTYCALL_ICE_TEST_ADDRS="+janusserver.ICEAddress())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	t := &Tty{tb: tb, Name: name, logPath: filepath.Join(dir, "ttycall.log"), cmd: cmd, stdin: stdin, wake: make(chan struct{}, 1), done: make(chan struct{}), start: time.Now()}
	t.start = time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go t.read(stdout) // ends when the process exits
	tb.Cleanup(func() {
		t.Stop()
		if tb.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "ttycall.log"))
			tb.Logf("%s (exit %d) log tail:\n%s\nevents:\n%s", name, t.code, tail(string(b), 4000), t.describe())
		}
	})
	return t
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (t *Tty) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			e = Event{"event": "stdout_garbage", "line": sc.Text()}
		}
		e["_at"] = time.Now()
		t.mu.Lock()
		t.evs = append(t.evs, e)
		t.mu.Unlock()
		t.poke()
	}
	err := t.cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.code = ee.ExitCode()
	}
	close(t.done)
	t.poke()
}

func (t *Tty) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

func (t *Tty) describe() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	for _, e := range t.evs {
		delete(e, "_at")
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteByte('\n')
	}
	return tail(b.String(), 6000)
}

// Events returns a copy of the events so far.
func (t *Tty) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.evs...)
}

// WaitFor waits until cond holds for the events so far (or the process exits).
func (t *Tty) WaitFor(ctx context.Context, what string, cond func([]Event) bool) {
	t.tb.Helper()
	for {
		if cond(t.Events()) {
			return
		}
		select {
		case <-t.wake:
		case <-t.done:
			if cond(t.Events()) {
				return
			}
			t.tb.Fatalf("%s exited (%d) before %s", t.Name, t.code, what)
		case <-ctx.Done():
			t.tb.Fatalf("%s: no %s", t.Name, what)
		}
	}
}

// Has matches an event with all the given key/value pairs.
func Has(kv ...string) func([]Event) bool {
	return func(evs []Event) bool { return find(evs, kv...) != nil }
}

func find(evs []Event, kv ...string) Event {
	for _, e := range evs {
		ok := true
		for i := 0; i+1 < len(kv); i += 2 {
			ok = ok && e.str(kv[i]) == kv[i+1]
		}
		if ok {
			return e
		}
	}
	return nil
}

// Send writes a command line.
func (t *Tty) Send(line string) { _, _ = io.WriteString(t.stdin, line+"\n") }

// Exit waits for the exit code.
func (t *Tty) Exit(ctx context.Context) int {
	t.tb.Helper()
	select {
	case <-t.done:
		return t.code
	case <-ctx.Done():
		t.tb.Fatalf("%s did not exit", t.Name)
		return -1
	}
}

// Stop quits the process (SIGKILL after 10 s).
func (t *Tty) Stop() {
	select {
	case <-t.done:
		return
	default:
	}
	t.Send("quit")
	_ = t.stdin.Close()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-t.done:
	case <-timer.C:
		_ = t.cmd.Process.Signal(syscall.SIGKILL)
		<-t.done
	}
}

// receivesFrom holds when a stats line for display shows media of the kinds wanted.
func receivesFrom(display string, video bool) func([]Event) bool {
	return func(evs []Event) bool {
		for _, e := range evs {
			if e.str("event") != "stats" || e.str("display") != display {
				continue
			}
			rm, _ := e["remote"].(map[string]any)
			a, _ := rm["audio"].(map[string]any)
			v, _ := rm["video"].(map[string]any)
			ap, _ := a["packets"].(float64)
			vp, _ := v["packets"].(float64)
			if ap > 5 && (!video || vp > 5) {
				return true
			}
		}
		return false
	}
}

// cpuSeconds is the CPU time (user + system) the process has used so far.
func (t *Tty) cpuSeconds() float64 { return procCPU(t.cmd.Process.Pid) }

// procCPU reads utime + stime of a process from /proc (clock ticks of 1/100 s).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	var u, st float64
	fmt.Sscan(f[11], &u)
	fmt.Sscan(f[12], &st)
	return (u + st) / 100
}

func (t *Tty) logText() string { b, _ := os.ReadFile(t.logPath); return string(b) }
