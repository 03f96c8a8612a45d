package devices

/*
#cgo pkg-config: opus
#include <stdlib.h>
#include <opus.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// opusMaxFrame is the largest Opus frame at 48 kHz: 120 ms.
const opusMaxFrame = 5760

// opusDecoder wraps libopus' decoder (mediadevices has only the encoder). Output is
// always 48 kHz interleaved int16. Not safe for concurrent use.
type opusDecoder struct {
	dec      *C.OpusDecoder
	channels int
	pcm      []int16
}

func newOpusDecoder(channels int) (*opusDecoder, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("opus decoder: %d channels: %w", channels, ErrUnsupportedCodec)
	}
	var cerr C.int
	dec := C.opus_decoder_create(48000, C.int(channels), &cerr)
	if cerr != C.OPUS_OK || dec == nil {
		return nil, fmt.Errorf("opus decoder init (libopus error %d): %w", int(cerr), ErrDecode)
	}
	return &opusDecoder{dec: dec, channels: channels, pcm: make([]int16, opusMaxFrame*channels)}, nil
}

// Decode decodes one Opus packet; a nil packet runs packet-loss concealment for
// samples frames (per channel). The returned slice is valid until the next call.
func (d *opusDecoder) Decode(packet []byte, samples int) ([]int16, error) {
	if d.dec == nil {
		return nil, ErrClosed
	}
	var n C.int
	if len(packet) == 0 {
		if samples <= 0 || samples > opusMaxFrame {
			samples = 960
		}
		n = C.opus_decode(d.dec, nil, 0, (*C.opus_int16)(unsafe.Pointer(&d.pcm[0])), C.int(samples), 0)
	} else {
		n = C.opus_decode(d.dec, (*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)),
			(*C.opus_int16)(unsafe.Pointer(&d.pcm[0])), C.int(opusMaxFrame), 0)
	}
	if n < 0 {
		return nil, fmt.Errorf("opus: libopus error %d: %w", int(n), ErrDecode)
	}
	return d.pcm[:int(n)*d.channels], nil
}

// Close frees the decoder; it is idempotent.
func (d *opusDecoder) Close() {
	if d.dec != nil {
		C.opus_decoder_destroy(d.dec)
		d.dec = nil
	}
}

// DecodeFEC recovers the frame before packet from the forward error correction data
// packet carries (Opus in-band FEC), samples long; the returned slice is valid until the
// next call. Without FEC data in packet libopus conceals instead.
func (d *opusDecoder) DecodeFEC(packet []byte, samples int) ([]int16, error) {
	if d.dec == nil {
		return nil, ErrClosed
	}
	if len(packet) == 0 || samples <= 0 || samples > opusMaxFrame {
		return d.Decode(nil, samples)
	}
	n := C.opus_decode(d.dec, (*C.uchar)(unsafe.Pointer(&packet[0])), C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&d.pcm[0])), C.int(samples), 1)
	if n < 0 {
		return nil, fmt.Errorf("opus fec: libopus error %d: %w", int(n), ErrDecode)
	}
	return d.pcm[:int(n)*d.channels], nil
}
