package video

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is how frames are drawn.
type Mode int

// Modes. ModeAuto is resolved by ParseMode / DetectMode before a Renderer uses it; a
// Renderer given ModeAuto draws half blocks with 24-bit colour.
const (
	ModeAuto Mode = iota
	// ModeHalfBlock draws two pixels per cell with U+2580 and 24-bit colour.
	ModeHalfBlock
	// ModeHalfBlock256 is ModeHalfBlock with the xterm 256-colour palette.
	ModeHalfBlock256
	// ModeASCII draws one luminance character per cell, no colour.
	ModeASCII
	// ModeKitty sends the picture with the kitty graphics protocol.
	ModeKitty
)

func (m Mode) String() string {
	switch m {
	case ModeAuto:
		return "auto"
	case ModeHalfBlock:
		return "halfblock"
	case ModeHalfBlock256:
		return "halfblock256"
	case ModeASCII:
		return "ascii"
	case ModeKitty:
		return "kitty"
	default:
		return fmt.Sprintf("Mode(%d)", int(m))
	}
}

// ErrBadMode is returned by ParseMode for an unknown [ui] render value.
var ErrBadMode = errors.New("video: unknown render mode")

// ParseMode turns the config's [ui] render value ("auto", "halfblock", "halfblock256",
// "kitty", "ascii") into a Mode; "auto" and "" are resolved with DetectMode(env).
// "halfblock" on a terminal without truecolor becomes ModeHalfBlock256 because 24-bit
// SGR on such a terminal shows wrong colours, not just fewer.
func ParseMode(s string, env []string) (Mode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return DetectMode(env), nil
	case "halfblock":
		if !hasTruecolor(env) {
			return ModeHalfBlock256, nil
		}
		return ModeHalfBlock, nil
	case "halfblock256", "256":
		return ModeHalfBlock256, nil
	case "ascii":
		return ModeASCII, nil
	case "kitty":
		return ModeKitty, nil
	default:
		return ModeAuto, fmt.Errorf("%w: %q", ErrBadMode, s)
	}
}

// DetectMode picks a mode from the environment (os.Environ() form): kitty graphics for
// terminals known to implement it, else half blocks in truecolor or 256 colours, and
// ASCII for TERM=dumb/linux/vt*. A terminal query (KittyQuery) can upgrade the choice
// to ModeKitty on terminals the environment does not reveal.
func DetectMode(env []string) Mode {
	term := getenv(env, "TERM")
	switch {
	case term == "dumb", term == "linux", strings.HasPrefix(term, "vt"):
		return ModeASCII
	case term == "xterm-kitty", getenv(env, "KITTY_WINDOW_ID") != "",
		strings.EqualFold(getenv(env, "TERM_PROGRAM"), "ghostty"), term == "xterm-ghostty":
		return ModeKitty
	case hasTruecolor(env):
		return ModeHalfBlock
	default:
		return ModeHalfBlock256
	}
}

func hasTruecolor(env []string) bool {
	ct := strings.ToLower(getenv(env, "COLORTERM"))
	return ct == "truecolor" || ct == "24bit"
}

func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}
