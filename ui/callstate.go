package ui

// What the call screen shows of each person besides their picture: who is being
// called or is offline, whose camera is off (initials instead of a flat box), who is
// reconnecting, and, in an audio call, the name, time, mute state and a level for each
// side.

import (
	"fmt"
	"image"
	"math"
	"strings"
	"time"
	"unicode"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/call"
)

// departGrace is how long a participant who left keeps their tile (with what they
// did: HUNG UP, REJECTED) before the layout closes over it.
const departGrace = time.Second

// refresh notes departures and what the pictures show; run on every event and tick.
func (c *callModel) refresh() {
	now := c.env.now()
	for _, p := range c.peers {
		if p.left() {
			if p.leftAt.IsZero() {
				p.leftAt = now
			}
		} else {
			p.leftAt = time.Time{}
		}
		if p.video != nil {
			if img, seq := p.video.Load(); seq != p.frameSeq {
				p.frameSeq = seq
				p.dark = img != nil && isDark(img)
			}
		}
	}
}

// visible are the peers the layout shows: all but those who left more than
// departGrace ago (every peer when that leaves none: the session is about to close).
func (c *callModel) visible() []*peer {
	now := c.env.now()
	var out []*peer
	for _, p := range c.peers {
		if p.leftAt.IsZero() || now.Sub(p.leftAt) < departGrace {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return c.peers
	}
	return out
}

// showsPicture reports whether p's tile shows their video; otherwise it shows a
// placeholder saying why not.
func (c *callModel) showsPicture(p *peer) bool {
	if c.callType == call.CallTypeAudio || p.left() || p.video == nil || p.dark {
		return false
	}
	switch p.stateText() {
	case "CALLING", "RINGING", "OFFLINE":
		return false
	}
	img, _ := p.video.Load()
	return img != nil
}

// isDark reports whether a frame is black (a camera switched off sends black frames):
// no sampled luma above a dark room's.
func isDark(img *image.YCbCr) bool {
	b := img.Bounds()
	if b.Empty() {
		return true
	}
	const n = 12
	for i := range n {
		for j := range n {
			x := b.Min.X + (2*i+1)*b.Dx()/(2*n)
			y := b.Min.Y + (2*j+1)*b.Dy()/(2*n)
			if img.Y[img.YOffset(x, y)] > 40 {
				return false
			}
		}
	}
	return true
}

// initials of a display name: "Bob" -> "B", "alice smith" -> "AS", "carol@x" -> "C".
func initials(name string) string {
	name, _, _ = strings.Cut(name, " (") // nameOf's "(address)"
	name, _, _ = strings.Cut(name, "@")
	var out []rune
	for _, f := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out = append(out, unicode.ToUpper([]rune(f)[0]))
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// placeholder is what a tile without a picture shows, centred in w x h cells.
func (c *callModel) placeholder(p *peer, w, h int) string {
	st := c.env.styles
	name := displayOf(p.id, c.names)
	var lines []string
	switch p.stateText() {
	case "CALLING", "RINGING":
		lines = []string{st.Title.Render("Calling " + name + "…"), strings.ToLower(p.stateText()) + " " + fmtDuration(c.env.now().Sub(c.started)), st.Muted.Render("(" + c.env.keys.Hangup.Help().Key + " to cancel)")}
	case "OFFLINE":
		lines = []string{st.StateBad.Render(name + " is offline"), "calling anyway " + fmtDuration(c.env.now().Sub(c.started)), st.Muted.Render("(" + c.env.keys.Hangup.Help().Key + " to cancel)")}
	case "RECONNECTING":
		lines = []string{c.avatar(name, h), st.StateWarn.Render("reconnecting…")}
	default:
		why := "camera off"
		switch {
		case p.left():
			why = strings.ToLower(p.stateText())
		case p.video == nil:
			why = "no video"
		case !p.dark:
			if img, _ := p.video.Load(); img == nil {
				why = "waiting for video"
			}
		}
		lines = []string{c.avatar(name, h), st.Muted.Render(why)}
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, strings.Join(lines, "\n"))
}

// avatar is a boxed monogram (when the tile has rows for it) above the name.
func (c *callModel) avatar(name string, h int) string {
	st := c.env.styles
	if h < 6 {
		return st.Title.Render(initials(name)) + " " + name
	}
	box := st.Avatar.Render(initials(name))
	return lipgloss.JoinVertical(lipgloss.Center, box, name)
}

// displayOf is a contact's display name, or the address.
func displayOf(id call.UserID, names map[call.UserID]string) string {
	if n, ok := names[id]; ok && n != "" {
		return n
	}
	return string(id)
}

// audioPanel is an audio call's body for one person: the name large, the call time
// and state, and a level meter for each side with the microphone state.
func (c *callModel) audioPanel(p *peer, w, h int) string {
	st := c.env.styles
	name := displayOf(p.id, c.names)
	big := strings.Join(strings.Split(strings.ToUpper(name), ""), " ")
	if ansi.StringWidth(big) > w {
		big = name
	}
	t := "00:00"
	if !c.connectedAt.IsZero() {
		t = fmtDuration(c.env.now().Sub(c.connectedAt))
	}
	state := p.stateText()
	lines := []string{st.Title.Render(big), t + " · " + stateStyle(st, state).Render(state), ""}
	if p.left() || state == "CALLING" || state == "RINGING" || state == "OFFLINE" {
		if state != "OFFLINE" && !p.left() {
			lines[2] = st.Muted.Render("(" + c.env.keys.Hangup.Help().Key + " to cancel)")
		} else if state == "OFFLINE" {
			lines[2] = st.StateBad.Render(name + " is offline")
		}
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, strings.Join(lines, "\n"))
	}
	barW := min(20, max(w-20, 4))
	them, you := levelBar(0, barW), levelBar(0, barW)
	if p.hasStats {
		them = levelBar(p.stats.Remote.Audio.BitrateKbps, barW)
		you = levelBar(p.stats.Local.Audio.BitrateKbps, barW)
	}
	if c.env.levels != nil { // measured on the decoded audio: live
		l, _ := c.env.levels(p.id)
		them = meterBar(l, barW)
	}
	if c.local != nil && c.local.Audio != nil {
		if m, ok := c.local.Audio.(interface{ AudioLevel() float64 }); ok { // as sent
			you = meterBar(m.AudioLevel(), barW)
		}
	}
	mine := "mic on"
	if c.micMuted {
		mine = st.StateWarn.Render("mic muted")
	}
	theirs := ""
	if p.hasStats && p.stats.Remote.Audio.BitrateKbps < silentKbps {
		theirs = st.Muted.Render("silent")
	}
	if c.env.levels != nil {
		if l, ok := c.env.levels(p.id); !ok || l < 0.002 {
			theirs = st.Muted.Render("silent")
		} else {
			theirs = ""
		}
	}
	lines = append(lines, fmt.Sprintf("%-6s %s %s", ansi.Truncate(name, 6, "…"), them, theirs), fmt.Sprintf("%-6s %s %s", "you", you, mine))
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, w, "…")
	}
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, lipgloss.JoinVertical(lipgloss.Left, lines...))
}

// meterBar draws a measured RMS level (0..1 of full scale) on a dB scale: -60 dBFS
// empty, 0 dBFS full.
func meterBar(rms float64, w int) string {
	f := 0.0
	if rms > 0 {
		f = (20*math.Log10(rms) + 60) / 60
	}
	f = min(max(f, 0), 1)
	n := int(f*float64(w) + 0.5)
	return strings.Repeat("▮", n) + strings.Repeat("▯", w-n)
}

// silentKbps: below this an Opus stream carries silence (a muted microphone sends
// zeros, which Opus codes in a few bytes a frame).
const silentKbps = 4

// levelBar draws an audio level from the stream's bitrate: Opus's variable rate
// follows the signal (silence costs a few kbit/s, speech most of the 32 kbit/s
// target). It is an estimate refreshed with each stats report, not a VU meter.
func levelBar(kbps float64, w int) string {
	f := (kbps - silentKbps) / (32 - silentKbps)
	f = min(max(f, 0), 1)
	n := int(f*float64(w) + 0.5)
	return strings.Repeat("▮", n) + strings.Repeat("▯", w-n)
}
