package headless

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/app"
)

// sessInfo is what the runner knows of one session.
type sessInfo struct {
	callType call.CallType
	incoming bool        // an incoming call
	placed   bool        // placed by --call or the call command
	answered bool        // incoming: we accepted or rejected it
	accepted bool        // placed: an opponent accepted; incoming: we accepted
	refused  bool        // placed: an opponent rejected or did not answer
	hangup   *time.Timer // --hangup-after
}

// runner is the event loop of one headless process. Everything but the stdin reader and
// the account runner happens on the goroutine of run.
type runner struct {
	o   *Options
	a   *app.App
	out *emitter
	log *slog.Logger

	callAtStart []call.UserID

	sessions map[string]*sessInfo
	pending  []string // incoming sessions waiting for accept/reject, oldest first
	online   bool
	// offlineSaid: offline was reported since the last online (or since the start).
	offlineSaid bool
	started     bool // callAtStart placed

	// --record: the mix of every remote audio stream, made at the first one; mixIn
	// decode the streams into it (their path holds the session ID).
	mixRec *devices.MixRecorder
	mixIn  []recording
	// perUser are --record-dir's recorders, one per remote audio stream, with what
	// removes each from its stream.
	perUser   []recording
	recordErr chan error // the recorder's first write error (capacity 1)

	hangupCh chan string   // session IDs whose --hangup-after timer fired
	done     chan struct{} // closed when the loop ends
}

func newRunner(o *Options, a *app.App, out *emitter, log *slog.Logger) *runner {
	if log == nil {
		log = discard
	}
	return &runner{
		o: o, a: a, out: out, log: log,
		sessions:  map[string]*sessInfo{},
		hangupCh:  make(chan string),
		recordErr: make(chan error, 1),
		done:      make(chan struct{}),
	}
}

// run keeps the account online and handles events and commands until an exit condition;
// then it hangs up, closes everything and returns the exit code.
func (r *runner) run(ctx context.Context, stdin io.Reader) int {
	// The account runs on its own context, not ctx: after SIGINT the engine must still
	// send its hangUps through it. app.Close cancels it and waits for this goroutine.
	runErr := make(chan error, 1)
	go func() { runErr <- r.a.Run(context.Background()) }()

	// The stdin reader ends at EOF or, once the loop is over, after its next line. A read
	// blocked on a terminal cannot be interrupted; Main does not wait for it.
	lines := make(chan stdinLine)
	if stdin != nil {
		go readLines(stdin, lines, r.done)
	}

	code := r.loop(ctx, runErr, lines)

	close(r.done)
	for _, s := range r.sessions {
		if s.hangup != nil {
			s.hangup.Stop()
		}
	}
	if r.closeApp() {
		// The engine's last events (the session_close of each call hung up by Close)
		// wait in its event channel, which Close has closed: report them.
		for ev := range r.a.CallEvents() {
			if l, ok := callLine(ev); ok {
				r.out.emit(l)
			}
		}
	}
	r.stopRecording()
	if !r.out.close(stdoutDrain) {
		r.log.Warn("stdout: events not written, nobody reads them", "waited", stdoutDrain)
	}
	return code
}

// closeWait bounds the wait for the app's Close at exit. Close hangs up every call
// first, which takes a signal round trip; but a login stuck on a server that accepted the
// connection and says nothing does not end with its context (mellium reads the stream
// header without a deadline), and SIGTERM must still end the process.
const closeWait = 5 * time.Second

// closeApp closes the app and reports whether Close finished within closeWait.
func (r *runner) closeApp() bool {
	closed := make(chan error, 1)
	go func() { closed <- r.a.Close() }() // ends with Close; abandoned at exit if stuck
	t := time.NewTimer(closeWait)
	defer t.Stop()
	select {
	case err := <-closed:
		if err != nil {
			r.log.Warn("close", "err", err)
		}
		return true
	case <-t.C:
		r.log.Warn("close: not done; exiting without it", "waited", closeWait)
		return false
	}
}

// stdoutDrain is how long the exit waits for the last events to reach a slow stdout.
const stdoutDrain = 2 * time.Second

// maxLine is the longest stdin line taken as a command; a longer one is an error event.
const maxLine = 1 << 20

// errLineTooLong stands for a stdin line longer than maxLine (skipped to its end).
var errLineTooLong = fmt.Errorf("stdin: line longer than %d bytes ignored", maxLine)

// stdinLine is one line of stdin, or errLineTooLong in err.
type stdinLine struct {
	text string
	err  error
}

