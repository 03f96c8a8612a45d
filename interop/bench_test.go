package interop

import (
	"testing"
	"time"
)

// BenchmarkCallSetupWebToTtycall: call() on the page to CONNECTED on both sides, ttycall
// answering by itself (--answer auto, video), through the local Prosody. Median and p90
// over max(b.N, 10) calls.
// Run: go test ./interop -run '^$' -bench 'CallSetup' -benchtime 12x
func BenchmarkCallSetupWebToTtycall(b *testing.B) {
	ctx := ctxFor(b, 10*time.Minute)
	env := startEnv(b, ctx, 101, 201)
	tty := env.Ttycall(ctx, 201, TtyOpts{Args: []string{"--answer", "auto", "--video"}})
	web := env.WebUser(ctx, 101, WebRTC{})
	n := max(b.N, 10)
	var setups, caller, callee []float64
	b.ResetTimer()
	for i := 0; i < n; i++ {
		wm, tm := web.Mark(), tty.Mark()
		var c callResult
		web.Must(ctx, &c, "call", []int{201}, videoCall, map[string]string{})
		tw := waitConnected(ctx, web, wm, c.Session, 201)
		tt := eventTime(b, tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED"))
		setups = append(setups, max(tw, tt)-c.T)
		caller, callee = append(caller, tw-c.T), append(callee, tt-c.T)
		web.Must(ctx, nil, "stop", map[string]string{}, c.Session)
		web.Wait(ctx, wm, "event", "session_close", "session", c.Session)
		tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)
		web.Must(ctx, nil, "forget")
	}
	b.StopTimer()
	reportSetups(b, "web->ttycall", setups, caller, callee)
}

// BenchmarkCallSetupTtycallToWeb: `call 101 video` on ttycall's stdin to CONNECTED on both
// sides, the page answering by itself. The start is the moment the command is written.
func BenchmarkCallSetupTtycallToWeb(b *testing.B) {
	ctx := ctxFor(b, 10*time.Minute)
	env := startEnv(b, ctx, 101, 201)
	tty := env.Ttycall(ctx, 201, TtyOpts{Args: []string{"--video"}})
	web := env.WebUser(ctx, 101, WebRTC{})
	web.Must(ctx, nil, "setAutoAnswer", "accept", map[string]string{})
	n := max(b.N, 10)
	var setups, caller, callee []float64
	b.ResetTimer()
	for i := 0; i < n; i++ {
		wm, tm := web.Mark(), tty.Mark()
		t0 := float64(time.Now().UnixNano()) / 1e6
		tty.Send("call 101 video")
		ce := tty.Wait(ctx, tm, "event", "connection_state", "user", "101", "state", "CONNECTED")
		session := ce.Str("session")
		tw := waitConnected(ctx, web, wm, session, 201)
		tc := eventTime(b, ce)
		setups = append(setups, max(tw, tc)-t0)
		caller, callee = append(caller, tc-t0), append(callee, tw-t0)
		tty.Send("hangup")
		web.Wait(ctx, wm, "event", "session_close", "session", session)
		tty.Wait(ctx, tm, "event", "session_close", "session", session)
		web.Must(ctx, nil, "forget")
	}
	b.StopTimer()
	reportSetups(b, "ttycall->web", setups, caller, callee)
}
