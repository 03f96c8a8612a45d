package ui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	uv "github.com/charmbracelet/ultraviolet"
	"github.com/charmbracelet/x/ansi/kitty"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/ui/video"
)

func findTile(tiles []video.Tile, id string) (video.Tile, bool) {
	for _, t := range tiles {
		if t.ID == id {
			return t, true
		}
	}
	return video.Tile{}, false
}

// findTick is the first timer in msgs that delivers a T.
func findTick[T any](msgs []tea.Msg) (tickMsg, bool) {
	for _, m := range msgs {
		if t, ok := m.(tickMsg); ok {
			if _, ok := t.Msg.(T); ok {
				return t, true
			}
		}
	}
	return tickMsg{}, false
}

func inRects(x, y int, rs []video.Rect) bool {
	for _, r := range rs {
		if x >= r.X && x < r.X+r.W && y >= r.Y && y < r.Y+r.H {
			return true
		}
	}
	return false
}

// checkVideoAgrees checks that the video screen was given the pictures of the current
// view: every cell of every tile that nothing is declared above is blank in the view
// (the video screen draws there), and every non-blank cell the view draws inside a
// tile's rectangle is in its Occlude list. It returns the screen's lines.
func checkVideoAgrees(t *testing.T, h *harness) []string {
	t.Helper()
	lines := strings.Split(h.screen(), "\n")
	if len(lines) != 45 {
		t.Fatalf("%d lines", len(lines))
	}
	if !tilesEqual(h.vid.last(), h.m.videoTiles()) {
		t.Fatalf("video screen has %+v, the view needs %+v", h.vid.last(), h.m.videoTiles())
	}
	for _, tile := range h.vid.last() {
		r := tile.Rect
		if r.Empty() || r.X < 0 || r.Y < 0 || r.X+r.W > 160 || r.Y+r.H > 45 {
			t.Fatalf("tile %s outside the screen: %+v", tile.ID, r)
		}
		for y := r.Y; y < r.Y+r.H; y++ {
			row := []rune(lines[y])
			for x := r.X; x < r.X+r.W; x++ {
				if inRects(x, y, tile.Occlude) {
					continue
				}
				if x < len(row) && row[x] != ' ' {
					t.Fatalf("tile %s: the view draws %q at %d,%d under the video:\n%s", tile.ID, row[x], x, y, strings.Join(lines, "\n"))
				}
			}
		}
	}
	return lines
}

// connected is a video call with Bob, connected, both pictures flowing.
func connected(t *testing.T, h *harness) (id string, remote *devices.FrameSlot) {
	t.Helper()
	id = inCall(t, h)
	remote = &devices.FrameSlot{}
	remote.Store(testFrame())
	h.eng.session(id).local.Preview.Store(testFrame())
	h.event(call.RemoteStreamEvent{EventMeta: meta(id, "bob@example.org"), Stream: &call.RemoteStream{Kind: devices.KindVideo, Video: remote}})
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, "bob@example.org"), State: call.ConnectionConnected})
	return id, remote
}

func TestCallVideoTiles(t *testing.T) {
	h := newHarness(t)
	id, remote := connected(t, h)
	tiles := h.vid.last()
	if len(tiles) != 2 {
		t.Fatalf("tiles %+v", tiles)
	}
	rt, _ := findTile(tiles, "remote:bob@example.org")
	lt, ok := findTile(tiles, "local")
	if rt.Source != video.Source(remote) || !ok || lt.Source != video.Source(h.eng.session(id).local.Preview) {
		t.Fatalf("sources: %+v", tiles)
	}
	// The preview sits above the remote picture: the remote tile leaves it alone.
	if len(rt.Occlude) != 1 || rt.Occlude[0].Intersect(lt.Rect) != lt.Rect {
		t.Fatalf("remote occlusion %+v, preview at %+v", rt.Occlude, lt.Rect)
	}
	lines := checkVideoAgrees(t, h)
	// The labels sit right under the pictures.
	if !strings.Contains(lines[rt.Rect.Y+rt.Rect.H], "Bob (bob@example.org) · CONNECTED") {
		t.Fatalf("no remote label under the picture: %q", lines[rt.Rect.Y+rt.Rect.H])
	}
	if !strings.Contains(lines[lt.Rect.Y+lt.Rect.H], "you") {
		t.Fatalf("no local label under the preview: %q", lines[lt.Rect.Y+lt.Rect.H])
	}
	// Nothing changed: no new SetTiles on a tick.
	n := len(h.vid.calls)
	h.send(callTickMsg{SessionID: id})
	equal(t, len(h.vid.calls), n)
}

