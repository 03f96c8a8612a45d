package janus

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/testbin"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// TestTUIRoom: the terminal interface in tmux joins a room with r, shows the other
// participant's tile with its name, and is seen by that participant (a headless
// process) with its media; h leaves, and the participant sees it go.
func TestTUIRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: -short")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux missing: run scripts/setup.sh")
		}
		t.Skip("tmux not installed")
	}
	s := startJanus(t, janusserver.Room{ID: "acc"})
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"tui": "pw"}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ann := startTty(t, s, "acc", "ann", TtyOpts{Video: true, Stats: 300 * time.Millisecond})
	ann.WaitFor(ctx, "room_joined", Has("event", "room_joined"))

	tui := startTUI(t, ctx, s, srv)
	waitScreen, keys := tui.waitScreen, tui.keys
	waitScreen("contacts screen", "contacts")
	keys("r")
	waitScreen("room prompt", "join room:")
	keys("acc", "Enter")
	waitScreen("ann's tile", "room acc", "ann")
	ann.WaitFor(ctx, "the TUI joining", Has("event", "participant_joined", "display", "tui"))
	ann.WaitFor(ctx, "the TUI's media", receivesFrom("tui", true))
	waitScreen("ann connected", "ann · CONNECTED")
	keys("h")
	waitScreen("back on contacts", "ttycall · contacts")
	ann.WaitFor(ctx, "the TUI leaving", Has("event", "participant_left", "display", "tui"))
}

// TUI is the terminal interface running in tmux.
type TUI struct {
	t          testing.TB
	ctx        context.Context
	tmux       func(args ...string) (string, error)
	logPath    string
	waitScreen func(what string, texts ...string)
	keys       func(k ...string)
}

// startTUI runs `ttycall` signed in as tui@ srv's domain with s as its conference
// server, in a tmux of 160x45 cells; cleanup kills tmux and with it ttycall.
func startTUI(t testing.TB, ctx context.Context, s *janusserver.Server, srv *xmppserver.Server) *TUI {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tui.toml")
	text := fmt.Sprintf("[account]\njid = \"tui@%s\"\npassword = \"pw\"\nserver = %q\nca_file = %q\nresource = \"ttycall\"\n\n"+
		"[conference]\nserver = %q\n\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\nwidth = 160\nheight = 120\nfps = 15\n\n[ui]\nrender = \"halfblock\"\nmax_fps = 10\n",
		srv.Domain, srv.Addr, srv.CAFile, s.URL)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "tmux.sock")
	logPath := filepath.Join(dir, "tui.log")
	tmux := func(args ...string) (string, error) {
		var out, errb bytes.Buffer
		cmd := exec.Command("tmux", append([]string{"-S", socket, "-f", "/dev/null"}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("tmux %v: %w: %s", args, err, errb.String())
		}
		return out.String(), nil
	}
	cmdline := fmt.Sprintf("env TTYCALL_ICE_LOOPBACK=1 TTYCALL_ICE_TEST_ADDRS=%s TERM=xterm-256color COLORTERM=truecolor XDG_STATE_HOME=%s %s --config %s --log %s; echo EXITED $?; sleep 600",
		janusserver.ICEAddress(), filepath.Join(dir, "state"), testbin.Path(t), cfg, logPath)
	if _, err := tmux("new-session", "-d", "-s", "tui", "-x", "160", "-y", "45", cmdline); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = tmux("kill-server") })
	screen := func() string { out, _ := tmux("capture-pane", "-p", "-t", "tui"); return out }
	waitScreen := func(what string, texts ...string) {
		t.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			sc := screen()
			ok := true
			for _, x := range texts {
				ok = ok && strings.Contains(sc, x)
			}
			if ok {
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				b, _ := os.ReadFile(logPath)
				t.Fatalf("tui: no %s; screen:\n%s\nlog:\n%s", what, sc, tail(string(b), 3000))
			}
		}
	}
	keys := func(k ...string) {
		t.Helper()
		if _, err := tmux(append([]string{"send-keys", "-t", "tui"}, k...)...); err != nil {
			t.Fatal(err)
		}
	}
	return &TUI{t: t, ctx: ctx, tmux: tmux, logPath: logPath, waitScreen: waitScreen, keys: keys}
}

// pid is the ttycall process in the tmux pane (the pane runs a shell around it).
func (u *TUI) pid() int {
	out, err := u.tmux("list-panes", "-F", "#{pane_pid}")
	if err != nil {
		return 0
	}
	var shell int
	fmt.Sscan(strings.TrimSpace(out), &shell)
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", shell, shell))
	var child int
	fmt.Sscan(string(b), &child)
	return child
}
