package headless

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/ttycall/ttycall/call"
)

// Event names on stdout (a fixed interface: scripts match on them).
const (
	EvOnline          = "online"
	EvOffline         = "offline"
	EvCall            = "call"
	EvAccept          = "accept"
	EvReject          = "reject"
	EvStop            = "stop"
	EvUserNotAnswer   = "user_not_answer"
	EvSessionClose    = "session_close"
	EvConnectionState = "connection_state"
	EvReconnect       = "reconnect"
	EvRemoteStream    = "remote_stream"
	EvStats           = "stats"
	EvUpdate          = "update"
	EvInvalidEvent    = "invalid_event"
	EvCallBlocked     = "call_blocked" // a call from someone calls.accept_from keeps out
	EvError           = "error"
)

// Line is one JSON object written on stdout. time, event, session and user are always
// present; the others only where they apply.
type Line struct {
	Time    string `json:"time"`
	Event   string `json:"event"`
	Session string `json:"session"`
	User    string `json:"user"`

	State    string `json:"state,omitempty"`     // connection_state, reconnect
	Kind     string `json:"kind,omitempty"`      // remote_stream
	Ext      any    `json:"ext,omitempty"`       // call, accept, reject, stop, update
	CallType string `json:"call_type,omitempty"` // call, accept, reject, stop: "audio" | "video"
	Message  string `json:"message,omitempty"`   // error, invalid_event, offline, connection_state FAILED
	Reason   string `json:"reason,omitempty"`    // session_close
	Op       string `json:"op,omitempty"`        // invalid_event

	Display string `json:"display,omitempty"` // room mode: a participant's name

	Initiator string   `json:"initiator,omitempty"` // call
	Opponents []string `json:"opponents,omitempty"` // call

	// stats
	Local     *mediaJSON     `json:"local,omitempty"`
	Remote    *mediaJSON     `json:"remote,omitempty"`
	RTTMillis *float64       `json:"rtt_ms,omitempty"`
	Candidate *candidateJSON `json:"candidate,omitempty"`
	// AvailableOutgoingBitrate: the congestion controller's estimate (bit/s).
	AvailableOutgoingBitrate float64 `json:"availableOutgoingBitrate,omitempty"`
}

type mediaJSON struct {
	Audio trackJSON `json:"audio"`
	Video trackJSON `json:"video"`
}

