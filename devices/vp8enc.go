package devices

/*
#cgo pkg-config: vpx
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vp8cx.h>

static vpx_codec_ctx_t *vp8e_new(void) { return calloc(1, sizeof(vpx_codec_ctx_t)); }
static vpx_codec_enc_cfg_t *vp8e_cfg_new(void) { return calloc(1, sizeof(vpx_codec_enc_cfg_t)); }
static vpx_image_t *vp8e_img_new(void) { return calloc(1, sizeof(vpx_image_t)); }

static int vp8e_default(vpx_codec_enc_cfg_t *cfg) {
	return vpx_codec_enc_config_default(vpx_codec_vp8_cx(), cfg, 0);
}

static int vp8e_init(vpx_codec_ctx_t *ctx, vpx_codec_enc_cfg_t *cfg, int cpu, int partitions) {
	int rc = vpx_codec_enc_init(ctx, vpx_codec_vp8_cx(), cfg, 0);
	if (rc != VPX_CODEC_OK) return rc;
	// As Chromium's LibvpxVp8Encoder sets them for real-time calls.
	if ((rc = vpx_codec_control(ctx, VP8E_SET_CPUUSED, cpu)) != VPX_CODEC_OK) return rc;
	if ((rc = vpx_codec_control(ctx, VP8E_SET_STATIC_THRESHOLD, 1)) != VPX_CODEC_OK) return rc;
	if ((rc = vpx_codec_control(ctx, VP8E_SET_NOISE_SENSITIVITY, 0)) != VPX_CODEC_OK) return rc;
	if ((rc = vpx_codec_control(ctx, VP8E_SET_TOKEN_PARTITIONS, partitions)) != VPX_CODEC_OK) return rc;
	if ((rc = vpx_codec_control(ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, 900)) != VPX_CODEC_OK) return rc;
	return VPX_CODEC_OK;
}

// vp8e_encode wraps the caller's planes for the duration of one encode only.
static int vp8e_encode(vpx_codec_ctx_t *ctx, vpx_image_t *img, int w, int h,
		unsigned char *y, int ys, unsigned char *u, unsigned char *v, int cs,
		long pts, unsigned long dur, long flags) {
	vpx_img_wrap(img, VPX_IMG_FMT_I420, w, h, 1, y);
	img->planes[VPX_PLANE_Y] = y;
	img->planes[VPX_PLANE_U] = u;
	img->planes[VPX_PLANE_V] = v;
	img->stride[VPX_PLANE_Y] = ys;
	img->stride[VPX_PLANE_U] = cs;
	img->stride[VPX_PLANE_V] = cs;
	int rc = vpx_codec_encode(ctx, img, pts, dur, flags, VPX_DL_REALTIME);
	memset(img, 0, sizeof(*img));
	return rc;
}

// vp8e_pkt returns the next compressed frame packet, NULL at the end.
static const vpx_codec_cx_pkt_t *vp8e_pkt(vpx_codec_ctx_t *ctx, vpx_codec_iter_t *it) {
	const vpx_codec_cx_pkt_t *p;
	while ((p = vpx_codec_get_cx_data(ctx, it)) != NULL) {
		if (p->kind == VPX_CODEC_CX_FRAME_PKT) return p;
	}
	return NULL;
}
static size_t vp8e_pkt_size(const vpx_codec_cx_pkt_t *p) { return p->data.frame.sz; }
static const void *vp8e_pkt_buf(const vpx_codec_cx_pkt_t *p) { return p->data.frame.buf; }
*/
import "C"

import (
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/io/video"
)

// keyFrameDist is the most frames between two key frames: libwebrtc's keyFrameInterval
// (a variable so that tests can ask for periodic key frames).
var keyFrameDist = 3000

// vp8Encoder is libvpx's VP8 encoder, set up the way Chromium sets it up for real-time
// calls, with what mediadevices' wrapper does not expose: the real-time speed
// (cpu-used), threads and token partitions chosen from the machine and the frame size
// (vp8Speed), a reinit on a size change that frees the old context, and its config
// written only when the bitrate changes (mediadevices rewrites it on every frame).
type vp8Encoder struct {
	src   video.Reader
	fps   int
	mu    sync.Mutex
	ctx   *C.vpx_codec_ctx_t
	cfg   *C.vpx_codec_enc_cfg_t
	img   *C.vpx_image_t
	open  bool
	w, h  int
	t0    time.Time
	last  time.Time
	rate  atomic.Int64 // pending target (bit/s); 0: none
	kf    atomic.Bool
	kbps  int
	out   []byte
	speed int // cpu-used in use, for tests and logs
}

