package ui

import "sync"

// noticeBox carries media notices from device goroutines to the interface. post never
// blocks a device (a full box drops the notice; the log has it) and is safe after
// close, which ends the interface's reader.
type noticeBox struct {
	mu     sync.Mutex
	ch     chan string // guarded by mu for sending and closing
	closed bool        // guarded by mu
}

func newNoticeBox() *noticeBox { return &noticeBox{ch: make(chan string, 8)} }

func (b *noticeBox) post(notice string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	select {
	case b.ch <- notice:
	default:
	}
}

func (b *noticeBox) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.ch)
	}
}
