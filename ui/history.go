package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
)

// historyRecord is one call in the history.
type historyRecord struct {
	When     time.Time
	Kind     string // placed, received, missed, rejected
	Peers    []call.UserID
	CallType call.CallType
	Duration time.Duration // connected time; 0 when never connected
	Reason   string        // why it ended
}

// historyModel lists the calls, newest first: this run's and, when a store is set,
// the earlier ones read from the history file.
type historyModel struct {
	env     *env
	records []historyRecord
	cursor  int

	store  *historyStore // nil: not persisted
	loaded bool          // the file was read (saving waits for it: it would lose the old calls)
	seq    uint64        // grows with every change
	issued uint64        // the last seq handed to a save
}

// maxHistory bounds the list.
const maxHistory = 500

func newHistory(e *env) historyModel { return historyModel{env: e} }

func (h *historyModel) add(r historyRecord) {
	h.records = append([]historyRecord{r}, h.records...)
	if len(h.records) > maxHistory {
		h.records = h.records[:maxHistory]
	}
	h.seq++
}

// merge puts the calls read from the file behind this run's.
func (h *historyModel) merge(older []historyRecord) {
	if len(h.records) > 0 {
		h.seq++ // this run's calls are not in the file yet
	}
	h.records = append(h.records, older...)
	if len(h.records) > maxHistory {
		h.records = h.records[:maxHistory]
	}
	h.loaded = true
}

// saveCmd writes the history when it changed since the last save.
func (h *historyModel) saveCmd() tea.Cmd {
	if h.store == nil || !h.loaded || h.seq == h.issued {
		return nil
	}
	h.issued = h.seq
	return saveHistoryCmd(h.store, h.seq, append([]historyRecord(nil), h.records...))
}

func (h *historyModel) update(k tea.KeyPressMsg) tea.Cmd {
	keys := h.env.keys
	switch {
	case key.Matches(k, keys.Up):
		if h.cursor > 0 {
			h.cursor--
		}
	case key.Matches(k, keys.Down):
		if h.cursor < len(h.records)-1 {
			h.cursor++
		}
	case key.Matches(k, keys.Back):
		return func() tea.Msg { return showScreenMsg{screen: screenContacts} }
	case key.Matches(k, keys.VideoCall), key.Matches(k, keys.AudioCall):
		// Call back the peers of the selected record.
		if h.cursor < len(h.records) {
			t := call.CallTypeVideo
			if key.Matches(k, keys.AudioCall) {
				t = call.CallTypeAudio
			}
			msg := startCallMsg{Opponents: h.records[h.cursor].Peers, CallType: t}
			return func() tea.Msg { return msg }
		}
	}
	return nil
}

// ShortHelp implements help.KeyMap.
func (h *historyModel) ShortHelp() []key.Binding {
	k := h.env.keys
	return []key.Binding{k.Up, k.Down, k.VideoCall, k.AudioCall, k.Back}
}

// FullHelp implements help.KeyMap.
func (h *historyModel) FullHelp() [][]key.Binding {
	k := h.env.keys
	return [][]key.Binding{{k.Up, k.Down}, {k.VideoCall, k.AudioCall}, {k.Back}}
}

func (h *historyModel) view(w, ht int, names map[call.UserID]string) string {
	st := h.env.styles
	if len(h.records) == 0 {
		return st.Muted.Render("  no calls yet")
	}
	var b strings.Builder
	b.WriteString(st.Muted.Render(fmt.Sprintf("  %-12s %-9s %-6s %-8s %s", "when", "kind", "type", "duration", "with · how it ended")) + "\n")
	avail := max(ht-1, 1)
	start := 0
	if h.cursor >= avail {
		start = h.cursor - avail + 1
	}
	for i := start; i < len(h.records) && i < start+avail; i++ {
		r := h.records[i]
		var peers []string
		for _, p := range r.Peers {
			peers = append(peers, nameOf(p, names))
		}
		dur := "-"
		if r.Duration > 0 {
			dur = fmtDuration(r.Duration)
		}
		kind := r.Kind
		switch kind {
		case "missed", "rejected":
			kind = st.StateBad.Render(fmt.Sprintf("%-9s", kind))
		default:
			kind = fmt.Sprintf("%-9s", kind)
		}
		// Date and time on every row: the file keeps calls of earlier days.
		when := r.When.Local().Format("Jan 02 15:04")
		line := fmt.Sprintf(" %-12s %s %-6s %-8s %s", when, kind, callTypeName(r.CallType), dur, strings.Join(peers, ", "))
		if r.Reason != "" {
			line += st.Muted.Render("  " + r.Reason)
		}
		if i == h.cursor {
			line = st.Selected.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(line + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
