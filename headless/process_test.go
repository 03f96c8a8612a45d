package headless_test

// Tests of `ttycall headless` as separate processes through a private Prosody, with
// loopback-only ICE (internal/app.EnvLoopbackICE).

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/testbin"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// bin is the ttycall binary, built once by TestMain.
var bin string

func TestMain(m *testing.M) { testbin.Run(m, &bin) }

// event is one JSON line of a headless process.
type event map[string]any

func (e event) str(k string) string { s, _ := e[k].(string); return s }

func (e event) ext() map[string]any { m, _ := e["ext"].(map[string]any); return m }

func (e event) String() string { b, _ := json.Marshal(e); return string(b) }

// proc is one running `ttycall headless`.
type proc struct {
	t     testing.TB
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu      sync.Mutex
	events  []event       // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced at each event
	garbage []string      // guarded by mu: stdout lines that are not JSON

	done chan struct{} // closed when the process has exited and stdout is drained
	code int           // valid after done
}

// env is a Prosody with users whose password is their name, and their configs.
type env struct {
	t   testing.TB
	srv *xmppserver.Server
}

func newEnv(t testing.TB, users ...string) *env {
	t.Helper()
	m := map[string]string{}
	for _, u := range users {
		m[u] = u
	}
	srv := xmppservertest.Start(t, xmppserver.Options{Users: m})
	if err := srv.Befriend(users...); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv}
}

func (e *env) id(user string) string { return user + "@" + e.srv.Domain }

// config writes the config of user (password = user unless given) with extra TOML
// appended (sections of its own).
func (e *env) config(user, password, extra string) string {
	e.t.Helper()
	if password == "" {
		password = user
	}
	text := fmt.Sprintf("[account]\njid = %q\npassword = %q\nserver = %q\nca_file = %q\nresource = \"test\"\n\n%s\n",
		e.id(user), password, e.srv.Addr, e.srv.CAFile, extra)
	if !strings.Contains(extra, "[media]") {
		text += "[media]\ncamera = \"test\"\nmicrophone = \"test\"\n"
	}
	path := filepath.Join(e.t.TempDir(), user+".toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// start runs `ttycall headless ARGS`; it is stopped (SIGKILL) at cleanup if still
// running.
func start(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return startCmd(t, name, exec.Command(bin, append([]string{"headless", "--log-level", "debug"}, args...)...))
}

// startCmd is start with the command made by the caller (a wrapper around bin).
func startCmd(t testing.TB, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	cmd.Env = append(os.Environ(), app.EnvLoopbackICE+"=1")
	// SIGKILL when the test binary dies (a -timeout panic runs no cleanup): a headless
	// process at stdin EOF would otherwise run on for ever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
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
	p := &proc{t: t, name: name, cmd: cmd, stdin: stdin, changed: make(chan struct{}), done: make(chan struct{})}
	go p.read(stdout) // ends when the process exits
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			data, _ := os.ReadFile(logf.Name())
			t.Logf("%s (exit %d) stderr:\n%s", name, p.code, tail(string(data), 8000))
			var lines []string
			for _, e := range p.all() {
				lines = append(lines, e.String())
			}
			t.Logf("%s events:\n%s", name, strings.Join(lines, "\n"))
		}
		logf.Close()
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		p.mu.Lock()
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			p.garbage = append(p.garbage, sc.Text())
		} else {
			p.events = append(p.events, e)
			close(p.changed)
			p.changed = make(chan struct{})
		}
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

// send writes one command line.
func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("%s stdin: %v", p.name, err)
	}
}

// wait returns the index and the first event at or after from whose fields equal kv.
func (p *proc) wait(from int, timeout time.Duration, kv ...string) (int, event) {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		i, e, changed := p.find(from, kv)
		if e != nil {
			return i, e
		}
		select {
		case <-changed:
		case <-p.done:
			// Drained: look once more, then give up.
			if i, e, _ := p.find(from, kv); e != nil {
				return i, e
			}
			p.t.Fatalf("%s exited (code %d) before %v", p.name, p.code, kv)
		case <-deadline.C:
			p.t.Fatalf("%s: no %v within %v", p.name, kv, timeout)
		}
	}
}

