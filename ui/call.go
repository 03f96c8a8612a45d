package ui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

type (
	// dialedMsg: local media is open and the call was placed or accepted.
	dialedMsg struct {
		SessionID string
		Local     *devices.LocalStream
		Err       error
	}
	// callTickMsg redraws the call screen (timer, labels).
	callTickMsg struct{ SessionID string }
	// muteResultMsg: the result of m or c.
	muteResultMsg struct {
		SessionID string
		Kind      devices.Kind
		Muted     bool
		Err       error
	}
)

// dialCmd opens local media, then calls or accepts.
func dialCmd(e *env, s Session, t call.CallType, outgoing bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		id := s.ID()
		local, err := s.GetUserMedia(ctx, devices.MediaParams{Audio: true, Video: t != call.CallTypeAudio, Mirror: true})
		if err != nil {
			err = fmt.Errorf("camera/microphone: %w", err)
			if outgoing {
				_ = s.Stop(nil)
			} else {
				_ = s.Reject(nil)
			}
			return dialedMsg{SessionID: id, Err: err}
		}
		if outgoing {
			err = s.Call(nil)
		} else {
			err = s.Accept(nil)
		}
		if err != nil {
			verb := "call"
			if !outgoing {
				verb = "accept"
			}
			e.log.Warn("dial failed", "session", id, "verb", verb, "err", err)
			return dialedMsg{SessionID: id, Local: local, Err: fmt.Errorf("%s: %w", verb, err)}
		}
		return dialedMsg{SessionID: id, Local: local}
	}
}

// peer is one opponent on the call screen.
type peer struct {
	id           call.UserID
	conn         call.ConnectionState
	phase        string // before/after the connection: CALLING, RINGING, REJECTED, NO ANSWER, HUNG UP
	reconnecting bool
	video        *devices.FrameSlot
	audio        bool
	stats        call.Stats
	hasStats     bool
	update       string    // the last update received
	offline      bool      // the contact showed offline when we called: not RINGING
	leftAt       time.Time // when left() first held; zero while in the call
	frameSeq     uint64    // the picture's last frame seen (refresh)
	dark         bool      // that frame is black: their camera is off
}

// stateText is what the tile shows: CONNECTING, CONNECTED, RECONNECTING, FAILED, CLOSED,
// or the phase before and after.
func (p *peer) stateText() string {
	switch p.phase {
	case "REJECTED", "NO ANSWER", "HUNG UP":
		return p.phase
	}
	if p.reconnecting {
		return "RECONNECTING"
	}
	switch p.conn {
	case call.ConnectionConnected, call.ConnectionCompleted:
		return "CONNECTED"
	case call.ConnectionConnecting:
		if p.phase == "CALLING" || p.phase == "RINGING" {
			// The engine says CONNECTING from the offer on (as QuickBlox does); until
			// the opponent accepts, the phone is ringing.
			return p.ringingText()
		}
		return "CONNECTING"
	case call.ConnectionDisconnected:
		return "RECONNECTING"
	case call.ConnectionFailed:
		return "FAILED"
	case call.ConnectionClosed:
		return "CLOSED"
	}
	if p.phase == "CALLING" || p.phase == "RINGING" {
		return p.ringingText()
	}
	return p.phase
}

// ringingText: a contact who is offline cannot be ringing.
func (p *peer) ringingText() string {
	if p.offline {
		return "OFFLINE"
	}
	return p.phase
}

// left reports that an opponent is no longer in the call: hung up, rejected, did not
// answer, or their connection closed or failed (a reconnection brings them back). Their
// tile keeps its label but loses its picture, whose last frame would otherwise stay
// frozen for the rest of a group call, looking like a live picture of someone gone.
func (p *peer) left() bool {
	switch p.stateText() {
	case "HUNG UP", "REJECTED", "NO ANSWER", "CLOSED", "FAILED":
		return true
	}
	return false
}

// callModel is the call screen of one session.
type callModel struct {
	env       *env
	sessionID string
	outgoing  bool
	callType  call.CallType
	peers     []*peer
	names     map[call.UserID]string

	local       *devices.LocalStream
	started     time.Time // dialled or accepted
	connectedAt time.Time // first CONNECTED; zero before
	micMuted    bool      // shown and wanted; the engine follows through micOp
	camOff      bool      // shown and wanted; the engine follows through camOp
	micOp       muteOp
	camOp       muteOp
	showStats   bool
	showLog     bool
	hangingUp   bool
	lastHungUp  call.UserID // the opponent who hung up last; "" before
	events      []string    // the event log, oldest first
	lastUpdate  string
}

