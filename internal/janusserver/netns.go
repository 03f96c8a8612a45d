package janusserver

import (
	"fmt"
	"os"
	"os/exec"
)

// envNetns marks a test binary re-run inside the namespace ReexecInNetns made.
const envNetns = "TTYCALL_JANUS_NETNS"

// NetnsAddress is the address ReexecInNetns gives the namespace's veth: Janus gathers
// its candidates there (Options.ICEAddress), ttycall and Chromium on loopback.
const NetnsAddress = "10.77.0.1"

// InNetns tells whether this process runs inside the namespace ReexecInNetns made.
func InNetns() bool { return os.Getenv(envNetns) == "1" }

// ICEAddress is the address to give Options.ICEAddress: NetnsAddress inside the test
// namespace, "" outside it (where media tests must skip, since Janus would gather the
// machine's real addresses).
func ICEAddress() string {
	if InNetns() {
		return NetnsAddress
	}
	return ""
}

// ReexecInNetns runs this binary again under `unshare -n` in a fresh network namespace
// with lo up and a veth pair (both ends inside) holding NetnsAddress, and returns its exit
// code with ran = true. It returns ran = false when already inside, or when no namespace
// can be made (tools missing, no root and no unprivileged user namespaces); the caller
// then runs its tests here, and those that need media skip (janusservertest.NeedMedia). For a TestMain:
//
//	if code, ran := janusserver.ReexecInNetns(); ran { os.Exit(code) }
func ReexecInNetns() (code int, ran bool) {
	if InNetns() || os.Getenv("TTYCALL_JANUS_NO_NETNS") != "" {
		return 0, false
	}
	// Root makes a network namespace; anyone else needs a user namespace around it
	// (unshare -r), where the kernel allows unprivileged ones.
	flags := "-n"
	if os.Geteuid() != 0 {
		flags = "-rn"
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return 0, false
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return 0, false
	}
	if err := exec.Command(unshare, flags, ip, "link", "add", "jv0", "type", "veth", "peer", "name", "jv1").Run(); err != nil {
		fmt.Fprintf(os.Stderr, "janusserver: no network namespace (%v)\n", err)
		return 0, false
	}
	script := `ip=$0; $ip link set lo up && $ip link add jv0 type veth peer name jv1 &&
$ip addr add ` + NetnsAddress + `/24 dev jv0 && $ip link set jv0 up && $ip link set jv1 up && exec "$@"`
	args := append([]string{flags, "sh", "-c", script, ip, os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envNetns+"=1")
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), true
		}
		fmt.Fprintf(os.Stderr, "janusserver: %v\n", err)
		return 1, true
	}
	return 0, true
}
