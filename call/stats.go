package call

import (
	"time"

	"github.com/pion/interceptor/pkg/stats"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
)

// statsPrev keeps the previous byte counters of one peer, for bitrates.
type statsPrev struct {
	at         time.Time
	sent, recv [3]uint64 // by devices.Kind
	framesRecv uint64
	framesSent uint64
}

// startStats reports stats every StatsReportInterval while the session lives.
func (s *Session) startStats() {
	s.startAdapt()
	d := s.c.cfg.StatsReportInterval
	if d <= 0 || s.statsTimer != nil {
		return
	}
	var tick func()
	tick = func() {
		for _, p := range s.sortedPeers() {
			if p.cur != nil && p.answered {
				s.c.emit(s, StatsEvent{EventMeta: s.meta(p.user), Stats: s.peerStats(p)})
			}
		}
		s.statsTimer = s.after(d, tick)
	}
	s.statsTimer = s.after(d, tick)
}

// peerStats builds one report from pion's stats and the remote streams' counters.
func (s *Session) peerStats(p *peer) Stats {
	var st Stats
	now := time.Now()
	// pion's GetStats (v4.2) has inbound-rtp and the ICE entries, but no outbound-rtp or
	// remote-inbound-rtp: what we send comes from the stats interceptor alone
	// (addSenderStats), so nothing is counted twice.
	rep := p.cur.pc.GetStats()
	var sent, recv [3]uint64
	cands := map[string]webrtc.ICECandidateStats{}
	var pair *webrtc.ICECandidatePairStats
	for _, v := range rep {
		switch x := v.(type) {
		case webrtc.InboundRTPStreamStats:
			t, k := trackOf(&st.Remote, x.Kind)
			if t == nil {
				continue
			}
			t.Bytes += x.BytesReceived
			t.Packets += uint64(x.PacketsReceived)
			t.PacketsLost += int64(x.PacketsLost)
			t.Jitter = x.Jitter
			if x.FrameWidth > 0 {
				t.Width, t.Height = int(x.FrameWidth), int(x.FrameHeight)
			}
			recv[k] += x.BytesReceived
		case webrtc.ICECandidatePairStats:
			if x.Nominated && x.State == webrtc.StatsICECandidatePairStateSucceeded {
				pp := x
				pair = &pp
				if st.RTT == 0 && x.CurrentRoundTripTime > 0 {
					st.RTT = time.Duration(x.CurrentRoundTripTime * float64(time.Second))
				}
			}
		case webrtc.ICECandidateStats:
			cands[x.ID] = x
		}
	}
	if pair != nil {
		l, r := cands[pair.LocalCandidateID], cands[pair.RemoteCandidateID]
		st.Candidate = CandidatePair{
			Protocol:  l.Protocol,
			LocalType: l.CandidateType.String(), LocalAddress: l.IP, LocalPort: int(l.Port),
			RemoteType: r.CandidateType.String(), RemoteAddress: r.IP, RemotePort: int(r.Port),
		}
		if l.CandidateType == webrtc.ICECandidateTypeRelay {
			st.Candidate.RelayProtocol = l.RelayProtocol
		}
	}
	s.addSenderStats(p, &st, &sent)
	st.AvailableOutgoingBitrate = float64(s.estimate(p))
	// Decoded frame size and received frame rate from the remote video stream.
	var frames uint64
	if rv := p.remotes.videoStream(); rv != nil {
		frames = rv.frames.Load()
		receiverStats(rv, &st.Remote.Video)
		if rv.Video != nil {
			if img, _ := rv.Video.Load(); img != nil {
				st.Remote.Video.Width, st.Remote.Video.Height = img.Rect.Dx(), img.Rect.Dy()
			}
		}
	}
	if ra := p.remotes.audioStream(); ra != nil {
		receiverStats(ra, &st.Remote.Audio)
	}
	// Sent frame size and rate from the local video track (pion's stats have neither).
	var framesSent uint64
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	if ls != nil && ls.Video != nil && p.echo() == nil && s.callType == CallTypeVideo {
		framesSent = ls.Video.Frames()
		st.Local.Video.Width, st.Local.Video.Height = ls.Video.FrameSize()
		st.Local.Video.QualityLimitationReason = ls.Video.Quality().Limitation
	}
	prev := p.stats
	if !prev.at.IsZero() {
		secs := now.Sub(prev.at).Seconds()
		if secs > 0 {
			kbps := func(cur, old uint64) float64 {
				if cur < old {
					return 0
				}
				return float64(cur-old) * 8 / 1000 / secs
			}
			st.Local.Audio.BitrateKbps = kbps(sent[devices.KindAudio], prev.sent[devices.KindAudio])
			st.Local.Video.BitrateKbps = kbps(sent[devices.KindVideo], prev.sent[devices.KindVideo])
			st.Remote.Audio.BitrateKbps = kbps(recv[devices.KindAudio], prev.recv[devices.KindAudio])
			st.Remote.Video.BitrateKbps = kbps(recv[devices.KindVideo], prev.recv[devices.KindVideo])
			if frames >= prev.framesRecv {
				st.Remote.Video.FPS = float64(frames-prev.framesRecv) / secs
			}
			if framesSent >= prev.framesSent && prev.framesSent > 0 {
				st.Local.Video.FPS = float64(framesSent-prev.framesSent) / secs
			}
		}
	}
	p.stats = statsPrev{at: now, sent: sent, recv: recv, framesRecv: frames, framesSent: framesSent}
	return st
}

