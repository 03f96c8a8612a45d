package ui

import (
	"image"
	"testing"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
)

// BenchmarkCallView measures one frame of the call screen at 160x45 with a remote tile
// and the local preview drawn through the view (what every redraw tick costs).
func BenchmarkCallView(b *testing.B) {
	h := newHarness(b)
	cfg := config.Default()
	cfg.UI.Render = "halfblock"
	h.m.env.renderer = newRenderer(cfg, []string{"COLORTERM=truecolor"}, discardLog())
	h.key("enter")
	id := h.m.call.sessionID
	img := image.NewYCbCr(image.Rect(0, 0, 640, 480), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = uint8(i * 7)
	}
	remote := &devices.FrameSlot{}
	remote.Store(img)
	h.eng.session(id).local.Preview.Store(img)
	h.event(call.RemoteStreamEvent{EventMeta: meta(id, "bob@example.org"), Stream: &call.RemoteStream{Kind: devices.KindVideo, Video: remote}})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = h.m.View()
	}
}