// find returns the first event at or after from that matches kv, or, when there is
// none yet, the channel closed at the next event.
func (p *proc) find(from int, kv []string) (int, event, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := from; i < len(p.events); i++ {
		if matches(p.events[i], kv) {
			return i, p.events[i], nil
		}
	}
	return 0, nil, p.changed
}

func matches(e event, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if e.str(kv[i]) != kv[i+1] {
			return false
		}
	}
	return true
}

// exit waits for the process to end and returns its exit code.
func (p *proc) exit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v", p.name, timeout)
		return -1
	}
}

// quit sends quit and checks that the process exits 0 having written only JSON lines.
func (p *proc) quit() {
	p.t.Helper()
	p.send("quit")
	if code := p.exit(short); code != 0 {
		p.t.Errorf("%s exit code after quit = %d, want 0", p.name, code)
	}
	p.checkClean()
}

// checkClean fails when stdout held anything but JSON lines.
func (p *proc) checkClean() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, g := range p.garbage {
		p.t.Errorf("%s wrote a non-JSON line on stdout: %q", p.name, g)
	}
}

// inOrder checks that events with the given names occur in this order (other events may
// come between).
func inOrder(t testing.TB, name string, evs []event, want ...string) {
	t.Helper()
	i := 0
	for _, e := range evs {
		if i < len(want) && e.str("event") == want[i] {
			i++
		}
	}
	if i < len(want) {
		var got []string
		for _, e := range evs {
			got = append(got, e.str("event"))
		}
		t.Errorf("%s: events %v do not contain %v in order (stopped at %q)", name, got, want, want[i])
	}
}

const (
	short = 20 * time.Second // a signal round trip, a login
	long  = 60 * time.Second // a call set up and torn down
)

func TestCallEventsInOrderAndSIGTERM(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	bob := start(t, "bob", "--config", e.config("bob", "", "[calls]\nstats_report_time_interval = 0.5\n"), "--answer", "auto", "--ext", "who=bob")
	bob.wait(0, short, "event", "online")
	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"), "--ext", "topic=test")

	_, online := alice.wait(0, short, "event", "online")
	if online.str("user") != e.id("alice") {
		t.Errorf("online user = %q", online.str("user"))
	}
	_, callEv := bob.wait(0, short, "event", "call")
	sid := callEv.str("session")
	if callEv.str("user") != e.id("alice") || callEv.str("call_type") != "audio" || callEv.ext()["topic"] != "test" {
		t.Errorf("call event %v", callEv)
	}
	_, acc := alice.wait(0, short, "event", "accept", "session", sid)
	if acc.str("user") != e.id("bob") || acc.ext()["who"] != "bob" || acc.str("call_type") != "audio" {
		t.Errorf("accept event %v", acc)
	}
	alice.wait(0, short, "event", "connection_state", "session", sid, "state", "CONNECTED")
	bob.wait(0, short, "event", "connection_state", "session", sid, "state", "CONNECTED")
	alice.wait(0, short, "event", "remote_stream", "session", sid, "kind", "audio")
	mark, _ := bob.wait(0, short, "event", "remote_stream", "session", sid, "kind", "audio")

	// Stats carry the figures: bob receives alice's audio.
	for i := mark; ; i++ {
		var st event
		i, st = bob.wait(i, short, "event", "stats", "session", sid)
		remote, _ := st["remote"].(map[string]any)
		audio, _ := remote["audio"].(map[string]any)
		if p, _ := audio["packets"].(float64); p > 0 {
			if st.str("user") != e.id("alice") {
				t.Errorf("stats event %v", st)
			}
			break
		}
	}

	// SIGTERM during the call: alice hangs up and exits 0; bob sees stop and the close.
	if err := alice.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := alice.exit(short); code != 0 {
		t.Errorf("alice exit code after SIGTERM = %d, want 0", code)
	}
	// Its last line reports the call it hung up.
	if _, last := alice.wait(0, 0, "event", "session_close", "session", sid); last.str("reason") == "" {
		t.Errorf("alice's session_close %v has no reason", last)
	}
	_, stop := bob.wait(mark, short, "event", "stop", "session", sid)
	if stop.str("user") != e.id("alice") {
		t.Errorf("stop event %v", stop)
	}
	bob.wait(mark, short, "event", "session_close", "session", sid)

	inOrder(t, "bob", bob.all(), "online", "call", "connection_state", "remote_stream", "stop", "session_close")
	inOrder(t, "alice", alice.all(), "online", "accept", "connection_state", "remote_stream")
	bob.quit()
	alice.checkClean()
}

