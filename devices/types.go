package devices

import (
	"log/slog"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Kind is the kind of a track.
type Kind int

// Track kinds.
const (
	KindUnknown Kind = iota
	KindAudio
	KindVideo
)

func (k Kind) String() string {
	switch k {
	case KindAudio:
		return "audio"
	case KindVideo:
		return "video"
	default:
		return "unknown"
	}
}

// Source names with a special meaning in Options.Camera / Options.Microphone.
const (
	// SourceDefault ("") is the system's default device, or the synthetic source with a
	// notice when there is none.
	SourceDefault = ""
	// SourceTest is the synthetic source: a moving test pattern with a frame counter, or
	// a tone. As a camera, "test:NAME" writes NAME on the pattern.
	SourceTest = "test"
)

// Options are the user's media settings (the [media] section of the config).
type Options struct {
	// Camera and Microphone: SourceDefault, SourceTest, a device ID from List, or a file
	// path (IVF/Y4M for the camera, WAV/Ogg-Opus for the microphone).
	Camera     string
	Microphone string
	Width      int // default 640
	Height     int // default 480
	FPS        int // default 30
	// VideoBitrate caps the video encoder in bit/s (0: a sensible default for the size).
	VideoBitrate int
	Logger       *slog.Logger
	// OnNotice, when set, is told what the user should know that happens after
	// GetUserMedia returned, such as a camera that stops working mid-call and is
	// replaced by the test pattern. It is called from a media goroutine and must not
	// block. (Notices known at the start are in LocalStream.Notices.)
	OnNotice func(notice string)
}

// MediaParams is the seed's getUserMedia argument.
type MediaParams struct {
	Audio bool
	Video bool
	// Optional constraints; zero values mean "from Options".
	AudioDevice string
	VideoDevice string
	Width       int
	Height      int
	FPS         int
	// Mute starts with the microphone muted (options.mute).
	Mute bool
	// Mirror mirrors the local preview (options.mirror); what is sent is never mirrored.
	Mirror bool
}

// LocalTrack is one local track, encoded once and shared by every peer connection of a
// session (add WebRTC() to each of them).
type LocalTrack interface {
	Kind() Kind
	// WebRTC is the track to add to peer connections.
	WebRTC() webrtc.TrackLocal
	// SetEnabled turns the track on or off without renegotiation: a disabled microphone
	// sends silence, a disabled camera sends black frames.
	SetEnabled(on bool)
	Enabled() bool
	// RequestKeyFrame asks the video encoder for a key frame (on PLI/FIR); a no-op for audio.
	RequestKeyFrame()
	// SetBitrate changes the encoder's target in bit/s. A video track follows a falling
	// target with its frame rate, then its size (and back up with headroom).
	SetBitrate(bps int)
	// Quality is a video track's current adaptation (zero for audio).
	Quality() Quality
	// Label names the source for a status bar ("test pattern", "/dev/video0", "tone.wav");
	// it changes when a failed device is replaced.
	Label() string
	// Frames counts the encoded samples sent so far (video frames, 20 ms audio frames),
	// from which a stats report derives the frame rate.
	Frames() uint64
	// FrameSize is the size of the frames the video encoder is fed; 0, 0 for audio.
	FrameSize() (width, height int)
	Close() error
}

// LocalStream is what GetUserMedia returns.
type LocalStream struct {
	Audio LocalTrack // nil when audio was not requested
	Video LocalTrack // nil when video was not requested
	// Preview holds the latest local frame, mirrored when MediaParams.Mirror was set;
	// nil without video.
	Preview *FrameSlot
	// Notices are things the user should be told, such as a fallback to a synthetic
	// source because a device is missing.
	Notices []string
}

// RTPSink receives remote RTP packets from the engine. WriteRTP must return quickly
// (queue or drop, never block on decoding or I/O); the packet must not be kept after
// WriteRTP returns unless copied.
type RTPSink interface {
	WriteRTP(p *rtp.Packet) error
}

// DeviceInfo describes a capture device.
type DeviceInfo struct {
	ID    string // usable as Options.Camera / Options.Microphone
	Label string
	Kind  Kind
}

// AudioOutput plays remote audio: each remote track gets its own input, and the output
// mixes them. A Player on the default device and a null sink implement it.
type AudioOutput interface {
	// NewInput returns a writer for one remote stream's PCM: 48 kHz, interleaved int16,
	// the given channel count. Write must not block for long; Close removes the input.
	NewInput(name string, channels int) (PCMWriter, error)
}

// PCMWriter takes PCM samples for one input of an AudioOutput.
type PCMWriter interface {
	WritePCM(samples []int16) error
	Close() error
}
