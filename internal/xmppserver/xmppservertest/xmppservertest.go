// Package xmppservertest starts a private Prosody for a test and stops it at cleanup.
package xmppservertest

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"

	"github.com/ttycall/ttycall/internal/xmppserver"
)

// Start starts a server for t. It skips t only when Prosody is not installed (make test
// installs it) and fails it on any other error. The server stops when t ends.
func Start(t testing.TB, o xmppserver.Options) *xmppserver.Server {
	t.Helper()
	s, err := xmppserver.Start(context.Background(), o)
	if errors.Is(err, xmppserver.ErrNoProsody) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Log(err)
		}
	})
	return s
}

// Proxy is a TCP proxy on loopback in front of a server, for tests that need to see
// what a client sends before TLS or to cut one client's link while the server stays up.
// It stops at cleanup.
type Proxy struct {
	// Addr is where clients connect instead of the server.
	Addr string

	target string
	ln     net.Listener
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{} // guarded by mu; both ends of live links
	cut    bool                  // guarded by mu; refuse and drop links
	starts [][]byte              // guarded by mu; the first bytes each client sent
}

// maxRecorded is how much of each connection's client-to-server stream Proxy keeps.
const maxRecorded = 4096

// NewProxy starts a proxy to target ("host:port").
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept() // owner: p; ends when cleanup closes the listener
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.cut
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			s.Close()
			continue
		}
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		idx := len(p.starts)
		p.starts = append(p.starts, nil)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(s, c, idx) // owner: p; ends when either side closes
		go p.pipe(c, s, -1)  // owner: p; ends when either side closes
	}
}

// pipe copies from src to dst, recording the first bytes when idx >= 0.
func (p *Proxy) pipe(dst, src net.Conn, idx int) {
	defer p.wg.Done()
	defer func() {
		src.Close()
		dst.Close()
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if idx >= 0 {
				p.mu.Lock()
				if room := maxRecorded - len(p.starts[idx]); room > 0 {
					p.starts[idx] = append(p.starts[idx], buf[:min(n, room)]...)
				}
				p.mu.Unlock()
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut drops every link and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	conns := make([]net.Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Restore lets clients connect again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// ClientStarts returns the first bytes (up to 4 KB) clients sent on each connection,
// oldest first.
func (p *Proxy) ClientStarts() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([][]byte, len(p.starts))
	for i, b := range p.starts {
		out[i] = append([]byte(nil), b...)
	}
	return out
}
