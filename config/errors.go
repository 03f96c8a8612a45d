package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; check them with errors.Is.
var (
	// ErrNotFound: an explicitly given config file does not exist. (A missing file at
	// DefaultPath is not an error: the defaults apply.)
	ErrNotFound = errors.New("config: file not found")
	// ErrSyntax: the file is not valid TOML, or a value has the wrong TOML type.
	ErrSyntax = errors.New("config: syntax error")
	// ErrUnknownKey: the file sets a key ttycall does not know (a typo, usually).
	ErrUnknownKey = errors.New("config: unknown key")
	// ErrInvalid: a value is out of range or not one of the allowed words.
	ErrInvalid = errors.New("config: invalid value")
	// ErrPassword: no password could be obtained (password_command failed or printed
	// nothing).
	ErrPassword = errors.New("config: no password")
)

// KeyError is an error about one key of the file. Err wraps one of the sentinels.
type KeyError struct {
	Path string // the file ("" when the Config was not loaded from a file)
	Line int    // 1-based; 0 when unknown
	Key  string // dotted, e.g. "calls.answer_time_interval" or "ice.servers[1].urls"
	Err  error
}

func (e *KeyError) Error() string {
	var b strings.Builder
	b.WriteString("config: ")
	switch {
	case e.Path != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.Path, e.Line)
	case e.Path != "":
		b.WriteString(e.Path + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	// The sentinels say "config:" already; say it once.
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "config: "))
	return b.String()
}

func (e *KeyError) Unwrap() error { return e.Err }

// ErrNoAccount: the configuration names no account to sign in with (no file at the
// default path, or a file without account.jid and without [quickblox]).
var ErrNoAccount = errors.New("config: no account")

// NoAccountError says where the configuration was looked for and what to do about it.
// It wraps ErrNoAccount.
type NoAccountError struct {
	Path string // the file read; "" when none was found
}

func (e *NoAccountError) Error() string {
	where := "no config file at " + DefaultPath()
	if e.Path != "" {
		where = e.Path + " sets no account.jid"
	}
	return "no account to sign in with: " + where + ".\n" +
		"  To sign in: copy config.toml.example there (or pass --config FILE) and set [account] jid and password.\n" +
		"  To try ttycall first: ttycall demo (a local server, an echo bot and a second user)."
}

func (e *NoAccountError) Unwrap() error { return ErrNoAccount }
