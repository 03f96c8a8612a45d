// Package config loads ttycall's TOML configuration ($XDG_CONFIG_HOME/ttycall/config.toml
// or --config FILE). config.toml.example at the repository root documents every key.
package config

import (
	"time"
)

// Config is the whole file. Key names are fixed: other tools write such files.
type Config struct {
	Account Account `toml:"account"`
	Calls   Calls   `toml:"calls"`
	ICE     ICE     `toml:"ice"`
	Media   Media   `toml:"media"`
	UI      UI      `toml:"ui"`
	// Path is the file the config was read from ("" for defaults only).
	Path string `toml:"-"`
}

// Account is the [account] section.
type Account struct {
	JID             string `toml:"jid"`
	Password        string `toml:"password"`
	PasswordCommand string `toml:"password_command"`
	Server          string `toml:"server"` // "host:port"
	TLS             string `toml:"tls"`    // "starttls" (default) | "direct" | "none"
	CAFile          string `toml:"ca_file"`
	Resource        string `toml:"resource"`  // default "": "ttycall-" and a random suffix
	IDScheme        string `toml:"id_scheme"` // "auto" (default) | "jid" | "quickblox"
}

// Calls is the [calls] section. Intervals are in seconds in the file.
type Calls struct {
	AnswerTimeInterval      Seconds `toml:"answer_time_interval"`       // 60
	DialingTimeInterval     Seconds `toml:"dialing_time_interval"`      // 5
	DisconnectTimeInterval  Seconds `toml:"disconnect_time_interval"`   // 30
	StatsReportTimeInterval Seconds `toml:"stats_report_time_interval"` // 0 = off
	AutoReject              bool    `toml:"auto_reject"`                // true
	IncomingLimit           int     `toml:"incoming_limit"`             // 1
	Bandwidth               int     `toml:"bandwidth"`                  // kbit/s, 0 = no cap
}

// ICE is the [ice] section.
type ICE struct {
	TransportPolicy string      `toml:"transport_policy"` // "all" (default) | "relay"
	Servers         []ICEServer `toml:"servers"`
	// ExternalServices asks the XMPP server for its STUN/TURN servers (XEP-0215) and
	// adds them to Servers; default true.
	ExternalServices bool `toml:"external_services"`
}

// ICEServer is one [[ice.servers]] entry.
type ICEServer struct {
	URLs       []string `toml:"urls"`
	Username   string   `toml:"username"`
	Credential string   `toml:"credential"`
}

// Media is the [media] section.
type Media struct {
	Camera     string `toml:"camera"`      // "" default device, "test" synthetic, or a file path
	Microphone string `toml:"microphone"`  // same
	Width      int    `toml:"width"`       // 640
	Height     int    `toml:"height"`      // 480
	FPS        int    `toml:"fps"`         // 30
	VideoCodec string `toml:"video_codec"` // "vp8"
}

// UI is the [ui] section.
type UI struct {
	Render string `toml:"render"`  // "auto" (default) | "halfblock" | "kitty" | "ascii"
	MaxFPS int    `toml:"max_fps"` // 30
}

// Seconds is a duration written as a number of seconds (fractions allowed).
type Seconds float64

// Duration converts to time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }
