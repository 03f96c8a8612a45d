package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPasswordCommandTimeout: a command that never ends (a password manager waiting
// for an unlock), with a child that keeps its stdout open, is stopped at the timeout
// with a clear error; its stderr, which may repeat a secret, is not shown.
func TestPasswordCommandTimeout(t *testing.T) {
	a := Account{PasswordCommand: "echo s3cret; echo s3cr3t-ish >&2; sleep 600 & wait", PasswordCommandTimeout: 0.3}
	done := make(chan error, 1)
	go func() { _, err := a.ResolvePasswordContext(context.Background()); done <- err }()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("password_command not stopped")
	}
	if !errors.Is(err, ErrPassword) || !strings.Contains(err.Error(), "did not finish within") {
		t.Fatalf("err = %v, want a timeout error", err)
	}
	if strings.Contains(err.Error(), "s3cr") {
		t.Errorf("error shows the command's output: %v", err)
	}
	if Default().Account.PasswordCommandTimeout != 30 {
		t.Errorf("default password_command_timeout %v, want 30", Default().Account.PasswordCommandTimeout)
	}
}

// TestPasswordCommandStderrHidden: once a command printed something on stdout, its
// stderr is not shown, even when it does not contain the secret verbatim.
func TestPasswordCommandStderrHidden(t *testing.T) {
	_, err := (Account{PasswordCommand: "echo s3cret; echo 'bad token S3CRET' >&2; exit 2"}).ResolvePassword()
	if err == nil || strings.Contains(strings.ToLower(err.Error()), "s3cret") || !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("err = %v", err)
	}
}

// TestPermissionWarning: like ssh, a config holding a password that the group or others
// may read gets a warning; a private one, or one without secrets, does not.
func TestPermissionWarning(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, body string
		mode       os.FileMode
		warn       bool
	}{
		{"open password", "[account]\npassword = \"hunter2\"\n", 0o644, true},
		{"group password", "[account]\npassword = \"hunter2\"\n", 0o640, true},
		{"private password", "[account]\npassword = \"hunter2\"\n", 0o600, false},
		{"open command", "[account]\npassword_command = \"pass x\"\n", 0o644, false},
		{"open turn credential", "[[ice.servers]]\nurls = [\"turn:t.example:3478\"]\nusername = \"u\"\ncredential = \"c\"\n", 0o604, true},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".toml")
		if err := os.WriteFile(p, []byte(c.body), c.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, c.mode); err != nil { // umask
			t.Fatal(err)
		}
		cfg, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := len(cfg.Warnings) > 0; got != c.warn {
			t.Errorf("%s: warnings %q, want a warning: %v", c.name, cfg.Warnings, c.warn)
		}
		for _, w := range cfg.Warnings {
			if !strings.Contains(w, "chmod 600") || strings.Contains(w, "hunter2") {
				t.Errorf("%s: warning %q", c.name, w)
			}
		}
	}
}
