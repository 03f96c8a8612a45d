package call

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
)

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// selfRSS is this process's resident set size in MB (Linux /proc).
func selfRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkNeverConnecting600: a stranger's 600 calls, answered (Echo; every 20th with
// an audio pipeline), that never connect. The figure is the time from the last answer
// until every session, ICE agent and pipeline is gone, with the production bound
// (ConnectTimeInterval = the disconnect interval, 30 s) unless TTYCALL_BENCH_CONNECT_S.
//
//	go test -run '^$' -bench NeverConnecting600 -benchtime 1x ./call/
func BenchmarkNeverConnecting600(b *testing.B) {
	bound := time.Duration(benchEnvInt("TTYCALL_BENCH_CONNECT_S", 30)) * time.Second
	for range b.N {
		x := startProsody(b, "alice", "mallory")
		alice := newXMPPParty(b, x, "alice", func(c *Config) { c.Echo, c.ConnectTimeInterval = true, bound })
		mallory := newStranger(b, x, "mallory")
		sdp := deadOffer(b)
		base := goleak.IgnoreCurrent()
		g0, fd0, rss0 := runtime.NumGoroutine(), openFDs(b), selfRSS()
		cpu0 := selfCPU()
		b.ResetTimer()
		freed := neverConnecting(b, alice, mallory, sdp, 600)
		b.StopTimer()
		cpu := selfCPU() - cpu0
		if err := goleak.Find(base); err != nil {
			b.Errorf("goroutines left: %v", err)
		}
		b.ReportMetric(freed.Seconds(), "freed-after-s")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0), "goroutines-left")
		b.ReportMetric(float64(openFDs(b)-fd0), "fds-left")
		b.ReportMetric(selfRSS()-rss0, "rss-growth-MB")
		debug.FreeOSMemory()
		b.ReportMetric(selfRSS()-rss0, "rss-growth-after-free-MB")
		b.ReportMetric(cpu.Seconds(), "cpu-s")
	}
}

// liveHeapMB is the heap in use after a collection, in MB.
func liveHeapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// selfCPU is the user+system CPU time of this process (not of its children).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSequentialCalls: TTYCALL_BENCH_CALLS (default 1000) 1:1 video calls one
// after another (media flowing, then hung up) on the in-memory bus. Goroutines, file
// descriptors and RSS after the first tenth and at the end: they stay flat.
//
//	go test -run '^$' -bench SequentialCalls -benchtime 1x -timeout 60m ./call/
func BenchmarkSequentialCalls(b *testing.B) {
	n := benchEnvInt("TTYCALL_BENCH_CALLS", 1000)
	for range b.N {
		bus := membus.New()
		alice := newMemParty(b, bus, "alice", nil)
		bob := newMemParty(b, bus, "bob", func(c *Config) { c.Echo = true })
		one := func() {
			s, _ := startCall(b, alice, bob, CallTypeVideo, nil, nil)
			waitPackets(b, remoteStream(b, alice, s.ID(), "bob", devices.KindVideo), 3)
			if err := s.Stop(nil); err != nil {
				b.Fatal(err)
			}
			alice.rec.wait(b, "closed", isSessionClose(s.ID()))
			bob.rec.wait(b, "closed", isSessionClose(s.ID()))
		}
		b.ResetTimer()
		var g1, fd1 int
		var rss1, heap1 float64
		for i := 1; i <= n; i++ {
			one()
			if i == n/10 {
				g1, fd1, rss1, heap1 = runtime.NumGoroutine(), openFDs(b), selfRSS(), liveHeapMB()
			}
			if i%100 == 0 {
				// The recorders keep every event: drop them, they are the test's memory.
				alice.rec.mu.Lock()
				alice.rec.evs = nil
				alice.rec.mu.Unlock()
				bob.rec.mu.Lock()
				bob.rec.evs = nil
				bob.rec.mu.Unlock()
			}
		}
		b.StopTimer()
		g2, fd2, rss2, heap2 := runtime.NumGoroutine(), openFDs(b), selfRSS(), liveHeapMB()
		b.Logf("after %d calls: goroutines %d, fds %d, RSS %.1f MB, live heap %.1f MB; after %d: %d, %d, %.1f MB, %.1f MB",
			n/10, g1, fd1, rss1, heap1, n, g2, fd2, rss2, heap2)
		b.ReportMetric(heap2-heap1, "live-heap-growth-MB")
		b.ReportMetric(float64(g2-g1), "goroutine-growth")
		b.ReportMetric(float64(fd2-fd1), "fd-growth")
		b.ReportMetric(rss2-rss1, "rss-growth-MB")
		b.ReportMetric(rss2, "rss-end-MB")
	}
}
