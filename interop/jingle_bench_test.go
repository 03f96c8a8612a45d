package interop

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkJingleCallSetup: call setup over Jingle with JMI, in one run: 12 (or b.N)
// calls ttycall -> StanzaJS (`call bob@localhost video` on stdin to CONNECTED on both
// sides, the page proceeding and accepting by itself), then as many StanzaJS ->
// StanzaJS (propose() on one page to connected on both), through the same Prosody.
// Run: go test ./interop -run '^$' -bench JingleCallSetup -benchtime 12x
func BenchmarkJingleCallSetup(b *testing.B) {
	ctx := ctxFor(b, 10*time.Minute)
	env := startJingleEnv(b, ctx, "alice", "bob", "carol")
	bob, _ := env.StanzaUser(ctx, "bob", "page")
	bob.Must(ctx, nil, "setAuto", map[string]any{"mode": "proceed"})
	carol, _ := env.StanzaUser(ctx, "carol", "page")
	tty := env.Ttycall(ctx, "alice", JingleTtyOpts{Args: []string{"--video"}})
	n := max(b.N, 12)
	now := func() float64 { return float64(time.Now().UnixNano()) / 1e6 }

	var tSetups, tCaller, tCallee []float64
	b.ResetTimer()
	for i := 0; i < n; i++ {
		pm, tm := bob.Mark(), tty.Mark()
		t0 := now()
		tty.Send("call bob@localhost video")
		ce := tty.Wait(ctx, tm, "event", "connection_state", "user", "bob@localhost", "state", "CONNECTED")
		sid := ce.Str("session")
		tp := bob.Wait(ctx, pm, "event", "connection", "sid", sid, "state", "connected").Float("t")
		tc := eventTime(b, ce)
		tSetups = append(tSetups, max(tp, tc)-t0)
		tCaller, tCallee = append(tCaller, tc-t0), append(tCallee, tp-t0)
		tty.Send("hangup")
		bob.Wait(ctx, pm, "event", "terminated", "sid", sid)
		tty.Wait(ctx, tm, "event", "session_close", "session", sid)
		bob.Must(ctx, nil, "forget")
	}

	var pSetups, pCaller, pCallee []float64
	for i := 0; i < n; i++ {
		pm := bob.Mark()
		sid := fmt.Sprintf("bench-%d-%d", i, time.Now().UnixNano())
		t0 := now()
		carol.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": sid, "media": []string{"audio", "video"}})
		tc := carol.Wait(ctx, pm, "event", "connection", "sid", sid, "state", "connected").Float("t")
		tp := bob.Wait(ctx, pm, "event", "connection", "sid", sid, "state", "connected").Float("t")
		pSetups = append(pSetups, max(tp, tc)-t0)
		pCaller, pCallee = append(pCaller, tc-t0), append(pCallee, tp-t0)
		carol.Must(ctx, nil, "end", map[string]any{"sid": sid, "reason": "success"})
		bob.Wait(ctx, pm, "event", "terminated", "sid", sid)
		carol.Must(ctx, nil, "forget")
		bob.Must(ctx, nil, "forget")
	}
	b.StopTimer()
	reportSetups(b, "jingle ttycall->stanzajs", tSetups, tCaller, tCallee)
	b.ReportMetric(median(pSetups), "stanzajs-median-ms")
	b.Logf("jingle stanzajs->stanzajs call setup over %d calls: median %.1f ms (caller connected median %.1f, callee %.1f); all %v",
		len(pSetups), median(pSetups), median(pCaller), median(pCallee), roundAll(pSetups))
}
