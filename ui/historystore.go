package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
)

// The call history is kept in a JSON file in the user's state directory, newest call
// first, at most maxHistory calls. It is read once at start and written whole after
// every change, atomically (a temporary file renamed over it), in a tea.Cmd.

// ErrHistoryCorrupt: the history file is not what this version writes; it is replaced.
var ErrHistoryCorrupt = errors.New("call history file unreadable")

// DefaultHistoryPath is $XDG_STATE_HOME/ttycall/history.json (~/.local/state when unset).
func DefaultHistoryPath() string {
	return filepath.Join(filepath.Dir(DefaultLogPath()), "history.json")
}

// historyFile is the file's form.
type historyFile struct {
	Version int           `json:"version"`
	Calls   []historyJSON `json:"calls"`
}

type historyJSON struct {
	When       time.Time `json:"when"`
	Kind       string    `json:"kind"` // placed, received, missed, rejected
	Peers      []string  `json:"peers"`
	CallType   string    `json:"call_type"` // video, audio
	DurationMS int64     `json:"duration_ms"`
	Reason     string    `json:"reason,omitempty"`
}

const historyVersion = 1

func toJSON(r historyRecord) historyJSON {
	peers := make([]string, len(r.Peers))
	for i, p := range r.Peers {
		peers[i] = string(p)
	}
	return historyJSON{When: r.When, Kind: r.Kind, Peers: peers, CallType: callTypeName(r.CallType),
		DurationMS: r.Duration.Milliseconds(), Reason: r.Reason}
}

func fromJSON(j historyJSON) historyRecord {
	peers := make([]call.UserID, len(j.Peers))
	for i, p := range j.Peers {
		peers[i] = call.UserID(p)
	}
	t := call.CallTypeVideo
	if j.CallType == "audio" {
		t = call.CallTypeAudio
	}
	return historyRecord{When: j.When, Kind: j.Kind, Peers: peers, CallType: t,
		Duration: time.Duration(j.DurationMS) * time.Millisecond, Reason: j.Reason}
}

// historyStore reads and writes the history file. save may run in several Cmds at
// once: each snapshot carries a sequence number and an older one never overwrites a
// newer.
type historyStore struct {
	path string

	mu      sync.Mutex
	written uint64 // guarded by mu; the sequence number of the snapshot on disk
}

// load reads the file: no file is an empty history; a file that does not parse wraps
// ErrHistoryCorrupt (the caller replaces it); other errors (permissions) are returned
// as they are.
func (s *historyStore) load() ([]historyRecord, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("call history: %w", err)
	}
	var f historyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w (%s): %v", ErrHistoryCorrupt, s.path, err)
	}
	if f.Version != historyVersion {
		return nil, fmt.Errorf("%w (%s): version %d", ErrHistoryCorrupt, s.path, f.Version)
	}
	out := make([]historyRecord, 0, min(len(f.Calls), maxHistory))
	for _, c := range f.Calls {
		if len(out) == maxHistory {
			break
		}
		out = append(out, fromJSON(c))
	}
	return out, nil
}

// save writes snapshot seq (newest first) unless a newer one is already on disk.
func (s *historyStore) save(seq uint64, records []historyRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.written {
		return nil
	}
	f := historyFile{Version: historyVersion, Calls: make([]historyJSON, 0, len(records))}
	for _, r := range records {
		f.Calls = append(f.Calls, toJSON(r))
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("call history: %w", err)
	}
	if err := writeFileAtomic(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("call history: %w", err)
	}
	s.written = seq
	return nil
}

// writeFileAtomic writes b to a temporary file next to path and renames it over path,
// so a reader (or a crash) sees the old file or the new one, never a part.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type (
	// historyLoadedMsg: the history file was read (at start).
	historyLoadedMsg struct {
		Records []historyRecord
		Err     error
	}
	// historySavedMsg: a snapshot was written (or failed to be).
	historySavedMsg struct{ Err error }
)

func loadHistoryCmd(s *historyStore) tea.Cmd {
	return func() tea.Msg {
		recs, err := s.load()
		return historyLoadedMsg{Records: recs, Err: err}
	}
}

func saveHistoryCmd(s *historyStore, seq uint64, records []historyRecord) tea.Cmd {
	return func() tea.Msg { return historySavedMsg{Err: s.save(seq, records)} }
}
