package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
)

// historyRecord is one call in the history.
type historyRecord struct {
	When     time.Time
	Kind     string // placed, received, missed, rejected, blocked
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

// addBlocked records a call that calls.accept_from declined without ringing. Repeats
// from the same caller fold into its newest record ("blocked ×3"), so that a stranger
// who keeps calling does not push the real calls out of the history.
func (h *historyModel) addBlocked(ev call.MissedCallEvent) {
	if len(h.records) > 0 {
		r := &h.records[0]
		if r.Kind == "blocked" && len(r.Peers) == 1 && r.Peers[0] == ev.User {
			n := 1
			fmt.Sscanf(r.Reason, "not a contact ×%d", &n)
			r.When, r.Reason = ev.Time, fmt.Sprintf("not a contact ×%d", n+1)
			h.seq++
			return
		}
	}
	h.add(historyRecord{When: ev.Time, Kind: "blocked", Peers: []call.UserID{ev.User}, CallType: ev.CallType, Reason: "not a contact"})
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
	case key.Matches(k, keys.Add):
		// One key adds a blocked caller as a contact (a subscription request): their
		// next call rings.
		if h.cursor < len(h.records) && h.records[h.cursor].Kind == "blocked" {
			who := string(h.records[h.cursor].Peers[0])
			j, err := jid.Parse(who)
			if err != nil {
				return func() tea.Msg { return opResultMsg{Op: "add contact", Err: fmt.Errorf("%q is not a JID", who)} }
			}
			acc := h.env.account
			return opCmd(h.env, "add contact", "asked "+j.Bare().String()+" to share presence", func(ctx context.Context) error {
				return acc.Subscribe(ctx, j.Bare())
			})
		}
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
	return []key.Binding{k.Up, k.Down, k.VideoCall, k.AudioCall, k.Add, k.Back}
}

// FullHelp implements help.KeyMap.
func (h *historyModel) FullHelp() [][]key.Binding {
	k := h.env.keys
	return [][]key.Binding{{k.Up, k.Down}, {k.VideoCall, k.AudioCall, k.Add}, {k.Back}}
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
		case "missed", "rejected", "blocked":
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
