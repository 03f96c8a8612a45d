package devices

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

type discardRTP struct{}

func (discardRTP) WriteRTP(*rtp.Packet) error { return nil }

// BenchmarkSimulcastCPU compares the send side of a 640x480@30 camera (test pattern,
// real time: read, VP8 encode, packetize) sent as one layer and as simulcast (plus the
// 320x240 and 160x120 layers), in process CPU over wall time (100% = one core).
// Run: go test -run X -bench SimulcastCPU -benchtime 150x ./devices/
func BenchmarkSimulcastCPU(b *testing.B) {
	for _, layers := range []int{1, 3} {
		name := map[int]string{1: "one", 3: "simulcast"}[layers]
		b.Run(name, func(b *testing.B) {
			src := newTestPatternSource(640, 480, 30, true)
			tr, err := newVideoTrack(src, 640, 480, 30, 0, nil, false, "s", quietLog())
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			tracks := []webrtc.TrackLocal{tr.WebRTC()}
			if layers == 3 {
				sim, err := NewSimulcast(tr, "s", 0, quietLog())
				if err != nil {
					b.Fatal(err)
				}
				defer sim.Close()
				tracks = sim.Tracks()
			}
			for i, t := range tracks {
				bind(b, t, &fakeBinding{id: t.RID(), ssrc: webrtc.SSRC(i + 1), codec: vp8Codec, sink: discardRTP{}})
			}
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			waitFrames := func(n uint64) {
				deadline := time.Now().Add(30 * time.Second)
				for tr.Frames() < n {
					if time.Now().After(deadline) {
						b.Fatalf("frames: %d of %d", tr.Frames(), n)
					}
					<-tick.C
				}
			}
			waitFrames(5) // warm-up
			b.ResetTimer()
			f0, cpu0, wall0 := tr.Frames(), cpuTime(), time.Now()
			waitFrames(f0 + uint64(b.N))
			cpu, wall := cpuTime()-cpu0, time.Since(wall0)
			b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
			b.ReportMetric(float64(tr.Frames()-f0)/wall.Seconds(), "fps")
		})
	}
}
