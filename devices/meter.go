package devices

import (
	"math"
	"sync"
	"time"
)

// Meter is an AudioOutput in front of another that measures each input's level (the
// RMS of its latest 20 ms, by input name: the engine names an input after the remote
// user), for a level meter on screen. It adds no delay: samples pass straight through.
type Meter struct {
	out AudioOutput // nil: measure only
	now func() time.Time

	mu     sync.Mutex
	levels map[string]meterLevel // guarded by mu
}

type meterLevel struct {
	rms float64 // 0..1 of full scale
	at  time.Time
}

// meterStale: an input with no samples for this long reads as silent (it stopped).
const meterStale = 300 * time.Millisecond

// NewMeter measures what goes to out (nil: nothing is played).
func NewMeter(out AudioOutput) *Meter {
	return &Meter{out: out, now: time.Now, levels: map[string]meterLevel{}}
}

// NewInput implements AudioOutput.
func (m *Meter) NewInput(name string, channels int) (PCMWriter, error) {
	in := &meterInput{m: m, name: name}
	if m.out != nil {
		w, err := m.out.NewInput(name, channels)
		if err != nil {
			return nil, err
		}
		in.w = w
	}
	return in, nil
}

// Level returns the latest level of the input called name, 0..1 of full scale; ok is
// false when no such input has sent samples lately.
func (m *Meter) Level(name string) (level float64, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, found := m.levels[name]
	if !found || m.now().Sub(l.at) > meterStale {
		return 0, false
	}
	return l.rms, true
}

type meterInput struct {
	m    *Meter
	name string
	w    PCMWriter // nil without an output
}

func (in *meterInput) WritePCM(samples []int16) error {
	var sum float64
	for _, v := range samples {
		f := float64(v) / 32768
		sum += f * f
	}
	rms := 0.0
	if len(samples) > 0 {
		rms = math.Sqrt(sum / float64(len(samples)))
	}
	in.m.mu.Lock()
	in.m.levels[in.name] = meterLevel{rms: rms, at: in.m.now()}
	in.m.mu.Unlock()
	if in.w != nil {
		return in.w.WritePCM(samples)
	}
	return nil
}

func (in *meterInput) Close() error {
	in.m.mu.Lock()
	delete(in.m.levels, in.name)
	in.m.mu.Unlock()
	if in.w != nil {
		return in.w.Close()
	}
	return nil
}
