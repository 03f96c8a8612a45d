package devices

/*
#cgo pkg-config: opus
#include <opus.h>

static int enc_set_int(OpusEncoder *e, int req, int v) {
	switch (req) {
	case 0: return opus_encoder_ctl(e, OPUS_SET_BITRATE(v));
	case 1: return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(v));
	case 2: return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(v));
	case 3: return opus_encoder_ctl(e, OPUS_SET_DTX(v));
	case 4: return opus_encoder_ctl(e, OPUS_SET_SIGNAL(v));
	}
	return OPUS_BAD_ARG;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/pion/mediadevices/pkg/codec"
)

// opusEncoder is libopus' encoder with what mediadevices' wrapper cannot set: in-band
// FEC, the expected packet loss (which sizes the FEC), and DTX. It encodes 20 ms mono
// chunks at 48 kHz from a gatedAudio and implements mediadevices' codec.ReadCloser so
// localTrack drives it like any other encoder.
type opusEncoder struct {
	src  *gatedAudio
	mu   sync.Mutex // guards enc against Close during Read
	enc  *C.OpusEncoder
	pcm  []int16
	out  []byte
	loss atomic.Int32 // pending OPUS_SET_PACKET_LOSS_PERC; -1: none
	rate atomic.Int32 // pending bitrate; 0: none
}

const (
	opusCtlBitrate = iota
	opusCtlFEC
	opusCtlLoss
	opusCtlDTX
	opusCtlSignal
)

func newOpusEncoder(src *gatedAudio, bitrate int) (*opusEncoder, error) {
	var cerr C.int
	enc := C.opus_encoder_create(sampleRate, 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if cerr != C.OPUS_OK || enc == nil {
		return nil, fmt.Errorf("opus encoder init (libopus error %d)", int(cerr))
	}
	for _, kv := range [][2]int{
		{opusCtlBitrate, bitrate}, {opusCtlFEC, 1}, {opusCtlLoss, 0}, {opusCtlDTX, 1},
		{opusCtlSignal, int(C.OPUS_SIGNAL_VOICE)},
	} {
		if rc := C.enc_set_int(enc, C.int(kv[0]), C.int(kv[1])); rc != C.OPUS_OK {
			C.opus_encoder_destroy(enc)
			return nil, fmt.Errorf("opus encoder ctl %d=%d: libopus error %d", kv[0], kv[1], int(rc))
		}
	}
	e := &opusEncoder{src: src, enc: enc, pcm: make([]int16, chunkSamples), out: make([]byte, 1500)}
	e.loss.Store(-1)
	return e, nil
}

// SetPacketLoss tells the encoder the loss its receiver reports (percent), so that its
// in-band FEC carries enough redundancy.
func (e *opusEncoder) SetPacketLoss(percent int) { e.loss.Store(int32(min(max(percent, 0), 100))) }

// SetBitRate is mediadevices' codec.BitRateController.
func (e *opusEncoder) SetBitRate(bps int) error {
	e.rate.Store(int32(bps))
	return nil
}

func (e *opusEncoder) Controller() codec.EncoderController { return e }

// Read encodes the next 20 ms. Under DTX a silent chunk is a 1-2 byte packet; it is
// sent all the same, every 20 ms: pion's sample track can skip a packet's time only by
// also skipping its sequence number, which receivers would count as loss.
func (e *opusEncoder) Read() ([]byte, func(), error) {
	if err := e.src.src.ReadChunk(e.pcm); err != nil {
		return nil, func() {}, err
	}
	if !e.src.enabled.Load() {
		clear(e.pcm)
	}
	e.src.measure(e.pcm)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc == nil {
		return nil, func() {}, ErrClosed
	}
	if l := e.loss.Swap(-1); l >= 0 {
		C.enc_set_int(e.enc, opusCtlLoss, C.int(l))
	}
	if r := e.rate.Swap(0); r > 0 {
		C.enc_set_int(e.enc, opusCtlBitrate, C.int(r))
	}
	n := C.opus_encode(e.enc, (*C.opus_int16)(unsafe.Pointer(&e.pcm[0])), chunkSamples,
		(*C.uchar)(unsafe.Pointer(&e.out[0])), C.opus_int32(len(e.out)))
	if n < 0 {
		return nil, func() {}, fmt.Errorf("opus encode: libopus error %d", int(n))
	}
	return append([]byte(nil), e.out[:n]...), func() {}, nil
}

func (e *opusEncoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.enc != nil {
		C.opus_encoder_destroy(e.enc)
		e.enc = nil
	}
	return nil
}
