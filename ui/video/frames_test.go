package video

import (
	"image"
	"image/color"
	"math/rand/v2"
)

// Synthetic frames for tests and benchmarks, 4:2:0 like the VP8 decoder's.

func newFrame(w, h int) *image.YCbCr {
	return image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
}

// fill paints img from an RGB function, chroma taken at the even pixel of each 2x2.
func fill(img *image.YCbCr, f func(x, y int) (r, g, b uint8)) *image.YCbCr {
	b := img.Rect
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl := f(x, y)
			yy, cb, cr := color.RGBToYCbCr(r, g, bl)
			img.Y[img.YOffset(x, y)] = yy
			if (x%2 == 0 || x == b.Min.X) && (y%2 == 0 || y == b.Min.Y) {
				o := img.COffset(x, y)
				img.Cb[o], img.Cr[o] = cb, cr
			}
		}
	}
	return img
}

var bars = [8][3]uint8{{235, 235, 235}, {235, 235, 16}, {16, 235, 235}, {16, 235, 16},
	{235, 16, 235}, {235, 16, 16}, {16, 16, 235}, {16, 16, 16}}

// moving is the moving scene: colour bars behind a textured box that travels across
// the frame and a band of stripes scrolling sideways, about a quarter of the picture
// changing per frame, like a person moving in front of a still room.
func moving(w, h, t int) *image.YCbCr {
	bw, bh := w/4, h/3
	bx := (t * 7) % max(w-bw, 1)
	by := h/3 + int(float64(h/4)*sinTable[(t*5)%len(sinTable)])
	return fill(newFrame(w, h), func(x, y int) (uint8, uint8, uint8) {
		switch {
		case x >= bx && x < bx+bw && y >= by && y < by+bh:
			return uint8(4 * (x - bx)), uint8(4 * (y - by)), uint8(128 + t*3)
		case y >= h*5/6:
			v := uint8(((x + t*9) / 12 % 2) * 200)
			return v, v, 40
		default:
			c := bars[x*8/w]
			return c[0], c[1], c[2]
		}
	})
}

var sinTable = func() (t [64]float64) {
	for i := range t {
		// a triangle wave is enough for motion and avoids math in the generator
		p := float64(i) / 64
		if p < 0.5 {
			t[i] = 4*p - 1
		} else {
			t[i] = 3 - 4*p
		}
	}
	return t
}()

// static is the still scene: the first moving frame every time.
func static(w, h, _ int) *image.YCbCr { return moving(w, h, 0) }

// noise is full noise: every pixel random on every frame.
func noise(w, h, t int) *image.YCbCr {
	rng := rand.New(rand.NewPCG(uint64(t), 7))
	img := newFrame(w, h)
	for i := range img.Y {
		img.Y[i] = uint8(rng.Uint32())
	}
	for i := range img.Cb {
		img.Cb[i] = uint8(rng.Uint32())
		img.Cr[i] = uint8(rng.Uint32())
	}
	return img
}

// solid is a frame of one colour.
func solid(w, h int, r, g, b uint8) *image.YCbCr {
	return fill(newFrame(w, h), func(int, int) (uint8, uint8, uint8) { return r, g, b })
}