// vp8Speed is Chromium's choice of libvpx real-time speed and threads for a frame size
// and core count: faster settings (-6, -8: fewer search modes) where the machine is
// small or the picture large, slower (-4: better pictures) for small pictures on
// machines with cores to spare; a thread per ~300k pixels when cores allow.
func vp8Speed(w, h, cores int) (cpuUsed, threads int) {
	px := w * h
	switch {
	case px < 352*288 && cores > 2:
		cpuUsed = -4
	case px < 352*288:
		cpuUsed = -6
	case cores <= 2 && px >= 640*480:
		cpuUsed = -8
	default:
		cpuUsed = -6
	}
	switch {
	case px >= 1920*1080 && cores > 8:
		threads = 8
	case px >= 1280*720 && cores > 4:
		threads = 3
	case px >= 640*480 && cores > 2:
		threads = 2
	default:
		threads = 1
	}
	return cpuUsed, threads
}

func newVP8Encoder(src video.Reader, w, h, fps, bitrate int) (*vp8Encoder, error) {
	e := &vp8Encoder{
		src: src, fps: max(fps, 1),
		ctx: C.vp8e_new(), cfg: C.vp8e_cfg_new(), img: C.vp8e_img_new(),
		kbps: max(bitrate/1000, 1), out: make([]byte, 0, 64<<10),
	}
	if e.ctx == nil || e.cfg == nil || e.img == nil {
		e.free()
		return nil, fmt.Errorf("vp8 encoder: out of memory")
	}
	if err := e.init(w, h); err != nil {
		e.free()
		return nil, err
	}
	e.t0 = time.Now()
	return e, nil
}

// init (re)creates the libvpx context for w x h. Caller holds mu (or owns e).
func (e *vp8Encoder) init(w, h int) error {
	if e.open {
		C.vpx_codec_destroy(e.ctx)
		e.open = false
	}
	if rc := C.vp8e_default(e.cfg); rc != 0 {
		return fmt.Errorf("vp8 encoder: default config: libvpx error %d", int(rc))
	}
	cpu, threads := vp8Speed(w, h, runtime.NumCPU())
	c := e.cfg
	c.g_w, c.g_h = C.uint(w), C.uint(h)
	c.g_timebase.num, c.g_timebase.den = 1, 1000
	c.g_threads = C.uint(threads)
	c.g_lag_in_frames = 0
	c.g_error_resilient = 1
	c.g_pass = C.VPX_RC_ONE_PASS
	c.rc_end_usage = C.VPX_CBR
	c.rc_target_bitrate = C.uint(e.kbps)
	c.rc_min_quantizer, c.rc_max_quantizer = 2, 56
	c.rc_undershoot_pct, c.rc_overshoot_pct = 100, 15
	c.rc_buf_initial_sz, c.rc_buf_optimal_sz, c.rc_buf_sz = 500, 600, 1000
	// No frame dropping inside libvpx: the RTP timestamps come from the sample
	// durations, which a silent drop would shift; the ladder lowers the frame rate.
	c.rc_dropframe_thresh = 0
	c.rc_resize_allowed = 0
	// Key frames on request (PLI/FIR, a new receiver, a size change), as libwebrtc
	// does (keyFrameInterval 3000): a periodic key frame every 2 s was 5-10 times a
	// frame's size for nothing, a burst that queued and lost on bad links and froze
	// Chromium receivers (14 key frames in 30 s, BenchmarkImpairedWeb profile b).
	c.kf_mode = C.VPX_KF_AUTO
	c.kf_max_dist = C.uint(keyFrameDist)
	partitions := 0 // log2: 1 partition per thread, rounded down
	for t := threads; t > 1; t >>= 1 {
		partitions++
	}
	if rc := C.vp8e_init(e.ctx, e.cfg, C.int(cpu), C.int(partitions)); rc != 0 {
		return fmt.Errorf("vp8 encoder %dx%d: init: libvpx error %d", w, h, int(rc))
	}
	e.open, e.w, e.h, e.speed = true, w, h, cpu
	return nil
}

