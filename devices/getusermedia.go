package devices

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/google/uuid"
)

// testToneHz is the synthetic microphone's pitch: concert A, easy to hear and to find
// again in a recording.
const testToneHz = 440

// GetUserMedia opens the local sources named by p and o, with a synthetic fallback and a
// notice when a device is missing, and starts their encoders. Each track is encoded once;
// add its WebRTC() to every peer connection. Close the stream to stop everything.
func GetUserMedia(ctx context.Context, p MediaParams, o Options) (*LocalStream, error) {
	return getUserMedia(ctx, p, o, true)
}

// getUserMedia with paced=false runs the sources as fast as the encoders go (tests).
func getUserMedia(ctx context.Context, p MediaParams, o Options, paced bool) (*LocalStream, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	w, h, fps := firstPositive(p.Width, o.Width, 640), firstPositive(p.Height, o.Height, 480), firstPositive(p.FPS, o.FPS, 30)
	w, h = w&^1, h&^1 // 4:2:0 wants even sizes
	if w < 16 || h < 16 || w > 4096 || h > 4096 || fps > 120 {
		return nil, fmt.Errorf("getUserMedia: video %dx%d@%d out of range", w, h, fps)
	}
	notify := func(n string) {
		log.Warn("media source failed", "notice", n)
		if o.OnNotice != nil {
			o.OnNotice(n)
		}
	}
	streamID := "ttycall-" + uuid.NewString()
	s := &LocalStream{}
	if p.Video {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("getUserMedia: %w", err)
		}
		src, notice := openVideoSource(firstNonEmpty(p.VideoDevice, o.Camera), w, h, fps, paced, log)
		if notice != "" {
			s.Notices = append(s.Notices, notice)
		}
		if _, synthetic := src.(*testPatternSource); !synthetic {
			src = newFailoverVideo(src, w, h, fps, paced, notify)
		}
		s.Preview = &FrameSlot{}
		// The encoder is built at the size the source delivers (a camera's nearest mode,
		// a file's own size), not the size asked for: mediadevices' VP8 encoder starts
		// over when the first frame has another size, and leaks the libvpx encoder it
		// replaces (24 MB at 1280x720).
		ew, eh := w, h
		if sw, sh := src.Size(); sw > 0 && sh > 0 {
			ew, eh = sw, sh
		}
		t, err := newVideoTrack(src, ew, eh, fps, o.VideoBitrate, s.Preview, p.Mirror, streamID, log)
		if err != nil {
			closeSource(src)
			return nil, fmt.Errorf("getUserMedia: %w", err)
		}
		s.Video = t
	}
	if p.Audio {
		if err := ctx.Err(); err != nil {
			s.Close()
			return nil, fmt.Errorf("getUserMedia: %w", err)
		}
		src, notice := openAudioSource(firstNonEmpty(p.AudioDevice, o.Microphone), paced, log)
		if notice != "" {
			s.Notices = append(s.Notices, notice)
		}
		if _, synthetic := src.(*toneSource); !synthetic {
			src = newFailoverAudio(src, paced, notify)
		}
		t, err := newAudioTrack(src, streamID, log)
		if err != nil {
			closeSource(src)
			s.Close()
			return nil, fmt.Errorf("getUserMedia: %w", err)
		}
		if p.Mute {
			t.SetEnabled(false)
		}
		s.Audio = t
	}
	for _, n := range s.Notices {
		log.Warn("media source fallback", "notice", n)
	}
	return s, nil
}

// openVideoSource never fails: whatever goes wrong, the synthetic camera takes over and
// the notice says why.
func openVideoSource(name string, w, h, fps int, paced bool, log *slog.Logger) (videoSource, string) {
	fallback := func(why string) (videoSource, string) {
		return newTestPatternSource(w, h, fps, paced), why + "; sending a test pattern instead"
	}
	switch {
	case name == SourceTest:
		return newTestPatternSource(w, h, fps, paced), ""
	case strings.HasPrefix(name, SourceTest+":"):
		return newNamedTestPatternSource(strings.TrimPrefix(name, SourceTest+":"), w, h, fps, paced), ""
	case isMediaFile(name):
		src, err := openVideoFile(name, paced)
		if err != nil {
			return fallback(fmt.Sprintf("camera file %q cannot be used (%v)", name, err))
		}
		return src, ""
	case name == SourceDefault:
		for _, d := range captureDrivers(KindVideo) {
			src, err := openCamera(d, w, h, fps)
			if err == nil {
				return src, ""
			}
			log.Warn("camera unusable", "device", d.Info().Label, "err", err)
		}
		return fallback("no camera found")
	default:
		d := findDriver(KindVideo, name)
		if d == nil {
			return fallback(fmt.Sprintf("camera %q not found", name))
		}
		src, err := openCamera(d, w, h, fps)
		if err != nil {
			return fallback(fmt.Sprintf("camera %q cannot be opened (%v)", name, err))
		}
		return src, ""
	}
}

// openAudioSource never fails; see openVideoSource.
func openAudioSource(name string, paced bool, log *slog.Logger) (audioSource, string) {
	fallback := func(why string) (audioSource, string) {
		return newToneSource(testToneHz, paced), why + "; sending a 440 Hz test tone instead"
	}
	switch {
	case name == SourceTest:
		return newToneSource(testToneHz, paced), ""
	case isMediaFile(name):
		src, err := openAudioFile(name, paced)
		if err != nil {
			return fallback(fmt.Sprintf("microphone file %q cannot be used (%v)", name, err))
		}
		return src, ""
	case name == SourceDefault:
		for _, d := range captureDrivers(KindAudio) {
			src, err := openMicrophone(d)
			if err == nil {
				return src, ""
			}
			log.Warn("microphone unusable", "device", d.Info().Name, "err", err)
		}
		return fallback("no microphone found")
	default:
		d := findDriver(KindAudio, name)
		if d == nil {
			return fallback(fmt.Sprintf("microphone %q not found", name))
		}
		src, err := openMicrophone(d)
		if err != nil {
			return fallback(fmt.Sprintf("microphone %q cannot be opened (%v)", name, err))
		}
		return src, ""
	}
}

// Close stops every track of the stream and waits for their encoders.
func (s *LocalStream) Close() error {
	var errs []error
	if s.Video != nil {
		errs = append(errs, s.Video.Close())
	}
	if s.Audio != nil {
		errs = append(errs, s.Audio.Close())
	}
	return errors.Join(errs...)
}

// closeSource closes a source that never got a track, including what only the track's
// goroutine would have released.
func closeSource(src io.Closer) {
	_ = src.Close()
	if r, ok := src.(interface{ release() }); ok {
		r.release()
	}
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

func firstNonEmpty(v ...string) string {
	for _, x := range v {
		if x != "" {
			return x
		}
	}
	return ""
}