// readLines sends each line of in (without its line end) until EOF or a read error. A
// line longer than maxLine is skipped and reported, and reading goes on.
func readLines(in io.Reader, out chan<- stdinLine, done <-chan struct{}) {
	defer close(out)
	br := bufio.NewReaderSize(in, 64<<10)
	for {
		var line []byte
		tooLong := false
		for {
			chunk, err := br.ReadSlice('\n')
			if !tooLong {
				if len(line)+len(chunk) > maxLine+1 { // +1: the '\n'
					tooLong, line = true, nil
				} else {
					line = append(line, chunk...)
				}
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil && len(line) == 0 && !tooLong {
				return // EOF or a read error, nothing pending
			}
			break
		}
		l := stdinLine{text: strings.TrimRight(string(line), "\r\n")}
		if tooLong {
			l = stdinLine{err: errLineTooLong}
		}
		select {
		case out <- l:
		case <-done:
			return
		}
	}
}

func (r *runner) loop(ctx context.Context, runErr <-chan error, lines <-chan stdinLine) int {
	accEvents := r.a.AccountEvents()
	callEvents := r.a.CallEvents()
	for {
		select {
		case <-ctx.Done():
			r.log.Info("signal: hanging up and exiting")
			return ExitOK
		case <-r.out.broken:
			// Whoever drove this process is gone: end as on quit rather than run on
			// unobserved.
			r.log.Info("stdout closed by its reader: hanging up and exiting")
			return ExitOK
		case err := <-runErr:
			if err == nil {
				return ExitOK
			}
			r.out.errorf("", string(r.a.LocalID()), err.Error())
			if errors.Is(err, chat.ErrAuth) || !r.online {
				return ExitLogin
			}
			return ExitOK
		case ev := <-accEvents:
			r.accountEvent(ctx, ev)
		case ev := <-callEvents:
			if code, exit := r.callEvent(ctx, ev); exit {
				return code
			}
		case line, ok := <-lines:
			if !ok {
				lines = nil // EOF: keep running on events alone
				continue
			}
			if line.err != nil {
				r.out.errorf("", "", line.err.Error())
				continue
			}
			if quit := r.command(ctx, line.text); quit {
				return ExitOK
			}
		case err := <-r.recordErr:
			r.out.errorf("", "", err.Error())
			if r.o.ExitOnClose {
				// Recording was the point of this run: end it (Close hangs up) and say
				// so in the exit code.
				r.log.Warn("recording failed: hanging up and exiting", "err", err)
				return ExitRecord
			}
		case id := <-r.hangupCh:
			if s := r.a.Engine().Session(id); s != nil {
				r.log.Info("hangup-after", "session", id)
				if err := s.Stop(nil); err != nil {
					r.out.errorf(id, "", "hangup: "+err.Error())
				}
			}
		}
	}
}

func (r *runner) accountEvent(ctx context.Context, ev chat.Event) {
	switch e := ev.(type) {
	case chat.StateEvent:
		if e.State == chat.Online {
			r.online, r.offlineSaid = true, false
			r.out.emit(Line{Event: EvOnline, User: string(r.a.LocalID())})
			if !r.started && len(r.callAtStart) > 0 {
				r.started = true
				r.placeCall(ctx, r.callAtStart, r.defaultCallType())
			}
			return
		}
		// Offline once per outage: when a connection is lost, and when the first login
		// fails (a script otherwise hears nothing while the account retries).
		if r.online || (e.State == chat.Offline && !r.offlineSaid) {
			r.online, r.offlineSaid = false, true
			l := Line{Event: EvOffline, User: string(r.a.LocalID())}
			if e.Err != nil {
				l.Message = e.Err.Error()
			}
			r.out.emit(l)
		}
	case chat.ErrorEvent:
		if e.Err != nil {
			r.out.errorf("", "", e.Err.Error())
		}
	}
}

func (r *runner) defaultCallType() call.CallType {
	if r.o.Video {
		return call.CallTypeVideo
	}
	return call.CallTypeAudio
}

// callEvent reports ev and reacts to it; exit says the process should end with code.
func (r *runner) callEvent(ctx context.Context, ev call.Event) (code int, exit bool) {
	if l, ok := callLine(ev); ok {
		r.out.emit(l)
	}
	id := ev.Session()
	info := r.sessions[id]
	switch e := ev.(type) {
	case call.CallEvent:
		if info != nil {
			return 0, false // a repeated call of a session we know
		}
		info = &sessInfo{callType: e.CallType, incoming: true}
		r.sessions[id] = info
		switch r.o.Answer {
		case AnswerAuto:
			r.accept(ctx, id, nil)
		case AnswerReject:
			r.reject(id, nil)
		default:
			r.pending = append(r.pending, id)
		}
	case call.AcceptEvent:
		if info != nil && info.placed && !info.accepted {
			info.accepted = true
			r.startHangupTimer(id, info)
		}
	case call.RejectEvent, call.UserNotAnswerEvent:
		if info != nil && info.placed {
			info.refused = true
		}
	case call.RemoteStreamEvent:
		if e.Stream != nil && e.Stream.Kind == devices.KindAudio {
			r.record(e.Stream)
		}
	case call.SessionCloseEvent:
		r.stopRecordingSession(id)
		r.dropPending(id)
		delete(r.sessions, id)
		if info != nil && info.hangup != nil {
			info.hangup.Stop()
		}
		if info != nil && info.placed && !info.accepted && info.refused {
			return ExitNotAnswered, true
		}
		if r.o.ExitOnClose {
			return ExitOK, true
		}
	}
	return 0, false
}

func (r *runner) startHangupTimer(id string, info *sessInfo) {
	if r.o.HangupAfter <= 0 || info.hangup != nil {
		return
	}
	// The timer's goroutine ends after handing the ID over, or when the loop is over.
	info.hangup = time.AfterFunc(r.o.HangupAfter, func() {
		select {
		case r.hangupCh <- id:
		case <-r.done:
		}
	})
}

// media opens the local media of a session unless --echo (then the engine sends back
// what it receives).
func (r *runner) media(ctx context.Context, s *call.Session, t call.CallType) error {
	if r.o.Echo {
		return nil
	}
	_, err := s.GetUserMedia(ctx, devices.MediaParams{Audio: true, Video: t == call.CallTypeVideo})
	if err != nil {
		return fmt.Errorf("media: %w", err)
	}
	return nil
}

// extOr is a command's extension, or the command line's --ext when it gave none.
func (r *runner) extOr(ext call.Extension) call.Extension {
	if ext != nil {
		return ext
	}
	return r.o.Ext
}

func (r *runner) accept(ctx context.Context, id string, ext call.Extension) {
	info := r.sessions[id]
	s := r.a.Engine().Session(id)
	if info == nil || s == nil {
		r.out.errorf(id, "", "accept: no such session")
		return
	}
	r.dropPending(id)
	info.answered = true
	t := info.callType
	if t == call.CallTypeVideo && !r.o.Video {
		t = call.CallTypeAudio // audio only unless --video
	}
	if err := r.media(ctx, s, t); err != nil {
		r.out.errorf(id, "", "accept: "+err.Error())
		return
	}
	if err := s.Accept(r.extOr(ext)); err != nil {
		r.out.errorf(id, "", "accept: "+err.Error())
		return
	}
	info.accepted = true
	r.startHangupTimer(id, info)
}

func (r *runner) reject(id string, ext call.Extension) {
	info := r.sessions[id]
	s := r.a.Engine().Session(id)
	if info == nil || s == nil {
		r.out.errorf(id, "", "reject: no such session")
		return
	}
	r.dropPending(id)
	info.answered = true
	if err := s.Reject(r.extOr(ext)); err != nil {
		r.out.errorf(id, "", "reject: "+err.Error())
	}
}

func (r *runner) placeCall(ctx context.Context, ids []call.UserID, t call.CallType) {
	s, err := r.a.Engine().CreateNewSession(ids, t)
	if err != nil {
		r.out.errorf("", "", "call: "+err.Error())
		return
	}
	id := s.ID()
	r.sessions[id] = &sessInfo{callType: t, placed: true}
	if err := r.media(ctx, s, t); err != nil {
		r.out.errorf(id, "", "call: "+err.Error())
		s.Stop(nil)
		return
	}
	if err := s.Call(r.o.Ext); err != nil {
		r.out.errorf(id, "", "call: "+err.Error())
	}
}

func (r *runner) dropPending(id string) {
	for i, p := range r.pending {
		if p == id {
			r.pending = append(r.pending[:i], r.pending[i+1:]...)
			return
		}
	}
}

// target picks the session a command is about: the one named, else the oldest pending
// incoming call (pendingOnly), else every live session.
func (r *runner) targets(named string, pendingOnly bool) []string {
	if named != "" {
		return []string{named}
	}
	if pendingOnly {
		if len(r.pending) == 0 {
			return nil
		}
		return []string{r.pending[0]}
	}
	var ids []string
	for id := range r.sessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// command runs one stdin line; quit says the process should end.
func (r *runner) command(ctx context.Context, line string) (quit bool) {
	c, err := ParseCommand(line)
	if err != nil {
		r.out.errorf("", "", err.Error())
		return false
	}
	if c == nil {
		return false
	}
	r.log.Debug("command", "line", line)
	switch c.Name {
	case "quit":
		return true
	case "call":
		ids, err := r.a.ParseUserIDs(c.IDs)
		if err != nil {
			r.out.errorf("", "", "call: "+err.Error())
			return false
		}
		t := c.Type
		if t == call.CallTypeUnknown {
			t = r.defaultCallType()
		}
		r.placeCall(ctx, ids, t)
		return false
	case "accept", "reject":
		ids := r.targets(c.Session, true)
		if len(ids) == 0 {
			r.out.errorf("", "", c.Name+": no incoming call")
			return false
		}
		if c.Name == "accept" {
			r.accept(ctx, ids[0], c.Ext)
		} else {
			r.reject(ids[0], c.Ext)
		}
		return false
	}

	ids := r.targets(c.Session, false)
	if len(ids) == 0 {
		r.out.errorf("", "", c.Name+": no call")
		return false
	}
	for _, id := range ids {
		s := r.a.Engine().Session(id)
		if s == nil {
			r.out.errorf(id, "", c.Name+": no such session")
			continue
		}
		var err error
		switch c.Name {
		case "hangup":
			if info := r.sessions[id]; info != nil && info.incoming && !info.answered {
				r.dropPending(id)
				info.answered = true
				err = s.Reject(c.Ext)
			} else {
				err = s.Stop(c.Ext)
			}
		case "update":
			err = s.Update(c.Ext)
		case "mute":
			err = s.Mute(c.Kind)
		case "unmute":
			err = s.Unmute(c.Kind)
		}
		if err != nil {
			r.out.errorf(id, "", c.Name+": "+err.Error())
		}
	}
	return false
}

// recording is one --record-dir file.
type recording struct {
	rec    devices.Receiver
	remove func()
	path   string
}

// recordOne starts a --record-dir file for one remote audio stream:
// DIR/SESSION-USER.ogg (an existing file is refused without --overwrite).
func (r *runner) recordOne(st *call.RemoteStream) {
	name := safeName(st.SessionID) + "-" + safeName(string(st.User)) + ".ogg"
	path := filepath.Join(r.o.RecordDir, name)
	for _, p := range r.perUser {
		if p.path == path {
			return // the same stream again (a reconnection): keep the file going
		}
	}
	rec, err := devices.NewOggRecorderWith(path, devices.RecordOptions{
		Overwrite: r.o.Overwrite,
		OnError: func(err error) {
			select {
			case r.recordErr <- err:
			default:
			}
		},
	})
	if err != nil {
		r.out.errorf(st.SessionID, string(st.User), "record: "+err.Error())
		return
	}
	r.perUser = append(r.perUser, recording{rec: rec, remove: st.AddSink(rec), path: path})
	r.log.Info("recording", "file", path, "session", st.SessionID, "user", st.User)
}

// safeName keeps letters, digits and .-@_ of a session or user ID for a file name.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '@', r == '_':
			return r
		}
		return '_'
	}, s)
	s = strings.TrimLeft(s, ".")
	if len(s) > 100 {
		s = s[:100]
	}
	if s == "" {
		s = "_"
	}
	return s
}

