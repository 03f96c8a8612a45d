package video

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// Pane is where one participant goes: the picture and a one-line label under it.
type Pane struct {
	Video Rect
	Label Rect
}

// Bounds is the rectangle covering the picture and the label.
func (p Pane) Bounds() Rect {
	if p.Video.Empty() {
		return p.Label
	}
	return Rect{X: p.Video.X, Y: p.Video.Y, W: max(p.Video.W, p.Label.W), H: p.Video.H + p.Label.H}
}

// CallLayout places the call screen: remote panes in a grid and the local preview in
// the columns or rows the grid leaves empty, or else as a picture-in-picture above the
// grid's bottom-right corner.
type CallLayout struct {
	Remotes []Pane
	Local   Pane // zero when there is no local preview
}

// Occluders returns what is drawn above the remote panes (for Tile.Occlude).
func (l CallLayout) Occluders() []Rect {
	if l.Local.Video.Empty() && l.Local.Label.Empty() {
		return nil
	}
	return []Rect{l.Local.Bounds()}
}

// Layout splits area among remotes remote participants and, when local is set, a
// local preview. frameW x frameH is the expected frame size (0 means 4:3): panes are
// cut to the picture's aspect, so no cells are spent on letterbox bars, with a cell
// counted twice as tall as wide. The grid's column count is the one that shows the
// largest pictures. With no remotes the local preview takes the whole area.
func Layout(area Rect, remotes int, local bool, frameW, frameH int) CallLayout {
	if frameW <= 0 || frameH <= 0 {
		frameW, frameH = 4, 3
	}
	var l CallLayout
	if area.Empty() {
		return l
	}
	if remotes <= 0 {
		if local {
			l.Local = pane(area, frameW, frameH)
		}
		return l
	}
	l.Remotes = grid(area, remotes, frameW, frameH)
	if local {
		// At most half a remote pane wide, so it never hides a whole participant.
		maxW := l.Remotes[len(l.Remotes)-1].Video.W / 2
		if p, ok := beside(area, l.Remotes, maxW, frameW, frameH); ok {
			l.Local = p // in rows or columns the grid leaves empty: it covers nothing
			return l
		}
		l.Local = pip(area, maxW, frameW, frameH)
		// The preview is drawn above the grid: a label it covers would lose the
		// connection state under the picture, so labels are cut to what stays visible.
		for i := range l.Remotes {
			l.Remotes[i].Label = uncovered(l.Remotes[i].Label, l.Local.Bounds())
		}
	}
	return l
}

// uncovered returns the longer of the parts of the one-row rectangle r left and right
// of o; r itself when o does not cover it.
func uncovered(r, o Rect) Rect {
	if r.Intersect(o).Empty() {
		return r
	}
	left := Rect{X: r.X, Y: r.Y, W: o.X - r.X, H: r.H}
	right := Rect{X: o.X + o.W, Y: r.Y, W: r.X + r.W - (o.X + o.W), H: r.H}
	if right.W > left.W {
		return right
	}
	if left.W <= 0 {
		return Rect{}
	}
	return left
}

// pane fits a picture of aspect fw:fh plus a label line into cell, centred.
func pane(cell Rect, fw, fh int) Pane {
	if cell.W <= 0 || cell.H <= 0 {
		return Pane{}
	}
	if cell.H == 1 {
		return Pane{Label: Rect{X: cell.X, Y: cell.Y, W: cell.W, H: 1}}
	}
	_, _, pw, ph := fitBox(fw, fh, cell.W, 2*(cell.H-1))
	w, h := pw, (ph+1)/2
	x := cell.X + (cell.W-w)/2
	y := cell.Y + (cell.H-1-h)/2
	return Pane{
		Video: Rect{X: x, Y: y, W: w, H: h},
		Label: Rect{X: x, Y: y + h, W: w, H: 1},
	}
}

