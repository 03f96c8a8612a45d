package devices

import (
	"image"
	"strings"
	"time"
)

// 75% colour bars in BT.601 limited-range YCbCr: white, yellow, cyan, green, magenta,
// red, blue. Saturated, flat areas make codec damage and chroma swaps easy to see.
var barColours = [7][3]uint8{
	{180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
	{84, 184, 198}, {65, 100, 212}, {35, 212, 114},
}

// font5x7 is a tiny built-in font for the frame counter and clock, so the pattern needs
// no font files: each glyph is 7 rows of 5 bits, most significant bit on the left.
var font5x7 = map[rune][7]uint8{
	'A': {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},
	'B': {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e},
	'C': {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e},
	'D': {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c},
	'E': {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f},
	'F': {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10},
	'G': {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f},
	'H': {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11},
	'I': {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e},
	'J': {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c},
	'K': {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},
	'L': {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f},
	'M': {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11},
	'N': {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},
	'O': {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},
	'P': {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10},
	'Q': {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d},
	'R': {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11},
	'S': {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e},
	'T': {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},
	'U': {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e},
	'V': {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04},
	'W': {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a},
	'X': {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11},
	'Y': {0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04},
	'Z': {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f},
	'_': {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f},
	'0': {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e},
	'1': {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},
	'2': {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f},
	'3': {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},
	'4': {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02},
	'5': {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},
	'6': {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e},
	'7': {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},
	'8': {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e},
	'9': {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},
	':': {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00},
	'.': {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c},
	'#': {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a},
	'-': {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00},
	' ': {},
}

// patternRenderer draws the synthetic camera's frames: colour bars, a box that moves
// with the frame number, and the frame counter and wall clock in digits, so that a viewer
// sees at a glance that video is live and how late it is.
type patternRenderer struct {
	w, h       int
	background *image.YCbCr // the static bars, copied into every frame
}

func newPatternRenderer(w, h int) *patternRenderer {
	bg := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	barsH := h * 2 / 3
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c [3]uint8
			if y < barsH {
				c = barColours[x*7/w]
			} else {
				// A grey ramp below the bars: smooth gradients show banding/blocking.
				c = [3]uint8{uint8(16 + x*219/w), 128, 128}
			}
			bg.Y[bg.YOffset(x, y)] = c[0]
			if x%2 == 0 && y%2 == 0 {
				ci := bg.COffset(x, y)
				bg.Cb[ci], bg.Cr[ci] = c[1], c[2]
			}
		}
	}
	return &patternRenderer{w: w, h: h, background: bg}
}

// setName writes name in large letters into the lower part of the pattern (letters,
// digits and -._: for a demo account's, so that tiles can be told apart).
func (p *patternRenderer) setName(name string) {
	name = strings.ToUpper(name)
	name = strings.Map(func(r rune) rune {
		if _, ok := font5x7[r]; ok {
			return r
		}
		return '_'
	}, name)
	if len(name) > 16 {
		name = name[:16]
	}
	w, h := p.background.Rect.Dx(), p.background.Rect.Dy()
	scale := max(1, min(h/40, w/(len(name)*6+4)))
	tw, th := len(name)*6*scale, 9*scale
	x, y := (w-tw)/2, h*2/3+(h/3-th)/2
	fillRect(p.background, x-scale, y-scale, tw+2*scale, th, 16, 128, 128)
	drawText(p.background, name, x, y, scale)
}

// Render returns a fresh frame for frame number n at wall time t.
func (p *patternRenderer) Render(n int, t time.Time) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, p.w, p.h), image.YCbCrSubsampleRatio420)
	copy(img.Y, p.background.Y)
	copy(img.Cb, p.background.Cb)
	copy(img.Cr, p.background.Cr)

	// The box bounces left-right once every 4 s at 30 fps and bobs up and down.
	box := max(8, p.h/8)
	span := max(1, p.w-box)
	pos := (n * 4) % (2 * span)
	if pos >= span {
		pos = 2*span - pos
	}
	bob := (n * 2) % (2 * max(1, p.h/4))
	if bob >= p.h/4 {
		bob = 2*(p.h/4) - bob
	}
	fillRect(img, pos, p.h/3+bob-box/2, box, box, 235, 128, 128)

	scale := max(1, p.h/120)
	text := formatCounter(n) + " " + t.Format("15:04:05.000")
	tw := len(text) * 6 * scale
	fillRect(img, 0, 0, tw+2*scale, 9*scale, 16, 128, 128)
	drawText(img, text, scale, scale, scale)
	return img
}

func formatCounter(n int) string {
	var b [8]byte
	b[0] = '#'
	for i := 7; i >= 1; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

// fillRect fills a rectangle clipped to the image.
func fillRect(img *image.YCbCr, x0, y0, w, h int, y, cb, cr uint8) {
	r := image.Rect(x0, y0, x0+w, y0+h).Intersect(img.Rect)
	for yy := r.Min.Y; yy < r.Max.Y; yy++ {
		row := img.Y[img.YOffset(r.Min.X, yy) : img.YOffset(r.Max.X-1, yy)+1]
		for i := range row {
			row[i] = y
		}
	}
	for yy := r.Min.Y &^ 1; yy < r.Max.Y; yy += 2 {
		for xx := r.Min.X &^ 1; xx < r.Max.X; xx += 2 {
			ci := img.COffset(xx, yy)
			img.Cb[ci], img.Cr[ci] = cb, cr
		}
	}
}

func drawText(img *image.YCbCr, s string, x0, y0, scale int) {
	for i, ch := range s {
		g := font5x7[ch]
		for row := 0; row < 7; row++ {
			for col := 0; col < 5; col++ {
				if g[row]&(0x10>>col) != 0 {
					fillRect(img, x0+(i*6+col)*scale, y0+row*scale, scale, scale, 235, 128, 128)
				}
			}
		}
	}
}
