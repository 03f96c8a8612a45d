package call

import (
	"sync"
	"sync/atomic"
)

// Bounds of what remote parties can make the engine hold. Items that come from or
// answer a remote party are pushed with pushDroppable and dropped (and counted) beyond
// these; the engine's own items (API calls, pion callbacks, timers, session events)
// are never dropped: they are bounded by the engine's own behaviour.
const (
	// maxQueuedMessages: incoming messages waiting for one session's goroutine.
	maxQueuedMessages = 1024
	// maxQueuedReplies: outgoing messages waiting for the sender.
	maxQueuedReplies = 1024
	// maxQueuedEvents: events waiting for the dispatcher.
	maxQueuedEvents = 4096
	// maxPendingEvents: events the listeners have seen that wait for the Events
	// reader; beyond it the oldest are dropped from the stream (not from the
	// listeners).
	maxPendingEvents = 4096
)

// queue is a FIFO whose push never blocks, so neither pion callbacks nor the signaling
// transport ever wait for the engine. One goroutine consumes it: it waits on ready and
// takes everything with drain.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T  // guarded by mu
	closed bool // guarded by mu; push refuses once set
	limit  int  // pushDroppable refuses once this many items wait

	dropped atomic.Uint64 // items pushDroppable refused because the queue was full
	ready   chan struct{} // capacity 1: "there may be items"
}

func newQueue[T any](limit int) *queue[T] {
	return &queue[T]{ready: make(chan struct{}, 1), limit: limit}
}

// push appends v; false when the queue is closed.
func (q *queue[T]) push(v T) bool {
	ok, _ := q.add(v, false)
	return ok
}

// pushDroppable appends v unless the queue is closed or limit items wait; full reports
// the second case (v is dropped and counted).
func (q *queue[T]) pushDroppable(v T) (ok, full bool) { return q.add(v, true) }

func (q *queue[T]) add(v T, droppable bool) (ok, full bool) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false, false
	}
	if droppable && len(q.items) >= q.limit {
		q.mu.Unlock()
		q.dropped.Add(1)
		return false, true
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true, false
}

// drain takes every queued item.
func (q *queue[T]) drain() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}

// close makes further pushes fail and returns what was still queued.
func (q *queue[T]) close() []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	items := q.items
	q.items = nil
	return items
}
