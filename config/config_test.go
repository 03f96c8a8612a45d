package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Calls{AnswerTimeInterval: 60, DialingTimeInterval: 5, DisconnectTimeInterval: 30,
		StatsReportTimeInterval: 0, AutoReject: true, IncomingLimit: 1, Bandwidth: 0, Protocol: "auto"}
	if c.Calls != want {
		t.Errorf("Calls = %+v, want %+v", c.Calls, want)
	}
	if c.Account.TLS != "starttls" || c.Account.Resource != "" || c.Account.IDScheme != "auto" ||
		c.ICE.TransportPolicy != "all" || c.Media != (Media{Width: 640, Height: 480, FPS: 30, VideoCodec: "vp8"}) ||
		c.UI != (UI{Render: "auto", MaxFPS: 30}) {
		t.Errorf("Default() = %+v", c)
	}
	if got := c.Calls.AnswerTimeInterval.Duration().String(); got != "1m0s" {
		t.Errorf("60 s as Duration = %s", got)
	}
}

// TestExampleMatchesDefault keeps config.toml.example and Default() from drifting: the
// example must load, and equal the defaults apart from the [account] examples.
func TestExampleMatchesDefault(t *testing.T) {
	path := filepath.Join("..", "config.toml.example")
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Path = path
	want.Account = c.Account
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example differs from Default():\n got %+v\nwant %+v", c, want)
	}
	// Every key of every section must be documented in the example (commented or not).
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range tomlKeys(reflect.TypeOf(Config{})) {
		if !bytes.Contains(data, []byte(key+" =")) {
			t.Errorf("config.toml.example does not document %q", key)
		}
	}
}

