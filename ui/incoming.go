package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/config"
)

// ringing is one incoming call waiting for an answer.
type ringing struct {
	SessionID string
	Caller    call.UserID
	CallType  call.CallType
	Others    []call.UserID // the other participants (not us, not the caller)
	Since     time.Time
	// Left are the other participants who left before we answered, with what they
	// did; the call screen starts them in that state (the engine sends no more about
	// them).
	Left map[call.UserID]leftCall
}

// leftCall is how a participant left a call that rings for us.
type leftCall struct {
	Phase string // the call screen's: REJECTED, HUNG UP, NO ANSWER
	Did   string // for the prompt and the event log: rejected, hung up, did not answer
}

// record is the history entry of a call that rang and was not taken.
func (r ringing) record(kind string) historyRecord {
	return historyRecord{When: r.Since, Kind: kind, Peers: append([]call.UserID{r.Caller}, r.Others...), CallType: r.CallType}
}

type (
	// answerMsg asks the root to accept a ringing call.
	answerMsg struct {
		ring  ringing
		video bool
	}
	// ringTickMsg updates the ringing time and expires unanswered calls.
	ringTickMsg struct{}
)

// incomingModel is the incoming-call prompt: a queue of ringing calls (at most
// incoming_limit), the first of which is shown and answered by keys.
type incomingModel struct {
	env      *env
	queue    []ringing
	ticking  bool      // a ringTickMsg is on its way
	expired  []ringing // dropped by the answer timeout, for the history
	rejected []ringing // rejected by the user, for the history
	// inCall reports whether a call is live: accepting then ends it, and the prompt
	// says so. nil: never.
	inCall func() bool
}

func newIncoming(e *env) incomingModel { return incomingModel{env: e} }

func (m *incomingModel) active() bool { return len(m.queue) > 0 }

func (m *incomingModel) has(id string) bool {
	for _, r := range m.queue {
		if r.SessionID == id {
			return true
		}
	}
	return false
}

// push queues a call and rings: a bell and a desktop notification escape.
func (m *incomingModel) push(msg call.CallEvent, acc Account) tea.Cmd {
	var self call.UserID
	if acc != nil {
		self = acc.LocalID()
	}
	r := ringing{SessionID: msg.SessionID, Caller: msg.InitiatorID, CallType: msg.CallType, Since: m.env.now()}
	if r.Caller == "" {
		r.Caller = msg.User
	}
	for _, id := range msg.OpponentIDs {
		if id != self && id != r.Caller {
			r.Others = append(r.Others, id)
		}
	}
	m.queue = append(m.queue, r)
	cmds := []tea.Cmd{notifyCmd(fmt.Sprintf("%s call from %s", callTypeName(r.CallType), r.Caller))}
	if !m.ticking {
		m.ticking = true
		cmds = append(cmds, m.ringTick())
	}
	return tea.Batch(cmds...)
}

// notifyCmd rings the terminal bell and sends OSC 9 (iTerm2, Windows Terminal, kitty)
// and OSC 777 (rxvt, foot, Ghostty) desktop notifications.
func notifyCmd(text string) tea.Cmd {
	text = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ';' {
			return ' '
		}
		return r
	}, text)
	return tea.Raw("\a\x1b]9;ttycall: " + text + "\x07\x1b]777;notify;ttycall;" + text + "\x07")
}

func (m *incomingModel) ringTick() tea.Cmd {
	return m.env.tick(time.Second, func(time.Time) tea.Msg { return ringTickMsg{} })
}

func (m *incomingModel) answerTimeout() time.Duration {
	if d := m.env.cfg.Calls.AnswerTimeInterval.Duration(); d > 0 {
		return d
	}
	return config.Default().Calls.AnswerTimeInterval.Duration()
}

// tick drops calls that rang past the answer timeout (the engine closes them too; this
// keeps the prompt honest if that event is late) and keeps ticking while calls ring.
func (m *incomingModel) tick(ringTickMsg) tea.Cmd {
	now := m.env.now()
	limit := m.answerTimeout()
	kept := m.queue[:0]
	for _, r := range m.queue {
		if now.Sub(r.Since) > limit+2*time.Second {
			m.expired = append(m.expired, r)
			m.env.log.Info("incoming call expired", "session", r.SessionID)
			continue
		}
		kept = append(kept, r)
	}
	m.queue = kept
	if len(m.queue) == 0 {
		m.ticking = false
		return nil
	}
	return m.ringTick()
}

func (m *incomingModel) takeExpired() []ringing {
	e := m.expired
	m.expired = nil
	return e
}

func (m *incomingModel) takeRejected() []ringing {
	r := m.rejected
	m.rejected = nil
	return r
}

func (m *incomingModel) remove(id string) (ringing, bool) {
	for i, r := range m.queue {
		if r.SessionID == id {
			m.queue = append(m.queue[:i:i], m.queue[i+1:]...)
			return r, true
		}
	}
	return ringing{}, false
}

