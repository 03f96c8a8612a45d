package ui

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call"
)

// withHistory gives the harness a history file in a temporary directory and delivers
// its load, as Init would.
func withHistory(t *testing.T, h *harness, path string) *historyStore {
	t.Helper()
	s := &historyStore{path: path}
	h.m.history.store = s
	h.send(loadHistoryCmd(s)())
	return s
}

func readHistoryFile(t *testing.T, path string) historyFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f historyFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return f
}

func TestHistoryPersisted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "ttycall", "history.json")
	h := newHarness(t)
	withHistory(t, h, path)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a file written before any call: %v", err)
	}
	id := inCall(t, h)
	h.event(call.ConnectionStateEvent{EventMeta: meta(id, "bob@example.org"), State: call.ConnectionConnected})
	h.now = h.now.Add(42 * time.Second)
	h.key("h")
	h.event(call.SessionCloseEvent{EventMeta: meta(id, ""), Reason: "hung up"})
	h.ring("s2", "carol@example.org", call.CallTypeAudio)
	h.key("n")

	f := readHistoryFile(t, path)
	equal(t, f.Version, 1)
	if len(f.Calls) != 2 || f.Calls[0].Kind != "rejected" || f.Calls[1].Kind != "placed" ||
		f.Calls[1].DurationMS != 42000 || f.Calls[1].Peers[0] != "bob@example.org" || f.Calls[0].CallType != "audio" {
		t.Fatalf("file: %+v", f)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v", st.Mode())
	}

	// The next start shows them, and its calls come first.
	h2 := newHarness(t)
	withHistory(t, h2, path)
	equal(t, len(h2.m.history.records), 2)
	equal(t, h2.m.history.records[1].Duration, 42*time.Second)
	h2.key("tab")
	h2.mustSee("placed", "00:42", "Bob", "rejected")
	h2.ring("s3", "dave@example.org", call.CallTypeVideo)
	h2.key("n")
	f = readHistoryFile(t, path)
	if len(f.Calls) != 3 || f.Calls[0].Peers[0] != "dave@example.org" {
		t.Fatalf("file after the second run: %+v", f)
	}
}

// TestHistoryWaitsForLoad: a call recorded before the file is read is not written
// over the older calls; it is merged in front of them.
func TestHistoryWaitsForLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	old := &historyStore{path: path}
	if err := old.save(1, []historyRecord{{When: time.Unix(1, 0).UTC(), Kind: "placed", Peers: []call.UserID{"old@example.org"}}}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	s := &historyStore{path: path}
	h.m.history.store = s
	loaded := loadHistoryCmd(s)() // read now, delivered after the call below
	h.ring("s2", "carol@example.org", call.CallTypeVideo)
	h.key("n")
	equal(t, len(readHistoryFile(t, path).Calls), 1)
	h.send(loaded)
	f := readHistoryFile(t, path)
	if len(f.Calls) != 2 || f.Calls[0].Peers[0] != "carol@example.org" || f.Calls[1].Peers[0] != "old@example.org" {
		t.Fatalf("file: %+v", f)
	}
}

func TestHistoryCorruptFileReplaced(t *testing.T) {
	for _, bad := range []string{"{not json", `{"version": 99, "calls": []}`, ""} {
		path := filepath.Join(t.TempDir(), "history.json")
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		h := newHarness(t)
		withHistory(t, h, path)
		h.mustSee("error: call history file was unreadable: started a new one")
		equal(t, h.m.screen, screenContacts)
		f := readHistoryFile(t, path) // replaced by a valid, empty history
		if f.Version != 1 || len(f.Calls) != 0 {
			t.Fatalf("%q: file %+v", bad, f)
		}
		h.ring("s2", "carol@example.org", call.CallTypeVideo)
		h.key("n")
		equal(t, len(readHistoryFile(t, path).Calls), 1)
	}
}

// TestHistoryUnreadableLeftAlone: a file that cannot be read for another reason
// (here a directory in its place) is reported and never written over.
func TestHistoryUnreadableLeftAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	withHistory(t, h, path)
	h.mustSee("error: call history:")
	h.ring("s2", "carol@example.org", call.CallTypeVideo)
	h.key("n")
	equal(t, len(h.m.history.records), 1)
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Fatalf("path changed: %v", err)
	}
}

func TestHistoryCapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	s := &historyStore{path: path}
	recs := make([]historyRecord, maxHistory+100)
	for i := range recs {
		recs[i] = historyRecord{When: time.Unix(int64(i), 0).UTC(), Kind: "missed"}
	}
	if err := s.save(1, recs); err != nil { // a file written by hand or an older version
		t.Fatal(err)
	}
	got, err := s.load()
	if err != nil || len(got) != maxHistory || !got[0].When.Equal(recs[0].When) {
		t.Fatalf("load: %d records, %v", len(got), err)
	}
	h := newHarness(t)
	withHistory(t, h, path)
	h.ring("s2", "carol@example.org", call.CallTypeVideo)
	h.key("n")
	f := readHistoryFile(t, path)
	if len(f.Calls) != maxHistory || f.Calls[0].Kind != "rejected" {
		t.Fatalf("file holds %d calls, first %+v", len(f.Calls), f.Calls[0])
	}
}

// TestHistoryOlderSnapshotLoses: saves run in commands and may finish out of order;
// an older snapshot never replaces a newer one.
func TestHistoryOlderSnapshotLoses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.json")
	s := &historyStore{path: path}
	newer := []historyRecord{{Kind: "placed"}, {Kind: "missed"}}
	if err := s.save(2, newer); err != nil {
		t.Fatal(err)
	}
	if err := s.save(1, newer[1:]); err != nil {
		t.Fatal(err)
	}
	equal(t, len(readHistoryFile(t, path).Calls), 2)
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".history.json") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}

func TestHistorySaveErrorShown(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	withHistory(t, h, filepath.Join(blocker, "history.json")) // a file where a directory should be
	h.ring("s2", "carol@example.org", call.CallTypeVideo)
	h.key("n")
	h.mustSee("error: call history:")
}

func TestDefaultHistoryPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/x/state")
	equal(t, DefaultHistoryPath(), "/x/state/ttycall/history.json")
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/u")
	equal(t, DefaultHistoryPath(), "/home/u/.local/state/ttycall/history.json")
}

func TestHistoryEarlierDayShowsDate(t *testing.T) {
	h := newHarness(t)
	h.m.history.add(historyRecord{When: h.now.Add(-36 * time.Hour), Kind: "missed", Peers: []call.UserID{"carol@example.org"}})
	h.m.history.add(historyRecord{When: h.now, Kind: "placed", Peers: []call.UserID{"bob@example.org"}})
	h.key("tab")
	h.mustSee(h.now.Add(-36*time.Hour).Local().Format("Jan 02 15:04"), h.now.Local().Format("Jan 02 15:04"),
		"when", "kind", "duration", "with · how it ended")
}
