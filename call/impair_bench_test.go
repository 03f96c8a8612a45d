package call

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/impair"
)

// discardOutput is an AudioOutput that throws the PCM away: the audio receivers still
// decode, conceal and count.
type discardOutput struct{}

func (discardOutput) NewInput(string, int) (devices.PCMWriter, error) { return discardOutput{}, nil }
func (discardOutput) WritePCM([]int16) error                          { return nil }
func (discardOutput) Close() error                                    { return nil }

// BenchmarkImpairedCall runs a 640x480@30 video call (test pattern and tone both ways,
// decoded on both sides) between two ttycall engines over in-process shaped links, one
// per profile of the issue, and reports what bob receives from alice as Chromium's
// getStats would: received fps, total freeze time, concealed audio, alice's sending
// rate against the capacity, and in (e) how long the picture kept freezing after the
// drop. IMPAIR_SECONDS changes the call length (default 30).
//
//	go test -run '^$' -bench ImpairedCall -benchtime 1x ./call/
func BenchmarkImpairedCall(b *testing.B) {
	secs := 30
	if v, err := strconv.Atoi(os.Getenv("IMPAIR_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	for _, bp := range impair.BenchProfiles {
		b.Run(bp.Name, func(b *testing.B) {
			for range b.N {
				runImpairedCall(b, bp, time.Duration(secs)*time.Second)
			}
		})
	}
}

func runImpairedCall(b *testing.B, bp impair.BenchProfile, dur time.Duration) {
	bus := membus.New()
	na, withA := impairedNet(b, bp.Link, 1)
	blink := bp.Link
	if os.Getenv("IMPAIR_ONEWAY") != "" {
		blink = impair.Profile{Delay: bp.Link.Delay}
	}
	nb, withB := impairedNet(b, blink, 2)
	media := func(c *Config) {
		c.Media = devices.Options{Camera: devices.SourceTest, Microphone: devices.SourceTest, Width: 640, Height: 480, FPS: 30}
		c.DecodeVideo = true
		c.AudioOutput = discardOutput{}
		c.StatsReportInterval = 500 * time.Millisecond
	}
	alice := newMemParty(b, bus, "alice", func(c *Config) { withA(c); media(c) })
	bob := newMemParty(b, bus, "bob", func(c *Config) { withB(c); media(c) })
	s, _ := startCall(b, alice, bob, CallTypeVideo, nil, nil)
	start := time.Now()
	var dropAt time.Time
	if bp.Drop {
		dropTimer := time.AfterFunc(dur/3, func() { na.SetProfile(bp.DropTo); nb.SetProfile(bp.DropTo) })
		upTimer := time.AfterFunc(2*dur/3, func() { na.SetProfile(bp.Link); nb.SetProfile(bp.Link) })
		defer dropTimer.Stop()
		defer upTimer.Stop()
		dropAt = start.Add(dur / 3)
	}
	if os.Getenv("IMPAIR_TRACE") != "" {
		tick := time.NewTicker(time.Second)
		for range int(dur / time.Second) {
			<-tick.C
			alice.estimators.Range(func(_, v any) bool {
				if g, ok := v.(interface{ GetStats() map[string]any }); ok {
					st := g.GetStats()
					b.Logf("%v loss %v delay %v avgloss %.3f usage %v state %v", time.Since(start).Round(time.Second), st["lossTargetBitrate"], st["delayTargetBitrate"], st["averageLoss"], st["usage"], st["state"])
				}
				return true
			})
		}
		tick.Stop()
	} else {
		<-time.After(dur) // the call runs for its length: this is the measurement
	}
	end := time.Now()

	// bob's reports about alice's stream, alice's about what she sends.
	var recv, sent []StatsEvent
	for _, ev := range bob.rec.events() {
		if e, ok := ev.(StatsEvent); ok && e.SessionID == s.ID() && e.User == "alice" {
			recv = append(recv, e)
		}
	}
	for _, ev := range alice.rec.events() {
		if e, ok := ev.(StatsEvent); ok && e.SessionID == s.ID() && e.User == "bob" {
			sent = append(sent, e)
		}
	}
	if len(recv) < 2 || len(sent) < 2 {
		b.Fatalf("%d/%d stats reports", len(recv), len(sent))
	}
	last := recv[len(recv)-1].Stats
	var fps, kbps float64
	for _, e := range recv {
		fps += e.Stats.Remote.Video.FPS
	}
	fps /= float64(len(recv))
	for _, e := range sent {
		kbps += e.Stats.Local.Video.BitrateKbps + e.Stats.Local.Audio.BitrateKbps
	}
	kbps /= float64(len(sent))
	a := last.Remote.Audio
	concealed := 0.0
	if a.TotalSamplesReceived > 0 {
		concealed = 100 * float64(a.ConcealedSamples) / float64(a.TotalSamplesReceived)
	}
	b.ReportMetric(fps, "recv-fps")
	b.ReportMetric(last.Remote.Video.TotalFreezesDuration.Seconds(), "freeze-s")
	b.ReportMetric(float64(last.Remote.Video.FreezeCount), "freezes")
	b.ReportMetric(concealed, "concealed-%")
	b.ReportMetric(float64(a.JitterBufferDelay.Microseconds())/1000, "audio-jb-ms")
	b.ReportMetric(kbps, "sent-kbps")
	b.ReportMetric(float64(last.Remote.Video.PacketsLost), "video-lost")
	b.ReportMetric(float64(last.Remote.Video.NACKCount), "nacks")
	if bp.Capacity > 0 {
		b.ReportMetric(100*kbps*1000/float64(bp.Capacity), "sent-%-of-capacity")
	}
	if bp.Drop {
		// Recovery: from the drop until the last report (before the capacity comes back)
		// in which the freeze total still grew; and until alice's estimate went under
		// the new capacity.
		var froze, adapted time.Duration
		prev := time.Duration(-1)
		for _, e := range recv {
			at := e.Time
			if at.Before(dropAt) || at.After(start.Add(2*dur/3)) {
				prev = e.Stats.Remote.Video.TotalFreezesDuration
				continue
			}
			if prev >= 0 && e.Stats.Remote.Video.TotalFreezesDuration > prev {
				froze = at.Sub(dropAt)
			}
			prev = e.Stats.Remote.Video.TotalFreezesDuration
		}
		for _, e := range sent {
			if !e.Time.Before(dropAt) && e.Stats.AvailableOutgoingBitrate > 0 && e.Stats.AvailableOutgoingBitrate < float64(bp.DropTo.RateBps) {
				adapted = e.Time.Sub(dropAt)
				break
			}
		}
		b.ReportMetric(froze.Seconds(), "freezing-after-drop-s")
		b.ReportMetric(adapted.Seconds(), "estimate-under-capacity-s")
	}
	if os.Getenv("IMPAIR_TRACE") != "" {
		for _, e := range sent {
			q := e.Stats.Local.Video
			b.Logf("%5.1fs estimate %4.0f kbps sent video %4.0f kbps %dx%d %.0f fps %s", e.Time.Sub(start).Seconds(),
				e.Stats.AvailableOutgoingBitrate/1000, q.BitrateKbps, q.Width, q.Height, q.FPS, q.QualityLimitationReason)
		}
	}
	ca := na.Counters()
	b.Logf("%s: %s; alice's link: %d packets, %d lost, %d queue drops; last report: %s",
		bp.Name, end.Sub(start).Round(time.Second), ca.Packets, ca.DroppedLoss, ca.DroppedQueue, statsLine(last))
}

func statsLine(s Stats) string {
	v, a := s.Remote.Video, s.Remote.Audio
	return fmt.Sprintf("video %dx%d %.1f fps freezes %d (%.1fs) jb %v lost %d nack %d pli %d; audio concealed %d/%d",
		v.Width, v.Height, v.FPS, v.FreezeCount, v.TotalFreezesDuration.Seconds(), v.JitterBufferDelay, v.PacketsLost,
		v.NACKCount, v.PLICount, a.ConcealedSamples, a.TotalSamplesReceived)
}
