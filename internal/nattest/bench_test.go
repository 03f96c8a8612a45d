package nattest

import (
	"slices"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/netsim"
)

// BenchmarkCallSetup: from the call command to the caller's CONNECTED, median of 12
// calls, through a relay (two symmetric NATs, XEP-0215 credentials) and direct (cone
// NATs, STUN). Run: go test -run '^$' -bench CallSetup -benchtime 1x ./internal/nattest/
func BenchmarkCallSetup(b *testing.B) {
	for _, c := range []struct {
		name string
		nat  netsim.NAT
	}{{"relayed", netsim.Symmetric}, {"direct", netsim.Cone}} {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b, worldOpts{natA: c.nat, natB: c.nat, turn: true, extdisco: true}, "alice", "bob", "carol")
			alice := w.start(w.net.HostA, "alice", nil, "--config", w.config("alice", stats), "--answer", "auto")
			bob := w.start(w.net.HostB, "bob", nil, "--config", w.config("bob", stats), "--answer", "auto")
			carol := w.start(w.net.HostB, "carol", nil, "--config", w.config("carol", stats), "--answer", "auto")
			// Callers and callees take turns: the engine takes 5 new calls from one
			// sender at once, then one every 12 s (internal/guard).
			type leg struct {
				from, to *proc
				toID     string
			}
			legs := []leg{{alice, bob, w.id("bob")}, {bob, alice, w.id("alice")}, {alice, carol, w.id("carol")}, {carol, alice, w.id("alice")}}
			for _, p := range []*proc{alice, bob, carol} {
				p.wait(0, short, "event", "online")
			}
			for range b.N {
				var took []time.Duration
				var relayed int
				for i := range 12 {
					l := legs[i%len(legs)]
					mark := len(l.from.all())
					start := time.Now()
					l.from.send("call " + l.toID + " audio")
					_, ev := l.from.waitFn(mark, long, "CONNECTED", func(e event) bool {
						return e.str("event") == "connection_state" && e.str("state") == "CONNECTED"
					})
					took = append(took, time.Since(start))
					sid := ev.str("session")
					_, st := l.from.waitFn(mark, long, "stats with a pair", func(e event) bool {
						return e.str("event") == "stats" && e.str("session") == sid && candidate(e)["local_type"] != ""
					})
					if cp := candidate(st); cp["local_type"] == "relay" || cp["remote_type"] == "relay" {
						relayed++
					}
					l.from.send("hangup")
					l.from.wait(mark, short, "event", "session_close", "session", sid)
					l.to.wait(0, short, "event", "session_close", "session", sid)
				}
				slices.Sort(took)
				med := (took[5] + took[6]) / 2
				b.ReportMetric(float64(med.Microseconds())/1000, "median-ms")
				b.ReportMetric(float64(relayed), "relayed-calls")
				b.Logf("%s: median %v of 12 (min %v, max %v), %d relayed", c.name, med, took[0], took[11], relayed)
			}
		})
	}
}
