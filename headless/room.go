package headless

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/app"
)

// Event names of room mode (--room).
const (
	EvRoomJoined        = "room_joined"
	EvParticipantJoined = "participant_joined"
	EvParticipantLeft   = "participant_left"
	EvTalking           = "talking"
	EvSlowLink          = "slow_link"
	EvRoomLeft          = "room_left"
)

// ExitJoin: the room could not be joined (wrong pin, no such room, no server).
const ExitJoin = 5

// roomRunner is `ttycall headless --room ID`: it joins a Janus VideoRoom room,
// publishes the microphone (and camera with --video), and reports the room on stdout.
type roomRunner struct {
	o   *Options
	cfg *config.Config
	out *emitter
	log *slog.Logger
}

func runRoom(ctx context.Context, o *Options, cfg *config.Config, stdin io.Reader, out *emitter, log *slog.Logger) int {
	rr := &roomRunner{o: o, cfg: cfg, out: out, log: log}
	code := rr.run(ctx, stdin)
	if !out.close(stdoutDrain) {
		log.Warn("stdout: events not written, nobody reads them", "waited", stdoutDrain)
	}
	return code
}

func (rr *roomRunner) run(ctx context.Context, stdin io.Reader) int {
	room := rr.o.Room
	if rr.o.Pin != "" {
		rr.cfg.Conference.Pin = rr.o.Pin
	}
	ls, err := app.RoomMedia(ctx, rr.cfg, rr.o.Video, func(n string) { rr.out.errorf(room, "", "media: "+n) }, rr.log)
	if err != nil {
		rr.out.errorf(room, "", "media: "+err.Error())
		return ExitUsage
	}
	defer ls.Close()
	for _, n := range ls.Notices {
		rr.out.errorf(room, "", "media: "+n)
	}
	left := make(chan struct{})
	var leftOnce bool
	ccfg, err := app.ConferenceConfig(rr.cfg, app.RoomOptions{
		Room: room, Create: rr.o.Create, Local: ls, Logger: rr.log,
		OnEvent: func(e conference.Event) {
			rr.event(room, e)
			if _, ok := e.(conference.LeftEvent); ok && !leftOnce {
				leftOnce = true
				close(left)
			}
		},
	})
	if err != nil {
		rr.out.errorf(room, "", err.Error())
		return ExitUsage
	}
	r, err := conference.Join(ctx, ccfg)
	if err != nil {
		msg := err.Error()
		if errors.Is(err, conference.ErrUnauthorized) {
			msg = "wrong pin for room " + room + ": " + msg
		}
		rr.out.emit(Line{Event: EvRoomLeft, Session: room, Reason: "join failed", Message: msg})
		return ExitJoin
	}
	defer r.Close()

	done := make(chan struct{})
	defer close(done)
	lines := make(chan stdinLine)
	if stdin != nil {
		go readLines(stdin, lines, done) // ends at EOF, or after its next line once done
	}
	interval := rr.o.Stats
	if interval == 0 {
		interval = rr.cfg.Calls.StatsReportTimeInterval.Duration()
	}
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	var hangup <-chan time.Time
	if rr.o.HangupAfter > 0 {
		t := time.NewTimer(rr.o.HangupAfter)
		defer t.Stop()
		hangup = t.C
	}
	stats := newRoomStats()
	for {
		select {
		case <-ctx.Done():
			return ExitOK
		case <-left:
			return ExitOK
		case <-hangup:
			return ExitOK
		case <-rr.out.broken:
			return ExitOK
		case <-tick:
			for _, l := range stats.lines(room, r.Participants()) {
				rr.out.emit(l)
			}
		case l, ok := <-lines:
			if !ok {
				lines = nil // stdin closed: go on until a signal or the room ends
				continue
			}
			if l.err != nil {
				rr.out.errorf(room, "", l.err.Error())
				continue
			}
			if quit := rr.command(ls, room, l.text); quit {
				return ExitOK
			}
		}
	}
}

