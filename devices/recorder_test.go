package devices

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// fullDisk is a container writer whose disk fills after n packets.
type fullDisk struct{ n int }

func (w *fullDisk) WriteRTP(*rtp.Packet) error {
	if w.n == 0 {
		return syscall.ENOSPC
	}
	w.n--
	return nil
}

func (w *fullDisk) Close() error { return nil }

// TestRecorderWriteErrorAtOnce: a full disk is reported when it happens, not at Close.
func TestRecorderWriteErrorAtOnce(t *testing.T) {
	got := make(chan error, 4)
	r := newRecorder(&fullDisk{n: 3}, func(err error) { got <- err })
	defer r.Close()
	for i := range 10 {
		if err := r.WriteRTP(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-got:
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("OnError(%v), want ENOSPC", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write error was not reported before Close")
	}
	if err := r.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close = %v, want the write error", err)
	}
	if len(got) != 0 {
		t.Error("OnError called more than once")
	}
}

// TestRecorderFilePrivateNoOverwrite: recordings are 0600, and an existing file is
// refused unless Overwrite (which also makes it private).
func TestRecorderFilePrivateNoOverwrite(t *testing.T) {
	dir := t.TempDir()
	for _, mk := range []func(string, RecordOptions) (Receiver, error){NewOggRecorderWith, NewIVFRecorderWith} {
		path := filepath.Join(dir, "rec")
		os.Remove(path)
		r, err := mk(path, RecordOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, %v; want 0600", st.Mode().Perm(), err)
		}
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := mk(path, RecordOptions{}); !errors.Is(err, ErrExists) {
			t.Fatalf("existing file: err %v, want ErrExists", err)
		}
		if data, _ := os.ReadFile(path); string(data) != "precious" {
			t.Fatal("the existing file was changed")
		}
		r, err = mk(path, RecordOptions{Overwrite: true})
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("overwritten: mode %v, %v; want 0600", st.Mode().Perm(), err)
		}
	}
}
