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
	// QuickBlox signs in to a QuickBlox application (a REST session whose token is the
	// chat password) instead of with [account] jid and password.
	QuickBlox QuickBlox `toml:"quickblox"`
	// Contacts holds per-contact settings, keyed by bare JID ([contacts."bob@example.org"]).
	Contacts map[string]Contact `toml:"contacts"`
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
	AnswerTimeInterval     Seconds `toml:"answer_time_interval"`     // 60
	DialingTimeInterval    Seconds `toml:"dialing_time_interval"`    // 5
	DisconnectTimeInterval Seconds `toml:"disconnect_time_interval"` // 30
	// ConnectTimeInterval bounds how long a call may take, once answered, to connect
	// before it fails and closes; 0 = disconnect_time_interval.
	ConnectTimeInterval     Seconds `toml:"connect_time_interval"`
	StatsReportTimeInterval Seconds `toml:"stats_report_time_interval"` // 0 = off
	AutoReject              bool    `toml:"auto_reject"`                // true
	IncomingLimit           int     `toml:"incoming_limit"`             // 1
	Bandwidth               int     `toml:"bandwidth"`                  // kbit/s, 0 = no cap
	// AcceptFrom says whose calls may ring: "contacts" (roster entries with a
	// subscription) or "anyone". Empty: "contacts", except with id_scheme "quickblox"
	// (apps of that kind rarely keep rosters), where it is "anyone". See AcceptFromMode.
	AcceptFrom string `toml:"accept_from"`
	// Protocol of outgoing calls: "auto" (default: Jingle for a contact whose client
	// advertises Jingle RTP and Jingle Message Initiation, QuickBlox for {id}-{app}@host
	// JIDs, other ttycalls and everyone else), "jingle" or "quickblox". Incoming calls
	// of both ring.
	Protocol string `toml:"protocol"`
}

// Contact is a [contacts."JID"] section.
type Contact struct {
	// Protocol overrides calls.protocol for this contact: "auto", "jingle" or
	// "quickblox" ("" = calls.protocol).
	Protocol string `toml:"protocol"`
}

// Who may ring (calls.accept_from).
const (
	AcceptContacts = "contacts"
	AcceptAnyone   = "anyone"
)

// AcceptFromMode is calls.accept_from with its default filled in: "contacts", or
// "anyone" in QuickBlox mode (id_scheme "quickblox" or a [quickblox] table), whose apps
// rarely keep rosters.
func (c *Config) AcceptFromMode() string {
	if c.Calls.AcceptFrom != "" {
		return c.Calls.AcceptFrom
	}
	if c.Account.IDScheme == "quickblox" || c.QuickBlox.Enabled {
		return AcceptAnyone
	}
	return AcceptContacts
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

// Conference is the [conference] section: rooms on a Janus VideoRoom SFU.
type Conference struct {
	Server  string `toml:"server"`  // "ws://host:8188" or "wss://..."; "" = no conferences
	Token   string `toml:"token"`   // Janus token_auth token; "" = none
	Pin     string `toml:"pin"`     // room pin, when rooms have one
	Secret  string `toml:"secret"`  // room secret, set on rooms we create
	Create  bool   `toml:"create"`  // create the room when it does not exist (we host it)
	Display string `toml:"display"` // our name in rooms; "" = the account's user name
	Bitrate int    `toml:"bitrate"` // kbit/s cap on our video in rooms; 256
	// Simulcast publishes our video in rooms as three layers (full, half, quarter
	// size) when the room takes them; true.
	Simulcast bool `toml:"simulcast"`
}

// QuickBlox is the [quickblox] section. When the file has this table, ttycall signs in
// as the QuickBlox web SDK does: a session for the user (login or email, and password)
// signed with the application's auth secret; the chat JID is {user_id}-{app_id}@{chat
// endpoint} and the password the session token. [account] then needs no jid or
// password; its server, tls and ca_file still say where and how to connect to chat.
type QuickBlox struct {
	AppID             int    `toml:"app_id"`
	AuthKey           string `toml:"auth_key"`
	AuthSecret        string `toml:"auth_secret"`
	AuthSecretCommand string `toml:"auth_secret_command"`
	AccountKey        string `toml:"account_key"`   // optional: learn the endpoints from account_settings
	APIEndpoint       string `toml:"api_endpoint"`  // URL; "https://api.quickblox.com"
	ChatEndpoint      string `toml:"chat_endpoint"` // chat host of JIDs; "chat.quickblox.com"
	Login             string `toml:"login"`
	Email             string `toml:"email"`
	Password          string `toml:"password"`
	PasswordCommand   string `toml:"password_command"`
	Hash              string `toml:"hash"` // "sha1" (default) | "sha256"
	// Enabled: the file has a [quickblox] table (set by Parse; set it in code otherwise).
	Enabled bool `toml:"-"`
}

// Seconds is a duration written as a number of seconds (fractions allowed).
type Seconds float64

// Duration converts to time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }
