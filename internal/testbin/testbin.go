// Package testbin builds the ttycall binary for the tests that run it as separate
// processes (headless callers and callees, the demo, two interfaces in tmux, the
// QuickBlox interop): once per test binary, on first use, removed by Main.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// EnvBin names a prebuilt binary to use instead of building one.
const EnvBin = "TTYCALL_BIN"

var (
	once     sync.Once
	bin, dir string // the binary; the temporary directory holding it ("" for EnvBin)
	buildErr error
)

// Build returns the path of the ttycall binary, building it on the first call.
func Build() (string, error) {
	once.Do(func() {
		if p := os.Getenv(EnvBin); p != "" {
			bin = p
			return
		}
		d, err := os.MkdirTemp("", "ttycall-test-bin-")
		if err != nil {
			buildErr = fmt.Errorf("testbin: %w", err)
			return
		}
		dir = d
		p := filepath.Join(d, "ttycall")
		if out, err := exec.Command("go", "build", "-o", p, "github.com/ttycall/ttycall").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("testbin: go build: %w\n%s", err, out)
			return
		}
		bin = p
	})
	return bin, buildErr
}

// Path is Build for a test: a build failure fails tb.
func Path(tb testing.TB) string {
	tb.Helper()
	p, err := Build()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Remove deletes the binary Build made (not one named by EnvBin).
func Remove() {
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// Run builds the binary into *bin before the tests (a build failure ends the process),
// then does what Main does: `func TestMain(m *testing.M) { testbin.Run(m, &bin) }`.
func Run(m *testing.M, bin *string) {
	p, err := Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = p
	Main(m)
}

// Main runs the tests, removes the binary, and exits with the tests' code:
// `func TestMain(m *testing.M) { testbin.Main(m) }`.
func Main(m *testing.M) {
	code := m.Run()
	Remove()
	os.Exit(code)
}
