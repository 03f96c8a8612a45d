package devices

import (
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// minKeyFrameGap spaces forced key frames: in a mesh of 25 peers every PLI would
// otherwise force its own key frame, and key frames are 5-10 times larger than others.
// Requests inside the gap are merged into one key frame at its end.
const minKeyFrameGap = 300 * time.Millisecond

// sampleWriter is where encoded samples go: a *webrtc.TrackLocalStaticSample, which
// packetizes each sample once and writes the packets to every bound peer connection.
type sampleWriter interface {
	WriteSample(s media.Sample) error
}

// localTrack is a LocalTrack: one source, one encoder, one goroutine that encodes and
// hands each sample to the shared pion track. Peer connections only bind to the pion
// track, so adding a 25th peer costs packet writes, not an encoder.
type localTrack struct {
	kind    Kind
	label   string
	track   webrtc.TrackLocal
	out     sampleWriter
	enc     codec.ReadCloser
	release func() // frees source resources only the encode goroutine touched
	src     io.Closer
	log     *slog.Logger

	enabled   atomic.Bool
	level     atomic.Uint64 // audio: RMS of the last chunk sent (float64 bits; 0 when muted)
	kfPending atomic.Bool
	bitrate   atomic.Int64 // pending bitrate change; 0: none

	frames   atomic.Uint64 // samples written, for stats and tests
	width    int           // video: the size asked for at creation
	height   int
	adapt    *adapter                  // video: bitrate -> frame rate and size
	gate     *gatedVideo               // video: the source side, where simulcast layers tap frames
	sim      atomic.Pointer[Simulcast] // video: extra layers for an SFU (simulcast.go); nil: none
	opus     *opusEncoder              // audio: FEC, packet loss, DTX
	fec      *fecTrack                 // video: the pion track, RED/ULPFEC per peer
	closing  atomic.Bool
	done     chan struct{} // closed when the encode goroutine ends
	closeMu  sync.Mutex
	closeErr error
}

func (t *localTrack) Kind() Kind                { return t.kind }
func (t *localTrack) WebRTC() webrtc.TrackLocal { return t.track }
func (t *localTrack) SetEnabled(on bool)        { t.enabled.Store(on) }
func (t *localTrack) Enabled() bool             { return t.enabled.Load() }
func (t *localTrack) Label() string {
	if l, ok := t.src.(interface{ Label() string }); ok {
		return l.Label() // follows a failover to the test pattern
	}
	return t.label
}
func (t *localTrack) Frames() uint64 { return t.frames.Load() }

// SetPacketLoss passes the loss the remote side reports (percent) to the Opus encoder,
// whose in-band FEC then carries enough redundancy; a no-op for video.
func (t *localTrack) SetPacketLoss(percent int) {
	if t.opus != nil {
		t.opus.SetPacketLoss(percent)
	}
}

// SetStreamLoss records the loss (percent) the peer receiving our video as stream ssrc
// reports: it sizes that stream's ULPFEC parity packets (fectrack.go).
func (t *localTrack) SetStreamLoss(ssrc uint32, percent int) {
	if t.fec != nil {
		t.fec.SetLoss(ssrc, percent)
	}
}

// SetBitrate sets the encoder's target; a video track also walks its ladder of frame
// rates and sizes (adapt.go) when the target stays too low or comes back.
func (t *localTrack) SetBitrate(bps int) {
	if bps <= 0 {
		return
	}
	t.bitrate.Store(int64(bps))
	if t.adapt != nil {
		t.adapt.setTarget(bps, time.Now())
	}
}

// FrameSize is the size the encoder is fed now (smaller than asked when the network
// made the track step down its ladder).
func (t *localTrack) FrameSize() (w, h int) {
	if t.adapt != nil {
		q := t.adapt.quality()
		return q.Width, q.Height
	}
	return t.width, t.height
}

// Quality is the track's current adaptation; zero for audio.
func (t *localTrack) Quality() Quality {
	if t.adapt == nil {
		return Quality{}
	}
	return t.adapt.quality()
}
func (t *localTrack) RequestKeyFrame() {
	if t.kind == KindVideo {
		t.kfPending.Store(true)
	}
}

// start runs the encode loop; dur is the nominal duration of one sample, used for the
// first sample and for audio (whose frames are exactly 20 ms).
func (t *localTrack) start(dur time.Duration) {
	t.done = make(chan struct{})
	// Owned by the track; ends when the source is closed (Close) or fails.
	go func() {
		defer close(t.done)
		t.loop(dur)
	}()
}

func (t *localTrack) loop(dur time.Duration) {
	var last, lastKF time.Time
	for {
		if bps := t.bitrate.Swap(0); bps > 0 {
			if c, ok := t.enc.Controller().(codec.BitRateController); ok {
				if err := c.SetBitRate(int(bps)); err != nil {
					t.log.Warn("set bitrate", "track", t.kind, "bps", bps, "err", err)
				}
			}
		}
		if t.kfPending.Load() && time.Since(lastKF) >= minKeyFrameGap {
			if c, ok := t.enc.Controller().(codec.KeyFrameController); ok {
				t.kfPending.Store(false)
				lastKF = time.Now()
				_ = c.ForceKeyFrame()
			}
		}
		data, rel, err := t.enc.Read()
		if t.closing.Load() {
			// Also ends a source whose reads do not fail once closed (a driver that
			// ignores Close must not make Close wait forever).
			if rel != nil {
				rel()
			}
			return
		}
		if err != nil {
			if t.closing.Load() || errors.Is(err, io.EOF) {
				return
			}
			t.log.Error("encoder stopped", "track", t.kind, "source", t.label, "err", err)
			return
		}
		now := time.Now()
		d := dur
		if t.kind == KindVideo && !last.IsZero() {
			d = now.Sub(last)
		}
		last = now
		if len(data) > 0 {
			if err := t.out.WriteSample(media.Sample{Data: data, Duration: d}); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				t.log.Debug("write sample", "track", t.kind, "err", err)
			}
			t.frames.Add(1)
			if s := t.sim.Load(); s != nil {
				s.sample(media.Sample{Data: data, Duration: d})
			}
		}
		if rel != nil {
			rel()
		}
	}
}

