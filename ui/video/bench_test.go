package video

import (
	"bytes"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	uv "github.com/charmbracelet/ultraviolet"
)

// The comparison benchmarks. Run them in one go (see README.md):
//
//	go test -run '^$' -bench 'Frame' -benchtime 60x ./ui/video/
//
// Each benchmark draws 30 pre-generated 640x480 frames in a loop after one warm-up
// frame, and reports ms/frame and B/frame (bytes that reach the terminal).
//
//   - naive: every cell with both colours and a cursor move per row (what a simple
//     renderer writes), same scaler.
//   - diff: Renderer.Render, 24-bit half blocks, tolerance 0.
//   - direct: Screen.Draw: diff plus DECSC/2026 framing through a LockedWriter: way (b).
//   - bubbletea: Renderer.View as the view, then Bubble Tea's own cell renderer
//     (ultraviolet, as in bubbletea v2's cursed renderer, alt screen): way (a).
//   - bubbletea+lipgloss: the same, with the view built as the call screen builds it
//     (the tile as a layer of a lipgloss canvas).
//   - chafa: /usr/bin/chafa on the same frame as PPM, vhalf symbols, same cells.

var benchSizes = []struct{ w, h int }{{80, 24}, {160, 45}, {240, 67}}

var benchScenes = []struct {
	name string
	gen  func(w, h, t int) *image.YCbCr
}{{"static", static}, {"moving", moving}, {"noise", noise}}

const benchFrames = 30

var frameCache = map[string][]*image.YCbCr{}

func benchFramesFor(name string, gen func(w, h, t int) *image.YCbCr) []*image.YCbCr {
	if f, ok := frameCache[name]; ok {
		return f
	}
	f := sequence(gen, 640, 480, benchFrames)
	frameCache[name] = f
	return f
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

func report(b *testing.B, bytes int) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/frame")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/frame")
}

// naive writes every cell with its full SGR.
func naive(dst []byte, r *Renderer, img *image.YCbCr) []byte {
	w, h := r.rect.W, r.rect.H
	r.picture(img, w, 2*h)
	e := emitter{truecolour: true}
	e.buf = dst
	for y := range h {
		e.buf = append(e.buf, "\x1b["...)
		e.buf = strconv.AppendInt(e.buf, int64(r.rect.Y+y+1), 10)
		e.buf = append(e.buf, ";1H"...)
		for x := range w {
			e.buf = append(e.buf, "\x1b["...)
			e.colour('3', r.pix[2*y*w+x])
			e.buf = append(e.buf, ';')
			e.colour('4', r.pix[(2*y+1)*w+x])
			e.buf = append(e.buf, 'm')
			e.buf = append(e.buf, upperHalf...)
		}
	}
	return append(e.buf, "\x1b[m"...)
}

func BenchmarkFrame(b *testing.B) {
	for _, sz := range benchSizes {
		for _, sc := range benchScenes {
			frames := benchFramesFor(sc.name, sc.gen)
			rc := Rect{W: sz.w, H: sz.h}
			prefix := fmt.Sprintf("%dx%d/%s/", sz.w, sz.h, sc.name)

			b.Run(prefix+"naive", func(b *testing.B) {
				r := New(Options{})
				r.SetRect(rc)
				buf := naive(nil, r, frames[0])
				total := 0
				b.ResetTimer()
				for i := range b.N {
					buf = naive(buf[:0], r, frames[(i+1)%benchFrames])
					total += len(buf)
				}
				report(b, total)
			})

			b.Run(prefix+"diff", func(b *testing.B) {
				r := New(Options{})
				r.SetRect(rc)
				buf := r.Render(nil, frames[0])
				total := 0
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					buf = r.Render(buf[:0], frames[(i+1)%benchFrames])
					total += len(buf)
				}
				report(b, total)
			})

			b.Run(prefix+"direct", func(b *testing.B) {
				var cw countWriter
				s := NewScreen(NewLockedWriter(&cw), ScreenOptions{Mode: ModeHalfBlock})
				src := &slot{}
				if err := s.SetTiles([]Tile{{ID: "t", Source: src, Rect: rc}}); err != nil {
					b.Fatal(err)
				}
				src.Store(frames[0])
				if _, err := s.Draw(); err != nil {
					b.Fatal(err)
				}
				cw.n = 0
				b.ResetTimer()
				for i := range b.N {
					if sc.name != "static" || i == 0 {
						src.Store(frames[(i+1)%benchFrames])
					}
					if _, err := s.Draw(); err != nil {
						b.Fatal(err)
					}
				}
				report(b, cw.n)
			})

			b.Run(prefix+"bubbletea", func(b *testing.B) {
				benchThroughView(b, rc, frames, false)
			})

			b.Run(prefix+"bubbletea+lipgloss", func(b *testing.B) {
				benchThroughView(b, rc, frames, true)
			})

			b.Run(prefix+"chafa", func(b *testing.B) {
				chafa, err := exec.LookPath("chafa")
				if err != nil {
					b.Skip("chafa not installed (Debian package chafa; scripts/setup.sh installs it)")
				}
				dir := b.TempDir()
				paths := make([]string, benchFrames)
				for i, f := range frames {
					paths[i] = filepath.Join(dir, strconv.Itoa(i)+".ppm")
					if err := os.WriteFile(paths[i], ppm(f), 0o644); err != nil {
						b.Fatal(err)
					}
				}
				size := fmt.Sprintf("%dx%d", sz.w, sz.h)
				total := 0
				b.ResetTimer()
				for i := range b.N {
					out, err := exec.Command(chafa, "-f", "symbols", "--symbols=vhalf", "-c", "full",
						"--animate=off", "-s", size, paths[(i+1)%benchFrames]).Output()
					if err != nil {
						b.Fatalf("chafa: %v", err)
					}
					total += len(out)
				}
				report(b, total)
			})
		}
	}
}

