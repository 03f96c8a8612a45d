package guard

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"
)

func TestClip(t *testing.T) {
	if got := Clip("short"); got != "short" {
		t.Errorf("Clip(short) = %q", got)
	}
	long := strings.Repeat("é", 1000)
	got := Clip(long)
	if len(got) > MaxString+32 || !strings.Contains(got, "bytes)") || !strings.HasPrefix(long, strings.Split(got, "…")[0]) {
		t.Errorf("Clip(long) = %q", got)
	}
	err := ClipErr(&fs.PathError{Op: "open", Path: strings.Repeat("p", 10000), Err: fs.ErrNotExist})
	if len(err.Error()) > MaxErr+32 || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ClipErr: %d bytes, is ErrNotExist %v", len(err.Error()), errors.Is(err, fs.ErrNotExist))
	}
	if ClipErr(nil) != nil {
		t.Error("ClipErr(nil) != nil")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := &Limiter{Burst: 3, Every: 10 * time.Second, MaxKeys: 4, Now: func() time.Time { return now }}
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("event %d refused within the burst", i)
		}
	}
	for range 5 {
		if ok, _ := l.Allow("a"); ok {
			t.Fatal("allowed past the burst")
		}
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Fatal("another key is limited by a")
	}
	now = now.Add(10 * time.Second)
	if ok, n := l.Allow("a"); !ok || n != 5 {
		t.Fatalf("after a refill: ok %v, suppressed %d; want true, 5", ok, n)
	}
	// Keys past MaxKeys share one bucket: made-up senders do not escape the limit.
	allowed := 0
	for i := range 100 {
		if ok, _ := l.Allow(strings.Repeat("k", i+1)); ok {
			allowed++
		}
	}
	if allowed > 2+3 { // two free slots, then the shared bucket's burst
		t.Errorf("%d of 100 made-up keys allowed", allowed)
	}
}
