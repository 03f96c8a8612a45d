package video

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/devices"
)

func TestTiles(t *testing.T) {
	tl := NewTiles(Options{Mode: ModeKitty})
	check := func(s string, w, h int) {
		t.Helper()
		lines := strings.Split(s, "\n")
		if len(lines) != h {
			t.Fatalf("%d lines, want %d", len(lines), h)
		}
		for i, l := range lines {
			if ansi.StringWidth(l) != w {
				t.Fatalf("line %d is %d wide, want %d: %q", i, ansi.StringWidth(l), w, l)
			}
		}
	}
	s := tl.Tile("x", nil, 20, 5)
	check(s, 20, 5)
	if !strings.Contains(s, "no video") {
		t.Errorf("nil slot: %q", s)
	}
	slot := &devices.FrameSlot{}
	if s := tl.Tile("x", slot, 20, 5); !strings.Contains(s, "waiting for video") {
		t.Errorf("empty slot: %q", s)
	}
	slot.Store(moving(64, 48, 1))
	a := tl.Tile("x", slot, 20, 5)
	check(a, 20, 5)
	if !strings.Contains(a, upperHalf) && !strings.Contains(a, "\x1b[48;2;") {
		t.Errorf("frame not drawn in half blocks: %q", a)
	}
	if b := tl.Tile("x", slot, 20, 5); b != a {
		t.Error("same frame drew different text")
	}
	slot.Store(moving(64, 48, 9))
	if b := tl.Tile("x", slot, 20, 5); b == a {
		t.Error("new frame drew the same text")
	}
	check(tl.Tile("x", slot, 7, 2), 7, 2)
	if tl.Tile("x", slot, 0, 3) != "" {
		t.Error("zero width drew something")
	}
	tl.Forget("x")
}
