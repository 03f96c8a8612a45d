package call

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/ulpfec"
)

// RemoteStream is the media one opponent sends in a session: one per remote track.
type RemoteStream struct {
	SessionID string
	User      UserID
	Kind      devices.Kind
	// Video holds decoded frames when Config.DecodeVideo is set (video tracks only).
	Video *devices.FrameSlot

	mu     sync.Mutex
	nextID int                       // guarded by mu
	ended  bool                      // guarded by mu
	sinks  atomic.Pointer[[]sinkRef] // copy-on-write; written under mu
	pc     *webrtc.PeerConnection
	ssrc   uint32
	mime   string
	pkts   atomic.Uint64
	frames atomic.Uint64 // video: packets with the marker bit (last of a frame)
	// recv is the decoder fed by the stream (nil without one), for its stats; freeze
	// meters complete frames (marker packets) when nothing decodes the video.
	recv   atomic.Value // devices.Receiver
	freeze devices.FreezeMeter
	first  atomic.Int64 // unix nanos of the first packet
	// red, when not nil, unwraps the RED packets of a video stream sent with ULPFEC and
	// rebuilds lost ones from its parity packets. Reader goroutine only.
	red *redReceiver
}

type sinkRef struct {
	id   int
	sink devices.RTPSink
}

// AddSink feeds every further packet of the track to sink (a recorder, a meter) until
// the returned function is called or the track ends. Sinks must not block.
func (r *RemoteStream) AddSink(sink devices.RTPSink) (remove func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return func() {}
	}
	r.nextID++
	id := r.nextID
	var cur []sinkRef
	if p := r.sinks.Load(); p != nil {
		cur = *p
	}
	next := append(append([]sinkRef(nil), cur...), sinkRef{id: id, sink: sink})
	r.sinks.Store(&next)
	return func() { r.removeSink(id) }
}

func (r *RemoteStream) removeSink(id int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.sinks.Load()
	if p == nil {
		return
	}
	next := make([]sinkRef, 0, len(*p))
	for _, s := range *p {
		if s.id != id {
			next = append(next, s)
		}
	}
	r.sinks.Store(&next)
}

// end drops every sink: the track ended.
func (r *RemoteStream) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended = true
	r.sinks.Store(nil)
}

// deliver fans a packet out to the sinks. Reader goroutine only.
func (r *RemoteStream) deliver(pkt *rtp.Packet) {
	if r.pkts.Add(1) == 1 {
		r.first.Store(time.Now().UnixNano())
	}
	if pkt.Marker && r.Kind == devices.KindVideo {
		r.frames.Add(1)
		r.freeze.Frame(time.Now())
	}
	if p := r.sinks.Load(); p != nil {
		for _, s := range *p {
			_ = s.sink.WriteRTP(pkt)
		}
	}
}

// rtpBufSize holds any packet pion's SRTP layer hands out (its receive MTU is 1460).
const rtpBufSize = 1500

// pump is the per-packet loop of a remote track: it reads every packet into one buffer
// and one rtp.Packet, both reused (sinks copy what they keep: devices.RTPSink), and fans
// it out to the sinks and then to echo, if not nil. echo comes last because its
// interceptors may rewrite header extensions in place (a TWCC sequence number). A packet
// that does not parse is skipped; the track goes on. It returns read's error (the track
// ended).
func (r *RemoteStream) pump(read func([]byte) (int, interceptor.Attributes, error), echo devices.RTPSink) error {
	buf := make([]byte, rtpBufSize)
	var pkt rtp.Packet
	for {
		n, _, err := read(buf)
		if err != nil {
			return err
		}
		if pkt.Unmarshal(buf[:n]) != nil {
			continue
		}
		if r.red != nil && pkt.PayloadType == r.red.redPT {
			r.red.handle(&pkt, func(p *rtp.Packet) { r.deliver(p); r.echo(echo, p) })
			continue
		}
		r.deliver(&pkt)
		r.echo(echo, &pkt)
	}
}

