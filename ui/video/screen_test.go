package video

import (
	"bytes"
	"context"
	"errors"
	"image"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/devices"
)

// slot is a FrameSlot stand-in (devices.FrameSlot has the same Load).
type slot struct {
	mu  sync.Mutex
	img *image.YCbCr
	seq uint64
}

func (s *slot) Store(img *image.YCbCr) {
	s.mu.Lock()
	s.img, s.seq = img, s.seq+1
	s.mu.Unlock()
}

func (s *slot) Load() (*image.YCbCr, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.img, s.seq
}

func TestScreenDraw(t *testing.T) {
	var out bytes.Buffer
	lw := NewLockedWriter(&out)
	s := NewScreen(lw, ScreenOptions{Mode: ModeHalfBlock})
	remote, local := &slot{}, &slot{}
	l := Layout(Rect{W: 80, H: 24}, 1, true, 640, 480)
	if err := s.SetTiles([]Tile{
		{ID: "bob", Source: remote, Rect: l.Remotes[0].Video, Occlude: l.Occluders()},
		{ID: "local", Source: local, Rect: l.Local.Video, Mirror: true},
	}); err != nil || out.Len() != 0 {
		t.Fatalf("first SetTiles wrote %q, %v", out.String(), err)
	}
	remote.Store(moving(320, 240, 0))
	local.Store(moving(320, 240, 5))

	term := newVT(80, 24)
	term.x, term.y = 7, 9 // where Bubble Tea left its cursor
	draw := func() int {
		t.Helper()
		out.Reset()
		n, err := s.Draw()
		if err != nil {
			t.Fatal(err)
		}
		term.Write(out.Bytes())
		if term.err != nil {
			t.Fatal(term.err)
		}
		return n
	}
	if draw() == 0 {
		t.Fatal("first frame wrote nothing")
	}
	if !strings.HasPrefix(out.String(), frameBegin) || !strings.HasSuffix(out.String(), frameEnd) {
		t.Errorf("frame not wrapped in DECSC+2026 ... 2026+DECRC")
	}
	if term.x != 7 || term.y != 9 || term.sync != 0 {
		t.Errorf("cursor %d,%d sync %d after a frame", term.x, term.y, term.sync)
	}
	// The screen shows both tiles exactly, the remote one under the preview.
	ref := newVT(80, 24)
	for _, tl := range []struct {
		src  *slot
		rc   Rect
		mirr bool
	}{{remote, l.Remotes[0].Video, false}, {local, l.Local.Video, true}} {
		r := New(Options{Mirror: tl.mirr})
		r.SetRect(tl.rc)
		img, _ := tl.src.Load()
		ref.Write(r.Render(nil, img))
	}
	lab := l.Local.Label
	for i := range ref.cells {
		x, y := i%80, i/80
		if x >= lab.X && x < lab.X+lab.W && y == lab.Y {
			// The preview's label line belongs to the TUI: never written.
			if term.cells[i].ch != ' ' || term.cells[i].bg != (vcolor{}) {
				t.Fatalf("label cell %d,%d written: %+v", x, y, term.cells[i])
			}
			continue
		}
		if visual(ref.cells[i]) != visual(term.cells[i]) {
			t.Fatalf("cell %d,%d differs from painting the tiles in order", x, y)
		}
	}

	if n := draw(); n != 0 {
		t.Errorf("no new frame, wrote %d bytes", n)
	}
	remote.Store(moving(320, 240, 1))
	remote.Store(moving(320, 240, 2))
	full := len(ref.cells)
	if n := draw(); n == 0 || n > full*20 {
		t.Errorf("new frame wrote %d bytes", n)
	}
	if st := s.Stats(); st.Skipped != 1 || st.Frames != 2 {
		t.Errorf("stats %+v, want 1 skipped, 2 frames", st)
	}

	// Bubble Tea erasing the screen makes the next frame a full repaint.
	before := draw()
	lw.Write([]byte("\x1b[H\x1b[2J"))
	term.Write([]byte("\x1b[2J"))
	if n := draw(); n <= before {
		t.Errorf("after an erase the frame wrote %d bytes, want a full repaint", n)
	}
	top := l.Remotes[0].Video
	top.H = l.Local.Bounds().Y - top.Y // the part above the preview
	if _, err := term.pixels(top); err != nil {
		t.Errorf("remote tile not repainted after erase: %v", err)
	}
}

