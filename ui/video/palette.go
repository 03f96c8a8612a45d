package video

// The xterm 256-colour palette: a 6x6x6 cube from index 16 and a 24-step grey ramp
// from index 232. Quantization picks the nearer of the cube colour and the grey, which
// keeps skin tones and shadows from turning into coloured bands.

var cubeLevels = [6]uint8{0, 95, 135, 175, 215, 255}

// cubeIndex maps a channel value to the nearest cube level.
var cubeIndex = func() (t [256]uint8) {
	for v := range 256 {
		best, bd := 0, 1<<30
		for i, l := range cubeLevels {
			if d := (v - int(l)) * (v - int(l)); d < bd {
				best, bd = i, d
			}
		}
		t[v] = uint8(best)
	}
	return t
}()

// palette256 holds the RGB (0xRRGGBB) of indexes 16..255; 0..15 are themable and not used.
var palette256 = func() (p [256]uint32) {
	for i := 16; i < 232; i++ {
		c := i - 16
		r, g, b := cubeLevels[c/36], cubeLevels[c/6%6], cubeLevels[c%6]
		p[i] = uint32(r)<<16 | uint32(g)<<8 | uint32(b)
	}
	for i := 232; i < 256; i++ {
		v := uint32(8 + 10*(i-232))
		p[i] = v<<16 | v<<8 | v
	}
	return p
}()

func dist2(a, b uint32) int {
	dr := int(a>>16&0xff) - int(b>>16&0xff)
	dg := int(a>>8&0xff) - int(b>>8&0xff)
	db := int(a&0xff) - int(b&0xff)
	return dr*dr + dg*dg + db*db
}

// quantize256 returns the palette index nearest to c (0xRRGGBB).
func quantize256(c uint32) uint32 {
	r, g, b := c>>16&0xff, c>>8&0xff, c&0xff
	ci := 16 + 36*uint32(cubeIndex[r]) + 6*uint32(cubeIndex[g]) + uint32(cubeIndex[b])
	avg := (r + g + b) / 3
	gi := uint32(232)
	if avg > 8 {
		gi = 232 + min((avg-8+5)/10, 23)
	}
	if dist2(c, palette256[gi]) < dist2(c, palette256[ci]) {
		return gi
	}
	return ci
}

// asciiRamp orders glyphs from dark to light (on a dark terminal background).
const asciiRamp = " .:-=+*#%@"

// asciiLevel maps the mean of two pixels to a ramp index by Rec. 601 luma.
func asciiLevel(top, bot uint32) uint32 {
	l := luma(top) + luma(bot)
	return min(l*uint32(len(asciiRamp))/512, uint32(len(asciiRamp)-1))
}

func luma(c uint32) uint32 {
	return (299*(c>>16&0xff) + 587*(c>>8&0xff) + 114*(c&0xff) + 500) / 1000
}
