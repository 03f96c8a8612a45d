package janus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

func startJanus(t testing.TB, rooms ...janusserver.Room) *janusserver.Server {
	janusservertest.NeedMedia(t)
	return janusservertest.Start(t, janusserver.Options{Rooms: rooms, ICEAddress: janusserver.ICEAddress()})
}

// TestHeadlessRoom: three `ttycall headless --room` processes each receive the other
// two's audio and video; one quits and the others report it gone; Janus restarts and
// the two left rejoin and receive each other again.
func TestHeadlessRoom(t *testing.T) {
	s := startJanus(t, janusserver.Room{ID: "acc"})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	names := []string{"ann", "bob", "cat"}
	var ttys []*Tty
	for _, n := range names {
		tt := startTty(t, s, "acc", n, TtyOpts{Video: true, Stats: 300 * time.Millisecond})
		tt.WaitFor(ctx, "room_joined", Has("event", "room_joined", "session", "acc"))
		ttys = append(ttys, tt)
	}
	for i, tt := range ttys {
		for j, n := range names {
			if i != j {
				tt.WaitFor(ctx, "participant_joined "+n, Has("event", "participant_joined", "display", n))
				tt.WaitFor(ctx, "media from "+n, receivesFrom(n, true))
			}
		}
		tt.WaitFor(ctx, "remote_stream video", Has("event", "remote_stream", "kind", "video"))
	}
	ttys[2].Send("quit")
	if code := ttys[2].Exit(ctx); code != 0 {
		t.Fatalf("cat exit code %d", code)
	}
	for _, tt := range ttys[:2] {
		tt.WaitFor(ctx, "cat leaving", Has("event", "participant_left", "display", "cat"))
	}

	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range ttys[:2] {
		tt.WaitFor(ctx, "reconnecting", Has("event", "reconnect", "state", "RECONNECTING"))
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range ttys[:2] {
		tt.WaitFor(ctx, "rejoined", Has("event", "room_joined", "state", "rejoined"))
	}
	n := len(ttys[0].Events())
	ttys[0].WaitFor(ctx, "media from bob after the restart", func(evs []Event) bool { return receivesFrom("bob", true)(evs[n:]) })
}

// TestHeadlessWrongPin: a wrong pin ends `ttycall headless --room` with exit code 5 and
// a room_left that says so; the right pin joins. An audio-only participant is received
// as audio only.
func TestHeadlessWrongPinAudioOnly(t *testing.T) {
	s := startJanus(t, janusserver.Room{ID: "locked", Pin: "4321"})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bad := startTty(t, s, "locked", "eve", TtyOpts{Pin: "0000"})
	if code := bad.Exit(ctx); code != 5 {
		t.Fatalf("wrong pin: exit %d, want 5", code)
	}
	e := find(bad.Events(), "event", "room_left")
	if e == nil || e.str("reason") != "join failed" || !strings.Contains(e.str("message"), "pin") {
		t.Fatalf("wrong pin: room_left %v", e)
	}
	a := startTty(t, s, "locked", "ann", TtyOpts{Pin: "4321", Video: true, Stats: 300 * time.Millisecond})
	b := startTty(t, s, "locked", "bob", TtyOpts{Pin: "4321", Stats: 300 * time.Millisecond}) // audio only
	a.WaitFor(ctx, "audio from bob", receivesFrom("bob", false))
	b.WaitFor(ctx, "audio and video from ann", receivesFrom("ann", true))
	for _, ev := range a.Events() {
		if ev.str("event") == "remote_stream" && ev.str("display") == "bob" && ev.str("kind") == "video" {
			t.Fatal("video from an audio-only participant")
		}
	}
}

// TestWebParticipants: ttycall and two janus.js pages in one room each receive the
// other two's audio and video; a page leaves and ttycall's tile for it goes.
func TestWebParticipants(t *testing.T) {
	s := startJanus(t, janusserver.Room{ID: "645f1e9a2c", Pin: "77"})
	b := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	tty := startTty(t, s, "645f1e9a2c", "tty", TtyOpts{Video: true, Pin: "77", Stats: 300 * time.Millisecond})
	tty.WaitFor(ctx, "room_joined", Has("event", "room_joined"))
	pages := []*Page{b.Open(ctx, "web1"), b.Open(ctx, "web2")}
	for _, p := range pages {
		if err := p.Invoke(ctx, nil, "join", map[string]any{"server": s.URL, "room": "645f1e9a2c", "pin": "77", "display": p.name}); err != nil {
			t.Fatalf("%s join: %v", p.name, err)
		}
	}
	tty.WaitFor(ctx, "media from web1", receivesFrom("web1", true))
	tty.WaitFor(ctx, "media from web2", receivesFrom("web2", true))
	pages[0].waitReceives(t, ctx, map[string]bool{"tty": true, "web2": true})
	pages[1].waitReceives(t, ctx, map[string]bool{"tty": true, "web1": true})

	if err := pages[1].Close(ctx); err != nil {
		t.Fatal(err)
	}
	tty.WaitFor(ctx, "web2 leaving", Has("event", "participant_left", "display", "web2"))
}

// TestSimulcastLayers: a janus.js page publishes simulcast of 640x480 (Chromium sends
// two layers at that size: 320 and 640 wide); ttycall asks for the low layer (a small
// tile) and decodes reduced frames, then for the high layer and decodes larger ones.
func TestSimulcastLayers(t *testing.T) {
	// A layer switch waits for a key frame of the new layer, which came only with the
	// periodic ones (fir_freq): 1 s here keeps the test short.
	s := startJanus(t, janusserver.Room{ID: "sim", Bitrate: 2_000_000, FIRFreq: 1})
	b := startBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := b.Open(ctx, "web")
	if err := p.Invoke(ctx, nil, "join", map[string]any{"server": s.URL, "room": "sim", "display": "web", "simulcast": true, "width": 640, "height": 480}); err != nil {
		t.Fatal(err)
	}
	r, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "sim", Display: "tty", DecodeVideo: true,
		LoopbackOnly: true, TestAddresses: []string{janusserver.ICEAddress()}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	webID := ""
	width := func() int {
		for _, pt := range r.Participants() {
			if pt.Display == "web" {
				webID = pt.ID
				if pt.VideoStream != nil && pt.VideoStream.Video != nil {
					if img, _ := pt.VideoStream.Video.Load(); img != nil {
						return img.Bounds().Dx()
					}
				}
			}
		}
		return 0
	}
	waitWidth := func(what string, ok func(int) bool) int {
		t.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			if w := width(); ok(w) {
				return w
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("%s: frame width %d", what, width())
			}
		}
	}
	waitWidth("any frame", func(w int) bool { return w > 0 })
	r.SetLayers(map[string]conference.Layer{webID: conference.LayerLow})
	low := waitWidth("low layer", func(w int) bool { return w > 0 && w <= 320 })
	r.SetLayers(map[string]conference.Layer{webID: conference.LayerHigh})
	high := waitWidth("high layer", func(w int) bool { return w > low })
	// And down again: the layer follows what is asked, not the bandwidth estimate.
	r.SetLayers(map[string]conference.Layer{webID: conference.LayerLow})
	waitWidth("low layer again", func(w int) bool { return w > 0 && w < high })
	t.Logf("low layer %d px wide, high %d", low, high)
}
