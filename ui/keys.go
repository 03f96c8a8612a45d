package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// KeyMap holds every key binding of the interface. Screens expose the subsets that apply
// to them through help.KeyMap, so `?` is generated from these bindings.
type KeyMap struct {
	// Global.
	Quit key.Binding
	// Interrupt quits even while a text input has focus (where Quit's q is a letter).
	Interrupt key.Binding
	Help      key.Binding

	// Lists (contacts, history).
	Up   key.Binding
	Down key.Binding

	// Contacts.
	VideoCall key.Binding
	AudioCall key.Binding
	Mark      key.Binding
	Add       key.Binding
	Filter    key.Binding
	Approve   key.Binding
	Deny      key.Binding
	Remove    key.Binding
	History   key.Binding

	// Text inputs (filter, add contact).
	Submit key.Binding
	Cancel key.Binding

	// Incoming call.
	AcceptVideo key.Binding
	AcceptAudio key.Binding
	RejectCall  key.Binding

	// In a call.
	Mute   key.Binding
	Camera key.Binding
	Stats  key.Binding
	Hangup key.Binding
	Log    key.Binding

	// History.
	Back key.Binding
}

// DefaultKeyMap returns the bindings of the issue.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit (hangs up)")),
		Interrupt: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),

		Up:   key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("↑/k", "up")),
		Down: key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("↓/j", "down")),

		VideoCall: key.NewBinding(key.WithKeys("enter", "v"), key.WithHelp("enter/v", "video call")),
		AudioCall: key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "audio call")),
		Mark:      key.NewBinding(key.WithKeys("space"), key.WithHelp("space", "mark for group call")),
		Add:       key.NewBinding(key.WithKeys("+"), key.WithHelp("+", "add contact")),
		Filter:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Approve:   key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "approve request")),
		Deny:      key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "deny request")),
		Remove:    key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "remove contact")),
		History:   key.NewBinding(key.WithKeys("tab", "H"), key.WithHelp("tab/H", "call history")),

		Submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),

		AcceptVideo: key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "accept with video")),
		AcceptAudio: key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "accept audio-only")),
		RejectCall:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "reject")),

		Mute:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mute/unmute mic")),
		Camera: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "camera on/off")),
		Stats:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "stats")),
		Hangup: key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hang up")),
		Log:    key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "event log")),

		Back: key.NewBinding(key.WithKeys("tab", "H", "esc"), key.WithHelp("tab/esc", "contacts")),
	}
}

// helpKeys is a help.KeyMap built from bindings (the active screen's plus the global ones).
type helpKeys struct {
	short []key.Binding
	full  [][]key.Binding
	// keep are the essential bindings of short: a narrow hint line drops the others
	// first (compared by their help key).
	keep []key.Binding
}

func (h helpKeys) kept(b key.Binding) bool {
	for _, k := range h.keep {
		if k.Help().Key == b.Help().Key {
			return true
		}
	}
	return false
}

// hintSep separates the items of the hint line, as help.Model does.
const hintSep = " • "

// hintLine renders the short help as one line of at most w cells. When it does not
// fit, the bindings that are not essential are left out, the last first (screens list
// theirs most important first); then the essential ones lose their descriptions
// ("h • ? • q"); only then is the line cut.
func hintLine(st help.Styles, h helpKeys, w int) string {
	var items []key.Binding
	for _, b := range h.short {
		if b.Enabled() && b.Help().Key != "" {
			items = append(items, b)
		}
	}
	render := func(items []key.Binding, descs bool) string {
		parts := make([]string, 0, len(items))
		for _, b := range items {
			p := st.ShortKey.Render(b.Help().Key)
			if descs && b.Help().Desc != "" {
				p += " " + st.ShortDesc.Render(b.Help().Desc)
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, st.ShortSeparator.Render(hintSep))
	}
	for {
		line := render(items, true)
		if ansi.StringWidth(line) <= w {
			return line
		}
		drop := -1
		for i := len(items) - 1; i >= 0; i-- {
			if !h.kept(items[i]) {
				drop = i
				break
			}
		}
		if drop < 0 {
			break
		}
		items = append(items[:drop:drop], items[drop+1:]...)
	}
	return ansi.Truncate(render(items, false), w, "…")
}

// helpGrid renders every binding of groups as a table of "key desc" cells that wraps
// into as many rows as the width needs (help.Model's full view cuts columns instead).
func helpGrid(st help.Styles, groups [][]key.Binding, w int) string {
	type cell struct{ k, d string }
	var cells []cell
	keyW := 0
	for _, g := range groups {
		for _, b := range g {
			if !b.Enabled() || b.Help().Key == "" {
				continue
			}
			cells = append(cells, cell{b.Help().Key, b.Help().Desc})
			keyW = max(keyW, ansi.StringWidth(b.Help().Key))
		}
	}
	if len(cells) == 0 {
		return ""
	}
	cellW := 0
	for _, c := range cells {
		cellW = max(cellW, keyW+1+ansi.StringWidth(c.d))
	}
	const gap = 3
	cols := max(1, (w+gap)/(cellW+gap))
	rows := (len(cells) + cols - 1) / cols
	lines := make([]string, rows)
	for i, c := range cells {
		r, col := i%rows, i/rows
		text := ansi.Truncate(fmt.Sprintf("%-*s %s", keyW, c.k, c.d), w, "…")
		k := ansi.Truncate(text, keyW, "")
		d := ansi.TruncateLeft(text, keyW, "")
		if col > 0 {
			lines[r] += strings.Repeat(" ", gap)
		}
		pad := ""
		if col < cols-1 && i+rows < len(cells) {
			pad = strings.Repeat(" ", max(cellW-ansi.StringWidth(text), 0))
		}
		lines[r] += st.FullKey.Render(k) + st.FullDesc.Render(d) + pad
	}
	return strings.Join(lines, "\n")
}

func (h helpKeys) ShortHelp() []key.Binding  { return h.short }
func (h helpKeys) FullHelp() [][]key.Binding { return h.full }

// hint is an inline reminder of bindings ("y accept with video · n reject"), written
// from their help so that it follows the key map.
func hint(bindings ...key.Binding) string {
	parts := make([]string, 0, len(bindings))
	for _, b := range bindings {
		if h := b.Help(); b.Enabled() && h.Key != "" {
			parts = append(parts, h.Key+" "+h.Desc)
		}
	}
	return strings.Join(parts, " · ")
}
