package devices

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/gen2brain/malgo"
)

// Mixer is an AudioOutput that sums its inputs with clipping. The playback device pulls
// from it with Mix; without a device (the null output) inputs are accepted and their
// oldest audio is dropped, so callers behave the same either way.
type Mixer struct {
	channels int

	mu     sync.Mutex
	inputs map[*mixInput]struct{} // guarded by mu
	acc    []int32                // guarded by mu; Mix's scratch, kept to spare the audio thread allocations
}

// Per-input buffering, in frames at 48 kHz. An input starts (and restarts after running
// dry) only with mixPrebuffer queued. Network jitter is the receivers' jitter buffers'
// business (audiojb.go): they write 10 ms every 10 ms, so the prebuffer covers only a
// device period (~10 ms) and the jitter of the receivers' timers. Beyond mixMaxBuffer
// the oldest audio is dropped so that clock drift or a stalled device never builds up
// delay.
const (
	mixPrebuffer = 20 * sampleRate / 1000
	mixMaxBuffer = 200 * sampleRate / 1000
)

// NewMixer returns a mixer producing interleaved 48 kHz PCM with the given channels.
func NewMixer(channels int) *Mixer {
	return &Mixer{channels: max(1, channels), inputs: make(map[*mixInput]struct{})}
}

type mixInput struct {
	m        *Mixer
	name     string
	channels int
	buf      []int16 // guarded by m.mu; interleaved with the mixer's channel count
	playing  bool    // guarded by m.mu
	closed   bool    // guarded by m.mu
}

// NewInput adds an input; it is mixed until closed.
func (m *Mixer) NewInput(name string, channels int) (PCMWriter, error) {
	if channels < 1 || channels > 8 {
		return nil, fmt.Errorf("mixer input %s: %d channels: %w", name, channels, ErrUnsupportedCodec)
	}
	in := &mixInput{m: m, name: name, channels: channels}
	m.mu.Lock()
	m.inputs[in] = struct{}{}
	m.mu.Unlock()
	return in, nil
}

// Inputs returns how many inputs are open.
func (m *Mixer) Inputs() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.inputs)
}

// WritePCM queues samples (interleaved, the input's channel count); it never blocks.
func (in *mixInput) WritePCM(samples []int16) error {
	m := in.m
	frames := len(samples) / in.channels
	m.mu.Lock()
	defer m.mu.Unlock()
	if in.closed {
		return ErrClosed
	}
	for f := range frames {
		src := samples[f*in.channels : (f+1)*in.channels]
		for c := range m.channels {
			switch {
			case in.channels == m.channels:
				in.buf = append(in.buf, src[c])
			case in.channels == 1:
				in.buf = append(in.buf, src[0])
			default: // downmix to mono, or take the first channels
				if m.channels == 1 {
					var s int32
					for _, v := range src {
						s += int32(v)
					}
					in.buf = append(in.buf, int16(s/int32(len(src))))
				} else {
					in.buf = append(in.buf, src[min(c, len(src)-1)])
				}
			}
		}
	}
	if over := len(in.buf) - mixMaxBuffer*m.channels; over > 0 {
		in.buf = append(in.buf[:0], in.buf[over:]...)
	}
	return nil
}

// Close removes the input from the mix.
func (in *mixInput) Close() error {
	in.m.mu.Lock()
	defer in.m.mu.Unlock()
	in.closed = true
	delete(in.m.inputs, in)
	return nil
}

// Mix fills out (interleaved, the mixer's channels) with the sum of all inputs, clipped
// to int16, and silence where no input has data.
func (m *Mixer) Mix(out []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cap(m.acc) < len(out) {
		m.acc = make([]int32, len(out))
	}
	acc := m.acc[:len(out)]
	clear(acc)
	for in := range m.inputs {
		if !in.playing {
			if len(in.buf) < mixPrebuffer*m.channels {
				continue
			}
			in.playing = true
		}
		n := min(len(in.buf), len(out))
		for i := range n {
			acc[i] += int32(in.buf[i])
		}
		in.buf = append(in.buf[:0], in.buf[n:]...)
		if len(in.buf) == 0 {
			in.playing = false // ran dry: prebuffer again before resuming
		}
	}
	for i, v := range acc {
		out[i] = clip16(v)
	}
}

