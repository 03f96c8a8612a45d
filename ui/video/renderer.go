package video

import (
	"image"
	"strings"
)

// Options configure a Renderer.
type Options struct {
	// Mode is the drawing mode; ModeAuto draws half blocks in 24-bit colour.
	Mode Mode
	// Mirror flips the picture left to right (the local preview).
	Mirror bool
	// Tolerance lets a cell stay on screen while no channel of its pixels differs by
	// more than this from what is shown (24-bit and kitty modes): it stops codec noise
	// from rewriting still backgrounds. 0 rewrites every change.
	Tolerance uint8
	// KittyID is the kitty image ID of this tile (default 1); each tile needs its own.
	KittyID int
	// KittyScale is the kitty image's pixels per cell column (rows get twice as many);
	// default 2. More detail costs bytes on every frame.
	KittyScale int
}

// cell is what one terminal cell shows: the top and bottom pixels (0xRRGGBB or a
// palette index) for half blocks, the ramp level in a for ASCII.
type cell struct{ a, b uint32 }

// Renderer draws one tile: it keeps what the terminal shows in its rectangle and
// emits only the changes. A Renderer is not safe for concurrent use.
type Renderer struct {
	opts  Options
	rect  Rect
	occl  []Rect // cells covered by something drawn above (the picture-in-picture)
	valid bool   // prev is what the terminal shows

	sc       scaler
	pix      []uint32 // the scaled picture, letterboxed, 0xRRGGBB
	pw, ph   int
	cur      []cell
	prev     []cell
	em       emitter
	kitty    kittyState
	lastSeen bool // a frame has been drawn since the last Invalidate (kitty)
}

// New returns a Renderer with an empty rectangle; call SetRect before Render.
func New(opts Options) *Renderer {
	if opts.Mode == ModeAuto {
		opts.Mode = ModeHalfBlock
	}
	if opts.KittyID <= 0 {
		opts.KittyID = 1
	}
	if opts.KittyScale <= 0 {
		opts.KittyScale = 2
	}
	return &Renderer{opts: opts}
}

// Mode returns the drawing mode.
func (r *Renderer) Mode() Mode { return r.opts.Mode }

// Rect returns the rectangle the tile is drawn in.
func (r *Renderer) Rect() Rect { return r.rect }

// SetRect moves or resizes the tile. Any change means a full repaint: after a resize
// the terminal's content of the old rectangle is unknown.
func (r *Renderer) SetRect(rc Rect) {
	rc.W, rc.H = max(rc.W, 0), max(rc.H, 0)
	if rc == r.rect {
		return
	}
	r.rect = rc
	r.Invalidate()
}

// SetMirror turns mirroring on or off (the next frame shows it everywhere).
func (r *Renderer) SetMirror(on bool) { r.opts.Mirror = on }

// SetOcclusion declares rectangles drawn above this tile (in terminal cells); their
// cells are never written. A change repaints the tile fully, so cells uncovered by a
// change come back.
func (r *Renderer) SetOcclusion(rs ...Rect) {
	if equalRects(r.occl, rs) {
		return
	}
	r.occl = append(r.occl[:0], rs...)
	r.Invalidate()
}

func equalRects(a, b []Rect) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Invalidate makes the next Render repaint every cell: call it when something else
// may have drawn over the tile (a terminal resize, a cleared screen).
func (r *Renderer) Invalidate() {
	r.valid = false
	r.lastSeen = false
}

// Render appends to dst the escape sequences that bring the tile on the terminal from
// what it showed after the previous Render to img, and returns the extended slice. A
// nil img draws black. The output positions the cursor absolutely, changes the pen
// and ends with SGR 0; it does not save the cursor or use mode 2026 (Screen does).
func (r *Renderer) Render(dst []byte, img *image.YCbCr) []byte {
	if r.rect.Empty() {
		return dst
	}
	if r.opts.Mode == ModeKitty {
		return r.renderKitty(dst, img)
	}
	r.picture(img, r.rect.W, r.rect.H*2)
	r.cells()
	r.em.begin(dst, r.opts.Mode == ModeHalfBlock)
	if !r.valid {
		if len(r.prev) != len(r.cur) {
			r.prev = make([]cell, len(r.cur))
		}
	}
	r.diff()
	if len(r.em.buf) > len(dst) {
		r.em.reset()
	}
	r.valid = true
	out := r.em.buf
	r.em.buf = nil
	return out
}

// picture scales img into the letterboxed pixel grid pw x ph.
func (r *Renderer) picture(img *image.YCbCr, pw, ph int) {
	if r.pw != pw || r.ph != ph || len(r.pix) != pw*ph {
		r.pw, r.ph = pw, ph
		r.pix = make([]uint32, pw*ph)
	}
	clear(r.pix)
	if img == nil || img.Rect.Empty() {
		return
	}
	ox, oy, bw, bh := fitBox(img.Rect.Dx(), img.Rect.Dy(), pw, ph)
	r.sc.scale(r.pix, pw, img, ox, oy, bw, bh, r.opts.Mirror)
}

