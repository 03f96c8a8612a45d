package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/impair"
)

// webStats are the figures of one opponent in the page's getStats (page.js).
type webStats struct {
	RTPStats
	FreezeCount              float64 `json:"freezeCount"`
	TotalFreezesDuration     float64 `json:"totalFreezesDuration"`
	InVideoPacketsLost       float64 `json:"inVideoPacketsLost"`
	InVideoPackets           float64 `json:"inVideoPackets"`
	InAudioPacketsLost       float64 `json:"inAudioPacketsLost"`
	InAudioPackets           float64 `json:"inAudioPackets"`
	NACKCount                float64 `json:"nackCount"`
	FrameWidth               float64 `json:"frameWidth"`
	AvailableOutgoingBitrate float64 `json:"availableOutgoingBitrate"`
	JitterBufferDelay        float64 `json:"jitterBufferDelay"`
	JitterBufferEmittedCount float64 `json:"jitterBufferEmittedCount"`
	RemoteRTT                float64 `json:"remoteRTT"`
	PLICount                 float64 `json:"pliCount"`
	KeyFramesDecoded         float64 `json:"keyFramesDecoded"`
	FramesDropped            float64 `json:"framesDropped"`
}

func (p *Page) webStats(ctx context.Context, session string) map[string]webStats {
	p.b.tb.Helper()
	var out map[string]webStats
	p.Must(ctx, &out, "getStats", session)
	return out
}

