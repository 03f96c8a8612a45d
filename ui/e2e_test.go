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

	"github.com/charmbracelet/x/ansi"

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

// startTUIs starts a private Prosody with users (all in each other's rosters) and one
// ttycall interface per user in tmux, each signed in as that user with synthetic media
// and loopback-only ICE. It returns the test's directory (configs, logs, state) and the
// terminals by user; cleanup kills the tmux server and with it every ttycall. It skips
// under -short and without tmux.
func startTUIs(t *testing.T, users ...string) (string, map[string]*tmuxSession) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux not installed")
	}
	accounts := map[string]string{}
	for _, u := range users {
		accounts[u] = "pw"
	}
	srv := xmppservertest.Start(t, xmppserver.Options{Users: accounts})
	if err := srv.Befriend(users...); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfgs := map[string]string{}
	for _, u := range users {
		cfgs[u] = writeConfig(t, dir, srv, u)
	}
	if _, err := config.Load(cfgs[users[0]]); err != nil {
		t.Fatalf("config: %v", err)
	}

	bin := testbin.Path(t)

	// The server's socket lives in the test's directory, so no run leaves one behind.
	socket := filepath.Join(dir, "tmux.sock")
	sessions := map[string]*tmuxSession{}
	for _, u := range users {
		s := &tmuxSession{t: t, socket: socket, name: u, log: filepath.Join(dir, u+".log")}
		// The state directory (call history) is the test's, not the user's.
		cmdline := fmt.Sprintf("env TTYCALL_ICE_LOOPBACK=1 TERM=xterm-256color COLORTERM=truecolor XDG_STATE_HOME=%s %s --config %s --log %s; echo EXITED $?; sleep 600",
			filepath.Join(dir, u+"-state"), bin, cfgs[u], s.log)
		if _, err := s.tmux("new-session", "-d", "-s", u, "-x", "160", "-y", "45", cmdline); err != nil {
			t.Fatal(err)
		}
		if len(sessions) == 0 {
			// Registered once the server runs: it stops the server before Prosody stops.
			t.Cleanup(func() { _, _ = s.tmux("kill-server") })
		}
		sessions[u] = s
	}
	return dir, sessions
}