// cells turns the pixel grid into cells for the mode.
func (r *Renderer) cells() {
	w, h := r.rect.W, r.rect.H
	if len(r.cur) != w*h {
		r.cur = make([]cell, w*h)
	}
	for y := range h {
		top := r.pix[2*y*w : 2*y*w+w]
		bot := r.pix[(2*y+1)*w : (2*y+1)*w+w]
		row := r.cur[y*w : y*w+w]
		switch r.opts.Mode {
		case ModeHalfBlock256:
			for x := range row {
				row[x] = cell{quantize256(top[x]), quantize256(bot[x])}
			}
		case ModeASCII:
			for x := range row {
				row[x] = cell{asciiLevel(top[x], bot[x]), 0}
			}
		default:
			for x := range row {
				row[x] = cell{top[x], bot[x]}
			}
		}
	}
}

func near(a, b uint32, tol int) bool {
	d := int(a>>16&0xff) - int(b>>16&0xff)
	if d > tol || -d > tol {
		return false
	}
	d = int(a>>8&0xff) - int(b>>8&0xff)
	if d > tol || -d > tol {
		return false
	}
	d = int(a&0xff) - int(b&0xff)
	return d <= tol && -d <= tol
}

// same reports whether the terminal may keep showing p where c is due.
func (r *Renderer) same(c, p cell) bool {
	if c == p {
		return true
	}
	if r.opts.Tolerance == 0 || r.opts.Mode != ModeHalfBlock {
		return false
	}
	t := int(r.opts.Tolerance)
	return near(c.a, p.a, t) && near(c.b, p.b, t)
}

// covered reports whether tile cell (x, y) lies under an occluding rectangle.
func (r *Renderer) covered(x, y int) bool {
	return inAny(r.rect.X+x, r.rect.Y+y, r.occl)
}

// diff emits the changed cells (all cells when the tile is not valid).
func (r *Renderer) diff() {
	w, h := r.rect.W, r.rect.H
	e := &r.em
	ascii := r.opts.Mode == ModeASCII
	occluded := len(r.occl) > 0
	for y := range h {
		cur := r.cur[y*w : y*w+w]
		prev := r.prev[y*w : y*w+w]
		ty := r.rect.Y + y
		for x := 0; x < w; x++ {
			c := cur[x]
			if r.valid && r.same(c, prev[x]) {
				continue
			}
			if occluded && r.covered(x, y) {
				continue
			}
			tx := r.rect.X + x
			if e.cy == ty && e.cx >= 0 && tx > e.cx {
				r.bridge(prev, tx-r.rect.X, ascii)
			}
			e.moveTo(tx, ty)
			if ascii {
				e.glyph(c.a)
			} else {
				e.block(c.a, c.b)
			}
			prev[x] = c
		}
	}
}

// bridge rewrites the unchanged cells between the cursor and column x (tile
// coordinates) when that is shorter than a cursor move: short gaps between changed
// cells are common in moving video.
func (r *Renderer) bridge(prev []cell, x int, ascii bool) {
	e := &r.em
	from := e.cx - r.rect.X
	n := x - from
	if n > 4 {
		return
	}
	cost := 0
	for i := from; i < x; i++ {
		if r.occl != nil && r.covered(i, e.cy-r.rect.Y) {
			return
		}
		if ascii {
			if e.fg != penDefault || e.bg != penDefault {
				return
			}
			cost++
			continue
		}
		k := e.blockFree(prev[i].a, prev[i].b)
		if k < 0 {
			return
		}
		cost += k
	}
	if cost > cufCost(n) {
		return
	}
	for i := from; i < x; i++ {
		if ascii {
			e.glyph(prev[i].a)
		} else {
			e.block(prev[i].a, prev[i].b)
		}
	}
}

// View returns the whole tile as lines of text for a Bubble Tea view (the "through
// the view" way): each line starts from default colours and ends with SGR 0. Kitty
// mode is not expressible as view text and gives blank lines. View does not change
// what Render considers on screen.
func (r *Renderer) View(img *image.YCbCr) string {
	w, h := r.rect.W, r.rect.H
	if w <= 0 || h <= 0 {
		return ""
	}
	if r.opts.Mode == ModeKitty {
		return strings.TrimSuffix(strings.Repeat(strings.Repeat(" ", w)+"\n", h), "\n")
	}
	r.picture(img, w, h*2)
	r.cells()
	var e emitter
	e.begin(make([]byte, 0, w*h*24), r.opts.Mode == ModeHalfBlock)
	for y := range h {
		e.fg, e.bg = penDefault, penDefault
		for _, c := range r.cur[y*w : y*w+w] {
			if r.opts.Mode == ModeASCII {
				e.glyph(c.a)
			} else {
				e.block(c.a, c.b)
			}
		}
		e.reset()
		if y < h-1 {
			e.buf = append(e.buf, '\n')
		}
	}
	return string(e.buf)
}
