package ui

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/devices"
)

type fakeRoom struct {
	mu      sync.Mutex
	parts   []conference.Participant
	visible [][]string
	layers  map[string]conference.Layer
	closed  bool
	onEvent func(conference.Event)
	local   *devices.LocalStream
}

func (r *fakeRoom) Participants() []conference.Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]conference.Participant(nil), r.parts...)
}
func (r *fakeRoom) SetLayers(layers map[string]conference.Layer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for id := range layers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	r.visible = append(r.visible, ids)
	r.layers = layers
}
func (r *fakeRoom) Local() *devices.LocalStream { return r.local }
func (r *fakeRoom) Close() error                { r.closed = true; return nil }
func (r *fakeRoom) lastVisible() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.visible) == 0 {
		return nil
	}
	return r.visible[len(r.visible)-1]
}

type fakeJoiner struct {
	room   *fakeRoom
	err    error
	joined []string
}

func (j *fakeJoiner) Join(ctx context.Context, room string, onEvent func(conference.Event)) (Room, error) {
	j.joined = append(j.joined, room)
	if j.err != nil {
		return nil, j.err
	}
	j.room.onEvent = onEvent
	return j.room, nil
}

func roomHarness(t *testing.T, j *fakeJoiner) *harness {
	h := newHarness(t)
	h.m.room.joiner = j
	return h
}

func typeText(h *harness, s string) {
	for _, r := range s {
		h.key(string(r))
	}
}

// TestRoomJoinGridSpeakerLeave: r asks for a room ID and joins it; the participants
// get tiles with their names, the one talking comes first (the largest tile), video is
// asked for the tiles drawn, a participant who leaves loses its tile, h leaves.
func TestRoomJoinGridSpeakerLeave(t *testing.T) {
	fr := &fakeRoom{parts: []conference.Participant{
		{ID: "a", Display: "Ann", State: conference.FeedConnected, Audio: true, Video: true},
		{ID: "b", Display: "Bob", State: conference.FeedConnected, Audio: true, Video: true},
		{ID: "c", Display: "Cat", State: conference.FeedConnecting, Audio: true},
	}, local: &devices.LocalStream{Preview: &devices.FrameSlot{}}}
	j := &fakeJoiner{room: fr}
	h := roomHarness(t, j)
	h.key("r")
	h.mustSee("join room:")
	typeText(h, "acc")
	h.key("enter")
	if len(j.joined) != 1 || j.joined[0] != "acc" {
		t.Fatalf("joined %v", j.joined)
	}
	h.mustSee("room acc", "Ann", "Bob", "Cat", "audio only", "you")
	var local bool
	if n := len(h.vid.calls); n > 0 {
		for _, tl := range h.vid.calls[n-1] {
			local = local || tl.ID == "local"
		}
	}
	if !local {
		t.Fatalf("no local preview tile in %v", h.vid.calls)
	}
	if got := strings.Join(fr.lastVisible(), ","); got != "a,b,c" {
		t.Fatalf("visible %q", got)
	}
	// Bob talks: he is drawn first, in the big tile, with the speaker mark.
	fr.onEvent(conference.TalkingEvent{ID: "b", Talking: true})
	h.send(tea.WindowSizeMsg{Width: 400, Height: 120}) // big enough for a better layer
	h.send(roomTickMsg{seq: h.m.room.seq})
	if fr.layers["b"] <= fr.layers["a"] {
		t.Fatalf("layers %v: the speaker's big tile should get a higher layer", fr.layers)
	}
	if h.m.room.speaker != "b" || h.m.room.ordered()[0].ID != "b" {
		t.Fatalf("speaker %q order %v", h.m.room.speaker, h.m.room.ordered())
	}
	h.mustSee("🔊 Bob")
	g := h.m.room.geometry(h.m.width, 40, 1)
	if g.panes[0].Video.W <= g.panes[1].Video.W {
		t.Fatalf("speaker pane %v not larger than %v", g.panes[0].Video, g.panes[1].Video)
	}
	// Cat leaves.
	fr.mu.Lock()
	fr.parts = fr.parts[:2]
	fr.mu.Unlock()
	h.send(roomTickMsg{seq: h.m.room.seq})
	h.mustNotSee("Cat")
	h.key("h")
	if h.m.room.active() {
		t.Fatal("still in the room after h")
	}
	if !fr.closed {
		t.Fatal("room not closed")
	}
	h.mustSee("contacts")
}

func TestRoomJoinError(t *testing.T) {
	h := roomHarness(t, &fakeJoiner{err: errors.New("janus: unauthorized (wrong pin, secret or token)")})
	h.key("r")
	typeText(h, "locked")
	h.key("enter")
	h.mustSee("wrong pin")
	if h.m.room.active() {
		t.Fatal("in a room after a failed join")
	}
	h.key("r")
	if !h.m.room.prompting {
		t.Fatal("no prompt after r")
	}
	h.key("esc")
	if h.m.room.prompting {
		t.Fatal("prompt still up after esc")
	}
}
