package conference_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

func TestMain(m *testing.M) {
	if code, ran := janusserver.ReexecInNetns(); ran {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

// party is one participant of a test room: its room and a log of its events.
type party struct {
	name string
	room *conference.Room
	mu   sync.Mutex
	evs  []conference.Event
	wake chan struct{}
}

func (p *party) onEvent(e conference.Event) {
	p.mu.Lock()
	p.evs = append(p.evs, e)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds for the events so far.
func (p *party) waitFor(t *testing.T, ctx context.Context, what string, cond func([]conference.Event) bool) {
	t.Helper()
	for {
		p.mu.Lock()
		ok := cond(p.evs)
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-p.wake:
		case <-ctx.Done():
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("%s: no %s; events: %s", p.name, what, describe(p.evs))
		}
	}
}

func describe(evs []conference.Event) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("\n  %T %+v", e, e)
	}
	return s
}

func media(t *testing.T, video bool) *devices.LocalStream {
	t.Helper()
	ls, err := devices.GetUserMedia(context.Background(),
		devices.MediaParams{Audio: true, Video: video, Width: 160, Height: 120, FPS: 15},
		devices.Options{Camera: devices.SourceTest, Microphone: devices.SourceTest, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ls.Close() })
	return ls
}

func join(t *testing.T, ctx context.Context, s *janusserver.Server, room, pin, name string, video bool) (*party, error) {
	p := &party{name: name, wake: make(chan struct{}, 1)}
	var ls *devices.LocalStream
	ls = media(t, video)
	r, err := conference.Join(ctx, conference.Config{
		Server: s.URL, Room: room, Pin: pin, Display: name, Local: ls, VideoBitrate: 200_000,
		LoopbackOnly: true, TestAddresses: testAddrs(), DecodeVideo: true, OnEvent: p.onEvent,
	})
	if err != nil {
		return nil, err
	}
	p.room = r
	t.Cleanup(func() { r.Close() })
	return p, nil
}