type trackJSON struct {
	BitrateKbps float64 `json:"bitrate_kbps"`
	Bytes       uint64  `json:"bytes"`
	Packets     uint64  `json:"packets"`
	PacketsLost int64   `json:"packets_lost"`
	Jitter      float64 `json:"jitter"`
	FPS         float64 `json:"fps,omitempty"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	// As getStats names them.
	NACKCount                 uint64  `json:"nackCount,omitempty"`
	PLICount                  uint64  `json:"pliCount,omitempty"`
	FreezeCount               uint64  `json:"freezeCount,omitempty"`
	TotalFreezesDuration      float64 `json:"totalFreezesDuration,omitempty"`       // seconds
	JitterBufferDelayMs       float64 `json:"jitterBufferDelay_ms,omitempty"`       // mean per frame (video) or sample (audio)
	JitterBufferTargetDelayMs float64 `json:"jitterBufferTargetDelay_ms,omitempty"` // audio: mean per sample
	TotalSamplesReceived      uint64  `json:"totalSamplesReceived,omitempty"`
	ConcealedSamples          uint64  `json:"concealedSamples,omitempty"`
	ConcealmentEvents         uint64  `json:"concealmentEvents,omitempty"`
	InsertedSamples           uint64  `json:"insertedSamplesForDeceleration,omitempty"`
	RemovedSamples            uint64  `json:"removedSamplesForAcceleration,omitempty"`
	QualityLimitationReason   string  `json:"qualityLimitationReason,omitempty"`
}

type candidateJSON struct {
	Protocol      string `json:"protocol"`
	LocalType     string `json:"local_type"`
	LocalAddress  string `json:"local_address"`
	LocalPort     int    `json:"local_port"`
	RemoteType    string `json:"remote_type"`
	RemoteAddress string `json:"remote_address"`
	RemotePort    int    `json:"remote_port"`
	RelayProtocol string `json:"relay_protocol,omitempty"` // udp, tcp or tls: how our relay is reached
}

// queueLen is how many lines wait for a slow stdout before lines are dropped.
const queueLen = 4096

// emitter writes Lines to stdout from a goroutine of its own, one Write per line, so
// each reaches stdout whole and at once. A reader that does not keep up (or a stdout
// nobody reads) never blocks the event loop, which must still hang up on SIGTERM: up to
// queueLen lines wait; past that, lines are dropped and counted, and an error event
// says how many as soon as there is room again.
type emitter struct {
	w   io.Writer // written by the writer goroutine only
	now func() time.Time

	mu      sync.Mutex
	queue   chan []byte   // guarded by mu for sending and closing
	dropped int           // guarded by mu: lines dropped since the last notice
	closed  bool          // guarded by mu
	done    chan struct{} // closed when the writer goroutine has written the last line

	broken     chan struct{} // closed when stdout is a pipe whose reader has gone
	brokenOnce sync.Once
}

func newEmitter(w io.Writer) *emitter {
	e := &emitter{w: w, now: time.Now, queue: make(chan []byte, queueLen), done: make(chan struct{}), broken: make(chan struct{})}
	go e.write() // ends when close has closed the queue and the queue is written
	return e
}

func (e *emitter) write() {
	defer close(e.done)
	f, _ := e.w.(interface{ Flush() error })
	for b := range e.queue {
		if _, err := e.w.Write(b); errors.Is(err, syscall.EPIPE) {
			e.brokenOnce.Do(func() { close(e.broken) })
		} // other errors lose the line
		if f != nil {
			f.Flush()
		}
	}
}

// emit queues l; it never blocks on stdout.
func (e *emitter) emit(l Line) {
	if l.Time == "" {
		l.Time = e.now().UTC().Format(time.RFC3339Nano)
	}
	b := marshalLine(l)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	// Only emit sends, under mu, so the free room cannot shrink between check and send.
	free := cap(e.queue) - len(e.queue)
	if e.dropped > 0 {
		if free < 2 {
			e.dropped++
			return
		}
		e.queue <- marshalLine(Line{Time: l.Time, Event: EvError, Message: fmt.Sprintf("%d events dropped: stdout is not read fast enough", e.dropped)})
		e.dropped = 0
		free--
	}
	if free < 1 {
		e.dropped++
		return
	}
	e.queue <- b
}

// close stops taking lines and waits up to timeout for the queued ones to be written
// (a stdout nobody reads would block for ever; the process is about to exit then). It
// reports whether everything was written.
func (e *emitter) close(timeout time.Duration) bool {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.queue)
	}
	e.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-e.done:
		return true
	case <-t.C:
		return false
	}
}

func marshalLine(l Line) []byte {
	b, err := json.Marshal(l)
	if err != nil { // only for an Ext value that is not JSON; say so instead
		b, _ = json.Marshal(Line{Time: l.Time, Event: EvError, Session: l.Session, User: l.User, Message: "event " + l.Event + ": " + err.Error()})
	}
	return append(b, '\n')
}

func (e *emitter) errorf(session, user, msg string) {
	e.emit(Line{Event: EvError, Session: session, User: user, Message: msg})
}

func callTypeName(t call.CallType) string {
	switch t {
	case call.CallTypeAudio:
		return "audio"
	case call.CallTypeVideo:
		return "video"
	default:
		return ""
	}
}

// extOrEmpty makes a received extension always appear as an object.
func extOrEmpty(x call.Extension) any {
	if x == nil {
		return map[string]any{}
	}
	return x
}

func meta(ev call.Event, name string) Line {
	m := ev.Meta()
	l := Line{Event: name, Session: m.SessionID, User: string(m.User)}
	if !m.Time.IsZero() {
		l.Time = m.Time.UTC().Format(time.RFC3339Nano)
	}
	return l
}

// callLine turns an engine event into its stdout line; ok is false for events that are
// not part of the interface (session state changes).
func callLine(ev call.Event) (Line, bool) {
	switch e := ev.(type) {
	case call.CallEvent:
		l := meta(ev, EvCall)
		l.Ext, l.CallType = extOrEmpty(e.Ext), callTypeName(e.CallType)
		l.Initiator = string(e.InitiatorID)
		for _, id := range e.OpponentIDs {
			l.Opponents = append(l.Opponents, string(id))
		}
		return l, true
	case call.AcceptEvent:
		l := meta(ev, EvAccept)
		l.Ext, l.CallType = extOrEmpty(e.Ext), callTypeName(e.CallType)
		return l, true
	case call.RejectEvent:
		l := meta(ev, EvReject)
		l.Ext, l.CallType = extOrEmpty(e.Ext), callTypeName(e.CallType)
		return l, true
	case call.StopEvent:
		l := meta(ev, EvStop)
		l.Ext, l.CallType = extOrEmpty(e.Ext), callTypeName(e.CallType)
		return l, true
	case call.UserNotAnswerEvent:
		return meta(ev, EvUserNotAnswer), true
	case call.SessionCloseEvent:
		l := meta(ev, EvSessionClose)
		l.Reason = e.Reason
		return l, true
	case call.ConnectionStateEvent:
		l := meta(ev, EvConnectionState)
		l.State = e.State.String()
		l.Message = e.Reason
		return l, true
	case call.ReconnectEvent:
		l := meta(ev, EvReconnect)
		l.State = e.State.String()
		return l, true
	case call.RemoteStreamEvent:
		l := meta(ev, EvRemoteStream)
		if e.Stream != nil {
			l.Kind = e.Stream.Kind.String()
		}
		return l, true
	case call.UpdateEvent:
		l := meta(ev, EvUpdate)
		l.Ext = extOrEmpty(e.Ext)
		return l, true
	case call.MissedCallEvent:
		if e.Reason != "blocked" {
			return Line{}, false // busy and refused calls: their invalid_event says it
		}
		l := meta(ev, EvCallBlocked)
		l.CallType, l.Message = callTypeName(e.CallType), "not allowed to ring (calls.accept_from)"
		return l, true
	case call.InvalidEvent:
		l := meta(ev, EvInvalidEvent)
		l.Op = e.Op
		if e.Err != nil {
			l.Message = e.Err.Error()
		}
		return l, true
	case call.StatsEvent:
		l := meta(ev, EvStats)
		s := e.Stats
		l.Local, l.Remote = mediaOf(s.Local), mediaOf(s.Remote)
		rtt := float64(s.RTT.Microseconds()) / 1000
		l.RTTMillis = &rtt
		c := s.Candidate
		l.Candidate = &candidateJSON{c.Protocol, c.LocalType, c.LocalAddress, c.LocalPort, c.RemoteType, c.RemoteAddress, c.RemotePort, c.RelayProtocol}
		l.AvailableOutgoingBitrate = s.AvailableOutgoingBitrate
		return l, true
	default:
		return Line{}, false
	}
}

func mediaOf(m call.MediaStats) *mediaJSON {
	return &mediaJSON{Audio: trackOf(m.Audio), Video: trackOf(m.Video)}
}

func trackOf(t call.TrackStats) trackJSON {
	return trackJSON{
		t.BitrateKbps, t.Bytes, t.Packets, t.PacketsLost, t.Jitter, t.FPS, t.Width, t.Height,
		t.NACKCount, t.PLICount, t.FreezeCount, t.TotalFreezesDuration.Seconds(),
		float64(t.JitterBufferDelay.Microseconds()) / 1000, float64(t.JitterBufferTargetDelay.Microseconds()) / 1000,
		t.TotalSamplesReceived, t.ConcealedSamples, t.ConcealmentEvents,
		t.InsertedSamplesForDeceleration, t.RemovedSamplesForAcceleration,
		t.QualityLimitationReason,
	}
}
