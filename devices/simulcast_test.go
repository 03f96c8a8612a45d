package devices

import (
	"context"
	"image"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestSimulcastLayers: the three layers of a test-pattern track each carry packets;
// Single stops the reduced ones while the full layer goes on; Close ends it all.
func TestSimulcastLayers(t *testing.T) {
	s, err := GetUserMedia(context.Background(), MediaParams{Video: true},
		Options{Camera: SourceTest, Width: 320, Height: 240, FPS: 30, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sim, err := NewSimulcast(s.Video, "ttycall", 300_000, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var binds [3]*fakeBinding
	for i, tr := range sim.Tracks() {
		if tr.RID() != SimulcastRIDs[i] {
			t.Fatalf("track %d: rid %q", i, tr.RID())
		}
		binds[i] = &fakeBinding{id: tr.RID(), ssrc: webrtc.SSRC(i + 1), codec: vp8Codec}
		if _, err := tr.Bind(binds[i]); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: layer frames %v", what, sim.LayerFrames())
			}
			time.Sleep(20 * time.Millisecond) // polling the packet counts
		}
	}
	wait("every layer sends", func() bool {
		return len(binds[0].Packets()) > 0 && len(binds[1].Packets()) > 0 && len(binds[2].Packets()) > 0
	})
	sim.Single()
	n1, n2 := len(binds[1].Packets()), len(binds[2].Packets())
	h := len(binds[0].Packets())
	wait("the full layer goes on alone", func() bool { return len(binds[0].Packets()) > h+20 })
	if len(binds[1].Packets()) != n1 || len(binds[2].Packets()) != n2 {
		t.Errorf("reduced layers sent after Single: %d->%d, %d->%d", n1, len(binds[1].Packets()), n2, len(binds[2].Packets()))
	}
	sim.Close()
	if s.Video.(*localTrack).sim.Load() != nil {
		t.Error("still attached after Close")
	}
}

// TestHalve: the fast path agrees with downscale's box filter (which truncates where
// halve rounds: at most 1 apart), at odd sizes too.
func TestHalve(t *testing.T) {
	for _, sz := range [][2]int{{320, 240}, {322, 182}, {7, 9}} {
		src := image.NewYCbCr(image.Rect(0, 0, sz[0], sz[1]), image.YCbCrSubsampleRatio420)
		for i := range src.Y {
			src.Y[i] = byte(i * 7)
		}
		for i := range src.Cb {
			src.Cb[i], src.Cr[i] = byte(i*3), byte(255-i)
		}
		got, want := halve(src, nil), downscale(src, 2, nil)
		if got.Rect != want.Rect {
			t.Fatalf("%v: size %v, want %v", sz, got.Rect, want.Rect)
		}
		for _, p := range [][2][]byte{{got.Y, want.Y}, {got.Cb, want.Cb}, {got.Cr, want.Cr}} {
			for i := range p[0] {
				if d := int(p[0][i]) - int(p[1][i]); d < 0 || d > 1 {
					t.Fatalf("%v: byte %d: %d, box filter %d", sz, i, p[0][i], p[1][i])
				}
			}
		}
	}
	if halve(image.NewYCbCr(image.Rect(0, 0, 3, 3), image.YCbCrSubsampleRatio420), nil) != nil {
		t.Error("a 3x3 frame halved")
	}
}
