package devices

import (
	"context"
	"errors"
	"image"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/driver"
	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
)

// This machine has no camera, microphone or sound card. These tests register fake
// drivers with mediadevices' driver manager, where the V4L2 and malgo drivers register
// the real devices, so that device selection, mode negotiation, the error paths of
// opening and reading, and the fallbacks run as they would with hardware. What they
// cannot cover: the V4L2 ioctls and pixel-format decoding of a real camera, malgo's
// capture callback, and playback on a real output (OpenPlayer's device path).

// fakeCamera is a driver.Adapter and driver.VideoRecorder. It delivers frames of the
// negotiated size until failAfter frames (never when negative), then failErr. Unlike
// the V4L2 driver its reader goes on after Close, which checks that closing a track
// does not depend on the driver's cooperation.
type fakeCamera struct {
	props     []prop.Media
	openErr   error
	recordErr error
	failAfter int
	failErr   error
	// failGate, when not nil, holds the failure until it is closed: a test can look at
	// the camera's first frames before it goes away.
	failGate chan struct{}

	opened, closed atomic.Int32
	recorded       atomic.Pointer[prop.Media]
}

func (c *fakeCamera) Open() error              { c.opened.Add(1); return c.openErr }
func (c *fakeCamera) Close() error             { c.closed.Add(1); return nil }
func (c *fakeCamera) Properties() []prop.Media { return c.props }
func (c *fakeCamera) VideoRecord(p prop.Media) (video.Reader, error) {
	if c.recordErr != nil {
		return nil, c.recordErr
	}
	c.recorded.Store(&p)
	n := 0
	return video.ReaderFunc(func() (image.Image, func(), error) {
		if c.failAfter >= 0 && n >= c.failAfter {
			if c.failGate == nil {
				return nil, func() {}, c.failErr
			}
			select {
			case <-c.failGate:
				return nil, func() {}, c.failErr
			default:
			}
		}
		n++
		return image.NewYCbCr(image.Rect(0, 0, p.Width, p.Height), image.YCbCrSubsampleRatio420), func() {}, nil
	}), nil
}

// fakeMic is a driver.Adapter and driver.AudioRecorder delivering 10 ms chunks (as
// malgo does) with a constant value per channel, until failAfter chunks.
type fakeMic struct {
	props     []prop.Media
	values    []int16 // per channel
	failAfter int

	closed   atomic.Int32
	recorded atomic.Pointer[prop.Media]
}

func (m *fakeMic) Open() error              { return nil }
func (m *fakeMic) Close() error             { m.closed.Add(1); return nil }
func (m *fakeMic) Properties() []prop.Media { return m.props }
func (m *fakeMic) AudioRecord(p prop.Media) (audio.Reader, error) {
	m.recorded.Store(&p)
	n := 0
	return audio.ReaderFunc(func() (wave.Audio, func(), error) {
		if m.failAfter >= 0 && n >= m.failAfter {
			return nil, func() {}, errors.New("device lost")
		}
		n++
		c := wave.NewInt16Interleaved(wave.ChunkInfo{Len: 480, Channels: p.ChannelCount, SamplingRate: p.SampleRate})
		for i := range c.Data {
			c.Data[i] = m.values[i%p.ChannelCount]
		}
		return c, func() {}, nil
	}), nil
}

// register adds a fake device to mediadevices' manager for the test's duration.
func register(t *testing.T, a driver.Adapter, info driver.Info) driver.Driver {
	t.Helper()
	if err := driver.GetManager().Register(a, info); err != nil {
		t.Fatal(err)
	}
	ds := driver.GetManager().Query(func(d driver.Driver) bool { return d.Info().Label == info.Label })
	if len(ds) != 1 {
		t.Fatalf("registered %q %d times", info.Label, len(ds))
	}
	t.Cleanup(func() { driver.GetManager().Delete(ds[0].ID()) })
	return ds[0]
}

func videoMode(w, h int, f frame.Format) prop.Media {
	return prop.Media{Video: prop.Video{Width: w, Height: h, FrameFormat: f, FrameRate: 30}}
}

func cameraInfo(label string, pr driver.Priority) driver.Info {
	return driver.Info{Label: label, Name: "Fake Cam;usb-1", DeviceType: driver.Camera, Priority: pr}
}

func TestCameraSelection(t *testing.T) {
	modes := []prop.Media{videoMode(640, 480, frame.FormatYUYV)}
	low := register(t, &fakeCamera{props: modes, failAfter: -1}, cameraInfo("video7;video7", driver.PriorityNormal))
	high := register(t, &fakeCamera{props: modes, failAfter: -1}, cameraInfo("usb-cam;video8", driver.PriorityHigh))
	register(t, &fakeMic{}, driver.Info{Label: "null-fake", Name: "Discard all samples (playback) or generate zero samples (capture)", DeviceType: driver.Microphone})

	ds := captureDrivers(KindVideo)
	if len(ds) < 2 || ds[0].ID() != high.ID() {
		t.Fatalf("cameras %v: the high-priority (system default) one must come first", labels(ds))
	}
	for _, id := range []string{"video7;video7", "video7", "/dev/video7", low.ID()} {
		if d := findDriver(KindVideo, id); d == nil || d.ID() != low.ID() {
			t.Errorf("findDriver(%q) = %v, want video7", id, d)
		}
	}
	for _, id := range []string{"usb-cam", "video8", "/dev/video8"} {
		if d := findDriver(KindVideo, id); d == nil || d.ID() != high.ID() {
			t.Errorf("findDriver(%q) = %v, want video8", id, d)
		}
	}
	if d := findDriver(KindVideo, "/dev/video9"); d != nil {
		t.Errorf("/dev/video9 found as %q", d.Info().Label)
	}
	if d := findDriver(KindAudio, "null-fake"); d != nil {
		t.Error("miniaudio's null device is selectable as a microphone")
	}
	var listed int
	for _, d := range List() {
		if d.Kind == KindVideo && (d.ID == "video7;video7" || d.ID == "usb-cam;video8") {
			listed++
		}
	}
	if listed != 2 {
		t.Errorf("List shows %d of the 2 cameras: %+v", listed, List())
	}

	// The default camera is the high-priority one, opened at the mode closest to the request.
	s, err := getUserMedia(context.Background(), MediaParams{Video: true}, Options{Width: 640, Height: 480, Logger: quietLog()}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Notices) != 0 || s.Video.Label() != "/dev/usb-cam" {
		t.Fatalf("default camera: label %q, notices %q", s.Video.Label(), s.Notices)
	}
}

func labels(ds []driver.Driver) (out []string) {
	for _, d := range ds {
		out = append(out, d.Info().Label)
	}
	return out
}

// TestCameraOpenFailures: every way a present camera can fail to start gives the test
// pattern and a notice naming the camera and the reason, and leaves the device closed.
func TestCameraOpenFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		cam  *fakeCamera
		want string
	}{
		{"busy", &fakeCamera{props: []prop.Media{videoMode(640, 480, frame.FormatYUYV)}, openErr: errors.New("device or resource busy")}, "device or resource busy"},
		{"depth only", &fakeCamera{props: []prop.Media{videoMode(640, 480, frame.FormatZ16)}}, "no usable video mode"},
		{"no modes", &fakeCamera{}, "no usable video mode"},
		{"record fails", &fakeCamera{props: []prop.Media{videoMode(640, 480, frame.FormatYUYV)}, recordErr: errors.New("VIDIOC_S_FMT: invalid argument")}, "invalid argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			register(t, tc.cam, cameraInfo("video5;video5", driver.PriorityNormal))
			for _, name := range []string{"/dev/video5", SourceDefault} {
				s, err := getUserMedia(context.Background(), MediaParams{Video: true}, Options{Camera: name, Width: 160, Height: 120, Logger: quietLog()}, false)
				if err != nil {
					t.Fatal(err)
				}
				if s.Video.Label() != "test pattern" || len(s.Notices) != 1 {
					t.Errorf("%q: label %q, notices %q", name, s.Video.Label(), s.Notices)
				} else if name != SourceDefault && (!strings.Contains(s.Notices[0], tc.want) || !strings.Contains(s.Notices[0], "/dev/video5")) {
					t.Errorf("%q: notice %q lacks %q or the camera's name", name, s.Notices[0], tc.want)
				}
				s.Close()
			}
			// A camera whose Open failed is not open; every other one must be closed,
			// once (a second Close would close a V4L2 file descriptor twice).
			want := int32(2)
			if tc.cam.openErr != nil {
				want = 0
			}
			if o, c := tc.cam.opened.Load(), tc.cam.closed.Load(); o != 2 || c != want {
				t.Errorf("opened %d times, closed %d times, want 2 and %d", o, c, want)
			}
		})
	}
}

