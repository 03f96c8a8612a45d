package video

import (
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/ttycall/ttycall/devices"
)

// Source is where a tile's frames come from; *devices.FrameSlot implements it.
type Source interface {
	// Load returns the latest frame (nil before the first) and a number that grows
	// with every new frame.
	Load() (*image.YCbCr, uint64)
}

// Tile is one picture on the call screen.
type Tile struct {
	// ID names the tile across SetTiles calls (a peer's ID, "local"), so its diff
	// state survives a layout change.
	ID     string
	Source Source
	Rect   Rect
	Mirror bool
	// Occlude lists rectangles drawn above this tile (the picture-in-picture).
	Occlude []Rect
}

// ScreenOptions configure a Screen.
type ScreenOptions struct {
	Mode      Mode
	Tolerance uint8
	// MaxFPS caps frames per second ([ui] max_fps); default 30.
	MaxFPS int
}

// Stats count what a Screen did.
type Stats struct {
	Frames  uint64 // frames written
	Skipped uint64 // source frames never drawn: newer ones replaced them first
	Bytes   uint64 // bytes written
}

// Screen draws tiles straight to the terminal, outside Bubble Tea's renderer. Each
// frame is one write: DECSC, mode 2026 on, the tiles' diffs, mode 2026 off, DECRC, so
// Bubble Tea finds its cursor and pen where it left them. Frames are paced at MaxFPS
// and never queued: a slow terminal makes the Screen skip frames (the sources keep
// only the latest), and after a write that took d the next waits at least d more, so
// video never takes more than about half of the terminal's throughput from keys.
type Screen struct {
	mu    sync.Mutex
	out   *LockedWriter
	opts  ScreenOptions
	tiles []Tile                // guarded by mu
	rends map[string]*tileState // guarded by mu
	gone  []string              // guarded by mu; kitty images to delete
	all   bool                  // guarded by mu; repaint everything next frame
	ids   int                   // guarded by mu; last kitty image ID given out
	buf   []byte                // guarded by mu
	stats Stats                 // guarded by mu
}

type tileState struct {
	r    *Renderer
	seq  uint64
	seen bool
}

// Sync-output and cursor save/restore around each frame.
const (
	frameBegin = "\x1b7\x1b[?2026h"
	frameEnd   = "\x1b[?2026l\x1b8"
)

// NewScreen returns a Screen writing to out.
func NewScreen(out *LockedWriter, opts ScreenOptions) *Screen {
	if opts.MaxFPS <= 0 {
		opts.MaxFPS = 30
	}
	return &Screen{out: out, opts: opts, rends: map[string]*tileState{}}
}

// SetTiles replaces the tiles; a tile whose rectangle changed repaints fully. Cells
// that no tile covers any more are blanked (default colours) before SetTiles returns,
// so call it from Bubble Tea's Update: the blanking then reaches the terminal before
// the view that may draw there, and Bubble Tea's idea of those cells (blank) holds.
// SetTiles(nil) hands the whole area back to Bubble Tea. It returns a write error.
func (s *Screen) SetTiles(tiles []Tile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	clearBuf := s.vacated(tiles)
	keep := make(map[string]bool, len(tiles))
	for _, t := range tiles {
		keep[t.ID] = true
		st := s.rends[t.ID]
		if st == nil {
			st = s.newTileLocked()
			s.rends[t.ID] = st
		}
		st.place(t)
	}
	for id, st := range s.rends {
		if !keep[id] {
			if st.r.Mode() == ModeKitty {
				s.gone = append(s.gone, KittyDelete(st.r.opts.KittyID))
			}
			delete(s.rends, id)
		}
	}
	s.tiles = append(s.tiles[:0], tiles...)
	return s.clearLocked(clearBuf, "clear vacated cells")
}

// newTileLocked returns a renderer state in the current mode. Expects s.mu held.
func (s *Screen) newTileLocked() *tileState {
	return &tileState{r: New(Options{Mode: s.opts.Mode, Tolerance: s.opts.Tolerance, KittyID: s.nextID()})}
}

// place gives the renderer the tile's rectangle, mirroring and occluders.
func (st *tileState) place(t Tile) {
	st.r.SetRect(t.Rect)
	st.r.SetMirror(t.Mirror)
	st.r.SetOcclusion(t.Occlude...)
}

// clearLocked writes, in one frame and at once, the blanking sequences clearBuf and
// the deletion of the kitty images in s.gone. Expects s.mu held.
func (s *Screen) clearLocked(clearBuf []byte, what string) error {
	if len(clearBuf) == 0 && len(s.gone) == 0 {
		return nil
	}
	buf := append([]byte(frameBegin), clearBuf...)
	for _, g := range s.gone {
		buf = append(buf, g...)
	}
	s.gone = s.gone[:0]
	buf = append(buf, "\x1b[m"+frameEnd...)
	if _, err := s.out.writeVideo(buf); err != nil {
		return fmt.Errorf("video: %s: %w", what, err)
	}
	return nil
}

// vacated returns the sequences blanking the cells the current tiles drew that the
// new tiles do not cover. Expects s.mu held.
func (s *Screen) vacated(next []Tile) []byte {
	var out []byte
	for _, old := range s.tiles {
		st := s.rends[old.ID]
		if st == nil || !st.seen || old.Rect.Empty() || st.r.Mode() == ModeKitty {
			continue
		}
		for y := old.Rect.Y; y < old.Rect.Y+old.Rect.H; y++ {
			run := 0
			flush := func(x int) {
				if run == 0 {
					return
				}
				out = fmt.Appendf(out, "\x1b[%d;%dH\x1b[m\x1b[%dX", y+1, x-run+1, run)
				run = 0
			}
			for x := old.Rect.X; x < old.Rect.X+old.Rect.W; x++ {
				if inAny(x, y, old.Occlude) || inAnyTile(x, y, next) {
					flush(x)
					continue
				}
				run++
			}
			flush(old.Rect.X + old.Rect.W)
		}
	}
	return out
}

func inAny(x, y int, rs []Rect) bool {
	for _, r := range rs {
		if x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H {
			return true
		}
	}
	return false
}

func inAnyTile(x, y int, ts []Tile) bool {
	for _, t := range ts {
		r := t.Rect
		if x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H && !inAny(x, y, t.Occlude) {
			return true
		}
	}
	return false
}

// Mode returns the drawing mode.
func (s *Screen) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.Mode
}

// SetMode switches the drawing mode (kitty graphics detected after start): what the
// tiles drew in the old mode is removed at once and they repaint in the new mode on
// the next frame. Call it from Bubble Tea's Update, like SetTiles. It returns a write
// error.
func (s *Screen) SetMode(m Mode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m == s.opts.Mode {
		return nil
	}
	clearBuf := s.vacated(nil)
	for _, st := range s.rends {
		if st.r.Mode() == ModeKitty {
			s.gone = append(s.gone, KittyDelete(st.r.opts.KittyID))
		}
	}
	s.opts.Mode = m
	for _, t := range s.tiles {
		st := s.newTileLocked()
		st.place(t)
		s.rends[t.ID] = st
	}
	return s.clearLocked(clearBuf, "clear for a mode change")
}

// Invalidate repaints every tile on the next frame (after a resize or a clear).
func (s *Screen) Invalidate() {
	s.mu.Lock()
	s.all = true
	s.mu.Unlock()
}

// Stats returns the counters.
func (s *Screen) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Draw renders the tiles whose source has a new frame (all of them after an erase or
// Invalidate) and writes the result in one write; it returns the bytes written.
func (s *Screen) Draw() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out.takeErased() {
		s.all = true
	}
	buf := append(s.buf[:0], frameBegin...)
	for _, g := range s.gone {
		buf = append(buf, g...)
	}
	s.gone = s.gone[:0]
	for _, t := range s.tiles {
		st := s.rends[t.ID]
		var img *image.YCbCr
		var seq uint64
		if src := t.Source; src != nil {
			if fs, ok := src.(*devices.FrameSlot); !ok || fs != nil { // a nil slot: no video
				img, seq = src.Load()
			}
		}
		if s.all {
			st.r.Invalidate()
		} else if st.seen && seq == st.seq && st.r.valid {
			continue
		}
		if st.seen && seq > st.seq+1 {
			s.stats.Skipped += seq - st.seq - 1
		}
		st.seq, st.seen = seq, true
		buf = st.r.Render(buf, img)
	}
	s.all = false
	s.buf = buf
	if len(buf) == len(frameBegin) {
		return 0, nil
	}
	buf = append(buf, frameEnd...)
	s.buf = buf
	n, err := s.out.writeVideo(buf)
	s.stats.Frames++
	s.stats.Bytes += uint64(n)
	if err != nil {
		// The terminal may hold part of the frame: repaint fully next time.
		s.all = true
		return n, fmt.Errorf("video: write frame: %w", err)
	}
	return n, nil
}

// Run draws frames at MaxFPS until ctx ends; it returns ctx's error, or the first
// write error. The caller owns the goroutine that runs it (the TUI starts it with the
// call screen and cancels ctx when the screen closes).
func (s *Screen) Run(ctx context.Context) error {
	interval := time.Second / time.Duration(s.opts.MaxFPS)
	t := time.NewTicker(interval) // drops ticks while a draw runs: no backlog
	defer t.Stop()
	var notBefore time.Time
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-t.C:
			if now.Before(notBefore) {
				continue
			}
			start := time.Now()
			if _, err := s.Draw(); err != nil {
				return err
			}
			// A slow write (a slow terminal or link) spaces the next frame by as
			// much again, so Bubble Tea's writes get the terminal in between.
			if d := time.Since(start); d > interval {
				notBefore = time.Now().Add(d)
			}
		}
	}
}

// nextID gives each tile its own kitty image ID. Expects s.mu held.
func (s *Screen) nextID() int {
	s.ids++
	return s.ids
}