// SetBitRate is mediadevices' codec.BitRateController.
func (e *vp8Encoder) SetBitRate(bps int) error {
	e.rate.Store(int64(bps))
	return nil
}

// ForceKeyFrame is mediadevices' codec.KeyFrameController.
func (e *vp8Encoder) ForceKeyFrame() error {
	e.kf.Store(true)
	return nil
}

func (e *vp8Encoder) Controller() codec.EncoderController { return e }

// Read encodes the next frame of the source; a frame libvpx drops to hold the rate
// returns no data.
func (e *vp8Encoder) Read() ([]byte, func(), error) {
	img, release, err := e.src.Read()
	if err != nil {
		return nil, func() {}, err
	}
	defer release()
	yuv, ok := img.(*image.YCbCr)
	if !ok || yuv.SubsampleRatio != image.YCbCrSubsampleRatio420 {
		return nil, func() {}, fmt.Errorf("vp8 encoder: %T frames: want 4:2:0 YCbCr", img)
	}
	w, h := yuv.Rect.Dx(), yuv.Rect.Dy()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil {
		return nil, func() {}, ErrClosed
	}
	if w != e.w || h != e.h {
		if err := e.init(w, h); err != nil {
			return nil, func() {}, err
		}
	}
	if r := e.rate.Swap(0); r > 0 && int(r/1000) != e.kbps {
		e.kbps = max(int(r/1000), 1)
		e.cfg.rc_target_bitrate = C.uint(e.kbps)
		if rc := C.vpx_codec_enc_config_set(e.ctx, e.cfg); rc != 0 {
			return nil, func() {}, fmt.Errorf("vp8 encoder: set bitrate: libvpx error %d", int(rc))
		}
	}
	now := time.Now()
	dur := now.Sub(e.last).Milliseconds()
	if e.last.IsZero() || dur <= 0 {
		dur = int64(1000 / e.fps)
	}
	e.last = now
	var flags C.long
	if e.kf.Swap(false) {
		flags |= C.VPX_EFLAG_FORCE_KF
	}
	off := func(plane []byte, x, y, stride int) *C.uchar {
		return (*C.uchar)(unsafe.Pointer(&plane[y*stride+x]))
	}
	r := yuv.Rect
	rc := C.vp8e_encode(e.ctx, e.img, C.int(w), C.int(h),
		off(yuv.Y, r.Min.X, r.Min.Y, yuv.YStride), C.int(yuv.YStride),
		off(yuv.Cb, r.Min.X/2, r.Min.Y/2, yuv.CStride), off(yuv.Cr, r.Min.X/2, r.Min.Y/2, yuv.CStride), C.int(yuv.CStride),
		C.long(now.Sub(e.t0).Milliseconds()), C.ulong(dur), flags)
	if rc != 0 {
		return nil, func() {}, fmt.Errorf("vp8 encode: libvpx error %d", int(rc))
	}
	e.out = e.out[:0]
	var it C.vpx_codec_iter_t
	for {
		p := C.vp8e_pkt(e.ctx, &it)
		if p == nil {
			break
		}
		e.out = append(e.out, unsafe.Slice((*byte)(C.vp8e_pkt_buf(p)), int(C.vp8e_pkt_size(p)))...)
	}
	if len(e.out) == 0 {
		return nil, func() {}, nil
	}
	return append([]byte(nil), e.out...), func() {}, nil
}

// Close frees the encoder; idempotent.
func (e *vp8Encoder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.free()
	return nil
}

func (e *vp8Encoder) free() {
	if e.open {
		C.vpx_codec_destroy(e.ctx)
		e.open = false
	}
	for _, p := range []unsafe.Pointer{unsafe.Pointer(e.ctx), unsafe.Pointer(e.cfg), unsafe.Pointer(e.img)} {
		if p != nil {
			C.free(p)
		}
	}
	e.ctx, e.cfg, e.img = nil, nil, nil // closed: Read fails
}
