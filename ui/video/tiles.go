package video

import (
	"strings"
	"sync"

	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/devices"
)

// Tiles draws tiles as view text, the way through Bubble Tea's renderer: the call
// screen's View embeds Tile's string. It implements the ui package's TileRenderer.
// The direct way (Screen) costs far less per frame; see README.md. Tiles is safe for
// concurrent use.
type Tiles struct {
	mu    sync.Mutex
	opts  Options
	tiles map[string]*viewTile // guarded by mu
}

type viewTile struct {
	r    *Renderer
	seq  uint64
	w, h int
	text string
}

// NewTiles returns a Tiles drawing with opts (Mode, Tolerance is ignored: a view is
// always whole). Kitty mode cannot travel through a view and falls back to half
// blocks.
func NewTiles(opts Options) *Tiles {
	if opts.Mode == ModeKitty || opts.Mode == ModeAuto {
		opts.Mode = ModeHalfBlock
	}
	return &Tiles{opts: opts, tiles: map[string]*viewTile{}}
}

// Tile returns exactly h lines of w cells showing slot's latest frame, letterboxed;
// "waiting for video" centred before the first frame or without a slot. The text is
// cached per tile and only redrawn for a new frame or size, so calling it from every
// View is cheap.
func (t *Tiles) Tile(id string, slot *devices.FrameSlot, w, h int) string {
	if w <= 0 || h <= 0 {
		return ""
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	vt := t.tiles[id]
	if vt == nil {
		vt = &viewTile{r: New(t.opts)}
		t.tiles[id] = vt
	}
	if slot == nil {
		return placeholder("no video", w, h)
	}
	img, seq := slot.Load()
	if img == nil {
		return placeholder("waiting for video", w, h)
	}
	if vt.text != "" && vt.seq == seq && vt.w == w && vt.h == h {
		return vt.text
	}
	vt.r.SetRect(Rect{W: w, H: h})
	vt.text, vt.seq, vt.w, vt.h = vt.r.View(img), seq, w, h
	return vt.text
}

// Forget drops a tile's state (a participant left).
func (t *Tiles) Forget(id string) {
	t.mu.Lock()
	delete(t.tiles, id)
	t.mu.Unlock()
}

// placeholder centres text in a w x h block of spaces.
func placeholder(text string, w, h int) string {
	text = ansi.Truncate(text, w, "")
	tw := ansi.StringWidth(text)
	blank := strings.Repeat(" ", w)
	var b strings.Builder
	for y := range h {
		if y > 0 {
			b.WriteByte('\n')
		}
		if y == (h-1)/2 {
			b.WriteString(blank[:(w-tw)/2])
			b.WriteString(text)
			b.WriteString(blank[:w-tw-(w-tw)/2])
			continue
		}
		b.WriteString(blank)
	}
	return b.String()
}
