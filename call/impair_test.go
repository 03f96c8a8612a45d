package call

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/impair"
)

// impairedNet gives a party a network whose egress is shaped by p.
func impairedNet(t testing.TB, p impair.Profile, seed uint64) (*impair.Net, func(*Config)) {
	t.Helper()
	n, err := impair.NewNet(nil, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Close)
	return n, func(c *Config) { c.net = n }
}

// biggerMedia sends 320x240@15: enough packets per frame for losses to hit video soon.
func biggerMedia(c *Config) {
	c.Media = devices.Options{Camera: devices.SourceTest, Microphone: devices.SourceTest, Width: 320, Height: 240, FPS: 15}
}

// seqSink records the sequence numbers a remote stream delivers.
type seqSink struct {
	mu      sync.Mutex
	seen    map[uint16]bool
	max     uint16
	late    int // packets that arrived after a higher sequence number: retransmissions
	started bool
}

func (s *seqSink) WriteRTP(p *rtp.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[uint16]bool{}
	}
	seq := p.SequenceNumber
	if s.started && int16(seq-s.max) < 0 && !s.seen[seq] {
		s.late++
	}
	if !s.started || int16(seq-s.max) > 0 {
		s.max, s.started = seq, true
	}
	s.seen[seq] = true
	return nil
}

// TestNACKRecoversLostVideo: alice's uplink loses 10% of its packets; bob's NACKs make
// alice resend them on the RTX stream (negotiated as Chromium does: video/rtx apt=96),
// so bob's video stream has the lost sequence numbers after all.
func TestNACKRecoversLostVideo(t *testing.T) {
	bus := membus.New()
	lossy, withLoss := impairedNet(t, impair.Profile{Loss: 0.10}, 1)
	withStats := func(c *Config) { biggerMedia(c); c.StatsReportInterval = 500 * time.Millisecond }
	alice := newMemParty(t, bus, "alice", func(c *Config) { withLoss(c); withStats(c) })
	bob := newMemParty(t, bus, "bob", withStats)
	s, bs := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	rs := remoteStream(t, bob, bs.ID(), "alice", devices.KindVideo)
	sink := &seqSink{}
	defer rs.AddSink(sink)()

	// RTX was negotiated for alice's video sender.
	rtx := uint32(0)
	_ = s.do("check RTX", func() error {
		for _, snd := range s.peers["bob"].pc().GetSenders() {
			if tr := snd.Track(); tr != nil && tr.Kind().String() == "video" {
				rtx = uint32(snd.GetParameters().Encodings[0].RTX.SSRC)
			}
		}
		return nil
	})
	if rtx == 0 {
		t.Fatal("no RTX SSRC on alice's video sender: video/rtx not negotiated")
	}

	// Wait until some packets were lost on the way and came back late.
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		sink.mu.Lock()
		late, n := sink.late, len(sink.seen)
		sink.mu.Unlock()
		if late >= 3 && n >= 150 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d video packets, %d retransmitted; shaper %+v", n, late, lossy.Counters())
		}
		<-tick.C
	}
	// Of the sequence numbers up to 100 packets behind the newest, nearly all arrived:
	// lost ones were resent (a resend can be lost again, and a NACK too).
	sink.mu.Lock()
	missing, span := 0, min(300, len(sink.seen)-120)
	for i := range span {
		if !sink.seen[sink.max-100-uint16(i)] {
			missing++
		}
	}
	sink.mu.Unlock()
	if c := lossy.Counters(); c.DroppedLoss == 0 {
		t.Fatal("the shaper dropped nothing: the test tests nothing")
	}
	if span > 0 && float64(missing)/float64(span) > 0.05 {
		t.Errorf("%d of %d video packets never arrived at 10%% loss: NACK/RTX did not recover them", missing, span)
	}
	// The stats report it as getStats would: bob sent NACKs, alice received them, and
	// alice's congestion controller has an estimate.
	bob.rec.wait(t, "bob's stats with NACKs sent", func(ev Event) bool {
		e, ok := ev.(StatsEvent)
		return ok && e.User == "alice" && e.Stats.Remote.Video.NACKCount > 0
	})
	alice.rec.wait(t, "alice's stats with NACKs received and an estimate", func(ev Event) bool {
		e, ok := ev.(StatsEvent)
		return ok && e.User == "bob" && e.Stats.Local.Video.NACKCount > 0 && e.Stats.AvailableOutgoingBitrate > 0 &&
			e.Stats.Local.Video.QualityLimitationReason != ""
	})
}

// TestEstimatorLowersBitrateUnderCap: alice's uplink is capped at 120 kbit/s, less
// than the 300 kbit/s GCC starts at; the delay-based estimator sees the queue grow and
// the video encoder is lowered below the cap.
func TestEstimatorLowersBitrateUnderCap(t *testing.T) {
	bus := membus.New()
	const capBps = 120_000
	_, capped := impairedNet(t, impair.Profile{RateBps: capBps}, 1)
	alice := newMemParty(t, bus, "alice", func(c *Config) { capped(c); biggerMedia(c) })
	bob := newMemParty(t, bus, "bob", biggerMedia)
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	ls := s.LocalStream()
	if ls == nil || ls.Video == nil {
		t.Fatal("no local video")
	}
	deadline := time.Now().Add(3 * waitTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		q := ls.Video.Quality()
		if q.BitrateBps > 0 && q.BitrateBps < capBps {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("video target still %d bit/s over a %d bit/s link", q.BitrateBps, capBps)
		}
		<-tick.C
	}
}
