package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLogClipsAndRotates: a 200 KB value (a stranger's stanza id) is written as a few
// hundred bytes, and the file is rotated by size, so the log never holds more than
// twice the cap.
func TestLogClipsAndRotates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ttycall.log")
	f, err := openRotating(path, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	log := NewLogger(f, slog.LevelInfo)
	huge := strings.Repeat("x", 200<<10)
	log.Info(huge, "id", huge, "err", os.ErrNotExist, slog.Group("g", "v", huge))
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 4*MaxLogValue {
		t.Errorf("one record with 200 KB values took %d bytes", st.Size())
	}
	for range 2000 {
		log.Info("flood", "id", huge)
	}
	for _, p := range []string{path, path + ".1"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 64<<10 {
			t.Errorf("%s: %d bytes, cap %d", p, st.Size(), 64<<10)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", p, st.Mode().Perm())
		}
	}
}