// tomlKeys lists the leaf key names of a config struct type.
func tomlKeys(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("toml")
		if tag == "-" || tag == "" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, tomlKeys(ft)...)
			continue
		}
		out = append(out, tag)
	}
	return out
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadOverridesDefaults(t *testing.T) {
	p := writeFile(t, `
[account]
jid = "1001-77@localhost"
password = "hunter2"
server = "127.0.0.1:5222"
tls = "none"

[calls]
answer_time_interval = 12.5
auto_reject = false

[[ice.servers]]
urls = ["stun:127.0.0.1:3478"]

[[ice.servers]]
urls = ["turn:127.0.0.1:3478"]
username = "u"
credential = "c"

[media]
camera = "test"
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Path = p
	want.Account.JID, want.Account.Password = "1001-77@localhost", "hunter2"
	want.Account.Server, want.Account.TLS = "127.0.0.1:5222", "none"
	want.Calls.AnswerTimeInterval, want.Calls.AutoReject = 12.5, false
	want.ICE.Servers = []ICEServer{{URLs: []string{"stun:127.0.0.1:3478"}},
		{URLs: []string{"turn:127.0.0.1:3478"}, Username: "u", Credential: "c"}}
	want.Media.Camera = "test"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load =\n%#v\nwant\n%#v", c, want)
	}
}

func TestLoadMissing(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	if got := DefaultPath(); got != filepath.Join(dir, "ttycall", "config.toml") {
		t.Errorf("DefaultPath = %s", got)
	}
	c, err := Load("")
	if err != nil {
		t.Fatalf("missing default file: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("missing default file gave %+v", c)
	}
	_, err = Load(filepath.Join(dir, "nope.toml"))
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing --config file: err = %v, want ErrNotFound", err)
	}
	if want := "config: " + filepath.Join(dir, "nope.toml") + ": file not found"; err == nil || err.Error() != want {
		t.Errorf("missing --config file: %q, want %q (one prefix)", err, want)
	}

	// The default path is read when present.
	if err := os.MkdirAll(filepath.Join(dir, "ttycall"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DefaultPath(), []byte("[ui]\nmax_fps = 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(""); err != nil || c.UI.MaxFPS != 10 || c.Path != DefaultPath() {
		t.Errorf("Load(\"\") with a default file = %+v, %v", c, err)
	}
}

func TestDefaultPathWithoutXDG(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("HOME", "/home/alice")
	if got := DefaultPath(); got != "/home/alice/.config/ttycall/config.toml" {
		t.Errorf("DefaultPath = %s", got)
	}
	t.Setenv("XDG_CONFIG_HOME", "relative/dir") // not absolute: ignored per the XDG spec
	if got := DefaultPath(); got != "/home/alice/.config/ttycall/config.toml" {
		t.Errorf("DefaultPath with relative XDG_CONFIG_HOME = %s", got)
	}
}

func TestLoadErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name, text string
		want       error
		key        string
		line       int
	}{
		{"unknown key", "[calls]\nanswer_time_interval = 5\nanswer_timeout = 3\n", ErrUnknownKey, "calls.answer_timeout", 3},
		{"unknown section", "\n[video]\nfps = 3\n", ErrUnknownKey, "video", 2},
		{"unknown key in array table", "[[ice.servers]]\nurls = [\"stun:a:1\"]\n[[ice.servers]]\nurls = [\"stun:b:1\"]\nurl = \"x\"\n", ErrUnknownKey, "ice.servers.url", 5},
		{"wrong type", "[media]\nwidth = 640\nfps = \"30\"\n", ErrSyntax, "media.fps", 3},
		{"wrong type bool", "[calls]\n\nauto_reject = 1\n", ErrSyntax, "calls.auto_reject", 3},
		{"syntax", "[account]\njid = \"a@b\"\ntls = starttls\n", ErrSyntax, "", 3},
		{"negative interval", "[calls]\ndialing_time_interval = -1\n", ErrInvalid, "calls.dialing_time_interval", 2},
		{"zero answer", "[calls]\n# comment\nanswer_time_interval = 0\n", ErrInvalid, "calls.answer_time_interval", 3},
		{"negative stats", "[calls]\nstats_report_time_interval = -0.5\n", ErrInvalid, "calls.stats_report_time_interval", 2},
		{"bad tls", "[account]\njid = \"a@b\"\ntls = \"foo\"\n", ErrInvalid, "account.tls", 3},
		{"bad scheme", "[account]\nid_scheme = \"numbers\"\n", ErrInvalid, "account.id_scheme", 2},
		{"server without port", "[account]\nserver = \"example.org\"\n", ErrInvalid, "account.server", 2},
		{"server bad port", "[account]\nserver = \"example.org:99999\"\n", ErrInvalid, "account.server", 2},
		{"server ipv6 unbracketed", "[account]\nserver = \"::1:5222\"\n", ErrInvalid, "account.server", 2},
		{"bad jid", "[account]\njid = \"alice\"\n", ErrInvalid, "account.jid", 2},
		{"jid with resource", "[account]\njid = \"alice@example.org/phone\"\n", ErrInvalid, "account.jid", 2},
		{"both passwords", "[account]\npassword = \"x\"\npassword_command = \"echo x\"\n", ErrInvalid, "account.password_command", 3},
		{"missing ca file", "[account]\nca_file = \"/nonexistent/ca.pem\"\n", ErrInvalid, "account.ca_file", 2},
		{"width 0", "[media]\nwidth = 0\n", ErrInvalid, "media.width", 2},
		{"fps 0", "[media]\nfps = 0\n", ErrInvalid, "media.fps", 2},
		{"codec", "[media]\nvideo_codec = \"h265\"\n", ErrInvalid, "media.video_codec", 2},
		{"render", "[ui]\nrender = \"sixel\"\n", ErrInvalid, "ui.render", 2},
		{"max fps", "[ui]\nmax_fps = -3\n", ErrInvalid, "ui.max_fps", 2},
		{"incoming limit", "[calls]\nincoming_limit = 0\n", ErrInvalid, "calls.incoming_limit", 2},
		{"bandwidth", "[calls]\nbandwidth = -1\n", ErrInvalid, "calls.bandwidth", 2},
		{"policy", "[ice]\ntransport_policy = \"none\"\n", ErrInvalid, "ice.transport_policy", 2},
		{"relay without servers", "[ice]\ntransport_policy = \"relay\"\nexternal_services = false\n", ErrInvalid, "ice.transport_policy", 2},
		{"bad ice url", "[[ice.servers]]\nurls = [\"stun:a:1\"]\n[[ice.servers]]\nurls = [\"http://x\"]\n", ErrInvalid, "ice.servers[1].urls", 4},
		{"turn without credential", "[[ice.servers]]\nurls = [\"turn:a:1\"]\nusername = \"u\"\n", ErrInvalid, "ice.servers[0].username", 3},
		{"dotted key", "calls.bandwidth = -5\n", ErrInvalid, "calls.bandwidth", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.text)
			_, err := Load(p)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("err %v is not a *KeyError", err)
			}
			if ke.Line != tc.line || (tc.key != "" && ke.Key != tc.key) {
				t.Errorf("error at %s line %d, want %s line %d: %v", ke.Key, ke.Line, tc.key, tc.line, err)
			}
			if want := fmt.Sprintf("%s:%d:", p, tc.line); !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not contain %q", err, want)
			}
		})
	}
}

func TestLoadReportsEveryBadValue(t *testing.T) {
	_, err := Load(writeFile(t, "[media]\nwidth = 0\nheight = 0\n[ui]\nrender = \"x\"\n"))
	for _, key := range []string{"media.width", "media.height", "ui.render"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

func TestCAFileRelativeToConfig(t *testing.T) {
	p := writeFile(t, "[account]\nca_file = \"ca.pem\"\n")
	ca := filepath.Join(filepath.Dir(p), "ca.pem")
	if err := os.WriteFile(ca, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Account.CAFile != ca {
		t.Errorf("ca_file = %s, want %s", c.Account.CAFile, ca)
	}
}

func TestResolvePassword(t *testing.T) {
	ctx := context.Background()
	if pw, err := (Account{Password: "p w"}).ResolvePassword(); err != nil || pw != "p w" {
		t.Errorf("plain password = %q, %v", pw, err)
	}
	if pw, err := (Account{PasswordCommand: "printf '  s3cret\\n\\n'"}).ResolvePasswordContext(ctx); err != nil || pw != "s3cret" {
		t.Errorf("command password = %q, %v", pw, err)
	}
	for name, a := range map[string]Account{
		"failing":   {PasswordCommand: "echo s3cret; echo oops >&2; exit 3"},
		"leaky":     {PasswordCommand: "echo s3cret; echo bad s3cret >&2; exit 1"},
		"empty":     {PasswordCommand: "true"},
		"not found": {PasswordCommand: "/nonexistent/pass-helper"},
		"nothing":   {},
	} {
		_, err := a.ResolvePasswordContext(ctx)
		if !errors.Is(err, ErrPassword) {
			t.Errorf("%s: err = %v, want ErrPassword", name, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: error leaks the password: %v", name, err)
		}
	}
	_, err := (Account{PasswordCommand: "echo oops >&2; exit 3"}).ResolvePassword()
	if err == nil || !strings.Contains(err.Error(), "oops") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("failing command error %v should say why", err)
	}
}

func TestPasswordNeverPrinted(t *testing.T) {
	c := Default()
	c.Account.JID = "alice@example.org"
	c.Account.Password = "hunter2"
	c.ICE.Servers = []ICEServer{{URLs: []string{"turn:t:1"}, Username: "u", Credential: "turnpass"}}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("config", "account", c.Account, "cfg", c, "server", c.ICE.Servers[0])
	log.Info("json", "cfg", c)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", c, "account", c.Account)
	for _, s := range []string{
		buf.String(),
		fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", *c),
		fmt.Sprintf("%+v", c.Account), fmt.Sprintf("%#v", c.Account), c.Account.String(),
	} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "turnpass") {
			t.Errorf("secret printed: %s", s)
		}
	}
	if !strings.Contains(buf.String(), "alice@example.org") || !strings.Contains(buf.String(), redacted) {
		t.Errorf("log lacks the account or the redaction mark: %s", buf.String())
	}
}

func TestSyntaxErrorDoesNotLeakPassword(t *testing.T) {
	for _, text := range []string{
		"[account]\npassword = \"hunter2\" trailing\n",
		"[account]\npassword = hunter2\n", // the lexer quotes "hunter"
		"[account]\npassword_command = pass show hunter2\n",
		"[[ice.servers]]\nurls = [\"turn:a:1\"]\ncredential = hunter2\n",
	} {
		_, err := Load(writeFile(t, text))
		if !errors.Is(err, ErrSyntax) {
			t.Fatalf("%q: err = %v, want ErrSyntax", text, err)
		}
		if strings.Contains(err.Error(), "hunt") {
			t.Errorf("syntax error leaks the password: %v", err)
		}
	}
}

func TestValidateWithoutFile(t *testing.T) {
	c := Default()
	c.Media.Width = 0
	err := c.Validate()
	var ke *KeyError
	if !errors.As(err, &ke) || ke.Key != "media.width" || ke.Line != 0 || !errors.Is(err, ErrInvalid) {
		t.Fatalf("Validate() = %v", err)
	}
	if got := err.Error(); !strings.HasPrefix(got, "config: media.width: invalid value") {
		t.Errorf("message %q", got)
	}
}

func TestLoadUnreadable(t *testing.T) {
	_, err := Load(t.TempDir()) // a directory
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(dir) err = %v", err)
	}
}