// mediaFrom tells whether p receives media of kind from display (packets, and for video
// decoded frames).
func mediaFrom(p *party, display string, kind devices.Kind) bool {
	for _, pt := range p.room.Participants() {
		if pt.Display != display {
			continue
		}
		if kind == devices.KindVideo {
			return pt.VideoStream != nil && pt.VideoStream.FramesReceived() > 3
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.evs {
		if rs, ok := e.(conference.RemoteStreamEvent); ok && rs.Display == display && rs.Stream.Kind == kind && !rs.Stream.Ended() {
			return rs.Stream.PacketsReceived() > 3
		}
	}
	return false
}

// waitMedia polls (the counters have no event) until p gets kind from each of others.
func waitMedia(t *testing.T, ctx context.Context, p *party, kind devices.Kind, others ...string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok := true
		for _, o := range others {
			ok = ok && mediaFrom(p, o, kind)
		}
		if ok {
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("%s: no %v from %v; participants %+v; events: %s", p.name, kind, others, p.room.Participants(), describe(p.evs))
		}
	}
}

func has[T conference.Event](match func(T) bool) func([]conference.Event) bool {
	return func(evs []conference.Event) bool {
		for _, e := range evs {
			if v, ok := e.(T); ok && match(v) {
				return true
			}
		}
		return false
	}
}

func TestThreePartiesLeaveRestart(t *testing.T) {
	janusservertest.NeedMedia(t)
	s := janusservertest.Start(t, janusserver.Options{Rooms: []janusserver.Room{{ID: "acc"}}, ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	names := []string{"ann", "bob", "cat"}
	ps := make([]*party, len(names))
	for i, n := range names {
		p, err := join(t, ctx, s, "acc", "", n, true)
		if err != nil {
			t.Fatalf("%s joins: %v", n, err)
		}
		ps[i] = p
	}
	for i, p := range ps {
		var others []string
		for j, n := range names {
			if j != i {
				others = append(others, n)
			}
		}
		waitMedia(t, ctx, p, devices.KindAudio, others...)
		waitMedia(t, ctx, p, devices.KindVideo, others...)
	}

	// cat leaves: ann and bob see it go.
	catID := ps[2].room.ID()
	ps[2].room.Close()
	ps[2].waitFor(t, ctx, "LeftEvent", has(func(conference.LeftEvent) bool { return true }))
	for _, p := range ps[:2] {
		p.waitFor(t, ctx, "cat leaving", has(func(e conference.ParticipantLeftEvent) bool { return e.ID == catID }))
		for _, pt := range p.room.Participants() {
			if pt.ID == catID {
				t.Fatalf("%s still lists cat", p.name)
			}
		}
	}

	// Janus restarts: both notice, rejoin, and get each other's media again.
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps[:2] {
		p.waitFor(t, ctx, "server lost", has(func(conference.ServerLostEvent) bool { return true }))
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps[:2] {
		p.waitFor(t, ctx, "rejoined", has(func(e conference.JoinedEvent) bool { return e.Rejoined }))
	}
	waitMedia(t, ctx, ps[0], devices.KindVideo, "bob")
	waitMedia(t, ctx, ps[1], devices.KindVideo, "ann")
}

func TestWrongPin(t *testing.T) {
	s := janusservertest.Start(t, janusserver.Options{Rooms: []janusserver.Room{{ID: "locked", Pin: "1234"}}, ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "locked", Pin: "0000", LoopbackOnly: true})
	if !errors.Is(err, conference.ErrUnauthorized) {
		t.Fatalf("wrong pin: err = %v", err)
	}
	_, err = conference.Join(ctx, conference.Config{Server: s.URL, Room: "nope", LoopbackOnly: true})
	if !errors.Is(err, conference.ErrNoSuchRoom) {
		t.Fatalf("no room: err = %v", err)
	}
	r, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "locked", Pin: "1234", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

func testAddrs() []string {
	if a := janusserver.ICEAddress(); a != "" {
		return []string{a}
	}
	return nil
}

// TestTalkingEstimate: ttycall publishes no audio level extension, so Janus sends no
// talking events about it; the room estimates talking from the audio it receives: a
// tone talks, a muted microphone (silence) does not.
func TestTalkingEstimate(t *testing.T) {
	janusservertest.NeedMedia(t)
	s := janusservertest.Start(t, janusserver.Options{Rooms: []janusserver.Room{{ID: "talk"}}, ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann, err := join(t, ctx, s, "talk", "", "ann", false)
	if err != nil {
		t.Fatal(err)
	}
	bobMedia := media(t, false)
	bob := &party{name: "bob", wake: make(chan struct{}, 1)}
	r, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "talk", Display: "bob", Local: bobMedia,
		LoopbackOnly: true, TestAddresses: testAddrs(), OnEvent: bob.onEvent})
	if err != nil {
		t.Fatal(err)
	}
	bob.room = r
	t.Cleanup(func() { r.Close() })
	bobID := r.ID()
	ann.waitFor(t, ctx, "bob talking", has(func(e conference.TalkingEvent) bool { return e.ID == bobID && e.Talking }))
	bobMedia.Audio.SetEnabled(false)
	ann.waitFor(t, ctx, "bob silent", has(func(e conference.TalkingEvent) bool { return e.ID == bobID && !e.Talking }))
}

// TestCreateRoom: with Create, joining a room that does not exist makes it (with the
// pin), and others join it; without Create it stays ErrNoSuchRoom.
func TestCreateRoom(t *testing.T) {
	s := janusservertest.Start(t, janusserver.Options{ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := conference.Config{Server: s.URL, Room: "5f3e9a", Pin: "12", LoopbackOnly: true}
	if _, err := conference.Join(ctx, cfg); !errors.Is(err, conference.ErrNoSuchRoom) {
		t.Fatalf("without create: %v", err)
	}
	cfg.Create, cfg.Secret = true, "s3"
	hp := &party{name: "host", wake: make(chan struct{}, 1)}
	hcfg := cfg
	hcfg.OnEvent = hp.onEvent
	host, err := conference.Join(ctx, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	cfg.Create = false
	guest, err := conference.Join(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	guest.Close()
	cfg.Pin = "wrong"
	if _, err := conference.Join(ctx, cfg); !errors.Is(err, conference.ErrUnauthorized) {
		t.Fatalf("wrong pin in a created room: %v", err)
	}
	// Janus restarts: the room is gone with it; the host makes it again and rejoins.
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	hp.waitFor(t, ctx, "rejoined", has(func(e conference.JoinedEvent) bool { return e.Rejoined }))
}
