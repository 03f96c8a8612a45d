package devices

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <stdint.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8dx.h>

static vpx_codec_ctx_t *ttc_vp8_new(int *err) {
	vpx_codec_ctx_t *c = calloc(1, sizeof(vpx_codec_ctx_t));
	if (c == NULL) { *err = -1; return NULL; }
	vpx_codec_dec_cfg_t cfg = {0};
	cfg.threads = 1;
	vpx_codec_err_t e = vpx_codec_dec_init(c, vpx_codec_vp8_dx(), &cfg, 0);
	if (e != VPX_CODEC_OK) { free(c); *err = (int)e; return NULL; }
	return c;
}

// ttc_vp8_decode decodes one frame and reports libvpx's own corruption flag, which is
// set when the frame referenced data that was lost.
static int ttc_vp8_decode(vpx_codec_ctx_t *c, const uint8_t *d, unsigned int n, int *corrupt) {
	vpx_codec_err_t e = vpx_codec_decode(c, d, n, NULL, 0);
	if (e != VPX_CODEC_OK) return (int)e;
	int cor = 0;
	if (vpx_codec_control(c, VP8D_GET_FRAME_CORRUPTED, &cor) == VPX_CODEC_OK) *corrupt = cor;
	return 0;
}

static vpx_image_t *ttc_vp8_frame(vpx_codec_ctx_t *c) {
	vpx_codec_iter_t it = NULL;
	vpx_image_t *img = NULL, *last = NULL;
	while ((img = vpx_codec_get_frame(c, &it)) != NULL) last = img;
	return last;
}

static void ttc_vp8_free(vpx_codec_ctx_t *c) { vpx_codec_destroy(c); free(c); }
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

// vp8Decoder is a thin libvpx VP8 decoder. mediadevices' vpx decoder reads from an
// io.Reader with a fixed 1 MiB buffer, ignores libvpx's corruption flag and assumes even
// sizes; the receive path needs one frame in, one image out, and to know when a frame was
// damaged so that it can ask for a key frame.
//
// A vp8Decoder is not safe for concurrent use.
type vp8Decoder struct {
	ctx *C.vpx_codec_ctx_t
}

func newVP8Decoder() (*vp8Decoder, error) {
	var cerr C.int
	ctx := C.ttc_vp8_new(&cerr)
	if ctx == nil {
		return nil, fmt.Errorf("vp8 decoder init (libvpx error %d): %w", int(cerr), ErrDecode)
	}
	return &vp8Decoder{ctx: ctx}, nil
}

// Decode decodes one complete VP8 frame into a fresh image (the caller owns it). It
// returns (nil, false, nil) when libvpx produced no picture (e.g. a dropped frame), and
// corrupt=true when the picture depends on lost data.
func (d *vp8Decoder) Decode(frame []byte) (img *image.YCbCr, corrupt bool, err error) {
	if d.ctx == nil {
		return nil, false, ErrClosed
	}
	if len(frame) == 0 {
		return nil, false, fmt.Errorf("vp8: empty frame: %w", ErrDecode)
	}
	if w, h, ok := vp8KeyFrameSize(frame); ok && (w == 0 || h == 0 || w*h > maxVP8Pixels) {
		// Refuse before libvpx allocates: a corrupt header can claim 16383x16383.
		return nil, false, fmt.Errorf("vp8: key frame claims %dx%d: %w", w, h, ErrDecode)
	}
	var cor C.int
	if rc := C.ttc_vp8_decode(d.ctx, (*C.uint8_t)(unsafe.Pointer(&frame[0])), C.uint(len(frame)), &cor); rc != 0 {
		return nil, false, fmt.Errorf("vp8: libvpx error %d: %w", int(rc), ErrDecode)
	}
	vi := C.ttc_vp8_frame(d.ctx)
	if vi == nil {
		return nil, cor != 0, nil
	}
	if vi.fmt != C.VPX_IMG_FMT_I420 {
		return nil, false, fmt.Errorf("vp8: unexpected image format %d: %w", int(vi.fmt), ErrDecode)
	}
	w, h := int(vi.d_w), int(vi.d_h)
	if w <= 0 || h <= 0 || w > 16384 || h > 16384 {
		return nil, false, fmt.Errorf("vp8: bad size %dx%d: %w", w, h, ErrDecode)
	}
	cw, ch := (w+1)/2, (h+1)/2
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	copyPlane(dst.Y, dst.YStride, unsafe.Pointer(vi.planes[0]), int(vi.stride[0]), w, h)
	copyPlane(dst.Cb, dst.CStride, unsafe.Pointer(vi.planes[1]), int(vi.stride[1]), cw, ch)
	copyPlane(dst.Cr, dst.CStride, unsafe.Pointer(vi.planes[2]), int(vi.stride[2]), cw, ch)
	return dst, cor != 0, nil
}

func copyPlane(dst []byte, dstStride int, src unsafe.Pointer, srcStride, w, h int) {
	s := unsafe.Slice((*byte)(src), srcStride*(h-1)+w)
	for r := 0; r < h; r++ {
		copy(dst[r*dstStride:r*dstStride+w], s[r*srcStride:r*srcStride+w])
	}
}

// Close frees the decoder; it is idempotent.
func (d *vp8Decoder) Close() {
	if d.ctx != nil {
		C.ttc_vp8_free(d.ctx)
		d.ctx = nil
	}
}

// maxVP8Pixels bounds the picture size a remote key frame may claim: 4K UHD.
const maxVP8Pixels = 3840 * 2160

// vp8KeyFrameSize returns the picture size a key frame's header declares.
func vp8KeyFrameSize(frame []byte) (w, h int, ok bool) {
	if !isVP8KeyFrame(frame) {
		return 0, 0, false
	}
	w = int(frame[6]) | int(frame[7]&0x3f)<<8
	h = int(frame[8]) | int(frame[9]&0x3f)<<8
	return w, h, true
}

// isVP8KeyFrame reports whether a complete VP8 frame is a key frame (RFC 6386 9.1: bit 0
// of the first byte is 0 for key frames, which also carry a start code).
func isVP8KeyFrame(frame []byte) bool {
	return len(frame) >= 10 && frame[0]&1 == 0 && frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a
}