const maxEventLog = 200

func newCall(e *env, id string, outgoing bool, t call.CallType, opponents []call.UserID, names map[call.UserID]string) *callModel {
	c := &callModel{env: e, sessionID: id, outgoing: outgoing, callType: t, names: names, started: e.now()}
	phase := "CONNECTING"
	if outgoing {
		phase = "CALLING"
	}
	for _, o := range opponents {
		c.peers = append(c.peers, &peer{id: o, phase: phase})
	}
	if outgoing {
		c.logf("calling %s (%s)", c.peerNames(), callTypeName(t))
	} else {
		c.logf("accepting %s call", callTypeName(t))
	}
	return c
}

func (c *callModel) peer(id call.UserID) *peer {
	if id == "" {
		return nil
	}
	for _, p := range c.peers {
		if p.id == id {
			return p
		}
	}
	p := &peer{id: id, phase: "CONNECTING"}
	c.peers = append(c.peers, p)
	return p
}

func (c *callModel) peerNames() string {
	var n []string
	for _, p := range c.visible() {
		n = append(n, nameOf(p.id, c.names))
	}
	return strings.Join(n, ", ")
}

func (c *callModel) logf(format string, args ...any) {
	line := c.env.now().Format("15:04:05") + " " + fmt.Sprintf(format, args...)
	c.events = append(c.events, line)
	if len(c.events) > maxEventLog {
		c.events = c.events[len(c.events)-maxEventLog:]
	}
}

func (c *callModel) title() string {
	t := fmt.Sprintf("%s call with %s", callTypeName(c.callType), c.peerNames())
	if !c.connectedAt.IsZero() {
		t += " · " + fmtDuration(c.env.now().Sub(c.connectedAt))
	} else if c.outgoing {
		t += " · calling " + fmtDuration(c.env.now().Sub(c.started))
	}
	return t
}

// dialed records the local stream once media is open.
func (c *callModel) dialed(msg dialedMsg) tea.Cmd {
	if msg.Local != nil {
		c.local = msg.Local
		for _, n := range msg.Local.Notices {
			c.logf("notice: %s", n)
		}
	}
	if msg.Err != nil {
		c.logf("error: %s", shortError(msg.Err))
		return nil
	}
	if c.outgoing {
		c.logf("ringing %s", c.peerNames())
		for _, p := range c.peers {
			if p.phase == "CALLING" {
				p.phase = "RINGING"
			}
		}
	} else {
		c.logf("accepted")
	}
	return nil
}

// setPhase records what an opponent did (accept, reject, hang up, no answer) and
// logs it.
func (c *callModel) setPhase(id call.UserID, phase, did string) {
	if p := c.peer(id); p != nil {
		p.phase = phase
	}
	c.logf("%s %s", nameOf(id, c.names), did)
}

// handle applies an engine message of this session.
func (c *callModel) handle(msg call.Event) tea.Cmd {
	switch msg := msg.(type) {
	case call.AcceptEvent:
		c.setPhase(msg.User, "CONNECTING", "accepted")
	case call.RejectEvent:
		if msg.Ext["reason"] == "offline" {
			// The call could reach no device (a Jingle propose bounced).
			c.setPhase(msg.User, "OFFLINE", "is offline")
			break
		}
		c.setPhase(msg.User, "REJECTED", "rejected")
	case call.StopEvent:
		c.setPhase(msg.User, "HUNG UP", "hung up")
		c.lastHungUp = msg.User
	case call.UserNotAnswerEvent:
		c.setPhase(msg.User, "NO ANSWER", "did not answer")
	case call.ConnectionStateEvent:
		if p := c.peer(msg.User); p != nil {
			p.conn = msg.State
			if msg.State == call.ConnectionConnected || msg.State == call.ConnectionCompleted {
				p.reconnecting = false
				if c.connectedAt.IsZero() {
					c.connectedAt = c.env.now()
				}
			}
			c.logf("%s %s", nameOf(msg.User, c.names), p.stateText())
			if msg.Reason != "" {
				// Not just FAILED: what to do about it (a relay, see the README).
				c.logf("%s: %s", nameOf(msg.User, c.names), msg.Reason)
			}
		}
	case call.ReconnectEvent:
		if p := c.peer(msg.User); p != nil {
			switch msg.State {
			case call.Reconnecting:
				p.reconnecting = true
			case call.Reconnected:
				p.reconnecting = false
				p.conn = call.ConnectionConnected
			case call.ReconnectionFailed:
				p.reconnecting = false
				p.conn = call.ConnectionFailed
			}
			c.logf("%s %s", nameOf(msg.User, c.names), msg.State)
		}
	case call.UpdateEvent:
		text := fmtExt(msg.Ext)
		if p := c.peer(msg.User); p != nil {
			p.update = text
		}
		c.lastUpdate = nameOf(msg.User, c.names) + ": " + text
		c.logf("update from %s: %s", nameOf(msg.User, c.names), text)
	case call.InvalidEvent:
		c.logf("invalid %s: %s", msg.Op, errText(msg.Err))
	case call.RemoteStreamEvent:
		if msg.Stream == nil {
			break
		}
		user := msg.User
		if user == "" {
			user = msg.Stream.User
		}
		if p := c.peer(user); p != nil {
			if msg.Stream.Kind == devices.KindVideo {
				p.video = msg.Stream.Video
			} else {
				p.audio = true
			}
		}
		c.logf("%s %s stream started", nameOf(user, c.names), msg.Stream.Kind)
	case call.StatsEvent:
		if p := c.peer(msg.User); p != nil {
			p.stats = msg.Stats
			p.hasStats = true
		}
	case call.SessionStateEvent:
		c.logf("session %s", msg.New)
	case call.SessionCloseEvent:
		c.logf("session closed: %s", msg.Reason)
	}
	c.refresh()
	return nil
}

