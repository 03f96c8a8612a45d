// Package membus is an in-memory signaling transport for the call engine's tests: a
// Bus connects endpoints by user ID and delivers each signal, copied, in send order.
// An Endpoint implements quickblox.Transport.
package membus

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// ErrUnknownUser: no endpoint is registered for the addressee.
var ErrUnknownUser = errors.New("membus: unknown user")

// Bus routes signals between endpoints.
type Bus struct {
	mu        sync.Mutex
	endpoints map[wire.UserID]func(*wire.Signal) // guarded by mu
	filter    func(*wire.Signal) bool            // guarded by mu; false drops
	log       []wire.Signal                      // guarded by mu; every delivered signal
}

// New returns an empty bus.
func New() *Bus { return &Bus{endpoints: make(map[wire.UserID]func(*wire.Signal))} }

// Endpoint is one user's attachment to the bus.
type Endpoint struct {
	bus *Bus
	id  wire.UserID
}

// Register attaches user id; deliver receives every signal addressed to id (it must
// not block: the engine never blocks in Receive).
func (b *Bus) Register(id wire.UserID, deliver func(*wire.Signal)) *Endpoint {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endpoints[id] = deliver
	return &Endpoint{bus: b, id: id}
}

// Endpoint returns a sender for id whose handler is set later with Register.
func (b *Bus) Endpoint(id wire.UserID) *Endpoint { return &Endpoint{bus: b, id: id} }

// SetFilter installs a function that sees every signal before delivery; returning false
// drops it. nil removes the filter.
func (b *Bus) SetFilter(f func(*wire.Signal) bool) {
	b.mu.Lock()
	b.filter = f
	b.mu.Unlock()
}

// Delivered returns a copy of every signal delivered so far.
func (b *Bus) Delivered() []wire.Signal {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.log)
}

// Inject delivers s to s.To as if sent by s.From (spoofing tests).
func (b *Bus) Inject(s *wire.Signal) error { return b.deliver(s) }

// SendSignal implements quickblox.Transport.
func (e *Endpoint) SendSignal(ctx context.Context, to wire.UserID, s *wire.Signal) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := clone(s)
	c.From, c.To = e.id, to
	return e.bus.deliver(c)
}

func (b *Bus) deliver(s *wire.Signal) error {
	b.mu.Lock()
	f := b.endpoints[s.To]
	filter := b.filter
	if f == nil {
		b.mu.Unlock()
		return ErrUnknownUser
	}
	if filter != nil && !filter(s) {
		b.mu.Unlock()
		return nil
	}
	b.log = append(b.log, *clone(s))
	// Delivery under the lock keeps the global send order; handlers never block.
	f(s)
	b.mu.Unlock()
	return nil
}

func clone(s *wire.Signal) *wire.Signal {
	c := *s
	c.OpponentIDs = slices.Clone(s.OpponentIDs)
	c.Candidates = slices.Clone(s.Candidates)
	c.UserInfo = cloneExt(s.UserInfo)
	if s.SessionDescription != nil {
		sd := *s.SessionDescription
		c.SessionDescription = &sd
	}
	return &c
}

func cloneExt(e wire.Extension) wire.Extension {
	if e == nil {
		return nil
	}
	c := maps.Clone(e)
	for k, v := range c {
		if m, ok := v.(wire.Extension); ok {
			c[k] = cloneExt(m)
		}
	}
	return c
}
