package chat

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// blackhole is a TCP proxy to a server whose existing connections can be made to
// swallow everything (a dead link that neither closes nor resets, as after a NAT
// timeout or a pulled cable).
type blackhole struct {
	l      net.Listener
	target string

	mu     sync.Mutex
	conns  map[net.Conn]*bool // guarded by mu; value: swallowing
	closed bool               // guarded by mu

	wg sync.WaitGroup
}

func newBlackhole(t *testing.T, target string) *blackhole {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackhole{l: l, target: target, conns: map[net.Conn]*bool{}}
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

func (b *blackhole) close() {
	b.mu.Lock()
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
