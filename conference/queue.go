package conference

import "sync"

// queue is an unbounded FIFO between goroutines: pushers never block (pion's and the
// Janus client's callbacks post here), one reader takes batches.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T  // guarded by mu
	closed bool // guarded by mu
	wake   chan struct{}
	done   chan struct{} // closed by close
	once   sync.Once
}

func (q *queue[T]) init() {
	q.wake = make(chan struct{}, 1)
	q.done = make(chan struct{})
}

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// close makes wait return what is left and then false.
func (q *queue[T]) close() {
	q.once.Do(func() {
		q.mu.Lock()
		q.closed = true
		q.mu.Unlock()
		close(q.done)
	})
}

// wait returns the queued items once there are some, or when a or b (either may be
// nil) is closed; ok is false once the queue is closed and empty.
func (q *queue[T]) wait(a, b <-chan struct{}) (items []T, ok bool) {
	for {
		q.mu.Lock()
		items, q.items = q.items, nil
		closed := q.closed
		q.mu.Unlock()
		if len(items) > 0 {
			return items, true
		}
		if closed {
			return nil, false
		}
		select {
		case <-q.wake:
		case <-q.done:
		case <-a:
			return nil, true
		case <-b:
			return nil, true
		}
	}
}
