package app_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttycall/ttycall/internal/app"
)

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := app.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := app.ParseLevel("loud"); err == nil || !strings.Contains(err.Error(), "loud") {
		t.Errorf("ParseLevel(loud) = %v, want an error naming it", err)
	}
}

// TestOpenLog: the file and its directory are created private, records below the level
// are left out, and a second open appends.
func TestOpenLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "dir", "ttycall.log")
	for i, msg := range []string{"first", "second"} {
		log, c, err := app.OpenLog(path, slog.LevelInfo, nil)
		if err != nil {
			t.Fatal(err)
		}
		log.Debug("hidden")
		log.Info(msg, "n", i)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(data); !strings.Contains(s, "msg=first") || !strings.Contains(s, "msg=second") || strings.Contains(s, "hidden") {
		t.Errorf("log file:\n%s", s)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if _, _, err := app.OpenLog(filepath.Join(path, "under-a-file.log"), slog.LevelInfo, nil); err == nil {
		t.Error("OpenLog under a regular file: no error")
	}
	// No path: the fallback writer, and a closer that does nothing.
	var b strings.Builder
	log, c, err := app.OpenLog("", slog.LevelWarn, &b)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("quiet")
	log.Warn("loud")
	c.Close()
	if s := b.String(); strings.Contains(s, "quiet") || !strings.Contains(s, "loud") {
		t.Errorf("fallback log: %q", s)
	}
}
