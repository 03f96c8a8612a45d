package interop

import (
	"fmt"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/internal/testbin"
)

// envNetns marks the test binary re-run inside its own network namespace.
const envNetns = "TTYCALL_INTEROP_NETNS"

// inNetns tells whether this process runs in the namespace TestMain made.
var inNetns = os.Getenv(envNetns) == "1"

// TestMain re-runs the tests inside a fresh network namespace with only loopback up, when
// it can (root and unshare): Chromium and pion gather host candidates on every interface
// they see, and a test must send nothing to this machine's other addresses. In there,
// Prosody, the page server, Chromium and ttycall all share the namespace's loopback.
// Without a namespace the page still drops non-loopback candidates (page.js), and
// ttycall's own candidates are whatever it gathers.
func TestMain(m *testing.M) {
	if !inNetns && os.Getenv("TTYCALL_INTEROP_NO_NETNS") == "" && os.Geteuid() == 0 {
		if unshare, err := exec.LookPath("unshare"); err == nil {
			if ip, err := exec.LookPath("ip"); err == nil {
				if code, ran := rerunInNetns(unshare, ip); ran {
					os.Exit(code)
				}
			}
		}
	}
	code := m.Run()
	testbin.Remove()
	if code == 0 {
		// Every goroutine of the harness (readers of the driver and of ttycall, the page
		// server) ends with the process or server it serves.
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "interop: leaked goroutines: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// rerunInNetns runs this test binary again under `unshare -n` with lo up. ran is false
// when the namespace could not be made (then the caller runs the tests here).
func rerunInNetns(unshare, ip string) (code int, ran bool) {
	if err := exec.Command(unshare, "-n", ip, "link", "set", "lo", "up").Run(); err != nil {
		fmt.Fprintf(os.Stderr, "interop: no network namespace (%v); running on the host's loopback\n", err)
		return 0, false
	}
	args := append([]string{"-n", "sh", "-c", `"$0" link set lo up && exec "$@"`, ip, os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envNetns+"=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), true
		}
		fmt.Fprintf(os.Stderr, "interop: %v\n", err)
		return 1, true
	}
	return 0, true
}
