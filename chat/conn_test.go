package chat

import (
	"net"
	"testing"
	"time"
)

// A past deadline, as mellium's late cancel goroutine sets it after a send that
// already finished, must not fail the next write on the stream.
func TestStableConnIgnoresPastDeadlines(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := stableConn{a}
	if err := c.SetWriteDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() { // ends when it has read one write
		buf := make([]byte, 5)
		n, _ := b.Read(buf)
		got <- buf[:n]
	}()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatalf("write after a past deadline: %v", err)
	}
	if s := string(<-got); s != "hello" {
		t.Fatalf("read %q", s)
	}
	// A future deadline still applies.
	if err := c.SetWriteDeadline(time.Now().Add(20 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("write with nobody reading passed its deadline without an error")
	}
}
