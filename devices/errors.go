package devices

import "errors"

// Sentinel errors of the media layer; callers test them with errors.Is.
var (
	// ErrUnsupportedCodec is returned for a mime type this package cannot decode or record.
	ErrUnsupportedCodec = errors.New("devices: unsupported codec")
	// ErrClosed is returned by writes into a receiver, recorder or input that was closed.
	ErrClosed = errors.New("devices: closed")
	// ErrNoDevice means a requested capture or playback device does not exist.
	ErrNoDevice = errors.New("devices: no such device")
	// ErrBadFile means a media file could not be parsed (not IVF/Y4M/WAV/Ogg-Opus, or an
	// unsupported variant of one).
	ErrBadFile = errors.New("devices: unsupported or corrupt media file")
	// ErrDecode is a codec failure on one frame or packet; the receiver recovers from it.
	ErrDecode = errors.New("devices: decode failed")
)