// Close stops the source, waits for the encode goroutine and frees the encoder. It is
// idempotent.
func (t *localTrack) Close() error {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	if t.closing.Swap(true) {
		return t.closeErr
	}
	errSrc := t.src.Close()
	<-t.done
	errEnc := t.enc.Close()
	if t.release != nil {
		t.release()
	}
	t.closeErr = errors.Join(errSrc, errEnc)
	return t.closeErr
}

// defaultVideoBitrate is about 0.08 bit per pixel per frame, which VP8 turns into a clean
// picture of talking heads; bounded so that small windows still look decent and large ones
// do not flood a mesh (each peer receives it separately).
func defaultVideoBitrate(w, h, fps int) int {
	b := w * h * fps * 8 / 100
	return min(max(b, 150_000), 2_500_000)
}

// gatedVideo sits between the source and the encoder: it turns frames black while the
// track is disabled and feeds the preview slot.
type gatedVideo struct {
	src     videoSource
	enabled *atomic.Bool
	preview *FrameSlot
	mirror  bool
	black   *image.YCbCr
	adapt   *adapter
	small   [2]*image.YCbCr // downscaled frames, alternated: the encoder reads one while the next is made
	nsmall  int
	fps     int                        // the frame rate asked, for simulcast layers
	sim     *atomic.Pointer[Simulcast] // the track's simulcast layers, fed every shown frame
}

func (g *gatedVideo) Read() (image.Image, func(), error) {
	img, err := g.readShown()
	if err != nil {
		return nil, func() {}, err
	}
	if g.adapt == nil {
		return img, func() {}, nil
	}
	// The ladder: every fpsDiv-th frame goes to the encoder, shrunk by scale. The
	// preview above still shows every frame at full size.
	for {
		scale, div := g.adapt.rungNow()
		g.adapt.frameNum++
		if div <= 1 || g.adapt.frameNum%uint64(div) == 0 {
			if scale > 1 {
				g.nsmall ^= 1
				g.small[g.nsmall] = downscale(img, scale, g.small[g.nsmall])
				return g.small[g.nsmall], func() {}, nil
			}
			return img, func() {}, nil
		}
		if img, err = g.readShown(); err != nil {
			return nil, func() {}, err
		}
	}
}

// readShown reads the next source frame, black while disabled, and shows it in the
// preview.
func (g *gatedVideo) readShown() (*image.YCbCr, error) {
	img, fresh, err := g.src.ReadFrame()
	if err != nil {
		return nil, err
	}
	if !g.enabled.Load() {
		b := g.black
		if b == nil || b.Rect != img.Rect {
			b = blackFrame(img.Rect.Dx(), img.Rect.Dy())
			g.black = b
		}
		img, fresh = b, true // never written again, so shareable with the preview
	}
	if g.sim != nil {
		if s := g.sim.Load(); s != nil {
			s.frame(img)
		}
	}
	if g.preview != nil {
		switch {
		case g.mirror:
			g.preview.Store(mirrorCopy(img))
		case fresh:
			g.preview.Store(img)
		default:
			g.preview.Store(copyYCbCr(img))
		}
	}
	return img, nil
}

func blackFrame(w, h int) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = 16
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	return img
}

