package ui

// The conference room screen: `r` on the contacts screen asks for a room ID and joins
// it on the [conference] Janus server; the room's participants are laid out as tiles,
// the active speaker in the largest. Kept apart from the call screen: a room is not a
// call session of the engine.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

// RoomJoiner joins conference rooms (the real one is in roomjoin.go; tests use fakes).
type RoomJoiner interface {
	// Join joins room; onEvent gets the room's events (from a goroutine of the room's).
	Join(ctx context.Context, room string, onEvent func(conference.Event)) (Room, error)
}

// Room is the part of *conference.Room the screen uses, plus our own media.
type Room interface {
	Participants() []conference.Participant
	// SetLayers subscribes to the video of the participants listed, each at a
	// simulcast layer (when they send simulcast); the others' video is dropped.
	SetLayers(layers map[string]conference.Layer)
	Local() *devices.LocalStream
	Close() error
}

// roomKeys are the keys of the room screen and the contacts screen's r.
type roomKeys struct {
	Join, Mute, Camera, Leave key.Binding
}

func defaultRoomKeys() roomKeys {
	return roomKeys{
		Join:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "join a room")),
		Mute:   key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mute/unmute mic")),
		Camera: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "camera on/off")),
		Leave:  key.NewBinding(key.WithKeys("h", "esc"), key.WithHelp("h/esc", "leave the room")),
	}
}

// Messages of the room screen; seq drops those of a room already left.
type (
	roomJoinedMsg struct {
		seq  int
		room Room
		err  error
	}
	roomTickMsg struct{ seq int }
	roomLeftMsg struct{ seq int }
)

// roomModel is the room screen (and the room ID prompt before it).
type roomModel struct {
	env    *env
	keys   roomKeys
	joiner RoomJoiner

	prompt    textinput.Model
	prompting bool

	seq         int
	id          string // the room; "" when in none
	room        Room   // nil while joining
	status      string
	events      chan conference.Event
	parts       []conference.Participant
	speaker     string // the active speaker's ID
	micMuted    bool
	camOff      bool
	visible     string // the layers last given to SetLayers, as text
	visibleSent bool
}

func newRoom(e *env, j RoomJoiner) roomModel {
	p := textinput.New()
	p.Prompt = "join room: "
	p.Placeholder = "room ID"
	st := p.Styles()
	st.Cursor.Blink = false
	p.SetStyles(st)
	return roomModel{env: e, keys: defaultRoomKeys(), joiner: j, prompt: p}
}

func (r *roomModel) active() bool { return r.id != "" }

// roomEventQueue is how many room events wait for the UI's next tick; past it they are
// dropped (the screen redraws from Participants() on every tick anyway).
const roomEventQueue = 256

// roomTick is how often the screen refreshes participants (names, states, speaker).
const roomTick = 250 * time.Millisecond

// startPrompt shows the room ID prompt.
func (r *roomModel) startPrompt() tea.Cmd {
	r.prompting = true
	r.prompt.SetValue("")
	return r.prompt.Focus()
}

// promptKey handles a key while the prompt shows.
func (r *roomModel) promptKey(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, r.env.keys.Cancel):
		r.prompting = false
		r.prompt.Blur()
		return nil
	case key.Matches(k, r.env.keys.Submit):
		id := strings.TrimSpace(r.prompt.Value())
		r.prompting = false
		r.prompt.Blur()
		if id == "" {
			return nil
		}
		return r.join(id)
	}
	var cmd tea.Cmd
	r.prompt, cmd = r.prompt.Update(k)
	return cmd
}

// join starts joining room id.
func (r *roomModel) join(id string) tea.Cmd {
	if r.joiner == nil {
		return func() tea.Msg { return roomJoinedMsg{seq: r.seq, err: fmt.Errorf("conferences are not set up")} }
	}
	r.seq++
	seq := r.seq
	r.id, r.room, r.status, r.parts, r.speaker = id, nil, "joining…", nil, ""
	r.micMuted, r.camOff, r.visible, r.visibleSent = false, false, "", false
	events := make(chan conference.Event, roomEventQueue)
	r.events = events
	log := r.env.log
	j := r.joiner
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		room, err := j.Join(ctx, id, func(e conference.Event) {
			select {
			case events <- e:
			default:
				log.Warn("room event dropped: the screen is behind", "event", fmt.Sprintf("%T", e))
			}
		})
		return roomJoinedMsg{seq: seq, room: room, err: err}
	}
}

// leave closes the room; the screen goes back to contacts at once.
func (r *roomModel) leave() tea.Cmd {
	room, seq := r.room, r.seq
	r.seq++
	r.id, r.room, r.parts, r.events = "", nil, nil, nil
	if room == nil {
		return nil
	}
	log := r.env.log
	return func() tea.Msg {
		if err := room.Close(); err != nil {
			log.Warn("leave room", "err", err)
		}
		return roomLeftMsg{seq: seq}
	}
}

