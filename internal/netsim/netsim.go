// Package netsim builds simulated networks for tests of NAT traversal: network
// namespaces joined by veth pairs, NAT routers made of nftables rules, and a public side
// where a test runs its servers (Prosody, coturn). Everything lives in namespaces the
// test creates, named uniquely per run, and is removed at the test's end.
//
// The topology:
//
//	A (10.77.1.2) -- natA (10.77.1.1 | 198.51.100.2) -- pub (198.51.100.1)
//	B (10.77.2.2) -- natB (10.77.2.1 | 198.51.100.6) -- pub (198.51.100.5)
//
// pub routes between the two NATs' outsides, so the NATs' public addresses reach each
// other (a direct path exists behind cone NATs) and both reach pub's servers.
// Every namespace has its own interfaces named lan/wan/toa/tob; nothing is made in the
// machine's own namespace.
package netsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Addresses of the topology.
const (
	PubIP    = "198.51.100.1" // pub, on its link to natA: where the servers listen
	PubIPB   = "198.51.100.5" // pub, on its link to natB
	NATAWAN  = "198.51.100.2" // natA's public address
	NATBWAN  = "198.51.100.6" // natB's public address
	HostAIP  = "10.77.1.2"
	HostBIP  = "10.77.2.2"
	natALAN  = "10.77.1.1"
	natBLAN  = "10.77.2.1"
	maskWAN  = "/30"
	maskLAN  = "/24"
	nsPrefix = "ttcn"
)

// NAT is a router's behaviour.
type NAT int

const (
	// Cone keeps the source port (plain masquerade): hole punching works.
	Cone NAT = iota
	// Symmetric maps each destination to a new random port (masquerade fully-random):
	// two hosts behind such NATs reach each other only through a relay.
	Symmetric
	// None routes without translation (the hosts' addresses are reachable).
	None
)

// Side names one of the two private networks.
type Side int

// The two sides.
const (
	A Side = iota
	B
)

// Net is one topology.
type Net struct {
	// Namespace names.
	Pub, NATA, NATB, HostA, HostB string
}

var seq atomic.Int64

// Available reports why namespaces cannot be made here (not root, no ip or nft), or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("netsim: needs root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("netsim: %s is not installed (run scripts/setup.sh)", tool)
		}
	}
	return nil
}

// Require skips tb when namespaces cannot be made, except under CI (CI=true), where it
// fails: CI has root, ip and nft.
func Require(tb testing.TB) {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal(err)
		}
		tb.Skip(err)
	}
}

// New builds the topology with the given NAT on each side; it is removed when tb ends.
func New(tb testing.TB, natA, natB NAT) *Net {
	tb.Helper()
	Require(tb)
	id := fmt.Sprintf("%s%d-%d", nsPrefix, os.Getpid(), seq.Add(1))
	n := &Net{Pub: id + "-pub", NATA: id + "-na", NATB: id + "-nb", HostA: id + "-a", HostB: id + "-b"}
	tb.Cleanup(n.remove)
	if err := n.build(natA, natB); err != nil {
		tb.Fatal(err)
	}
	return n
}

func (n *Net) all() []string { return []string{n.Pub, n.NATA, n.NATB, n.HostA, n.HostB} }

func (n *Net) remove() {
	for _, ns := range n.all() {
		_ = exec.Command("ip", "netns", "del", ns).Run()
	}
}