// player plays a Mixer on a malgo (miniaudio) playback device.
type player struct {
	ctx  *malgo.AllocatedContext
	dev  *malgo.Device
	once sync.Once
}

func (p *player) Close() error {
	p.once.Do(func() {
		p.dev.Uninit() // stops the device and waits for its callback to return
		_ = p.ctx.Uninit()
		p.ctx.Free()
	})
	return nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// playbackBackends returns the sound systems that can work here. miniaudio's null
// backend is left out on purpose, so that "no sound card" is reported instead of playing
// into nothing; and ALSA is only tried when a playback PCM exists, because libasound
// prints its failures to stderr, which would scribble over the terminal UI.
func playbackBackends() []malgo.Backend {
	if runtime.GOOS != "linux" {
		return []malgo.Backend{malgo.BackendCoreaudio, malgo.BackendWasapi, malgo.BackendSndio, malgo.BackendOss}
	}
	var b []malgo.Backend
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if os.Getenv("PULSE_SERVER") != "" || (rt != "" && (exists(filepath.Join(rt, "pulse", "native")) || exists(filepath.Join(rt, "pipewire-0")))) {
		b = append(b, malgo.BackendPulseaudio)
	}
	if m, _ := filepath.Glob("/dev/snd/pcmC*D*p"); len(m) > 0 {
		b = append(b, malgo.BackendAlsa)
	}
	return b
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// OpenPlayer opens the default audio output (device "") or a named one (a name or ID
// as miniaudio lists them); with no output device it returns a null output and a notice
// saying so. err is reserved for failures of a device that exists.
func OpenPlayer(device string, log *slog.Logger) (out AudioOutput, closer io.Closer, notice string, err error) {
	if log == nil {
		log = slog.Default()
	}
	mixer := NewMixer(2)
	null := func(why string) (AudioOutput, io.Closer, string, error) {
		n := why + "; remote audio will not be played"
		log.Warn("audio output", "notice", n)
		return mixer, nopCloser{}, n, nil
	}
	backends := playbackBackends()
	if len(backends) == 0 {
		return null("no audio output device (no sound card or sound server)")
	}
	ctx, cerr := malgo.InitContext(backends, malgo.ContextConfig{}, func(string) {})
	if cerr != nil {
		return null("no audio output device (no sound system)")
	}
	devs, derr := ctx.Devices(malgo.Playback)
	if derr != nil || len(devs) == 0 {
		_ = ctx.Uninit()
		ctx.Free()
		return null("no audio output device found")
	}
	cfg := malgo.DefaultDeviceConfig(malgo.Playback)
	if device != "" {
		found := false
		for i := range devs {
			if devs[i].ID.String() == device || strings.EqualFold(devs[i].Name(), device) {
				cfg.Playback.DeviceID = devs[i].ID.Pointer()
				found = true
				break
			}
		}
		if !found {
			notice = fmt.Sprintf("audio output %q not found; using the default output", device)
			log.Warn("audio output", "notice", notice)
		}
	}
	cfg.Playback.Format = malgo.FormatS16
	cfg.Playback.Channels = uint32(mixer.channels)
	cfg.SampleRate = sampleRate
	dev, ierr := malgo.InitDevice(ctx.Context, cfg, malgo.DeviceCallbacks{
		Data: func(output, _ []byte, frames uint32) {
			n := int(frames) * mixer.channels
			if n == 0 || len(output) < 2*n {
				return
			}
			mixer.Mix(unsafe.Slice((*int16)(unsafe.Pointer(&output[0])), n))
		},
	})
	if ierr != nil {
		_ = ctx.Uninit()
		ctx.Free()
		return null(fmt.Sprintf("audio output cannot be opened (%v)", ierr))
	}
	if serr := dev.Start(); serr != nil {
		dev.Uninit()
		_ = ctx.Uninit()
		ctx.Free()
		return null(fmt.Sprintf("audio output cannot be started (%v)", serr))
	}
	return mixer, &player{ctx: ctx, dev: dev}, notice, nil
}