// TestCallVideoOverlays: whatever is drawn over or around the pictures (stats, the
// event log, help, an incoming call, an error) moves or occludes the tiles, and the view
// never draws under a picture.
func TestCallVideoOverlays(t *testing.T) {
	h := newHarness(t)
	connected(t, h)
	base := h.vid.last()

	h.key("s")
	lines := checkVideoAgrees(t, h)
	rt, _ := findTile(h.vid.last(), "remote:bob@example.org")
	if len(rt.Occlude) != 2 {
		t.Fatalf("stats overlay not declared above the picture: %+v", rt.Occlude)
	}
	st := rt.Occlude[1]
	if !strings.Contains(string([]rune(lines[st.Y+1])[st.X:st.X+st.W]), "stats") {
		t.Fatalf("stats text not in its rectangle %+v:\n%s", st, strings.Join(lines, "\n"))
	}
	h.key("s")
	checkVideoAgrees(t, h)
	if !tilesEqual(h.vid.last(), base) {
		t.Fatalf("closing the stats overlay did not restore the tiles: %+v", h.vid.last())
	}

	for _, k := range []string{"l", "?"} { // both make the video area shorter
		h.key(k)
		checkVideoAgrees(t, h)
		if tilesEqual(h.vid.last(), base) {
			t.Fatalf("%s: tiles did not move", k)
		}
		h.key(k)
		checkVideoAgrees(t, h)
	}

	h.ring("s2", "carol@example.org", call.CallTypeVideo)
	checkVideoAgrees(t, h)
	h.mustSee("Incoming video call")
	h.key("n")
	checkVideoAgrees(t, h)

	h.send(muteResultMsg{SessionID: h.m.call.sessionID, Kind: devices.KindAudio, Muted: true, Err: errBoom})
	h.mustSee("error: boom")
	checkVideoAgrees(t, h)

	// The camera off: no preview tile, the pane says so.
	h.key("c")
	if _, ok := findTile(h.vid.last(), "local"); ok {
		t.Fatal("preview tile with the camera off")
	}
	h.mustSee("you (camera off)")
	checkVideoAgrees(t, h)
}

func isClearScreen(msgs []tea.Msg) bool {
	for _, m := range msgs {
		if fmt.Sprintf("%T", m) == fmt.Sprintf("%T", tea.ClearScreen()) {
			return true
		}
	}
	return false
}

// TestCallVideoClearsAfterMove: after the tiles move, Bubble Tea clears and redraws the
// screen (undoing any scroll that carried video cells along), once.
func TestCallVideoClearsAfterMove(t *testing.T) {
	h := newHarness(t)
	id, _ := connected(t, h)
	if !isClearScreen(h.key("l")) {
		t.Fatal("no clear after the layout changed")
	}
	if isClearScreen(h.key("m")) { // a key that moves nothing
		t.Fatal("clear without a layout change")
	}
	h.key("h")
	if !isClearScreen(h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})) {
		t.Fatal("no clear after leaving the call screen")
	}
}

func TestCallVideoLeavingTheScreen(t *testing.T) {
	h := newHarness(t)
	id, _ := connected(t, h)
	h.key("h")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	equal(t, h.m.screen, screenContacts)
	if len(h.vid.calls) == 0 || len(h.vid.last()) != 0 {
		t.Fatalf("tiles after leaving the call: %+v", h.vid.last())
	}
	h.mustSee("ttycall · contacts", "call ended")
}

func TestCallVideoQuitRemovesTiles(t *testing.T) {
	h := newHarness(t)
	connected(t, h)
	h.key("q")
	if len(h.vid.last()) != 0 {
		t.Fatalf("tiles while quitting: %+v", h.vid.last())
	}
}

