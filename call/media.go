package call

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
)

// echoTracks are the tracks of one peer connection that send back, in Echo mode, what
// that connection receives. Filled by attachMedia before the connection has a track.
type echoTracks map[webrtc.RTPCodecType]*webrtc.TrackLocalStaticRTP

// attachMedia adds what we send to pc, a peer connection of p: the session's local
// tracks (encoded once, shared by every peer connection), or in Echo mode (echo not nil)
// tracks fed from pc's own remote tracks. With neither, an offer still asks to receive.
func (s *Session) attachMedia(p *peer, pc *webrtc.PeerConnection, echo echoTracks, offering bool) error {
	video := s.callType == CallTypeVideo
	if echo != nil {
		kinds := []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio}
		if video {
			kinds = append(kinds, webrtc.RTPCodecTypeVideo)
		}
		for _, k := range kinds {
			capab := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
			if k == webrtc.RTPCodecTypeVideo {
				capab = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
			}
			t, err := webrtc.NewTrackLocalStaticRTP(capab, k.String(), "echo-"+s.id)
			if err != nil {
				return fmt.Errorf("%w: echo track: %w", ErrMedia, err)
			}
			sender, err := pc.AddTrack(t)
			if err != nil {
				return fmt.Errorf("%w: add echo track: %w", ErrMedia, err)
			}
			echo[k] = t
			s.readRTCP(p, sender, p.remotes.requestKeyFrame, nil)
		}
		return nil
	}
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	var tracks []devices.LocalTrack
	if ls != nil {
		if ls.Audio != nil {
			tracks = append(tracks, ls.Audio)
		}
		if ls.Video != nil && video {
			tracks = append(tracks, ls.Video)
		}
	}
	for _, t := range tracks {
		sender, err := pc.AddTrack(t.WebRTC())
		if err != nil {
			return fmt.Errorf("%w: add %s track: %w", ErrMedia, t.Kind(), err)
		}
		var onLoss func(ssrc uint32, pct int, rtt time.Duration)
		if l, ok := t.(interface{ SetPacketLoss(int) }); ok && t.Kind() == devices.KindAudio {
			onLoss = func(_ uint32, pct int, _ time.Duration) { l.SetPacketLoss(pct) }
		}
		if t.Kind() == devices.KindVideo {
			fec, _ := t.(interface{ SetStreamLoss(uint32, int) })
			var q queueWatch
			onLoss = func(ssrc uint32, pct int, rtt time.Duration) {
				p.videoLoss.Store(int32(pct))
				if fec == nil {
					return
				}
				// Parity repairs a lossy link; on a full queue it only adds to what
				// overflows, so losses while the round trip is inflated get none.
				if q.observe(time.Now(), rtt) {
					pct = 0
				}
				fec.SetStreamLoss(ssrc, pct)
			}
		}
		s.readRTCP(p, sender, t.RequestKeyFrame, onLoss)
	}
	if !offering {
		return nil
	}
	// Receive what we do not send.
	have := map[devices.Kind]bool{}
	for _, t := range tracks {
		have[t.Kind()] = true
	}
	recv := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}
	if !have[devices.KindAudio] {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, recv); err != nil {
			return fmt.Errorf("%w: audio transceiver: %w", ErrWebRTC, err)
		}
	}
	if video && !have[devices.KindVideo] {
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, recv); err != nil {
			return fmt.Errorf("%w: video transceiver: %w", ErrWebRTC, err)
		}
	}
	return nil
}

// readRTCP reads the RTCP of one sender (the interceptors need it read) into one reused
// buffer and asks for a key frame on PLI or FIR; onLoss, when not nil, gets the loss the
// receiver reports for the sender's stream (percent: the Opus encoder sizes its FEC by
// it). A compound packet that does not parse is skipped: the reader must go on feeding
// the interceptors (NACK, TWCC, reports).
func (s *Session) readRTCP(p *peer, sender *webrtc.RTPSender, keyFrame func(), onLoss func(ssrc uint32, pct int, rtt time.Duration)) {
	p.goMedia(func() {
		buf := make([]byte, rtpBufSize)
		for {
			n, _, err := sender.Read(buf)
			if err != nil {
				return
			}
			pkts, err := rtcp.Unmarshal(buf[:n])
			if err != nil {
				continue
			}
			for _, pkt := range pkts {
				switch x := pkt.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					keyFrame()
				case *rtcp.ReceiverEstimatedMaximumBitrate:
					// A peer that estimates on its side (REMB) caps ours.
					p.remb.Store(int64(x.Bitrate))
				case *rtcp.ReceiverReport:
					reportLoss(x.Reports, sender, onLoss)
				case *rtcp.SenderReport:
					reportLoss(x.Reports, sender, onLoss)
				}
			}
		}
	})
}

// readReceiverRTCP reads, and drops, the RTCP that pion routes to a receiver: the
// peer's sender reports for the stream we receive. Read or not, pion queues it there,
// and only a read passes it through the interceptors: unread, the report interceptor
// never sees a sender report, every receiver report we send says "no SR received"
// (LSR 0), and the peer never learns the round-trip time. Chromium then sizes its
// jitter buffer without the RTT a retransmission takes, and freezes on every lost
// packet (measured: 30 freezes in 30 s at 5% loss and 120 ms RTT against 2 with a
// Chromium peer; BenchmarkImpairedWeb, profile b).
func (s *Session) readReceiverRTCP(p *peer, r *webrtc.RTPReceiver) {
	p.goMedia(func() {
		buf := make([]byte, rtpBufSize)
		for {
			if _, _, err := r.Read(buf); err != nil {
				return
			}
		}
	})
}

