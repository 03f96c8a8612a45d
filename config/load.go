package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Allowed words of the enumerated keys.
var (
	tlsModes         = []string{"starttls", "direct", "none"}
	idSchemes        = []string{"auto", "jid", "quickblox"}
	callProtocols    = []string{"auto", "jingle", "quickblox"}
	transportPolices = []string{"all", "relay"}
	videoCodecs      = []string{"vp8"}
	renderModes      = []string{"auto", "halfblock", "kitty", "ascii"}
	acceptFrom       = []string{"", AcceptContacts, AcceptAnyone}
	qbHashes         = []string{"sha1", "sha256"}
)

// Default returns the configuration with every default filled in. The intervals and
// call limits are the QuickBlox SDK's own defaults, so ttycall behaves like the apps it
// calls.
func Default() *Config {
	return &Config{
		Account: Account{
			TLS:                    "starttls",
			IDScheme:               "auto",
			PasswordCommandTimeout: 30,
		},
		Calls: Calls{
			AnswerTimeInterval:      60,
			DialingTimeInterval:     5,
			DisconnectTimeInterval:  30,
			StatsReportTimeInterval: 0,
			AutoReject:              true,
			IncomingLimit:           1,
			Bandwidth:               0,
			Protocol:                "auto",
		},
		ICE: ICE{TransportPolicy: "all", ExternalServices: true},
		Media: Media{
			Width:      640,
			Height:     480,
			FPS:        30,
			VideoCodec: "vp8",
		},
		UI:         UI{Render: "auto", MaxFPS: 30},
		Conference: Conference{Bitrate: 256, Simulcast: true},
		// The QuickBlox web SDK's defaults (src/qbConfig.js).
		QuickBlox: QuickBlox{
			APIEndpoint:  "https://api.quickblox.com",
			ChatEndpoint: "chat.quickblox.com",
			Hash:         "sha1",
		},
	}
}

// DefaultPath is $XDG_CONFIG_HOME/ttycall/config.toml (~/.config when unset, or when
// not absolute as the XDG spec requires). It is "" when no home directory is known.
func DefaultPath() string {
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "ttycall", "config.toml")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "ttycall", "config.toml")
}

// Load reads path (or DefaultPath() when empty), applies defaults, and validates.
// Unknown keys and bad values are errors naming the key and line (*KeyError, joined
// when there are several). A missing file at the default path gives the defaults; a
// missing file given explicitly (--config) is ErrNotFound.
func Load(path string) (*Config, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath()
		if path == "" {
			return Default(), nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if !explicit {
				return Default(), nil
			}
			return nil, &KeyError{Path: path, Err: ErrNotFound} // "config: PATH: file not found"
		}
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.Warnings = append(c.Warnings, permissionWarning(path, c)...)
	return c, nil
}

// permissionWarning warns, as ssh does about a private key, when a file that holds a
// password (or a TURN credential) may be read by the group or by others.
func permissionWarning(path string, c *Config) []string {
	secret := c.Account.Password != ""
	for _, s := range c.ICE.Servers {
		secret = secret || s.Credential != ""
	}
	if !secret {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm()&0o077 == 0 {
		return nil
	}
	return []string{fmt.Sprintf("WARNING: %s holds a password and is readable by others (mode %04o); "+
		"run: chmod 600 %s", path, st.Mode().Perm(), path)}
}

// Parse is Load on the bytes of a file; path is used in errors, to resolve a relative
// ca_file, and is stored in Config.Path.
func Parse(data []byte, path string) (*Config, error) {
	c := Default()
	kl := scanLines(string(data))
	md, err := toml.Decode(string(data), c)
	if err != nil {
		return nil, decodeError(err, path, kl)
	}
	var errs []error
	for _, k := range md.Undecoded() {
		key := k.String()
		errs = append(errs, &KeyError{Path: path, Line: kl.line(key, -1), Key: key, Err: ErrUnknownKey})
	}
	if len(errs) > 0 {
		return nil, joinByLine(errs)
	}
	c.Path = path
	c.QuickBlox.Enabled = md.IsDefined("quickblox")
	c.Account.CAFile = resolvePath(c.Account.CAFile, path)
	if err := c.validate(path, kl); err != nil {
		return nil, err
	}
	return c, nil
}

// resolvePath expands "~/" and makes a relative path relative to the config file.
func resolvePath(p, configPath string) string {
	if p == "" {
		return ""
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[2:])
		}
	}
	if !filepath.IsAbs(p) && configPath != "" {
		return filepath.Join(filepath.Dir(configPath), p)
	}
	return p
}

