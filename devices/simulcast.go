package devices

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// SimulcastRIDs are the RIDs of the layers, highest first (as janus.js names them):
// full, half and quarter resolution.
var SimulcastRIDs = [3]string{"h", "m", "l"}

// MinSimulcastWidth is the narrowest camera worth simulcast: its quarter layer is then
// 80 px wide, what a small tile of half blocks (80 columns) shows. Below it the small
// layers would cost encoders for pictures too small to use (browsers, likewise, send
// fewer layers for small cameras).
const MinSimulcastWidth = 320

// SimulcastWorth tells whether a local video track is large enough for simulcast.
func SimulcastWorth(lt LocalTrack) bool {
	t, ok := lt.(*localTrack)
	return ok && t.kind == KindVideo && t.gate != nil && t.width >= MinSimulcastWidth
}

// Simulcast sends a local video track as three layers for an SFU (Janus), each its own
// RTP stream with a RID: the track's own encoder output as the full layer "h", and two
// more encoders fed with the same source frames shrunk by 2 and 4 ("m", "l"). The
// source is read and gated (camera off: black) once; only the small encoders are added.
type Simulcast struct {
	t      *localTrack
	tracks [3]*webrtc.TrackLocalStaticSample
	layers [2]*simLayer
	single sync.Once // the reduced layers stopped
	closed sync.Once
}

// simLayer is one reduced layer: frames shrunk in the source's goroutine (which may
// reuse its buffers) and handed over one at a time; a layer still encoding the last
// frame misses the next one rather than slowing the source.
type simLayer struct {
	scale     int
	out       *webrtc.TrackLocalStaticSample
	enc       codec.ReadCloser
	frames    chan *image.YCbCr
	buf       [2]*image.YCbCr // shrunk frames, alternated: the encoder reads one while the next is made
	nbuf      int
	scratch   *image.YCbCr // the quarter layer's half frame when the half layer skipped one
	stop      chan struct{}
	stopped   atomic.Bool // no more frames: stop is closed or about to be
	done      chan struct{}
	kfPending atomic.Bool
	sent      atomic.Uint64
	log       *slog.Logger
}

// layerBitrate is a reduced layer's target: about 0.08 bit per pixel per frame, as the
// full layer's default (defaultVideoBitrate), but at most share of the full layer's
// (top; 0: unknown) so that the layers together stay near what the full layer alone
// was given, and at least 30 kbit/s (a 160x120 picture stays legible).
func layerBitrate(w, h, fps, top, share int) int {
	b := w * h * fps * 8 / 100
	if top > 0 {
		b = min(b, top/share)
	}
	return min(max(b, 30_000), 1_000_000)
}

// NewSimulcast starts the two reduced layers of a video track made by GetUserMedia and
// returns the three layers' tracks. bitrate is the full layer's (0: its default); the
// half layer gets at most a third of it, the quarter an eighth. Close stops the reduced
// layers; the track goes on as before (its full layer is also written to its usual
// track).
func NewSimulcast(lt LocalTrack, streamID string, bitrate int, log *slog.Logger) (*Simulcast, error) {
	t, ok := lt.(*localTrack)
	if !ok || t.kind != KindVideo || t.gate == nil {
		return nil, errors.New("simulcast: not a local video track")
	}
	if log == nil {
		log = slog.Default()
	}
	s := &Simulcast{t: t}
	codecCap := webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}, {Type: "goog-remb"}},
	}
	for i, rid := range SimulcastRIDs {
		tr, err := webrtc.NewTrackLocalStaticSample(codecCap, "video", streamID, webrtc.WithRTPStreamID(rid))
		if err != nil {
			return nil, fmt.Errorf("simulcast track %s: %w", rid, err)
		}
		s.tracks[i] = tr
	}
	fps := max(t.gate.fps, 1)
	shares := [2]int{3, 8}
	for i, scale := range []int{2, 4} {
		w, h := (t.width/scale)&^1, (t.height/scale)&^1
		l := &simLayer{scale: scale, out: s.tracks[i+1], frames: make(chan *image.YCbCr, 1),
			stop: make(chan struct{}), done: make(chan struct{}), log: log}
		enc, err := newVP8Encoder(video.ReaderFunc(l.read), w, h, fps, layerBitrate(w, h, fps, bitrate, shares[i]))
		if err == nil {
			l.enc = enc
		}
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("simulcast layer %dx%d: %w", w, h, err)
		}
		s.layers[i] = l
		// Owned by the Simulcast: ends when Close closes stop.
		go l.loop(time.Second / time.Duration(fps))
	}
	t.sim.Store(s)
	return s, nil
}

// Tracks are the layers' tracks, highest first, with the RIDs of SimulcastRIDs: the
// first for AddTransceiverFromTrack, the others for the sender's AddEncoding.
func (s *Simulcast) Tracks() []webrtc.TrackLocal {
	return []webrtc.TrackLocal{s.tracks[0], s.tracks[1], s.tracks[2]}
}

