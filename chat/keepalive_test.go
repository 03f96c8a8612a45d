package chat

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// blackhole is a TCP proxy to a server whose existing connections can be made to
// swallow everything (a dead link that neither closes nor resets, as after a NAT
// timeout or a pulled cable).
type blackhole struct {
	l      net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]*bool // guarded by mu; value: swallowing
	closed  bool               // guarded by mu
	stalled bool               // guarded by mu: pumps stop reading
	done    chan struct{}      // closed by close: stalled pumps end

	wg sync.WaitGroup
}

func newBlackhole(t *testing.T, target string) *blackhole {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{l: l, target: target, conns: map[net.Conn]*bool{}, done: make(chan struct{})}
	b.wg.Add(1)
	// The accept loop; it ends when close closes the listener.
	go b.accept()
	t.Cleanup(b.close)
	return b
}

func (b *blackhole) addr() string { return b.l.Addr().String() }

func (b *blackhole) accept() {
	defer b.wg.Done()
	for {
		c, err := b.l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", b.target)
		if err != nil {
			c.Close()
			continue
		}
		swallow := new(bool)
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			c.Close()
			s.Close()
			return
		}
		b.conns[c], b.conns[s] = swallow, swallow
		b.mu.Unlock()
		b.wg.Add(2)
		// Two pumps per connection; they end when close closes both sockets.
		go b.pump(c, s, swallow)
		go b.pump(s, c, swallow)
	}
}

func (b *blackhole) pump(dst, src net.Conn, swallow *bool) {
	defer b.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		b.mu.Lock()
		stalled := b.stalled
		b.mu.Unlock()
		if stalled { // read nothing more: the sender's socket buffers fill up
			<-b.done
			dst.Close()
			return
		}
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		b.mu.Lock()
		drop := *swallow
		b.mu.Unlock()
		if drop {
			continue
		}
		if _, err := dst.Write(buf[:n]); err != nil {
			src.Close()
			return
		}
	}
}

// swallow makes every current connection dead; new ones work.
func (b *blackhole) swallow() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.conns {
		*s = true
	}
}

// stall makes every pump stop reading after its current read; new connections are
// stalled too.
func (b *blackhole) stall() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stalled = true
}

func (b *blackhole) close() {
	b.mu.Lock()
	if !b.closed {
		close(b.done)
	}
	b.closed = true
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.l.Close()
	b.wg.Wait()
}

// A connection that goes silent (no FIN, no RST) is found dead by the keepalive, and
// the account reconnects by itself.
func TestKeepaliveFindsDeadLink(t *testing.T) {
	srv := startServer(t)
	hole := newBlackhole(t, srv.Addr)
	alice := newPeer(t, srv, "alice", func(c *Config) {
		c.Server = hole.addr()
		c.PingInterval = 200 * time.Millisecond
		c.PingTimeout = 300 * time.Millisecond
		c.ReconnectMin = 20 * time.Millisecond
	}).online()
	bob := newPeer(t, srv, "bob", nil).online()

	hole.swallow()
	off := alice.waitState(Offline)
	if !errors.Is(off.Err, ErrPingTimeout) {
		t.Fatalf("Offline reason %v, want ErrPingTimeout", off.Err)
	}
	alice.waitState(Online)
	s := testSignal(bob.LocalID(), alice.LocalID(), 1)
	if err := bob.SendSignal(ctxT(t), alice.LocalID(), s); err != nil {
		t.Fatal(err)
	}
	if got := alice.nextSignal(); got.SessionID != s.SessionID {
		t.Fatalf("got %s, want %s", got.SessionID, s.SessionID)
	}
}

// A link whose far end stops reading (sends block once the socket buffers are full) is
// found dead too: a send blocked in the socket holds the session's write lock, and the
// keepalive must not wait behind it.
func TestKeepaliveFindsStalledLink(t *testing.T) {
	srv := startServer(t)
	hole := newBlackhole(t, srv.Addr)
	alice := newPeer(t, srv, "alice", func(c *Config) {
		c.Server = hole.addr()
		c.PingInterval = 200 * time.Millisecond
		c.PingTimeout = 300 * time.Millisecond
		c.SendTimeout = time.Hour // only the keepalive may end the blocked send
	}).online()

	hole.stall()
	sent := make(chan error, 1)
	// Sends big signals until one fails (the keepalive closed the connection); it ends
	// then, or at the latest when the connection goes at cleanup.
	go func() {
		s := testSignal(alice.LocalID(), "bob@localhost", 0)
		s.UserInfo = wire.Extension{"pad": strings.Repeat("x", 64<<10)}
		for {
			if err := alice.SendSignal(context.Background(), "bob@localhost", s); err != nil {
				sent <- err
				return
			}
		}
	}()
	off := alice.waitState(Offline)
	if !errors.Is(off.Err, ErrPingTimeout) {
		t.Fatalf("Offline reason %v, want ErrPingTimeout", off.Err)
	}
	select {
	case <-sent:
	case <-time.After(waitFor):
		t.Fatal("the blocked send did not end with the connection")
	}
}

// Close does not hang behind a send blocked on a link whose far end stopped reading
// (the keepalive has not noticed yet).
func TestCloseWithBlockedSend(t *testing.T) {
	srv := startServer(t)
	hole := newBlackhole(t, srv.Addr)
	alice := newPeer(t, srv, "alice", func(c *Config) {
		c.Server = hole.addr()
		c.PingInterval = time.Hour
		c.SendTimeout = time.Hour
	}).online()

	hole.stall()
	sent := make(chan error, 1)
	progress := make(chan struct{}, 1)
	// Sends big signals until one fails; it ends when Close has closed the connection.
	go func() {
		s := testSignal(alice.LocalID(), "bob@localhost", 0)
		s.UserInfo = wire.Extension{"pad": strings.Repeat("x", 64<<10)}
		for {
			if err := alice.SendSignal(context.Background(), "bob@localhost", s); err != nil {
				sent <- err
				return
			}
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}()
	// The sends are blocked once the socket buffers are full: no progress for a while.
	// (Guessing early only makes this test weaker, never wrong.)
	deadline := time.After(waitFor)
	for quiet := false; !quiet; {
		select {
		case <-progress:
		case err := <-sent:
			t.Fatalf("send failed before Close: %v", err)
		case <-time.After(300 * time.Millisecond):
			quiet = true
		case <-deadline:
			t.Fatal("sends never blocked")
		}
	}
	closed := make(chan struct{})
	go func() { _ = alice.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(waitFor):
		t.Fatal("Close hung behind a blocked send")
	}
	<-sent
}
