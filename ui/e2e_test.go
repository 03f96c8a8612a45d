package ui_test

// The end-to-end test runs two ttycall binaries in tmux against a private Prosody with
// synthetic media and loopback-only ICE, and drives them with keys.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/testbin"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// tmuxSession is one terminal running ttycall.
type tmuxSession struct {
	t      *testing.T
	socket string // path of the tmux server's socket
	name   string
	log    string
}

func (s *tmuxSession) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", s.socket, "-f", "/dev/null"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("tmux %v: %w: %s", args, err, errb.String())
	}
	return out.String(), nil
}

func (s *tmuxSession) capture() string {
	out, err := s.tmux("capture-pane", "-p", "-t", s.name)
	if err != nil {
		return "(capture failed: " + err.Error() + ")"
	}
	return out
}

func (s *tmuxSession) keys(keys ...string) {
	s.t.Helper()
	if _, err := s.tmux(append([]string{"send-keys", "-t", s.name}, keys...)...); err != nil {
		s.t.Fatal(err)
	}
}

// waitFor polls the screen until ok accepts it or the deadline passes.
func (s *tmuxSession) waitFor(what string, d time.Duration, ok func(string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for {
		screen := s.capture()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			logTail, _ := os.ReadFile(s.log)
			if len(logTail) > 4000 {
				logTail = logTail[len(logTail)-4000:]
			}
			s.t.Fatalf("%s: waited %s for %s; screen:\n%s\nlog tail:\n%s", s.name, d, what, screen, logTail)
		}
		<-poll.C
	}
}

func (s *tmuxSession) waitText(d time.Duration, texts ...string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", texts), d, func(screen string) bool {
		for _, t := range texts {
			if !strings.Contains(screen, t) {
				return false
			}
		}
		return true
	})
}

// show logs a captured screen of a main state (seen with -v; never compared to a golden).
func (s *tmuxSession) show(state, screen string) {
	s.t.Logf("%s, %s:\n%s", s.name, state, screen)
}