// record starts --record on the first remote audio stream and adds every later one to
// it (a group call's participants, mixed), or a --record-dir file on each.
func (r *runner) record(st *call.RemoteStream) {
	if r.o.RecordDir != "" {
		r.recordOne(st)
		return
	}
	if r.o.Record == "" {
		return
	}
	if r.mixRec == nil {
		rec, err := devices.NewMixRecorder(r.o.Record, devices.RecordOptions{
			Overwrite: r.o.Overwrite,
			OnError: func(err error) { // on the recorder's goroutine: hand over, never block
				select {
				case r.recordErr <- err:
				default:
				}
			},
		})
		if err != nil {
			select { // reported (and with --exit-on-close, ends the run) like a write error
			case r.recordErr <- fmt.Errorf("record: %w", err):
			default:
			}
			r.o.Record = "" // tried once
			return
		}
		r.mixRec = rec
		r.log.Info("recording", "file", r.o.Record)
	}
	in, err := devices.NewAudioReceiver("audio/opus", r.mixRec, st.SessionID+"/"+string(st.User), r.log)
	if err != nil {
		r.out.errorf(st.SessionID, string(st.User), "record: "+err.Error())
		return
	}
	r.mixIn = append(r.mixIn, recording{rec: in, remove: st.AddSink(in), path: st.SessionID})
	r.log.Info("recording into the mix", "session", st.SessionID, "user", st.User)
}

// stopRecordingSession takes a closed session's streams out of the mix.
func (r *runner) stopRecordingSession(id string) {
	kept := r.mixIn[:0]
	for _, in := range r.mixIn {
		if in.path == id {
			in.remove()
			in.rec.Close()
			continue
		}
		kept = append(kept, in)
	}
	r.mixIn = kept
}

func (r *runner) stopRecording() {
	for _, p := range r.perUser {
		p.remove()
		if err := p.rec.Close(); err != nil {
			r.log.Warn("record", "file", p.path, "err", err)
		}
	}
	r.perUser = nil
	for _, in := range r.mixIn {
		in.remove()
		in.rec.Close()
	}
	r.mixIn = nil
	if r.mixRec == nil {
		return
	}
	if err := r.mixRec.Close(); err != nil {
		r.log.Warn("record", "err", err)
	}
	r.mixRec = nil
}
