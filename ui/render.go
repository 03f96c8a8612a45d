package ui

import (
	"log/slog"

	"charm.land/lipgloss/v2"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

// videoTiles draws tiles with ui/video "through the view": each tile's lines are part of
// the Bubble Tea view, which diffs them. Kitty graphics cannot travel through a view, so
// that mode falls back to half blocks here. Not safe for concurrent use: View runs on the
// program's goroutine only.
type videoTiles struct {
	mode      video.Mode
	renderers map[string]*video.Renderer
}

// newRenderer picks the tile renderer for the configured mode ([ui] render).
func newRenderer(cfg *config.Config, environ []string, log *slog.Logger) TileRenderer {
	mode, err := video.ParseMode(cfg.UI.Render, environ)
	if err != nil {
		log.Warn("render mode", "err", err)
		mode = video.DetectMode(environ)
	}
	if mode == video.ModeKitty {
		mode = video.ModeHalfBlock
	}
	log.Info("video render mode", "mode", mode)
	return &videoTiles{mode: mode, renderers: map[string]*video.Renderer{}}
}

// Tile implements TileRenderer.
func (v *videoTiles) Tile(id string, slot *devices.FrameSlot, w, h int) string {
	var text string
	if slot == nil {
		text = "no video"
	} else if img, _ := slot.Load(); img == nil {
		text = "waiting for video"
	} else {
		r := v.renderers[id]
		if r == nil {
			r = video.New(video.Options{Mode: v.mode}) // the local preview comes mirrored already
			v.renderers[id] = r
		}
		if rc := r.Rect(); rc.W != w || rc.H != h {
			r.SetRect(video.Rect{W: w, H: h})
		}
		return r.View(img)
	}
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, text)
}
