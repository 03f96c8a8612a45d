package chat

import (
	"sync"
	"time"

	"mellium.im/xmpp/jid"
)

// Event is something the account reports.
type Event interface{ isChatEvent() }

// StateEvent: the connection changed state. Err says why when going offline.
type StateEvent struct {
	State ConnState
	Err   error
	// RetryIn is the wait before the next attempt (Reconnecting).
	RetryIn time.Duration
}

// RosterEvent: the roster changed (fetched or pushed); Contacts is the whole list.
type RosterEvent struct{ Contacts []Contact }

// PresenceEvent: a contact's presence changed.
type PresenceEvent struct {
	JID      jid.JID // bare
	Presence Presence
}

// SubscriptionRequestEvent: someone asks to see our presence.
type SubscriptionRequestEvent struct{ JID jid.JID }

// ErrorEvent: something failed that is not a connection state (a send, a bad stanza).
type ErrorEvent struct{ Err error }

func (StateEvent) isChatEvent()               {}
func (RosterEvent) isChatEvent()              {}
func (PresenceEvent) isChatEvent()            {}
func (SubscriptionRequestEvent) isChatEvent() {}
func (ErrorEvent) isChatEvent()               {}

// maxQueuedEvents bounds the events waiting for a reader. Most events are driven by
// remote peers (presence, subscription requests, bad signals), so a reader that stops
// reading must not let a peer grow the queue without end. StateEvents, which only the
// account makes, are always kept; the others are dropped while the queue is full
// (Roster still has the current contacts and presence).
const maxQueuedEvents = 4096

// eventQueue is a FIFO in front of a channel: push never blocks (the receive loop calls
// it), and one goroutine (run) moves the events to out in order.
type eventQueue struct {
	mu     sync.Mutex
	items  []Event // guarded by mu
	closed bool    // guarded by mu

	wake chan struct{} // capacity 1: "items is not empty"
	stop chan struct{} // closed by close: run ends
	out  chan Event    // closed by run when it ends
	done chan struct{} // closed when run has returned
}

func newEventQueue() *eventQueue {
	return &eventQueue{
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		out:  make(chan Event),
		done: make(chan struct{}),
	}
}

// push appends e; it never blocks. It reports false when e was dropped: after close,
// or when maxQueuedEvents are waiting and e is not a StateEvent.
func (q *eventQueue) push(e Event) bool {
	q.mu.Lock()
	_, isState := e.(StateEvent)
	if q.closed || (len(q.items) >= maxQueuedEvents && !isState) {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// run delivers events until close; it is the queue's only goroutine.
func (q *eventQueue) run() {
	defer close(q.done)
	defer close(q.out)
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		e := q.items[0]
		q.items[0] = nil
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- e:
		case <-q.stop:
			return
		}
	}
}

// close stops run (undelivered events are dropped: a reader that went away must not
// keep Close waiting) and waits for it. Idempotent.
func (q *eventQueue) close() {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		q.items = nil
		close(q.stop)
	}
	q.mu.Unlock()
	<-q.done
}
