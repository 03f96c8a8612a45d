package call

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/ttycall/ttycall/call/internal/membus"
)

func TestQueueDropsBeyondLimit(t *testing.T) {
	q := newQueue[int](2)
	for i := range 2 {
		if ok, full := q.pushDroppable(i); !ok || full {
			t.Fatalf("push %d: ok %v full %v", i, ok, full)
		}
	}
	if ok, full := q.pushDroppable(2); ok || !full {
		t.Fatalf("third droppable push: ok %v full %v", ok, full)
	}
	if !q.push(3) {
		t.Fatal("the engine's own push was refused")
	}
	if got := q.drain(); len(got) != 3 || q.dropped.Load() != 1 {
		t.Fatalf("drained %v, dropped %d", got, q.dropped.Load())
	}
	if ok, _ := q.pushDroppable(4); !ok {
		t.Fatal("room again after drain")
	}
	q.close()
	if ok, full := q.pushDroppable(5); ok || full {
		t.Fatal("push after close")
	}
}

// A client whose Events channel nobody reads keeps at most maxPendingEvents for it and
// counts the rest; the listeners still see every event.
func TestEventsStreamBounded(t *testing.T) {
	c, err := NewClient(Config{LocalID: "alice", Signaling: nopSignaling{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var seen atomic.Int64
	reached, done := make(chan struct{}), make(chan struct{})
	const n = maxPendingEvents + 1000
	Listen(c, func(_ *Session, e UpdateEvent) {
		switch seen.Add(1) {
		case n:
			close(reached)
		case n + 1:
			close(done)
		}
	})
	for range n {
		c.emit(nil, UpdateEvent{})
	}
	<-reached
	c.emit(nil, UpdateEvent{}) // dispatched after the trim that followed the n-th
	<-done
	if d := c.Drops().Stream; d == 0 {
		t.Fatalf("no events dropped from an unread stream of %d", n+1)
	}
}

// nopSignaling sends nothing.
type nopSignaling struct{}

func (nopSignaling) Offer(context.Context, *Offer) error           { return nil }
func (nopSignaling) Answer(context.Context, *Answer) error         { return nil }
func (nopSignaling) Candidates(context.Context, *Candidates) error { return nil }
func (nopSignaling) Reject(context.Context, *Reject) error         { return nil }
func (nopSignaling) Terminate(context.Context, *Terminate) error   { return nil }
func (nopSignaling) Restart(context.Context, *Restart) error       { return nil }
func (nopSignaling) Update(context.Context, *Update) error         { return nil }
func (nopSignaling) Rules(SessionInfo) Rules                       { return Rules{} }

// A peer that floods a session faster than its goroutine runs fills the session's
// queue up to maxQueuedMessages; the rest is dropped and counted, and the session
// goes on.
func TestSessionQueueBounded(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", nil)
	s, bs := ring(t, alice, bob, nil)
	// Hold bob's session goroutine while alice's updates pile up.
	hold, held := make(chan struct{}), make(chan struct{})
	if !bs.post(func() { close(held); <-hold }) {
		t.Fatal("session goroutine ended")
	}
	<-held
	upd := &Update{Header: Header{Session: SessionInfo{ID: s.ID(), CallType: CallTypeAudio, Initiator: "alice", Opponents: []UserID{"bob"}}, From: "alice", To: "bob"}}
	for range maxQueuedMessages + 10 {
		bob.Receive(upd)
	}
	close(hold)
	if d := bob.Drops().Messages; d < 10 {
		t.Fatalf("dropped %d messages, want at least 10", d)
	}
	probe(t, bs, func() error { return nil })
	if bs.State() != SessionNew {
		t.Fatalf("session disturbed: %s", bs.State())
	}
}
