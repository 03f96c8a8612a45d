package video

// Rect is a rectangle of terminal cells; X and Y are 0-based column and row.
type Rect struct {
	X, Y, W, H int
}

// Empty reports whether r covers no cell.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Intersect returns the overlap of r and o (empty when they do not overlap).
func (r Rect) Intersect(o Rect) Rect {
	x0, y0 := max(r.X, o.X), max(r.Y, o.Y)
	x1, y1 := min(r.X+r.W, o.X+o.W), min(r.Y+r.H, o.Y+o.H)
	if x1 <= x0 || y1 <= y0 {
		return Rect{}
	}
	return Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}

// fitBox returns the largest box with the aspect srcW:srcH that fits in dstW x dstH
// (both in square pixels), centred: the letterbox. Sizes are at least 1 when the
// destination is not empty, so a 1x1000 frame still shows something.
func fitBox(srcW, srcH, dstW, dstH int) (x, y, w, h int) {
	if srcW <= 0 || srcH <= 0 || dstW <= 0 || dstH <= 0 {
		return 0, 0, 0, 0
	}
	// Compare srcW/srcH with dstW/dstH without floating point.
	if int64(srcW)*int64(dstH) >= int64(srcH)*int64(dstW) {
		w = dstW
		h = int((int64(dstW)*int64(srcH) + int64(srcW)/2) / int64(srcW))
	} else {
		h = dstH
		w = int((int64(dstH)*int64(srcW) + int64(srcH)/2) / int64(srcH))
	}
	w = min(max(w, 1), dstW)
	h = min(max(h, 1), dstH)
	return (dstW - w) / 2, (dstH - h) / 2, w, h
}
