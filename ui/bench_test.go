package ui

import (
	"image"
	"io"
	"testing"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

// movingFrames are n 640x480 frames of a diagonal gradient that shifts each frame,
// with a square moving across it: most cells change a little between frames.
func movingFrames(n int) []*image.YCbCr {
	out := make([]*image.YCbCr, n)
	for i := range out {
		img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
		for y := 0; y < 480; y++ {
			for x := 0; x < 640; x++ {
				v := uint8((x + y + 8*i) / 5)
				if x >= 40+12*i && x < 200+12*i && y >= 160 && y < 320 {
					v = 235
				}
				img.Y[y*img.YStride+x] = v
			}
		}
		for y := 0; y < 240; y++ {
			for x := 0; x < 320; x++ {
				img.Cb[y*img.CStride+x] = uint8(x/3 + 4*i)
				img.Cr[y*img.CStride+x] = uint8(y/2 + 20)
			}
		}
		out[i] = img
	}
	return out
}

// BenchmarkCallView measures one frame of the call screen at 160x45 with a remote tile
// and the local preview, moving scene: a new frame in both slots, the whole view
// (what Bubble Tea draws; in a call it runs once a second and on keys, not per frame,
// so this is an upper bound) and the video screen's frame written to a discarding
// terminal (what the video goroutine does 30 times a second).
func BenchmarkCallView(b *testing.B) {
	benchCall(b, true)
}

// BenchmarkCallVideoFrame is BenchmarkCallView without the view: the per-frame cost of
// a call once the layout is set.
func BenchmarkCallVideoFrame(b *testing.B) {
	benchCall(b, false)
}

func benchCall(b *testing.B, view bool) {
	h := newHarness(b)
	scr := video.NewScreen(video.NewLockedWriter(io.Discard), video.ScreenOptions{Mode: video.ModeHalfBlock})
	h.m.env.video = scr
	h.key("enter")
	id := h.m.call.sessionID
	remote := &devices.FrameSlot{}
	preview := h.eng.session(id).local.Preview
	h.event(call.RemoteStreamEvent{EventMeta: meta(id, "bob@example.org"), Stream: &call.RemoteStream{Kind: devices.KindVideo, Video: remote}})
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, "bob@example.org"), State: call.ConnectionConnected})
	if len(h.m.tiles) != 2 {
		b.Fatalf("tiles %+v", h.m.tiles)
	}
	frames := movingFrames(30)
	var bytes uint64
	i := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		remote.Store(frames[i%len(frames)])
		preview.Store(frames[(i+7)%len(frames)])
		i++
		if view {
			_ = h.m.View()
		}
		if _, err := scr.Draw(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	bytes = scr.Stats().Bytes
	b.ReportMetric(float64(bytes)/float64(max(scr.Stats().Frames, 1)), "B/frame")
}
