package devices

import (
	"image"
	"sync"
	"time"
)

// Quality is how a local video track currently adapts to the network: what the encoder
// is fed and aims for, and why it is below what was asked (getStats'
// qualityLimitationReason: "none" or "bandwidth").
type Quality struct {
	Width, Height int
	FPS           int
	BitrateBps    int
	Limitation    string
}

// The ladder a video track walks down when the estimate falls, in the order the issue
// (and Chromium's "balanced" degradation preference) asks for: first the bitrate alone,
// then half the frame rate, then half the width and height, then both. Each rung needs
// minBitsPerPixel bits per pixel per frame to look like a picture rather than blocks;
// 0.03 is about where libvpx's VP8 at 640x480@30 (280 kbit/s) starts to smear motion.
var ladder = []struct {
	scale  int // divides width and height
	fpsDiv int // divides the frame rate
}{
	{1, 1}, {1, 2}, {2, 1}, {2, 2}, {4, 2},
}

const (
	minBitsPerPixel = 0.03
	// upHeadroom: a rung up needs 30% more than that rung's minimum, so that the
	// estimate's own wobble does not flip the picture size back and forth.
	upHeadroom = 1.3
	// Changes of rung are spaced: a step down after the estimate stayed below for
	// stepDownAfter, a step up after it stayed above for stepUpAfter (every resolution
	// change costs a key frame).
	stepDownAfter = time.Second
	stepUpAfter   = 4 * time.Second
)

// adapter holds a video track's rung and turns bitrate targets into rungs. Set from
// SetBitrate (any goroutine), read by the encode goroutine.
type adapter struct {
	mu       sync.Mutex
	w, h     int // what was asked
	fps      int
	rung     int
	target   int
	below    time.Time // since when the target is below the current rung's minimum
	above    time.Time // since when the target allows the rung above
	frameNum uint64    // encode goroutine: frames read, for frame-rate division
}

// need is the bit rate rung r needs.
func (a *adapter) need(r int) int {
	l := ladder[r]
	px := float64(a.w/l.scale) * float64(a.h/l.scale)
	return int(px * float64(a.fps/l.fpsDiv) * minBitsPerPixel)
}

// setTarget records a new bitrate target and moves at most one rung.
func (a *adapter) setTarget(bps int, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.target = bps
	if a.w == 0 || a.fps == 0 {
		return
	}
	if a.rung < len(ladder)-1 && bps < a.need(a.rung) {
		if a.below.IsZero() {
			a.below = now
		}
		if now.Sub(a.below) >= stepDownAfter {
			a.rung++
			a.below = time.Time{}
		}
	} else {
		a.below = time.Time{}
	}
	if a.rung > 0 && float64(bps) >= upHeadroom*float64(a.need(a.rung-1)) {
		if a.above.IsZero() {
			a.above = now
		}
		if now.Sub(a.above) >= stepUpAfter {
			a.rung--
			a.above = time.Time{}
		}
	} else {
		a.above = time.Time{}
	}
}

func (a *adapter) quality() Quality {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := ladder[a.rung]
	q := Quality{Width: a.w / l.scale, Height: a.h / l.scale, FPS: a.fps / l.fpsDiv, BitrateBps: a.target, Limitation: "none"}
	if a.rung > 0 {
		q.Limitation = "bandwidth"
	}
	return q
}

// rungNow is the current rung's scale and frame-rate divisor.
func (a *adapter) rungNow() (scale, fpsDiv int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := ladder[a.rung]
	return l.scale, l.fpsDiv
}

// downscale returns src shrunk by scale in each dimension (a box filter: each output
// pixel is the mean of scale x scale input pixels), in dst when it has the right size.
// 4:2:0 only; scale 1 returns src.
func downscale(src *image.YCbCr, scale int, dst *image.YCbCr) *image.YCbCr {
	if scale <= 1 {
		return src
	}
	w, h := src.Rect.Dx()/scale, src.Rect.Dy()/scale
	w, h = w&^1, h&^1 // even sizes keep 4:2:0 exact
	if w < 2 || h < 2 {
		return src
	}
	if dst == nil || dst.Rect.Dx() != w || dst.Rect.Dy() != h {
		dst = image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	}
	box := func(plane []byte, stride, x0, y0 int, out []byte, outStride, ow, oh int) {
		n := scale * scale
		for y := 0; y < oh; y++ {
			for x := 0; x < ow; x++ {
				sum := 0
				for dy := 0; dy < scale; dy++ {
					row := plane[(y0+y*scale+dy)*stride+x0+x*scale:]
					for dx := 0; dx < scale; dx++ {
						sum += int(row[dx])
					}
				}
				out[y*outStride+x] = byte(sum / n)
			}
		}
	}
	box(src.Y, src.YStride, src.Rect.Min.X, src.Rect.Min.Y, dst.Y, dst.YStride, w, h)
	cx0, cy0 := src.Rect.Min.X/2, src.Rect.Min.Y/2
	box(src.Cb, src.CStride, cx0, cy0, dst.Cb, dst.CStride, w/2, h/2)
	box(src.Cr, src.CStride, cx0, cy0, dst.Cr, dst.CStride, w/2, h/2)
	return dst
}
