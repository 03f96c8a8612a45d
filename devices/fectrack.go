package devices

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/ttycall/ttycall/internal/ulpfec"
)

// twccURI is the transport-wide congestion control header extension, the one header
// extension pion's interceptors write into our video packets (a value the receiver
// zeroes before it checks parity).
const twccURI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

// fecPayloadMax is the most VP8 bytes per packet: pion's 1200-byte packets less the
// RTP header (12), the transport-wide sequence number extension (8) and RED's byte.
const fecPayloadMax = 1200 - 12 - 8 - 1

// fecTrack is the pion track of a local video stream. Like pion's
// TrackLocalStaticSample it packetizes each frame once and writes it to every peer
// connection bound to it; unlike it, a connection that negotiated RED and ULPFEC (as
// Chromium offers them) gets its packets in RED with parity packets after them, sized by
// the loss that peer reports (SetLoss). Each binding numbers its own packets: the
// parity packets take sequence numbers in its stream.
type fecTrack struct {
	id, streamID string
	codec        webrtc.RTPCodecCapability

	mu       sync.RWMutex
	bindings []*fecBinding
	vp8      codecs.VP8Payloader
	ts       uint32
}

// fecBinding is one peer connection's stream of the track.
type fecBinding struct {
	id     string
	ssrc   uint32
	pt     uint8 // VP8
	redPT  uint8 // 0: plain VP8, no parity
	fecPT  uint8
	twccID uint8
	w      webrtc.TrackLocalWriter
	seq    uint16
	loss   atomic.Int32 // percent, as the peer reports it

	// the frame's media packets as the receiver checks parity, not yet protected
	group [][]byte
}

func newFECTrack(codec webrtc.RTPCodecCapability, id, streamID string) *fecTrack {
	t := &fecTrack{id: id, streamID: streamID, codec: codec, ts: rand.Uint32()}
	// A picture ID in every VP8 payload descriptor, as Chromium sends: without it a
	// Chromium receiver finds a frame's references by sequence number alone, so one
	// lost packet between two frames (a parity packet nobody needs) held every later
	// frame until it was retransmitted, and froze the picture for a round trip.
	t.vp8.EnablePictureID = true
	return t
}

func (t *fecTrack) ID() string                       { return t.id }
func (t *fecTrack) StreamID() string                 { return t.streamID }
func (t *fecTrack) RID() string                      { return "" }
func (t *fecTrack) Kind() webrtc.RTPCodecType        { return webrtc.RTPCodecTypeVideo }
func (t *fecTrack) Codec() webrtc.RTPCodecCapability { return t.codec }

// Bind picks VP8 from the negotiated codecs, and RED with ULPFEC when both are there.
// With RED the stream's codec is RED (so that pion pairs retransmissions with RED's RTX
// payload type, as the receiver expects), carrying VP8's feedback (NACK, PLI...).
func (t *fecTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	var vp8, red, fec *webrtc.RTPCodecParameters
	params := ctx.CodecParameters()
	for i := range params {
		c := &params[i]
		switch {
		case strings.EqualFold(c.MimeType, t.codec.MimeType) && vp8 == nil:
			vp8 = c
		case strings.EqualFold(c.MimeType, mimeRED) && red == nil:
			red = c
		case strings.EqualFold(c.MimeType, mimeULPFEC) && fec == nil:
			fec = c
		}
	}
	if vp8 == nil {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := &fecBinding{id: ctx.ID(), ssrc: uint32(ctx.SSRC()), pt: uint8(vp8.PayloadType), w: ctx.WriteStream(), seq: uint16(rand.Uint32())}
	chosen := *vp8
	if red != nil && fec != nil {
		b.redPT, b.fecPT = uint8(red.PayloadType), uint8(fec.PayloadType)
		chosen = *red
		chosen.RTCPFeedback = vp8.RTCPFeedback
		for _, e := range ctx.HeaderExtensions() {
			if e.URI == twccURI {
				b.twccID = uint8(e.ID)
			}
		}
	}
	t.mu.Lock()
	t.bindings = append(t.bindings, b)
	t.mu.Unlock()
	return chosen, nil
}

func (t *fecTrack) Unbind(ctx webrtc.TrackLocalContext) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, b := range t.bindings {
		if b.id == ctx.ID() {
			t.bindings = append(t.bindings[:i], t.bindings[i+1:]...)
			return nil
		}
	}
	return webrtc.ErrUnbindFailed
}

