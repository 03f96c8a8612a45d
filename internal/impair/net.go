package impair

import (
	"fmt"
	"net"
	"sync"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Net is a transport.Net (what pion's SettingEngine.SetNet and turn's relay generator
// take) whose UDP sockets send through a Shaper each: every socket's egress is one
// direction of a shaped link. Receiving is untouched (the other side's Net, or the
// relay, shapes that direction).
type Net struct {
	transport.Net
	mu      sync.Mutex
	p       Profile
	seed    uint64
	shapers []*Shaper
	closed  bool
}

// NewNet wraps inner (nil: the host's network) with profile p; seed makes the random
// losses of a run repeatable.
func NewNet(inner transport.Net, p Profile, seed uint64) (*Net, error) {
	if inner == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, fmt.Errorf("impair: host network: %w", err)
		}
		inner = n
	}
	return &Net{Net: inner, p: p, seed: seed}, nil
}

// SetProfile changes every socket's link, now and for sockets opened later.
func (n *Net) SetProfile(p Profile) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.p = p
	for _, s := range n.shapers {
		s.SetProfile(p)
	}
}

// Counters sums the counters of every socket's shaper.
func (n *Net) Counters() Counters {
	n.mu.Lock()
	defer n.mu.Unlock()
	var t Counters
	for _, s := range n.shapers {
		c := s.Counters()
		t.Packets += c.Packets
		t.Bytes += c.Bytes
		t.Delivered += c.Delivered
		t.DeliveredBytes += c.DeliveredBytes
		t.DroppedLoss += c.DroppedLoss
		t.DroppedQueue += c.DroppedQueue
		if !c.FirstSend.IsZero() && (t.FirstSend.IsZero() || c.FirstSend.Before(t.FirstSend)) {
			t.FirstSend = c.FirstSend
		}
		if c.LastDelivery.After(t.LastDelivery) {
			t.LastDelivery = c.LastDelivery
		}
	}
	return t
}

// Close stops every shaper (the sockets themselves belong to their openers).
func (n *Net) Close() {
	n.mu.Lock()
	ss := n.shapers
	n.shapers, n.closed = nil, true
	n.mu.Unlock()
	for _, s := range ss {
		s.Close()
	}
}

func (n *Net) newShaper() (*Shaper, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, fmt.Errorf("impair: network closed")
	}
	n.seed++
	s := NewShaper(n.p, n.seed)
	n.shapers = append(n.shapers, s)
	return s, nil
}

// ListenUDP opens a UDP socket whose sends are shaped.
func (n *Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	s, err := n.newShaper()
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return &udpConn{UDPConn: c, s: s}, nil
}

// ListenPacket opens a packet socket whose sends are shaped (UDP only; others are not
// shaped).
func (n *Net) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	s, err := n.newShaper()
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return &packetConn{PacketConn: c, s: s}, nil
}

// WrapPacketConn shapes the sends of c through s (for a socket opened elsewhere).
func WrapPacketConn(c net.PacketConn, s *Shaper) net.PacketConn {
	return &packetConn{PacketConn: c, s: s}
}

type udpConn struct {
	transport.UDPConn
	s *Shaper
}

func (c *udpConn) WriteTo(p []byte, a net.Addr) (int, error) {
	c.s.Send(p, func(b []byte) { _, _ = c.UDPConn.WriteTo(b, a) })
	return len(p), nil
}

func (c *udpConn) WriteToUDP(p []byte, a *net.UDPAddr) (int, error) {
	c.s.Send(p, func(b []byte) { _, _ = c.UDPConn.WriteToUDP(b, a) })
	return len(p), nil
}

func (c *udpConn) Write(p []byte) (int, error) {
	c.s.Send(p, func(b []byte) { _, _ = c.UDPConn.Write(b) })
	return len(p), nil
}

// WriteMsgUDP drops the control data: nothing pion sends needs it.
func (c *udpConn) WriteMsgUDP(p, _ []byte, a *net.UDPAddr) (n, oobn int, err error) {
	c.s.Send(p, func(b []byte) { _, _ = c.UDPConn.WriteToUDP(b, a) })
	return len(p), 0, nil
}

type packetConn struct {
	net.PacketConn
	s *Shaper
}

func (c *packetConn) WriteTo(p []byte, a net.Addr) (int, error) {
	c.s.Send(p, func(b []byte) { _, _ = c.PacketConn.WriteTo(b, a) })
	return len(p), nil
}
