package headless_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordRefusesExistingFile: --record never replaces a file silently: exit 2 before
// logging in, the file untouched; --overwrite lets it.
func TestRecordRefusesExistingFile(t *testing.T) {
	e := newEnv(t, "bob")
	rec := filepath.Join(t.TempDir(), "rec.ogg")
	if err := os.WriteFile(rec, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--record", rec)
	if code := bob.exit(short); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if data, _ := os.ReadFile(rec); string(data) != "precious" {
		t.Error("the existing file was changed")
	}
	bob = start(t, "bob2", "--config", e.config("bob", "", ""), "--record", rec, "--overwrite")
	bob.wait(0, short, "event", "online")
	bob.quit()
}

// TestRecordWriteErrorExits: the disk fills during a call (a file size limit on the
// process: writes fail with EFBIG, as on a full disk). The error is an event at once, and
// with --exit-on-close the recording bot hangs up and exits 6 while the caller would
// still talk.
func TestRecordWriteErrorExits(t *testing.T) {
	e := newEnv(t, "alice", "bob")
	rec := filepath.Join(t.TempDir(), "rec.ogg")
	// ulimit -f counts 512-byte blocks in dash: 4 KB, a second or so of Opus.
	cmd := exec.Command("/bin/sh", "-c", `ulimit -f 8 && exec "$0" "$@"`, bin, "headless", "--log", os.DevNull,
		"--config", e.config("bob", "", ""), "--answer", "auto", "--record", rec, "--exit-on-close")
	bob := startCmd(t, "bob", cmd)
	bob.wait(0, short, "event", "online")
	alice := start(t, "alice", "--config", e.config("alice", "", ""), "--call", e.id("bob"), "--exit-on-close")
	_, callEv := bob.wait(0, short, "event", "call")
	_, errEv := bob.wait(0, long, "event", "error")
	if !strings.Contains(errEv.str("message"), "record") {
		t.Errorf("error event %v, want one about the recording", errEv)
	}
	if code := bob.exit(long); code != 6 {
		t.Errorf("bob exit code %d, want 6", code)
	}
	// bob hung up: alice's call ends with bob's stop, not a timeout.
	alice.wait(0, long, "event", "stop", "session", callEv.str("session"))
	if code := alice.exit(long); code != 0 {
		t.Errorf("alice exit code %d", code)
	}
}

// TestStrangerCallBlocked: with the default accept_from (contacts), a call from someone
// not in the roster never reaches --answer auto: the bot writes call_blocked (the
// stanza's sender as the user) and the caller is rejected (exit 4).
func TestStrangerCallBlocked(t *testing.T) {
	e := newEnv(t, "bob", "alice")
	if err := e.srv.Register(t.Context(), "carol", "carol"); err != nil {
		t.Fatal(err)
	}
	bob := start(t, "bob", "--config", e.config("bob", "", ""), "--answer", "auto")
	bob.wait(0, short, "event", "online")
	carol := start(t, "carol", "--config", e.config("carol", "", ""), "--call", e.id("bob"), "--exit-on-close")
	_, blocked := bob.wait(0, short, "event", "call_blocked")
	if blocked.str("user") != e.id("carol") {
		t.Errorf("call_blocked %v, want carol as the user", blocked)
	}
	if code := carol.exit(long); code != 4 {
		t.Errorf("carol's exit code %d, want 4 (rejected)", code)
	}
	for _, ev := range bob.all() {
		if ev.str("event") == "call" {
			t.Fatalf("a stranger's call rang: %v", ev)
		}
	}
	bob.quit()
}
