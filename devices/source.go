package devices

import (
	"image"
	"io"
	"math"
	"sync"
	"time"
)

// Audio chunks between sources and the Opus encoder: 20 ms of 48 kHz mono, the frame
// size WebRTC endpoints expect by default.
const (
	sampleRate   = 48000
	chunkSamples = 960
	chunkDur     = 20 * time.Millisecond
)

// videoSource produces raw frames for the encoder, paced at its own frame rate.
type videoSource interface {
	// ReadFrame blocks until the next frame is due. fresh reports that the caller owns
	// img (nobody else will touch it), so it can be shared with the preview without a copy.
	ReadFrame() (img *image.YCbCr, fresh bool, err error)
	Label() string
	// Size is the size of the frames ReadFrame returns, or 0, 0 when unknown.
	Size() (w, h int)
	// Close unblocks ReadFrame (which then returns io.EOF) and releases the device.
	Close() error
}

// audioSource produces 20 ms chunks of 48 kHz mono PCM, paced in real time.
type audioSource interface {
	// ReadChunk blocks until the next chunk is due and fills buf (chunkSamples long).
	ReadChunk(buf []int16) error
	Label() string
	Close() error
}

// pacer releases a source's reads at a fixed interval of wall time. A zero interval
// releases immediately (tests and benchmarks run sources as fast as the codec goes).
type pacer struct {
	interval time.Duration
	next     time.Time
	done     chan struct{}
	once     sync.Once
}

func newPacer(interval time.Duration) *pacer {
	return &pacer{interval: interval, done: make(chan struct{})}
}

// wait blocks until the next tick or until stop; it returns io.EOF after stop.
func (p *pacer) wait() error {
	select {
	case <-p.done:
		return io.EOF
	default:
	}
	if p.interval <= 0 {
		return nil
	}
	now := time.Now()
	if p.next.IsZero() || now.Sub(p.next) > 5*p.interval {
		// First tick, or we fell far behind (a stalled encoder): restart the clock
		// rather than bursting frames to catch up.
		p.next = now
	}
	if d := p.next.Sub(now); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-p.done:
			t.Stop()
			return io.EOF
		}
	}
	p.next = p.next.Add(p.interval)
	return nil
}

func (p *pacer) stop() { p.once.Do(func() { close(p.done) }) }

// testPatternSource is the synthetic camera.
type testPatternSource struct {
	pace *pacer
	r    *patternRenderer
	n    int
}

func newTestPatternSource(w, h, fps int, paced bool) *testPatternSource {
	iv := time.Duration(0)
	if paced {
		iv = time.Second / time.Duration(fps)
	}
	return &testPatternSource{pace: newPacer(iv), r: newPatternRenderer(w, h)}
}

// newNamedTestPatternSource is the test pattern with name written on it (camera =
// "test:NAME").
func newNamedTestPatternSource(name string, w, h, fps int, paced bool) *testPatternSource {
	s := newTestPatternSource(w, h, fps, paced)
	s.r.setName(name)
	return s
}

func (s *testPatternSource) ReadFrame() (*image.YCbCr, bool, error) {
	if err := s.pace.wait(); err != nil {
		return nil, false, err
	}
	img := s.r.Render(s.n, time.Now())
	s.n++
	return img, true, nil
}

func (s *testPatternSource) Label() string    { return "test pattern" }
func (s *testPatternSource) Size() (w, h int) { return s.r.w, s.r.h }
func (s *testPatternSource) Close() error     { s.pace.stop(); return nil }

// toneSource is the synthetic microphone: a continuous sine.
type toneSource struct {
	pace  *pacer
	hz    float64
	phase float64
}

// toneAmplitude is about -10 dBFS: loud enough to hear and measure, far from clipping.
const toneAmplitude = 0.3 * math.MaxInt16

func newToneSource(hz float64, paced bool) *toneSource {
	iv := time.Duration(0)
	if paced {
		iv = chunkDur
	}
	return &toneSource{pace: newPacer(iv), hz: hz}
}

func (s *toneSource) ReadChunk(buf []int16) error {
	if err := s.pace.wait(); err != nil {
		return err
	}
	step := 2 * math.Pi * s.hz / sampleRate
	for i := range buf {
		buf[i] = int16(toneAmplitude * math.Sin(s.phase))
		s.phase += step
	}
	s.phase = math.Mod(s.phase, 2*math.Pi)
	return nil
}

func (s *toneSource) Label() string { return "test tone" }
func (s *toneSource) Close() error  { s.pace.stop(); return nil }

// silenceSource is a microphone that hears nothing, paced in real time.
type silenceSource struct{ pace *pacer }

func newSilenceSource(paced bool) *silenceSource {
	iv := time.Duration(0)
	if paced {
		iv = chunkDur
	}
	return &silenceSource{pace: newPacer(iv)}
}

func (s *silenceSource) ReadChunk(buf []int16) error {
	if err := s.pace.wait(); err != nil {
		return err
	}
	clear(buf)
	return nil
}

func (s *silenceSource) Label() string { return "silence" }
func (s *silenceSource) Close() error  { s.pace.stop(); return nil }

// pcmLoopSource plays a decoded file (48 kHz mono) in a loop.
type pcmLoopSource struct {
	pace  *pacer
	pcm   []int16
	pos   int
	label string
}

func (s *pcmLoopSource) ReadChunk(buf []int16) error {
	if err := s.pace.wait(); err != nil {
		return err
	}
	for i := range buf {
		if len(s.pcm) == 0 {
			buf[i] = 0
			continue
		}
		buf[i] = s.pcm[s.pos]
		s.pos = (s.pos + 1) % len(s.pcm)
	}
	return nil
}

func (s *pcmLoopSource) Label() string { return s.label }
func (s *pcmLoopSource) Close() error  { s.pace.stop(); return nil }
