// Package video draws video frames in the terminal: it scales decoded frames
// (*image.YCbCr from the VP8 decoder, read from a devices.FrameSlot) down to a cell
// rectangle and turns them into escape sequences that rewrite only the cells that
// changed since the previous frame.
//
// Modes: upper-half-block glyphs with 24-bit colour (two pixels per cell, the
// default), the same with the xterm 256-colour palette (terminals without
// COLORTERM=truecolor), plain ASCII (a luminance ramp, no colour) and the kitty
// graphics protocol. Sixel is not offered: a sixel image cannot be updated
// partially, needs a palette per frame, and is too slow to keep 30 fps at call sizes.
//
// The package does not import Bubble Tea. Two ways to show video in a Bubble Tea
// program are supported; the benchmarks in this package compare them (see README.md):
//
//   - Direct (recommended): a Screen writes each tile's diff straight to the terminal
//     through a LockedWriter that Bubble Tea also writes through, wrapped in
//     DECSC/DECRC and synchronized output (mode 2026). Bubble Tea's view leaves the
//     video rectangles blank.
//   - Through the view: Renderer.View returns the tile as a string of lines that the
//     Bubble Tea View embeds; Bubble Tea's renderer then diffs it.
package video
