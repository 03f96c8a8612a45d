package call

import (
	"time"

	"github.com/pion/interceptor/pkg/cc"

	"github.com/ttycall/ttycall/devices"
)

// adaptInterval is how often a session hands its bandwidth estimate to the video
// encoder: GCC updates on every transport-wide feedback (about every 100 ms), and the
// encoder's rate control reacts within a few frames.
const adaptInterval = 250 * time.Millisecond

// audioReserve is what the estimate keeps for audio before video gets the rest: Opus at
// 32 kbit/s plus RTP/SRTP/UDP/IP headers at 50 packets a second. Audio has priority:
// under a tight cap the picture degrades, the voice does not.
const audioReserve = 48_000

// minVideoBitrate is the least the video encoder is asked for; below it libvpx cannot
// hold even the smallest rung and the estimate is better left to audio.
const minVideoBitrate = 30_000

// startAdapt makes the session's video encoder follow the bandwidth estimate while the
// session lives. Session goroutine only.
func (s *Session) startAdapt() {
	if s.adaptTimer != nil {
		return
	}
	var tick func()
	tick = func() {
		s.adapt()
		s.adaptTimer = s.after(adaptInterval, tick)
	}
	s.adaptTimer = s.after(adaptInterval, tick)
}

// lossDecrease is the loss (percent, as the receiver reports it) above which the
// estimate is lowered by half the loss, as Chromium's loss-based controller does;
// below it losses are the link's, not congestion's, and NACK/FEC repair them.
const lossDecrease = 10

// estimate is the bandwidth estimate (bit/s) of p's connection, 0 when there is none:
// GCC's delay-based estimate (delayBasedBWE says why not pion's combined one), lowered
// by the loss rule on the loss the receiver reports in its RTCP receiver reports.
func (s *Session) estimate(p *peer) int {
	if p.statsID() == "" {
		return 0
	}
	e, ok := s.c.estimators.Load(p.statsID())
	if !ok {
		return 0
	}
	est := e.(cc.BandwidthEstimator).GetTargetBitrate()
	if loss := int(p.videoLoss.Load()); loss > lossDecrease {
		est = est * (200 - loss) / 200
	}
	// A peer that sends REMB (receiver-side estimation, no transport-wide feedback)
	// caps the estimate: GCC without feedback would never lower it.
	if remb := int(p.remb.Load()); remb > 0 && remb < est {
		est = remb
	}
	return est
}

// videoTarget is the video encoder's target for an available bandwidth: what audio
// leaves, within the configured cap (which, like b=AS, is the video's).
func videoTarget(available, capKbps int) int {
	v := available - audioReserve
	if capKbps > 0 {
		v = min(v, capKbps*1000)
	}
	return max(v, minVideoBitrate)
}

// adapt sets the video encoder to the lowest estimate among the connected peers: one
// encoder feeds every peer of a mesh, so the slowest link decides.
func (s *Session) adapt() {
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	if ls == nil || ls.Video == nil {
		return
	}
	lowest := 0
	for _, p := range s.peers {
		if p.cur == nil || !p.answered || p.echo() != nil {
			continue
		}
		e := s.estimate(p)
		// What the peer's ULPFEC parity packets will take of it (devices/fectrack.go).
		e = int(float64(e) / (1 + devices.FECOverhead(int(p.videoLoss.Load()))))
		if e > 0 && (lowest == 0 || e < lowest) {
			lowest = e
		}
	}
	if lowest == 0 {
		return
	}
	ls.Video.SetBitrate(videoTarget(lowest, s.c.cfg.BandwidthKbps))
}
