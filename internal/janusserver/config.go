package janusserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// libDir is where Debian installs Janus' plugins and transports.
const libDir = "/usr/lib/x86_64-linux-gnu/janus"

// The plugins and transports a test server does not load: only the VideoRoom plugin
// and the WebSocket transport stay.
var (
	disabledPlugins = []string{"audiobridge", "duktape", "echotest", "lua", "nosip", "recordplay",
		"sip", "streaming", "textroom", "videocall", "voicemail"}
	disabledTransports = []string{"http", "mqtt", "nanomsg", "pfunix", "rabbitmq"}
)

type configParams struct {
	WSPort         int
	ICE            string
	SessionTimeout int
	Rooms          []Room
}

// writeConfig writes janus.jcfg, the WebSocket transport's and the VideoRoom plugin's
// configs into dir.
func writeConfig(dir string, p configParams) error {
	files := map[string]string{
		"janus.jcfg":                        mainConfig(dir, p),
		"janus.transport.websockets.jcfg":   wsConfig(p),
		"janus.plugin.videoroom.jcfg":       roomConfig(p.Rooms),
		"janus.eventhandler.sampleevh.jcfg": "general: { enabled = false }\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return fmt.Errorf("janusserver: write %s: %w", name, err)
		}
	}
	return nil
}

func mainConfig(dir string, p configParams) string {
	lib := func(kind string, names []string) string {
		l := make([]string, len(names))
		for i, n := range names {
			l[i] = "libjanus_" + n + ".so"
		}
		_ = kind
		return q(strings.Join(l, ","))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `general: {
	configs_folder = %s
	plugins_folder = %s
	transports_folder = %s
	events_folder = %s
	loggers_folder = %s
	debug_level = 4
	session_timeout = %d
	server_name = "ttycall-test"
	protected_folders = [ "/bin", "/boot", "/dev", "/etc", "/lib", "/proc", "/sbin", "/sys", "/usr", "/var" ]
}
certificates: {
}
media: {
	rtp_port_range = "20000-60000"
}
nat: {
	nice_debug = false
`, q(dir), q(libDir+"/plugins"), q(libDir+"/transports"), q(libDir+"/events"), q(libDir+"/loggers"), p.SessionTimeout)
	if p.ICE != "" {
		fmt.Fprintf(&b, "\tice_enforce_list = %s\n", q(p.ICE))
	}
	fmt.Fprintf(&b, `}
plugins: {
	disable = %s
}
transports: {
	disable = %s
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = false
}
`, lib("plugins", disabledPlugins), lib("transports", disabledTransports))
	return b.String()
}

func wsConfig(p configParams) string {
	return fmt.Sprintf(`general: {
	json = "compact"
	ws = true
	ws_port = %d
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
`, p.WSPort)
}

func roomConfig(rooms []Room) string {
	var b strings.Builder
	b.WriteString("general: {\n\tstring_ids = true\n}\n")
	for _, r := range rooms {
		fmt.Fprintf(&b, "room-%s: {\n", r.ID)
		desc := r.Description
		if desc == "" {
			desc = "room " + r.ID
		}
		fmt.Fprintf(&b, "\tdescription = %s\n", q(desc))
		if r.Pin != "" {
			fmt.Fprintf(&b, "\tpin = %s\n", q(r.Pin))
		}
		if r.Secret != "" {
			fmt.Fprintf(&b, "\tsecret = %s\n", q(r.Secret))
		}
		fmt.Fprintf(&b, "\tpublishers = %d\n\tbitrate = %d\n\tfir_freq = %d\n", r.Publishers, r.Bitrate, r.FIRFreq)
		b.WriteString("\tvideocodec = \"vp8\"\n\taudiocodec = \"opus\"\n")
		// Talking events: a participant whose audio level stays above the threshold for
		// audio_active_packets packets is "talking"; the grid's active speaker.
		b.WriteString("\taudiolevel_event = true\n\taudio_active_packets = 50\n\taudio_level_average = 40\n")
		b.WriteString("\tnotify_joining = true\n}\n")
	}
	return b.String()
}

// q quotes s for a libconfig file.
func q(s string) string {
	return strconv.Quote(s)
}
