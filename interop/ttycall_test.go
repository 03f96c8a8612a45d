package interop

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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/testbin"
)

// TtyOpts configure one `ttycall headless` process.
type TtyOpts struct {
	Args           []string // extra flags: --answer auto, --call 101, --ext k=v, --video ...
	AnswerTime     float64  // calls.answer_time_interval (s); 0: default
	DialingTime    float64  // calls.dialing_time_interval (s); 0: default
	StatsInterval  float64  // calls.stats_report_time_interval (s); 0: off
	DisconnectTime float64  // calls.disconnect_time_interval (s); 0: default
	ExtraTOML      string   // appended to the config file (an [ice] section, ...)
	MediaTOML      string   // more keys of the [media] section ("fps = 20\n")
}

// Tty is one running `ttycall headless` with the quickblox ID scheme.
type Tty struct {
	tb    testing.TB
	User  int
	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *eventLog
	done  chan struct{} // closed when the process has exited and its stdout is drained
	code  int           // exit code, valid after done
}

// writeConfig writes the config of QuickBlox user id against env's Prosody.
func (e *Env) writeConfig(id int, o TtyOpts) string {
	e.tb.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[account]\njid = %q\npassword = %q\nserver = %q\nca_file = %q\nid_scheme = \"quickblox\"\nresource = \"interop\"\n\n",
		fmt.Sprintf("%s@%s", userNode(id), e.Server.Domain), password, e.Server.Addr, e.Server.CAFile)
	b.WriteString("[calls]\n")
	if o.AnswerTime > 0 {
		fmt.Fprintf(&b, "answer_time_interval = %g\n", o.AnswerTime)
	}
	if o.DialingTime > 0 {
		fmt.Fprintf(&b, "dialing_time_interval = %g\n", o.DialingTime)
	}
	if o.StatsInterval > 0 {
		fmt.Fprintf(&b, "stats_report_time_interval = %g\n", o.StatsInterval)
	}
	if o.DisconnectTime > 0 {
		fmt.Fprintf(&b, "disconnect_time_interval = %g\n", o.DisconnectTime)
	}
	b.WriteString("\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\n")
	b.WriteString(o.MediaTOML)
	b.WriteString(o.ExtraTOML)
	path := filepath.Join(e.tb.TempDir(), fmt.Sprintf("ttycall-%d.toml", id))
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		e.tb.Fatal(err)
	}
	return path
}

// Ttycall starts `ttycall headless` as QuickBlox user id and waits for "online". It is
// stopped (quit, then SIGKILL after 10 s) at cleanup.
func (e *Env) Ttycall(ctx context.Context, id int, o TtyOpts) *Tty {
	e.tb.Helper()
	t := e.StartTtycall(id, o)
	t.Wait(ctx, 0, "event", "online")
	return t
}

// StartTtycall starts the process without waiting for anything.
func (e *Env) StartTtycall(id int, o TtyOpts) *Tty {
	e.tb.Helper()
	return startTty(e.tb, e.writeConfig(id, o), id, o.Args)
}

// startTty runs `ttycall headless` with the config file cfg; id names it in logs.
func startTty(tb testing.TB, cfg string, id int, extra []string) *Tty {
	tb.Helper()
	// Loopback-only ICE for pion: the engine's switch for tests (internal/app).
	return startTtyIn(tb, nil, []string{"TTYCALL_ICE_LOOPBACK=1"}, cfg, id, extra)
}

// startTtyIn is startTty with the command prefixed by wrap (["ip", "netns", "exec", NS])
// and only env added (no loopback-only switch: a namespace of netsim has its own network).
func startTtyIn(tb testing.TB, wrap, env []string, cfg string, id int, extra []string) *Tty {
	tb.Helper()
	e := struct{ tb testing.TB }{tb}
	bin := testbin.Path(e.tb)
	args := append([]string{"headless", "--config", cfg, "--log-level", "debug"}, extra...)
	argv := append(append(append([]string(nil), wrap...), bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	// SIGKILL when the test binary dies (a -timeout panic runs no cleanup): at stdin EOF
	// ttycall headless would otherwise run on for ever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(e.tb.TempDir(), fmt.Sprintf("ttycall-%d.log", id)))
	if err != nil {
		e.tb.Fatal(err)
	}
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		e.tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.tb.Fatal(err)
	}
	t := &Tty{tb: e.tb, User: id, cmd: cmd, stdin: stdin, log: newEventLog(), done: make(chan struct{})}
	go t.read(stdout) // ends when the process exits (its stdout closes)
	e.tb.Cleanup(func() {
		t.stop()
		if e.tb.Failed() {
			data, _ := os.ReadFile(logf.Name())
			e.tb.Logf("ttycall %d (exit %d) stderr (tail):\n%s", id, t.code, tail(string(data), 6000))
			var evs []string
			for _, ev := range t.log.All() {
				evs = append(evs, ev.String())
			}
			e.tb.Logf("ttycall %d events:\n%s", id, tail(strings.Join(evs, "\n"), 6000))
		}
		logf.Close()
	})
	return t
}

func (t *Tty) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// stdout is a fixed interface: a non-JSON line is a bug in ttycall.
			e = Event{"event": "stdout_garbage", "line": sc.Text()}
		}
		t.log.add(e)
	}
	err := t.cmd.Wait()
	t.code = 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.code = ee.ExitCode()
	}
	t.log.close(fmt.Errorf("ttycall exited with code %d", t.code))
	close(t.done)
}

