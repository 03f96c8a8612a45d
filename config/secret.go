package config

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

const redacted = "[redacted]"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

// ResolvePassword returns Password, or the trimmed output of PasswordCommand run by
// "sh -c" (so "pass show xmpp/alice" or "secret-tool lookup …" work as typed), stopped
// after PasswordCommandTimeout (default 30 s). The password never appears in its
// errors.
func (a Account) ResolvePassword() (string, error) {
	return a.ResolvePasswordContext(context.Background())
}

// ResolvePasswordContext is ResolvePassword with a context that may end the command
// sooner.
func (a Account) ResolvePasswordContext(ctx context.Context) (string, error) {
	return resolveSecret(ctx, a.Password, a.PasswordCommand, "account.password", a.PasswordCommandTimeout.Duration())
}

// resolveSecret returns value, or the trimmed output of command run by "sh -c",
// stopped after timeout (0: account.password_command_timeout's default). key names the
// setting in errors ("account.password": its command is key+"_command"); the secret
// never appears in them.
func resolveSecret(ctx context.Context, value, command, key string, timeout time.Duration) (string, error) {
	if command == "" {
		if value == "" {
			return "", fmt.Errorf("%w: set %s or %s_command", ErrPassword, key, key)
		}
		return value, nil
	}
	if timeout <= 0 {
		timeout = Default().Account.PasswordCommandTimeout.Duration()
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// The command runs in a process group of its own, and the whole group is killed at
	// the deadline: killing sh alone would leave a child holding stdout open, and Wait
	// with it. WaitDelay bounds what remains.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	pw := strings.TrimSpace(stdout.String())
	if ctx.Err() == context.DeadlineExceeded {
		return "", fmt.Errorf("%w: %s_command did not finish within %s (see account.password_command_timeout)", ErrPassword, key, timeout)
	}
	if err != nil {
		// Say why, but never echo the output. Its stderr is shown only when the command
		// printed nothing on stdout: after a secret it may repeat it in any form.
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if len(msg) > 200 {
			msg = msg[:200]
		}
		if stdout.Len() > 0 {
			msg = ""
		}
		if msg != "" {
			return "", fmt.Errorf("%w: %s_command failed: %v: %s", ErrPassword, key, err, msg)
		}
		return "", fmt.Errorf("%w: %s_command failed: %v", ErrPassword, key, err)
	}
	if pw == "" {
		return "", fmt.Errorf("%w: %s_command printed nothing", ErrPassword, key)
	}
	return pw, nil
}

// ResolveAuthSecret returns auth_secret or the output of auth_secret_command (see
// Account.ResolvePassword).
func (q QuickBlox) ResolveAuthSecret(ctx context.Context) (string, error) {
	return resolveSecret(ctx, q.AuthSecret, q.AuthSecretCommand, "quickblox.auth_secret", 0)
}

// ResolvePassword returns the user's password or the output of password_command.
func (q QuickBlox) ResolvePassword(ctx context.Context) (string, error) {
	return resolveSecret(ctx, q.Password, q.PasswordCommand, "quickblox.password", 0)
}

// String shows the section with its secrets redacted.
func (q QuickBlox) String() string {
	return fmt.Sprintf("{enabled=%v app_id=%d auth_key=%s auth_secret=%s auth_secret_command=%s account_key=%s api_endpoint=%s chat_endpoint=%s login=%s email=%s password=%s password_command=%s hash=%s}",
		q.Enabled, q.AppID, q.AuthKey, redact(q.AuthSecret), redact(q.AuthSecretCommand), redact(q.AccountKey),
		q.APIEndpoint, q.ChatEndpoint, q.Login, q.Email, redact(q.Password), redact(q.PasswordCommand), q.Hash)
}

// GoString keeps %#v from printing the secrets.
func (q QuickBlox) GoString() string { return "config.QuickBlox" + q.String() }

// LogValue implements slog.LogValuer with the secrets redacted.
func (q QuickBlox) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("enabled", q.Enabled),
		slog.Int("app_id", q.AppID),
		slog.String("auth_key", q.AuthKey),
		slog.String("auth_secret", redact(q.AuthSecret)),
		slog.String("auth_secret_command", redact(q.AuthSecretCommand)),
		slog.String("account_key", redact(q.AccountKey)),
		slog.String("api_endpoint", q.APIEndpoint),
		slog.String("chat_endpoint", q.ChatEndpoint),
		slog.String("login", q.Login),
		slog.String("email", q.Email),
		slog.String("password", redact(q.Password)),
		slog.String("password_command", redact(q.PasswordCommand)),
		slog.String("hash", q.Hash),
	)
}

// String shows the account with the password and password_command redacted (a
// command may embed the secret), so printing a Config with %v or %+v is safe.
func (a Account) String() string {
	return fmt.Sprintf("{jid=%s server=%s tls=%s ca_file=%s resource=%s id_scheme=%s password=%s password_command=%s}",
		a.JID, a.Server, a.TLS, a.CAFile, a.Resource, a.IDScheme, redact(a.Password), redact(a.PasswordCommand))
}

// GoString keeps %#v from printing the password.
func (a Account) GoString() string { return "config.Account" + a.String() }

// LogValue implements slog.LogValuer: the password and password_command are redacted.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("jid", a.JID),
		slog.String("password", redact(a.Password)),
		slog.String("password_command", redact(a.PasswordCommand)),
		slog.String("server", a.Server),
		slog.String("tls", a.TLS),
		slog.String("ca_file", a.CAFile),
		slog.String("resource", a.Resource),
		slog.String("id_scheme", a.IDScheme),
	)
}

// String shows the server with its credential redacted.
func (s ICEServer) String() string {
	return fmt.Sprintf("{urls=%v username=%s credential=%s}", s.URLs, s.Username, redact(s.Credential))
}

// GoString keeps %#v from printing the credential.
func (s ICEServer) GoString() string { return "config.ICEServer" + s.String() }

// LogValue implements slog.LogValuer with the credential redacted.
func (s ICEServer) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Any("urls", s.URLs),
		slog.String("username", s.Username),
		slog.String("credential", redact(s.Credential)),
	)
}

// LogValue implements slog.LogValuer for the whole config, secrets redacted.
func (c *Config) LogValue() slog.Value {
	servers := make([]slog.Value, len(c.ICE.Servers))
	for i, s := range c.ICE.Servers {
		servers[i] = s.LogValue()
	}
	return slog.GroupValue(
		slog.String("path", c.Path),
		slog.Any("account", c.Account),
		slog.Any("calls", c.Calls),
		slog.Group("ice", slog.String("transport_policy", c.ICE.TransportPolicy), slog.Any("servers", servers)),
		slog.Any("media", c.Media),
		slog.Any("ui", c.UI),
		slog.Any("quickblox", c.QuickBlox),
	)
}
