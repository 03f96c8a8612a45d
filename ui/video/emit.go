package video

import "strconv"

// Pen values that no colour (0xRRGGBB or a palette index) can take.
const (
	penUnknown = 1 << 31 // the terminal's attributes are not known: reset first
	penDefault = 1 << 30 // after SGR 0: default colours
)

const upperHalf = "\u2580" // ▀: foreground paints the top pixel, background the bottom

// dec holds "0".."255" so colour parameters are appended without strconv work.
var dec = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// emitter appends escape sequences and tracks the pen and cursor they leave behind,
// so colours are not repeated and moves are as short as possible.
type emitter struct {
	buf        []byte
	fg, bg     uint32 // pen colours, or penUnknown / penDefault
	cx, cy     int    // cursor (terminal cells), cx < 0 when unknown
	truecolour bool
}

func (e *emitter) begin(dst []byte, truecolour bool) {
	e.buf = dst
	e.fg, e.bg = penUnknown, penUnknown
	e.cx, e.cy = -1, -1
	e.truecolour = truecolour
}

// reset writes SGR 0 unless the pen is already default.
func (e *emitter) reset() {
	if e.fg == penDefault && e.bg == penDefault {
		return
	}
	e.buf = append(e.buf, "\x1b[m"...)
	e.fg, e.bg = penDefault, penDefault
}

// moveTo puts the cursor at (x, y) with CUF when it stays on the row, else CUP.
func (e *emitter) moveTo(x, y int) {
	switch {
	case e.cy == y && e.cx == x:
	case e.cy == y && e.cx >= 0 && x > e.cx:
		n := x - e.cx
		e.buf = append(e.buf, "\x1b["...)
		if n > 1 {
			e.buf = strconv.AppendInt(e.buf, int64(n), 10)
		}
		e.buf = append(e.buf, 'C')
	default:
		e.buf = append(e.buf, "\x1b["...)
		e.buf = strconv.AppendInt(e.buf, int64(y+1), 10)
		e.buf = append(e.buf, ';')
		e.buf = strconv.AppendInt(e.buf, int64(x+1), 10)
		e.buf = append(e.buf, 'H')
	}
	e.cx, e.cy = x, y
}

// cufCost is the length of the CUF sequence moving n cells right.
func cufCost(n int) int {
	switch {
	case n == 1:
		return 3
	case n < 10:
		return 4
	case n < 100:
		return 5
	default:
		return 6
	}
}

func (e *emitter) colour(base byte, c uint32) {
	e.buf = append(e.buf, base, '8', ';')
	if e.truecolour {
		e.buf = append(e.buf, "2;"...)
		e.buf = append(e.buf, dec[c>>16&0xff]...)
		e.buf = append(e.buf, ';')
		e.buf = append(e.buf, dec[c>>8&0xff]...)
		e.buf = append(e.buf, ';')
		e.buf = append(e.buf, dec[c&0xff]...)
		return
	}
	e.buf = append(e.buf, "5;"...)
	e.buf = append(e.buf, dec[c&0xff]...)
}

// block writes one half-block cell: a space on background top when both halves are
// equal (1 byte instead of 3, and no foreground needed), else ▀ in fg top, bg bottom.
func (e *emitter) block(top, bot uint32) {
	if e.fg == penUnknown {
		e.reset()
	}
	if top == bot {
		if e.bg != top {
			e.buf = append(e.buf, "\x1b["...)
			e.colour('4', top)
			e.buf = append(e.buf, 'm')
			e.bg = top
		}
		e.buf = append(e.buf, ' ')
	} else {
		needFg, needBg := e.fg != top, e.bg != bot
		if needFg || needBg {
			e.buf = append(e.buf, "\x1b["...)
			if needFg {
				e.colour('3', top)
				e.fg = top
			}
			if needBg {
				if needFg {
					e.buf = append(e.buf, ';')
				}
				e.colour('4', bot)
				e.bg = bot
			}
			e.buf = append(e.buf, 'm')
		}
		e.buf = append(e.buf, upperHalf...)
	}
	e.cx++
}

// blockFree returns the bytes rewriting this cell costs with the current pen, or -1
// when the pen would have to change.
func (e *emitter) blockFree(top, bot uint32) int {
	if top == bot {
		if e.bg == top {
			return 1
		}
		return -1
	}
	if e.fg == top && e.bg == bot {
		return len(upperHalf)
	}
	return -1
}

// glyph writes one ASCII cell in the default colours.
func (e *emitter) glyph(level uint32) {
	if e.fg != penDefault || e.bg != penDefault {
		e.reset()
	}
	e.buf = append(e.buf, asciiRamp[level])
	e.cx++
}
