package ui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Palette is the interface's colours, kept apart from the styles that use them.
type Palette struct {
	Accent, Muted, Good, Warn, Bad, Text color.Color
}

// DefaultPalette uses the 16 ANSI colours so the terminal's theme decides the shades.
func DefaultPalette() Palette {
	return Palette{
		Accent: lipgloss.Color("6"),
		Muted:  lipgloss.Color("8"),
		Good:   lipgloss.Color("2"),
		Warn:   lipgloss.Color("3"),
		Bad:    lipgloss.Color("1"),
		Text:   lipgloss.Color("7"),
	}
}

// Styles holds every style of the interface.
type Styles struct {
	Title     lipgloss.Style
	Muted     lipgloss.Style
	Selected  lipgloss.Style
	Marked    lipgloss.Style
	StatusBar lipgloss.Style
	Error     lipgloss.Style
	Notice    lipgloss.Style

	// Presence dots.
	Online, Away, Busy, Offline lipgloss.Style

	// Connection states.
	StateGood, StateWarn, StateBad, StateIdle lipgloss.Style

	Avatar    lipgloss.Style // a monogram where a camera is off
	Prompt    lipgloss.Style // the incoming-call box
	Overlay   lipgloss.Style // stats overlay
	LogPane   lipgloss.Style
	HelpPanel lipgloss.Style
	Help      help.Styles
}

// DefaultStyles builds the styles from the palette.
func DefaultStyles() Styles {
	p := DefaultPalette()
	return Styles{
		Title:     lipgloss.NewStyle().Bold(true).Foreground(p.Accent),
		Muted:     lipgloss.NewStyle().Foreground(p.Muted),
		Selected:  lipgloss.NewStyle().Bold(true).Reverse(true),
		Marked:    lipgloss.NewStyle().Foreground(p.Warn).Bold(true),
		StatusBar: lipgloss.NewStyle().Foreground(p.Text).Reverse(true),
		Error:     lipgloss.NewStyle().Foreground(p.Bad).Bold(true),
		Notice:    lipgloss.NewStyle().Foreground(p.Warn),

		Online:  lipgloss.NewStyle().Foreground(p.Good),
		Away:    lipgloss.NewStyle().Foreground(p.Warn),
		Busy:    lipgloss.NewStyle().Foreground(p.Bad),
		Offline: lipgloss.NewStyle().Foreground(p.Muted),

		StateGood: lipgloss.NewStyle().Foreground(p.Good).Bold(true),
		StateWarn: lipgloss.NewStyle().Foreground(p.Warn).Bold(true),
		StateBad:  lipgloss.NewStyle().Foreground(p.Bad).Bold(true),
		StateIdle: lipgloss.NewStyle().Foreground(p.Muted),

		Avatar:    lipgloss.NewStyle().Bold(true).Foreground(p.Accent).Border(lipgloss.RoundedBorder()).BorderForeground(p.Muted).Padding(1, 3),
		Prompt:    lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(p.Accent).Padding(0, 2),
		Overlay:   lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(p.Warn).Padding(0, 1),
		LogPane:   lipgloss.NewStyle().Border(lipgloss.NormalBorder(), true, false, false, false).BorderForeground(p.Muted),
		HelpPanel: lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(p.Muted).Padding(0, 1),
		Help:      help.DefaultDarkStyles(),
	}
}