// lastKeyRE picks the line and key out of BurntSushi's type-mismatch errors, which are
// plain fmt errors: `toml: line 3 (last key "calls.fps"): incompatible types: ...`.
var lastKeyRE = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)

func decodeError(err error, path string, kl *keyLines) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := kl.scrub(pe.Message)
		if secretKey(pe.LastKey) || kl.secretLine(pe.Position.Line) {
			// The lexer quotes what it choked on, which may be part of the secret.
			msg = "malformed value (not shown: it holds a secret)"
		}
		return &KeyError{Path: path, Line: pe.Position.Line, Key: pe.LastKey,
			Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
	}
	msg := err.Error()
	if m := lastKeyRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if line == 0 {
			line = kl.line(m[2], -1)
		}
		return &KeyError{Path: path, Line: line, Key: m[2], Err: fmt.Errorf("%w: %s", ErrSyntax, kl.scrub(m[3]))}
	}
	return fmt.Errorf("config: %s: %w: %s", path, ErrSyntax, kl.scrub(strings.TrimPrefix(msg, "toml: ")))
}

func joinByLine(errs []error) error {
	sort.SliceStable(errs, func(i, j int) bool {
		var a, b *KeyError
		errors.As(errs[i], &a)
		errors.As(errs[j], &b)
		return a != nil && b != nil && a.Line < b.Line
	})
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// Validate checks every value (ranges, allowed words, host:port, URLs). Errors are
// *KeyError values naming the key, joined when there are several. Config values built
// in code should start from Default().
func (c *Config) Validate() error {
	return c.validate(c.Path, nil)
}

// validate is Validate with the lines of the file, when there is one.
func (c *Config) validate(path string, kl *keyLines) error {
	var errs []error
	bad := func(key string, index int, format string, args ...any) {
		display := key
		if index >= 0 {
			// "ice.servers.urls" in entry 1 is shown as "ice.servers[1].urls".
			display = strings.Replace(key, "ice.servers", fmt.Sprintf("ice.servers[%d]", index), 1)
		}
		errs = append(errs, &KeyError{Path: path, Line: kl.line(key, index), Key: display,
			Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)})
	}
	oneOf := func(key, v string, allowed []string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		bad(key, -1, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}

	a := c.Account
	if a.JID != "" {
		if err := checkJID(a.JID); err != "" {
			bad("account.jid", -1, "%q %s", a.JID, err)
		}
	}
	if a.Password != "" && a.PasswordCommand != "" {
		bad("account.password_command", -1, "set password or password_command, not both")
	}
	if a.Server != "" {
		if err := checkHostPort(a.Server); err != "" {
			bad("account.server", -1, "%q %s", a.Server, err)
		}
	}
	oneOf("account.tls", a.TLS, tlsModes)
	if a.CAFile != "" {
		if _, err := os.Stat(a.CAFile); err != nil {
			bad("account.ca_file", -1, "%v", err)
		}
	}
	if strings.ContainsAny(a.Resource, "\x00\n") {
		bad("account.resource", -1, "%q is not a usable resource", a.Resource)
	}
	oneOf("account.id_scheme", a.IDScheme, idSchemes)
	if f := float64(a.PasswordCommandTimeout); f != f || f <= 0 || f > 3600 {
		bad("account.password_command_timeout", -1, "%v: want seconds in (0, 3600]", f)
	}

	c.validateQuickBlox(bad, oneOf)

	cl := c.Calls
	positive := func(key string, s Seconds, zeroOK bool) {
		f := float64(s)
		if f != f || f > 1e6 || f < 0 || (f == 0 && !zeroOK) {
			want := "a number of seconds > 0"
			if zeroOK {
				want = "a number of seconds >= 0 (0 = off)"
			}
			bad(key, -1, "%v: want %s", f, want)
		}
	}
	positive("calls.answer_time_interval", cl.AnswerTimeInterval, false)
	positive("calls.dialing_time_interval", cl.DialingTimeInterval, false)
	positive("calls.disconnect_time_interval", cl.DisconnectTimeInterval, false)
	positive("calls.connect_time_interval", cl.ConnectTimeInterval, true)
	positive("calls.stats_report_time_interval", cl.StatsReportTimeInterval, true)
	if cl.IncomingLimit < 1 {
		bad("calls.incoming_limit", -1, "%d: want >= 1", cl.IncomingLimit)
	}
	oneOf("calls.accept_from", cl.AcceptFrom, acceptFrom)
	if cl.Bandwidth < 0 {
		bad("calls.bandwidth", -1, "%d: want kbit/s >= 0 (0 = no cap)", cl.Bandwidth)
	}
	oneOf("calls.protocol", cl.Protocol, callProtocols)
	for j, ct := range c.Contacts {
		if err := checkJID(j); err != "" {
			bad("contacts", -1, "%q %s", j, err)
		}
		if ct.Protocol != "" {
			oneOf("contacts."+j+".protocol", ct.Protocol, callProtocols)
		}
	}

	oneOf("ice.transport_policy", c.ICE.TransportPolicy, transportPolices)
	for i, s := range c.ICE.Servers {
		if len(s.URLs) == 0 {
			bad("ice.servers.urls", i, "no URLs")
		}
		turn := false
		for _, u := range s.URLs {
			scheme, rest, ok := strings.Cut(u, ":")
			switch {
			case !ok || rest == "":
				bad("ice.servers.urls", i, "%q is not a stun:, stuns:, turn: or turns: URL", u)
			case scheme == "turn" || scheme == "turns":
				turn = true
			case scheme == "stun" || scheme == "stuns":
			default:
				bad("ice.servers.urls", i, "%q is not a stun:, stuns:, turn: or turns: URL", u)
			}
		}
		if turn && (s.Username == "" || s.Credential == "") {
			bad("ice.servers.username", i, "a TURN server needs username and credential")
		}
	}
	if c.ICE.TransportPolicy == "relay" && len(c.ICE.Servers) == 0 && !c.ICE.ExternalServices {
		bad("ice.transport_policy", -1, `"relay" needs a TURN server in [[ice.servers]] or external_services = true`)
	}

	m := c.Media
	inRange := func(key string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(key, -1, "%d: want %d..%d", v, lo, hi)
		}
	}
	inRange("media.width", m.Width, 16, 7680)
	inRange("media.height", m.Height, 16, 4320)
	inRange("media.fps", m.FPS, 1, 120)
	oneOf("media.video_codec", m.VideoCodec, videoCodecs)

	oneOf("ui.render", c.UI.Render, renderModes)
	inRange("ui.max_fps", c.UI.MaxFPS, 1, 240)

	cf := c.Conference
	if cf.Server != "" && !strings.HasPrefix(cf.Server, "ws://") && !strings.HasPrefix(cf.Server, "wss://") {
		bad("conference.server", -1, "%q: want a ws:// or wss:// URL (Janus' WebSocket API)", cf.Server)
	}
	inRange("conference.bitrate", cf.Bitrate, 0, 100000)

	if len(errs) == 0 {
		return nil
	}
	return joinByLine(errs)
}

