package conference

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
)

// RemoteStream is one stream of one remote feed (a participant's audio or video).
type RemoteStream struct {
	ID, Display string // the feed
	Kind        devices.Kind
	Mid         string // the subscription's mid
	// Video holds decoded frames when Config.DecodeVideo is set (video only).
	Video *devices.FrameSlot

	pc     *webrtc.PeerConnection
	ssrc   uint32
	mime   string
	pkts   atomic.Uint64
	bytes  atomic.Uint64
	frames atomic.Uint64 // video: packets with the marker bit
	first  atomic.Int64  // unix nanos of the first packet
	ended  atomic.Bool
	// avgSize is an average of the audio payload sizes (x256, fixed point): Opus sends
	// a few bytes a packet for silence and tens to hundreds for sound, so it tells a
	// talking participant from a silent one without decoding.
	avgSize atomic.Uint64

	mu    sync.Mutex
	sinks []devices.RTPSink // guarded by mu
}

// AddSink feeds every further packet to sink (which must not block).
func (r *RemoteStream) AddSink(s devices.RTPSink) {
	r.mu.Lock()
	r.sinks = append(r.sinks, s)
	r.mu.Unlock()
}

// RequestKeyFrame sends a PLI for a video stream (Janus forwards it to the publisher).
func (r *RemoteStream) RequestKeyFrame() {
	if r.Kind != devices.KindVideo || r.pc == nil {
		return
	}
	_ = r.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: r.ssrc}})
}

// PacketsReceived counts the stream's RTP packets; BytesReceived their payload bytes;
// FramesReceived the video frames (marker bits).
func (r *RemoteStream) PacketsReceived() uint64 { return r.pkts.Load() }
func (r *RemoteStream) BytesReceived() uint64   { return r.bytes.Load() }
func (r *RemoteStream) FramesReceived() uint64  { return r.frames.Load() }

// Ended tells whether the stream stopped (unsubscribed, left, or the room closed).
func (r *RemoteStream) Ended() bool { return r.ended.Load() }

// FirstPacketAt is when the first packet arrived (zero before).
func (r *RemoteStream) FirstPacketAt() time.Time {
	if n := r.first.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// MimeType is the codec ("video/VP8", "audio/opus").
func (r *RemoteStream) MimeType() string { return r.mime }

// pump reads the track until it ends (nil) or the stream is ended while the track
// goes on (its mid given to another feed: the packet read then is returned, for the
// next stream), fanning packets out to the sinks; pending is a packet read before;
// first is called after the first packet.
func (r *RemoteStream) pump(t *webrtc.TrackRemote, pending []byte, first func()) []byte {
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		var b []byte
		if pending != nil {
			b, pending = pending, nil
		} else {
			n, _, err := t.Read(buf)
			if err != nil {
				r.ended.Store(true)
				return nil
			}
			b = buf[:n]
			if r.ended.Load() {
				return append([]byte(nil), b...)
			}
		}
		if pkt.Unmarshal(b) != nil {
			continue
		}
		if r.pkts.Add(1) == 1 {
			r.first.Store(time.Now().UnixNano())
			first()
		}
		r.bytes.Add(uint64(len(pkt.Payload)))
		if r.Kind == devices.KindAudio {
			// An exponential average over ~16 packets (a third of a second).
			avg := r.avgSize.Load()
			r.avgSize.Store(avg - avg/16 + uint64(len(pkt.Payload))*256/16)
		}
		if pkt.Marker && r.Kind == devices.KindVideo {
			r.frames.Add(1)
		}
		r.mu.Lock()
		sinks := r.sinks
		r.mu.Unlock()
		for _, s := range sinks {
			_ = s.WriteRTP(&pkt)
		}
	}
}

// audioLevel is the average audio payload size in bytes (0 for video).
func (r *RemoteStream) audioLevel() float64 { return float64(r.avgSize.Load()) / 256 }
