package devices

import (
	"fmt"
	"image"
	"math"
	"strings"
	"sync"

	"github.com/pion/mediadevices/pkg/driver"
	// The real capture drivers, compiled in: V4L2 cameras and malgo (miniaudio)
	// microphones. Both register themselves with mediadevices' driver manager at init.
	_ "github.com/pion/mediadevices/pkg/driver/camera"
	_ "github.com/pion/mediadevices/pkg/driver/microphone"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
)

// isNullMicrophone reports miniaudio's null backend device, which "captures" silence on
// machines without a sound card; it is not a microphone anyone would choose.
func isNullMicrophone(d driver.Driver) bool {
	info := d.Info()
	return info.Label == "6e756c6c" || strings.HasPrefix(info.Name, "Discard all samples")
}

// captureDrivers returns the real devices of a kind, the system default first.
func captureDrivers(kind Kind) []driver.Driver {
	var f driver.FilterFn
	switch kind {
	case KindVideo:
		f = driver.FilterAnd(driver.FilterVideoRecorder(), driver.FilterDeviceType(driver.Camera))
	case KindAudio:
		f = driver.FilterAudioRecorder()
	default:
		return nil
	}
	var out []driver.Driver
	for _, d := range driver.GetManager().Query(f) {
		if kind == KindAudio && isNullMicrophone(d) {
			continue
		}
		out = append(out, d)
	}
	// Highest priority (the system default) first; stable otherwise.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Info().Priority > out[j-1].Info().Priority; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// findDriver finds a device by the ID List gives (the driver label), by the first part
// of it, or, for cameras, by its /dev path.
func findDriver(kind Kind, id string) driver.Driver {
	for _, d := range captureDrivers(kind) {
		label := d.Info().Label
		first, rest, _ := strings.Cut(label, cameraLabelSeparator)
		switch {
		case label == id, first == id, rest == id, d.ID() == id:
			return d
		case strings.HasPrefix(id, "/dev/") && (strings.TrimPrefix(id, "/dev/") == first || strings.TrimPrefix(id, "/dev/") == rest):
			return d
		}
	}
	return nil
}

// List returns the capture devices found on this machine, after the synthetic sources
// that always exist.
func List() []DeviceInfo {
	out := []DeviceInfo{
		{ID: SourceTest, Label: "test pattern (synthetic camera)", Kind: KindVideo},
		{ID: SourceTest, Label: "440 Hz tone (synthetic microphone)", Kind: KindAudio},
	}
	for _, k := range []Kind{KindVideo, KindAudio} {
		for _, d := range captureDrivers(k) {
			info := d.Info()
			name := info.Name
			if name == "" {
				name = info.Label
			}
			out = append(out, DeviceInfo{ID: info.Label, Label: name, Kind: k})
		}
	}
	return out
}

// closeDriver closes a driver unless it is closed already. mediadevices' driver wrapper
// closes a driver itself when VideoRecord or AudioRecord fails, and its state machine
// lets Close run again: the V4L2 driver would then close its file descriptor twice, by
// then perhaps another file's.
func closeDriver(d driver.Driver) {
	if d.Status() != driver.StateClosed {
		_ = d.Close()
	}
}

// cameraSource reads a V4L2 camera through its mediadevices driver.
type cameraSource struct {
	d     driver.Driver
	r     video.Reader
	label string
	w, h  int // the mode chosen
	once  sync.Once
}

func openCamera(d driver.Driver, w, h, fps int) (*cameraSource, error) {
	if err := d.Open(); err != nil {
		return nil, fmt.Errorf("open camera %s: %w", d.Info().Label, err)
	}
	rec, ok := d.(driver.VideoRecorder)
	if !ok {
		closeDriver(d)
		return nil, fmt.Errorf("camera %s cannot record: %w", d.Info().Label, ErrNoDevice)
	}
	p, err := pickVideoProp(d.Properties(), w, h, fps)
	if err != nil {
		closeDriver(d)
		return nil, fmt.Errorf("camera %s: %w", d.Info().Label, err)
	}
	r, err := rec.VideoRecord(p)
	if err != nil {
		closeDriver(d)
		return nil, fmt.Errorf("camera %s record %dx%d: %w", d.Info().Label, p.Width, p.Height, err)
	}
	label, _, _ := strings.Cut(d.Info().Label, cameraLabelSeparator)
	return &cameraSource{d: d, r: video.ToI420(r), label: "/dev/" + label, w: p.Width, h: p.Height}, nil
}

// pickVideoProp picks the camera mode closest to the wanted size and rate, preferring
// formats that need no JPEG decoding.
func pickVideoProp(props []prop.Media, w, h, fps int) (prop.Media, error) {
	best, bestCost := prop.Media{}, math.Inf(1)
	for _, p := range props {
		cost := math.Abs(float64(p.Width-w)) + math.Abs(float64(p.Height-h))
		if p.FrameRate > 0 {
			cost += 10 * math.Abs(float64(p.FrameRate)-float64(fps))
		}
		switch p.FrameFormat {
		case frame.FormatI420, frame.FormatYUYV, frame.FormatNV12, frame.FormatNV21, frame.FormatUYVY:
		case frame.FormatMJPEG:
			cost += 50
		default:
			continue
		}
		if cost < bestCost {
			best, bestCost = p, cost
		}
	}
	if math.IsInf(bestCost, 1) {
		return best, fmt.Errorf("no usable video mode: %w", ErrNoDevice)
	}
	return best, nil
}

func (c *cameraSource) ReadFrame() (*image.YCbCr, bool, error) {
	img, rel, err := c.r.Read()
	if err != nil {
		return nil, false, err
	}
	defer rel()
	y, ok := img.(*image.YCbCr)
	if !ok {
		return nil, false, fmt.Errorf("camera %s: frame type %T: %w", c.label, img, ErrDecode)
	}
	// The driver reuses its buffers: copy so the encoder and preview own the frame.
	return copyYCbCr(y), true, nil
}

func (c *cameraSource) Label() string    { return c.label }
func (c *cameraSource) Size() (w, h int) { return c.w, c.h }

func (c *cameraSource) Close() error {
	var err error
	c.once.Do(func() { err = c.d.Close() })
	return err
}

// micSource reads a microphone through its mediadevices (malgo) driver and reframes it
// into 20 ms mono chunks.
type micSource struct {
	d     driver.Driver
	r     audio.Reader
	fifo  []int16
	label string
	once  sync.Once
}

func openMicrophone(d driver.Driver) (*micSource, error) {
	if err := d.Open(); err != nil {
		return nil, fmt.Errorf("open microphone %s: %w", d.Info().Name, err)
	}
	rec, ok := d.(driver.AudioRecorder)
	if !ok {
		closeDriver(d)
		return nil, fmt.Errorf("microphone %s cannot record: %w", d.Info().Name, ErrNoDevice)
	}
	// 48 kHz (what mediadevices' malgo driver offers), 16-bit rather than float, then
	// the fewest channels: everything is mixed down to mono for Opus anyway.
	var chosen *prop.Media
	better := func(a, b prop.Media) bool {
		if a.IsFloat != b.IsFloat {
			return !a.IsFloat
		}
		return a.ChannelCount < b.ChannelCount
	}
	for _, p := range d.Properties() {
		if p.SampleRate == sampleRate && p.ChannelCount > 0 && (chosen == nil || better(p, *chosen)) {
			p := p
			chosen = &p
		}
	}
	if chosen == nil {
		closeDriver(d)
		return nil, fmt.Errorf("microphone %s has no 48 kHz mode: %w", d.Info().Name, ErrNoDevice)
	}
	r, err := rec.AudioRecord(*chosen)
	if err != nil {
		closeDriver(d)
		return nil, fmt.Errorf("microphone %s record: %w", d.Info().Name, err)
	}
	return &micSource{d: d, r: r, label: d.Info().Name}, nil
}

func (m *micSource) ReadChunk(buf []int16) error {
	for len(m.fifo) < len(buf) {
		a, rel, err := m.r.Read()
		if err != nil {
			return err
		}
		info := a.ChunkInfo()
		ch := max(1, info.Channels)
		switch b := a.(type) {
		case *wave.Int16Interleaved:
			for i := 0; i+ch <= len(b.Data); i += ch {
				var s int32
				for c := range ch {
					s += int32(b.Data[i+c])
				}
				m.fifo = append(m.fifo, int16(s/int32(ch)))
			}
		default:
			for i := range info.Len {
				var s float64
				for c := range ch {
					s += float64(wave.Int16SampleFormat.Convert(a.At(i, c)).(wave.Int16Sample))
				}
				m.fifo = append(m.fifo, int16(s/float64(ch)))
			}
		}
		if rel != nil {
			rel()
		}
	}
	copy(buf, m.fifo)
	m.fifo = append(m.fifo[:0], m.fifo[len(buf):]...)
	return nil
}

func (m *micSource) Label() string { return m.label }

func (m *micSource) Close() error {
	var err error
	m.once.Do(func() { err = m.d.Close() })
	return err
}

// cameraLabelSeparator splits a V4L2 camera's label into link name and device name
// (mediadevices' camera.LabelSeparator).
const cameraLabelSeparator = ";"