func (r *RemoteStream) echo(echo devices.RTPSink, p *rtp.Packet) {
	if echo != nil {
		_ = echo.WriteRTP(p)
	}
}

// redReceiver turns a video stream in RED (RFC 2198) with ULPFEC parity packets, as
// Chromium sends it when both sides negotiated them, back into the media stream: each
// RED packet's block as a media packet, each parity packet as an empty packet (its
// sequence number is the stream's: the receivers must not wait for it as a loss), and
// every media packet the parity rebuilds (internal/ulpfec).
type redReceiver struct {
	redPT, fecPT uint8
	mediaPT      uint8 // VP8's: the one block type passed on as media
	twccID       uint8 // the header extension zeroed before parity is checked; 0: none
	dec          *ulpfec.Decoder

	// parity: the sender has sent parity; until then media packets are not kept for
	// the decoder (a sender on a clean link sends none: no copy per packet for nothing).
	parity bool

	// The last media packet passed on, to tell a gap of lost parity packets from lost
	// media (fillParityGap).
	last      uint16
	lastEnd   bool // it ended its frame (marker)
	lastPic   uint16
	havePic   bool
	haveMedia bool
}

// maxParityGap bounds the gap fillParityGap may fill: more than a frame's parity.
const maxParityGap = 48

// fillParityGap passes on, as empty packets, the sequence numbers between the last
// media packet and p when nothing but parity can have been there: the last packet
// ended a frame and p starts the next one by picture ID. A lost parity packet is
// needed by nobody, but a receiver that sees the gap waits for its retransmission or
// asks for a key frame (measured ttycall <-> ttycall: 4-5 freezes of 0.5-1 s in 30 s at
// 5% loss; Chromium, which reads picture IDs, skips such gaps the same way).
func (r *redReceiver) fillParityGap(p *rtp.Packet, vp *codecs.VP8Packet, out func(*rtp.Packet)) {
	gap := p.SequenceNumber - r.last
	if !r.haveMedia || !r.lastEnd || !r.havePic || gap < 2 || gap > maxParityGap {
		return
	}
	if vp.S != 1 || vp.PID != 0 || vp.I != 1 {
		return
	}
	next := r.lastPic + 1
	if vp.PictureID != next&0x7fff && vp.PictureID != next&0x7f {
		return
	}
	for seq := r.last + 1; seq != p.SequenceNumber; seq++ {
		out(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: r.redPT, SequenceNumber: seq, Timestamp: p.Timestamp, SSRC: p.SSRC}})
	}
}

// noteMedia records a media packet passed on (in sequence order only).
func (r *redReceiver) noteMedia(p *rtp.Packet, vp *codecs.VP8Packet) {
	if r.haveMedia && int16(p.SequenceNumber-r.last) <= 0 {
		return // late: a retransmission or rebuilt packet of the past
	}
	r.haveMedia, r.last, r.lastEnd = true, p.SequenceNumber, p.Marker
	if vp != nil && vp.S == 1 && vp.PID == 0 && vp.I == 1 {
		r.lastPic, r.havePic = vp.PictureID, true
	}
}

// newRedReceiver returns the unwrapper for a remote track whose codec is RED, with the
// ULPFEC payload type and header extensions negotiated on its receiver.
func newRedReceiver(t *webrtc.TrackRemote, params webrtc.RTPParameters) *redReceiver {
	r := &redReceiver{redPT: uint8(t.PayloadType()), dec: ulpfec.NewDecoder(uint32(t.SSRC()))}
	for _, c := range params.Codecs {
		switch {
		case strings.EqualFold(c.MimeType, webrtc.MimeTypeUlpFEC):
			r.fecPT = uint8(c.PayloadType)
		case strings.EqualFold(c.MimeType, webrtc.MimeTypeVP8):
			r.mediaPT = uint8(c.PayloadType)
		}
	}
	for _, e := range params.HeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			r.twccID = uint8(e.ID)
		}
	}
	return r
}

func (r *redReceiver) handle(pkt *rtp.Packet, out func(*rtp.Packet)) {
	pt, block, err := ulpfec.UnwrapRED(pkt.Payload)
	if err != nil {
		return
	}
	if r.fecPT != 0 && pt == r.fecPT {
		if r.haveMedia && int16(pkt.SequenceNumber-r.last) > 0 {
			r.last = pkt.SequenceNumber // a frame's parity: the frame still ended before it
		}
		r.parity = true
		rec, _ := r.dec.AddParity(block)
		pkt.Payload = nil // its sequence number, nothing to decode
		out(pkt)
		r.deliverRecovered(rec, out)
		return
	}
	if pt != r.mediaPT {
		// RED in RED, or a codec we did not negotiate: its number is used, its
		// content is not (libwebrtc drops such blocks too).
		pkt.Payload = nil
		out(pkt)
		return
	}
	pkt.PayloadType, pkt.Payload = pt, block
	// Parity covers the packet with its transport-wide sequence number zeroed, as the
	// sender saw it before its congestion control numbered it.
	var rec [][]byte
	if r.parity {
		h := pkt.Header
		h.Extensions = append([]rtp.Extension(nil), pkt.Extensions...)
		if r.twccID != 0 && h.GetExtension(r.twccID) != nil {
			_ = h.SetExtension(r.twccID, make([]byte, len(h.GetExtension(r.twccID))))
		}
		if raw, err := (&rtp.Packet{Header: h, Payload: block}).Marshal(); err == nil {
			rec, _ = r.dec.AddMedia(raw)
		}
	}
	var vp codecs.VP8Packet
	vpOK := false
	if _, err := vp.Unmarshal(block); err == nil {
		vpOK = true
		r.fillParityGap(pkt, &vp, out)
	}
	out(pkt)
	if vpOK {
		r.noteMedia(pkt, &vp)
	} else {
		r.noteMedia(pkt, nil)
	}
	r.deliverRecovered(rec, out)
}

func (r *redReceiver) deliverRecovered(rec [][]byte, out func(*rtp.Packet)) {
	for _, b := range rec {
		var p rtp.Packet
		if p.Unmarshal(b) == nil && p.PayloadType == r.mediaPT {
			out(&p)
		}
	}
}

// RequestKeyFrame sends a PLI for a video track.
func (r *RemoteStream) RequestKeyFrame() {
	if r.Kind != devices.KindVideo || r.pc == nil {
		return
	}
	_ = r.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: r.ssrc}})
}

// PacketsReceived counts the RTP packets received on the track.
func (r *RemoteStream) PacketsReceived() uint64 { return r.pkts.Load() }

// FirstPacketAt is when the first packet arrived (zero before).
func (r *RemoteStream) FirstPacketAt() time.Time {
	if n := r.first.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// MimeType is the codec of the track ("video/VP8", "audio/opus").
func (r *RemoteStream) MimeType() string { return r.mime }

// remoteSet holds a peer's remote streams by kind (for PLI forwarding in Echo mode).
type remoteSet struct {
	mu    sync.Mutex
	video *RemoteStream // guarded by mu
	audio *RemoteStream // guarded by mu; for its receiver's stats
}

func (rs *remoteSet) setAudio(r *RemoteStream) {
	rs.mu.Lock()
	rs.audio = r
	rs.mu.Unlock()
}

// audioStream is the peer's remote audio, or nil.
func (rs *remoteSet) audioStream() *RemoteStream {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.audio
}

func (rs *remoteSet) setVideo(r *RemoteStream) {
	rs.mu.Lock()
	rs.video = r
	rs.mu.Unlock()
}

// videoStream is the peer's remote video, or nil.
func (rs *remoteSet) videoStream() *RemoteStream {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.video
}

func (rs *remoteSet) requestKeyFrame() {
	if v := rs.videoStream(); v != nil {
		v.RequestKeyFrame()
	}
}
