package app

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ttycall/ttycall/internal/guard"
)

// ParseLevel reads "debug", "info", "warn" or "error" (case-insensitive; "" is info).
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if s == "" {
		return slog.LevelInfo, nil
	}
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("log level %q: %w", s, err)
	}
	return l, nil
}

// NewLogger logs text records at level and above to w. Every string value is cut to
// MaxLogValue bytes: many come from strangers (stanza ids, JIDs, errors quoting their
// input), and one 200 KB id repeated must not become megabytes of log.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: clipAttr}))
}

// MaxLogValue bounds one string value (or error message) in a log line; it is
// guard.MaxErr, the longest an error quoting remote input may be anywhere.
const MaxLogValue = guard.MaxErr

// clipAttr cuts long strings, errors and Stringers (JIDs) in every attribute,
// including the message and those of groups and of With.
func clipAttr(_ []string, a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if len(v.String()) > MaxLogValue {
			a.Value = slog.StringValue(guard.ClipN(v.String(), MaxLogValue))
		}
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		default:
			return a
		}
		if len(s) > MaxLogValue {
			a.Value = slog.StringValue(guard.ClipN(s, MaxLogValue))
		}
	}
	return a
}

// MaxLogFile is the size at which the log file is rotated: it is renamed to
// "PATH.1" (replacing an older one) and a new file is started, so the log never takes
// more than twice this on disk, whatever a stranger makes ttycall log.
const MaxLogFile = 10 << 20

// OpenLog logs to the file at path (created with its directory, appended to), or to
// fallback when path is empty. The returned closer closes the file (a no-op for
// fallback).
func OpenLog(path string, level slog.Level, fallback io.Writer) (*slog.Logger, io.Closer, error) {
	if path == "" {
		return NewLogger(fallback, level), io.NopCloser(nil), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	f, err := openRotating(path, MaxLogFile)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return NewLogger(f, level), f, nil
}

// rotating is a log file that is rotated when a write would take it past max bytes.
type rotating struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File // guarded by mu; nil after Close or a failed rotation
	size int64    // guarded by mu
}

func openRotating(path string, max int64) (*rotating, error) {
	r := &rotating{path: path, max: max}
	if err := r.open(0); err != nil {
		return nil, err
	}
	return r, nil
}

// open opens (appends to) the file, private to the user.
func (r *rotating) open(flag int) error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|flag, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, st.Size()
	return nil
}

func (r *rotating) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil && r.size > 0 && r.size+int64(len(p)) > r.max {
		r.f.Close()
		r.f = nil
		flag := 0
		if err := os.Rename(r.path, r.path+".1"); err != nil {
			flag = os.O_TRUNC // cannot keep the old part: start over rather than grow
		}
		if err := r.open(flag); err != nil {
			return 0, fmt.Errorf("rotate log: %w", err)
		}
	}
	if r.f == nil {
		return 0, os.ErrClosed
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

func (r *rotating) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
