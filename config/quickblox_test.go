package config

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

const qbMinimal = `[account]
server = "127.0.0.1:5222"

[quickblox]
app_id = 77
auth_key = "key"
auth_secret = "secret"
login = "alice"
password = "pw"
`

// TestQuickBloxTable: the table switches QuickBlox mode on, fills the SDK's defaults,
// and needs no [account] jid.
func TestQuickBloxTable(t *testing.T) {
	c, err := Load(writeFile(t, qbMinimal))
	if err != nil {
		t.Fatal(err)
	}
	q := c.QuickBlox
	if !q.Enabled || q.AppID != 77 || q.APIEndpoint != "https://api.quickblox.com" || q.ChatEndpoint != "chat.quickblox.com" || q.Hash != "sha1" {
		t.Errorf("quickblox = %+v", q)
	}
	if Default().QuickBlox.Enabled {
		t.Error("Default() is in QuickBlox mode")
	}
	noTable, err := Load(writeFile(t, "[account]\njid = \"a@b\"\n"))
	if err != nil || noTable.QuickBlox.Enabled {
		t.Errorf("without the table: enabled=%v, %v", noTable.QuickBlox.Enabled, err)
	}
	sec, err := q.ResolveAuthSecret(context.Background())
	pw, err2 := q.ResolvePassword(context.Background())
	if sec != "secret" || pw != "pw" || err != nil || err2 != nil {
		t.Errorf("secrets %q %q, %v %v", sec, pw, err, err2)
	}
	q.AuthSecret, q.AuthSecretCommand = "", "printf ' from-command \\n'"
	if sec, err := q.ResolveAuthSecret(context.Background()); sec != "from-command" || err != nil {
		t.Errorf("auth_secret_command gave %q, %v", sec, err)
	}
	q.PasswordCommand, q.Password = "exit 3", ""
	if _, err := q.ResolvePassword(context.Background()); !errors.Is(err, ErrPassword) || !strings.Contains(err.Error(), "quickblox.password_command") {
		t.Errorf("failing password_command: %v", err)
	}
	for _, s := range []string{fmt.Sprint(c.QuickBlox), fmt.Sprintf("%#v", c.QuickBlox), fmt.Sprintf("%+v", c)} {
		if strings.Contains(s, "secret\"") || strings.Contains(s, "=secret ") || strings.Contains(s, "=pw ") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestQuickBloxErrors(t *testing.T) {
	tests := []struct {
		name, text, key string
		line            int
	}{
		{"jid too", qbMinimal + "", "", 0},
		{"no app id", strings.Replace(qbMinimal, "app_id = 77\n", "", 1), "quickblox.app_id", 4},
		{"no auth key", strings.Replace(qbMinimal, "auth_key = \"key\"\n", "", 1), "quickblox.auth_key", 4},
		{"no secret", strings.Replace(qbMinimal, "auth_secret = \"secret\"\n", "", 1), "quickblox.auth_secret", 4},
		{"both secrets", qbMinimal + "auth_secret_command = \"x\"\n", "quickblox.auth_secret_command", 10},
		{"no user", strings.Replace(qbMinimal, "login = \"alice\"\n", "", 1), "quickblox.login", 4},
		{"login and email", qbMinimal + "email = \"a@b\"\n", "quickblox.email", 10},
		{"no password", strings.Replace(qbMinimal, "password = \"pw\"\n", "", 1), "quickblox.password", 4},
		{"http endpoint", qbMinimal + "api_endpoint = \"http://api.example.org\"\n", "quickblox.api_endpoint", 10},
		{"bad endpoint", qbMinimal + "api_endpoint = \"api.example.org\"\n", "quickblox.api_endpoint", 10},
		{"chat with port", qbMinimal + "chat_endpoint = \"chat.example.org:5222\"\n", "quickblox.chat_endpoint", 10},
		{"hash", qbMinimal + "hash = \"md5\"\n", "quickblox.hash", 10},
		{"jid with table", strings.Replace(qbMinimal, "[account]\n", "[account]\njid = \"1-77@chat.quickblox.com\"\n", 1), "account.jid", 2},
		{"account password with table", strings.Replace(qbMinimal, "[account]\n", "[account]\npassword = \"x\"\n", 1), "account.password", 2},
		{"jid scheme", strings.Replace(qbMinimal, "[account]\n", "[account]\nid_scheme = \"jid\"\n", 1), "account.id_scheme", 2},
		{"unknown key", qbMinimal + "secret = \"x\"\n", "quickblox.secret", 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.text)
			_, err := Load(p)
			if tc.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("err %v is not a *KeyError", err)
			}
			if ke.Key != tc.key || ke.Line != tc.line {
				t.Errorf("error at %s line %d, want %s line %d: %v", ke.Key, ke.Line, tc.key, tc.line, err)
			}
			if strings.Contains(err.Error(), "\"secret\"") || strings.Contains(err.Error(), "\"pw\"") {
				t.Errorf("secret in %v", err)
			}
		})
	}
}

// TestAllowedHTTPEndpoint: http:// is fine to loopback (tests, a local stand-in).
func TestAllowedHTTPEndpoint(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:1/api", "https://api.example.org/"} {
		if _, err := Load(writeFile(t, qbMinimal+"api_endpoint = \""+u+"\"\n")); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}
