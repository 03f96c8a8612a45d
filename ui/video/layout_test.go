package video

import (
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func inside(in, out Rect) bool {
	return in.X >= out.X && in.Y >= out.Y && in.X+in.W <= out.X+out.W && in.Y+in.H <= out.Y+out.H
}

func TestLayoutGrid(t *testing.T) {
	area := Rect{X: 0, Y: 1, W: 160, H: 43}
	for n := 1; n <= 9; n++ {
		l := Layout(area, n, true, 640, 480)
		if len(l.Remotes) != n {
			t.Fatalf("%d remotes: %d panes", n, len(l.Remotes))
		}
		for i, p := range l.Remotes {
			if p.Video.Empty() || !inside(p.Bounds(), area) {
				t.Fatalf("%d remotes: pane %d %+v outside %+v", n, i, p, area)
			}
			if p.Label.Y != p.Video.Y+p.Video.H || p.Label.W > p.Video.W || p.Label.W < 8 || p.Label.H != 1 {
				t.Fatalf("%d remotes: label %+v not under video %+v", n, p.Label, p.Video)
			}
			// 4:3 in cells twice as tall as wide: W/(2H) within a cell of 4/3.
			if d := float64(p.Video.W)/float64(2*p.Video.H) - 4.0/3; d > 0.15 || d < -0.15 {
				t.Errorf("%d remotes: pane %d aspect %dx%d", n, i, p.Video.W, p.Video.H)
			}
			for j, q := range l.Remotes[:i] {
				if !p.Bounds().Intersect(q.Bounds()).Empty() {
					t.Fatalf("%d remotes: panes %d and %d overlap", n, i, j)
				}
			}
		}
		if !inside(l.Local.Bounds(), area) || l.Local.Video.Empty() {
			t.Fatalf("%d remotes: local %+v", n, l.Local)
		}
		if len(l.Occluders()) != 1 {
			t.Fatalf("occluders %v", l.Occluders())
		}
	}
	// Two remotes side by side at 160x43, not stacked.
	if l := Layout(area, 2, false, 640, 480); l.Remotes[0].Video.Y != l.Remotes[1].Video.Y {
		t.Errorf("2 remotes stacked: %+v", l.Remotes)
	}
}

func TestLayoutEdgeCases(t *testing.T) {
	if l := Layout(Rect{W: 80, H: 24}, 0, true, 0, 0); len(l.Remotes) != 0 || l.Local.Video.W < 40 {
		t.Errorf("alone: local preview %+v, want the whole area", l.Local)
	}
	if l := Layout(Rect{}, 3, true, 640, 480); len(l.Remotes) != 0 || !l.Local.Video.Empty() {
		t.Errorf("empty area gave %+v", l)
	}
	for _, a := range []Rect{{W: 1, H: 1}, {W: 3, H: 2}, {W: 500, H: 2}, {W: 2, H: 300}} {
		l := Layout(a, 5, true, 640, 480)
		for _, p := range append(l.Remotes, l.Local) {
			if !inside(p.Bounds(), a) && !p.Bounds().Empty() {
				t.Errorf("area %+v: pane %+v outside", a, p)
			}
		}
	}
}

func TestLabel(t *testing.T) {
	for _, tc := range []struct {
		name, state string
		w           int
		want        string
	}{
		{"alice", "connected", 24, "alice · connected       "},
		{"alice@example.org", "connecting", 20, "alice@… · connecting"},
		{"alice", "connecting", 8, "connect…"},
		{"bob", "", 5, "bob  "},
		{"bo\x1b[31mb", "", 5, "bo[3…"},
		{"日本語の名前", "ok", 10, "日本… · ok"},
		{"x", "y", 0, ""},
	} {
		got := Label(tc.name, tc.state, tc.w)
		if got != tc.want {
			t.Errorf("Label(%q, %q, %d) = %q, want %q", tc.name, tc.state, tc.w, got, tc.want)
		}
		if w := ansi.StringWidth(got); w != tc.w {
			t.Errorf("Label(%q, %q, %d) is %d wide", tc.name, tc.state, tc.w, w)
		}
	}
}

func TestParseMode(t *testing.T) {
	tc := []struct {
		s    string
		env  []string
		want Mode
	}{
		{"auto", []string{"TERM=xterm-256color", "COLORTERM=truecolor"}, ModeHalfBlock},
		{"", []string{"TERM=xterm-256color"}, ModeHalfBlock256},
		{"auto", []string{"TERM=xterm-kitty"}, ModeKitty},
		{"auto", []string{"TERM=linux"}, ModeASCII},
		{"halfblock", []string{"TERM=xterm"}, ModeHalfBlock256},
		{"halfblock", []string{"COLORTERM=24bit"}, ModeHalfBlock},
		{"kitty", nil, ModeKitty},
		{"ascii", nil, ModeASCII},
	}
	for _, c := range tc {
		got, err := ParseMode(c.s, c.env)
		if err != nil || got != c.want {
			t.Errorf("ParseMode(%q, %v) = %v, %v; want %v", c.s, c.env, got, err, c.want)
		}
	}
	if _, err := ParseMode("sixel", nil); err == nil {
		t.Error("sixel accepted")
	}
	if ModeKitty.String() != "kitty" || Mode(42).String() != "Mode(42)" {
		t.Error("String")
	}
}

// The local preview sits above the grid's bottom-right corner: no remote label may be
// under it (the video would cover the connection state), and labels it does not
// touch keep the picture's width.
func TestLayoutLabelsClearOfPreview(t *testing.T) {
	for _, size := range [][2]int{{80, 20}, {100, 24}, {120, 30}, {160, 43}, {240, 65}} {
		area := Rect{X: 0, Y: 1, W: size[0], H: size[1]}
		for n := 1; n <= 9; n++ {
			l := Layout(area, n, true, 640, 480)
			pip := l.Local.Bounds()
			for i, p := range l.Remotes {
				if !p.Label.Intersect(pip).Empty() {
					t.Fatalf("%dx%d, %d remotes: label %d %+v under the preview %+v", size[0], size[1], n, i, p.Label, pip)
				}
				if p.Label.Empty() {
					t.Fatalf("%dx%d, %d remotes: label %d cut away", size[0], size[1], n, i)
				}
				full := Rect{X: p.Video.X, Y: p.Label.Y, W: p.Video.W, H: 1}
				if full.Intersect(pip).Empty() && p.Label != full {
					t.Fatalf("%dx%d, %d remotes: label %d %+v cut though the preview is elsewhere", size[0], size[1], n, i, p.Label)
				}
			}
		}
	}
	// The case seen at 100x30 with two remotes: the right label ran under the preview.
	l := Layout(Rect{X: 0, Y: 1, W: 100, H: 24}, 2, true, 640, 480)
	if r := l.Remotes[1].Label; r.X+r.W > l.Local.Bounds().X {
		t.Fatalf("label %+v reaches under the preview %+v", r, l.Local.Bounds())
	}
}

// The preview goes to columns or rows the grid leaves empty when there are enough:
// it then covers no remote picture.
func TestLayoutPreviewInEmptySpace(t *testing.T) {
	for _, tc := range []struct {
		area Rect
		n    int
	}{{Rect{Y: 1, W: 160, H: 43}, 1}, {Rect{Y: 1, W: 200, H: 30}, 2}, {Rect{Y: 1, W: 60, H: 40}, 1}} {
		l := Layout(tc.area, tc.n, true, 640, 480)
		if l.Local.Video.W < minBeside || !inside(l.Local.Bounds(), tc.area) {
			t.Fatalf("%+v: preview %+v", tc.area, l.Local)
		}
		for i, p := range l.Remotes {
			if !p.Bounds().Intersect(l.Local.Bounds()).Empty() {
				t.Errorf("%+v: preview %+v covers remote %d %+v", tc.area, l.Local.Bounds(), i, p.Bounds())
			}
			if !inside(p.Bounds(), tc.area) {
				t.Errorf("%+v: remote %d %+v outside", tc.area, i, p.Bounds())
			}
		}
	}
	// A grid that fills the area keeps the preview above its corner.
	l := Layout(Rect{W: 64, H: 17}, 1, true, 640, 480)
	if l.Local.Video.Empty() {
		t.Fatalf("no preview: %+v", l)
	}
}