// addSenderStats adds what we send to p, from the stats interceptor (pion's GetStats has
// no outbound-rtp): bytes and packets to st.Local and sent, loss, jitter and RTT as the
// receiver reports them, NACKs and PLIs both ways.
func (s *Session) addSenderStats(p *peer, st *Stats, sent *[3]uint64) {
	if p.statsID() == "" {
		return
	}
	g, ok := s.c.statsGetters.Load(p.statsID())
	if !ok {
		return
	}
	getter := g.(stats.Getter)
	// What we sent about what we receive (pion's GetStats leaves these at 0).
	for _, rcv := range p.cur.pc.GetReceivers() {
		tr := rcv.Track()
		if tr == nil {
			continue
		}
		t, _ := trackOf(&st.Remote, tr.Kind().String())
		if t == nil {
			continue
		}
		if x := getter.Get(uint32(tr.SSRC())); x != nil {
			t.NACKCount += uint64(x.InboundRTPStreamStats.NACKCount)
			t.PLICount += uint64(x.InboundRTPStreamStats.PLICount)
		}
	}
	for _, snd := range p.cur.pc.GetSenders() {
		tr := snd.Track()
		if tr == nil {
			continue
		}
		t, k := trackOf(&st.Local, tr.Kind().String())
		if t == nil {
			continue
		}
		for _, enc := range snd.GetParameters().Encodings {
			x := getter.Get(uint32(enc.SSRC))
			if x == nil {
				continue
			}
			t.Bytes += x.OutboundRTPStreamStats.BytesSent
			t.Packets += x.OutboundRTPStreamStats.PacketsSent
			t.PacketsLost += x.RemoteInboundRTPStreamStats.PacketsLost
			t.Jitter = x.RemoteInboundRTPStreamStats.Jitter
			t.NACKCount += uint64(x.OutboundRTPStreamStats.NACKCount)
			t.PLICount += uint64(x.OutboundRTPStreamStats.PLICount)
			if rtt := x.RemoteInboundRTPStreamStats.RoundTripTime; rtt > 0 {
				st.RTT = rtt
			}
			sent[k] += x.OutboundRTPStreamStats.BytesSent
		}
	}
}

func trackOf(m *MediaStats, kind string) (*TrackStats, devices.Kind) {
	switch kind {
	case "audio":
		return &m.Audio, devices.KindAudio
	case "video":
		return &m.Video, devices.KindVideo
	}
	return nil, devices.KindUnknown
}

// pcStatsID is the ID of the peer connection's own stats entry, which is also the ID its
// interceptors were built with.
func pcStatsID(pc *webrtc.PeerConnection) string {
	for _, v := range pc.GetStats() {
		if x, ok := v.(webrtc.PeerConnectionStats); ok {
			return x.ID
		}
	}
	return ""
}

// receiverStats adds what the stream's decoder measured (freezes, jitter buffer,
// concealment) to t; without a decoder, freezes of complete frames as received.
func receiverStats(rs *RemoteStream, t *TrackStats) {
	switch r := rs.recv.Load().(type) {
	case *devices.VideoReceiver:
		v := r.Stats()
		t.FreezeCount, t.TotalFreezesDuration = v.FreezeCount, v.TotalFreezesDuration
		if v.Frames > 0 {
			t.JitterBufferDelay = v.JitterBufferDelay / time.Duration(v.Frames)
		}
	case *devices.AudioReceiver:
		a := r.Stats()
		t.TotalSamplesReceived, t.ConcealedSamples = a.TotalSamplesReceived, a.ConcealedSamples
		t.ConcealmentEvents = a.ConcealmentEvents
		t.InsertedSamplesForDeceleration = a.InsertedSamplesForDeceleration
		t.RemovedSamplesForAcceleration = a.RemovedSamplesForAcceleration
		if n := time.Duration(a.JitterBufferEmittedCount); n > 0 {
			t.JitterBufferDelay = a.JitterBufferDelay / n
			t.JitterBufferTargetDelay = a.JitterBufferTargetDelay / n
		}
	default:
		if rs.Kind == devices.KindVideo {
			t.FreezeCount, t.TotalFreezesDuration, _ = rs.freeze.Freezes()
		}
	}
}