func TestStdinCommands(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	bob := start(t, "bob", "--config", e.config("bob", "", ""))
	bob.wait(0, short, "event", "online")
	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"), "--exit-on-close")
	_, callEv := bob.wait(0, short, "event", "call")
	sid := callEv.str("session")

	// An unknown command is an error event, and the process goes on.
	bob.send("dance now")
	_, errEv := bob.wait(0, short, "event", "error")
	if !strings.Contains(errEv.str("message"), "dance") {
		t.Errorf("error event %v", errEv)
	}
	bob.send("accept")
	alice.wait(0, short, "event", "accept", "session", sid)
	bob.wait(0, short, "event", "connection_state", "session", sid, "state", "CONNECTED")
	alice.wait(0, short, "event", "connection_state", "session", sid, "state", "CONNECTED")

	// Commands run in order: mute and unmute produce no error, so the next error event is
	// the one of the bad command after them.
	mark := len(bob.all())
	bob.send("mute audio")
	bob.send("unmute audio")
	bob.send("mute ears")
	_, errEv = bob.wait(mark, short, "event", "error")
	if !strings.Contains(errEv.str("message"), "ears") {
		t.Errorf("mute/unmute gave an error: %v", errEv)
	}

	bob.send("update mood=happy level=3")
	_, up := alice.wait(0, short, "event", "update", "session", sid)
	if up.str("user") != e.id("bob") || up.ext()["mood"] != "happy" || up.ext()["level"] != "3" {
		t.Errorf("update event %v", up)
	}

	bob.send("hangup")
	alice.wait(0, short, "event", "stop", "session", sid)
	alice.wait(0, short, "event", "session_close", "session", sid)
	bob.wait(0, short, "event", "session_close", "session", sid)
	if code := alice.exit(short); code != 0 {
		t.Errorf("alice (--exit-on-close) exit code = %d", code)
	}
	bob.quit()
	alice.checkClean()
}

