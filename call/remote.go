package call

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
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
		r.deliver(&pkt)
		if echo != nil {
			_ = echo.WriteRTP(&pkt)
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