// update handles the room's messages; ok is false for messages of no room.
func (r *roomModel) update(msg tea.Msg) (cmd tea.Cmd, err error, ok bool) {
	switch msg := msg.(type) {
	case roomJoinedMsg:
		if msg.seq != r.seq {
			if msg.room != nil { // left while joining
				room := msg.room
				return func() tea.Msg { room.Close(); return nil }, nil, true
			}
			return nil, nil, true
		}
		if msg.err != nil {
			id := r.id
			r.id = ""
			return nil, fmt.Errorf("could not join room %s: %w", id, msg.err), true
		}
		r.room, r.status = msg.room, "joined"
		r.refresh()
		return r.tick(), nil, true
	case roomTickMsg:
		if msg.seq != r.seq || r.room == nil {
			return nil, nil, true
		}
		err := r.drain()
		r.refresh()
		return r.tick(), err, true
	case roomLeftMsg:
		return nil, nil, true
	}
	return nil, nil, false
}

// drain takes the room events that arrived since the last tick (the screen polls them
// with its tick: no reader command blocks on the room).
func (r *roomModel) drain() error {
	var err error
	for {
		select {
		case e := <-r.events:
			switch e := e.(type) {
			case conference.TalkingEvent:
				if e.Talking {
					r.speaker = e.ID
				}
			case conference.ServerLostEvent:
				r.status = "server lost · rejoining…"
			case conference.JoinedEvent:
				r.status = "joined"
			case conference.LeftEvent:
				r.status = "left: " + e.Reason
				if e.Err != nil {
					err = fmt.Errorf("room: %w", e.Err)
				}
			}
		default:
			return err
		}
	}
}

func (r *roomModel) tick() tea.Cmd {
	seq := r.seq
	return r.env.tick(roomTick, func(time.Time) tea.Msg { return roomTickMsg{seq: seq} })
}

// refresh takes the participants from the room; the active speaker stays the last one
// who talked while they are there, else the first talking one, else the first.
func (r *roomModel) refresh() {
	if r.room == nil {
		return
	}
	r.parts = r.room.Participants()
	here := false
	for _, p := range r.parts {
		if p.ID == r.speaker {
			here = true
		}
	}
	if !here {
		r.speaker = ""
		for _, p := range r.parts {
			if p.Talking {
				r.speaker = p.ID
				break
			}
		}
	}
}

// key handles a key on the room screen.
func (r *roomModel) key(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, r.keys.Leave):
		return r.leave()
	case key.Matches(k, r.keys.Mute):
		if ls := r.local(); ls != nil && ls.Audio != nil {
			r.micMuted = !r.micMuted
			ls.Audio.SetEnabled(!r.micMuted)
		}
	case key.Matches(k, r.keys.Camera):
		if ls := r.local(); ls != nil && ls.Video != nil {
			r.camOff = !r.camOff
			ls.Video.SetEnabled(!r.camOff)
		}
	}
	return nil
}

func (r *roomModel) local() *devices.LocalStream {
	if r.room == nil {
		return nil
	}
	return r.room.Local()
}

// ShortHelp implements help.KeyMap.
func (r *roomModel) ShortHelp() []key.Binding {
	return []key.Binding{r.keys.Mute, r.keys.Camera, r.keys.Leave}
}

// FullHelp implements help.KeyMap.
func (r *roomModel) FullHelp() [][]key.Binding { return [][]key.Binding{r.ShortHelp()} }

func (r *roomModel) title() string {
	return fmt.Sprintf("room %s · %d other(s) · %s", r.id, len(r.parts), r.status)
}

// ordered puts the active speaker first, then the others by name.
func (r *roomModel) ordered() []conference.Participant {
	ps := append([]conference.Participant(nil), r.parts...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].ID == r.speaker && ps[j].ID != r.speaker })
	return ps
}

// roomGeom is where things go on the room screen.
type roomGeom struct {
	w, h  int
	foot  string
	area  video.Rect
	panes []video.Pane // in ordered() order
	parts []conference.Participant
	local video.Pane // our preview, above the bottom-right corner; zero without video
}

func (r *roomModel) geometry(w, h, top int) roomGeom {
	g := roomGeom{w: w, h: h, foot: r.footer()}
	areaH := h - lipgloss.Height(g.foot)
	if areaH < 3 {
		return g
	}
	g.area = video.Rect{X: 0, Y: top, W: w, H: areaH}
	g.parts = r.ordered()
	g.panes = roomLayout(g.area, len(g.parts))
	if ls := r.local(); ls != nil && ls.Preview != nil {
		g.local = video.Layout(g.area, max(len(g.parts), 1), true, 4, 3).Local
	}
	return g
}

// roomLayout gives the first participant (the active speaker) the largest pane: the
// top two thirds of the area, the others a grid in the rest. One or two participants
// share the area as a plain grid.
func roomLayout(area video.Rect, n int) []video.Pane {
	if n <= 2 || area.H < 9 {
		return video.Layout(area, n, false, 4, 3).Remotes
	}
	topH := area.H * 2 / 3
	top := video.Layout(video.Rect{X: area.X, Y: area.Y, W: area.W, H: topH}, 1, false, 4, 3).Remotes
	rest := video.Layout(video.Rect{X: area.X, Y: area.Y + topH, W: area.W, H: area.H - topH}, n-1, false, 4, 3).Remotes
	return append(top, rest...)
}