// RequestKeyFrame asks the layer with the RID for a key frame (a PLI for its SSRC).
func (s *Simulcast) RequestKeyFrame(rid string) {
	switch rid {
	case SimulcastRIDs[0]:
		s.t.RequestKeyFrame()
	case SimulcastRIDs[1]:
		s.layers[0].kfPending.Store(true)
	case SimulcastRIDs[2]:
		s.layers[1].kfPending.Store(true)
	}
}

// LayerFrames counts the samples sent per layer, highest first.
func (s *Simulcast) LayerFrames() [3]uint64 {
	return [3]uint64{s.t.Frames(), s.layers[0].sent.Load(), s.layers[1].sent.Load()}
}

// Single stops the reduced layers: the track goes on as the "h" layer alone (for a
// server that did not take simulcast). Idempotent.
func (s *Simulcast) Single() {
	s.single.Do(func() {
		for _, l := range s.layers {
			if l == nil {
				continue
			}
			l.stopped.Store(true)
			close(l.stop)
			<-l.done
		}
	})
}

// Close stops the reduced layers and detaches from the track; idempotent.
func (s *Simulcast) Close() error {
	s.closed.Do(func() {
		s.t.sim.CompareAndSwap(s, nil)
		s.Single()
	})
	return nil
}

// sample passes the full layer's encoded frame on (the track's encode goroutine).
func (s *Simulcast) sample(smp media.Sample) {
	if err := s.tracks[0].WriteSample(smp); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		s.layers[0].log.Debug("simulcast write", "rid", SimulcastRIDs[0], "err", err)
	}
}

// frame hands a gated source frame to the reduced layers (the source's goroutine).
func (s *Simulcast) frame(img *image.YCbCr) {
	var half *image.YCbCr // this frame at half size, once made
	for _, l := range s.layers {
		if l == nil || l.stopped.Load() || len(l.frames) > 0 {
			continue // stopped, or still encoding: this layer skips a frame
		}
		dst := l.buf[l.nbuf^1]
		var next *image.YCbCr
		switch {
		case l.scale == 2:
			next = halve(img, dst)
			half = next
		case half != nil: // the quarter from the half frame: a quarter of the work
			next = halve(half, dst)
		default:
			l.scratch = halve(img, l.scratch)
			if l.scratch != nil {
				next = halve(l.scratch, dst)
			}
		}
		if next == nil {
			continue // too small to shrink
		}
		l.nbuf ^= 1
		l.buf[l.nbuf] = next
		l.frames <- next // never blocks: this is the only sender and the slot is free
	}
}

// halve shrinks a 4:2:0 frame to half its size (even sizes), each pixel the rounded
// mean of four, into dst when it has the right size; nil when src is too small. A
// fast path of downscale's box filter for the one scale simulcast uses: shrinking
// took a quarter of the CPU of a 640x480 simulcast with the general filter.
func halve(src, dst *image.YCbCr) *image.YCbCr {
	w, h := (src.Rect.Dx()/2)&^1, (src.Rect.Dy()/2)&^1
	if w < 2 || h < 2 {
		return nil
	}
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	halvePlane(src.Y, src.YStride, dst.Y, dst.YStride, w, h)
	halvePlane(src.Cb, src.CStride, dst.Cb, dst.CStride, w/2, h/2)
	halvePlane(src.Cr, src.CStride, dst.Cr, dst.CStride, w/2, h/2)
	return dst
}

// halvePlane writes the w x h plane out from the 2w x 2h plane in (strides given;
// image.YCbCr planes start at the rectangle's corner).
func halvePlane(in []byte, inStride int, out []byte, outStride, w, h int) {
	for y := 0; y < h; y++ {
		r0 := in[2*y*inStride : 2*y*inStride+2*w]
		r1 := in[(2*y+1)*inStride : (2*y+1)*inStride+2*w]
		o := out[y*outStride : y*outStride+w]
		for x := range o {
			o[x] = byte((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) >> 2)
		}
	}
}

func (l *simLayer) read() (image.Image, func(), error) {
	select {
	case img := <-l.frames:
		return img, func() {}, nil
	case <-l.stop:
		return nil, func() {}, io.EOF
	}
}

func (l *simLayer) loop(dur time.Duration) {
	defer close(l.done)
	defer l.enc.Close()
	var last, lastKF time.Time
	for {
		if l.kfPending.Load() && time.Since(lastKF) >= minKeyFrameGap {
			if c, ok := l.enc.Controller().(codec.KeyFrameController); ok {
				l.kfPending.Store(false)
				lastKF = time.Now()
				_ = c.ForceKeyFrame()
			}
		}
		data, rel, err := l.enc.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				l.log.Warn("simulcast layer stopped", "scale", l.scale, "err", err)
			}
			return
		}
		now := time.Now()
		d := dur
		if !last.IsZero() {
			d = now.Sub(last)
		}
		last = now
		if len(data) > 0 {
			if err := l.out.WriteSample(media.Sample{Data: data, Duration: d}); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				l.log.Debug("simulcast write", "scale", l.scale, "err", err)
			}
			l.sent.Add(1)
		}
		if rel != nil {
			rel()
		}
	}
}