// waitRoster waits until the screen shows the account online and each of others online
// in the roster (on one line with its address).
func (s *tmuxSession) waitRoster(self string, others ...string) string {
	s.t.Helper()
	s.waitText(screenWait, self+"@localhost · online")
	return s.waitFor(fmt.Sprintf("%q online in the roster", others), screenWait, func(screen string) bool {
		for _, o := range others {
			found := false
			for _, l := range strings.Split(screen, "\n") {
				if strings.Contains(l, o+"@localhost") && strings.Contains(l, "online") {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	})
}

func TestEndToEndCallInTmux(t *testing.T) {
	dir, sessions := startTUIs(t, "alice", "bob")
	alice, bob := sessions["alice"], sessions["bob"]

	// Both sign in and see each other online.
	alice.show("contacts", alice.waitRoster("alice", "bob"))
	bob.waitRoster("bob", "alice")

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

// captureColour is the pane with its colours (escape sequences), for telling moving
// video from a still picture.
func (s *tmuxSession) captureColour() string {
	out, err := s.tmux("capture-pane", "-p", "-e", "-t", s.name)
	if err != nil {
		return "(capture failed: " + err.Error() + ")"
	}
	return out
}

// tileLabel finds the label of peer's tile on screen ("name (jid) · STATE"): its row and
// first column; ok is false when it is not shown.
func tileLabel(screen, peer string) (row, col int, ok bool) {
	needle := fmt.Sprintf("%[1]s (%[1]s@localhost) · ", peer)
	lines := strings.Split(screen, "\n")
	// From the bottom: the title above the tiles names the peers too.
	for i := len(lines) - 1; i >= 0; i-- {
		if j := strings.Index(lines[i], needle); j >= 0 {
			return i, ansi.StringWidth(lines[i][:j]), true
		}
	}
	return 0, 0, false
}

// tilePicture is the coloured picture above peer's label: the rows above it that hold
// video cells in the columns the label starts at ("" when the label is not shown).
func (s *tmuxSession) tilePicture(peer string) string {
	plain, colour := s.capture(), s.captureColour()
	row, col, ok := tileLabel(plain, peer)
	if !ok {
		return ""
	}
	pl, cl := strings.Split(plain, "\n"), strings.Split(colour, "\n")
	var b strings.Builder
	for r := 0; r < row && r < len(pl) && r < len(cl); r++ {
		if strings.Contains(ansi.Cut(pl[r], col, col+30), "▀") {
			b.WriteString(ansi.Cut(cl[r], col, col+30))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// waitMoving waits until peer's picture changes: the video is live, not a frozen frame
// (the test pattern's frame counter is in its top-left corner).
func (s *tmuxSession) waitMoving(peer string) {
	s.t.Helper()
	first := ""
	s.waitFor(peer+"'s video moving", screenWait, func(string) bool {
		now := s.tilePicture(peer)
		if first == "" {
			first = now
			return false
		}
		return now != "" && now != first
	})
}

// groupCallRinging starts alice, bob and carol; alice marks bob and carol and places a
// video call, and both see it ring.
func groupCallRinging(t *testing.T) (alice, bob, carol *tmuxSession) {
	t.Helper()
	_, sessions := startTUIs(t, "alice", "bob", "carol")
	alice, bob, carol = sessions["alice"], sessions["bob"], sessions["carol"]

	alice.show("contacts", alice.waitRoster("alice", "bob", "carol"))
	bob.waitRoster("bob", "alice", "carol")
	carol.waitRoster("carol", "alice", "bob")

	// Alice marks bob and carol (space marks and moves down) and places a video call.
	alice.keys("Space")
	alice.waitText(screenWait, "1 marked")
	alice.keys("Space")
	alice.show("two marked", alice.waitText(screenWait, "2 marked"))
	alice.keys("Enter")
	alice.show("calling", alice.waitText(screenWait, "video call with bob (bob@localhost), carol (carol@localhost)"))

	// Each callee's prompt names the caller and the other participant.
	bob.show("incoming", bob.waitText(screenWait, "Incoming video call from alice (alice@localhost)", "with carol (carol@localhost)", "ringing for"))
	carol.show("incoming", carol.waitText(screenWait, "Incoming video call from alice (alice@localhost)", "with bob (bob@localhost)", "ringing for"))
	return alice, bob, carol
}

// inGroupCall accepts a screen of a video call where each of peers is CONNECTED and
// sends a picture, with video cells drawn.
func inGroupCall(peers ...string) func(string) bool {
	return func(s string) bool {
		for _, p := range peers {
			if !strings.Contains(s, fmt.Sprintf("%[1]s (%[1]s@localhost) · CONNECTED", p)) {
				return false
			}
		}
		return !strings.Contains(s, "no video") && !strings.Contains(s, "waiting for video") &&
			strings.Count(s, "▀") > 40*(len(peers)+1)
	}
}

// left: p's tile has left the layout and the title no longer names them.
func left(p string) func(string) bool {
	return func(s string) bool {
		title, _, _ := strings.Cut(s, "\n")
		return !strings.Contains(s, fmt.Sprintf("%[1]s (%[1]s@localhost) · ", p)) && !strings.Contains(title, p)
	}
}

// TestEndToEndGroupCallInTmux: alice calls bob and carol together; both accept; the
// mesh connects every pair; bob leaves and alice and carol go on; alice hangs up.
func TestEndToEndGroupCallInTmux(t *testing.T) {
	alice, bob, carol := groupCallRinging(t)
	bob.keys("y")
	carol.keys("y")

	// Every screen: both opponents CONNECTED (bob and carol connect to each other too),
	// a picture in each tile, and video cells.
	others := map[*tmuxSession][]string{alice: {"bob", "carol"}, bob: {"alice", "carol"}, carol: {"alice", "bob"}}
	for _, s := range []*tmuxSession{alice, bob, carol} {
		s.show("in a group call", s.waitFor("both opponents CONNECTED with video", screenWait, inGroupCall(others[s]...)))
	}
	for _, s := range []*tmuxSession{alice, bob, carol} {
		for _, p := range others[s] {
			s.waitMoving(p)
		}
	}

	// Bob hangs up: he is back on his contacts; alice and carol see him gone and go on
	// with each other, their video still moving; his tile says HUNG UP.
	bob.keys("h")
	bob.show("after hanging up", bob.waitFor("contacts after hang up", screenWait, func(s string) bool {
		return strings.Contains(s, "ttycall · contacts") && strings.Contains(s, "call ended") && !strings.Contains(s, "▀")
	}))
	// Bob's tile leaves the layout (no frozen last frame of someone gone) and the
	// title stops naming him.
	alice.show("bob left", alice.waitFor("bob gone, carol CONNECTED", screenWait, func(s string) bool {
		return left("bob")(s) && inGroupCall("carol")(s)
	}))
	carol.show("bob left", carol.waitFor("bob gone, alice CONNECTED", screenWait, func(s string) bool {
		return left("bob")(s) && inGroupCall("alice")(s)
	}))
	alice.waitMoving("carol")
	carol.waitMoving("alice")

	// Alice hangs up: the call is over for carol too.
	alice.keys("h")
	back := func(s string) bool {
		return strings.Contains(s, "ttycall · contacts") && !strings.Contains(s, "CONNECTED") &&
			strings.Contains(s, "call ended") && !strings.Contains(s, "▀")
	}
	alice.show("after hang up", alice.waitFor("contacts after hang up", screenWait, back))
	carol.show("after hang up", carol.waitFor("contacts after hang up", screenWait, back))
	carol.waitText(screenWait, "call ended: alice (alice@localhost) hung up")

	// Each history names the group.
	for _, s := range []*tmuxSession{alice, bob, carol} {
		s.keys("Tab")
	}
	alice.waitText(screenWait, "placed", "bob", "carol")
	bob.waitText(screenWait, "received", "alice", "carol")
	carol.show("history", carol.waitText(screenWait, "received", "alice", "bob"))

	for _, s := range []*tmuxSession{alice, bob, carol} {
		s.keys("q")
	}
	for _, s := range []*tmuxSession{alice, bob, carol} {
		s.waitText(screenWait, "EXITED 0")
	}
}

// TestEndToEndGroupCallOneRejects: carol rejects while the call still rings for bob;
// his prompt says so; he accepts: alice and bob talk, and carol's tile says REJECTED on
// both their screens (on bob's it said CONNECTING for ever: the prompt dropped the
// reject).
func TestEndToEndGroupCallOneRejects(t *testing.T) {
	alice, bob, carol := groupCallRinging(t)
	carol.keys("n")
	bob.show("carol rejected", bob.waitText(screenWait, "Incoming video call from alice", "with carol (carol@localhost) · rejected"))
	bob.keys("y")
	carol.show("after rejecting", carol.waitFor("contacts after rejecting", screenWait, func(s string) bool {
		return strings.Contains(s, "ttycall · contacts") && !strings.Contains(s, "Incoming") &&
			strings.Contains(s, "rejected the call from alice (alice@localhost)")
	}))
	// Carol's tile leaves both layouts (it said CONNECTING for ever on bob's once).
	alice.show("carol rejected", alice.waitFor("carol gone, bob CONNECTED", screenWait, func(s string) bool {
		return left("carol")(s) && inGroupCall("bob")(s)
	}))
	bob.show("in the call", bob.waitFor("carol gone, alice CONNECTED", screenWait, func(s string) bool {
		return left("carol")(s) && inGroupCall("alice")(s)
	}))
	alice.waitMoving("bob")
	bob.waitMoving("alice")

	// Alice hangs up: bob is told who ended the call.
	alice.keys("h")
	back := func(s string) bool {
		return strings.Contains(s, "ttycall · contacts") && strings.Contains(s, "call ended") && !strings.Contains(s, "▀")
	}
	alice.waitFor("contacts after hang up", screenWait, back)
	bob.waitFor("contacts after hang up", screenWait, back)
	bob.waitText(screenWait, "call ended: alice (alice@localhost) hung up")
	carol.keys("Tab")
	carol.show("history", carol.waitText(screenWait, "rejected", "alice", "bob"))
}

// TestEndToEndNarrowTerminals: alice at 80x24, bob at 60x20. The hint lines keep the
// essential keys, alice sees "Calling bob…", bob's incoming prompt takes every key (a,
// j, Enter start no call under it), and the call connects and ends.
func TestEndToEndNarrowTerminals(t *testing.T) {
	_, sessions := startTUIs(t, "alice", "bob")
	alice, bob := sessions["alice"], sessions["bob"]
	for s, size := range map[*tmuxSession][2]string{alice: {"80", "24"}, bob: {"60", "20"}} {
		if out, err := s.tmux("resize-window", "-t", s.name, "-x", size[0], "-y", size[1]); err != nil {
			t.Fatalf("resize: %v: %s", err, out)
		}
	}
	alice.show("contacts at 80x24", alice.waitRoster("alice", "bob"))
	bob.waitRoster("bob", "alice")
	alice.waitText(screenWait, "enter/v video call", "? help", "q quit")
	bob.waitText(screenWait, "enter/v", "? help", "q quit")

	alice.keys("Enter")
	alice.show("calling", alice.waitText(screenWait, "Calling bob…", "(h to cancel)", "h hang up", "? help", "q quit"))
	bob.show("incoming at 60x20", bob.waitText(screenWait, "Incoming video call from alice", "y accept"))
	bob.keys("a", "j", "Enter", "v")
	bob.waitText(screenWait, "Incoming video call from alice")
	if s := bob.capture(); strings.Contains(s, "call with") {
		t.Fatalf("a key under the prompt started a call:\n%s", s)
	}
	bob.keys("y")
	alice.show("in the call", alice.waitText(screenWait, "bob (bob@localhost) · CONNECTED"))
	bob.show("in the call at 60x20", bob.waitText(screenWait, "alice (alice@localhost) · CONNECTED", "h hang up", "q quit"))

	alice.keys("h")
	alice.waitText(screenWait, "ttycall · contacts", "call ended")
	bob.waitText(screenWait, "ttycall · contacts", "call ended")
	alice.keys("q")
	bob.keys("q")
	alice.waitText(screenWait, "EXITED 0")
	bob.waitText(screenWait, "EXITED 0")
}
