package video

import (
	"flag"
	"image"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// quads is a 4x4 frame of four 2x2 quadrants, one chroma sample each, so the
// expected colours are exact.
func quads(tl, tr, bl, br [3]uint8) *image.YCbCr {
	return fill(newFrame(4, 4), func(x, y int) (uint8, uint8, uint8) {
		c := [2][2][3]uint8{{tl, tr}, {bl, br}}[y/2][x/2]
		return c[0], c[1], c[2]
	})
}

var (
	red   = [3]uint8{255, 0, 0}
	green = [3]uint8{0, 255, 0}
	blue  = [3]uint8{0, 0, 255}
	white = [3]uint8{255, 255, 255}
	black = [3]uint8{0, 0, 0}
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	// One quoted line per escape-led chunk keeps the files readable in a diff.
	text := strings.ReplaceAll(strconv.Quote(string(got)), `\x1b`, "\n\\x1b") + "\n"
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if string(want) != text {
		t.Errorf("%s: output differs from golden\ngot:\n%s\nwant:\n%s", name, text, want)
	}
}

func TestGoldenHalfBlock(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode Mode
	}{{"halfblock", ModeHalfBlock}, {"halfblock256", ModeHalfBlock256}, {"ascii", ModeASCII}} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(Options{Mode: tc.mode})
			r.SetRect(Rect{X: 2, Y: 1, W: 4, H: 2})
			first := r.Render(nil, quads(red, green, blue, white))
			golden(t, tc.name+"_full", first)
			// Only the bottom-right quadrant changes: two cells, one SGR.
			second := r.Render(nil, quads(red, green, blue, black))
			golden(t, tc.name+"_diff", second)
			if again := r.Render(nil, quads(red, green, blue, black)); len(again) != 0 {
				t.Errorf("unchanged frame wrote %q", again)
			}
		})
	}
}

// TestGoldenMixedCell: a cell whose halves differ uses ▀ with both colours.
func TestGoldenMixedCell(t *testing.T) {
	img := fill(newFrame(4, 4), func(x, y int) (uint8, uint8, uint8) {
		if y < 2 {
			return 255, 0, 0
		}
		return 0, 0, 255
	})
	r := New(Options{})
	r.SetRect(Rect{W: 2, H: 1})
	golden(t, "mixed", r.Render(nil, img))
}

