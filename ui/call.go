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
	"github.com/ttycall/ttycall/call/signal"
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
func dialCmd(e *env, s Session, t signal.CallType, outgoing bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		id := s.ID()
		local, err := s.GetUserMedia(ctx, devices.MediaParams{Audio: true, Video: t != signal.CallTypeAudio, Mirror: true})
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
	id           signal.UserID
	conn         call.ConnectionState
	phase        string // before/after the connection: CALLING, RINGING, REJECTED, NO ANSWER, HUNG UP
	reconnecting bool
	video        *devices.FrameSlot
	audio        bool
	stats        call.Stats
	hasStats     bool
	update       string // the last update received
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
			return p.phase
		}
		return "CONNECTING"
	case call.ConnectionDisconnected:
		return "RECONNECTING"
	case call.ConnectionFailed:
		return "FAILED"
	case call.ConnectionClosed:
		return "CLOSED"
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
	callType  signal.CallType
	peers     []*peer
	names     map[signal.UserID]string

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
	lastHungUp  signal.UserID // the opponent who hung up last; "" before
	events      []string      // the event log, oldest first
	lastUpdate  string
}

const maxEventLog = 200

func newCall(e *env, id string, outgoing bool, t signal.CallType, opponents []signal.UserID, names map[signal.UserID]string) *callModel {
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

func (c *callModel) peer(id signal.UserID) *peer {
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
	for _, p := range c.peers {
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
func (c *callModel) setPhase(id signal.UserID, phase, did string) {
	if p := c.peer(id); p != nil {
		p.phase = phase
	}
	c.logf("%s %s", nameOf(id, c.names), did)
}

// handle applies an engine message of this session.
func (c *callModel) handle(msg sessionMsg) tea.Cmd {
	switch msg := msg.(type) {
	case acceptMsg:
		c.setPhase(msg.User, "CONNECTING", "accepted")
	case rejectMsg:
		c.setPhase(msg.User, "REJECTED", "rejected")
	case stopMsg:
		c.setPhase(msg.User, "HUNG UP", "hung up")
		c.lastHungUp = msg.User
	case notAnsweredMsg:
		c.setPhase(msg.User, "NO ANSWER", "did not answer")
	case connStateMsg:
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
	case reconnectMsg:
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
	case updateMsg:
		text := fmtExt(msg.Ext)
		if p := c.peer(msg.User); p != nil {
			p.update = text
		}
		c.lastUpdate = nameOf(msg.User, c.names) + ": " + text
		c.logf("update from %s: %s", nameOf(msg.User, c.names), text)
	case invalidMsg:
		c.logf("invalid %s: %s", msg.Op, errText(msg.Err))
	case remoteStreamMsg:
		if p := c.peer(msg.User); p != nil {
			if msg.Kind == devices.KindVideo {
				p.video = msg.Video
			} else {
				p.audio = true
			}
		}
		c.logf("%s %s stream started", nameOf(msg.User, c.names), msg.Kind)
	case statsMsg:
		if p := c.peer(msg.User); p != nil {
			p.stats = msg.Stats
			p.hasStats = true
		}
	case sessionStateMsg:
		c.logf("session %s", msg.New)
	case sessionClosedMsg:
		c.logf("session closed: %s", msg.Reason)
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return "(no reason)"
	}
	return shortError(err)
}

// fmtExt shows an extension as k=v pairs, sorted.
func fmtExt(ext signal.Extension) string {
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
		case signal.Extension:
			parts = append(parts, k+"={"+fmtExt(v)+"}")
		case map[string]any:
			parts = append(parts, k+"={"+fmtExt(signal.Extension(v))+"}")
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
	return c.env.tick(time.Second, func(time.Time) tea.Msg { return callTickMsg{SessionID: id} })
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
		if c.callType == signal.CallTypeAudio {
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
	var ids []signal.UserID
	for _, p := range c.peers {
		ids = append(ids, p.id)
	}
	return historyRecord{When: c.started, Kind: kind, Peers: ids, CallType: c.callType, Duration: d, Reason: reason}
}

// ShortHelp implements help.KeyMap.
func (c *callModel) ShortHelp() []key.Binding {
	k := c.env.keys
	return []key.Binding{k.Mute, k.Camera, k.Stats, k.Log, k.Hangup}
}

// FullHelp implements help.KeyMap.
func (c *callModel) FullHelp() [][]key.Binding {
	k := c.env.keys
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
	local := c.callType != signal.CallTypeAudio
	g.layout = video.Layout(g.area, len(c.peers), local, 640, 480)
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
	if c.callType != signal.CallTypeAudio {
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
	videoCall := c.callType != signal.CallTypeAudio
	for i, p := range c.peers {
		if i >= len(g.layout.Remotes) {
			break
		}
		pane := g.layout.Remotes[i]
		state := p.stateText()
		if videoCall {
			if v := slotState(p.video); v != "" && !p.left() {
				state += " · " + v
			}
		} else {
			audio := "audio only"
			if p.audio {
				audio = "audio only · receiving"
			}
			put(pane.Video, lipgloss.Place(pane.Video.W, pane.Video.H, lipgloss.Center, lipgloss.Center, ansi.Truncate(audio, pane.Video.W, "")))
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
	if c.callType == signal.CallTypeAudio || g.area.Empty() {
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
	for i, p := range c.peers {
		if i >= len(g.layout.Remotes) {
			break
		}
		r := g.layout.Remotes[i].Video
		if r.Empty() || hidden(r) || p.left() {
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
		lines = append(lines,
			fmt.Sprintf("%s  RTT %s · candidate %s", name, rttText(s.RTT), candText(s.Candidate)),
			"  in:  "+directionText(s.Remote),
			"  out: "+directionText(s.Local),
		)
	}
	return c.env.styles.Overlay.MaxWidth(max(w-2, 10)).Render("stats\n" + strings.Join(lines, "\n"))
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
