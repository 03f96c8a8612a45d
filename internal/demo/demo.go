// Package demo runs `make demo`: a private Prosody on loopback with the accounts alice,
// bob and echo (each in the others' rosters), an echo bot (this binary in headless mode,
// auto-answering with --echo --video), and the terminal interface signed in as alice.
// Quitting the interface (or Ctrl-C) stops everything the demo started.
package demo

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/ui"
)

// Users are the demo's accounts; each password is the user name.
var Users = []string{"alice", "bob", "echo"}

// Main runs `ttycall demo` and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ttycall demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "keep the demo's files here (default: a temporary directory removed at exit)")
	noUI := fs.Bool("no-ui", false, "start the server and the echo bot, print how to connect, wait for Ctrl-C")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := run(ctx, *dir, *noUI, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "ttycall demo:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, dir string, noUI bool, stdout, stderr io.Writer) (err error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "ttycall-demo-")
		if err != nil {
			return fmt.Errorf("demo dir: %w", err)
		}
		dir = d
		defer os.RemoveAll(d)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo dir: %w", err)
	}
	logPath := filepath.Join(dir, "demo.log")
	log, logCloser, err := app.OpenLog(logPath, slog.LevelDebug, stderr)
	if err != nil {
		return err
	}
	defer logCloser.Close()

	users := map[string]string{}
	for _, u := range Users {
		users[u] = u
	}
	// Prosody needs its own directory, writable by the prosody user when run as root.
	srv, err := xmppserver.Start(ctx, xmppserver.Options{Users: users, Dir: filepath.Join(dir, "prosody"), Logger: log.With("part", "prosody")})
	if err != nil {
		return fmt.Errorf("start prosody: %w", err)
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			log.Warn("stop prosody", "err", err)
		}
	}()
	if err := srv.Befriend(Users...); err != nil {
		return fmt.Errorf("rosters: %w", err)
	}

	paths := map[string]string{}
	for _, u := range Users {
		p := filepath.Join(dir, u+".toml")
		if err := os.WriteFile(p, []byte(ConfigFile(srv, u)), 0o600); err != nil {
			return fmt.Errorf("write config: %w", err)
		}
		paths[u] = p
	}

	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("own executable: %w", err)
	}
	bot, err := startEchoBot(ctx, exe, paths["echo"], dir, log)
	if err != nil {
		return err
	}
	defer bot.stop(log)

	fmt.Fprintf(stdout, "ttycall demo: Prosody on %s (domain %s) with alice, bob and echo (password = name)\n", srv.Addr, srv.Domain)
	fmt.Fprintf(stdout, "  echo bot online (pid %d, events %s)\n", bot.cmd.Process.Pid, bot.eventsPath)
	fmt.Fprintf(stdout, "  log %s\n", logPath)
	join := fmt.Sprintf("To join as bob: %s --config %s", exe, paths["bob"])
	fmt.Fprintf(stdout, "To join as bob, open a second terminal and run:\n  %s --config %s\n", exe, paths["bob"])

	if !noUI {
		cfg, err := config.Load(paths["alice"])
		if err != nil {
			return fmt.Errorf("alice's config: %w", err)
		}
		// The demo's call history stays with the demo, not in the user's own.
		if err := os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state")); err != nil {
			return fmt.Errorf("demo state dir: %w", err)
		}
		// The interface's alternate screen hides what was printed: it shows how to join
		// at start and in its help.
		if err := ui.Run(ctx, cfg, filepath.Join(dir, "alice.log"), ui.Extra{HelpNote: join + " (in a second terminal)"}); err != nil {
			return fmt.Errorf("ui: %w", err)
		}
		return nil
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop the demo.")
	select {
	case <-ctx.Done():
	case <-bot.exited:
		return errors.New("the echo bot exited; see " + bot.logPath)
	}
	return nil
}

// ConfigFile is the TOML config of a demo user on srv.
func ConfigFile(srv *xmppserver.Server, user string) string {
	limit := 1
	if user == "echo" {
		limit = 8 // alice and bob may both call it
	}
	return fmt.Sprintf(`# ttycall demo account %[1]s (written by ttycall demo)
[account]
jid = "%[1]s@%[2]s"
password = "%[1]s"
server = "%[3]s"
tls = "starttls"
ca_file = "%[4]s"
resource = "ttycall"

[calls]
incoming_limit = %[5]d

[media]
camera = "test:%[1]s"
microphone = "test"
`, user, srv.Domain, srv.Addr, srv.CAFile, limit)
}

// echoBot is the headless echo process.
type echoBot struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	exited     chan struct{} // closed when the process has exited
	eventsPath string
	logPath    string
}

// startEchoBot starts `ttycall headless --answer auto --echo --video` as echo and waits
// until it is online.
func startEchoBot(ctx context.Context, exe, cfgPath, dir string, log *slog.Logger) (*echoBot, error) {
	b := &echoBot{
		exited:     make(chan struct{}),
		eventsPath: filepath.Join(dir, "echo-events.jsonl"),
		logPath:    filepath.Join(dir, "echo.log"),
	}
	events, err := os.Create(b.eventsPath)
	if err != nil {
		return nil, fmt.Errorf("echo bot: %w", err)
	}
	cmd := exec.Command(exe, "headless", "--config", cfgPath, "--answer", "auto", "--echo", "--video", "--log", b.logPath, "--log-level", "debug")
	// Its own process group: Ctrl-C reaches the demo, which stops the bot in order.
	// Pdeathsig: the bot never outlives a demo that was killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Stderr = nil
	out, err := cmd.StdoutPipe()
	if err != nil {
		events.Close()
		return nil, fmt.Errorf("echo bot: %w", err)
	}
	if b.stdin, err = cmd.StdinPipe(); err != nil {
		events.Close()
		return nil, fmt.Errorf("echo bot: %w", err)
	}
	if err := cmd.Start(); err != nil {
		events.Close()
		return nil, fmt.Errorf("echo bot: %w", err)
	}
	b.cmd = cmd
	log.Info("echo bot started", "pid", cmd.Process.Pid)

	online := make(chan struct{})
	// Copies the bot's events to a file; ends at the bot's exit (EOF), then reaps it.
	go func() {
		defer close(b.exited)
		sc := bufio.NewScanner(out)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(events, line)
			if !seen && strings.Contains(line, `"event":"online"`) {
				seen = true
				close(online)
			}
		}
		events.Close()
		err := cmd.Wait()
		log.Info("echo bot exited", "err", err)
	}()

	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	select {
	case <-online:
		return b, nil
	case <-b.exited:
		return nil, fmt.Errorf("echo bot exited before going online; see %s", b.logPath)
	case <-timeout.C:
		b.stop(log)
		return nil, fmt.Errorf("echo bot not online after 20 s; see %s", b.logPath)
	case <-ctx.Done():
		b.stop(log)
		return nil, ctx.Err()
	}
}

// stop sends the bot SIGTERM (it hangs up and exits), kills it after 5 s, and waits.
func (b *echoBot) stop(log *slog.Logger) {
	b.stdin.Close()
	select {
	case <-b.exited:
		return
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-b.exited:
	case <-t.C:
		log.Warn("echo bot ignored SIGTERM; killing it")
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}