func TestMayErase(t *testing.T) {
	for s, want := range map[string]bool{
		"\x1b[2J": true, "abc\x1b[K": true, "\x1b[5X": true, "\x1b[?1049h": true,
		"\x1b[31mhello\x1b[m": false, "\x1b[?2026h\x1b[3;4H": false, "plain": false, "\x1b[": false,
	} {
		if got := mayErase([]byte(s)); got != want {
			t.Errorf("mayErase(%q) = %v", s, got)
		}
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("tty gone") }

func TestScreenRunStops(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	s := NewScreen(NewLockedWriter(&out), ScreenOptions{MaxFPS: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }() // ends when ctx is cancelled
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}

	src := &slot{}
	src.Store(solid(8, 8, 1, 2, 3))
	s2 := NewScreen(NewLockedWriter(errWriter{}), ScreenOptions{MaxFPS: 1000})
	_ = s2.SetTiles([]Tile{{ID: "a", Source: src, Rect: Rect{W: 4, H: 2}}})
	if err := s2.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "tty gone") {
		t.Errorf("Run returned %v, want the write error", err)
	}
}

// TestScreenSetTilesClears: cells a tile leaves are blanked at once, cells a new tile
// covers are painted by the next frame, and the picture-in-picture's label stays the
// TUI's.
func TestScreenSetTilesClears(t *testing.T) {
	var out bytes.Buffer
	s := NewScreen(NewLockedWriter(&out), ScreenOptions{})
	a, b := &slot{}, &slot{}
	a.Store(noise(64, 48, 1))
	b.Store(noise(64, 48, 2))
	term := newVT(60, 20)
	step := func(tiles []Tile) {
		t.Helper()
		out.Reset()
		if err := s.SetTiles(tiles); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Draw(); err != nil {
			t.Fatal(err)
		}
		term.Write(out.Bytes())
		if term.err != nil {
			t.Fatal(term.err)
		}
	}
	big := Layout(Rect{W: 60, H: 20}, 1, false, 64, 48)
	step([]Tile{{ID: "a", Source: a, Rect: big.Remotes[0].Video}})
	two := Layout(Rect{W: 60, H: 20}, 2, true, 64, 48)
	tiles := []Tile{
		{ID: "a", Source: a, Rect: two.Remotes[0].Video, Occlude: two.Occluders()},
		{ID: "b", Source: b, Rect: two.Remotes[1].Video, Occlude: two.Occluders()},
	}
	step(tiles)
	for y := range 20 {
		for x := range 60 {
			c := term.cells[y*60+x]
			if inAnyTile(x, y, tiles) {
				if c.bg.kind == 0 {
					t.Fatalf("tile cell %d,%d not painted", x, y)
				}
			} else if c.bg.kind != 0 {
				t.Fatalf("vacated cell %d,%d still shows video", x, y)
			}
		}
	}
	step(nil)
	for i, c := range term.cells {
		if c.bg.kind != 0 {
			t.Fatalf("cell %d still shows video after SetTiles(nil)", i)
		}
	}
}

// gateWriter blocks every write until the test lets it through, and hands each
// write's bytes to the test.
type gateWriter struct {
	writes chan []byte
	gate   chan struct{}
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.writes <- append([]byte(nil), p...)
	<-g.gate
	return len(p), nil
}

