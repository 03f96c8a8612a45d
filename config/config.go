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
	// Conference is the Janus VideoRoom server for multiparty rooms (ttycall headless
	// --room, the TUI's r).
	Conference Conference `toml:"conference"`
	// Path is the file the config was read from ("" for defaults only).
	Path string `toml:"-"`
	// Warnings are problems that do not stop ttycall, for the user to read before the
	// interface starts (a file holding a password that others may read).
	Warnings []string `toml:"-"`
}

// Account is the [account] section.
type Account struct {
	JID             string `toml:"jid"`
	Password        string `toml:"password"`
	PasswordCommand string `toml:"password_command"`
	// PasswordCommandTimeout bounds password_command (a password manager waiting for
	// an unlock that never comes); default 30.
	PasswordCommandTimeout Seconds `toml:"password_command_timeout"`
	Server                 string  `toml:"server"` // "host:port"
	TLS                    string  `toml:"tls"`    // "starttls" (default) | "direct" | "none"
	CAFile                 string  `toml:"ca_file"`
	Resource               string  `toml:"resource"`  // default "": "ttycall-" and a random suffix
	IDScheme               string  `toml:"id_scheme"` // "auto" (default) | "jid" | "quickblox"
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
	// AcceptFrom says whose calls may ring: "contacts" (roster entries with a
	// subscription) or "anyone". Empty: "contacts", except with id_scheme "quickblox"
	// (apps of that kind rarely keep rosters), where it is "anyone". See AcceptFromMode.
	AcceptFrom string `toml:"accept_from"`
}

// Who may ring (calls.accept_from).
const (
	AcceptContacts = "contacts"
	AcceptAnyone   = "anyone"
)

// AcceptFromMode is calls.accept_from with its default filled in: "contacts", or
// "anyone" in QuickBlox mode (id_scheme "quickblox"), whose apps rarely keep rosters.
func (c *Config) AcceptFromMode() string {
	if c.Calls.AcceptFrom != "" {
		return c.Calls.AcceptFrom
	}
	if c.Account.IDScheme == "quickblox" {
		return AcceptAnyone
	}
	return AcceptContacts
}

// ICE is the [ice] section.
type ICE struct {
	TransportPolicy string      `toml:"transport_policy"` // "all" (default) | "relay"
	Servers         []ICEServer `toml:"servers"`
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

// Conference is the [conference] section: rooms on a Janus VideoRoom SFU.
type Conference struct {
	Server  string `toml:"server"`  // "ws://host:8188" or "wss://..."; "" = no conferences
	Token   string `toml:"token"`   // Janus token_auth token; "" = none
	Pin     string `toml:"pin"`     // room pin, when rooms have one
	Secret  string `toml:"secret"`  // room secret (to edit rooms; sent when set)
	Display string `toml:"display"` // our name in rooms; "" = the account's user name
	Bitrate int    `toml:"bitrate"` // kbit/s cap on our video in rooms; 256
}

// Seconds is a duration written as a number of seconds (fractions allowed).
type Seconds float64

// Duration converts to time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }
