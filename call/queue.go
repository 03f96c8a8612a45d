package call

import "sync"

// queue is an unbounded FIFO: push never blocks, so neither pion callbacks nor the
// signaling transport ever wait for the engine. One goroutine consumes it: it waits on
// ready and takes everything with drain.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T  // guarded by mu
	closed bool // guarded by mu; push refuses once set

	ready chan struct{} // capacity 1: "there may be items"
}

func newQueue[T any]() *queue[T] {
	return &queue[T]{ready: make(chan struct{}, 1)}
}

// push appends v; false when the queue is closed.
func (q *queue[T]) push(v T) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return true
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
