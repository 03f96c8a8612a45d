package conference

import (
	"fmt"
	"strings"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
)

// addSimulcast adds our video as three layers (RIDs h, m, l: full, half and quarter
// resolution) on one transceiver, as janus.js publishes simulcast; Janus makes them
// the substreams 2, 1 and 0 of our feed.
func (r *Room) addSimulcast(c *conn, pc *webrtc.PeerConnection, t devices.LocalTrack) error {
	sim, err := devices.NewSimulcast(t, t.WebRTC().StreamID(), r.cfg.VideoBitrate, r.log)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWebRTC, err)
	}
	c.sim = sim
	var tr *webrtc.RTPTransceiver
	mid := func() string { return tr.Mid() }
	var tracks []webrtc.TrackLocal
	for _, l := range sim.Tracks() {
		tracks = append(tracks, &ridTrack{TrackLocal: l, mid: mid})
	}
	tr, err = pc.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return fmt.Errorf("%w: add simulcast video: %w", ErrWebRTC, err)
	}
	for _, l := range tracks[1:] {
		if err := tr.Sender().AddEncoding(l); err != nil {
			return fmt.Errorf("%w: simulcast layer %s: %w", ErrWebRTC, l.RID(), err)
		}
	}
	if r.cfg.VideoBitrate > 0 {
		t.SetBitrate(r.cfg.VideoBitrate)
	}
	for _, rid := range devices.SimulcastRIDs {
		r.readSimulcastRTCP(tr.Sender(), rid, func() { sim.RequestKeyFrame(rid) })
	}
	return nil
}

// answerTakesSimulcast tells whether Janus' answer to our publish offer receives our
// video's layers: Janus 1.1 answers "a=simulcast:recv h;m;l" (with the rids) when the
// room's video codec for us is VP8 or H.264 (janus_videoroom.c takes simulcast for
// those codecs only); other servers, or other codecs, answer without it.
func answerTakesSimulcast(answer string) bool {
	video := false
	for _, line := range strings.Split(answer, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "m=") {
			video = strings.HasPrefix(line, "m=video")
		}
		if video && strings.HasPrefix(line, "a=simulcast:") && strings.Contains(line, "recv") {
			return true
		}
	}
	return false
}

// readSimulcastRTCP is readRTCP for one layer of a simulcast sender.
func (r *Room) readSimulcastRTCP(s *webrtc.RTPSender, rid string, keyFrame func()) {
	r.media.Add(1)
	// Owned by r.media: ends when the sender's peer connection closes.
	go func() {
		defer r.media.Done()
		buf := make([]byte, 1500)
		for {
			n, _, err := s.ReadSimulcast(buf, rid)
			if err != nil {
				return
			}
			pkts, err := rtcp.Unmarshal(buf[:n])
			if err != nil {
				continue
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					keyFrame()
				}
			}
		}
	}()
}

// ridTrack is a simulcast layer's track that marks its packets with the MID and RID
// header extensions: pion sends them only when the writer sets them, and Janus tells
// a layer's SSRC by them (without, it drops the packets as of an unknown SSRC).
type ridTrack struct {
	webrtc.TrackLocal
	mid func() string // the transceiver's mid, known once the offer is set
}

func (t *ridTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	w := &ridWriter{TrackLocalWriter: ctx.WriteStream(), rid: []byte(t.RID()), mid: []byte(t.mid())}
	for _, e := range ctx.HeaderExtensions() {
		switch e.URI {
		case sdp.SDESMidURI:
			w.midID = uint8(e.ID) //nolint:gosec // IDs are 1..255
		case sdp.SDESRTPStreamIDURI:
			w.ridID = uint8(e.ID) //nolint:gosec // IDs are 1..255
		}
	}
	return t.TrackLocal.Bind(ridContext{TrackLocalContext: ctx, w: w})
}

type ridContext struct {
	webrtc.TrackLocalContext
	w *ridWriter
}

func (c ridContext) WriteStream() webrtc.TrackLocalWriter { return c.w }

type ridWriter struct {
	webrtc.TrackLocalWriter
	midID, ridID uint8
	mid, rid     []byte
}

// WriteRTP adds the extensions to the header, which is the track's copy for this
// binding.
func (w *ridWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.midID != 0 && len(w.mid) > 0 {
		if err := h.SetExtension(w.midID, w.mid); err != nil {
			return 0, fmt.Errorf("mid extension: %w", err)
		}
	}
	if w.ridID != 0 {
		if err := h.SetExtension(w.ridID, w.rid); err != nil {
			return 0, fmt.Errorf("rid extension: %w", err)
		}
	}
	return w.TrackLocalWriter.WriteRTP(h, payload)
}
