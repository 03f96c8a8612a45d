package ui

import (
	"image"
	"strings"
	"testing"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
)

func TestVideoTilesDrawHalfBlocks(t *testing.T) {
	cfg := config.Default()
	cfg.UI.Render = "halfblock"
	r := newRenderer(cfg, []string{"TERM=xterm-kitty", "COLORTERM=truecolor"}, discardLog())
	slot := &devices.FrameSlot{}
	if s := r.Tile("remote:bob", slot, 20, 6); !strings.Contains(s, "waiting for video") {
		t.Fatalf("empty slot: %q", s)
	}
	img := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	for y := 0; y < 48; y++ { // rows differ, so cells need both halves
		for x := 0; x < 64; x++ {
			img.Y[y*img.YStride+x] = uint8(y * 5)
		}
	}
	slot.Store(img)
	s := r.Tile("remote:bob", slot, 20, 6)
	if got := strings.Count(s, "\n") + 1; got != 6 {
		t.Fatalf("%d lines, want 6", got)
	}
	if !strings.Contains(s, "▀") {
		t.Fatalf("no half blocks: %q", s)
	}
	for _, l := range strings.Split(stripANSI(s), "\n") {
		if n := len([]rune(l)); n != 20 {
			t.Fatalf("line of %d cells, want 20: %q", n, l)
		}
	}
	// Resizing the same tile works.
	if s := r.Tile("remote:bob", slot, 10, 3); strings.Count(s, "\n") != 2 {
		t.Fatalf("resized tile: %q", s)
	}
}
