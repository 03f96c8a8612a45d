package nattest

import (
	"fmt"
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
