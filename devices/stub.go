package devices

// CONTRACT STUB: the entry points agreed with the engine and the UI. Replaced as the
// media layer lands.

import (
	"errors"
	"io"
	"log/slog"
)

var errNotImplemented = errors.New("devices: not implemented yet")

// OpenPlayer opens the default audio output (device "" ) or a named one; with no output
// device it returns a null output and a notice saying so.
func OpenPlayer(device string, log *slog.Logger) (out AudioOutput, closer io.Closer, notice string, err error) {
	return nil, nil, "", errNotImplemented
}

// NewOggRecorder writes a remote Opus track to an Ogg/Opus file, without re-encoding.
func NewOggRecorder(path string) (Receiver, error) { return nil, errNotImplemented }

// NewIVFRecorder writes a remote VP8 track to an IVF file, without re-encoding.
func NewIVFRecorder(path string) (Receiver, error) { return nil, errNotImplemented }