func copyYCbCr(src *image.YCbCr) *image.YCbCr {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		copy(dst.Y[y*dst.YStride:y*dst.YStride+w], src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y):])
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := 0; y < ch; y++ {
		so := src.COffset(src.Rect.Min.X, src.Rect.Min.Y+2*y)
		copy(dst.Cb[y*dst.CStride:y*dst.CStride+cw], src.Cb[so:])
		copy(dst.Cr[y*dst.CStride:y*dst.CStride+cw], src.Cr[so:])
	}
	return dst
}

// mirrorCopy flips a 4:2:0 frame left-right for the self view.
func mirrorCopy(src *image.YCbCr) *image.YCbCr {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := 0; y < h; y++ {
		s := src.Y[src.YOffset(src.Rect.Min.X, src.Rect.Min.Y+y):]
		d := dst.Y[y*dst.YStride:]
		for x := 0; x < w; x++ {
			d[x] = s[w-1-x]
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := 0; y < ch; y++ {
		so := src.COffset(src.Rect.Min.X, src.Rect.Min.Y+2*y)
		d := y * dst.CStride
		for x := 0; x < cw; x++ {
			dst.Cb[d+x] = src.Cb[so+cw-1-x]
			dst.Cr[d+x] = src.Cr[so+cw-1-x]
		}
	}
	return dst
}

// newVideoTrack builds the encoder on a source and starts encoding.
func newVideoTrack(src videoSource, w, h, fps, bitrate int, preview *FrameSlot, mirror bool, streamID string, log *slog.Logger) (*localTrack, error) {
	if bitrate <= 0 {
		bitrate = defaultVideoBitrate(w, h, fps)
	}
	t := &localTrack{kind: KindVideo, label: src.Label(), src: src, log: log, width: w, height: h,
		adapt: &adapter{w: w, h: h, fps: fps, target: bitrate}}
	t.enabled.Store(true)
	gate := &gatedVideo{src: src, enabled: &t.enabled, preview: preview, mirror: mirror, adapt: t.adapt, fps: fps, sim: &t.sim}
	t.gate = gate
	enc, err := newVP8Encoder(video.ReaderFunc(gate.Read), w, h, fps, bitrate)
	if err != nil {
		return nil, fmt.Errorf("vp8 encoder %dx%d: %w", w, h, err)
	}
	t.enc = enc
	if r, ok := src.(interface{ release() }); ok {
		t.release = r.release
	}
	tr := newFECTrack(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}, {Type: "goog-remb"}},
	}, "video", streamID)
	t.track, t.out, t.fec = tr, tr, tr
	t.start(time.Second / time.Duration(max(fps, 1)))
	return t, nil
}

// gatedAudio turns a source into the encoder's audio.Reader, silencing it while the
// track is disabled.
type gatedAudio struct {
	src     audioSource
	enabled *atomic.Bool
	level   *atomic.Uint64 // the last chunk's RMS (float64 bits); nil: not measured
}

// measure keeps the RMS of a chunk as sent (silence when disabled), for AudioLevel.
func (g *gatedAudio) measure(pcm []int16) {
	if g.level == nil {
		return
	}
	var sum float64
	for _, v := range pcm {
		f := float64(v) / 32768
		sum += f * f
	}
	rms := 0.0
	if len(pcm) > 0 {
		rms = math.Sqrt(sum / float64(len(pcm)))
	}
	g.level.Store(math.Float64bits(rms))
}

// AudioLevel is the RMS (0..1 of full scale) of the microphone's latest 20 ms as sent:
// 0 while muted. Video tracks return 0.
func (t *localTrack) AudioLevel() float64 { return math.Float64frombits(t.level.Load()) }

func (g *gatedAudio) Read() (wave.Audio, func(), error) {
	chunk := wave.NewInt16Interleaved(wave.ChunkInfo{Len: chunkSamples, Channels: 1, SamplingRate: sampleRate})
	if err := g.src.ReadChunk(chunk.Data); err != nil {
		return nil, func() {}, err
	}
	if !g.enabled.Load() {
		clear(chunk.Data)
	}
	g.measure(chunk.Data)
	return chunk, func() {}, nil
}

// opusBitrate is plenty for wideband speech in mono; browsers default to about 32 kbit/s.
const opusBitrate = 32000

func newAudioTrack(src audioSource, streamID string, log *slog.Logger) (*localTrack, error) {
	t := &localTrack{kind: KindAudio, label: src.Label(), src: src, log: log}
	t.enabled.Store(true)
	gate := &gatedAudio{src: src, enabled: &t.enabled, level: &t.level}
	enc, err := newOpusEncoder(gate, opusBitrate)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	t.enc, t.opus = enc, enc
	if r, ok := src.(interface{ release() }); ok {
		t.release = r.release
	}
	tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, "audio", streamID)
	if err != nil {
		enc.Close()
		return nil, fmt.Errorf("audio track: %w", err)
	}
	t.track, t.out = tr, tr
	t.start(chunkDur)
	return t, nil
}