func errText(err error) string {
	if err == nil {
		return "(no reason)"
	}
	return shortError(err)
}

// fmtExt shows an extension as k=v pairs, sorted.
func fmtExt(ext call.Extension) string {
	if len(ext) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(ext))
	for k := range ext {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		switch v := ext[k].(type) {
		case call.Extension:
			parts = append(parts, k+"={"+fmtExt(v)+"}")
		case map[string]any:
			parts = append(parts, k+"={"+fmtExt(call.Extension(v))+"}")
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

// tick redraws the call timer and the labels once a second; video frames are drawn
// by the video.Screen, not through the view.
func (c *callModel) tick() tea.Cmd {
	id := c.sessionID
	d := time.Second
	if c.callType == call.CallTypeAudio {
		d = 200 * time.Millisecond // the level meters move live
	}
	return c.env.tick(d, func(time.Time) tea.Msg { return callTickMsg{SessionID: id} })
}

// update handles a key on the call screen.
func (c *callModel) update(k tea.KeyPressMsg) tea.Cmd {
	keys := c.env.keys
	switch {
	case key.Matches(k, keys.Hangup):
		if c.hangingUp {
			return nil
		}
		c.hangingUp = true
		c.logf("hanging up")
		id, eng := c.sessionID, c.env.engine
		return func() tea.Msg {
			var err error
			if s := eng.Session(id); s != nil {
				err = s.Stop(nil)
			}
			return hungUpMsg{SessionID: id, Err: err}
		}
	case key.Matches(k, keys.Mute):
		c.micMuted = !c.micMuted
		return c.syncMute(devices.KindAudio)
	case key.Matches(k, keys.Camera):
		if c.callType == call.CallTypeAudio {
			return nil
		}
		c.camOff = !c.camOff
		return c.syncMute(devices.KindVideo)
	case key.Matches(k, keys.Stats):
		c.showStats = !c.showStats
	case key.Matches(k, keys.Log):
		c.showLog = !c.showLog
	}
	return nil
}

// hungUpMsg: Stop returned.
type hungUpMsg struct {
	SessionID string
	Err       error
}

// muteOp is the engine side of a mute switch. Its operations run one at a time:
// Cmds run concurrently, so a quick m m would race Mute against Unmute and could
// leave the microphone muted while the screen says on. A press while one runs only
// changes what is wanted; the result sends the next operation if it still differs.
type muteOp struct {
	busy    bool // an operation is on its way
	applied bool // muted, as the engine last confirmed
}

// switchOf returns the wanted state and the operations of kind k.
func (c *callModel) switchOf(k devices.Kind) (want *bool, op *muteOp) {
	if k == devices.KindVideo {
		return &c.camOff, &c.camOp
	}
	return &c.micMuted, &c.micOp
}

// syncMute starts an operation bringing the engine to the wanted state, unless one
// runs or there is nothing to do.
func (c *callModel) syncMute(k devices.Kind) tea.Cmd {
	want, op := c.switchOf(k)
	if op.busy || *want == op.applied {
		return nil
	}
	op.busy = true
	return c.muteCmd(k, *want)
}

func (c *callModel) muteCmd(k devices.Kind, mute bool) tea.Cmd {
	id, eng := c.sessionID, c.env.engine
	if mute {
		c.logf("%s off", kindLabel(k))
	} else {
		c.logf("%s on", kindLabel(k))
	}
	return func() tea.Msg {
		s := eng.Session(id)
		if s == nil {
			return muteResultMsg{SessionID: id, Kind: k, Muted: mute}
		}
		var err error
		if mute {
			err = s.Mute(k)
		} else {
			err = s.Unmute(k)
		}
		if err != nil {
			err = fmt.Errorf("%s: %w", kindLabel(k), err)
		}
		return muteResultMsg{SessionID: id, Kind: k, Muted: mute, Err: err}
	}
}

func kindLabel(k devices.Kind) string {
	if k == devices.KindVideo {
		return "camera"
	}
	return "microphone"
}

// muteResult records what the engine did and sends what was wanted meanwhile; a
// failure shows the state the engine kept.
func (c *callModel) muteResult(msg muteResultMsg) tea.Cmd {
	want, op := c.switchOf(msg.Kind)
	op.busy = false
	if msg.Err != nil {
		*want = op.applied
		return nil
	}
	op.applied = msg.Muted
	return c.syncMute(msg.Kind)
}

// record is the history entry of this call.
func (c *callModel) record(now time.Time, reason string) historyRecord {
	kind := "received"
	if c.outgoing {
		kind = "placed"
	}
	var d time.Duration
	if !c.connectedAt.IsZero() {
		d = now.Sub(c.connectedAt)
	}
	var ids []call.UserID
	for _, p := range c.peers {
		ids = append(ids, p.id)
	}
	return historyRecord{When: c.started, Kind: kind, Peers: ids, CallType: c.callType, Duration: d, Reason: reason}
}

// ShortHelp implements help.KeyMap.
// The most important first: a narrow hint line drops from the end. An audio call has
// no camera to switch.
func (c *callModel) ShortHelp() []key.Binding {
	k := c.env.keys
	if c.callType == call.CallTypeAudio {
		return []key.Binding{k.Hangup, k.Mute, k.Stats, k.Log}
	}
	return []key.Binding{k.Hangup, k.Mute, k.Camera, k.Stats, k.Log}
}

// FullHelp implements help.KeyMap.
func (c *callModel) FullHelp() [][]key.Binding {
	k := c.env.keys
	if c.callType == call.CallTypeAudio {
		return [][]key.Binding{{k.Mute}, {k.Stats, k.Log}, {k.Hangup}}
	}
	return [][]key.Binding{{k.Mute, k.Camera}, {k.Stats, k.Log}, {k.Hangup}}
}

// callGeom is where the call screen's parts go, in screen cells.
type callGeom struct {
	w, h   int        // the body
	top    int        // the body's first row on the screen
	area   video.Rect // the video area (the body above the footer)
	layout video.CallLayout
	foot   string
	stats  string     // the stats overlay; "" when hidden
	statsR video.Rect // where it is drawn
}

// geometry places the call screen in a body of w x h cells whose first row is top.
// View and the video tiles both come from it, so they always agree.
func (c *callModel) geometry(w, h, top int) callGeom {
	g := callGeom{w: w, h: h, top: top, foot: c.footer(w, h)}
	areaH := h - lipgloss.Height(g.foot)
	if areaH < 3 {
		return g
	}
	g.area = video.Rect{X: 0, Y: top, W: w, H: areaH}
	local := c.callType != call.CallTypeAudio
	g.layout = video.Layout(g.area, len(c.visible()), local, 640, 480)
	if c.showStats {
		g.stats = c.statsView(w)
		g.statsR = video.Rect{X: 1, Y: top + 1, W: lipgloss.Width(g.stats), H: lipgloss.Height(g.stats)}.Intersect(g.area)
	}
	return g
}

// footer is the line of own state and the last update, and the event log when shown.
func (c *callModel) footer(w, h int) string {
	st := c.env.styles
	var footer []string
	mine := []string{}
	if c.micMuted {
		mine = append(mine, st.StateWarn.Render("mic muted"))
	} else {
		mine = append(mine, "mic on")
	}
	if c.callType != call.CallTypeAudio {
		if c.camOff {
			mine = append(mine, st.StateWarn.Render("camera off"))
		} else {
			mine = append(mine, "camera on")
		}
	}
	if c.hangingUp {
		mine = append(mine, st.StateWarn.Render("hanging up…"))
	}
	if c.lastUpdate != "" {
		mine = append(mine, "update "+c.lastUpdate)
	}
	footer = append(footer, strings.Join(mine, " · "))
	if c.showLog {
		n := min(8, max(h/3, 3))
		ev := c.events
		if len(ev) > n {
			ev = ev[len(ev)-n:]
		}
		footer = append(footer, st.LogPane.Width(w).Render(fitLines(strings.Join(ev, "\n"), w, n)))
	}
	return strings.Join(footer, "\n")
}

// view draws the body of the call screen: blanks where video goes (the video.Screen
// draws there), a label under each picture, the stats overlay and the footer.
func (c *callModel) view(g callGeom) string {
	if g.area.Empty() {
		return fitLines(g.foot, g.w, g.h)
	}
	st := c.env.styles
	out := make([]string, g.area.H)
	blank := strings.Repeat(" ", g.w)
	for i := range out {
		out[i] = blank
	}
	put := func(r video.Rect, s string) { overlay(out, strings.Split(s, "\n"), r.X-g.area.X, r.Y-g.area.Y) }
	videoCall := c.callType != call.CallTypeAudio
	for i, p := range c.visible() {
		if i >= len(g.layout.Remotes) {
			break
		}
		pane := g.layout.Remotes[i]
		state := p.stateText()
		if videoCall {
			if v := slotState(p.video); v != "" && !p.left() {
				state += " · " + v
			} else if p.dark && !p.left() {
				state += " · camera off"
			}
			if !c.showsPicture(p) && !pane.Video.Empty() {
				put(pane.Video, c.placeholder(p, pane.Video.W, pane.Video.H))
			}
		} else if !pane.Video.Empty() {
			put(pane.Video, c.audioPanel(p, pane.Video.W, pane.Video.H))
		}
		if p.hasStats && p.audio && p.stats.Remote.Audio.BitrateKbps < silentKbps && !p.left() {
			state += " · silent"
		}
		put(pane.Label, stateStyle(st, p.stateText()).Render(video.Label(nameOf(p.id, c.names), state, pane.Label.W)))
	}
	if lp := g.layout.Local; !lp.Label.Empty() {
		var slot *devices.FrameSlot
		if c.local != nil {
			slot = c.local.Preview
		}
		label := video.Label("you", slotState(slot), lp.Label.W)
		if c.camOff {
			label = st.StateWarn.Render(video.Label("you (camera off)", "", lp.Label.W))
			if !lp.Video.Empty() {
				put(lp.Video, lipgloss.Place(lp.Video.W, lp.Video.H, lipgloss.Center, lipgloss.Center, ansi.Truncate("camera off", lp.Video.W, "")))
			}
		}
		put(lp.Label, label)
	}
	if g.stats != "" {
		put(g.statsR, g.stats)
	}
	return strings.Join(out, "\n") + "\n" + g.foot
}

// slotState says why a picture is black: no video track, or no frame yet.
func slotState(slot *devices.FrameSlot) string {
	if slot == nil {
		return "no video"
	}
	if img, _ := slot.Load(); img == nil {
		return "waiting for video"
	}
	return ""
}

func stateStyle(st Styles, state string) lipgloss.Style {
	switch state {
	case "CONNECTED":
		return st.StateGood
	case "CONNECTING", "RECONNECTING", "CALLING", "RINGING":
		return st.StateWarn
	case "FAILED", "REJECTED", "NO ANSWER":
		return st.StateBad
	default:
		return st.StateIdle
	}
}

// tiles are the pictures the video.Screen draws for g: one per opponent and the
// local preview, each told what is drawn above it (the preview, the stats overlay).
// Kitty images cannot be partly hidden: in that mode a picture under the stats
// overlay is left out while the overlay shows.
func (c *callModel) tiles(g callGeom, mode video.Mode) []video.Tile {
	if c.callType == call.CallTypeAudio || g.area.Empty() {
		return nil
	}
	var over []video.Rect
	if !g.statsR.Empty() {
		over = append(over, g.statsR)
	}
	hidden := func(r video.Rect) bool {
		return mode == video.ModeKitty && !g.statsR.Empty() && !r.Intersect(g.statsR).Empty()
	}
	occ := append(g.layout.Occluders(), over...)
	var out []video.Tile
	for i, p := range c.visible() {
		if i >= len(g.layout.Remotes) {
			break
		}
		r := g.layout.Remotes[i].Video
		if r.Empty() || hidden(r) || !c.showsPicture(p) {
			continue
		}
		out = append(out, video.Tile{ID: "remote:" + string(p.id), Source: p.video, Rect: r, Occlude: occ})
	}
	if r := g.layout.Local.Video; !r.Empty() && !c.camOff && !hidden(r) {
		var slot *devices.FrameSlot
		if c.local != nil {
			slot = c.local.Preview
		}
		out = append(out, video.Tile{ID: "local", Source: slot, Rect: r, Occlude: over})
	}
	return out
}

// overlay draws top over base with its top-left corner at (x, y), in place.
func overlay(base, top []string, x, y int) {
	for i, t := range top {
		row := y + i
		if row < 0 || row >= len(base) {
			continue
		}
		tw := ansi.StringWidth(t)
		b := base[row]
		base[row] = ansi.Truncate(b, x, "") + "\x1b[m" + t + "\x1b[m" + ansi.TruncateLeft(b, x+tw, "")
	}
}

// statsView is the overlay with each opponent's figures.
func (c *callModel) statsView(w int) string {
	var lines []string
	for _, p := range c.peers {
		name := nameOf(p.id, c.names)
		if !p.hasStats {
			lines = append(lines, name+": no stats yet")
			continue
		}
		s := p.stats
		head := fmt.Sprintf("%s  RTT %s · candidate %s", name, rttText(s.RTT), candText(s.Candidate))
		if s.AvailableOutgoingBitrate > 0 {
			head += fmt.Sprintf(" · available %.0f kbps", s.AvailableOutgoingBitrate/1000)
		}
		lines = append(lines,
			head,
			"  in:  "+directionText(s.Remote),
			"  out: "+directionText(s.Local),
		)
	}
	// Lines too long for the screen wrap inside the box (MaxWidth would cut its right
	// border off instead).
	box := c.env.styles.Overlay
	inner := max(w-2-box.GetHorizontalFrameSize(), 8)
	text := "stats\n" + strings.Join(lines, "\n")
	if lipgloss.Width(text) > inner {
		text = ansi.Wrap(text, inner, " ")
	}
	return box.Render(text)
}

// directionText is one direction's figures; video is left out while no video flows
// (audio calls, camera off on both sides).
func directionText(m call.MediaStats) string {
	audio := fmt.Sprintf("audio %4.0f kbps loss %d", m.Audio.BitrateKbps, m.Audio.PacketsLost)
	v := m.Video
	if v.Packets == 0 && v.BitrateKbps == 0 {
		return audio
	}
	video := fmt.Sprintf("video %4.0f kbps", v.BitrateKbps)
	// The engine knows no frame rate or size for what it sends: leave them out
	// rather than show 0.0 fps 0x0.
	if v.FPS > 0 {
		video += fmt.Sprintf(" %4.1f fps", v.FPS)
	}
	if v.Width > 0 && v.Height > 0 {
		video += fmt.Sprintf(" %dx%d", v.Width, v.Height)
	}
	if v.NACKCount > 0 || v.PLICount > 0 {
		video += fmt.Sprintf(" nack %d pli %d", v.NACKCount, v.PLICount)
	}
	if v.FreezeCount > 0 {
		video += fmt.Sprintf(" freezes %d (%.1fs)", v.FreezeCount, v.TotalFreezesDuration.Seconds())
	}
	if v.JitterBufferDelay > 0 {
		video += fmt.Sprintf(" jb %dms", v.JitterBufferDelay.Milliseconds())
	}
	if r := v.QualityLimitationReason; r != "" && r != "none" {
		video += " limited: " + r
	}
	if a := m.Audio; a.TotalSamplesReceived > 0 {
		audio += fmt.Sprintf(" concealed %.1f%%", 100*float64(a.ConcealedSamples)/float64(a.TotalSamplesReceived))
	}
	return fmt.Sprintf("%s loss %d · %s", video, v.PacketsLost, audio)
}

// rttText shows sub-millisecond round trips (loopback, LAN) instead of rounding
// them to "0s", and "-" before the first measurement.
func rttText(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return d.Round(time.Millisecond).String()
	}
}

func candText(p call.CandidatePair) string {
	if p.LocalType == "" && p.RemoteType == "" {
		return "-"
	}
	s := fmt.Sprintf("%s→%s/%s", p.LocalType, p.RemoteType, p.Protocol)
	if p.RelayProtocol != "" {
		// The user sees that the call goes through a relay, and how it is reached.
		s += " (TURN over " + p.RelayProtocol + ")"
	}
	return s
}
