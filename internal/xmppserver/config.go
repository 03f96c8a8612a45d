package xmppserver

import (
	"strings"
	"text/template"
)

type configParams struct {
	Dir, Domain, Cert, Key, Log string
	C2S, DirectTLS, HTTP        int
	IP                          string
	Modules                     []string
	Extra                       string
}

// The config keeps Prosody on loopback with our own ports, data and log. run_as_root:
// tests and CI run as root here, and Prosody refuses root otherwise (interop-facts.md).
// internal_plain lets Register write accounts as files. c2s_require_encryption is off so
// the tls = "none" mode can be tested on loopback; StartTLS is still offered.
var configTemplate = template.Must(template.New("cfg").Parse(`-- written by ttycall internal/xmppserver
daemonize = false
run_as_root = true
pidfile = "{{.Dir}}/prosody.pid"
data_path = "{{.Dir}}/data"
log = { { levels = { min = "info" }, to = "file", filename = "{{.Log}}" } }
interfaces = { "{{.IP}}" }
local_interfaces = { "{{.IP}}" }
c2s_ports = { {{.C2S}} }
c2s_direct_tls_ports = { {{.DirectTLS}} }
c2s_direct_tls_interfaces = { "{{.IP}}" }
s2s_ports = { }
http_ports = { {{.HTTP}} }
http_interfaces = { "{{.IP}}" }
https_ports = { }
https_interfaces = { }
modules_enabled = {
	"roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "http"; "websocket";
	"carbons"; -- XEP-0280: JMI answered on one device stops the others ringing
	{{range .Modules}}"{{.}}"; {{end}}
}
modules_disabled = { "s2s"; "offline"; "c2s_limits"; "limits" }
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = false
consider_websocket_secure = true
cross_domain_websocket = true
c2s_stanza_size_limit = 1048576
network_settings = { nagle = false }
ssl = { key = "{{.Key}}"; certificate = "{{.Cert}}"; }
{{.Extra}}
VirtualHost "{{.Domain}}"
	ssl = { key = "{{.Key}}"; certificate = "{{.Cert}}"; }
`))

func renderConfig(p configParams) string {
	var b strings.Builder
	if err := configTemplate.Execute(&b, p); err != nil {
		panic(err) // the template is a constant: a failure is a programming error
	}
	return b.String()
}