// SetLoss records the loss (percent) the peer receiving stream ssrc reports: it sizes
// that stream's parity packets.
func (t *fecTrack) SetLoss(ssrc uint32, pct int) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, b := range t.bindings {
		if b.ssrc == ssrc {
			b.loss.Store(int32(pct))
		}
	}
}

// WriteSample packetizes one encoded frame and writes it to every binding.
func (t *fecTrack) WriteSample(s media.Sample) error {
	t.mu.Lock() // the bindings' sequence numbers and groups are written
	defer t.mu.Unlock()
	payloads := t.vp8.Payload(fecPayloadMax, s.Data)
	ts := t.ts
	t.ts += uint32(s.Duration.Seconds() * float64(t.codec.ClockRate))
	key := len(s.Data) > 0 && isVP8KeyFrame(s.Data)
	var errs []error
	for _, b := range t.bindings {
		if err := b.write(payloads, ts, key); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (b *fecBinding) write(payloads [][]byte, ts uint32, key bool) error {
	protectOn := b.redPT != 0 && fecOverhead(int(b.loss.Load())) > 0
	if !protectOn {
		b.group = nil
	}
	for i, p := range payloads {
		h := rtp.Header{Version: 2, SequenceNumber: b.seq, Timestamp: ts, SSRC: b.ssrc, Marker: i == len(payloads)-1, PayloadType: b.pt}
		b.seq++
		if b.redPT == 0 {
			if _, err := b.w.WriteRTP(&h, p); err != nil {
				return err
			}
			continue
		}
		if protectOn {
			if err := b.addToGroup(h, p); err != nil {
				return err
			}
		}
		h.PayloadType = b.redPT
		if _, err := b.w.WriteRTP(&h, ulpfec.WrapRED(b.pt, p)); err != nil {
			return err
		}
		if protectOn && len(b.group) == ulpfec.MaxGroup {
			if err := b.protect(ts, key); err != nil {
				return err
			}
		}
	}
	if !protectOn || len(b.group) == 0 {
		return nil
	}
	// Each frame is protected on its own: its parity packets follow its last packet,
	// so a loss is repaired as soon as the frame is otherwise complete (a group spanning
	// two frames made the first wait a frame interval).
	return b.protect(ts, key)
}

// addToGroup records a media packet as the receiver will check parity over it: VP8's
// payload type, the transport-wide sequence number extension pion adds (zeroed).
func (b *fecBinding) addToGroup(h rtp.Header, payload []byte) error {
	if b.twccID != 0 {
		if err := h.SetExtension(b.twccID, []byte{0, 0}); err != nil {
			return fmt.Errorf("ulpfec: extension: %w", err)
		}
	}
	raw, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
	if err != nil {
		return fmt.Errorf("ulpfec: %w", err)
	}
	b.group = append(b.group, raw)
	return nil
}

// protect sends the parity packets of the group. A key frame gets at least one parity
// packet per two media packets, as libwebrtc protects key frames more: losing one costs
// another key frame request.
func (b *fecBinding) protect(ts uint32, key bool) error {
	group := b.group
	b.group = nil
	f := fecOverhead(int(b.loss.Load()))
	if key {
		f = max(f, 0.5)
	}
	k := int(float64(len(group))*f + 0.999)
	if k == 0 {
		return nil
	}
	parity, err := ulpfec.Encode(group, k)
	if err != nil {
		return err
	}
	for _, f := range parity {
		h := rtp.Header{Version: 2, SequenceNumber: b.seq, Timestamp: ts, SSRC: b.ssrc, PayloadType: b.redPT}
		b.seq++
		if _, err := b.w.WriteRTP(&h, ulpfec.WrapRED(b.fecPT, f)); err != nil {
			return err
		}
	}
	return nil
}

// RED's and ULPFEC's media types for video.
const (
	mimeRED    = "video/red"
	mimeULPFEC = webrtc.MimeTypeUlpFEC
)

// FECOverhead is the share of parity packets per media packet a stream gets at a
// reported loss (percent): none on a clean link, where NACK repairs the rare loss in
// time; then about what libwebrtc's protection tables give for a 2-packet frame. The
// video encoder's target leaves room for it (call's adapt).
func FECOverhead(lossPct int) float64 { return fecOverhead(lossPct) }

func fecOverhead(lossPct int) float64 {
	switch {
	case lossPct < 1:
		return 0
	case lossPct < 3:
		return 0.25
	case lossPct < 8:
		return 0.5
	}
	return 0.75
}
