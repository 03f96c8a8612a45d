package ui

import (
	"testing"
	"time"
)

func TestMediaNoticeShown(t *testing.T) {
	h := newHarness(t)
	inCall(t, h)
	h.send(mediaNoticeMsg{Text: `camera "/dev/video0" failed; sending a test pattern instead`})
	h.mustSee(`camera "/dev/video0" failed; sending a test pattern instead`)
}

// TestNoticeBox: posting never blocks a device goroutine (full box, closed box), and
// closing ends the interface's reader.
func TestNoticeBox(t *testing.T) {
	b := newNoticeBox()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range cap(b.ch) + 5 { // more than fit: the rest is dropped
			b.post("n")
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("post blocked on a full box")
	}
	if len(b.ch) != cap(b.ch) {
		t.Fatalf("box holds %d notices, want %d", len(b.ch), cap(b.ch))
	}
	read := waitMediaNotice(b.ch)
	if msg, ok := read().(mediaNoticeMsg); !ok || msg.Text != "n" {
		t.Fatalf("reader returned %#v", msg)
	}
	b.close()
	b.close()
	b.post("after close") // must not panic
	for range cap(b.ch) - 1 {
		read()
	}
	if msg := read(); msg != nil {
		t.Fatalf("reader after close returned %#v, want nil (reader ends)", msg)
	}
}
