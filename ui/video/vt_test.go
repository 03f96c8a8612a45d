package video

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// vt is a minimal terminal emulator for the sequences this package emits: CUP, CUF,
// SGR 0/38/48/39/49 (truecolor and 256), DECSC/DECRC, DECSET/DECRST 2026, ED, kitty
// APC, and printable text including U+2580. Anything else is an error, so a test
// notices a sequence it did not expect.
type vt struct {
	w, h   int
	cells  []vcell
	x, y   int
	fg, bg vcolor
	saved  struct {
		x, y   int
		fg, bg vcolor
	}
	sync    int // depth of mode 2026; must stay 0 or 1
	syncOps int // number of 2026 set/reset pairs seen
	kitty   [][]byte
	outside int // glyphs written outside the screen
	err     error
}

type vcolor struct {
	kind byte // 0 default, 't' truecolor, 'i' palette
	v    uint32
}

type vcell struct {
	ch     rune
	fg, bg vcolor
}

func newVT(w, h int) *vt {
	v := &vt{w: w, h: h, cells: make([]vcell, w*h)}
	for i := range v.cells {
		v.cells[i].ch = ' '
	}
	return v
}

func (v *vt) fail(format string, a ...any) {
	if v.err == nil {
		v.err = fmt.Errorf(format, a...)
	}
}

func (v *vt) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		switch {
		case p[0] == 0x1b && len(p) > 1 && p[1] == '[':
			j := 2
			for j < len(p) && (p[j] >= '0' && p[j] <= '9' || p[j] == ';' || p[j] == '?') {
				j++
			}
			if j == len(p) {
				v.fail("truncated CSI %q", p)
				return n, nil
			}
			v.csi(string(p[2:j]), p[j])
			p = p[j+1:]
		case p[0] == 0x1b && len(p) > 1 && (p[1] == '7' || p[1] == '8'):
			if p[1] == '7' {
				v.saved.x, v.saved.y, v.saved.fg, v.saved.bg = v.x, v.y, v.fg, v.bg
			} else {
				v.x, v.y, v.fg, v.bg = v.saved.x, v.saved.y, v.saved.fg, v.saved.bg
			}
			p = p[2:]
		case p[0] == 0x1b && len(p) > 1 && p[1] == '_':
			end := bytes.Index(p, []byte("\x1b\\"))
			if end < 0 {
				v.fail("unterminated APC")
				return n, nil
			}
			v.kitty = append(v.kitty, append([]byte(nil), p[2:end]...))
			p = p[end+2:]
		case p[0] == 0x1b:
			v.fail("unknown escape %q", p[:min(len(p), 8)])
			return n, nil
		case p[0] == '\n':
			v.x, v.y = 0, v.y+1
			p = p[1:]
		case p[0] == '\r':
			v.x = 0
			p = p[1:]
		case p[0] < 0x20:
			v.fail("control byte %#x", p[0])
			p = p[1:]
		default:
			r, size := utf8.DecodeRune(p)
			if v.x >= 0 && v.x < v.w && v.y >= 0 && v.y < v.h {
				v.cells[v.y*v.w+v.x] = vcell{ch: r, fg: v.fg, bg: v.bg}
			} else {
				v.outside++
			}
			v.x++
			p = p[size:]
		}
	}
	return n, nil
}