// checkJID does the syntax checks a config can do without an XMPP library: a bare
// user JID "local@domain". The account layer parses it fully.
func checkJID(j string) string {
	local, domain, ok := strings.Cut(j, "@")
	switch {
	case !ok || local == "" || domain == "":
		return "is not a JID of the form user@domain"
	case strings.ContainsAny(j, " \t\r\n/") || strings.Contains(domain, "@"):
		return "is not a bare JID (no spaces, no /resource: set resource instead)"
	}
	return ""
}

// checkHostPort accepts "host:port" with a port in 1..65535.
func checkHostPort(s string) string {
	host, port, err := splitHostPort(s)
	if err != "" {
		return err
	}
	if host == "" {
		return "has no host"
	}
	n, perr := strconv.Atoi(port)
	if perr != nil || n < 1 || n > 65535 {
		return "has no port in 1..65535 (want host:port)"
	}
	return ""
}

func splitHostPort(s string) (host, port, err string) {
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 || !strings.HasPrefix(s[end+1:], ":") {
			return "", "", "is not [ipv6]:port"
		}
		return s[1:end], s[end+2:], ""
	}
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", "", "is not host:port"
	}
	if strings.Contains(s[:i], ":") {
		return "", "", "is not host:port (write IPv6 addresses as [addr]:port)"
	}
	return s[:i], s[i+1:], ""
}