// minTile is the smallest picture worth receiving video for (columns x rows).
const minTileW, minTileH = 8, 3

func (r *roomModel) footer() string {
	st := r.env.styles
	var mine []string
	if r.micMuted {
		mine = append(mine, st.StateWarn.Render("mic muted"))
	} else {
		mine = append(mine, "mic on")
	}
	if r.camOff {
		mine = append(mine, st.StateWarn.Render("camera off"))
	} else {
		mine = append(mine, "camera on")
	}
	return strings.Join(mine, " · ")
}

func (r *roomModel) view(g roomGeom) string {
	if g.area.Empty() {
		return fitLines(g.foot, g.w, g.h)
	}
	st := r.env.styles
	out := make([]string, g.area.H)
	blank := strings.Repeat(" ", g.w)
	for i := range out {
		out[i] = blank
	}
	put := func(rc video.Rect, s string) { overlay(out, strings.Split(s, "\n"), rc.X-g.area.X, rc.Y-g.area.Y) }
	if len(g.parts) == 0 {
		msg := "nobody else in the room yet"
		if r.room == nil {
			msg = "joining room " + r.id + "…"
		}
		put(g.area, lipgloss.Place(g.area.W, g.area.H, lipgloss.Center, lipgloss.Center, ansi.Truncate(msg, g.area.W, "")))
	}
	for i, p := range g.parts {
		if i >= len(g.panes) {
			break
		}
		pane := g.panes[i]
		state := p.State.String()
		if p.State == conference.FeedStateUnknown {
			state = "joined"
		}
		name := p.Display
		if name == "" {
			name = p.ID
		}
		if p.ID == r.speaker || p.Talking {
			name = "🔊 " + name
		}
		if !p.Video && !pane.Video.Empty() {
			msg := "audio only"
			if !p.Audio {
				msg = "not publishing"
			}
			put(pane.Video, lipgloss.Place(pane.Video.W, pane.Video.H, lipgloss.Center, lipgloss.Center, ansi.Truncate(msg, pane.Video.W, "")))
		} else if p.VideoStream != nil {
			if v := slotState(p.VideoStream.Video); v != "" {
				state += " · " + v
			}
		}
		put(pane.Label, stateStyle(st, p.State.String()).Render(video.Label(name, state, pane.Label.W)))
	}
	if lp := g.local; !lp.Label.Empty() {
		label := video.Label("you", "", lp.Label.W)
		if r.camOff {
			label = st.StateWarn.Render(video.Label("you (camera off)", "", lp.Label.W))
		}
		put(lp.Label, label)
	}
	return strings.Join(out, "\n") + "\n" + g.foot
}

// tiles are the pictures of the visible participants' video.
func (r *roomModel) tiles(g roomGeom) []video.Tile {
	var out []video.Tile
	for i, p := range g.parts {
		if i >= len(g.panes) {
			break
		}
		rc := g.panes[i].Video
		if rc.Empty() || p.VideoStream == nil || p.VideoStream.Video == nil {
			continue
		}
		var occ []video.Rect
		if !g.local.Video.Empty() {
			occ = []video.Rect{g.local.Bounds()}
		}
		out = append(out, video.Tile{ID: "room:" + p.ID, Source: p.VideoStream.Video, Rect: rc, Occlude: occ})
	}
	if rc := g.local.Video; !rc.Empty() && !r.camOff {
		out = append(out, video.Tile{ID: "local", Source: r.local().Preview, Rect: rc})
	}
	return out
}

// syncVisible subscribes to the video of the participants with a pane big enough to
// show it, at the simulcast layer the pane is worth, and drops the others' (receive
// only what is drawn).
func (r *roomModel) syncVisible(g roomGeom) {
	if r.room == nil {
		return
	}
	layers := map[string]conference.Layer{}
	var keys []string
	for i, p := range g.parts {
		if i < len(g.panes) && g.panes[i].Video.W >= minTileW && g.panes[i].Video.H >= minTileH {
			layers[p.ID] = layerFor(g.panes[i].Video)
			keys = append(keys, fmt.Sprintf("%s=%d", p.ID, layers[p.ID]))
		}
	}
	sort.Strings(keys)
	joined := strings.Join(keys, ",")
	if r.visibleSent && joined == r.visible {
		return
	}
	r.visible, r.visibleSent = joined, true
	r.room.SetLayers(layers)
}

// layerFor is the simulcast layer worth a picture of rc cells: in half blocks a cell
// is a pixel wide, so a tile under 120 columns shows no more than the quarter-size
// layer holds (160 pixels of a 640 picture), under 240 the half-size one.
func layerFor(rc video.Rect) conference.Layer {
	switch {
	case rc.W < 120:
		return conference.LayerLow
	case rc.W < 240:
		return conference.LayerMedium
	default:
		return conference.LayerHigh
	}
}