func (n *Net) build(natA, natB NAT) error {
	for _, ns := range n.all() {
		if err := run("ip", "netns", "add", ns); err != nil {
			return err
		}
		if err := n.IP(ns, "link", "set", "lo", "up"); err != nil {
			return err
		}
	}
	type link struct {
		ns1, if1, addr1, ns2, if2, addr2 string
	}
	links := []link{
		{n.HostA, "eth0", HostAIP + maskLAN, n.NATA, "lan", natALAN + maskLAN},
		{n.HostB, "eth0", HostBIP + maskLAN, n.NATB, "lan", natBLAN + maskLAN},
		{n.NATA, "wan", NATAWAN + maskWAN, n.Pub, "toa", PubIP + maskWAN},
		{n.NATB, "wan", NATBWAN + maskWAN, n.Pub, "tob", PubIPB + maskWAN},
	}
	for _, l := range links {
		if err := n.IP(l.ns1, "link", "add", l.if1, "type", "veth", "peer", "name", l.if2, "netns", l.ns2); err != nil {
			return err
		}
		for _, side := range [][3]string{{l.ns1, l.if1, l.addr1}, {l.ns2, l.if2, l.addr2}} {
			if err := n.IP(side[0], "addr", "add", side[2], "dev", side[1]); err != nil {
				return err
			}
			if err := n.IP(side[0], "link", "set", "dev", side[1], "up"); err != nil {
				return err
			}
		}
	}
	routes := [][]string{
		{n.HostA, "route", "add", "default", "via", natALAN},
		{n.HostB, "route", "add", "default", "via", natBLAN},
		{n.NATA, "route", "add", "default", "via", PubIP},
		{n.NATB, "route", "add", "default", "via", PubIPB},
	}
	for _, r := range routes {
		if err := n.IP(r[0], r[1:]...); err != nil {
			return err
		}
	}
	for _, ns := range []string{n.Pub, n.NATA, n.NATB} {
		if err := n.Exec(ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"); err != nil {
			return err
		}
	}
	// Without NAT, pub must know the way back to the private networks.
	if natA == None {
		if err := n.IP(n.Pub, "route", "add", "10.77.1.0/24", "via", NATAWAN); err != nil {
			return err
		}
	}
	if natB == None {
		if err := n.IP(n.Pub, "route", "add", "10.77.2.0/24", "via", NATBWAN); err != nil {
			return err
		}
	}
	for _, x := range []struct {
		ns  string
		nat NAT
	}{{n.NATA, natA}, {n.NATB, natB}} {
		if x.nat == None {
			continue
		}
		// A router drops what comes unasked to its own address, before conntrack keeps
		// it: an entry for an early hole-punching packet would otherwise clash with
		// the mapping of the host's own packets, which then get another port.
		rule := "masquerade"
		if x.nat == Symmetric {
			rule = "masquerade fully-random"
		}
		script := fmt.Sprintf(`table ip nat {
	chain postrouting {
		type nat hook postrouting priority 100; policy accept;
		oifname "wan" %s
	}
}
table inet filter {
	chain forward {
		type filter hook forward priority 0; policy accept;
	}
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "wan" ct state new drop
	}
}
`, rule)
		if err := n.NFT(x.ns, script); err != nil {
			return err
		}
	}
	return nil
}

// NATOf is the namespace of a side's router.
func (n *Net) NATOf(s Side) string {
	if s == A {
		return n.NATA
	}
	return n.NATB
}

// HostOf is the namespace of a side's host.
func (n *Net) HostOf(s Side) string {
	if s == A {
		return n.HostA
	}
	return n.HostB
}

// Block makes side's router drop forwarded packets matching an nft match expression
// ("meta l4proto udp", "tcp dport 3478"), as a firewall would.
func (n *Net) Block(s Side, match string) error {
	return n.NFT(n.NATOf(s), fmt.Sprintf("add rule inet filter forward %s drop\n", match))
}

// IP runs `ip -n ns ARGS`.
func (n *Net) IP(ns string, args ...string) error {
	return run("ip", append([]string{"-n", ns}, args...)...)
}

// Exec runs a command in namespace ns and waits for it.
func (n *Net) Exec(ns, name string, args ...string) error {
	return run("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// NFT loads an nft script in namespace ns.
func (n *Net) NFT(ns, script string) error {
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netsim: nft in %s: %w: %s\n%s", ns, err, out, script)
	}
	return nil
}

// Command is exec.Command of name ARGS run inside namespace ns.
func (n *Net) Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Wrap is the command prefix that runs a program inside ns.
func Wrap(ns string) []string { return []string{"ip", "netns", "exec", ns} }

// Dialer returns a dial function whose connections are made inside namespace ns (the
// test process itself stays in its own namespace).
func Dialer(ns string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		err = inNetns(ns, func() error {
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// Listen opens a listener inside namespace ns (a page server on pub for a browser in
// a private network); the test process itself stays in its own namespace.
func Listen(ns, network, addr string) (ln net.Listener, err error) {
	err = inNetns(ns, func() error {
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// inNetns runs f on a thread inside namespace ns and waits for it: a socket f makes keeps
// the namespace it was made in. The goroutine's thread enters ns and goes back before it
// is unlocked. A thread that cannot go back stays locked and ends with the goroutine;
// that is rare, since an ending thread fires the Pdeathsig of children it started.
func inNetns(ns string, f func() error) error {
	done := make(chan error, 1)
	go func() { // ends when f returns
		runtime.LockOSThread()
		self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netsim: %w", err)
			return
		}
		defer self.Close()
		target, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netsim: %w", err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netsim: setns %s: %w", ns, err)
			return
		}
		err = f()
		if unix.Setns(int(self.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		done <- err
	}()
	return <-done
}

func run(name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("netsim: %s %s: %w: %s", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}