func TestExitCodes(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bad flag", []string{"--bogus"}},
		{"bad answer", []string{"--config", e.config("alice", "", ""), "--answer", "maybe"}},
		{"missing config", []string{"--config", filepath.Join(t.TempDir(), "none.toml")}},
		{"bad config", []string{"--config", e.config("alice", "", "[calls]\nno_such_key = 1\n")}},
		{"stray argument", []string{"--config", e.config("alice", "", ""), "now"}},
		{"missing --play file", []string{"--config", e.config("alice", "", ""), "--play", filepath.Join(t.TempDir(), "none.wav")}},
		{"--record in no directory", []string{"--config", e.config("alice", "", ""), "--record", filepath.Join(t.TempDir(), "none", "rec.ogg")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := start(t, "alice", tc.args...)
			if code := p.exit(short); code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
		})
	}

	t.Run("mistyped subcommand", func(t *testing.T) {
		// `ttycall headles` must not start the interface: a usage error.
		ctx, cancel := context.WithTimeout(t.Context(), short)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "headles", "--config", e.config("alice", "", ""))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), `unknown command "headles"`) {
			t.Errorf("ttycall headles: %v, %q; want exit 2 naming the command", err, out)
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		p := start(t, "alice", "--config", e.config("alice", "not-the-password", ""))
		if code := p.exit(short); code != 3 {
			t.Errorf("exit code = %d, want 3", code)
		}
		_, ev := p.wait(0, 0, "event", "error")
		if ev.str("message") == "" {
			t.Errorf("error event without a message: %v", ev)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "reject")
		bob.wait(0, short, "event", "online")
		alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"))
		alice.wait(0, short, "event", "reject")
		if code := alice.exit(short); code != 4 {
			t.Errorf("exit code = %d, want 4", code)
		}
		bob.quit()
	})

	// reject's k=v pairs are the extension sent (a token with '=' is not a session).
	t.Run("rejected on stdin with an extension", func(t *testing.T) {
		bob := start(t, "bob", "--config", e.config("bob", "", ""))
		bob.wait(0, short, "event", "online")
		alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"))
		_, callEv := bob.wait(0, short, "event", "call")
		bob.send("reject why=later")
		_, rej := alice.wait(0, short, "event", "reject", "session", callEv.str("session"))
		if rej.ext()["why"] != "later" {
			t.Errorf("reject event %v, want why=later", rej)
		}
		alice.exit(short)
		bob.quit()
	})

	t.Run("rejected on stdin", func(t *testing.T) {
		bob := start(t, "bob", "--config", e.config("bob", "", ""), "--ext", "why=busy")
		bob.wait(0, short, "event", "online")
		alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"))
		_, callEv := bob.wait(0, short, "event", "call")
		bob.send("reject")
		_, rej := alice.wait(0, short, "event", "reject", "session", callEv.str("session"))
		if rej.ext()["why"] != "busy" || rej.str("user") != e.id("bob") {
			t.Errorf("reject event %v, want from bob with why=busy", rej)
		}
		if code := alice.exit(short); code != 4 {
			t.Errorf("exit code = %d, want 4", code)
		}
		bob.send("reject") // nothing rings any more: an error, not an exit
		_, errEv := bob.wait(0, short, "event", "error")
		if !strings.Contains(errEv.str("message"), "no incoming call") {
			t.Errorf("error event %v", errEv)
		}
		bob.quit()
	})

	t.Run("not answered", func(t *testing.T) {
		carol := start(t, "carol", "--config", e.config("carol", "", ""), "--answer", "ignore")
		carol.wait(0, short, "event", "online")
		alice := start(t, "alice", "--config", e.config("alice", "", "[calls]\nanswer_time_interval = 2\ndialing_time_interval = 1\n"), "--call", e.id("carol"))
		alice.wait(0, short, "event", "user_not_answer")
		if code := alice.exit(short); code != 4 {
			t.Errorf("exit code = %d, want 4", code)
		}
		carol.quit()
	})
}

