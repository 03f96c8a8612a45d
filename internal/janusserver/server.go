package janusserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrNoJanus is returned by Start when the janus binary is not installed.
var ErrNoJanus = errors.New("janusserver: janus is not installed (run scripts/setup.sh)")

// Room is one VideoRoom room of the generated config.
type Room struct {
	// ID is the room's string ID (the config sets string_ids = true).
	ID          string
	Description string
	// Pin is needed to join; Secret to edit or destroy. Empty: none.
	Pin, Secret string
	// Publishers is the most concurrent publishers; default 16.
	Publishers int
	// Bitrate caps each publisher's video (bit/s); default 256000.
	Bitrate int
	// FIRFreq is how often (s) Janus asks publishers for a key frame; default 10.
	FIRFreq int
}

// Options configure a server.
type Options struct {
	// Rooms are written into the VideoRoom config; default one room "test".
	Rooms []Room
	// ICEAddress is the only local address Janus gathers candidates on (its
	// ice_enforce_list). Empty: Janus uses every non-loopback interface, which a test
	// must not do; set it to an address inside a namespace of the test's own.
	ICEAddress string
	// Dir holds config and log; default a fresh temporary directory that Stop removes.
	Dir string
	// SessionTimeout is Janus' session_timeout (seconds); default 60.
	SessionTimeout int
	// StartTimeout bounds the wait for the WebSocket port; default 10 s.
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// Server is a running Janus.
type Server struct {
	// URL is the WebSocket API endpoint, "ws://127.0.0.1:port" (subprotocol janus-protocol).
	URL string
	// Addr is the WebSocket transport's address.
	Addr string
	// Dir holds the configs; LogFile is Janus' log.
	Dir     string
	LogFile string
	Rooms   []Room

	removeDir bool
	timeout   time.Duration
	log       *slog.Logger

	mu   sync.Mutex
	cmd  *exec.Cmd     // guarded by mu; nil when stopped
	done chan struct{} // guarded by mu; closed when cmd has exited
}

// Start writes a config, starts Janus and waits until its WebSocket port answers.
func Start(ctx context.Context, o Options) (*Server, error) {
	if len(o.Rooms) == 0 {
		o.Rooms = []Room{{ID: "test"}}
	}
	for i := range o.Rooms {
		if !validRoomID(o.Rooms[i].ID) {
			return nil, fmt.Errorf("janusserver: room ID %q: want letters, digits, '-' or '_'", o.Rooms[i].ID)
		}
	}
	if _, err := exec.LookPath("janus"); err != nil {
		return nil, ErrNoJanus
	}
	for i := range o.Rooms {
		if o.Rooms[i].Publishers == 0 {
			o.Rooms[i].Publishers = 16
		}
		if o.Rooms[i].Bitrate == 0 {
			o.Rooms[i].Bitrate = 256000
		}
		if o.Rooms[i].FIRFreq == 0 {
			o.Rooms[i].FIRFreq = 10
		}
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 60
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{Dir: o.Dir, Rooms: o.Rooms, timeout: o.StartTimeout, log: o.Logger}
	if s.Dir == "" {
		dir, err := os.MkdirTemp("", "ttycall-janus-")
		if err != nil {
			return nil, fmt.Errorf("janusserver: temp dir: %w", err)
		}
		s.Dir, s.removeDir = dir, true
	}
	port, err := freePort()
	if err != nil {
		s.cleanup()
		return nil, err
	}
	s.Addr = "127.0.0.1:" + strconv.Itoa(port)
	s.URL = "ws://" + s.Addr
	s.LogFile = filepath.Join(s.Dir, "janus.log")
	if err := writeConfig(s.Dir, configParams{WSPort: port, ICE: o.ICEAddress, SessionTimeout: o.SessionTimeout, Rooms: o.Rooms}); err != nil {
		s.cleanup()
		return nil, err
	}
	if err := s.start(ctx); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// start launches the process and waits for the WebSocket port.
func (s *Server) start(ctx context.Context) error {
	cmd := exec.Command("janus", "--configs-folder="+s.Dir, "--config="+filepath.Join(s.Dir, "janus.jcfg"),
		"--log-file="+s.LogFile, "--disable-stdout", "--disable-colors", "--debug-timestamps")
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Own process group so Stop reaches it all; SIGKILL if the thread that started it
	// dies first, so a crashed test leaves no server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	done := make(chan struct{})
	// Owned by the Server: starts the process and ends when it exits (Stop/Kill or a
	// crash). It keeps its OS thread locked meanwhile: Pdeathsig fires when the thread
	// that forked the child exits (golang/go#27505), and Go ends a thread only when a
	// goroutine exits while locked to it; this one unlocks first.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("janusserver: start janus: %w", err)
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := waitPort(ctx, s.Addr, done); err != nil {
		_ = s.Kill()
		return fmt.Errorf("janusserver: janus did not come up on %s: %w\n%s%s", s.Addr, err, out.String(), s.logTail())
	}
	s.log.Debug("janus ready", "url", s.URL, "dir", s.Dir)
	return nil
}

// waitPort dials addr until it answers, the process exits or ctx ends.
func waitPort(ctx context.Context, addr string, exited <-chan struct{}) error {
	var d net.Dialer
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("janus exited")
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s), waits for it, and removes
// the temporary directory it made. Safe to call more than once.
func (s *Server) Stop() error {
	err := s.signal(syscall.SIGTERM, 5*time.Second)
	s.cleanup()
	return err
}

// Kill ends the server at once, as a crash would; Restart brings it back.
func (s *Server) Kill() error { return s.signal(syscall.SIGKILL, 5*time.Second) }

// Restart starts a stopped or killed server again on the same port and config. Every
// session, handle and room participant of the old process is gone.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return errors.New("janusserver: restart: still running")
	}
	return s.start(ctx)
}

// Pid is the process ID of the running Janus (0 when stopped), for CPU figures.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running tells whether the process is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// signal sends sig to the process group and waits for the exit, escalating to SIGKILL.
func (s *Server) signal(sig syscall.Signal, grace time.Duration) error {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
		return nil
	case <-time.After(grace):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
	return fmt.Errorf("janusserver: janus ignored %v; killed", sig)
}

func (s *Server) cleanup() {
	if s.removeDir {
		_ = os.RemoveAll(s.Dir)
	}
}

// LogTail returns the end of Janus' log, for test failures.
func (s *Server) LogTail() string { return s.logTail() }

func (s *Server) logTail() string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil {
		return ""
	}
	if len(b) > 6000 {
		b = b[len(b)-6000:]
	}
	return "janus log:\n" + string(b)
}

// freePort returns a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("janusserver: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// validRoomID keeps IDs to what a libconfig group name ("room-ID") may hold.
func validRoomID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