// command handles quit, mute and unmute; the call commands mean nothing in a room.
func (rr *roomRunner) command(ls *devices.LocalStream, room, line string) (quit bool) {
	c, err := ParseCommand(line)
	if err != nil {
		rr.out.errorf(room, "", err.Error())
		return false
	}
	if c == nil {
		return false
	}
	switch c.Name {
	case "quit", "hangup":
		return true
	case "mute", "unmute":
		t := ls.Audio
		if c.Kind == devices.KindVideo {
			t = ls.Video
		}
		if t == nil {
			rr.out.errorf(room, "", c.Name+": no such track")
			return false
		}
		t.SetEnabled(c.Name == "unmute")
	default:
		rr.out.errorf(room, "", c.Name+": not available in a room (quit, mute, unmute)")
	}
	return false
}

// event turns a room event into a line.
func (rr *roomRunner) event(room string, e conference.Event) {
	switch e := e.(type) {
	case conference.JoinedEvent:
		l := Line{Event: EvRoomJoined, Session: room, User: e.ID}
		if e.Rejoined {
			rr.out.emit(Line{Event: EvReconnect, Session: room, User: e.ID, State: "RECONNECTED"})
			l.State = "rejoined"
		}
		rr.out.emit(l)
	case conference.ParticipantJoinedEvent:
		rr.out.emit(Line{Event: EvParticipantJoined, Session: room, User: e.ID, Display: e.Display})
	case conference.ParticipantLeftEvent:
		rr.out.emit(Line{Event: EvParticipantLeft, Session: room, User: e.ID, Display: e.Display, Reason: e.Reason})
	case conference.FeedStateEvent:
		rr.out.emit(Line{Event: EvConnectionState, Session: room, User: e.ID, State: e.State.String()})
	case conference.RemoteStreamEvent:
		rr.out.emit(Line{Event: EvRemoteStream, Session: room, User: e.ID, Display: e.Display, Kind: e.Stream.Kind.String()})
	case conference.TalkingEvent:
		state := "stopped"
		if e.Talking {
			state = "talking"
		}
		rr.out.emit(Line{Event: EvTalking, Session: room, User: e.ID, State: state})
	case conference.SlowLinkEvent:
		dir := "downlink"
		if e.Uplink {
			dir = "uplink"
		}
		rr.out.emit(Line{Event: EvSlowLink, Session: room, State: dir, Message: fmt.Sprintf("%d packets lost", e.Lost)})
	case conference.ServerLostEvent:
		msg := ""
		if e.Err != nil {
			msg = e.Err.Error()
		}
		rr.out.emit(Line{Event: EvReconnect, Session: room, State: "RECONNECTING", Message: msg})
	case conference.LeftEvent:
		msg := ""
		if e.Err != nil {
			msg = e.Err.Error()
		}
		rr.out.emit(Line{Event: EvRoomLeft, Session: room, Reason: e.Reason, Message: msg})
	}
}

// roomStats turns the counters of each participant's streams into rates.
type roomStats struct {
	last map[*conference.RemoteStream]streamCount
}

type streamCount struct {
	at                    time.Time
	bytes, packets, frame uint64
}

func newRoomStats() *roomStats { return &roomStats{last: map[*conference.RemoteStream]streamCount{}} }

func (s *roomStats) lines(room string, ps []conference.Participant) []Line {
	now := time.Now()
	var out []Line
	seen := map[*conference.RemoteStream]bool{}
	for _, p := range ps {
		m := &mediaJSON{}
		for _, rs := range p.Streams {
			seen[rs] = true
			c := streamCount{at: now, bytes: rs.BytesReceived(), packets: rs.PacketsReceived(), frame: rs.FramesReceived()}
			t := trackJSON{Bytes: c.bytes, Packets: c.packets}
			if prev, ok := s.last[rs]; ok {
				if dt := now.Sub(prev.at).Seconds(); dt > 0 {
					t.BitrateKbps = float64(c.bytes-prev.bytes) * 8 / 1000 / dt
					if rs.Kind == devices.KindVideo {
						t.FPS = float64(c.frame-prev.frame) / dt
					}
				}
			}
			s.last[rs] = c
			if rs.Kind == devices.KindVideo {
				m.Video = t
			} else {
				m.Audio = t
			}
		}
		out = append(out, Line{Event: EvStats, Session: room, User: p.ID, Display: p.Display, State: p.State.String(), Remote: m})
	}
	for rs := range s.last {
		if !seen[rs] {
			delete(s.last, rs)
		}
	}
	return out
}