// writeToneWAV writes a mono 16-bit 48 kHz WAV of a sine at hz.
func writeToneWAV(t testing.TB, path string, hz float64, d time.Duration) {
	t.Helper()
	const rate = 48000
	n := int(d.Seconds() * rate)
	data := make([]byte, 44+2*n)
	le := binary.LittleEndian
	copy(data[0:], "RIFF")
	le.PutUint32(data[4:], uint32(36+2*n))
	copy(data[8:], "WAVEfmt ")
	le.PutUint32(data[16:], 16)
	le.PutUint16(data[20:], 1) // PCM
	le.PutUint16(data[22:], 1) // mono
	le.PutUint32(data[24:], rate)
	le.PutUint32(data[28:], rate*2)
	le.PutUint16(data[32:], 2)
	le.PutUint16(data[34:], 16)
	copy(data[36:], "data")
	le.PutUint32(data[40:], uint32(2*n))
	for i := 0; i < n; i++ {
		v := int16(12000 * math.Sin(2*math.Pi*hz*float64(i)/rate))
		le.PutUint16(data[44+2*i:], uint16(v))
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// dominantFrequency scans 100..4000 Hz in 5 Hz steps (Goertzel) over 48 kHz samples.
func dominantFrequency(pcm []int16) float64 {
	const rate = 48000
	best, bestPower := 0.0, 0.0
	for f := 100.0; f <= 4000; f += 5 {
		coeff := 2 * math.Cos(2*math.Pi*f/rate)
		var s1, s2 float64
		for _, v := range pcm {
			s := float64(v) + coeff*s1 - s2
			s2, s1 = s1, s
		}
		if p := s1*s1 + s2*s2 - coeff*s1*s2; p > bestPower {
			best, bestPower = f, p
		}
	}
	return best
}

func TestPlayedToneIsRecorded(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	dir := t.TempDir()
	tone, rec := filepath.Join(dir, "tone.wav"), filepath.Join(dir, "rec.ogg")
	const hz = 880.0
	writeToneWAV(t, tone, hz, 2*time.Second)

	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto", "--record", rec, "--exit-on-close")
	bob.wait(0, short, "event", "online")
	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"),
		"--play", tone, "--hangup-after", "3s", "--exit-on-close")

	_, callEv := bob.wait(0, short, "event", "call")
	sid := callEv.str("session")
	bob.wait(0, short, "event", "remote_stream", "session", sid, "kind", "audio")
	if code := alice.exit(long); code != 0 {
		t.Errorf("alice exit code = %d", code)
	}
	if code := bob.exit(long); code != 0 {
		t.Errorf("bob exit code = %d", code)
	}
	inOrder(t, "alice", alice.all(), "online", "accept", "connection_state", "remote_stream", "session_close")
	inOrder(t, "bob", bob.all(), "online", "call", "connection_state", "remote_stream", "stop", "session_close")

	pcm, err := devices.LoadAudioFile(rec)
	if err != nil {
		t.Fatalf("recording: %v", err)
	}
	if st, err := os.Stat(rec); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("recording's mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if secs := float64(len(pcm)) / 48000; secs < 1 {
		t.Errorf("recording holds %.2f s of audio, want >= 1 s", secs)
	}
	f := dominantFrequency(pcm)
	t.Logf("recorded %.2f s of audio, dominant frequency %.0f Hz", float64(len(pcm))/48000, f)
	if math.Abs(f-hz) > 15 {
		t.Errorf("recording's dominant frequency = %.0f Hz, want %.0f Hz", f, hz)
	}
}

// TestUnreadStdoutBlocksNothing: a script that stops reading stdout blocks neither the
// command loop nor SIGTERM. Thousands of bad commands make far more error events than a
// pipe holds; stdin must still be read to the end and SIGTERM must still end the process.
func TestUnreadStdoutBlocksNothing(t *testing.T) {
	e := newEnv(t, "alice")
	cmd := exec.Command(bin, "headless", "--config", e.config("alice", "", ""), "--log-level", "error")
	cmd.Env = append(os.Environ(), app.EnvLoopbackICE+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe() // never read until the end
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = stdout
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends when the process exits
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	written := make(chan error, 1)
	go func() { // ends when every line is written or stdin breaks (at the latest at cleanup)
		line := []byte(strings.Repeat("no-such-command-", 4) + "\n")
		for range 5000 {
			if _, err := stdin.Write(line); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(long):
		t.Fatal("headless stopped reading stdin while its stdout was not read")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM with stdout unread: %v, want 0", err)
		}
		exited <- err
	case <-time.After(short):
		t.Fatal("no exit within 20 s of SIGTERM while stdout was not read")
	}
}

// TestSignalWhileLoggingInAndRinging: SIGTERM before the login has finished and SIGINT
// while the placed call rings both end the process with 0; the ringing call is hung up.
func TestSignalWhileLoggingInAndRinging(t *testing.T) {
	e := newEnv(t, "alice", "carol")

	t.Run("SIGTERM logging in", func(t *testing.T) {
		// A server that accepts the connection and never answers: the login hangs.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() { // ends when ln is closed at cleanup
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				select {
				case accepted <- c:
				default:
					c.Close()
				}
			}
		}()
		t.Cleanup(func() {
			ln.Close()
			select {
			case c := <-accepted:
				c.Close()
			default:
			}
		})
		cfg := e.config("alice", "", "")
		text, err := os.ReadFile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		silent := strings.Replace(string(text), e.srv.Addr, ln.Addr().String(), 1)
		if err := os.WriteFile(cfg, []byte(silent), 0o600); err != nil {
			t.Fatal(err)
		}
		p := start(t, "alice", "--config", cfg)
		select {
		case c := <-accepted:
			accepted <- c // closed at cleanup
		case <-time.After(short):
			t.Fatal("headless did not connect to the server")
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.exit(short); code != 0 {
			t.Errorf("exit code after SIGTERM while logging in = %d, want 0", code)
		}
		for _, ev := range p.all() {
			if ev.str("event") == "online" {
				t.Errorf("online without a server: %v", ev)
			}
		}
	})

	t.Run("SIGINT ringing", func(t *testing.T) {
		carol := start(t, "carol", "--config", e.config("carol", "", ""), "--answer", "ignore")
		carol.wait(0, short, "event", "online")
		alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("carol"))
		_, callEv := carol.wait(0, short, "event", "call")
		sid := callEv.str("session")
		if err := alice.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if code := alice.exit(short); code != 0 {
			t.Errorf("alice exit code after SIGINT while ringing = %d, want 0", code)
		}
		carol.wait(0, short, "event", "stop", "session", sid, "user", e.id("alice"))
		carol.wait(0, short, "event", "session_close", "session", sid)
		carol.quit()
		alice.checkClean()
	})
}

// TestOfflineAndOnlineAgain: the server going away gives offline (with the reason), its
// return online again, and the process stays up in between.
func TestOfflineAndOnlineAgain(t *testing.T) {
	e := newEnv(t, "alice")
	alice := start(t, "alice", "--config", e.config("alice", "", ""))
	alice.wait(0, short, "event", "online")
	if err := e.srv.Kill(); err != nil {
		t.Fatal(err)
	}
	i, off := alice.wait(0, short, "event", "offline", "user", e.id("alice"))
	if off.str("message") == "" {
		t.Errorf("offline without a reason: %v", off)
	}
	if err := e.srv.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	alice.wait(i, long, "event", "online", "user", e.id("alice"))
	alice.quit()
}

// TestReconnectEvents: a peer that stops answering (SIGSTOP: its ICE consent checks
// stop) makes the other side report reconnect RECONNECTING; when it runs again, the
// connection comes back and the other side reports RECONNECTED.
func TestReconnectEvents(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto", "--echo")
	bob.wait(0, short, "event", "online")
	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"))
	_, callEv := bob.wait(0, short, "event", "call")
	sid := callEv.str("session")
	i, _ := alice.wait(0, short, "event", "connection_state", "session", sid, "state", "CONNECTED")

	if err := bob.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	cont := sync.OnceFunc(func() { bob.cmd.Process.Signal(syscall.SIGCONT) })
	t.Cleanup(cont) // before the SIGKILL of start's cleanup (cleanups run last first)
	i, rc := alice.wait(i, long, "event", "reconnect", "session", sid, "state", "RECONNECTING")
	if rc.str("user") != e.id("bob") {
		t.Errorf("reconnect event %v", rc)
	}
	cont()
	alice.wait(i, long, "event", "reconnect", "session", sid, "state", "RECONNECTED")
	alice.send("hangup")
	bob.wait(0, short, "event", "session_close", "session", sid)
	alice.quit()
	bob.quit()
}

// TestCallCommandGroupAndInvalidEvent: `call ID,ID video` on stdin places one video
// call to both; a second accept of an accepted call is refused by the engine, reported
// as invalid_event (and an error) while the call goes on.
func TestCallCommandGroupAndInvalidEvent(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto", "--echo")
	carol := start(t, "carol", "--config", e.config("carol", "", ""), "--answer", "auto", "--echo")
	alice := start(t, "alice", "--config", e.config("alice", "", ""))
	bob.wait(0, short, "event", "online")
	carol.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")

	alice.send("call " + e.id("bob") + "," + e.id("carol") + " video")
	_, callEv := bob.wait(0, short, "event", "call")
	sid := callEv.str("session")
	if callEv.str("call_type") != "video" || len(callEv["opponents"].([]any)) != 2 {
		t.Errorf("bob's call event %v, want a video call to two", callEv)
	}
	carol.wait(0, short, "event", "call", "session", sid, "call_type", "video")
	alice.wait(0, short, "event", "connection_state", "session", sid, "user", e.id("bob"), "state", "CONNECTED")
	alice.wait(0, short, "event", "connection_state", "session", sid, "user", e.id("carol"), "state", "CONNECTED")

	mark := len(bob.all())
	bob.send("accept " + sid)
	_, inv := bob.wait(mark, short, "event", "invalid_event", "session", sid)
	if inv.str("op") != "Accept" || inv.str("message") == "" {
		t.Errorf("invalid_event %v, want op Accept with a message", inv)
	}
	bob.wait(mark, short, "event", "error", "session", sid)

	alice.send("hangup")
	bob.wait(mark, short, "event", "stop", "session", sid, "user", e.id("alice"))
	carol.wait(0, short, "event", "stop", "session", sid, "user", e.id("alice"))
	alice.wait(0, short, "event", "session_close", "session", sid)
	alice.quit()
	bob.quit()
	carol.quit()
}

// TestStdoutClosedHangsUp: when the reader of stdout goes away during a call, the next
// event's write fails; the process hangs up (the peer sees stop) and exits 0 instead of
// dying of SIGPIPE mid-call.
func TestStdoutClosedHangsUp(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto", "--echo")
	bob.wait(0, short, "event", "online")

	cmd := exec.Command(bin, "headless", "--config", e.config("alice", "", ""), "--call", e.id("bob"))
	cmd.Env = append(os.Environ(), app.EnvLoopbackICE+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = outW
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // ends when the process exits
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	_, callEv := bob.wait(0, short, "event", "call")
	sid := callEv.str("session")
	bob.wait(0, short, "event", "connection_state", "session", sid, "state", "CONNECTED")

	outR.Close()                               // the script is gone
	io.WriteString(stdin, "no-such-command\n") // an event to write
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("exit after stdout closed: %v, want 0", err)
		}
	case <-time.After(short):
		t.Fatal("no exit within 20 s of stdout closing")
	}
	bob.wait(0, short, "event", "stop", "session", sid, "user", e.id("alice"))
	bob.quit()
}

// TestOfflineBeforeFirstLogin: a server that cannot be reached at start gives an offline
// event with the reason (before, a script heard nothing while the account retried), and
// SIGTERM still ends the process with 0.
func TestOfflineBeforeFirstLogin(t *testing.T) {
	e := newEnv(t, "alice")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	cfg := e.config("alice", "", "")
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(text), e.srv.Addr, closed, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	alice := start(t, "alice", "--config", cfg)
	_, off := alice.wait(0, short, "event", "offline", "user", e.id("alice"))
	if !strings.Contains(off.str("message"), "refused") {
		t.Errorf("offline event %v, want the refused connection as the message", off)
	}
	if err := alice.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := alice.exit(short); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	n := 0
	for _, ev := range alice.all() {
		if ev.str("event") == "offline" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d offline events, want 1", n)
	}
}

