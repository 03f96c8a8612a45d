package interop

import (
	"context"
	"flag"
	"fmt"
	"sort"
	"strconv"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden stanzas in testdata/ from what the SDK sends")

// videoCall is the SDK's CallType.VIDEO.
const videoCall = 1

// callResult is what tt.call returns: the session and the page's clock at call().
type callResult struct {
	Session string  `json:"session"`
	T       float64 `json:"t"` // ms since the epoch
}

// waitConnected waits for CONNECTED towards user on page p, in session, and returns the
// page's clock at that moment (ms since the epoch).
func waitConnected(ctx context.Context, p *Page, mark int, session string, user int) float64 {
	e := p.Wait(ctx, mark, "event", "connection_state", "session", session, "user", strconv.Itoa(user), "state", "CONNECTED")
	return e.Float("t")
}

// waitMediaFlows waits until p has received and sent RTP bytes from/to user, and the
// received bytes grow between two looks.
func waitMediaFlows(t testing.TB, ctx context.Context, p *Page, session string, user int) RTPStats {
	t.Helper()
	var first, last RTPStats
	seen := false
	err := until(ctx, 100*time.Millisecond, fmt.Sprintf("media %d<->%d", p.User, user), func() (bool, error) {
		var st map[string]RTPStats
		if err := p.Invoke(ctx, &st, "getStats", session); err != nil {
			return false, err
		}
		s, ok := st[strconv.Itoa(user)]
		if !ok || s.InBytes == 0 || s.OutBytes == 0 {
			return false, nil
		}
		if !seen {
			first, seen = s, true
			return false, nil
		}
		last = s
		return last.InBytes > first.InBytes && last.OutBytes > first.OutBytes, nil
	})
	if err != nil {
		t.Fatalf("page %s: %v", p.Name, err)
	}
	return last
}

// TestWebToWeb: two QuickBlox web pages call each other through the local Prosody. It
// proves the page, the driver and the server before ttycall comes in, and records the
// SDK's stanzas.
func TestWebToWeb(t *testing.T) {
	ctx := ctxFor(t, 90*time.Second)
	env := startEnv(t, ctx, 101, 102)
	a := env.WebUser(ctx, 101, WebRTC{})
	b := env.WebUser(ctx, 102, WebRTC{})

	mark := a.Mark()
	var c callResult
	a.Must(ctx, &c, "call", []int{102}, videoCall, map[string]string{"greeting": "hello from 101"})
	in := b.Wait(ctx, mark, "event", "call", "session", c.Session)
	if got := in.Ext()["greeting"]; got != "hello from 101" {
		t.Errorf("callee's onCallListener ext = %v, want greeting=hello from 101", in.Ext())
	}
	if in.Str("user") != "101" || in.Str("callType") != "1" {
		t.Errorf("call event = %s, want user 101, callType 1", in)
	}
	b.Must(ctx, nil, "accept", map[string]string{"answer": "yes"}, c.Session)
	acc := a.Wait(ctx, mark, "event", "accept", "session", c.Session, "user", "102")
	if got := acc.Ext()["answer"]; got != "yes" {
		t.Errorf("caller's onAcceptCallListener ext = %v, want answer=yes", acc.Ext())
	}
	waitConnected(ctx, a, mark, c.Session, 102)
	waitConnected(ctx, b, mark, c.Session, 101)
	a.Wait(ctx, mark, "event", "remote_stream", "session", c.Session, "user", "102")
	b.Wait(ctx, mark, "event", "remote_stream", "session", c.Session, "user", "101")
	sa := waitMediaFlows(t, ctx, a, c.Session, 102)
	sb := waitMediaFlows(t, ctx, b, c.Session, 101)
	if sa.InVideoBytes == 0 || sb.InVideoBytes == 0 || sa.InAudioBytes == 0 || sb.InAudioBytes == 0 {
		t.Errorf("audio and video both ways: 101 got %+v, 102 got %+v", sa, sb)
	}

	b.Must(ctx, nil, "update", map[string]string{"mood": "happy"}, true, c.Session)
	up := a.Wait(ctx, mark, "event", "update", "session", c.Session, "user", "102")
	if up.Ext()["mood"] != "happy" {
		t.Errorf("onUpdateCallListener ext = %v, want mood=happy", up.Ext())
	}

	a.Must(ctx, nil, "stop", map[string]string{"bye": "now"}, c.Session)
	st := b.Wait(ctx, mark, "event", "stop", "session", c.Session, "user", "101")
	if st.Ext()["bye"] != "now" {
		t.Errorf("onStopCallListener ext = %v, want bye=now", st.Ext())
	}
	a.Wait(ctx, mark, "event", "session_close", "session", c.Session)
	b.Wait(ctx, mark, "event", "session_close", "session", c.Session)

	// A second call, rejected.
	mark2 := a.Mark()
	var c2 callResult
	a.Must(ctx, &c2, "call", []int{102}, 2, map[string]string{"try": "2"})
	b.Wait(ctx, mark2, "event", "call", "session", c2.Session)
	b.Must(ctx, nil, "reject", map[string]string{"why": "busy"}, c2.Session)
	rej := a.Wait(ctx, mark2, "event", "reject", "session", c2.Session, "user", "102")
	if rej.Ext()["why"] != "busy" {
		t.Errorf("onRejectCallListener ext = %v, want why=busy", rej.Ext())
	}
	a.Wait(ctx, mark2, "event", "session_close", "session", c2.Session)

	checkStanzas(t, append(a.Events(0), b.Events(0)...))
}

// BenchmarkCallSetupWebToWeb: call() on one page to CONNECTED on both pages, the callee
// page answering by itself, through the local Prosody. Reports the median and p90 over
// max(b.N, 10) calls. Run: go test ./interop -run '^$' -bench WebToWeb -benchtime 12x
func BenchmarkCallSetupWebToWeb(b *testing.B) {
	ctx := ctxFor(b, 10*time.Minute)
	env := startEnv(b, ctx, 101, 102)
	pa := env.WebUser(ctx, 101, WebRTC{})
	pb := env.WebUser(ctx, 102, WebRTC{})
	pb.Must(ctx, nil, "setAutoAnswer", "accept", map[string]string{})
	n := max(b.N, 10)
	var setups, caller, callee []float64
	b.ResetTimer()
	for i := 0; i < n; i++ {
		mark := pa.Mark()
		var c callResult
		pa.Must(ctx, &c, "call", []int{102}, videoCall, map[string]string{})
		ta := waitConnected(ctx, pa, mark, c.Session, 102)
		tb := waitConnected(ctx, pb, mark, c.Session, 101)
		setups = append(setups, max(ta, tb)-c.T)
		caller, callee = append(caller, ta-c.T), append(callee, tb-c.T)
		pa.Must(ctx, nil, "stop", map[string]string{}, c.Session)
		pa.Wait(ctx, mark, "event", "session_close", "session", c.Session)
		pb.Wait(ctx, mark, "event", "session_close", "session", c.Session)
		pa.Must(ctx, nil, "forget")
		pb.Must(ctx, nil, "forget")
	}
	b.StopTimer()
	reportSetups(b, "web->web", setups, caller, callee)
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// reportSetups reports median and p90 (ms) of call-setup times (to CONNECTED on both
// sides), and logs the medians of each side alone (caller, callee).
func reportSetups(b *testing.B, name string, ms, caller, callee []float64) {
	s := append([]float64(nil), ms...)
	sort.Float64s(s)
	med := median(s)
	p90 := s[min(len(s)-1, (len(s)*9+9)/10-1)]
	b.ReportMetric(med, "median-ms")
	b.ReportMetric(p90, "p90-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%s call setup over %d calls: median %.1f ms, p90 %.1f ms, min %.1f, max %.1f (caller CONNECTED median %.1f, callee %.1f); all %v",
		name, len(s), med, p90, s[0], s[len(s)-1], median(caller), median(callee), roundAll(ms))
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(int(x*10)) / 10
	}
	return out
}

// TestDriverBlocksNonLoopback: a request from the page to anything but loopback never
// leaves: the driver aborts it and reports it (other tests fail on such a report).
func TestDriverBlocksNonLoopback(t *testing.T) {
	ctx := ctxFor(t, 60*time.Second)
	needBrowser(t)
	b := startBrowser(t, ctx, servePage(t))
	b.allowBlocked = true
	p := b.Open(ctx, "probe")
	mark := p.Mark()
	var errText string
	// .invalid never resolves (RFC 2606), and the request is stopped before DNS anyway.
	p.Must(ctx, &errText, "fetch", "https://api.quickblox.invalid/account_settings.json")
	if errText == "" {
		t.Error("the non-loopback request succeeded")
	}
	e := p.Wait(ctx, mark, "event", "blocked")
	if e.Str("url") != "https://api.quickblox.invalid/account_settings.json" {
		t.Errorf("blocked event = %s", e)
	}
	// A loopback request still works.
	p.Must(ctx, &errText, "fetch", "/page.js")
	if errText != "" {
		t.Errorf("loopback request failed: %s", errText)
	}
}