// readTrack is the single reader of one remote track; it runs on the goroutine pion
// starts for OnTrack, registered as a media goroutine of p, and ends when the track
// ends (pc closes: its own close, or its replacement after a reconnect). It fans packets
// out to the stream's sinks (and pc's echo track).
func (s *Session) readTrack(p *peer, pc *webrtc.PeerConnection, echoT echoTracks, t *webrtc.TrackRemote, rr *webrtc.RTPReceiver) {
	if !p.enterMedia() {
		return
	}
	defer p.mediaWG.Done()
	kind := devices.KindAudio
	if t.Kind() == webrtc.RTPCodecTypeVideo {
		kind = devices.KindVideo
	}
	rs := &RemoteStream{
		SessionID: s.id, User: p.user, Kind: kind,
		pc: pc, ssrc: uint32(t.SSRC()), mime: t.Codec().MimeType,
	}
	if kind == devices.KindVideo && strings.EqualFold(rs.mime, mimeRED) {
		// VP8 in RED with ULPFEC (the only video codec we negotiate inside it)
		rs.red = newRedReceiver(t, rr.GetParameters())
		rs.mime = webrtc.MimeTypeVP8
	}
	defer rs.end()
	log := s.log.With("user", string(p.user), "kind", kind.String())
	cfg := &s.c.cfg
	var recv devices.Receiver
	var err error
	switch {
	case kind == devices.KindVideo && cfg.DecodeVideo:
		rs.Video = &devices.FrameSlot{}
		recv, err = devices.NewVideoReceiver(rs.mime, rs.Video, rs.RequestKeyFrame, log)
	case kind == devices.KindAudio && cfg.AudioOutput != nil:
		recv, err = devices.NewAudioReceiver(rs.mime, cfg.AudioOutput, string(p.user), log)
	}
	if err != nil {
		log.Warn("no receiver for remote track", "err", err)
	}
	if recv != nil {
		rs.recv.Store(recv)
		rs.AddSink(recv)
		defer recv.Close()
	}
	var echo devices.RTPSink // Echo mode: what the opponent sends goes back to it
	if et := echoT[t.Kind()]; et != nil {
		echo = et
	}
	if kind == devices.KindVideo {
		p.remotes.setVideo(rs)
		rs.RequestKeyFrame() // a decoder starts at a key frame
	} else {
		p.remotes.setAudio(rs)
	}
	s.post(func() {
		if !s.closed && !p.closed && (pc == p.pc() || (p.next != nil && pc == p.next.pc)) {
			s.c.emit(s, RemoteStreamEvent{EventMeta: s.meta(p.user), Stream: rs})
		}
	})
	log.Info("remote track", "mime", rs.mime, "ssrc", rs.ssrc)
	if err := rs.pump(t.Read, echo); !errors.Is(err, io.EOF) {
		log.Debug("remote track ended", "err", err)
	}
}

// reportLoss passes the loss a receiver reports for sender's stream to onLoss, with the
// round trip the report block measures (0 when it has none: no sender report seen).
func reportLoss(reports []rtcp.ReceptionReport, sender *webrtc.RTPSender, onLoss func(ssrc uint32, pct int, rtt time.Duration)) {
	if onLoss == nil {
		return
	}
	encs := sender.GetParameters().Encodings
	for _, r := range reports {
		for _, enc := range encs {
			if uint32(enc.SSRC) == r.SSRC {
				onLoss(r.SSRC, int(r.FractionLost)*100/256, reportRTT(time.Now(), r))
			}
		}
	}
}

// reportRTT is the round trip a reception report block measures (RFC 3550 6.4.1):
// now less the time of the sender report it echoes less the time it was held.
func reportRTT(now time.Time, r rtcp.ReceptionReport) time.Duration {
	if r.LastSenderReport == 0 {
		return 0
	}
	ntp := uint64(now.Unix()+2208988800)<<32 | uint64(now.Nanosecond())*(1<<32)/1e9
	compact := uint32(ntp >> 16)
	d := compact - r.LastSenderReport - r.Delay
	if d > 1<<31 { // the clocks disagree (a report from before a restart)
		return 0
	}
	return time.Duration(uint64(d) * uint64(time.Second) >> 16)
}

// queueWatch tells a link whose packets wait in a queue (round trip above its floor)
// from one that loses them at random. The floor is the least round trip of the last
// 15-30 s (two 15 s windows), so that a route change moves it.
type queueWatch struct {
	cur, prev time.Duration // least round trip of this window and of the one before
	since     time.Time     // when this window began
	srtt      time.Duration
}

// A queue is a smoothed round trip more than queueMargin plus half the floor above the
// floor: above the spread of a jittery link (120-180 ms at 60 ms +-30 ms each way; a
// fixed 60 ms margin turned parity off there now and then) and below what a bottleneck's
// queue adds when it overflows (up to 250 ms at 300 kbit/s over a floor of a few ms; a
// fixed 100 ms margin left parity on there, and it fed the overflow).
const queueMargin = 50 * time.Millisecond

const queueWindow = 15 * time.Second

// observe records a round trip (0: none) and reports whether packets are queueing.
func (q *queueWatch) observe(now time.Time, rtt time.Duration) bool {
	if rtt <= 0 {
		return false
	}
	if q.since.IsZero() || now.Sub(q.since) > queueWindow {
		q.prev, q.cur, q.since = q.cur, rtt, now
	}
	q.cur = min(q.cur, rtt)
	floor := q.cur
	if q.prev > 0 {
		floor = min(floor, q.prev)
	}
	if q.srtt == 0 {
		q.srtt = rtt
	}
	q.srtt = (7*q.srtt + rtt) / 8
	return q.srtt > floor+floor/2+queueMargin
}
