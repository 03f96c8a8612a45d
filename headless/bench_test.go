package headless_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkAnswerConcurrentCalls: one `ttycall headless --answer auto --echo` process
// answers N concurrent 1:1 audio calls, each from its own account in this test process
// (a Go client on internal/app sending the synthetic tone). The calls are held for D
// seconds; the figure is the round-trip packet loss (caller -> headless -> caller) over
// that window, plus the headless process's CPU use.
//
//	TTYCALL_BENCH_CALLS=25 TTYCALL_BENCH_SECONDS=60 go test -run '^$' -bench AnswerConcurrentCalls -benchtime 1x ./headless/
func BenchmarkAnswerConcurrentCalls(b *testing.B) {
	n := envInt("TTYCALL_BENCH_CALLS", 25)
	hold := time.Duration(envInt("TTYCALL_BENCH_SECONDS", 60)) * time.Second
	for i := 0; i < b.N; i++ {
		benchCalls(b, n, hold)
	}
}

// caller is one in-process calling client.
type caller struct {
	a       *app.App
	stream  chan *call.RemoteStream // the echoed audio
	runDone chan struct{}

	mu    sync.Mutex
	stats []timedStats // guarded by mu: every stats report, oldest first
}

type timedStats struct {
	at time.Time
	s  call.Stats
}

func benchCalls(b *testing.B, n int, hold time.Duration) {
	users := map[string]string{"bot": "bot"}
	for i := 0; i < n; i++ {
		users[fmt.Sprintf("c%d", i)] = "pw"
	}
	srv := xmppservertest.Start(b, xmppserver.Options{Users: users})
	e := &env{t: b, srv: srv}
	bot := start(b, "bot", "--config", e.config("bot", "", fmt.Sprintf("[calls]\nincoming_limit = %d\nstats_report_time_interval = 5\naccept_from = \"anyone\"\n", n+1)),
		"--answer", "auto", "--echo", "--log-level", "warn")
	bot.wait(0, short, "event", "online")

	callers := make([]*caller, n)
	for i := range callers {
		callers[i] = newCaller(b, srv, fmt.Sprintf("c%d", i))
	}
	defer func() {
		var wg sync.WaitGroup
		for _, c := range callers {
			if c != nil {
				wg.Add(1)
				go func() { defer wg.Done(); c.a.Close() }() // ends when Close has waited
			}
		}
		wg.Wait()
	}()

	b.ResetTimer()
	setupStart := time.Now()
	streams := make([]*call.RemoteStream, n)
	for _, c := range callers {
		s, err := c.a.Engine().CreateNewSession([]call.UserID{call.UserID(e.id("bot"))}, call.CallTypeAudio)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetUserMedia(context.Background(), devices.MediaParams{Audio: true}); err != nil {
			b.Fatal(err)
		}
		if err := s.Call(nil); err != nil {
			b.Fatal(err)
		}
	}
	for i, c := range callers {
		select {
		case streams[i] = <-c.stream:
		case <-time.After(long):
			b.Fatalf("call %d: no echoed audio within %v", i, long)
		}
	}
	b.ReportMetric(time.Since(setupStart).Seconds(), "s-setup")

	// Hold the calls. Loss is read off each caller's stats reports: the echoed stream keeps
	// the callers' RTP sequence numbers, so its packets_lost counts what was lost on the
	// way to the headless process and back. "%short" also counts the packets that came
	// back against the 50 a second that Opus at 20 ms sends (a starved sender shows there).
	recv0 := make([]uint64, n)
	for i := range callers {
		recv0[i] = streams[i].PacketsReceived()
	}
	t0 := time.Now()
	cpu0 := procCPU(bot.cmd.Process.Pid)
	select {
	case <-time.After(hold):
	case <-bot.done:
		b.Fatalf("headless exited during the hold (code %d)", bot.code)
	}
	elapsed := time.Since(t0)
	cpu := procCPU(bot.cmd.Process.Pid) - cpu0

	var got, lost, counted, expected uint64
	worst := 0.0
	for i, c := range callers {
		counted += streams[i].PacketsReceived() - recv0[i]
		expected += uint64(elapsed / (20 * time.Millisecond))
		first, last, ok := c.window(t0)
		if !ok {
			b.Fatalf("caller %d: fewer than two stats reports during the hold", i)
		}
		g := last.Remote.Audio.Packets - first.Remote.Audio.Packets
		l := uint64(max(0, last.Remote.Audio.PacketsLost-first.Remote.Audio.PacketsLost))
		got += g
		lost += l
		if g+l > 0 {
			worst = max(worst, float64(l)/float64(g+l))
		}
	}
	b.StopTimer()
	loss := 100 * float64(lost) / float64(max(1, got+lost))
	short := 100 * (1 - float64(counted)/float64(expected))
	b.ReportMetric(float64(n), "calls")
	b.ReportMetric(loss, "%loss")
	b.ReportMetric(100*worst, "%loss-worst-call")
	b.ReportMetric(short, "%short")
	b.ReportMetric(100*cpu.Seconds()/elapsed.Seconds(), "%cpu-headless")
	b.Logf("%d calls held %v: %d packets echoed back, %d lost (%.3f%%, worst call %.3f%%); %d counted of %d expected at 50/s (%.3f%% short); headless CPU %.0f%%",
		n, elapsed.Round(time.Second), got, lost, loss, 100*worst, counted, expected, short, 100*cpu.Seconds()/elapsed.Seconds())
	bot.send("quit")
	bot.exit(long)
}

