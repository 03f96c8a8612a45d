package ui

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

// Options are what the root model is built from.
type Options struct {
	Account Account
	Engine  Engine
	Config  *config.Config
	// Self names the signed-in account in the status bar.
	Self string
	// LogPath is shown in the help.
	LogPath string
	Logger  *slog.Logger
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
	// Video draws the call's pictures straight to the terminal (a *video.Screen);
	// nil shows none (the labels still say what would be there).
	Video VideoScreen
	// HistoryPath is the call history file (DefaultHistoryPath); "" keeps the history
	// in memory only.
	HistoryPath string
	// KittyQuery asks the terminal at start whether it speaks the kitty graphics
	// protocol; a yes switches Video to kitty mode.
	KittyQuery bool
	// Notices brings what the media layer tells the user while a call runs (a camera
	// replaced by the test pattern); nil: none.
	Notices <-chan string
	// Rooms joins conference rooms (r on the contacts screen); nil: no conferences.
	Rooms RoomJoiner
	// Levels reads a remote user's audio level (0..1, live) for the audio call screen;
	// nil: levels are estimated from the stats' bitrate.
	Levels func(call.UserID) (float64, bool)
	// HelpNote is shown in the help panel and, at start, on the notice line (the
	// demo's "To join as bob: …").
	HelpNote string
}

// VideoScreen is what the call screen needs of video.Screen; tests use a fake.
type VideoScreen interface {
	// SetTiles replaces the pictures; called from Update whenever they move.
	SetTiles([]video.Tile) error
	// SetMode switches the drawing mode (kitty graphics detected).
	SetMode(video.Mode) error
	Mode() video.Mode
}

// env is what every screen shares: dependencies, keys, styles.
type env struct {
	account Account
	engine  Engine
	cfg     *config.Config
	log     *slog.Logger
	now     func() time.Time
	keys    KeyMap
	styles  Styles
	video   VideoScreen                       // nil: no video drawn
	levels  func(call.UserID) (float64, bool) // Options.Levels
	// tick is tea.Tick; tests replace it to see timers without waiting for them.
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd
}

// opTimeout bounds every account or engine operation run in a Cmd.
const opTimeout = 15 * time.Second

type screen int

const (
	screenContacts screen = iota
	screenHistory
	screenCall
)

func (s screen) String() string {
	switch s {
	case screenHistory:
		return "history"
	case screenCall:
		return "call"
	default:
		return "contacts"
	}
}

// Model is the root model: it owns the screens, routes messages to them and draws the
// status bar, the incoming-call prompt, errors and help around the active one.
type Model struct {
	env *env

	width, height int
	screen        screen

	contacts contactsModel
	history  historyModel
	incoming incomingModel
	call     *callModel // nil outside a call
	room     roomModel  // the conference room screen (room.go), active in a room

	self      string
	server    chat.ConnState
	serverErr string
	retryAt   time.Time // the next reconnection attempt; zero when none is planned
	// statusTicking: a statusTickMsg is on its way (the countdown to retryAt).
	statusTicking bool
	logPath       string
	showHelp      bool
	helpNote      string // Options.HelpNote
	// Calls missed since the history was last shown, for the status line.
	missedN      int
	missedFrom   string
	missedBusy   bool // the last one was rejected as busy
	help         help.Model
	errText      string
	errSeq       int
	notice       string
	quitting     bool
	callEvents   <-chan call.Event
	chatEvents   <-chan chat.Event
	mediaNotices <-chan string
	lastSession  string // the last call session shown; for tests and logs
	fatal        error  // why the program quit on its own (the account gave up)
	kittyQuery   bool
	crashed      bool         // a command panicked: quitting; Run reports crashError
	tiles        []video.Tile // what the video screen was last given
}

// New builds the root model.
func New(o Options) *Model {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	cfg := o.Config
	if cfg == nil {
		cfg = config.Default()
	}
	e := &env{
		account: o.Account,
		engine:  o.Engine,
		cfg:     cfg,
		log:     log,
		now:     now,
		keys:    DefaultKeyMap(),
		styles:  DefaultStyles(),
		video:   o.Video,
		levels:  o.Levels,
		tick:    tea.Tick,
	}
	h := help.New()
	h.Styles = e.styles.Help
	m := &Model{
		env:        e,
		width:      80,
		height:     24,
		contacts:   newContacts(e),
		history:    newHistory(e),
		incoming:   newIncoming(e),
		room:       newRoom(e, o.Rooms),
		self:       o.Self,
		logPath:    o.LogPath,
		help:       h,
		kittyQuery: o.KittyQuery && o.Video != nil,
	}
	m.incoming.inCall = func() bool { return m.call != nil }
	if o.HistoryPath != "" {
		m.history.store = &historyStore{path: o.HistoryPath}
	}
	if o.Account != nil {
		m.chatEvents = o.Account.Events()
		if m.self == "" {
			m.self = string(o.Account.LocalID())
		}
		m.contacts.setRoster(o.Account.Roster())
	}
	if o.Engine != nil {
		m.callEvents = o.Engine.Events()
	}
	m.mediaNotices = o.Notices
	m.helpNote = o.HelpNote
	m.notice = o.HelpNote
	return m
}

// Init starts the two event readers.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitCallEvent(m.callEvents), waitChatEvent(m.chatEvents), waitMediaNotice(m.mediaNotices)}
	if m.kittyQuery {
		cmds = append(cmds, tea.Raw(video.KittyQuery))
	}
	if m.history.store != nil {
		cmds = append(cmds, loadHistoryCmd(m.history.store))
	}
	return guardCmd(m.env.log, tea.Batch(cmds...))
}

// Update routes a message to the screen it belongs to, then hands the video screen
// the pictures of the resulting layout.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	return m, guardCmd(m.env.log, tea.Batch(cmd, m.syncVideo(), m.history.saveCmd()))
}

func (m *Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	if isCallEvent(msg) {
		cmds = append(cmds, waitCallEvent(m.callEvents))
	}
	if isChatEvent(msg) {
		cmds = append(cmds, waitChatEvent(m.chatEvents))
	}
	if _, ok := msg.(mediaNoticeMsg); ok {
		cmds = append(cmds, waitMediaNotice(m.mediaNotices))
	}
	if cmd, err, ok := m.room.update(msg); ok { // the conference room (room.go)
		cmds = append(cmds, cmd)
		if err != nil {
			cmds = append(cmds, m.setError(err))
		}
		return m, tea.Batch(cmds...)
	}

	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.contacts.setWidth(msg.Width)

	case tea.KeyPressMsg:
		cmds = append(cmds, m.handleKey(msg))

	// The account.
	case serverStateMsg:
		m.server = msg.State
		m.retryAt = time.Time{}
		if msg.RetryIn > 0 {
			m.retryAt = m.env.now().Add(msg.RetryIn)
		}
		switch {
		case msg.Err != nil:
			m.serverErr = serverCause(msg.Err)
		case msg.State == chat.Online:
			m.serverErr = ""
		}
		// Otherwise the cause stays: the Reconnecting that follows a failed attempt
		// carries no error of its own, and the status line should still say why.
		if msg.State != chat.Online {
			// Presence seen before is stale (chat forgets it too): contacts show
			// offline until the next session's presence arrives.
			m.contacts.clearPresence()
		}
		m.env.log.Info("server state", "state", msg.State, "err", msg.Err)
		cmds = append(cmds, m.statusTick())
	case statusTickMsg:
		m.statusTicking = false
		cmds = append(cmds, m.statusTick())
	case rosterMsg:
		m.contacts.setRoster(msg.Contacts)
	case presenceMsg:
		m.contacts.setPresence(msg.JID, msg.Presence)
		if m.call != nil {
			for _, p := range m.call.peers {
				p.offline = p.offline && m.contacts.offline(p.id)
			}
		}
	case subRequestMsg:
		m.contacts.addRequest(msg.JID)
		m.notice = "subscription request from " + msg.JID.String()
	case chatErrorMsg:
		cmds = append(cmds, m.setError(msg.Err))
	case mediaNoticeMsg:
		m.notice = msg.Text
		m.env.log.Warn("media", "notice", msg.Text)
	case accountEndedMsg:
		m.fatal = msg.Err
		m.env.log.Error("account stopped", "err", msg.Err)
		cmds = append(cmds, m.quit())
	case accountClosedMsg:
		m.chatEvents = nil
	case engineClosedMsg:
		m.callEvents = nil

	// Results of the screens' commands.
	case startCallMsg:
		cmds = append(cmds, m.startCall(msg))
	case answerMsg:
		cmds = append(cmds, m.answer(msg))
	case showScreenMsg:
		if m.call == nil || msg.screen != screenCall {
			m.screen = msg.screen
		}
		if m.screen == screenHistory {
			m.missedN = 0 // seen
		}
	case opResultMsg:
		if msg.Err != nil {
			cmds = append(cmds, m.setError(fmt.Errorf("%s: %w", msg.Op, msg.Err)))
		} else if msg.Done != "" {
			m.notice = msg.Done
		}
	case dialedMsg:
		if !m.showing(msg.SessionID) {
			// The user hung up while media opened: the Call or Accept that followed
			// failed on the closed session, which is no news to them.
			m.env.log.Info("result of an ended call dropped", "session", msg.SessionID, "err", msg.Err)
			break
		}
		cmds = append(cmds, m.call.dialed(msg))
		if msg.Err != nil {
			cmds = append(cmds, m.setError(msg.Err))
			m.endCall("failed: " + shortError(msg.Err))
		}
	case muteResultMsg:
		if !m.showing(msg.SessionID) {
			m.env.log.Info("result of an ended call dropped", "session", msg.SessionID, "err", msg.Err)
			break
		}
		cmds = append(cmds, m.call.muteResult(msg))
		if msg.Err != nil {
			cmds = append(cmds, m.setError(msg.Err))
		}
	case clearErrorMsg:
		if msg.seq == m.errSeq {
			m.errText = ""
		}
	case ringTickMsg:
		cmds = append(cmds, m.incoming.tick(msg))
		for _, r := range m.incoming.takeExpired() {
			m.missedCall(r.record("missed"))
		}
	case callTickMsg:
		if m.showing(msg.SessionID) {
			m.call.refresh()
			cmds = append(cmds, m.call.tick())
		}
	case hungUpMsg:
		if m.showing(msg.SessionID) {
			if msg.Err != nil {
				cmds = append(cmds, m.setError(fmt.Errorf("hang up: %w", msg.Err)))
				m.endCall("hung up (with an error)")
			} else if m.env.engine == nil || m.env.engine.Session(msg.SessionID) == nil {
				m.endCall("hung up")
			}
			// Otherwise the session's close event ends the call screen.
		}
	case quitReadyMsg:
		return m, tea.Quit
	case cmdPanicMsg:
		if m.crashed || m.quitting { // the quit path itself failed: just stop
			m.crashed = true
			return m, tea.Quit
		}
		m.crashed = true
		cmds = append(cmds, m.quit()) // hang up cleanly, then quit
	case historyLoadedMsg:
		switch {
		case errors.Is(msg.Err, ErrHistoryCorrupt):
			m.env.log.Warn("call history replaced", "err", msg.Err)
			cmds = append(cmds, m.setError(errors.New("call history file was unreadable: started a new one")))
			m.history.merge(nil)
			m.history.seq++ // replace the file now
		case msg.Err != nil:
			m.env.log.Warn("call history not kept", "err", msg.Err)
			cmds = append(cmds, m.setError(msg.Err))
			m.history.store = nil // unreadable for another reason: leave the file alone
		default:
			m.history.merge(msg.Records)
		}
	case historySavedMsg:
		if msg.Err != nil {
			m.env.log.Warn("call history not saved", "err", msg.Err)
			cmds = append(cmds, m.setError(msg.Err))
		}
	case uv.KittyGraphicsEvent:
		if m.env.video != nil && msg.Options.ID == video.KittyQueryID && string(msg.Payload) == "OK" {
			m.env.log.Info("terminal speaks kitty graphics: video in kitty mode")
			// The start's "video in 256 colours" no longer holds.
			var keep []string
			for _, l := range strings.Split(m.notice, "\n") {
				if !strings.HasPrefix(l, "video in 256 colours") {
					keep = append(keep, l)
				}
			}
			m.notice = strings.Join(keep, "\n")
			if err := m.env.video.SetMode(video.ModeKitty); err != nil {
				cmds = append(cmds, m.setError(err))
			}
			m.tiles = nil // re-sent below in the new mode
		}

	// The engine.
	case call.CallEvent:
		cmds = append(cmds, m.onIncoming(msg))
	case *call.CallEvent:
		cmds = append(cmds, m.onIncoming(*msg))
	case call.MissedCallEvent:
		if msg.Reason == "blocked" {
			// Declined by calls.accept_from without ringing: only the history shows
			// it (no notification: a stranger could make many).
			m.history.addBlocked(msg)
			break
		}
		// Refused before it rang (busy while we talked): the user hears of it too.
		m.missedCall(historyRecord{When: msg.Time, Kind: "missed", Peers: []call.UserID{msg.InitiatorID}, CallType: msg.CallType, Reason: msg.Reason})
	case call.Event:
		cmds = append(cmds, m.routeSession(msg))
	}
	return m, tea.Batch(cmds...)
}

// handleKey runs global keys, then the incoming prompt's, then the active screen's.
func (m *Model) handleKey(k tea.KeyPressMsg) tea.Cmd {
	keys := m.env.keys
	if m.quitting {
		return nil
	}
	if key.Matches(k, keys.Interrupt) {
		return m.quit()
	}
	// Any key is the next action: the notice of the last one has been read.
	m.notice = ""
	// A focused text input takes every other key; so does a removal waiting for y.
	if m.screen == screenContacts && (m.contacts.inputActive() || m.contacts.confirming()) {
		return m.contacts.update(k)
	}
	if m.room.prompting {
		return m.room.promptKey(k)
	}
	switch {
	case key.Matches(k, keys.Quit):
		return m.quit()
	case key.Matches(k, keys.Help):
		m.showHelp = !m.showHelp
		return nil
	}
	if m.showHelp && key.Matches(k, keys.Cancel) {
		m.showHelp = false
		return nil
	}
	if m.incoming.active() {
		// The prompt takes every key: a key meant for the screen beneath it (j, enter,
		// a) would start a second call under the ringing one.
		cmd, _ := m.incoming.update(k, m.contacts.names())
		for _, r := range m.incoming.takeRejected() {
			m.history.add(r.record("rejected"))
		}
		return cmd
	}
	if m.room.active() {
		return m.room.key(k)
	}
	switch m.screen {
	case screenCall:
		if m.call != nil {
			return m.call.update(k)
		}
	case screenHistory:
		return m.history.update(k)
	default:
		if key.Matches(k, m.room.keys.Join) && m.call == nil {
			return m.room.startPrompt()
		}
		return m.contacts.update(k)
	}
	return nil
}

// quit hangs up every call and rejects ringing ones, then quits.
func (m *Model) quit() tea.Cmd {
	m.quitting = true
	var stop []Session
	var reject []Session
	eng := m.env.engine
	if eng != nil {
		if m.call != nil && m.call.sessionID != "" {
			if s := eng.Session(m.call.sessionID); s != nil {
				stop = append(stop, s)
			}
		}
		for _, r := range m.incoming.queue {
			if s := eng.Session(r.SessionID); s != nil {
				reject = append(reject, s)
			}
		}
	}
	log := m.env.log
	return func() tea.Msg {
		for _, s := range stop {
			if err := s.Stop(nil); err != nil {
				log.Warn("hang up on quit", "session", s.ID(), "err", err)
			}
		}
		for _, s := range reject {
			if err := s.Reject(nil); err != nil {
				log.Warn("reject on quit", "session", s.ID(), "err", err)
			}
		}
		return quitReadyMsg{}
	}
}

// onIncoming queues a ringing call. The busy rule (auto_reject beyond incoming_limit)
// is the engine's: a call it lets through rings.
func (m *Model) onIncoming(msg call.CallEvent) tea.Cmd {
	m.env.log.Info("incoming call", "session", msg.SessionID, "from", msg.InitiatorID, "type", msg.CallType)
	m.contacts.blurInputs() // y / A / n answer the call, not the filter
	return m.incoming.push(msg, m.env.account)
}

// showing reports whether the call screen shows session id: results and events of
// other sessions are stale.
func (m *Model) showing(id string) bool { return m.call != nil && m.call.sessionID == id }

// routeSession hands a session message to the screen showing that session and drops the
// others.
func (m *Model) routeSession(msg call.Event) tea.Cmd {
	id := msg.Session()
	if m.incoming.has(id) {
		if r, gone := m.incoming.handle(msg); gone {
			m.missedCall(r.record("missed"))
		}
		return nil
	}

	if m.showing(id) {
		cmd := m.call.handle(msg)
		if c, ok := msg.(call.SessionCloseEvent); ok {
			m.endCall(c.Reason)
		}
		return cmd
	}
	m.env.log.Debug("event of another session dropped", "session", id, "msg", fmt.Sprintf("%T", msg))
	return nil
}

// startCall opens the call screen and dials.
func (m *Model) startCall(msg startCallMsg) tea.Cmd {
	if m.call != nil {
		return m.setError(fmt.Errorf("already in a call: hang up first"))
	}
	if m.env.engine == nil {
		return m.setError(fmt.Errorf("no call engine"))
	}
	s, err := m.env.engine.CreateNewSession(msg.Opponents, msg.CallType)
	if err != nil {
		return m.setError(fmt.Errorf("new call: %w", err))
	}
	m.call = newCall(m.env, s.ID(), true, msg.CallType, msg.Opponents, m.contacts.names())
	for _, p := range m.call.peers {
		p.offline = m.contacts.offline(p.id)
	}
	m.screen = screenCall
	m.contacts.clearMarks()
	m.env.log.Info("calling", "session", s.ID(), "to", msg.Opponents, "type", msg.CallType)
	return tea.Batch(dialCmd(m.env, s, msg.CallType, true), m.call.tick())
}

// answer accepts a ringing call (hanging up the current one first).
func (m *Model) answer(msg answerMsg) tea.Cmd {
	if m.env.engine == nil {
		return m.setError(fmt.Errorf("no call engine"))
	}
	var cmds []tea.Cmd
	if m.call != nil {
		cmds = append(cmds, m.hangupCmd(m.call.sessionID))
		m.endCall("switched to another call")
	}
	s := m.env.engine.Session(msg.ring.SessionID)
	if s == nil {
		return m.setError(fmt.Errorf("the call is gone"))
	}
	t := msg.ring.CallType
	if !msg.video {
		t = call.CallTypeAudio
	}
	peers := append([]call.UserID{msg.ring.Caller}, msg.ring.Others...)
	m.call = newCall(m.env, s.ID(), false, t, peers, m.contacts.names())
	for _, id := range msg.ring.Others {
		if l, ok := msg.ring.Left[id]; ok {
			m.call.setPhase(id, l.Phase, l.Did+" before you answered")
		}
	}
	m.screen = screenCall
	m.env.log.Info("accepting", "session", s.ID(), "video", msg.video)
	cmds = append(cmds, dialCmd(m.env, s, t, false), m.call.tick())
	return tea.Batch(cmds...)
}

func (m *Model) hangupCmd(id string) tea.Cmd {
	eng := m.env.engine
	return opCmd(m.env, "hang up", "", func(ctx context.Context) error {
		s := eng.Session(id)
		if s == nil {
			return nil
		}
		return s.Stop(nil)
	})
}

// endCall leaves the call screen and records the call.
func (m *Model) endCall(reason string) {
	if m.call == nil {
		return
	}
	c := m.call
	who := reason
	switch {
	case reason != "hung up":
	case c.hangingUp:
		who = "you hung up"
	case c.lastHungUp != "":
		who = nameOf(c.lastHungUp, c.names) + " hung up"
	}
	m.history.add(c.record(m.env.now(), who))
	m.env.log.Info("call ended", "session", c.sessionID, "reason", reason)
	m.call = nil
	if m.screen == screenCall {
		m.screen = screenContacts
	}
	switch {
	case reason == "hung up" && !c.hangingUp && c.lastHungUp != "":
		// The engine's reason is the same whether we or the last opponent hung up.
		m.notice = "call ended: " + nameOf(c.lastHungUp, c.names) + " hung up"
	case reason != "" && reason != "hung up":
		m.notice = "call ended: " + reason
	default:
		m.notice = "call ended"
	}
}

// missedCall records a call the user did not take (it rang out, the caller gave up,
// or the engine rejected it as busy) and says so on the status line until the
// history is opened.
func (m *Model) missedCall(r historyRecord) {
	m.history.add(r)
	m.missedN++
	if len(r.Peers) > 0 {
		m.missedFrom = nameOf(r.Peers[0], m.contacts.names())
	}
	m.missedBusy = r.Reason == "busy"
}

// missedText is the status line's note of calls missed since the history was last
// shown; "" when none.
func (m *Model) missedText() string {
	if m.missedN == 0 {
		return ""
	}
	what := "missed call from " + m.missedFrom
	if m.missedBusy {
		what = "busy: rejected a call from " + m.missedFrom
	}
	if m.missedN > 1 {
		what = fmt.Sprintf("%d missed calls (last: %s)", m.missedN, m.missedFrom)
	}
	return what + " · tab for history"
}

// setError shows a short error for a few seconds.
func (m *Model) setError(err error) tea.Cmd {
	if err == nil {
		return nil
	}
	m.env.log.Warn("error shown", "err", err)
	m.errText = shortError(err)
	m.errSeq++
	seq := m.errSeq
	return m.env.tick(8*time.Second, func(time.Time) tea.Msg { return clearErrorMsg{seq: seq} })
}

// serverCause says why the server cannot be reached in words a user can act on:
// connection refused, name not found, a TLS problem, a timeout; else the error's
// first line.
func serverCause(err error) string {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var nerr net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (is the server running?)"
	case errors.As(err, &dns):
		return "server name not found (DNS: " + dns.Name + ")"
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &cert):
		return "TLS: the server's certificate is not trusted (" + shortError(err) + ")"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "network unreachable"
	case errors.As(err, &nerr) && nerr.Timeout():
		return "connection timed out"
	}
	return shortError(err)
}

// shortError is the first line of an error, cut to a status-line length.
func shortError(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

type (
	clearErrorMsg struct{ seq int }
	// statusTickMsg redraws the status bar's reconnection countdown.
	statusTickMsg struct{}
	// accountEndedMsg: the account stopped for good (authentication failed).
	accountEndedMsg struct{ Err error }
	quitReadyMsg    struct{}
	// showScreenMsg switches between contacts and history.
	showScreenMsg struct{ screen screen }
	// opResultMsg is the result of an account or engine operation.
	opResultMsg struct {
		Op   string
		Done string // notice on success
		Err  error
	}
)

// opCmd runs an operation in a Cmd with a deadline.
func opCmd(e *env, op, done string, f func(ctx context.Context) error) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		err := f(ctx)
		if err != nil {
			e.log.Warn("operation failed", "op", op, "err", err)
		}
		return opResultMsg{Op: op, Done: done, Err: err}
	}
}

// View draws the active screen with the prompt, messages and status bar around it.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "ttycall"
	return v
}

func (m *Model) render() string {
	top, bottom, bodyH := m.frame()
	var body string
	switch {
	case m.room.active():
		body = m.room.view(m.room.geometry(m.width, bodyH, lipgloss.Height(top)))
	case m.screen == screenCall:
		if m.call != nil {
			body = m.call.view(m.call.geometry(m.width, bodyH, lipgloss.Height(top)))
		}
	case m.screen == screenHistory:
		body = m.history.view(m.width, bodyH, m.contacts.names())
	default:
		body = m.contacts.view(m.width, bodyH)
	}
	return top + "\n" + fitLines(body, m.width, bodyH) + "\n" + bottom
}

// frame draws what surrounds the active screen: the title and the incoming prompt
// above, messages, help and the status bar below, and the body height left between.
func (m *Model) frame() (top, bottom string, bodyH int) {
	st := m.env.styles
	var tops []string
	title := "ttycall · " + m.screen.String()
	if m.call != nil && m.screen == screenCall {
		title = "ttycall · " + m.call.title()
	}
	if m.room.active() {
		title = "ttycall · " + m.room.title()
	}
	tops = append(tops, st.Title.Render(ansi.Truncate(title, m.width, "…")))
	if m.incoming.active() {
		tops = append(tops, m.incoming.view(m.width, m.contacts.names()))
	}
	var bottoms []string
	if m.room.prompting {
		bottoms = append(bottoms, m.room.prompt.View())
	}
	if m.errText != "" {
		bottoms = append(bottoms, st.Error.Render("error: "+m.errText))
	} else if m.notice != "" {
		// Wrapped, not cut: a long notice (a path to copy) is read whole.
		bottoms = append(bottoms, st.Notice.Render(ansi.Wrap(m.notice, max(m.width, 10), " /")))
	}
	if m.showHelp {
		bottoms = append(bottoms, m.helpView())
	} else {
		bottoms = append(bottoms, hintLine(m.help.Styles, m.activeKeys(), m.width))
	}
	bottoms = append(bottoms, m.statusBar())
	top = strings.Join(tops, "\n")
	bottom = strings.Join(bottoms, "\n")
	bodyH = max(m.height-lipgloss.Height(top)-lipgloss.Height(bottom), 1)
	return top, bottom, bodyH
}

// videoTiles are the pictures the screen shows now: the call's, or none.
func (m *Model) videoTiles() []video.Tile {
	if m.room.active() && !m.quitting {
		top, _, bodyH := m.frame()
		g := m.room.geometry(m.width, bodyH, lipgloss.Height(top))
		m.room.syncVisible(g)
		if m.env.video == nil {
			return nil
		}
		return m.room.tiles(g)
	}
	if m.screen != screenCall || m.call == nil || m.quitting || m.env.video == nil {
		return nil
	}
	top, _, bodyH := m.frame()
	return m.call.tiles(m.call.geometry(m.width, bodyH, lipgloss.Height(top)), m.env.video.Mode())
}

// syncVideo gives the video screen the current pictures when they changed (layout,
// overlays, help, the incoming prompt, leaving the call screen). SetTiles blanks the
// cells pictures leave before Bubble Tea draws there. The screen is then cleared and
// redrawn whole, once: when lines of the view move, Bubble Tea's renderer scrolls
// them on the terminal (its hard-scroll optimisation, always on in the alternate
// screen), and a scroll carries video cells along into places neither side would
// ever rewrite. The clear (an ED) also makes the video screen repaint its tiles.
func (m *Model) syncVideo() tea.Cmd {
	if m.env.video == nil {
		m.videoTiles() // a room still learns which videos are drawn
		return nil
	}
	tiles := m.videoTiles()
	if tilesEqual(tiles, m.tiles) {
		return nil
	}
	m.tiles = tiles
	if err := m.env.video.SetTiles(tiles); err != nil {
		m.env.log.Warn("video", "err", err)
		return m.setError(err)
	}
	return tea.ClearScreen
}

func tilesEqual(a, b []video.Tile) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.Source != y.Source || x.Rect != y.Rect || x.Mirror != y.Mirror || len(x.Occlude) != len(y.Occlude) {
			return false
		}
		for j := range x.Occlude {
			if x.Occlude[j] != y.Occlude[j] {
				return false
			}
		}
	}
	return true
}

// activeKeys is the help.KeyMap of what the user can do now, with the essential keys
// a narrow hint line keeps.
func (m *Model) activeKeys() helpKeys {
	k := m.env.keys
	// A focused text input takes ? and q as text: advertise only what leaves it.
	if m.room.prompting || (m.screen == screenContacts && m.contacts.inputActive()) {
		b := []key.Binding{k.Submit, k.Cancel, k.Interrupt}
		return helpKeys{short: b, full: [][]key.Binding{b}, keep: b}
	}
	if m.screen == screenContacts && m.contacts.confirming() {
		b := []key.Binding{relabel(k.Approve, "remove"), relabel(k.Cancel, "keep")}
		return helpKeys{short: b, full: [][]key.Binding{b}, keep: b}
	}
	g := []key.Binding{k.Help, k.Quit}
	if m.incoming.active() {
		// The prompt takes every key: the screen's keys do nothing meanwhile.
		short := append(m.incoming.ShortHelp(), g...)
		return helpKeys{short: short, full: [][]key.Binding{short}, keep: short}
	}
	var km help.KeyMap
	switch {
	case m.room.active():
		km = &m.room
	case m.screen == screenCall && m.call != nil:
		km = m.call
	case m.screen == screenHistory:
		km = &m.history
	default:
		km = &m.contacts
	}
	keep := append([]key.Binding{k.Hangup, k.VideoCall, k.Back, m.room.keys.Leave}, g...)
	return helpKeys{short: append(km.ShortHelp(), g...), full: append(km.FullHelp(), g), keep: keep}
}

func (m *Model) helpView() string {
	st := m.env.styles
	inner := max(m.width-st.HelpPanel.GetHorizontalFrameSize(), 10)
	body := helpGrid(m.help.Styles, m.activeKeys().FullHelp(), inner)
	logLine := "log file: " + m.logPath
	if m.logPath == "" {
		logLine = "log file: (none)"
	}
	extra := ""
	if m.helpNote != "" {
		extra = "\n" + ansi.Wrap(m.helpNote, inner, " ")
	}
	return st.HelpPanel.Render(body + "\n\n" + ansi.Wrap(st.Muted.Render(logLine), inner, "/") + extra)
}

// statusBar shows the account, the server state and the devices in use.
func (m *Model) statusBar() string {
	server := m.server.String()
	if left := m.retryLeft(); left > 0 {
		server += fmt.Sprintf(" (retry in %s)", left)
	}
	if m.serverErr != "" && m.server != chat.Online {
		server += ": " + m.serverErr
	}
	cam, mic := m.devicesInUse()
	s := fmt.Sprintf(" %s · %s · cam: %s · mic: %s ", orDash(m.self), server, cam, mic)
	if missed := m.missedText(); missed != "" {
		s = fmt.Sprintf(" %s · %s · %s · cam: %s · mic: %s ", orDash(m.self), server, missed, cam, mic)
	}
	// Cut, not wrapped: a second line would push the screen past the terminal's height.
	w := max(m.width, 1)
	return m.env.styles.StatusBar.Width(w).Render(ansi.Truncate(s, w, "…"))
}

// retryLeft is the countdown to the next reconnection attempt, in whole seconds
// rounded up; 0 when none is planned or it is due.
func (m *Model) retryLeft() time.Duration {
	if m.server != chat.Reconnecting || m.retryAt.IsZero() {
		return 0
	}
	left := m.retryAt.Sub(m.env.now())
	if left <= 0 {
		return 0
	}
	return (left + time.Second - 1).Truncate(time.Second)
}

// statusTick keeps the status bar's countdown moving once a second while a
// reconnection is planned (nothing else redraws the contacts screen); one tick at a time.
func (m *Model) statusTick() tea.Cmd {
	if m.statusTicking || m.retryLeft() == 0 {
		return nil
	}
	m.statusTicking = true
	return m.env.tick(time.Second, func(time.Time) tea.Msg { return statusTickMsg{} })
}

func (m *Model) devicesInUse() (cam, mic string) {
	name := func(s string) string {
		switch s {
		case devices.SourceDefault:
			return "default"
		case devices.SourceTest:
			return "test"
		}
		if strings.HasPrefix(s, devices.SourceTest+":") {
			return "test"
		}
		return s
	}
	cam, mic = name(m.env.cfg.Media.Camera), name(m.env.cfg.Media.Microphone)
	if m.call != nil && m.call.local != nil {
		if t := m.call.local.Video; t != nil {
			cam = t.Label()
		} else {
			cam = "off"
		}
		if t := m.call.local.Audio; t != nil {
			mic = t.Label()
		}
	}
	return cam, mic
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fitLines cuts or pads s to exactly h lines, each cut to w cells (a terminal would
// wrap a longer one and push the screen down).
func fitLines(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if w > 0 && ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "…")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
