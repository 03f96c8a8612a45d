package headless_test

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/headless"
	"github.com/ttycall/ttycall/internal/app"
)

// TestMainLeavesNoGoroutines runs Main in this process until its context ends (as on
// SIGINT) and checks that it returns 0 and leaves no goroutine behind.
func TestMainLeavesNoGoroutines(t *testing.T) {
	e := newEnv(t, "alice")
	t.Setenv(app.EnvLoopbackICE, "1")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() { // ends when Main returns
		code <- headless.Main(ctx, []string{"--config", e.config("alice", "", ""), "--log-level", "error"}, inR, outW, io.Discard)
		outW.Close()
	}()
	lines := make(chan string)
	go func() { // ends at the EOF that closing outW gives
		defer close(lines)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	inW.Write([]byte("bogus\n"))
	seen := map[string]bool{}
	deadline := time.After(short)
	for !seen["online"] || !seen["error"] {
		select {
		case l := <-lines:
			for _, name := range []string{"online", "error"} {
				if strings.Contains(l, `"event":"`+name+`"`) {
					seen[name] = true
				}
			}
		case <-deadline:
			t.Fatalf("saw %v within %v, want online and error", seen, short)
		}
	}
	cancel()
	for range lines { // drain until Main has closed stdout
	}
	if c := <-code; c != 0 {
		t.Errorf("Main = %d after its context ended, want 0", c)
	}
	inW.Close() // the stdin reader ends at EOF
}
