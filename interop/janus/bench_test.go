package janus

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkRoomVsMesh: N `ttycall headless --room --video` processes (160x120 at
// 15 fps) in one Janus room until every one receives every other's audio and video,
// then CPU per participant over a window; then the same processes as a 4-party mesh
// video call through Prosody, CPU per participant over the same window. With
// TTYCALL_BENCH_TUI=1 the terminal interface (in tmux, 160x45) joins the room too, and
// its CPU is reported apart.
//
//	TTYCALL_BENCH_ROOM=8 TTYCALL_BENCH_SECONDS=20 TTYCALL_BENCH_TUI=1 go test -run '^$' -bench RoomVsMesh -benchtime 1x ./interop/janus/
func BenchmarkRoomVsMesh(b *testing.B) {
	n := envInt("TTYCALL_BENCH_ROOM", 8)
	window := time.Duration(envInt("TTYCALL_BENCH_SECONDS", 20)) * time.Second
	for i := 0; i < b.N; i++ {
		room, janus, tui := benchRoom(b, n, window, os.Getenv("TTYCALL_BENCH_TUI") == "1")
		mesh := benchMesh(b, 4, window)
		b.ReportMetric(room*100, "room-cpu%/participant")
		b.ReportMetric(janus*100, "janus-cpu%")
		b.ReportMetric(mesh*100, "mesh4-cpu%/participant")
		if tui > 0 {
			b.ReportMetric(tui*100, "tui-cpu%")
			b.Logf("the TUI in the room: %.1f%% CPU", tui*100)
		}
		b.Logf("room of %d: %.1f%% CPU per participant (Janus %.1f%%); 4-party mesh: %.1f%% CPU per participant", n, room*100, janus*100, mesh*100)
	}
}

// cpuOver measures the CPU share (1 = one core) of each process over window.
func cpuOver(window time.Duration, pids []int) []float64 {
	before := make([]float64, len(pids))
	for i, p := range pids {
		before[i] = procCPU(p)
	}
	start := time.Now()
	time.Sleep(window) // a measurement window, not a wait for an event
	el := time.Since(start).Seconds()
	out := make([]float64, len(pids))
	for i, p := range pids {
		out[i] = (procCPU(p) - before[i]) / el
	}
	return out
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func benchRoom(b *testing.B, n int, window time.Duration, withTUI bool) (perParticipant, janusCPU, tuiCPU float64) {
	s := startJanus(b, janusserver.Room{ID: "bench", Publishers: n + 2})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var tui *TUI
	if withTUI {
		srv := xmppservertest.Start(b, xmppserver.Options{Users: map[string]string{"tui": "pw"}})
		tui = startTUI(b, ctx, s, srv)
		tui.waitScreen("contacts screen", "contacts")
		tui.keys("r")
		tui.waitScreen("room prompt", "join room:")
		tui.keys("bench", "Enter")
	}
	var ttys []*Tty
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("p%d", i)
		names = append(names, name)
		ttys = append(ttys, startTty(b, s, "bench", name, TtyOpts{Video: true, Stats: time.Second, Quiet: true}))
	}
	for i, t := range ttys {
		for j, other := range names {
			if i != j {
				t.WaitFor(ctx, "media from "+other, receivesFrom(other, true))
			}
		}
	}
	if tui != nil {
		tui.waitScreen("every participant's tile", fmt.Sprintf("%d other(s)", n))
		for _, t := range ttys {
			t.WaitFor(ctx, "the TUI's media", receivesFrom("tui", true))
		}
	}
	b.Logf("room: all %d participants receive the other %d feeds", n, n-1)
	pids := []int{s.Pid()}
	for _, t := range ttys {
		pids = append(pids, t.cmd.Process.Pid)
	}
	if tui != nil {
		pids = append(pids, tui.pid())
	}
	cpu := cpuOver(window, pids)
	for _, t := range ttys {
		t.Stop()
	}
	if tui != nil {
		return mean(cpu[1 : len(cpu)-1]), cpu[0], cpu[len(cpu)-1]
	}
	return mean(cpu[1:]), cpu[0], 0
}

func benchMesh(b *testing.B, n int, window time.Duration) float64 {
	users := map[string]string{}
	for i := 0; i < n; i++ {
		users[fmt.Sprintf("m%d", i)] = "pw"
	}
	srv := xmppservertest.Start(b, xmppserver.Options{Users: users})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := func(u string) string {
		return fmt.Sprintf("[account]\njid = %q\npassword = \"pw\"\nserver = %q\nca_file = %q\nresource = \"bench\"\n\n[calls]\nstats_report_time_interval = 1\n\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\nwidth = 160\nheight = 120\nfps = 15\n",
			u+"@"+srv.Domain, srv.Addr, srv.CAFile)
	}
	var ttys []*Tty
	var ids []string
	for i := 1; i < n; i++ {
		u := fmt.Sprintf("m%d", i)
		ids = append(ids, u+"@"+srv.Domain)
		t := runTty(b, u, cfg(u), TtyOpts{Video: true, Quiet: true}, "--answer", "auto")
		t.WaitFor(ctx, "online", Has("event", "online"))
		ttys = append(ttys, t)
	}
	caller := runTty(b, "m0", cfg("m0"), TtyOpts{Video: true, Quiet: true}, "--call", strings.Join(ids, ","))
	ttys = append([]*Tty{caller}, ttys...)
	for _, t := range ttys {
		t.WaitFor(ctx, fmt.Sprintf("%d peers connected", n-1), func(evs []Event) bool {
			peers := map[string]bool{}
			for _, e := range evs {
				if e.str("event") == "connection_state" && e.str("state") == "CONNECTED" {
					peers[e.str("user")] = true
				}
			}
			return len(peers) >= n-1
		})
	}
	b.Logf("mesh: all %d parties connected to the other %d", n, n-1)
	var pids []int
	for _, t := range ttys {
		pids = append(pids, t.cmd.Process.Pid)
	}
	cpu := cpuOver(window, pids)
	for _, t := range ttys {
		t.Stop()
	}
	return mean(cpu)
}

// BenchmarkRoomJoinTime: from starting `ttycall headless --room --video` to its first
// remote video (the remote_stream event of the first packet of the one other
// publisher's video), TTYCALL_BENCH_JOINS times (10); the median is reported.
//
//	go test -run '^$' -bench RoomJoinTime -benchtime 1x ./interop/janus/
func BenchmarkRoomJoinTime(b *testing.B) {
	joins := envInt("TTYCALL_BENCH_JOINS", 10)
	for i := 0; i < b.N; i++ {
		s := startJanus(b, janusserver.Room{ID: "join"})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		host := startTty(b, s, "join", "host", TtyOpts{Video: true, Quiet: true})
		host.WaitFor(ctx, "room_joined", Has("event", "room_joined"))
		var ms []float64
		for j := 0; j < joins; j++ {
			t := startTty(b, s, "join", fmt.Sprintf("j%d", j), TtyOpts{Video: true, Quiet: os.Getenv("TTYCALL_BENCH_KEEPLOG") == ""})
			t.WaitFor(ctx, "host's video", Has("event", "remote_stream", "display", "host", "kind", "video"))
			e := find(t.Events(), "event", "remote_stream", "display", "host", "kind", "video")
			at, _ := e["_at"].(time.Time)
			ms = append(ms, float64(at.Sub(t.start).Microseconds())/1000)
			if os.Getenv("TTYCALL_BENCH_KEEPLOG") != "" {
				fmt.Fprintf(os.Stderr, "j%d: %.0f ms\n%s", j, ms[len(ms)-1], t.logText())
			}
			t.Stop()
		}
		cancel()
		if os.Getenv("TTYCALL_BENCH_KEEPLOG") != "" {
			b, _ := os.ReadFile(s.LogFile)
			fmt.Fprintf(os.Stderr, "janus log:\n%s", b)
		}
		sort.Float64s(ms)
		med := (ms[(len(ms)-1)/2] + ms[len(ms)/2]) / 2
		b.ReportMetric(med, "ms-median")
		b.Logf("join (process start to first remote video packet), %d runs: median %.0f ms, all %v", joins, med, ms)
	}
}
