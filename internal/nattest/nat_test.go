package nattest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/netsim"
)

const stats = "[calls]\nstats_report_time_interval = 0.5\n"

// call places a video call from a to b and returns the session once both are CONNECTED
// and each receives the other's audio and video, with the stats event of each side.
func call(t *testing.T, a, b *proc, bID string) (sid string, sa, sb event) {
	t.Helper()
	a.send("call " + bID + " video")
	_, ev := b.wait(0, short, "event", "call")
	sid = ev.str("session")
	a.wait(0, long, "event", "connection_state", "session", sid, "state", "CONNECTED")
	b.wait(0, long, "event", "connection_state", "session", sid, "state", "CONNECTED")
	return sid, a.receiving(0, sid), b.receiving(0, sid)
}

// Two ttycall peers behind two symmetric NATs, TURN servers from the config: only a
// relay connects them.
func TestSymmetricNATsRelayFromConfig(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Symmetric, natB: netsim.Symmetric, turn: true}, "alice", "bob")
	ice := turnServer(fmt.Sprintf("%q", fmt.Sprintf("turn:%s:%d", netsim.PubIP, netsim.TURNPort)), time.Hour)
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", stats+ice), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", stats+ice), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	_, sa, sb := call(t, alice, bob, w.id("bob"))
	for _, c := range []map[string]any{candidate(sa), candidate(sb)} {
		if c["local_type"] != "relay" && c["remote_type"] != "relay" {
			t.Errorf("candidate pair %v: no relay behind two symmetric NATs", c)
		}
	}
}

// relayPair fails t unless both ends of the pair are relays, reached over proto.
func relayPair(t *testing.T, who string, e event, proto string) {
	t.Helper()
	c := candidate(e)
	if c["local_type"] != "relay" || c["relay_protocol"] != proto {
		t.Errorf("%s: candidate pair %v, want a local relay reached over %s", who, c, proto)
	}
}

// The reported case: two symmetric NATs, TURN credentials from the XMPP server
// (XEP-0215, Prosody's mod_turn_external) and nothing in the config.
func TestSymmetricNATsRelayFromXEP0215(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Symmetric, natB: netsim.Symmetric, turn: true, extdisco: true}, "alice", "bob")
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", stats), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", stats), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	_, sa, sb := call(t, alice, bob, w.id("bob"))
	for who, e := range map[string]event{"alice": sa, "bob": sb} {
		if c := candidate(e); c["local_type"] != "relay" && c["remote_type"] != "relay" {
			t.Errorf("%s: candidate pair %v: no relay behind two symmetric NATs", who, c)
		}
	}
}

// Cone NATs and a STUN server: the call goes direct between the NATs' public
// addresses (srflx), without a relay.
func TestConeNATsSTUNDirect(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Cone, natB: netsim.Cone, turn: true}, "alice", "bob")
	ice := fmt.Sprintf("[[ice.servers]]\nurls = [\"stun:%s:%d\"]\n", netsim.PubIP, netsim.TURNPort)
	extra := stats + "[ice]\nexternal_services = false\n" + ice
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", extra), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", extra), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	_, sa, sb := call(t, alice, bob, w.id("bob"))
	for who, e := range map[string]event{"alice": sa, "bob": sb} {
		c := candidate(e)
		if c["local_type"] == "relay" || c["remote_type"] == "relay" {
			t.Errorf("%s: candidate pair %v uses a relay", who, c)
		}
		if c["local_type"] != "srflx" && c["remote_type"] != "srflx" && c["remote_type"] != "prflx" {
			t.Errorf("%s: candidate pair %v: want a server-reflexive path", who, c)
		}
	}
}

// A firewall that drops all UDP on alice's side: TURN over TCP carries the call, and
// with TCP to port 3478 dropped as well, TURN over TLS.
func TestUDPBlockedTURNOverTCPThenTLS(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Symmetric, natB: netsim.Symmetric, turn: true, turnTLS: true, extdisco: true}, "alice", "bob")
	if err := w.net.Block(netsim.A, "meta l4proto udp"); err != nil {
		t.Fatal(err)
	}
	// Alice trusts the relay's self-signed certificate (Go reads SSL_CERT_FILE).
	env := []string{"SSL_CERT_FILE=" + w.turn.CAFile}
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", stats), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", env, "--config", w.config("alice", stats), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	sid, sa, _ := call(t, alice, bob, w.id("bob"))
	relayPair(t, "alice (TCP)", sa, "tcp")

	alice.send("hangup")
	alice.wait(0, short, "event", "session_close", "session", sid)
	bob.wait(0, short, "event", "session_close", "session", sid)
	if err := w.net.Block(netsim.A, fmt.Sprintf("tcp dport %d", netsim.TURNPort)); err != nil {
		t.Fatal(err)
	}
	mark := len(bob.all())
	alice.send("call " + w.id("bob") + " video")
	i, ev := bob.waitFn(mark, short, "second call", func(e event) bool { return e.str("event") == "call" && e.str("session") != sid })
	sid2 := ev.str("session")
	alice.wait(0, long, "event", "connection_state", "session", sid2, "state", "CONNECTED")
	bob.wait(i, long, "event", "connection_state", "session", sid2, "state", "CONNECTED")
	relayPair(t, "alice (TLS)", alice.receiving(0, sid2), "tls")
	bob.receiving(i, sid2)
}