func psnr(a, b []uint32, lumaOnly bool) float64 {
	var se float64
	n := 0
	for i := range a {
		if lumaOnly {
			d := float64(luma(a[i])) - float64(luma(b[i]))
			se += d * d
			n++
			continue
		}
		for s := 0; s < 24; s += 8 {
			d := float64(a[i]>>s&0xff) - float64(b[i]>>s&0xff)
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// apply renders frames one after the other into a fresh terminal.
func apply(t *testing.T, r *Renderer, term *vt, frames []*image.YCbCr) {
	t.Helper()
	for _, f := range frames {
		if _, err := term.Write(r.Render(nil, f)); err != nil {
			t.Fatal(err)
		}
	}
	if term.err != nil {
		t.Fatal(term.err)
	}
	if term.outside != 0 {
		t.Fatalf("%d glyphs outside the screen", term.outside)
	}
}

func sequence(gen func(w, h, t int) *image.YCbCr, w, h, n int) []*image.YCbCr {
	out := make([]*image.YCbCr, n)
	for i := range out {
		out[i] = gen(w, h, i)
	}
	return out
}

// visual is what a cell looks like: the glyph and the colours that show.
func visual(c vcell) vcell {
	if c.ch == ' ' {
		c.fg = vcolor{}
	}
	return c
}

// TestDiffEqualsFullRepaint: after any sequence of diffed frames the screen is exactly
// what a full repaint of the last frame gives.
func TestDiffEqualsFullRepaint(t *testing.T) {
	rc := Rect{X: 3, Y: 2, W: 37, H: 13}
	scenes := map[string]func(w, h, t int) *image.YCbCr{"moving": moving, "noise": noise, "static": static}
	for _, mode := range []Mode{ModeHalfBlock, ModeHalfBlock256, ModeASCII} {
		for name, gen := range scenes {
			t.Run(mode.String()+"/"+name, func(t *testing.T) {
				frames := sequence(gen, 160, 120, 12)
				frames = append(frames, moving(160, 120, 3), noise(160, 120, 99), moving(160, 120, 40))
				diffed := newVT(50, 20)
				r := New(Options{Mode: mode, Mirror: name == "moving"})
				r.SetRect(rc)
				apply(t, r, diffed, frames)

				full := newVT(50, 20)
				r2 := New(Options{Mode: mode, Mirror: name == "moving"})
				r2.SetRect(rc)
				apply(t, r2, full, frames[len(frames)-1:])
				for i := range diffed.cells {
					if visual(diffed.cells[i]) != visual(full.cells[i]) {
						t.Fatalf("cell %d,%d: diffed %+v, full repaint %+v", i%50, i/50, diffed.cells[i], full.cells[i])
					}
				}
			})
		}
	}
}

// TestTolerance: with a tolerance the screen stays within it of the full repaint, and
// small changes write nothing.
func TestTolerance(t *testing.T) {
	const tol = 6
	rc := Rect{W: 40, H: 15}
	r := New(Options{Tolerance: tol})
	r.SetRect(rc)
	term := newVT(40, 15)
	apply(t, r, term, []*image.YCbCr{solid(64, 48, 100, 100, 100)})
	if out := r.Render(nil, solid(64, 48, 103, 103, 103)); len(out) != 0 {
		t.Errorf("a change within the tolerance wrote %d bytes", len(out))
	}
	apply(t, r, term, sequence(moving, 160, 120, 10))
	ref := New(Options{})
	ref.SetRect(rc)
	ref.Render(nil, moving(160, 120, 9))
	got, err := term.pixels(rc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !near(got[i], ref.pix[i], tol) {
			t.Fatalf("pixel %d: %06x on screen, %06x due", i, got[i], ref.pix[i])
		}
	}
}

// TestPSNR reconstructs the picture from the screen and compares it with the
// downscaled source. Thresholds:
//   - 24-bit: lossless, the screen holds exactly the scaled pixels.
//   - 256 colours: the cube's steps are 95 then 40 apart, so uniformly distributed
//     channels err by about 19 RMS (PSNR 22.5 dB); the grey ramp helps greys. 21 dB.
//   - ASCII (luma only, against the mean luma of each cell's two pixels, the most one
//     glyph can show): 10 levels 25.6 apart give 7.4 RMS, 30.7 dB for uniform luma;
//     28 dB leaves room for scenes whose luma sits near the edges of the levels.
//   - kitty: lossless (zlib), checked at the kitty resolution.
func TestPSNR(t *testing.T) {
	rc := Rect{X: 1, Y: 1, W: 60, H: 20}
	for _, tc := range []struct {
		mode  Mode
		scene string
		gen   func(w, h, t int) *image.YCbCr
		min   float64
	}{
		{ModeHalfBlock, "moving", moving, math.Inf(1)},
		{ModeHalfBlock, "noise", noise, math.Inf(1)},
		{ModeHalfBlock256, "moving", moving, 21},
		{ModeHalfBlock256, "noise", noise, 21},
		{ModeASCII, "moving", moving, 28},
		{ModeASCII, "noise", noise, 28},
	} {
		t.Run(tc.mode.String()+"/"+tc.scene, func(t *testing.T) {
			r := New(Options{Mode: tc.mode})
			r.SetRect(rc)
			term := newVT(62, 22)
			apply(t, r, term, sequence(tc.gen, 320, 240, 4))
			src := r.pix
			var got []uint32
			if tc.mode == ModeASCII {
				got = make([]uint32, len(src))
				want := make([]uint32, len(src))
				for y := range rc.H {
					for x := range rc.W {
						c := term.cells[(rc.Y+y)*term.w+rc.X+x].ch
						lv := uint32(strings.IndexRune(asciiRamp, c))
						l := (lv*512/uint32(len(asciiRamp)) + 256/uint32(len(asciiRamp))) / 2
						i, j := 2*y*rc.W+x, (2*y+1)*rc.W+x
						got[i], got[j] = l<<16|l<<8|l, l<<16|l<<8|l
						m := (luma(src[i]) + luma(src[j])) / 2
						want[i], want[j] = m<<16|m<<8|m, m<<16|m<<8|m
					}
				}
				// ASCII shows one luma per cell: compare with the cell's mean luma.
				src = want
			} else {
				var err error
				if got, err = term.pixels(rc); err != nil {
					t.Fatal(err)
				}
			}
			p := psnr(got, src, tc.mode == ModeASCII)
			t.Logf("PSNR %.1f dB", p)
			if p < tc.min {
				t.Errorf("PSNR %.1f dB, want >= %.1f", p, tc.min)
			}
		})
	}
}

func TestKitty(t *testing.T) {
	rc := Rect{X: 4, Y: 2, W: 30, H: 10}
	r := New(Options{Mode: ModeKitty, KittyID: 7})
	r.SetRect(rc)
	term := newVT(40, 15)
	apply(t, r, term, []*image.YCbCr{moving(320, 240, 1)})
	keys, rgb, err := term.kittyImage()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"a": "T", "f": "24", "o": "z", "i": "7", "c": "30", "r": "10", "s": "60", "v": "40", "m": "0"} {
		if keys[k] != v {
			t.Errorf("key %s=%q, want %q", k, keys[k], v)
		}
	}
	if len(rgb) != 60*40*3 {
		t.Fatalf("%d bytes of RGB, want %d", len(rgb), 60*40*3)
	}
	for i, p := range r.pix {
		if got := uint32(rgb[3*i])<<16 | uint32(rgb[3*i+1])<<8 | uint32(rgb[3*i+2]); got != p {
			t.Fatalf("pixel %d: sent %06x, scaled %06x", i, got, p)
		}
	}
	if term.x != rc.X || term.y != rc.Y {
		t.Errorf("cursor at %d,%d, want the tile origin", term.x, term.y)
	}
	if out := r.Render(nil, moving(320, 240, 1)); len(out) != 0 {
		t.Errorf("unchanged frame sent %d bytes", len(out))
	}
	big := r.Render(nil, noise(320, 240, 1))
	if n := strings.Count(string(big), "\x1b_G"); n < 2 {
		t.Errorf("noise frame in %d chunks, want several", n)
	}
}

func TestKittyReply(t *testing.T) {
	if !IsKittyReply([]byte("\x1b_Gi=31;OK\x1b\\")) {
		t.Error("positive reply not recognised")
	}
	if IsKittyReply([]byte("\x1b_Gi=31;ENOTSUPPORTED:x\x1b\\")) {
		t.Error("error reply taken as support")
	}
}

// TestResize: a new rectangle repaints every cell, and the result equals a full paint.
func TestResize(t *testing.T) {
	r := New(Options{})
	term := newVT(80, 30)
	r.SetRect(Rect{W: 40, H: 12})
	apply(t, r, term, sequence(moving, 160, 120, 3))
	for _, rc := range []Rect{{X: 5, Y: 3, W: 70, H: 25}, {X: 1, Y: 1, W: 10, H: 4}, {W: 80, H: 30}} {
		r.SetRect(rc)
		out := r.Render(nil, moving(160, 120, 2))
		term2 := newVT(80, 30)
		term2.Write(out)
		if term2.err != nil {
			t.Fatal(term2.err)
		}
		px, err := term2.pixels(rc)
		if err != nil {
			t.Fatalf("after resize to %+v the tile is not fully painted: %v", rc, err)
		}
		ref := New(Options{})
		ref.SetRect(rc)
		ref.Render(nil, moving(160, 120, 2))
		if p := psnr(px, ref.pix, false); !math.IsInf(p, 1) {
			t.Errorf("resize to %+v: PSNR %.1f against a fresh paint", rc, p)
		}
	}
}

// TestOddSizes: tiny, empty, huge and odd frames and rectangles neither panic nor
// write outside the rectangle.
func TestOddSizes(t *testing.T) {
	frames := []*image.YCbCr{
		nil,
		newFrame(1, 1),
		newFrame(0, 0),
		newFrame(3, 5),
		newFrame(1, 999),
		newFrame(999, 1),
		image.NewYCbCr(image.Rect(0, 0, 7, 3), image.YCbCrSubsampleRatio444),
		image.NewYCbCr(image.Rect(0, 0, 9, 9), image.YCbCrSubsampleRatio422),
		moving(64, 48, 1).SubImage(image.Rect(3, 5, 40, 30)).(*image.YCbCr),
	}
	rects := []Rect{{}, {W: 1, H: 1}, {W: 0, H: 5}, {W: 5, H: -1}, {X: 2, Y: 1, W: 3, H: 2}, {W: 400, H: 150}}
	for _, mode := range []Mode{ModeHalfBlock, ModeHalfBlock256, ModeASCII, ModeKitty} {
		for _, rc := range rects {
			r := New(Options{Mode: mode})
			r.SetRect(rc)
			term := newVT(max(rc.X+rc.W, 1), max(rc.Y+rc.H, 1))
			for _, f := range frames {
				term.Write(r.Render(nil, f))
				_ = r.View(f)
			}
			if term.err != nil {
				t.Fatalf("%v %+v: %v", mode, rc, term.err)
			}
			if term.outside != 0 {
				t.Fatalf("%v %+v: %d glyphs outside", mode, rc, term.outside)
			}
		}
	}
}

// TestScaleAreaAverage compares the scaler with averaging RGB over each box through
// image.At: rounding differs (YCbCr means vs RGB means), nothing else may.
func TestScaleAreaAverage(t *testing.T) {
	src := moving(96, 72, 5).SubImage(image.Rect(2, 2, 90, 68)).(*image.YCbCr)
	const pw, ph = 22, 16
	var s scaler
	got := make([]uint32, pw*ph)
	s.scale(got, pw, src, 0, 0, pw, ph, false)
	want := make([]uint32, pw*ph)
	b := src.Rect
	for j := range ph {
		for i := range pw {
			x0, x1 := b.Min.X+i*b.Dx()/pw, b.Min.X+(i+1)*b.Dx()/pw
			y0, y1 := b.Min.Y+j*b.Dy()/ph, b.Min.Y+(j+1)*b.Dy()/ph
			var sr, sg, sb, n uint32
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					r, g, bl, _ := src.At(x, y).RGBA()
					sr, sg, sb, n = sr+r>>8, sg+g>>8, sb+bl>>8, n+1
				}
			}
			want[j*pw+i] = (sr/n)<<16 | (sg/n)<<8 | sb/n
		}
	}
	if p := psnr(got, want, false); p < 35 {
		t.Errorf("PSNR %.1f dB against RGB box averaging, want >= 35", p)
	}
	// Mirror is the exact left-right flip.
	m := make([]uint32, pw*ph)
	s.scale(m, pw, src, 0, 0, pw, ph, true)
	for j := range ph {
		for i := range pw {
			if m[j*pw+i] != got[j*pw+pw-1-i] {
				t.Fatalf("mirror differs at %d,%d", i, j)
			}
		}
	}
}

