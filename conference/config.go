package conference

import (
	"log/slog"
	"time"

	"github.com/ttycall/ttycall/devices"
)

// Config is what Join needs.
type Config struct {
	// Server is Janus' WebSocket URL ("ws://host:8188"); Token and APISecret are sent
	// with every request when set.
	Server, Token, APISecret string
	// Room is the room's string ID; Pin is needed when the room has one.
	Room, Pin string
	// Create makes the room (with Pin and Secret) when it does not exist: we host it.
	// A room made so lives as long as the Janus process; after a restart the rejoin
	// makes it again.
	Create bool
	Secret string
	// Display is our name in the room (other participants' tiles show it).
	Display string
	// Local is what we publish (nil: receive only); the caller keeps owning it.
	Local *devices.LocalStream
	// VideoBitrate caps our video in bit/s (Janus enforces it through REMB as well);
	// 0: the room's cap.
	VideoBitrate int
	// Simulcast publishes our video as three layers (full, half and quarter
	// resolution) for Janus to forward to each subscriber the one it asks for, when
	// the camera is at least devices.MinSimulcastWidth wide and Janus takes them.
	Simulcast bool
	// ICEServers are STUN/TURN servers; RelayOnly uses relays only.
	ICEServers []ICEServer
	RelayOnly  bool
	// LoopbackOnly gathers only loopback candidates (tests), plus candidates on the
	// local addresses in TestAddresses: Janus gathers no loopback candidates and libnice
	// pairs none with ours, so a test gives both sides an address of its own namespace.
	LoopbackOnly  bool
	TestAddresses []string
	// DecodeVideo decodes remote video into RemoteStream.Video; AudioOutput plays
	// remote audio when set.
	DecodeVideo bool
	AudioOutput devices.AudioOutput
	// OnEvent receives the room's events in order, on a goroutine of the room's own;
	// it should return quickly.
	OnEvent func(Event)
	// Timeout bounds each Janus request; RejoinBackoff is the first wait before
	// rejoining a lost server (doubling up to 5 s).
	Timeout       time.Duration
	RejoinBackoff time.Duration
	Logger        *slog.Logger
}

// Defaults.
const (
	defaultDisplay       = "ttycall"
	defaultRejoinBackoff = 250 * time.Millisecond
	maxRejoinBackoff     = 5 * time.Second
)

// ICEServer is a STUN or TURN server.
type ICEServer struct {
	URLs                 []string
	Username, Credential string
}
