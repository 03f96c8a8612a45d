package ui

import "github.com/ttycall/ttycall/config"

// newRenderer picks the tile renderer for the configured mode ([ui] render).
func newRenderer(cfg *config.Config, environ []string) TileRenderer {
	return placeholderRenderer{}
}