func params(s string) []int {
	if s == "" {
		return nil
	}
	var out []int
	for _, f := range strings.Split(s, ";") {
		if f == "" {
			out = append(out, 0)
			continue
		}
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

func (v *vt) csi(par string, final byte) {
	switch final {
	case 'H':
		ps := params(par)
		row, col := 1, 1
		if len(ps) > 0 && ps[0] > 0 {
			row = ps[0]
		}
		if len(ps) > 1 && ps[1] > 0 {
			col = ps[1]
		}
		v.x, v.y = col-1, row-1
	case 'C':
		ps := params(par)
		k := 1
		if len(ps) > 0 && ps[0] > 0 {
			k = ps[0]
		}
		v.x = min(v.x+k, v.w-1)
	case 'X':
		ps := params(par)
		k := 1
		if len(ps) > 0 && ps[0] > 0 {
			k = ps[0]
		}
		for i := v.x; i < min(v.x+k, v.w); i++ {
			if v.y >= 0 && v.y < v.h && i >= 0 {
				v.cells[v.y*v.w+i] = vcell{ch: ' ', bg: v.bg}
			}
		}
	case 'J':
		if par == "2" {
			for i := range v.cells {
				v.cells[i] = vcell{ch: ' '}
			}
		}
	case 'h', 'l':
		if par != "?2026" {
			v.fail("unexpected mode %s%c", par, final)
			return
		}
		if final == 'h' {
			v.sync++
			if v.sync > 1 {
				v.fail("nested mode 2026")
			}
		} else {
			v.sync--
			v.syncOps++
			if v.sync < 0 {
				v.fail("mode 2026 reset without set")
			}
		}
	case 'm':
		ps := params(par)
		if len(ps) == 0 {
			v.fg, v.bg = vcolor{}, vcolor{}
		}
		for i := 0; i < len(ps); i++ {
			switch p := ps[i]; {
			case p == 0:
				v.fg, v.bg = vcolor{}, vcolor{}
			case p == 39:
				v.fg = vcolor{}
			case p == 49:
				v.bg = vcolor{}
			case (p == 38 || p == 48) && i+1 < len(ps):
				var c vcolor
				switch ps[i+1] {
				case 2:
					if i+4 >= len(ps) {
						v.fail("short SGR %s", par)
						return
					}
					c = vcolor{'t', uint32(ps[i+2])<<16 | uint32(ps[i+3])<<8 | uint32(ps[i+4])}
					i += 4
				case 5:
					if i+2 >= len(ps) {
						v.fail("short SGR %s", par)
						return
					}
					c = vcolor{'i', uint32(ps[i+2])}
					i += 2
				default:
					v.fail("bad SGR %s", par)
					return
				}
				if p == 38 {
					v.fg = c
				} else {
					v.bg = c
				}
			default:
				v.fail("unexpected SGR %d in %s", p, par)
			}
		}
	default:
		v.fail("unexpected CSI %s%c", par, final)
	}
}

func (c vcolor) rgb() (uint32, bool) {
	switch c.kind {
	case 't':
		return c.v, true
	case 'i':
		return palette256[c.v], true
	}
	return 0, false
}

// pixels reconstructs the half-block picture of rect: 2 pixels per cell.
func (v *vt) pixels(rc Rect) ([]uint32, error) {
	out := make([]uint32, rc.W*rc.H*2)
	for y := range rc.H {
		for x := range rc.W {
			c := v.cells[(rc.Y+y)*v.w+rc.X+x]
			bg, ok := c.bg.rgb()
			if !ok {
				return nil, fmt.Errorf("cell %d,%d has the default background", x, y)
			}
			top := bg
			switch c.ch {
			case ' ':
			case '▀':
				fg, ok := c.fg.rgb()
				if !ok {
					return nil, fmt.Errorf("cell %d,%d has the default foreground", x, y)
				}
				top = fg
			default:
				return nil, fmt.Errorf("cell %d,%d holds %q", x, y, c.ch)
			}
			out[2*y*rc.W+x] = top
			out[(2*y+1)*rc.W+x] = bg
		}
	}
	return out, nil
}

// text returns the glyphs of rect, one line per row.
func (v *vt) text(rc Rect) string {
	var b strings.Builder
	for y := range rc.H {
		for x := range rc.W {
			b.WriteRune(v.cells[(rc.Y+y)*v.w+rc.X+x].ch)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// kittyImage decodes the last kitty image sent: its keys and its RGB pixels.
func (v *vt) kittyImage() (map[string]string, []byte, error) {
	keys := map[string]string{}
	var payload []byte
	start := -1
	for i := len(v.kitty) - 1; i >= 0; i-- {
		if strings.Contains(string(v.kitty[i]), "a=T") {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, nil, fmt.Errorf("no kitty transmission")
	}
	for i, cmd := range v.kitty[start:] {
		head, data, _ := strings.Cut(strings.TrimPrefix(string(cmd), "G"), ";")
		if len(data) > kittyChunk {
			return nil, nil, fmt.Errorf("chunk %d holds %d bytes", i, len(data))
		}
		for _, kv := range strings.Split(head, ",") {
			k, val, _ := strings.Cut(kv, "=")
			keys[k] = val
		}
		payload = append(payload, data...)
		if keys["m"] == "0" {
			break
		}
	}
	z, err := base64.StdEncoding.DecodeString(string(payload))
	if err != nil {
		return nil, nil, err
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, nil, err
	}
	rgb, err := io.ReadAll(zr)
	return keys, rgb, err
}
