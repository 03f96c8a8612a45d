package call

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ttycall/ttycall/devices"
)

// BenchmarkCallSetupProsody measures, through the local Prosody with the real XMPP
// accounts, the time from Call() until both sides report CONNECTED (the callee answers
// in Echo mode from its OnCall listener), and from the caller's CONNECTED to the first
// remote video frame (the caller's synthetic video echoed back): first RTP packet and,
// with DecodeVideo, first decoded frame. Run with at least 50 calls:
//
//	go test -run '^$' -bench CallSetupProsody -benchtime 60x ./call/
func BenchmarkCallSetupProsody(b *testing.B) {
	x := startProsody(b, "alice", "bob")
	alice := newXMPPParty(b, x, "alice", func(c *Config) {
		c.DecodeVideo = true
		c.Media.Width, c.Media.Height, c.Media.FPS = 320, 240, 30
	})
	bob := newXMPPParty(b, x, "bob", func(c *Config) { c.Echo = true })
	bob.OnCall(func(s *Session, _ CallEvent) {
		if err := s.Accept(nil); err != nil {
			b.Error(err)
		}
	})
	ctx := context.Background()
	var setup, firstPkt, firstFrame []time.Duration
	one := func(record bool) {
		s, err := alice.CreateNewSession([]UserID{bob.LocalID()}, CallTypeVideo)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetUserMedia(ctx, devices.MediaParams{Audio: true, Video: true}); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := s.Call(nil); err != nil {
			b.Fatal(err)
		}
		connAt := func(p *party, user UserID) time.Time {
			return p.rec.wait(b, "CONNECTED", func(ev Event) bool {
				e, ok := ev.(ConnectionStateEvent)
				return ok && e.SessionID == s.ID() && e.User == user && e.State == ConnectionConnected
			}).Meta().Time
		}
		ta, tb := connAt(alice, bob.LocalID()), connAt(bob, alice.LocalID())
		rs := remoteStream(b, alice, s.ID(), bob.LocalID(), devices.KindVideo)
		// Poll the frame slot (a benchmark measurement, 1 ms resolution).
		deadline := time.Now().Add(waitTimeout)
		var frameAt time.Time
		for frameAt.IsZero() {
			if _, seq := rs.Video.Load(); seq > 0 {
				frameAt = time.Now()
			} else if time.Now().After(deadline) {
				b.Fatal("no decoded frame")
			} else {
				time.Sleep(time.Millisecond)
			}
		}
		if record {
			setup = append(setup, max(ta.Sub(t0), tb.Sub(t0)))
			firstPkt = append(firstPkt, rs.FirstPacketAt().Sub(ta))
			firstFrame = append(firstFrame, frameAt.Sub(ta))
		}
		if err := s.Stop(nil); err != nil {
			b.Fatal(err)
		}
		alice.rec.wait(b, "closed", isSessionClose(s.ID()))
		bob.rec.wait(b, "closed", isSessionClose(s.ID()))
	}
	one(false) // warm-up: first connection of the accounts' sessions
	b.ResetTimer()
	for range b.N {
		one(true)
	}
	b.StopTimer()
	report := func(name string, d []time.Duration) {
		slices.Sort(d)
		b.ReportMetric(ms(pct(d, 50)), name+"-median-ms")
		b.ReportMetric(ms(pct(d, 99)), name+"-p99-ms")
	}
	report("setup", setup)
	report("firstpkt", firstPkt)
	report("firstframe", firstFrame)
	if b.N < 50 {
		b.Logf("only %d calls: use -benchtime 60x for the recorded figures", b.N)
	}
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