func TestCallAudioHasNoTiles(t *testing.T) {
	h := newHarness(t)
	h.key("a")
	if h.m.call == nil {
		t.Fatal("no call")
	}
	if len(h.vid.last()) != 0 {
		t.Fatalf("tiles in an audio call: %+v", h.vid.last())
	}
	// The audio screen: the name large, the time and state, and how to cancel.
	h.mustSee("B O B", "00:00 · RINGING", "(h to cancel)", "Bob (bob@example.org) · RINGING")
	h.mustNotSee("no video", "camera")
}

func TestCallVideoKitty(t *testing.T) {
	h := newHarness(t)
	connected(t, h)
	h.send(uv.KittyGraphicsEvent{Options: kitty.Options{ID: 7}, Payload: []byte("OK")}) // not our query
	equal(t, h.vid.mode, video.ModeHalfBlock)
	h.send(uv.KittyGraphicsEvent{Options: kitty.Options{ID: video.KittyQueryID}, Payload: []byte("EINVAL")})
	equal(t, h.vid.mode, video.ModeHalfBlock)
	n := len(h.vid.calls)
	h.send(uv.KittyGraphicsEvent{Options: kitty.Options{ID: video.KittyQueryID}, Payload: []byte("OK")})
	equal(t, h.vid.mode, video.ModeKitty)
	if len(h.vid.calls) != n+1 || len(h.vid.last()) != 2 {
		t.Fatalf("tiles not sent again in kitty mode: %+v", h.vid.calls[n:])
	}
	// A kitty image cannot be partly hidden: the picture under the stats overlay goes.
	h.key("s")
	if _, ok := findTile(h.vid.last(), "remote:bob@example.org"); ok {
		t.Fatal("kitty picture kept under the stats overlay")
	}
	checkVideoAgrees(t, h)
	h.key("s")
	if _, ok := findTile(h.vid.last(), "remote:bob@example.org"); !ok {
		t.Fatal("kitty picture not back after the stats overlay")
	}
}

func TestInitAsksForKitty(t *testing.T) {
	vid := &fakeVideo{}
	m := New(Options{Video: vid, KittyQuery: true})
	raw, ok := findMsg[tea.RawMsg](runCmd(m.Init()))
	if !ok || raw.Msg != video.KittyQuery {
		t.Fatalf("no kitty query from Init: %+v", raw)
	}
	m = New(Options{KittyQuery: true}) // no video screen: no question
	if _, ok := findMsg[tea.RawMsg](runCmd(m.Init())); ok {
		t.Fatal("kitty query without a video screen")
	}
}

// TestCallVideoTileOfAPeerWhoLeft: an opponent who hangs up (in a group call the call
// goes on) keeps a labelled tile without a picture; their last frame is not left frozen
// there. A failed connection that reconnects gets its picture back.
func TestCallVideoTileOfAPeerWhoLeft(t *testing.T) {
	h := newHarness(t)
	id, _ := connected(t, h)
	bob := "bob@example.org"
	h.event(call.StopEvent{EventMeta: meta(id, bob)})
	if tile, ok := findTile(h.vid.last(), "remote:"+bob); ok {
		t.Fatalf("the tile of an opponent who hung up still shows a picture: %+v", tile)
	}
	if _, ok := findTile(h.vid.last(), "local"); !ok {
		t.Fatal("the preview went with the opponent")
	}
	checkVideoAgrees(t, h)
	h.mustSee("Bob (bob@example.org) · HUNG UP")
	h.mustNotSee("no video", "waiting for video")

	h = newHarness(t)
	id, remote := connected(t, h)
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, bob), State: call.ConnectionFailed})
	h.mustSee("Bob (bob@example.org) · FAILED")
	if _, ok := findTile(h.vid.last(), "remote:"+bob); ok {
		t.Fatal("a failed connection's last frame is still shown")
	}
	checkVideoAgrees(t, h)
	h.event(call.ReconnectEvent{EventMeta: meta(id, bob), State: call.Reconnecting})
	h.mustSee("Bob (bob@example.org) · RECONNECTING")
	if tile, ok := findTile(h.vid.last(), "remote:"+bob); !ok || tile.Source != video.Source(remote) {
		t.Fatalf("reconnecting: remote tile %+v, %v", tile, ok)
	}
	checkVideoAgrees(t, h)
}