func newCaller(b *testing.B, srv *xmppserver.Server, user string) *caller {
	cfg := config.Default()
	cfg.Account.JID = user + "@" + srv.Domain
	cfg.Account.Password = "pw"
	cfg.Account.Server = srv.Addr
	cfg.Account.CAFile = srv.CAFile
	cfg.Account.TLS = "starttls"
	cfg.Account.Resource = "bench"
	cfg.Calls.StatsReportTimeInterval = 2
	cfg.Media.Microphone = devices.SourceTest
	cfg.Media.Camera = devices.SourceTest
	a, err := app.New(cfg, app.Options{LoopbackOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	c := &caller{a: a, stream: make(chan *call.RemoteStream, 1), runDone: make(chan struct{})}
	// Ends when Close cancels the account.
	go func() { defer close(c.runDone); a.Run(context.Background()) }()
	online := make(chan struct{})
	// Reads the caller's events until Close; ends with the engine's and account's
	// streams being abandoned (they never block their producers).
	go func() {
		seen := false
		for {
			select {
			case ev := <-a.AccountEvents():
				if s, ok := ev.(chat.StateEvent); ok && s.State == chat.Online && !seen {
					seen = true
					close(online)
				}
			case ev := <-a.CallEvents():
				switch e := ev.(type) {
				case call.RemoteStreamEvent:
					if e.Stream.Kind == devices.KindAudio {
						select {
						case c.stream <- e.Stream:
						default:
						}
					}
				case call.StatsEvent:
					c.mu.Lock()
					c.stats = append(c.stats, timedStats{time.Now(), e.Stats})
					c.mu.Unlock()
				}
			case <-c.runDone:
				return
			}
		}
	}()
	select {
	case <-online:
	case <-c.runDone:
		b.Fatalf("%s: account ended before going online", user)
	case <-time.After(short):
		b.Fatalf("%s: not online within %v", user, short)
	}
	return c
}

// window returns the first stats report at or after t0 and the last one (ok false
// without two such reports).
func (c *caller) window(t0 time.Time) (first, last call.Stats, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range c.stats {
		if !r.at.Before(t0) {
			if i == len(c.stats)-1 {
				return call.Stats{}, call.Stats{}, false
			}
			return r.s, c.stats[len(c.stats)-1].s, true
		}
	}
	return call.Stats{}, call.Stats{}, false
}

// procCPU is the user+system CPU time of a process (Linux /proc).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ = 100
}