// Relay-only mode on a network where a direct path exists (cone NATs, a STUN server):
// both ends use relays.
func TestRelayOnlyWhereDirectWorks(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Cone, natB: netsim.Cone, turn: true, extdisco: true}, "alice", "bob")
	extra := stats + "[ice]\ntransport_policy = \"relay\"\n"
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", extra), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", extra), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	_, sa, sb := call(t, alice, bob, w.id("bob"))
	for who, e := range map[string]event{"alice": sa, "bob": sb} {
		if c := candidate(e); c["local_type"] != "relay" || c["remote_type"] != "relay" {
			t.Errorf("%s: candidate pair %v, want relay/relay", who, c)
		}
	}
}

// Credentials from XEP-0215 that expire between two calls: the second call fetches new
// ones (behind symmetric NATs only the relay connects, and coturn refuses expired ones).
func TestExpiredCredentialsRenewed(t *testing.T) {
	const ttl = 5 * time.Second
	w := newWorld(t, worldOpts{natA: netsim.Symmetric, natB: netsim.Symmetric, turn: true, extdisco: true, extTTL: int(ttl / time.Second)}, "alice", "bob")
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", stats), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", stats), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	expired := time.Now().Add(ttl + time.Second) // every credential of the first call is dead then
	sid, _, _ := call(t, alice, bob, w.id("bob"))
	alice.send("hangup")
	alice.wait(0, short, "event", "session_close", "session", sid)
	bob.wait(0, short, "event", "session_close", "session", sid)
	// The condition under test is the clock: the first credentials must have expired.
	time.Sleep(time.Until(expired))
	mark := len(bob.all())
	alice.send("call " + w.id("bob") + " video")
	i, ev := bob.waitFn(mark, short, "second call", func(e event) bool { return e.str("event") == "call" && e.str("session") != sid })
	sid2 := ev.str("session")
	alice.wait(0, long, "event", "connection_state", "session", sid2, "state", "CONNECTED")
	bob.wait(i, long, "event", "connection_state", "session", sid2, "state", "CONNECTED")
	alice.receiving(0, sid2)
	bob.receiving(i, sid2)
}

// Two ttycall peers on one network and no server at all: host candidates leave as mDNS
// names (.local), which the peers resolve on their link.
func TestSameLANNoServers(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Cone, natB: netsim.Cone}, "alice", "bob")
	extra := stats + "[ice]\nexternal_services = false\n"
	bob := w.start(w.net.HostA, "bob", nil, "--config", w.config("bob", extra), "--answer", "auto", "--video")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", extra), "--video")
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	_, sa, _ := call(t, alice, bob, w.id("bob"))
	if c := candidate(sa); c["local_type"] != "host" {
		t.Errorf("candidate pair %v, want host", c)
	}
}

// A wrong TURN secret (the XMPP server signs credentials coturn refuses): the call
// fails with a message that names the relay, not a bare FAILED or a hang.
func TestWrongTURNSecretNamesRelay(t *testing.T) {
	w := newWorld(t, worldOpts{natA: netsim.Symmetric, natB: netsim.Symmetric, turn: true, extdisco: true, extSecret: "wrong-secret"}, "alice", "bob")
	extra := "[ice]\ntransport_policy = \"relay\"\n"
	bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", extra), "--answer", "auto")
	alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", extra))
	bob.wait(0, short, "event", "online")
	alice.wait(0, short, "event", "online")
	alice.send("call " + w.id("bob") + " audio")
	_, ev := alice.wait(0, long, "event", "connection_state", "state", "FAILED")
	relay := fmt.Sprintf("turn:%s:%d", netsim.PubIP, netsim.TURNPort)
	if m := ev.str("message"); !strings.Contains(m, relay) || !strings.Contains(m, "NAT traversal") {
		t.Errorf("FAILED message %q does not name %s and the README section", m, relay)
	}
}