// grid lays n panes out in the column count that gives the largest pictures; a short
// last row is centred.
func grid(area Rect, n, fw, fh int) []Pane {
	bestCols, bestArea := 1, -1
	for cols := 1; cols <= n; cols++ {
		rows := (n + cols - 1) / cols
		p := pane(Rect{W: area.W / cols, H: area.H / rows}, fw, fh)
		if a := p.Video.W * p.Video.H; a > bestArea {
			bestCols, bestArea = cols, a
		}
	}
	cols := bestCols
	rows := (n + cols - 1) / cols
	cw, ch := area.W/cols, area.H/rows
	out := make([]Pane, 0, n)
	for i := range n {
		r, c := i/cols, i%cols
		inRow := min(cols, n-r*cols)
		x0 := area.X + (area.W-inRow*cw)/2
		y0 := area.Y + (area.H-rows*ch)/2
		out = append(out, pane(Rect{X: x0 + c*cw, Y: y0 + r*ch, W: cw, H: ch}, fw, fh))
	}
	return out
}

// minBeside is the narrowest preview placed beside the grid rather than above it.
const minBeside = 16

// beside moves the grid to one side of area when that leaves a strip of empty columns
// (or rows) wide enough for a preview of at least minBeside columns, and puts the
// preview there; remotes are moved in place. ok is false when there is no such strip.
func beside(area Rect, remotes []Pane, maxW, fw, fh int) (Pane, bool) {
	b := remotes[0].Bounds()
	for _, p := range remotes[1:] {
		q := p.Bounds()
		x0, y0 := min(b.X, q.X), min(b.Y, q.Y)
		x1, y1 := max(b.X+b.W, q.X+q.W), max(b.Y+b.H, q.Y+q.H)
		b = Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
	}
	freeW, freeH := area.W-b.W-1, area.H-b.H // one column between grid and preview
	side := pane(Rect{X: area.X + b.W + 1, Y: area.Y, W: min(freeW, maxW), H: area.H}, fw, fh)
	below := pane(Rect{X: area.X, Y: area.Y + b.H, W: min(area.W, maxW), H: freeH}, fw, fh)
	best, dx, dy := side, area.X-b.X, 0
	if below.Video.W*below.Video.H > side.Video.W*side.Video.H {
		best, dx, dy = below, 0, area.Y-b.Y
	}
	if best.Video.W < minBeside {
		return Pane{}, false
	}
	for i := range remotes {
		for _, r := range []*Rect{&remotes[i].Video, &remotes[i].Label} {
			if !r.Empty() {
				r.X += dx
				r.Y += dy
			}
		}
	}
	if dx != 0 { // the preview at the bottom of its strip, by the grid's labels
		best.Video.Y = area.Y + area.H - best.Video.H - 1
		best.Label.Y = best.Video.Y + best.Video.H
	} else { // centred under the grid
		off := area.X + (area.W-best.Video.W)/2 - best.Video.X
		best.Video.X += off
		best.Label.X += off
	}
	return best, true
}

// pip puts the local preview, a quarter of the width (at least 16 columns, at most
// maxW), in the bottom-right corner with a one-cell margin when there is room.
func pip(area Rect, maxW, fw, fh int) Pane {
	w := min(max(area.W/4, 16), maxW, area.W)
	h := min(max((w*fh+fw-1)/fw/2, 1)+1, area.H) // picture rows + label
	mx, my := 0, 0
	if area.W-w >= 2 {
		mx = 1
	}
	if area.H-h >= 2 {
		my = 1
	}
	return pane(Rect{X: area.X + area.W - w - mx, Y: area.Y + area.H - h - my, W: w, H: h}, fw, fh)
}

// Label returns the text of a label line exactly width cells wide: the name and the
// connection state ("alice · connecting"), the name shortened with an ellipsis when
// the line is too narrow, padded with spaces. The TUI styles it; it has no escapes.
func Label(name, state string, width int) string {
	if width <= 0 {
		return ""
	}
	name = strings.Map(printable, name)
	state = strings.Map(printable, state)
	tail := ""
	if state != "" {
		tail = " · " + state
	}
	if ansi.StringWidth(tail) >= width { // no room for the name: state alone
		tail = ""
		name = state
	}
	s := ansi.Truncate(name, width-ansi.StringWidth(tail), "…") + tail
	if pad := width - ansi.StringWidth(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return ansi.Truncate(s, width, "")
}

// printable drops control characters (a remote name is untrusted text).
func printable(r rune) rune {
	if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
		return -1
	}
	return r
}
