package demo_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/testbin"
)

// bin is the ttycall binary, built once by TestMain.
var bin string

func TestMain(m *testing.M) { testbin.Run(m, &bin) }

// TestDemoServesBobAndStopsEverything runs `ttycall demo --no-ui`, calls the echo bot as
// bob with the printed config, then stops the demo with SIGINT and checks that the bot
// and the server are gone.
func TestDemoServesBobAndStopsEverything(t *testing.T) {
	if _, err := exec.LookPath("prosody"); err != nil {
		if os.Getenv("CI") == "true" { // make test installs it: a green CI must not hide that it did not
			t.Fatal("prosody is not installed")
		}
		t.Skip("prosody is not installed (run scripts/setup.sh)")
	}
	dir := filepath.Join(t.TempDir(), "demo")
	demo := exec.Command(bin, "demo", "--no-ui", "--dir", dir)
	demo.Env = append(os.Environ(), app.EnvLoopbackICE+"=1")
	// SIGTERM when the test binary dies without its cleanups: the demo then stops the
	// bot and the server as on Ctrl-C.
	demo.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := demo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	demo.Stderr = os.Stderr
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 64)
	// Reads the demo's output until it exits, then reaps it. Lines nobody waits for any
	// more are dropped, so that nothing keeps it from Wait.
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		exited <- demo.Wait()
	}()
	t.Cleanup(func() {
		select {
		case err := <-exited:
			exited <- err
		default:
			// Killed, the demo's children go too (their Pdeathsig): the bot and Prosody.
			demo.Process.Kill()
			<-exited
		}
	})

	var serverAddr, bobConfig string
	botPID := 0
	reServer := regexp.MustCompile(`Prosody on (\S+) `)
	reBot := regexp.MustCompile(`echo bot online \(pid (\d+)`)
	reBob := regexp.MustCompile(`--config (\S+bob\.toml)`)
	deadline := time.After(30 * time.Second)
	for bobConfig == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				err := <-exited
				exited <- err // for the cleanup
				t.Fatalf("demo exited early: %v", err)
			}
			t.Log(l)
			if m := reServer.FindStringSubmatch(l); m != nil {
				serverAddr = m[1]
			}
			if m := reBot.FindStringSubmatch(l); m != nil {
				botPID, _ = strconv.Atoi(m[1])
			}
			if m := reBob.FindStringSubmatch(l); m != nil {
				bobConfig = m[1]
			}
		case <-deadline:
			t.Fatal("the demo did not print bob's config within 30 s")
		}
	}
	if serverAddr == "" || botPID == 0 {
		t.Fatalf("server %q, bot pid %d not printed", serverAddr, botPID)
	}

	// Bob calls the echo bot with video and hangs up after 1 s.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	bob := exec.CommandContext(ctx, bin, "headless", "--config", bobConfig, "--call", "echo@localhost", "--video", "--hangup-after", "1s", "--exit-on-close")
	bob.Env = append(os.Environ(), app.EnvLoopbackICE+"=1")
	bob.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	bobOut, err := bob.Output()
	if err != nil {
		t.Fatalf("bob: %v\n%s", err, bobOut)
	}
	kinds := map[string]bool{}
	connected := false
	sc := bufio.NewScanner(bytes.NewReader(bobOut))
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bob's stdout: %q: %v", sc.Text(), err)
		}
		if ev["event"] == "remote_stream" {
			kinds[ev["kind"].(string)] = true
		}
		if ev["event"] == "connection_state" && ev["state"] == "CONNECTED" {
			connected = true
		}
	}
	if !connected || !kinds["audio"] || !kinds["video"] {
		t.Errorf("bob's call to echo: connected %v, remote streams %v\n%s", connected, kinds, bobOut)
	}

	// Ctrl-C stops the demo, the bot and the server.
	if err := demo.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Errorf("demo exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not exit within 30 s of SIGINT")
	}
	if err := syscall.Kill(botPID, 0); err == nil {
		t.Errorf("echo bot (pid %d) still running", botPID)
	}
	if c, err := net.DialTimeout("tcp", serverAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("Prosody still accepting on %s", serverAddr)
	}
}

