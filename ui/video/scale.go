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

	xs, xe   []int    // luma box start/end per output column, relative to the frame's Min
	ys, ye   []int    // luma box start/end per output row
	cxs, cxe []int    // chroma box start/end per output column
	cys, cye []int    // chroma box start/end per output row
	colY     []uint32 // column sums of the rows of one output row
	colCb    []uint32
	colCr    []uint32
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
	s.colY = grow32(s.colY, s.srcW)
	cw := s.cxe[boxW-1]
	s.colCb = grow32(s.colCb, cw)
	s.colCr = grow32(s.colCr, cw)
}

// scale writes img, area-averaged into a boxW x boxH box at (ox, oy), into dst
// (stride pw, pixels 0xRRGGBB). mirror flips the picture left to right.
//
// Each output row first sums its source rows column by column into a line (a tight
// sequential loop), then sums the line's boxes: far fewer short loops than summing
// box by box.
func (s *scaler) scale(dst []uint32, pw int, img *image.YCbCr, ox, oy, boxW, boxH int, mirror bool) {
	if boxW <= 0 || boxH <= 0 || img.Rect.Empty() {
		return
	}
	s.prepare(img, boxW, boxH)
	cw := s.cxe[boxW-1]
	for j := 0; j < boxH; j++ {
		y0, y1 := s.ys[j], s.ye[j]
		colY := s.colY[:s.srcW]
		copyRow(colY, img.Y[y0*img.YStride:y0*img.YStride+s.srcW])
		for sy := y0 + 1; sy < y1; sy++ {
			addRow(colY, img.Y[sy*img.YStride:sy*img.YStride+s.srcW])
		}
		cy0, cy1 := s.cys[j], s.cye[j]
		colB, colR := s.colCb[:cw], s.colCr[:cw]
		copyRow(colB, img.Cb[cy0*img.CStride:cy0*img.CStride+cw])
		copyRow(colR, img.Cr[cy0*img.CStride:cy0*img.CStride+cw])
		for sy := cy0 + 1; sy < cy1; sy++ {
			addRow(colB, img.Cb[sy*img.CStride:sy*img.CStride+cw])
			addRow(colR, img.Cr[sy*img.CStride:sy*img.CStride+cw])
		}
		out := dst[(oy+j)*pw+ox : (oy+j)*pw+ox+boxW]
		ny := uint32(y1 - y0)
		nc := uint32(cy1 - cy0)
		for i := range out {
			var sy, sb, sr uint32
			for _, v := range colY[s.xs[i]:s.xe[i]] {
				sy += v
			}
			x0, x1 := s.cxs[i], s.cxe[i]
			for _, v := range colB[x0:x1] {
				sb += v
			}
			for _, v := range colR[x0:x1] {
				sr += v
			}
			n := ny * uint32(s.xe[i]-s.xs[i])
			m := nc * uint32(x1-x0)
			yy := uint8((sy + n/2) / n)
			cb := uint8((sb + m/2) / m)
			cr := uint8((sr + m/2) / m)
			r, g, b := color.YCbCrToRGB(yy, cb, cr)
			k := i
			if mirror {
				k = boxW - 1 - i
			}
			out[k] = uint32(r)<<16 | uint32(g)<<8 | uint32(b)
		}
	}
}

func copyRow(dst []uint32, src []uint8) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = uint32(v)
	}
}

func addRow(dst []uint32, src []uint8) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += uint32(v)
	}
}
