package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/devices"
)

// EnvICETestAddrs lists, comma-separated, local addresses a loopback-only room may also
// gather candidates on: Janus pairs no loopback candidate, so a test gives Janus and
// ttycall an address of its own network namespace. A test hook, not a config key.
const EnvICETestAddrs = "TTYCALL_ICE_TEST_ADDRS"

// RoomOptions are what a consumer adds to the config for a room.
type RoomOptions struct {
	Room        string
	Create      bool // create the room when missing, whatever [conference] create says
	Local       *devices.LocalStream
	DecodeVideo bool
	AudioOutput devices.AudioOutput
	OnEvent     func(conference.Event)
	Logger      *slog.Logger
}

// ConferenceConfig builds the conference config of a room from the [conference]
// section (and [ice]); display falls back to the account's user name.
func ConferenceConfig(cfg *config.Config, o RoomOptions) (conference.Config, error) {
	cf := cfg.Conference
	if cf.Server == "" {
		return conference.Config{}, fmt.Errorf("%w: [conference] server is not set (a Janus ws:// URL)", ErrConfig)
	}
	display := cf.Display
	if display == "" {
		display, _, _ = strings.Cut(cfg.Account.JID, "@")
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var servers []conference.ICEServer
	for _, s := range cfg.ICE.Servers {
		servers = append(servers, conference.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	var testAddrs []string
	if v := os.Getenv(EnvICETestAddrs); v != "" {
		testAddrs = strings.Split(v, ",")
	}
	return conference.Config{
		Server: cf.Server, Token: cf.Token, Room: o.Room, Pin: cf.Pin, Display: display,
		Create: cf.Create || o.Create, Secret: cf.Secret,
		Local: o.Local, VideoBitrate: cf.Bitrate * 1000, Simulcast: cf.Simulcast,
		ICEServers: servers, RelayOnly: cfg.ICE.TransportPolicy == "relay",
		LoopbackOnly: LoopbackFromEnv(), TestAddresses: testAddrs,
		DecodeVideo: o.DecodeVideo, AudioOutput: o.AudioOutput, OnEvent: o.OnEvent,
		Logger: log.With("part", "conference"),
	}, nil
}

// RoomMedia opens the local media for a room from [media]: the microphone, and the
// camera when video.
func RoomMedia(ctx context.Context, cfg *config.Config, video bool, onNotice func(string), log *slog.Logger) (*devices.LocalStream, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return devices.GetUserMedia(ctx, devices.MediaParams{Audio: true, Video: video}, devices.Options{
		Camera: cfg.Media.Camera, Microphone: cfg.Media.Microphone,
		Width: cfg.Media.Width, Height: cfg.Media.Height, FPS: cfg.Media.FPS,
		OnNotice: onNotice, Logger: log.With("part", "devices"),
	})
}