// TestCameraFailsMidCall: a camera that stops delivering (unplugged, driver error, read
// timeout) is replaced by the test pattern at the camera's size, the user is told once,
// frames keep flowing to peers, and the device is closed.
func TestCameraFailsMidCall(t *testing.T) {
	cam := &fakeCamera{props: []prop.Media{videoMode(320, 240, frame.FormatYUYV)}, failAfter: 5, failErr: errors.New("VIDIOC_DQBUF: no such device"), failGate: make(chan struct{})}
	register(t, cam, cameraInfo("video6;video6", driver.PriorityNormal))
	notices := make(chan string, 4)
	// 640x480 requested; the camera only does 320x240, and the pattern must keep that size.
	s, err := getUserMedia(context.Background(), MediaParams{Video: true},
		Options{Camera: "/dev/video6", Width: 640, Height: 480, Logger: quietLog(), OnNotice: func(n string) { notices <- n }}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Notices) != 0 || s.Video.Label() != "/dev/video6" {
		t.Fatalf("start: label %q, notices %q", s.Video.Label(), s.Notices)
	}
	close(cam.failGate) // the camera goes away now
	var n string
	select {
	case n = <-notices:
	case <-time.After(20 * time.Second):
		t.Fatal("no notice after the camera failed")
	}
	if !strings.Contains(n, "/dev/video6") || !strings.Contains(n, "no such device") || !strings.Contains(n, "test pattern") {
		t.Errorf("notice %q", n)
	}
	tr := s.Video.(*localTrack)
	// Frames keep coming from the pattern: wait for 10 more encoded samples.
	after := tr.frames.Load() + 10
	deadline := time.Now().Add(20 * time.Second)
	for tr.frames.Load() < after {
		if time.Now().After(deadline) {
			t.Fatalf("encoder stopped after the camera failed: %d samples", tr.frames.Load())
		}
		time.Sleep(time.Millisecond) // polling a counter the encoder goroutine bumps
	}
	if s.Video.Label() != "test pattern" {
		t.Errorf("label after failover %q", s.Video.Label())
	}
	if img, _ := s.Preview.Load(); img == nil || img.Rect.Dx() != 320 || img.Rect.Dy() != 240 {
		t.Errorf("preview after failover: %v, want the camera's 320x240", img.Rect)
	}
	if cam.closed.Load() == 0 {
		t.Error("failed camera not closed")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-notices:
		t.Errorf("second notice %q", n)
	default:
	}
}

// TestMicrophoneModeAndDownmix: 48 kHz int16 is chosen over float and other rates,
// malgo's 10 ms stereo chunks come out as 20 ms mono chunks (the channel average).
func TestMicrophoneModeAndDownmix(t *testing.T) {
	audioMode := func(rate, ch int, float bool) prop.Media {
		return prop.Media{Audio: prop.Audio{SampleRate: rate, ChannelCount: ch, IsFloat: float}}
	}
	mic := &fakeMic{
		props:     []prop.Media{audioMode(48000, 2, true), audioMode(44100, 1, false), audioMode(48000, 2, false)},
		values:    []int16{1000, 3000},
		failAfter: 4,
	}
	d := register(t, mic, driver.Info{Label: "fake-mic", Name: "Fake Mic", DeviceType: driver.Microphone})
	src, err := openMicrophone(d)
	if err != nil {
		t.Fatal(err)
	}
	if p := mic.recorded.Load(); p == nil || p.SampleRate != 48000 || p.ChannelCount != 2 || p.IsFloat {
		t.Fatalf("recording mode %+v, want 48 kHz int16 stereo", p)
	}
	buf := make([]int16, chunkSamples)
	for i := range 2 { // 4 chunks of 10 ms are 2 of 20 ms
		if err := src.ReadChunk(buf); err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if buf[0] != 2000 || buf[chunkSamples-1] != 2000 {
			t.Fatalf("chunk %d: %d, want the stereo average 2000", i, buf[0])
		}
	}

	// Then the device fails: silence and one notice.
	var notices []string
	f := newFailoverAudio(src, false, func(n string) { notices = append(notices, n) })
	if err := f.ReadChunk(buf); err != nil {
		t.Fatal(err)
	}
	if buf[0] != 0 || f.Label() != "silence" || len(notices) != 1 || !strings.Contains(notices[0], "Fake Mic") {
		t.Fatalf("after failure: sample %d, label %q, notices %q", buf[0], f.Label(), notices)
	}
	if mic.closed.Load() == 0 {
		t.Error("failed microphone not closed")
	}
	f.Close()
	if err := f.ReadChunk(buf); err == nil || len(notices) != 1 {
		t.Errorf("read after Close: %v, notices %q", err, notices)
	}

	// A microphone without a 48 kHz mode falls back to the tone with a notice.
	register(t, &fakeMic{props: []prop.Media{audioMode(44100, 1, false)}}, driver.Info{Label: "cd-mic", Name: "CD Mic", DeviceType: driver.Microphone})
	s, err := getUserMedia(context.Background(), MediaParams{Audio: true}, Options{Microphone: "cd-mic", Logger: quietLog()}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Audio.Label() != "test tone" || len(s.Notices) != 1 || !strings.Contains(s.Notices[0], "no 48 kHz mode") {
		t.Errorf("label %q, notices %q", s.Audio.Label(), s.Notices)
	}
}
