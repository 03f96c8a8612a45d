package devices

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// MixRecorder writes the mix of several remote audio streams (every participant of a
// group call) to one Ogg/Opus file. It is an AudioOutput: each stream is decoded by an
// AudioReceiver into one of its inputs; every 20 ms of wall time the mix is encoded to
// Opus and written, while at least one input is open (no silence between calls).
type MixRecorder struct {
	mix     *Mixer
	enc     *opusEncoder
	w       *oggwriter.OggWriter
	onError func(error)
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	err     error // the first write error; set by the goroutine before done closes
}

// mixSource feeds the encoder the mixer's output.
type mixSource struct{ m *Mixer }

func (s mixSource) ReadChunk(buf []int16) error { s.m.Mix(buf); return nil }
func (s mixSource) Label() string               { return "mix" }
func (s mixSource) Close() error                { return nil }

// NewMixRecorder creates path (0600; an existing file is refused unless o.Overwrite)
// and starts recording the mix of the inputs added later.
func NewMixRecorder(path string, o RecordOptions) (*MixRecorder, error) {
	if err := createPrivate(path, o); err != nil {
		return nil, fmt.Errorf("mix recorder: %w", err)
	}
	w, err := oggwriter.New(path, sampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("mix recorder %s: %w", path, err)
	}
	mix := NewMixer(1)
	on := &atomic.Bool{}
	on.Store(true)
	enc, err := newOpusEncoder(&gatedAudio{src: mixSource{mix}, enabled: on}, opusBitrate)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("mix recorder: %w", err)
	}
	r := &MixRecorder{mix: mix, enc: enc, w: w, onError: o.OnError, stop: make(chan struct{}), done: make(chan struct{})}
	// Owned by r; ends on Close.
	go r.run()
	return r, nil
}

// NewInput implements AudioOutput.
func (r *MixRecorder) NewInput(name string, channels int) (PCMWriter, error) {
	return r.mix.NewInput(name, channels)
}

func (r *MixRecorder) run() {
	defer close(r.done)
	t := time.NewTicker(time.Duration(chunkSamples) * time.Second / sampleRate)
	defer t.Stop()
	var seq uint16
	var ts uint32
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		if r.err != nil || r.mix.Inputs() == 0 {
			continue
		}
		pkt, _, err := r.enc.Read()
		if err == nil {
			err = r.w.WriteRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq, Timestamp: ts}, Payload: pkt})
		}
		seq++
		ts += chunkSamples
		if err != nil {
			r.err = fmt.Errorf("record: %w", err)
			if r.onError != nil {
				r.onError(r.err)
			}
		}
	}
}

// Close stops recording, closes the file and returns the first write error.
func (r *MixRecorder) Close() error {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		r.enc.Close()
		if err := r.w.Close(); err != nil && r.err == nil {
			r.err = fmt.Errorf("record close: %w", err)
		}
	})
	return r.err
}
