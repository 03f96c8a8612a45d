package devices

import (
	"image"
	"testing"
	"time"
)

// TestAdapterLadder: a falling target lowers the frame rate first, then the size, one
// rung per stepDownAfter; a target with headroom climbs back, one rung per stepUpAfter.
func TestAdapterLadder(t *testing.T) {
	a := &adapter{w: 640, h: 480, fps: 30, target: 1_000_000}
	now := time.Now()
	step := func(bps int, d time.Duration) Quality {
		for end := now.Add(d); !now.After(end); now = now.Add(250 * time.Millisecond) {
			a.setTarget(bps, now)
		}
		return a.quality()
	}
	if q := step(1_000_000, 5*time.Second); q.Width != 640 || q.FPS != 30 || q.Limitation != "none" {
		t.Fatalf("at 1 Mbit/s: %+v", q)
	}
	// 200 kbit/s is below 640x480@30's need (276k) but enough for @15 (138k).
	if q := step(200_000, 3*time.Second); q.Width != 640 || q.FPS != 15 || q.Limitation != "bandwidth" {
		t.Fatalf("at 200 kbit/s: %+v, want 640x480@15", q)
	}
	// 60 kbit/s: 320x240@30 needs 69k, @15 35k.
	if q := step(60_000, 5*time.Second); q.Width != 320 || q.Height != 240 || q.FPS != 15 {
		t.Fatalf("at 60 kbit/s: %+v, want 320x240@15", q)
	}
	// Back to 1 Mbit/s: up again, not all at once.
	if q := step(1_000_000, time.Second); q.Width != 320 {
		t.Fatalf("climbed within a second: %+v", q)
	}
	if q := step(1_000_000, 20*time.Second); q.Width != 640 || q.FPS != 30 || q.Limitation != "none" {
		t.Fatalf("after 20 s at 1 Mbit/s: %+v", q)
	}
}

func TestDownscale(t *testing.T) {
	src := image.NewYCbCr(image.Rect(0, 0, 64, 48), image.YCbCrSubsampleRatio420)
	for i := range src.Y {
		src.Y[i] = byte(i % 2 * 200) // columns alternate 0 and 200
	}
	for i := range src.Cb {
		src.Cb[i], src.Cr[i] = 100, 150
	}
	d := downscale(src, 2, nil)
	if d.Rect.Dx() != 32 || d.Rect.Dy() != 24 {
		t.Fatalf("size %v", d.Rect)
	}
	if d.Y[0] != 100 || d.Y[len(d.Y)-1] != 100 || d.Cb[0] != 100 || d.Cr[0] != 150 {
		t.Errorf("box filter: Y %d..%d Cb %d Cr %d", d.Y[0], d.Y[len(d.Y)-1], d.Cb[0], d.Cr[0])
	}
	if same := downscale(src, 1, nil); same != src {
		t.Error("scale 1 copied")
	}
}