// --record-dir in a group call: one file per participant, each holding that
// participant's own tone.
func TestRecordDirOneFilePerParticipant(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	dir := t.TempDir()
	recDir := filepath.Join(dir, "rec")
	if err := os.Mkdir(recDir, 0o700); err != nil {
		t.Fatal(err)
	}
	toneB, toneC := filepath.Join(dir, "b.wav"), filepath.Join(dir, "c.wav")
	writeToneWAV(t, toneB, 880, 3*time.Second)
	writeToneWAV(t, toneC, 660, 3*time.Second)

	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--answer", "auto", "--record-dir", recDir, "--hangup-after", "4s", "--exit-on-close")
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto", "--play", toneB, "--hangup-after", "4s", "--exit-on-close")
	alice.wait(0, short, "event", "online")
	bob.wait(0, short, "event", "online")
	carol := start(t, "carol", "--config", e.config("carol", "", ""), "--call", e.id("alice")+","+e.id("bob"),
		"--play", toneC, "--hangup-after", "4s", "--exit-on-close")
	_, callEv := alice.wait(0, short, "event", "call")
	sid := callEv.str("session")
	alice.wait(0, long, "event", "remote_stream", "kind", "audio", "user", e.id("bob"))
	alice.wait(0, long, "event", "remote_stream", "kind", "audio", "user", e.id("carol"))
	for _, p := range []*proc{alice, bob, carol} {
		p.exit(long)
	}
	for user, hz := range map[string]float64{e.id("bob"): 880, e.id("carol"): 660} {
		path := filepath.Join(recDir, sid+"-"+user+".ogg") // IDs of letters, digits, @.-
		pcm, err := devices.LoadAudioFile(path)
		if err != nil {
			t.Errorf("%s: %v", user, err)
			continue
		}
		if f := dominantFrequency(pcm); math.Abs(f-hz) > 15 {
			t.Errorf("%s's file: dominant frequency %.0f Hz, want %.0f Hz", user, f, hz)
		}
	}
}

// powerAt is the Goertzel power of f Hz in 48 kHz samples.
func powerAt(pcm []int16, f float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*f/48000)
	var s1, s2 float64
	for _, v := range pcm {
		s := float64(v) + coeff*s1 - s2
		s2, s1 = s1, s
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// --record in a group call: one file with every participant mixed (both tones in it).
func TestRecordMixesGroupCall(t *testing.T) {
	e := newEnv(t, "alice", "bob", "carol")
	dir := t.TempDir()
	rec := filepath.Join(dir, "mix.ogg")
	toneB, toneC := filepath.Join(dir, "b.wav"), filepath.Join(dir, "c.wav")
	writeToneWAV(t, toneB, 880, 3*time.Second)
	writeToneWAV(t, toneC, 660, 3*time.Second)

	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--answer", "auto", "--record", rec, "--hangup-after", "4s", "--exit-on-close")
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto", "--play", toneB, "--hangup-after", "4s", "--exit-on-close")
	alice.wait(0, short, "event", "online")
	bob.wait(0, short, "event", "online")
	carol := start(t, "carol", "--config", e.config("carol", "", ""), "--call", e.id("alice")+","+e.id("bob"),
		"--play", toneC, "--hangup-after", "4s", "--exit-on-close")
	alice.wait(0, long, "event", "remote_stream", "kind", "audio", "user", e.id("bob"))
	alice.wait(0, long, "event", "remote_stream", "kind", "audio", "user", e.id("carol"))
	for _, p := range []*proc{alice, bob, carol} {
		p.exit(long)
	}
	pcm, err := devices.LoadAudioFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(rec); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("recording's mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	noise := powerAt(pcm, 1234)
	b, c := powerAt(pcm, 880), powerAt(pcm, 660)
	t.Logf("%.2f s; power 880 Hz %.3g, 660 Hz %.3g, 1234 Hz %.3g", float64(len(pcm))/48000, b, c, noise)
	if b < 100*noise || c < 100*noise {
		t.Errorf("the mix lacks a participant: 880 Hz %.3g, 660 Hz %.3g, noise %.3g", b, c, noise)
	}
}