// handle applies a session message to a ringing call; gone reports that the caller gave
// up (or the engine closed the session) and the prompt dropped it.
//
// Another participant's reject, hang up or no answer leaves the call ringing: the prompt
// and then the call screen show that they left.
func (m *incomingModel) handle(msg call.Event) (ringing, bool) {
	var user call.UserID
	var left leftCall
	switch msg := msg.(type) {
	case call.SessionCloseEvent:
		return m.remove(msg.SessionID)
	case call.StopEvent:
		user, left = msg.User, leftCall{"HUNG UP", "hung up"}
	case call.RejectEvent:
		user, left = msg.User, leftCall{"REJECTED", "rejected"}
	case call.UserNotAnswerEvent:
		user, left = msg.User, leftCall{"NO ANSWER", "did not answer"}
	default:
		return ringing{}, false
	}
	for i := range m.queue {
		r := &m.queue[i]
		if r.SessionID != msg.Session() {
			continue
		}
		if user == "" || user == r.Caller {
			return m.remove(r.SessionID) // the caller gave up
		}
		if r.Left == nil {
			r.Left = map[call.UserID]leftCall{}
		}
		r.Left[user] = left
	}
	return ringing{}, false
}

// update handles y / A / n for the first ringing call; ok is false for other keys.
// names are the contacts' display names.
func (m *incomingModel) update(k tea.KeyPressMsg, names map[call.UserID]string) (tea.Cmd, bool) {
	if len(m.queue) == 0 {
		return nil, false
	}
	keys := m.env.keys
	r := m.queue[0]
	switch {
	case key.Matches(k, keys.AcceptVideo):
		m.remove(r.SessionID)
		msg := answerMsg{ring: r, video: r.CallType != call.CallTypeAudio}
		return func() tea.Msg { return msg }, true
	case key.Matches(k, keys.AcceptAudio):
		m.remove(r.SessionID)
		msg := answerMsg{ring: r, video: false}
		return func() tea.Msg { return msg }, true
	case key.Matches(k, keys.RejectCall):
		m.remove(r.SessionID)
		m.rejected = append(m.rejected, r)
		eng := m.env.engine
		return opCmd(m.env, "reject", "rejected the call from "+nameOf(r.Caller, names), func(context.Context) error {
			s := eng.Session(r.SessionID)
			if s == nil {
				return nil
			}
			return s.Reject(nil)
		}), true
	}
	return nil, false
}

// ShortHelp implements help.KeyMap. An audio call offers no "accept with video"; during
// a call, accepting says that it ends the current one.
func (m *incomingModel) ShortHelp() []key.Binding {
	k := m.env.keys
	video, audio := k.AcceptVideo, k.AcceptAudio
	ending := m.inCall != nil && m.inCall()
	if len(m.queue) > 0 && m.queue[0].CallType == call.CallTypeAudio {
		desc := "accept"
		if ending {
			desc = "accept and end the current call"
		}
		return []key.Binding{relabel(video, desc), k.RejectCall}
	}
	if ending {
		video = relabel(video, "accept and end the current call")
		audio = relabel(audio, "the same, audio-only")
	}
	return []key.Binding{video, audio, k.RejectCall}
}

// relabel is b with another description.
func relabel(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// FullHelp implements help.KeyMap.
func (m *incomingModel) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// view draws the prompt for the first ringing call.
func (m *incomingModel) view(w int, names map[call.UserID]string) string {
	if len(m.queue) == 0 {
		return ""
	}
	st := m.env.styles
	r := m.queue[0]
	ringFor := m.env.now().Sub(r.Since).Truncate(time.Second)
	lines := []string{
		st.Title.Render(fmt.Sprintf("Incoming %s call from %s", callTypeName(r.CallType), nameOf(r.Caller, names))),
	}
	if len(r.Others) > 0 {
		var others []string
		for _, o := range r.Others {
			if l, ok := r.Left[o]; ok {
				others = append(others, nameOf(o, names)+" · "+l.Did)
			} else {
				others = append(others, nameOf(o, names))
			}
		}
		lines = append(lines, "with "+strings.Join(others, ", "))
	}
	lines = append(lines, fmt.Sprintf("ringing for %s", fmtDuration(ringFor)))
	lines = append(lines, hint(m.ShortHelp()...))
	if n := len(m.queue) - 1; n > 0 {
		lines = append(lines, st.Notice.Render(fmt.Sprintf("%d more call(s) waiting", n)))
	}
	box := st.Prompt
	if w > 4 {
		box = box.MaxWidth(w)
	}
	return box.Render(strings.Join(lines, "\n"))
}

func callTypeName(t call.CallType) string {
	if t == call.CallTypeAudio {
		return "audio"
	}
	return "video"
}

func nameOf(id call.UserID, names map[call.UserID]string) string {
	if n, ok := names[id]; ok && n != "" && n != string(id) {
		return n + " (" + string(id) + ")"
	}
	return string(id)
}

func fmtDuration(d time.Duration) string {
	d = d.Truncate(time.Second)
	h := int(d / time.Hour)
	mnt := int(d/time.Minute) % 60
	s := int(d/time.Second) % 60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, mnt, s)
	}
	return fmt.Sprintf("%02d:%02d", mnt, s)
}