// TestDemoQuitFromInterfaceStopsEverything runs `ttycall demo` with its interface in a
// tmux terminal, waits for alice's contacts (echo online), presses q, and checks that
// the demo exits 0 having stopped the echo bot and the server.
func TestDemoQuitFromInterfaceStopsEverything(t *testing.T) {
	for _, tool := range []string{"prosody", "tmux"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed", tool)
			}
			t.Skipf("%s is not installed (run scripts/setup.sh)", tool)
		}
	}
	dir := filepath.Join(t.TempDir(), "demo")
	socket := "ttycall-demo-test"
	sockDir := t.TempDir() // TMUX_TMPDIR: the server's socket goes with the test
	tmux := func(ctx context.Context, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "tmux", append([]string{"-L", socket, "-f", "/dev/null"}, args...)...)
		cmd.Env = append(os.Environ(), "TMUX_TMPDIR="+sockDir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	// The shell reports the demo's exit code, then signals the test through tmux.
	script := fmt.Sprintf(`%s=1 %q demo --dir %q; echo $? > %q; tmux -L %s wait-for -S demo-done; sleep 60`,
		app.EnvLoopbackICE, bin, dir, dir+".exit", socket)
	if out, err := tmux(ctx, "new-session", "-d", "-s", "demo", "-x", "120", "-y", "40", script); err != nil {
		t.Fatalf("tmux: %v: %s", err, out)
	}
	// Killing the server hangs the demo up (SIGHUP): its children go with it (Pdeathsig).
	t.Cleanup(func() { tmux(context.Background(), "kill-server") })

	var screen string
	poll := time.NewTicker(100 * time.Millisecond)
	defer poll.Stop()
	for !strings.Contains(screen, "echo@localhost online") {
		select {
		case <-poll.C:
		case <-ctx.Done():
			t.Fatalf("no contacts screen with echo online; screen:\n%s", screen)
		}
		screen, _ = tmux(ctx, "capture-pane", "-p", "-t", "demo")
	}
	// How to join as bob is on the screen (the alternate screen hides what the demo
	// printed before), and in the help.
	if !strings.Contains(screen, "To join as bob:") || !strings.Contains(screen, "bob.toml") {
		t.Errorf("no join line on the screen:\n%s", screen)
	}
	if out, err := tmux(ctx, "send-keys", "-t", "demo", "j"); err != nil { // clears the notice
		t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
	if out, err := tmux(ctx, "send-keys", "-t", "demo", "?"); err != nil {
		t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
	for !strings.Contains(screen, "log file:") {
		select {
		case <-poll.C:
		case <-ctx.Done():
			t.Fatalf("no help; screen:\n%s", screen)
		}
		screen, _ = tmux(ctx, "capture-pane", "-p", "-t", "demo")
	}
	if !strings.Contains(screen, "To join as bob:") {
		t.Errorf("no join line in the help:\n%s", screen)
	}
	logText, err := os.ReadFile(filepath.Join(dir, "demo.log"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`echo bot started"? pid=(\d+)`).FindSubmatch(logText)
	if m == nil {
		t.Fatalf("demo.log names no echo bot pid:\n%s", logText)
	}
	botPID, _ := strconv.Atoi(string(m[1]))
	bobText, err := os.ReadFile(filepath.Join(dir, "bob.toml"))
	if err != nil {
		t.Fatal(err)
	}
	sm := regexp.MustCompile(`server = "([^"]+)"`).FindSubmatch(bobText)
	if sm == nil {
		t.Fatalf("bob.toml names no server:\n%s", bobText)
	}

	if out, err := tmux(ctx, "send-keys", "-t", "demo", "q"); err != nil {
		t.Fatalf("tmux send-keys: %v: %s", err, out)
	}
	if out, err := tmux(ctx, "wait-for", "demo-done"); err != nil {
		t.Fatalf("the demo did not exit after q: %v: %s", err, out)
	}
	if code, err := os.ReadFile(dir + ".exit"); err != nil || strings.TrimSpace(string(code)) != "0" {
		t.Errorf("demo exit code %q (%v), want 0", code, err)
	}
	if err := syscall.Kill(botPID, 0); err == nil {
		t.Errorf("echo bot (pid %d) still running", botPID)
	}
	if c, err := net.DialTimeout("tcp", string(sm[1]), time.Second); err == nil {
		c.Close()
		t.Errorf("Prosody still accepting on %s", sm[1])
	}
}