// BenchmarkModes shows the other modes at 160x45 on the moving scene.
func BenchmarkModes(b *testing.B) {
	frames := benchFramesFor("moving", moving)
	for _, o := range []Options{{Mode: ModeHalfBlock, Tolerance: 8}, {Mode: ModeHalfBlock256}, {Mode: ModeASCII}, {Mode: ModeKitty}} {
		name := o.Mode.String()
		if o.Tolerance > 0 {
			name += "-tol" + strconv.Itoa(int(o.Tolerance))
		}
		b.Run("160x45/moving/"+name, func(b *testing.B) {
			r := New(o)
			r.SetRect(Rect{W: 160, H: 45})
			buf := r.Render(nil, frames[0])
			total := 0
			b.ResetTimer()
			for i := range b.N {
				buf = r.Render(buf[:0], frames[(i+1)%benchFrames])
				total += len(buf)
			}
			report(b, total)
		})
	}
}

// ppm encodes img as a binary PPM for chafa.
func ppm(img *image.YCbCr) []byte {
	b := img.Rect
	out := fmt.Appendf(nil, "P6 %d %d 255\n", b.Dx(), b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			out = append(out, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	return out
}

// BenchmarkScale is the scaler alone: 640x480 into the 120x90 picture of 160x45 cells.
func BenchmarkScale(b *testing.B) {
	img := moving(640, 480, 3)
	var s scaler
	dst := make([]uint32, 160*90)
	for b.Loop() {
		s.scale(dst, 160, img, 20, 0, 120, 90, false)
	}
}

// teaScreen is Bubble Tea v2's cell renderer as its cursed renderer drives it in the
// alternate screen: the view is parsed into a cell buffer and diffed against the last.
type teaScreen struct {
	out  bytes.Buffer
	cell uv.ScreenBuffer
	scr  *uv.TerminalRenderer
}

func newTeaScreen(w, h int) *teaScreen {
	t := &teaScreen{cell: uv.NewScreenBuffer(w, h)}
	t.scr = uv.NewTerminalRenderer(&t.out, []string{"TERM=xterm-256color", "COLORTERM=truecolor"})
	t.scr.SetColorProfile(colorprofile.TrueColor)
	t.scr.SetFullscreen(true)
	t.scr.SetRelativeCursor(false)
	t.scr.Resize(w, h)
	return t
}

// frame renders one view and returns the bytes it wrote.
func (t *teaScreen) frame(b *testing.B, view string) int {
	t.out.Reset()
	t.cell.Clear()
	uv.NewStyledString(view).Draw(t.cell, t.cell.Bounds())
	t.scr.Render(t.cell.RenderBuffer)
	if err := t.scr.Flush(); err != nil {
		b.Fatal(err)
	}
	return t.out.Len()
}

func benchThroughView(b *testing.B, rc Rect, frames []*image.YCbCr, compose bool) {
	r := New(Options{})
	r.SetRect(rc)
	ts := newTeaScreen(rc.W, rc.H)
	view := func(img *image.YCbCr) string {
		v := r.View(img)
		if compose {
			v = lipgloss.NewCanvas(rc.W, rc.H).Compose(lipgloss.NewCompositor(lipgloss.NewLayer(v))).Render()
		}
		return v
	}
	ts.frame(b, view(frames[0]))
	total := 0
	b.ResetTimer()
	for i := range b.N {
		total += ts.frame(b, view(frames[(i+1)%benchFrames]))
	}
	report(b, total)
}

// BenchmarkKeyRender is what one key press costs Bubble Tea's renderer on the
// 160x45 call screen when a label line changes: with the video in the view (way a)
// the whole picture is parsed again; with the video drawn directly (way b) the view
// holds blanks there.
func BenchmarkKeyRender(b *testing.B) {
	const w, h = 160, 45
	r := New(Options{})
	r.SetRect(Rect{W: w, H: h - 1})
	video := r.View(moving(640, 480, 3))
	blank := strings.TrimSuffix(strings.Repeat(strings.Repeat(" ", w)+"\n", h-1), "\n")
	for _, tc := range []struct{ name, area string }{{"view", video}, {"direct", blank}} {
		b.Run(tc.name, func(b *testing.B) {
			ts := newTeaScreen(w, h)
			ts.frame(b, tc.area+"\n"+Label("bob", "connected", w))
			total := 0
			b.ResetTimer()
			for i := range b.N {
				total += ts.frame(b, tc.area+"\n"+Label("bob", "connected · "+strconv.Itoa(i), w))
			}
			report(b, total)
		})
	}
}