func TestLetterbox(t *testing.T) {
	// A 4:3 frame in a 40x10 tile (40x20 square pixels) is 27 pixels wide, centred.
	r := New(Options{})
	r.SetRect(Rect{W: 40, H: 10})
	r.Render(nil, solid(64, 48, 255, 255, 255))
	row := r.pix[10*40 : 11*40]
	lit := 0
	for _, p := range row {
		if p != 0 {
			lit++
		}
	}
	if lit != 27 || row[5] != 0 || row[6] == 0 || row[32] == 0 || row[33] != 0 {
		t.Errorf("row 10 has %d lit pixels (%06x): want 27 centred", lit, row)
	}
}

func TestViewMatchesRender(t *testing.T) {
	for _, mode := range []Mode{ModeHalfBlock, ModeHalfBlock256, ModeASCII} {
		rc := Rect{W: 30, H: 8}
		r := New(Options{Mode: mode})
		r.SetRect(rc)
		term := newVT(30, 8)
		apply(t, r, term, []*image.YCbCr{moving(100, 80, 2)})
		viewTerm := newVT(30, 8)
		v := r.View(moving(100, 80, 2))
		viewTerm.Write([]byte(v))
		if viewTerm.err != nil {
			t.Fatal(viewTerm.err)
		}
		if n := strings.Count(v, "\n"); n != rc.H-1 {
			t.Errorf("%v: view has %d newlines, want %d", mode, n, rc.H-1)
		}
		for i := range term.cells {
			if visual(term.cells[i]) != visual(viewTerm.cells[i]) {
				t.Fatalf("%v: cell %d differs between View and Render", mode, i)
			}
		}
	}
}

func TestOcclusion(t *testing.T) {
	pip := Rect{X: 20, Y: 8, W: 10, H: 4}
	r := New(Options{})
	r.SetRect(Rect{W: 40, H: 15})
	r.SetOcclusion(pip)
	term := newVT(40, 15)
	for i := range term.cells {
		term.cells[i].ch = 'P'
	}
	apply(t, r, term, sequence(noise, 80, 60, 3))
	for y := range 15 {
		for x := range 40 {
			in := x >= pip.X && x < pip.X+pip.W && y >= pip.Y && y < pip.Y+pip.H
			if ch := term.cells[y*40+x].ch; in != (ch == 'P') {
				t.Fatalf("cell %d,%d = %q (inside the occluder: %v)", x, y, ch, in)
			}
		}
	}
}
