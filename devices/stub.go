package devices

// CONTRACT STUB: the entry points agreed with the engine and the UI. Replaced as the
// media layer lands.

import (
	"context"
	"errors"
	"io"
	"log/slog"
)

var errNotImplemented = errors.New("devices: not implemented yet")

// GetUserMedia opens the local sources named by p and o, with a synthetic fallback and a
// notice when a device is missing, and starts their encoders.
func GetUserMedia(ctx context.Context, p MediaParams, o Options) (*LocalStream, error) {
	return nil, errNotImplemented
}

// Close stops every track of the stream.
func (s *LocalStream) Close() error { return nil }

// Receiver is an RTPSink with its own goroutine; Close stops it and waits.
type Receiver interface {
	RTPSink
	io.Closer
}

// NewVideoReceiver decodes a remote video track (mime "video/VP8") into slot. It calls
// requestKeyFrame when the decoder needs one (at start, after loss or corruption).
func NewVideoReceiver(mime string, slot *FrameSlot, requestKeyFrame func(), log *slog.Logger) (Receiver, error) {
	return nil, errNotImplemented
}

// NewAudioReceiver decodes a remote audio track (mime "audio/opus") into a new input of
// out named name.
func NewAudioReceiver(mime string, out AudioOutput, name string, log *slog.Logger) (Receiver, error) {
	return nil, errNotImplemented
}

// OpenPlayer opens the default audio output (device "" ) or a named one; with no output
// device it returns a null output and a notice saying so.
func OpenPlayer(device string, log *slog.Logger) (out AudioOutput, closer io.Closer, notice string, err error) {
	return nil, nil, "", errNotImplemented
}

// NewOggRecorder writes a remote Opus track to an Ogg/Opus file, without re-encoding.
func NewOggRecorder(path string) (Receiver, error) { return nil, errNotImplemented }

// NewIVFRecorder writes a remote VP8 track to an IVF file, without re-encoding.
func NewIVFRecorder(path string) (Receiver, error) { return nil, errNotImplemented }

// List returns the capture devices found on this machine.
func List() []DeviceInfo { return nil }
