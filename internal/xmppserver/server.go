package xmppserver

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

	"mellium.im/xmpp/jid"
)

// ErrNoProsody is returned by Start when the prosody binary is not installed.
var ErrNoProsody = errors.New("xmppserver: prosody is not installed (run scripts/setup.sh)")

// Options configure a server.
type Options struct {
	// Domain is the virtual host; default "localhost" (the certificate is made for it).
	Domain string
	// Users are registered before Start returns: name -> password.
	Users map[string]string
	// Dir holds config, data and log; default a fresh temporary directory that Stop
	// removes. A given Dir is kept.
	Dir string
	// StartTimeout bounds the wait for the ports to answer; default 10 s.
	StartTimeout time.Duration
	Logger       *slog.Logger

	// IP is the address Prosody listens on; default 127.0.0.1. Tests of NAT traversal
	// give an address inside a network namespace of their own.
	IP string
	// Wrap prefixes the prosody command (["ip", "netns", "exec", NAME] runs it in a
	// network namespace); Dial reaches its ports from there. Both or neither.
	Wrap []string
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Modules are enabled besides the default ones ("turn_external", ...).
	Modules []string
	// Extra is Lua appended to the global section of the config (module options).
	Extra string
}

// Server is a running Prosody.
type Server struct {
	Domain string
	// Addr is the client-to-server address, "127.0.0.1:port" (StartTLS or plain).
	Addr string
	// DirectTLSAddr is the XEP-0368 direct-TLS client port.
	DirectTLSAddr string
	// HTTPAddr serves HTTP, with WebSocketURL for browser clients.
	HTTPAddr     string
	WebSocketURL string
	// CAFile is the PEM certificate of the server (self-signed for Domain): use it as
	// the CA when verifying StartTLS, with Domain as the server name.
	CAFile string
	// Dir holds config, data and log; LogFile is Prosody's log.
	Dir     string
	LogFile string

	cfgPath   string
	removeDir bool
	timeout   time.Duration
	log       *slog.Logger

	mu      sync.Mutex
	ip      string
	wrap    []string
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	modules []string
	extra   string

	cmd  *exec.Cmd     // guarded by mu; nil when stopped
	done chan struct{} // guarded by mu; closed when cmd has exited
}

// Start writes a config, starts Prosody and waits until its ports answer.
func Start(ctx context.Context, o Options) (*Server, error) {
	if _, err := exec.LookPath("prosody"); err != nil {
		return nil, ErrNoProsody
	}
	if o.Domain == "" {
		o.Domain = "localhost"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Dial == nil {
		o.Dial = (&net.Dialer{}).DialContext
	}
	s := &Server{Domain: o.Domain, Dir: o.Dir, timeout: o.StartTimeout, log: o.Logger,
		ip: o.IP, wrap: o.Wrap, dial: o.Dial, modules: o.Modules, extra: o.Extra}
	if s.Dir == "" {
		dir, err := os.MkdirTemp("", "ttycall-prosody-")
		if err != nil {
			return nil, fmt.Errorf("xmppserver: temp dir: %w", err)
		}
		s.Dir, s.removeDir = dir, true
	}
	if err := s.prepare(); err != nil {
		s.cleanup()
		return nil, err
	}
	for user, pw := range o.Users {
		if err := s.Register(ctx, user, pw); err != nil {
			s.cleanup()
			return nil, err
		}
	}
	if err := s.start(ctx); err != nil {
		s.cleanup()
		return nil, err
	}
	return s, nil
}

// prepare writes the certificate and the config with fresh loopback ports.
func (s *Server) prepare() error {
	if err := os.MkdirAll(filepath.Join(s.Dir, "data"), 0o700); err != nil {
		return fmt.Errorf("xmppserver: data dir: %w", err)
	}
	certFile, keyFile := filepath.Join(s.Dir, s.Domain+".crt"), filepath.Join(s.Dir, s.Domain+".key")
	if err := writeCertificate(s.Domain, certFile, keyFile); err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s.Addr = net.JoinHostPort(s.ip, strconv.Itoa(ports[0]))
	s.DirectTLSAddr = net.JoinHostPort(s.ip, strconv.Itoa(ports[1]))
	s.HTTPAddr = net.JoinHostPort(s.ip, strconv.Itoa(ports[2]))
	s.WebSocketURL = "ws://" + s.HTTPAddr + "/xmpp-websocket"
	s.CAFile = certFile
	s.LogFile = filepath.Join(s.Dir, "prosody.log")
	s.cfgPath = filepath.Join(s.Dir, "prosody.cfg.lua")
	cfg := renderConfig(configParams{
		Dir: s.Dir, Domain: s.Domain, C2S: ports[0], DirectTLS: ports[1], HTTP: ports[2],
		Cert: certFile, Key: keyFile, Log: s.LogFile,
		IP: s.ip, Modules: s.modules, Extra: s.extra,
	})
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("xmppserver: write config: %w", err)
	}
	return nil
}

// start launches the process and waits for the c2s and HTTP ports.
func (s *Server) start(ctx context.Context) error {
	argv := append(append([]string(nil), s.wrap...), "prosody", "--config", s.cfgPath)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Own process group so Stop reaches every child; SIGKILL if we die first, so a
	// crashed test leaves no server behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	done := make(chan struct{})
	// Owned by the Server: starts the process and ends when it exits (Stop/Kill or a
	// crash). It keeps its OS thread locked meanwhile: Pdeathsig fires when the thread
	// that forked the child exits (golang/go#27505), not the process, and Go ends a
	// thread only when a goroutine exits while locked to it; this one unlocks first.
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
		return fmt.Errorf("xmppserver: start prosody: %w", err)
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	for _, addr := range []string{s.Addr, s.HTTPAddr} {
		if err := waitPort(ctx, s.dial, addr, done); err != nil {
			_ = s.Kill()
			return fmt.Errorf("xmppserver: prosody did not come up on %s: %w\n%s%s", addr, err, out.String(), s.logTail())
		}
	}
	s.log.Debug("prosody ready", "addr", s.Addr, "http", s.HTTPAddr, "dir", s.Dir)
	return nil
}

// waitPort dials addr until it answers, the process exits or ctx ends.
func waitPort(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), addr string, exited <-chan struct{}) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := dial(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return errors.New("prosody exited")
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

// Restart starts a stopped or killed server again on the same ports and data.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return errors.New("xmppserver: restart: still running")
	}
	return s.start(ctx)
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
	return fmt.Errorf("xmppserver: prosody ignored %v; killed", sig)
}

func (s *Server) cleanup() {
	if s.removeDir {
		_ = os.RemoveAll(s.Dir)
	}
}

// JID returns the bare JID of a user on this server.
func (s *Server) JID(user string) jid.JID {
	return jid.MustParse(user + "@" + s.Domain)
}

// logTail returns the end of Prosody's log for error messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.LogFile)
	if err != nil {
		return ""
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return "prosody log:\n" + string(b)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("xmppserver: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