func writeConfig(t *testing.T, dir string, srv *xmppserver.Server, user string) string {
	t.Helper()
	p := filepath.Join(dir, user+".toml")
	text := fmt.Sprintf(`[account]
jid = "%[1]s@%[2]s"
password = "pw"
server = "%[3]s"
tls = "starttls"
ca_file = "%[4]s"
resource = "ttycall"

[calls]
incoming_limit = 1
stats_report_time_interval = 1

[media]
camera = "test"
microphone = "test"
width = 320
height = 240
fps = 15

[ui]
render = "halfblock"
max_fps = 10
`, user, srv.Domain, srv.Addr, srv.CAFile)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// screenWait bounds the wait for a screen to react (keys, events). It only ends a
// failing run: a loaded 2-core machine running other tests must not fail a good one.
const screenWait = 30 * time.Second

func TestEndToEndCallInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "pw", "bob": "pw"}})
	if err := srv.Befriend("alice", "bob"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgs := map[string]string{}
	for _, u := range []string{"alice", "bob"} {
		cfgs[u] = writeConfig(t, dir, srv, u)
	}
	if _, err := config.Load(cfgs["alice"]); err != nil {
		t.Fatalf("config: %v", err)
	}

	bin := testbin.Path(t)

	// The server's socket lives in the test's directory, so no run leaves one behind.
	socket := filepath.Join(dir, "tmux.sock")
	sessions := map[string]*tmuxSession{}
	for _, u := range []string{"alice", "bob"} {
		s := &tmuxSession{t: t, socket: socket, name: u, log: filepath.Join(dir, u+".log")}
		// The state directory (call history) is the test's, not the user's.
		cmdline := fmt.Sprintf("env TTYCALL_ICE_LOOPBACK=1 TERM=xterm-256color COLORTERM=truecolor XDG_STATE_HOME=%s %s --config %s --log %s; echo EXITED $?; sleep 600",
			filepath.Join(dir, u+"-state"), bin, cfgs[u], s.log)
		if _, err := s.tmux("new-session", "-d", "-s", u, "-x", "160", "-y", "45", cmdline); err != nil {
			t.Fatal(err)
		}
		sessions[u] = s
	}
	t.Cleanup(func() { _, _ = sessions["alice"].tmux("kill-server") })
	alice, bob := sessions["alice"], sessions["bob"]

	// Both sign in and see each other online.
	alice.waitText(screenWait, "alice@localhost · online", "bob", "online")
	bob.waitText(screenWait, "bob@localhost · online", "alice", "online")
	contacts := alice.waitFor("bob online in the roster", screenWait, func(s string) bool {
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, "bob@localhost") && strings.Contains(l, "online") {
				return true
			}
		}
		return false
	})

	alice.show("contacts", contacts)

	// Alice calls Bob (the only contact, under the cursor).
	alice.keys("Enter")
	alice.show("calling", alice.waitText(screenWait, "video call with bob"))
	bob.show("incoming", bob.waitText(screenWait, "Incoming video call from", "alice", "ringing for"))

	// Bob accepts with video.
	bob.keys("y")
	// CONNECTED, and video cells in the remote tile as well as the local preview.
	isVideo := func(s string) bool {
		return strings.Contains(s, "CONNECTED") && !strings.Contains(s, "no video") &&
			!strings.Contains(s, "waiting for video") && strings.Count(s, "▀") > 40
	}
	alice.show("in call", alice.waitFor("CONNECTED and video cells", screenWait, isVideo))
	bob.show("in call", bob.waitFor("CONNECTED and video cells", screenWait, isVideo))
	bob.waitText(screenWait, "video call with alice")

	// A resize during the call: the video and the state follow the new size.
	if _, err := alice.tmux("resize-window", "-t", "alice", "-x", "100", "-y", "30"); err != nil {
		t.Fatal(err)
	}
	alice.show("resized to 100x30", alice.waitFor("the call at 100x30", screenWait, func(s string) bool {
		lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
		return len(lines) <= 30 && isVideo(s) && strings.Contains(s, "bob (bob@localhost) · CONNECTED")
	}))

	// The stats overlay and the event log.
	bob.keys("s")
	bob.keys("l")
	bob.show("stats and log", bob.waitText(screenWait, "stats", "alice (alice@localhost) CONNECTED", "RTT", "candidate host→host/udp"))

	// Bob mutes his microphone.
	bob.keys("m")
	bob.waitText(screenWait, "mic muted")

	// Alice hangs up; both return to the contacts.
	alice.keys("h")
	back := func(s string) bool {
		// No video cell may be left behind on the contacts screen.
		return strings.Contains(s, "ttycall · contacts") && !strings.Contains(s, "CONNECTED") && strings.Contains(s, "call ended") &&
			!strings.Contains(s, "▀")
	}
	alice.waitFor("contacts after hang up", screenWait, back)
	bob.show("after hang up", bob.waitFor("contacts after hang up", screenWait, back))

	// The history shows the call on both sides.
	alice.keys("Tab")
	alice.waitText(screenWait, "placed", "video", "bob")
	bob.keys("Tab")
	bob.waitText(screenWait, "received", "video", "alice")

	// q quits cleanly.
	alice.keys("q")
	bob.keys("q")
	alice.waitText(screenWait, "EXITED 0")
	bob.waitText(screenWait, "EXITED 0")

	// The call is in each one's history file.
	for u, want := range map[string]string{"alice": `"kind": "placed"`, "bob": `"kind": "received"`} {
		b, err := os.ReadFile(filepath.Join(dir, u+"-state", "ttycall", "history.json"))
		if err != nil || !bytes.Contains(b, []byte(want)) {
			t.Fatalf("%s's history file lacks %s: %v\n%s", u, want, err, b)
		}
	}
}