// Send writes one command line to ttycall's stdin.
func (t *Tty) Send(line string) {
	t.tb.Helper()
	if _, err := io.WriteString(t.stdin, line+"\n"); err != nil {
		t.tb.Fatalf("ttycall %d stdin: %v", t.User, err)
	}
}

// Mark is the position in ttycall's event log to wait from.
func (t *Tty) Mark() int { return t.log.Len() }

// Wait returns the first event after mark with all the given fields.
func (t *Tty) Wait(ctx context.Context, mark int, kv ...string) Event {
	t.tb.Helper()
	e, _, err := t.log.waitFrom(ctx, mark, strings.Join(kv, " "), match(kv...))
	if err != nil {
		t.tb.Fatalf("ttycall %d: %v", t.User, err)
	}
	return e
}

// WaitIndex is Wait that also returns the event's index, to wait for a later one.
func (t *Tty) WaitIndex(ctx context.Context, mark int, kv ...string) (Event, int) {
	t.tb.Helper()
	e, i, err := t.log.waitFrom(ctx, mark, strings.Join(kv, " "), match(kv...))
	if err != nil {
		t.tb.Fatalf("ttycall %d: %v", t.User, err)
	}
	return e, i
}

// Events returns the events after mark.
func (t *Tty) Events(mark int) []Event { return t.log.All()[mark:] }

// Exit waits for the process to exit and returns its code.
func (t *Tty) Exit(ctx context.Context) int {
	t.tb.Helper()
	select {
	case <-t.done:
		return t.code
	case <-ctx.Done():
		t.tb.Fatalf("ttycall %d did not exit: %v", t.User, ctx.Err())
		return -1
	}
}

func (t *Tty) stop() {
	select {
	case <-t.done:
		return
	default:
	}
	_, _ = io.WriteString(t.stdin, "quit\n")
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

// eventTime parses the "time" of a ttycall event as ms since the epoch.
func eventTime(tb testing.TB, e Event) float64 {
	tm, err := time.Parse(time.RFC3339Nano, e.Str("time"))
	if err != nil {
		tb.Fatalf("event time %q: %v", e.Str("time"), err)
	}
	return float64(tm.UnixNano()) / 1e6
}

// receivedPackets sums what ttycall reports receiving in a stats event.
func receivedPackets(e Event) (audio, video float64) {
	r, _ := e["remote"].(map[string]any)
	a, _ := r["audio"].(map[string]any)
	v, _ := r["video"].(map[string]any)
	return Event(a).Float("packets"), Event(v).Float("packets")
}

// waitTtyReceives waits for two stats events of ttycall about user in which the received
// packets grow (both kinds when video is true).
func waitTtyReceives(t testing.TB, ctx context.Context, tty *Tty, mark int, session string, user int, video bool) {
	t.Helper()
	uid := strconv.Itoa(user)
	first, i := tty.WaitIndex(ctx, mark, "event", "stats", "session", session, "user", uid)
	a0, v0 := receivedPackets(first)
	for {
		e, j := tty.WaitIndex(ctx, i+1, "event", "stats", "session", session, "user", uid)
		a1, v1 := receivedPackets(e)
		if a1 > a0 && (!video || v1 > v0) {
			return
		}
		i = j
	}
}

// checkNoGarbage fails when ttycall wrote anything but JSON lines on stdout.
func checkNoGarbage(t testing.TB, tty *Tty) {
	t.Helper()
	for _, e := range tty.log.All() {
		if e.Str("event") == "stdout_garbage" {
			t.Errorf("ttycall %d wrote a non-JSON line on stdout: %q", tty.User, e.Str("line"))
		}
	}
}
