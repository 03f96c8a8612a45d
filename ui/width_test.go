package ui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/call"
)

// hintRow is the key-hint line of the screen (the line above the status bar).
func (h *harness) hintRow() string {
	lines := strings.Split(h.screen(), "\n")
	return lines[len(lines)-2]
}

// At every width the hint line keeps the essential keys and stays on one line.
func TestHintsKeepEssentialKeys(t *testing.T) {
	for _, w := range []int{160, 80, 60, 40} {
		h := newHarness(t)
		h.send(tea.WindowSizeMsg{Width: w, Height: 24})
		row := h.hintRow()
		if ansi.StringWidth(row) > w {
			t.Errorf("%d columns: hint line %d wide: %q", w, ansi.StringWidth(row), row)
		}
		for _, k := range []string{"enter/v", "?", "q"} {
			if !strings.Contains(row, k) {
				t.Errorf("%d columns: contacts hints lost %q: %q", w, k, row)
			}
		}
		h.key("enter") // call Bob
		row = h.hintRow()
		for _, k := range []string{"h", "?", "q"} {
			if !strings.Contains(row, k) {
				t.Errorf("%d columns: call hints lost %q: %q", w, k, row)
			}
		}
		if w >= 60 && !strings.Contains(row, "h hang up") {
			t.Errorf("%d columns: %q", w, row)
		}
	}
}

// A text input takes ? and q as text: its hint line does not offer them.
func TestTextInputHintsOmitHelpAndQuit(t *testing.T) {
	h := newHarness(t)
	h.key("/")
	row := h.hintRow()
	if strings.Contains(row, "? help") || strings.Contains(row, "q quit") {
		t.Fatalf("filter hints offer ? or q: %q", row)
	}
	if !strings.Contains(row, "esc") || !strings.Contains(row, "ctrl+c") {
		t.Fatalf("filter hints: %q", row)
	}
	h.key("q")
	equal(t, h.m.quitting, false)
	equal(t, h.m.contacts.filter.Value(), "q")
}

// The help wraps into more rows at 60 columns instead of cutting entries.
func TestHelpWrapsAtNarrowWidth(t *testing.T) {
	h := newHarness(t)
	h.send(tea.WindowSizeMsg{Width: 60, Height: 40})
	h.key("?")
	scr := h.screen()
	for _, want := range []string{"mark for group call", "approve request", "call history", "quit (hangs up)", "log file:"} {
		if !strings.Contains(scr, want) {
			t.Errorf("help at 60 columns lacks %q:\n%s", want, scr)
		}
	}
	for _, l := range strings.Split(scr, "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Errorf("line wider than 60: %q", l)
		}
	}
	for _, l := range strings.Split(scr, "\n") {
		if strings.Contains(l, "│") && strings.Contains(l, "…") {
			t.Errorf("help cut: %q", l)
		}
	}
}

// The stats box keeps its border (both corners of every row) at 60 columns.
func TestStatsBoxKeepsBorderAt60(t *testing.T) {
	h := newHarness(t)
	h.send(tea.WindowSizeMsg{Width: 60, Height: 30})
	id := inCall(t, h)
	h.key("s")
	h.event(call.StatsEvent{EventMeta: meta(id, "bob@example.org"), Stats: call.Stats{
		RTT:       23 * time.Millisecond,
		Remote:    call.MediaStats{Video: call.TrackStats{BitrateKbps: 812, FPS: 29.5, Width: 640, Height: 480, PacketsLost: 3}},
		Local:     call.MediaStats{Video: call.TrackStats{BitrateKbps: 900, FPS: 30, Width: 640, Height: 480}},
		Candidate: call.CandidatePair{Protocol: "udp", LocalType: "host", RemoteType: "host"},
	}})
	h.mustSee("812 kbps")
	var top, bottom, sides int
	for _, l := range strings.Split(h.screen(), "\n") {
		switch {
		case strings.Contains(l, "╭") && strings.Contains(l, "╮"):
			top++
		case strings.Contains(l, "╰") && strings.Contains(l, "╯"):
			bottom++
		case strings.Count(l, "│") >= 2:
			sides++
		}
	}
	if top != 1 || bottom != 1 || sides < 2 {
		t.Fatalf("stats box border broken (top %d bottom %d sides %d):\n%s", top, bottom, sides, h.screen())
	}
}