// BenchmarkImpairedWeb runs, per profile of internal/impair.BenchProfiles, a video call
// Chromium <-> Chromium (QuickBlox pages) and ttycall <-> Chromium, every peer on
// relay-only ICE through an impairing TURN relay (impair.Relay), for IMPAIR_SECONDS
// (default 30), and reports what the receiving side's getStats says: received fps,
// freeze time (Chromium's own freeze count), audio packets lost (headless Chromium plays
// no audio, so concealment is compared by loss), the sender's rate.
//
//	go test ./interop -run '^$' -bench ImpairedWeb -benchtime 1x
func BenchmarkImpairedWeb(b *testing.B) {
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("IMPAIR_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	dur := time.Duration(secs) * time.Second
	for _, bp := range impair.BenchProfiles {
		b.Run(bp.Name+"/chromium-chromium", func(b *testing.B) {
			for range b.N {
				webToWeb(b, bp, dur)
			}
		})
		b.Run(bp.Name+"/ttycall-chromium", func(b *testing.B) {
			for range b.N {
				ttyToWeb(b, bp, dur)
			}
		})
	}
}

func startRelay(b *testing.B, bp impair.BenchProfile, dur time.Duration) (*impair.Relay, WebRTC) {
	r, err := impair.StartRelay(bp.Link, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	w := WebRTC{RelayOnly: true, IceServers: []map[string]any{{"urls": r.URL, "username": r.Username, "credential": r.Password}}}
	return r, w
}

// shape runs the call for dur, dropping the capacity in the middle third for (e). For
// (e) it reports the receiver's rate (recvBytes: its cumulative received bytes) before
// the drop (the second half of the first third), during it, and the recovery time: from
// the capacity's return until the rate over the last second is back to 90% of the rate
// before the drop (-1: not within the last third).
func shape(b *testing.B, who string, r *impair.Relay, bp impair.BenchProfile, dur time.Duration, recvBytes func() float64) {
	if !bp.Drop {
		<-time.After(dur) // the call runs for its length: this is the measurement
		return
	}
	<-time.After(dur / 6)
	b0, t0 := recvBytes(), time.Now()
	<-time.After(dur/3 - dur/6)
	before := (recvBytes() - b0) * 8 / 1000 / time.Since(t0).Seconds()
	r.Net.SetProfile(bp.DropTo)
	b1, t1 := recvBytes(), time.Now()
	<-time.After(dur / 3)
	during := (recvBytes() - b1) * 8 / 1000 / time.Since(t1).Seconds()
	r.Net.SetProfile(bp.Link)
	back := time.Now()
	end := back.Add(dur - 2*(dur/3))
	type sample struct {
		t time.Time
		b float64
	}
	samples := []sample{{back, recvBytes()}}
	recovery := -1.0
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for now := range tick.C {
		if now.After(end) {
			break
		}
		cur := sample{now, recvBytes()}
		samples = append(samples, cur)
		// the rate over the last second (or since the capacity came back)
		i := 0
		for i < len(samples)-1 && cur.t.Sub(samples[i+1].t) >= time.Second {
			i++
		}
		if recovery < 0 && cur.t.Sub(samples[i].t) >= 900*time.Millisecond {
			if (cur.b-samples[i].b)*8/1000/cur.t.Sub(samples[i].t).Seconds() >= 0.9*before {
				recovery = cur.t.Sub(back).Seconds()
			}
		}
	}
	b.ReportMetric(recovery, "recovery-s")
	b.Logf("%s %s: received %.0f kbit/s before the drop, %.0f during it; back to 90%% %.2f s after the capacity returned",
		bp.Name, who, before, during, recovery)
}

func reportWeb(b *testing.B, who string, in, out webStats, dur time.Duration, bp impair.BenchProfile) {
	secs := dur.Seconds()
	b.ReportMetric(in.FramesDecoded/secs, "recv-fps")
	b.ReportMetric(in.TotalFreezesDuration, "freeze-s")
	b.ReportMetric(in.FreezeCount, "freezes")
	if n := in.InAudioPackets + in.InAudioPacketsLost; n > 0 {
		b.ReportMetric(100*in.InAudioPacketsLost/n, "audio-lost-%")
	}
	kbps := (out.OutVideoBytes + out.OutAudioBytes) * 8 / 1000 / secs
	b.ReportMetric(kbps, "sent-kbps")
	if bp.Capacity > 0 {
		b.ReportMetric(100*kbps*1000/float64(bp.Capacity), "sent-%-of-capacity")
	}
	jb := 0.0
	if in.JitterBufferEmittedCount > 0 {
		jb = 1000 * in.JitterBufferDelay / in.JitterBufferEmittedCount
	}
	b.Logf("%s %s: %.1f fps, freezes %.0f (%.1fs), video lost %.0f/%.0f, jitter buffer %.0f ms, audio lost %.0f/%.0f, nack %.0f, width %.0f, sent %.0f kbit/s, its video sender's RTT %.0f ms, PLI %.0f, key frames %.0f, frames dropped %.0f",
		bp.Name, who, in.FramesDecoded/secs, in.FreezeCount, in.TotalFreezesDuration, in.InVideoPacketsLost, in.InVideoPackets,
		jb, in.InAudioPacketsLost, in.InAudioPackets, in.NACKCount, in.FrameWidth, kbps, 1000*in.RemoteRTT, in.PLICount, in.KeyFramesDecoded, in.FramesDropped)
}

func webToWeb(b *testing.B, bp impair.BenchProfile, dur time.Duration) {
	ctx := ctxFor(b, dur+3*time.Minute)
	env := startEnv(b, ctx, 101, 102)
	r, w := startRelay(b, bp, dur)
	caller := env.WebUser(ctx, 101, w)
	callee := env.WebUser(ctx, 102, w)
	callee.Must(ctx, nil, "setAutoAnswer", "accept", map[string]string{})
	mark := caller.Mark()
	var c callResult
	caller.Must(ctx, &c, "call", []int{102}, videoCall, map[string]string{})
	waitConnected(ctx, caller, mark, c.Session, 102)
	start := time.Now()
	s0 := callee.webStats(ctx, c.Session)["101"]
	o0 := caller.webStats(ctx, c.Session)["102"]
	shape(b, "chromium->chromium", r, bp, dur, func() float64 {
		st := callee.webStats(ctx, c.Session)["101"]
		return st.InVideoBytes + st.InAudioBytes
	})
	in := delta(callee.webStats(ctx, c.Session)["101"], s0)
	out := delta(caller.webStats(ctx, c.Session)["102"], o0)
	reportWeb(b, "chromium->chromium", in, out, time.Since(start), bp)
}

func ttyToWeb(b *testing.B, bp impair.BenchProfile, dur time.Duration) {
	ctx := ctxFor(b, dur+3*time.Minute)
	env := startEnv(b, ctx, 101, 201)
	r, w := startRelay(b, bp, dur)
	ice := fmt.Sprintf("\n[ice]\ntransport_policy = \"relay\"\n[[ice.servers]]\nurls = [%q]\nusername = %q\ncredential = %q\n",
		r.URL, r.Username, r.Password)
	tty := env.Ttycall(ctx, 201, TtyOpts{Args: []string{"--answer", "auto", "--video"}, StatsInterval: 1, ExtraTOML: ice,
		MediaTOML: os.Getenv("IMPAIR_TTYCALL_MEDIA")})
	web := env.WebUser(ctx, 101, w)
	wm, tm := web.Mark(), tty.Mark()
	var c callResult
	// ICE gives up after 30 s: no need to wait the whole call's deadline for it.
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if os.Getenv("IMPAIR_TTYCALL_CALLS") != "" {
		// ttycall offers, Chromium answers (its codecs then come from our offer).
		web.Must(ctx, nil, "setAutoAnswer", "accept", map[string]string{})
		tty.Send("call 101 video")
		ce := tty.Wait(cctx, tm, "event", "connection_state", "user", "101", "state", "CONNECTED")
		c.Session = ce.Str("session")
		waitConnected(cctx, web, wm, c.Session, 201)
	} else {
		web.Must(ctx, &c, "call", []int{201}, videoCall, map[string]string{})
		waitConnected(cctx, web, wm, c.Session, 201)
		tty.Wait(cctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED")
	}
	start := time.Now()
	s0 := web.webStats(ctx, c.Session)["201"]
	shape(b, "ttycall->chromium", r, bp, dur, func() float64 {
		st := web.webStats(ctx, c.Session)["201"]
		return st.InVideoBytes + st.InAudioBytes
	})
	in := delta(web.webStats(ctx, c.Session)["201"], s0)
	// What ttycall sent comes from what Chromium received (bytes), and what ttycall
	// received from its last stats event.
	out := webStats{RTPStats: RTPStats{OutVideoBytes: in.InVideoBytes, OutAudioBytes: in.InAudioBytes}}
	reportWeb(b, "ttycall->chromium", in, out, time.Since(start), bp)
	var last Event
	for _, e := range tty.Events(tm) {
		if e.Str("event") == "stats" && e.Str("session") == c.Session {
			last = e
		}
	}
	if last != nil {
		lraw, _ := json.Marshal(last["local"])
		b.Logf("ttycall's local: %s rtt %v", lraw, last["rtt_ms"])
		raw, _ := json.Marshal(last["remote"])
		b.Logf("%s chromium->ttycall: ttycall's last stats (whole call): %s", bp.Name, raw)
	}
}

// delta is the growth of the counters from a to b (FrameWidth, estimates: b's).
func delta(b, a webStats) webStats {
	d := b
	d.FramesDecoded -= a.FramesDecoded
	d.FreezeCount -= a.FreezeCount
	d.TotalFreezesDuration -= a.TotalFreezesDuration
	d.InVideoPacketsLost -= a.InVideoPacketsLost
	d.InVideoPackets -= a.InVideoPackets
	d.InAudioPacketsLost -= a.InAudioPacketsLost
	d.InAudioPackets -= a.InAudioPackets
	d.NACKCount -= a.NACKCount
	d.PLICount -= a.PLICount
	d.KeyFramesDecoded -= a.KeyFramesDecoded
	d.FramesDropped -= a.FramesDropped
	d.JitterBufferDelay -= a.JitterBufferDelay
	d.JitterBufferEmittedCount -= a.JitterBufferEmittedCount
	d.InVideoBytes -= a.InVideoBytes
	d.InAudioBytes -= a.InAudioBytes
	d.OutVideoBytes -= a.OutVideoBytes
	d.OutAudioBytes -= a.OutAudioBytes
	return d
}