// validateQuickBlox checks [quickblox] when the file has it, and what it changes in
// [account].
func (c *Config) validateQuickBlox(bad func(key string, index int, format string, args ...any), oneOf func(key, v string, allowed []string)) {
	q := c.QuickBlox
	if !q.Enabled {
		return
	}
	a := c.Account
	if a.JID != "" {
		bad("account.jid", -1, "leave it out with [quickblox]: the JID is {user_id}-{app_id}@{chat_endpoint}, learned at sign-in")
	}
	if a.Password != "" || a.PasswordCommand != "" {
		bad("account.password", -1, "leave it out with [quickblox]: the chat password is the session token; set quickblox.password")
	}
	if a.IDScheme != "auto" && a.IDScheme != "quickblox" {
		bad("account.id_scheme", -1, "%q: QuickBlox users are numbers (\"quickblox\" or \"auto\")", a.IDScheme)
	}
	if q.AppID <= 0 {
		bad("quickblox.app_id", -1, "%d: want the application's ID (a number > 0, from the QuickBlox dashboard)", q.AppID)
	}
	if q.AuthKey == "" {
		bad("quickblox.auth_key", -1, "missing: the application's auth key (QuickBlox dashboard, Overview)")
	}
	switch {
	case q.AuthSecret != "" && q.AuthSecretCommand != "":
		bad("quickblox.auth_secret_command", -1, "set auth_secret or auth_secret_command, not both")
	case q.AuthSecret == "" && q.AuthSecretCommand == "":
		bad("quickblox.auth_secret", -1, "missing: set auth_secret or auth_secret_command")
	}
	switch {
	case q.Login != "" && q.Email != "":
		bad("quickblox.email", -1, "set login or email, not both")
	case q.Login == "" && q.Email == "":
		bad("quickblox.login", -1, "missing: set the user's login or email")
	}
	switch {
	case q.Password != "" && q.PasswordCommand != "":
		bad("quickblox.password_command", -1, "set password or password_command, not both")
	case q.Password == "" && q.PasswordCommand == "":
		bad("quickblox.password", -1, "missing: set password or password_command")
	}
	if err := checkAPIEndpoint(q.APIEndpoint); err != "" {
		bad("quickblox.api_endpoint", -1, "%q %s", q.APIEndpoint, err)
	}
	if h := q.ChatEndpoint; h == "" || strings.ContainsAny(h, "/:@ \t\n") {
		bad("quickblox.chat_endpoint", -1, "%q: want the chat host name, e.g. chat.quickblox.com (no scheme or port: [account] server sets where to connect)", h)
	}
	oneOf("quickblox.hash", q.Hash, qbHashes)
}

// checkAPIEndpoint accepts an https:// URL, or http:// to a loopback address (a local
// stand-in in tests): the credentials must not cross a network unencrypted.
func checkAPIEndpoint(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "is not a URL like https://api.quickblox.com"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return ""
		}
		return "is http:// to a non-loopback host: use https://"
	}
	return "is not an https:// URL"
}