// TestScreenDropsWhileTerminalBlocks: frames that arrive while a write is stuck are
// not queued; the next write shows only the newest.
func TestScreenDropsWhileTerminalBlocks(t *testing.T) {
	defer goleak.VerifyNone(t)
	g := &gateWriter{writes: make(chan []byte), gate: make(chan struct{})}
	s := NewScreen(NewLockedWriter(g), ScreenOptions{MaxFPS: 1000})
	src := &slot{}
	rc := Rect{W: 20, H: 6}
	if err := s.SetTiles([]Tile{{ID: "a", Source: src, Rect: rc}}); err != nil {
		t.Fatal(err)
	}
	src.Store(moving(64, 48, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }() // ends with cancel below

	term := newVT(20, 6)
	term.Write(<-g.writes) // the first frame, stuck in the terminal
	for i := 1; i <= 5; i++ {
		src.Store(moving(64, 48, i*3))
	}
	g.gate <- struct{}{}
	term.Write(<-g.writes) // the next frame: only the newest
	cancel()
	g.gate <- struct{}{}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if st := s.Stats(); st.Frames != 2 || st.Skipped != 4 {
		t.Errorf("stats %+v, want 2 frames written and 4 skipped", st)
	}
	ref := New(Options{})
	ref.SetRect(rc)
	ref.Render(nil, moving(64, 48, 15))
	got, err := term.pixels(rc)
	if err != nil {
		t.Fatal(err)
	}
	if p := psnr(got, ref.pix, false); !math.IsInf(p, 1) {
		t.Errorf("screen is not the newest frame (PSNR %.1f)", p)
	}
}

// TestScreenNilSlot: a tile whose *devices.FrameSlot is nil draws black, no panic.
func TestScreenNilSlot(t *testing.T) {
	var out bytes.Buffer
	s := NewScreen(NewLockedWriter(&out), ScreenOptions{})
	var fs *devices.FrameSlot
	if err := s.SetTiles([]Tile{{ID: "a", Source: fs, Rect: Rect{W: 4, H: 2}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Draw(); err != nil || n == 0 {
		t.Fatalf("Draw = %d, %v", n, err)
	}
}

// TestNoAllocsPerFrame: once sizes are settled, drawing a frame allocates nothing.
func TestNoAllocsPerFrame(t *testing.T) {
	frames := sequence(moving, 320, 240, 4)
	var cw countWriter
	s := NewScreen(NewLockedWriter(&cw), ScreenOptions{})
	src := &slot{}
	if err := s.SetTiles([]Tile{{ID: "a", Source: src, Rect: Rect{W: 80, H: 24}, Occlude: []Rect{{X: 60, Y: 18, W: 20, H: 6}}}}); err != nil {
		t.Fatal(err)
	}
	i := 0
	step := func() {
		src.Store(frames[i%len(frames)])
		i++
		if _, err := s.Draw(); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 { // settle buffer sizes
		step()
	}
	if n := testing.AllocsPerRun(20, step); n != 0 {
		t.Errorf("%.1f allocations per frame", n)
	}
}

// TestScreenSetMode: switching to kitty blanks the cells the half blocks drew at once,
// and the next frame is a kitty image; switching back deletes the image.
func TestScreenSetMode(t *testing.T) {
	var out bytes.Buffer
	s := NewScreen(NewLockedWriter(&out), ScreenOptions{Mode: ModeHalfBlock})
	a := &slot{}
	a.Store(noise(64, 48, 1))
	if err := s.SetTiles([]Tile{{ID: "a", Source: a, Rect: Rect{X: 2, Y: 1, W: 20, H: 6}}}); err != nil {
		t.Fatal(err)
	}
	term := newVT(30, 10)
	if _, err := s.Draw(); err != nil {
		t.Fatal(err)
	}
	term.Write(out.Bytes())
	out.Reset()
	if err := s.SetMode(ModeKitty); err != nil {
		t.Fatal(err)
	}
	if s.Mode() != ModeKitty {
		t.Fatalf("mode %v", s.Mode())
	}
	term.Write(out.Bytes())
	for i, c := range term.cells {
		if c.bg.kind != 0 {
			t.Fatalf("cell %d still shows half blocks after the switch", i)
		}
	}
	out.Reset()
	if _, err := s.Draw(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\x1b_Ga=T") {
		t.Fatalf("no kitty image after the switch: %q", out.String())
	}
	out.Reset()
	if err := s.SetMode(ModeHalfBlock); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "a=d,d=I") {
		t.Fatalf("kitty image not deleted: %q", out.String())
	}
	if err := s.SetMode(ModeHalfBlock); err != nil { // no change: nothing written
		t.Fatal(err)
	}
}

// TestWriterDropsVideoOutsideAltScreen: once Bubble Tea leaves the alternate screen
// (quitting, or restoring the terminal after a panic) video frames are dropped, until
// it enters it again.
func TestWriterDropsVideoOutsideAltScreen(t *testing.T) {
	var out bytes.Buffer
	lw := NewLockedWriter(&out)
	s := NewScreen(lw, ScreenOptions{})
	a := &slot{}
	if err := s.SetTiles([]Tile{{ID: "a", Source: a, Rect: Rect{W: 4, H: 2}}}); err != nil {
		t.Fatal(err)
	}
	frame := func(i int) int {
		t.Helper()
		out.Reset()
		a.Store(noise(8, 8, i))
		if _, err := s.Draw(); err != nil {
			t.Fatal(err)
		}
		return out.Len()
	}
	_, _ = lw.Write([]byte("\x1b[?1049h\x1b[2J"))
	if frame(1) == 0 {
		t.Fatal("no frame in the alternate screen")
	}
	_, _ = lw.Write([]byte("\x1b[?25h\x1b[?1049l"))
	if n := frame(2); n != 0 {
		t.Fatalf("a frame of %d bytes after leaving the alternate screen", n)
	}
	_, _ = lw.Write([]byte("\x1b[?1049h"))
	if frame(3) == 0 {
		t.Fatal("no frame after entering the alternate screen again")
	}
}

// An erase is flagged only once it has reached the terminal: a frame drawn while
// Bubble Tea's erasing write waits for the lock must not consume the flag, or the
// erase would wipe that frame's cells with no repaint to follow.
func TestLockedWriterFlagsEraseAfterWriting(t *testing.T) {
	g := &gateWriter{writes: make(chan []byte), gate: make(chan struct{})}
	lw := NewLockedWriter(g)
	done := make(chan struct{})
	go func() { // ends when the gate opens below
		defer close(done)
		_, _ = lw.Write([]byte("\x1b[2J"))
	}()
	<-g.writes
	if lw.takeErased() {
		t.Fatal("erase flagged before it was written")
	}
	close(g.gate)
	<-done
	if !lw.takeErased() {
		t.Fatal("erase not flagged after it was written")
	}
}
