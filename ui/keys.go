package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
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
