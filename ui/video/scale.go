package video

import (
	"image"
	"image/color"
)

// scaler shrinks a YCbCr frame into a pixel grid by area averaging: every output
// pixel is the mean of the source box it covers (boxes snapped to whole source
// pixels). Averaging happens in YCbCr and only the means are converted to RGB,
// which is exact because the conversion is affine, and six times cheaper than
// converting every source pixel. The tables depend only on the sizes, so they are
// rebuilt only when a size changes: the per-frame path does not allocate.
type scaler struct {
	// key of the tables below
	srcW, srcH, minX, minY int
	ratio                  image.YCbCrSubsampleRatio
	boxW, boxH             int

	xs, xe   []int // luma box start/end per output column, relative to the frame's Min
	ys, ye   []int // luma box start/end per output row
	cxs, cxe []int // chroma box start/end per output column
	cys, cye []int // chroma box start/end per output row
	accY     []uint32
	accCb    []uint32
	accCr    []uint32
}

// chromaShift returns the horizontal and vertical chroma subsampling factors.
func chromaShift(r image.YCbCrSubsampleRatio) (hs, vs int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	default:
		return 1, 1
	}
}

// edges splits src pixels into n boxes [start[i], end[i]); every box holds at least
// one pixel, so upscaling repeats pixels (nearest neighbour).
func edges(start, end []int, src, n int) {
	for i := range n {
		a := int(int64(i) * int64(src) / int64(n))
		b := int(int64(i+1) * int64(src) / int64(n))
		start[i], end[i] = a, max(b, a+1)
	}
}

// chromaEdges maps luma boxes to the chroma samples they touch.
func chromaEdges(cs, ce, ls, le []int, min, shift int) {
	base := floorDiv(min, shift)
	for i := range cs {
		cs[i] = floorDiv(min+ls[i], shift) - base
		ce[i] = floorDiv(min+le[i]-1, shift) - base + 1
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func grow(s []int, n int) []int {
	if cap(s) < n {
		return make([]int, n)
	}
	return s[:n]
}

func grow32(s []uint32, n int) []uint32 {
	if cap(s) < n {
		return make([]uint32, n)
	}
	return s[:n]
}

func (s *scaler) prepare(img *image.YCbCr, boxW, boxH int) {
	b := img.Rect
	if s.srcW == b.Dx() && s.srcH == b.Dy() && s.minX == b.Min.X && s.minY == b.Min.Y &&
		s.ratio == img.SubsampleRatio && s.boxW == boxW && s.boxH == boxH {
		return
	}
	s.srcW, s.srcH, s.minX, s.minY = b.Dx(), b.Dy(), b.Min.X, b.Min.Y
	s.ratio, s.boxW, s.boxH = img.SubsampleRatio, boxW, boxH
	hs, vs := chromaShift(img.SubsampleRatio)
	s.xs, s.xe = grow(s.xs, boxW), grow(s.xe, boxW)
	s.ys, s.ye = grow(s.ys, boxH), grow(s.ye, boxH)
	edges(s.xs, s.xe, s.srcW, boxW)
	edges(s.ys, s.ye, s.srcH, boxH)
	s.cxs, s.cxe = grow(s.cxs, boxW), grow(s.cxe, boxW)
	s.cys, s.cye = grow(s.cys, boxH), grow(s.cye, boxH)
	chromaEdges(s.cxs, s.cxe, s.xs, s.xe, s.minX, hs)
	chromaEdges(s.cys, s.cye, s.ys, s.ye, s.minY, vs)
	s.accY = grow32(s.accY, boxW)
	s.accCb = grow32(s.accCb, boxW)
	s.accCr = grow32(s.accCr, boxW)
}

// scale writes img, area-averaged into a boxW x boxH box at (ox, oy), into dst
// (stride pw, pixels 0xRRGGBB). mirror flips the picture left to right.
func (s *scaler) scale(dst []uint32, pw int, img *image.YCbCr, ox, oy, boxW, boxH int, mirror bool) {
	if boxW <= 0 || boxH <= 0 || img.Rect.Empty() {
		return
	}
	s.prepare(img, boxW, boxH)
	for j := 0; j < boxH; j++ {
		clear(s.accY)
		clear(s.accCb)
		clear(s.accCr)
		y0, y1 := s.ys[j], s.ye[j]
		for sy := y0; sy < y1; sy++ {
			row := img.Y[sy*img.YStride:]
			for i, acc := range s.accY {
				var sum uint32
				for _, v := range row[s.xs[i]:s.xe[i]] {
					sum += uint32(v)
				}
				s.accY[i] = acc + sum
			}
		}
		cy0, cy1 := s.cys[j], s.cye[j]
		for sy := cy0; sy < cy1; sy++ {
			rowB := img.Cb[sy*img.CStride:]
			rowR := img.Cr[sy*img.CStride:]
			for i := range s.accCb {
				var sb, sr uint32
				x0, x1 := s.cxs[i], s.cxe[i]
				for _, v := range rowB[x0:x1] {
					sb += uint32(v)
				}
				for _, v := range rowR[x0:x1] {
					sr += uint32(v)
				}
				s.accCb[i] += sb
				s.accCr[i] += sr
			}
		}
		out := dst[(oy+j)*pw+ox : (oy+j)*pw+ox+boxW]
		ny := uint32(y1 - y0)
		nc := uint32(cy1 - cy0)
		for i := range out {
			n := ny * uint32(s.xe[i]-s.xs[i])
			m := nc * uint32(s.cxe[i]-s.cxs[i])
			yy := uint8((s.accY[i] + n/2) / n)
			cb := uint8((s.accCb[i] + m/2) / m)
			cr := uint8((s.accCr[i] + m/2) / m)
			r, g, b := color.YCbCrToRGB(yy, cb, cr)
			k := i
			if mirror {
				k = boxW - 1 - i
			}
			out[k] = uint32(r)<<16 | uint32(g)<<8 | uint32(b)
		}
	}
}
