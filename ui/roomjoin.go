package ui

import (
	"context"
	"log/slog"
	"sync"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/app"
)

// roomJoiner joins rooms for real: camera and microphone from [media], the room on the
// [conference] server, remote video decoded for the tiles and audio to the player.
// Close leaves every room still open (the program is ending).
type roomJoiner struct {
	cfg *config.Config
	out devices.AudioOutput
	log *slog.Logger

	mu    sync.Mutex
	rooms map[*liveRoom]bool // guarded by mu
}

func newRoomJoiner(cfg *config.Config, out devices.AudioOutput, log *slog.Logger) *roomJoiner {
	return &roomJoiner{cfg: cfg, out: out, log: log, rooms: map[*liveRoom]bool{}}
}

// liveRoom is a joined room with the media it publishes.
type liveRoom struct {
	*conference.Room
	local *devices.LocalStream
	j     *roomJoiner
	once  sync.Once
}

func (l *liveRoom) Local() *devices.LocalStream { return l.local }

func (l *liveRoom) Close() error {
	l.once.Do(func() {
		l.Room.Close()
		l.local.Close()
		l.j.mu.Lock()
		delete(l.j.rooms, l)
		l.j.mu.Unlock()
	})
	return nil
}

func (j *roomJoiner) Join(ctx context.Context, room string, onEvent func(conference.Event)) (Room, error) {
	ls, err := app.RoomMedia(ctx, j.cfg, true, nil, j.log)
	if err != nil {
		return nil, err
	}
	ccfg, err := app.ConferenceConfig(j.cfg, app.RoomOptions{Room: room, Local: ls, DecodeVideo: true, AudioOutput: j.out, OnEvent: onEvent, Logger: j.log})
	if err != nil {
		ls.Close()
		return nil, err
	}
	r, err := conference.Join(ctx, ccfg)
	if err != nil {
		ls.Close()
		return nil, err
	}
	l := &liveRoom{Room: r, local: ls, j: j}
	j.mu.Lock()
	j.rooms[l] = true
	j.mu.Unlock()
	return l, nil
}

// Close leaves the rooms still open.
func (j *roomJoiner) Close() {
	j.mu.Lock()
	var open []*liveRoom
	for l := range j.rooms {
		open = append(open, l)
	}
	j.mu.Unlock()
	for _, l := range open {
		l.Close()
	}
}
