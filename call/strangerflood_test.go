package call

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// deadOffer is a valid offer whose only candidate is a loopback port that never
// answers (the offer's own candidates, of a live pion agent, are cut out).
func deadOffer(t testing.TB) string {
	_, port := udpTrap(t)
	return stripCandidates(strangerOffer(t)) + fmt.Sprintf("a=candidate:1 1 udp 2130706431 127.0.0.1 %d typ host\r\n", port)
}

// neverConnecting floods alice (answering every call) with n calls from a stranger
// whose only candidate is a loopback port that never answers, and returns when every
// session has closed. Every 20th call opens an audio pipeline. It reports how long
// that took after the last call was accepted.
func neverConnecting(t testing.TB, alice *party, mallory *stranger, sdp string, n int) time.Duration {
	ids := make(map[string]bool, n)
	for range n {
		c := mallory.call(alice.LocalID(), sdp)
		ids[c.SessionID] = true
		mallory.send(alice.LocalID(), c)
	}
	accepted := 0
	var last time.Time
	for i := 1; accepted < n; i++ {
		ev := alice.rec.waitN(t, "call", i, isType[CallEvent](mallory.LocalID())).(CallEvent)
		s := alice.Session(ev.SessionID)
		if s == nil {
			t.Fatalf("call %d: no session", i)
		}
		if i%20 == 0 {
			if _, err := s.GetUserMedia(context.Background(), devices.MediaParams{Audio: true}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Accept(nil); err != nil {
			t.Fatalf("accept %d: %v", i, err)
		}
		accepted++
		last = time.Now()
	}
	// Every session closes within the connect bound of its answer.
	deadline := time.NewTimer(alice.cfg.ConnectTimeInterval + waitTimeout)
	defer deadline.Stop()
	for {
		alice.rec.mu.Lock()
		closed := 0
		for _, ev := range alice.rec.evs {
			if e, ok := ev.(SessionCloseEvent); ok && ids[e.SessionID] {
				closed++
			}
		}
		ch := alice.rec.changed
		alice.rec.mu.Unlock()
		if closed == n {
			break
		}
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("%d of %d never-connecting sessions closed", closed, n)
		}
	}
	freed := time.Since(last)
	for _, ev := range alice.rec.events() {
		if e, ok := ev.(SessionCloseEvent); ok && ids[e.SessionID] && e.Reason != "connection failed" {
			t.Errorf("session closed: %q, want connection failed", e.Reason)
			break
		}
	}
	if live := len(alice.Sessions()); live != 0 {
		t.Errorf("%d sessions live", live)
	}
	return freed
}

func stripCandidates(sdp string) string {
	var out []byte
	for _, l := range splitLines(sdp) {
		if len(l) > 12 && l[:12] == "a=candidate:" || l == "a=end-of-candidates" {
			continue
		}
		out = append(out, l...)
		out = append(out, '\r', '\n')
	}
	return string(out)
}

func splitLines(s string) []string {
	var ls []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		l := s[:i]
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if l != "" {
			ls = append(ls, l)
		}
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return ls
}

// TestNeverConnectingCallsFreed: 600 calls from a stranger that never connect (their
// only candidate leads nowhere) are each closed, FAILED, within the connect bound; then
// no goroutine (ICE agents, pipelines, sessions) and no socket of theirs is left.
func TestNeverConnectingCallsFreed(t *testing.T) {
	if testing.Short() {
		t.Skip("600 calls")
	}
	x := startProsody(t, "alice", "mallory")
	alice := newXMPPParty(t, x, "alice", func(c *Config) {
		c.Echo = true
		c.ConnectTimeInterval = 2 * time.Second
	})
	mallory := newStranger(t, x, "mallory")
	sdp := deadOffer(t)
	base := goleak.IgnoreCurrent()
	g0, fd0 := runtime.NumGoroutine(), openFDs(t)
	freed := neverConnecting(t, alice, mallory, sdp, 600)
	if err := goleak.Find(base); err != nil {
		t.Errorf("goroutines left after 600 never-connecting calls: %v", err)
	}
	g1, fd1 := runtime.NumGoroutine(), openFDs(t)
	if fd1 > fd0 {
		t.Errorf("file descriptors %d -> %d", fd0, fd1)
	}
	for _, ev := range alice.rec.events() {
		if e, ok := ev.(ConnectionStateEvent); ok && e.State == ConnectionConnected {
			t.Fatalf("a call connected: %+v", e)
		}
	}
	t.Logf("600 calls freed %v after the last was accepted; goroutines %d -> %d, fds %d -> %d", freed, g0, g1, fd0, fd1)
}

// TestStrangerOfferFlood: with the production limit on new calls per sender, 50 calls
// from a stranger make at most a handful of sessions or rejects; the rest are dropped
// without a reply, and no rate-limited call holds a line.
func TestStrangerOfferFlood(t *testing.T) {
	x := startProsody(t, "alice", "mallory")
	alice := newXMPPParty(t, x, "alice", func(c *Config) {
		c.offerLimiter = guard.NewOfferLimiter()
		c.AutoReject, c.IncomingLimit = true, 1
	})
	mallory := newStranger(t, x, "mallory")
	sdp := strangerOffer(t)
	const n = 50
	for range n {
		mallory.send(alice.LocalID(), mallory.call(alice.LocalID(), sdp))
	}
	burst := guard.NewOfferLimiter().Burst
	// A last message of an unknown session: once it is reported, the flood before it
	// has been handled (one sender's messages arrive in order).
	probe := mallory.call(alice.LocalID(), sdp)
	probe.Type = wire.TypeHangUp
	mallory.send(alice.LocalID(), probe)
	alice.rec.wait(t, "probe", func(ev Event) bool { return ev.Session() == probe.SessionID })
	alice.rec.wait(t, "the first call", isType[CallEvent](mallory.LocalID()))
	calls := 0
	for _, ev := range alice.rec.events() {
		if _, ok := ev.(CallEvent); ok {
			calls++
		}
	}
	if live := len(alice.Sessions()); calls != 1 || live != 1 {
		t.Errorf("%d calls rang, %d sessions live, for %d offers; want 1 and 1", calls, live, n)
	}
	// The rest of the burst was busy (rejected); everything after it got no reply.
	rejects := 0
	deadline := time.After(waitTimeout)
	for rejects < burst-1 {
		select {
		case s := <-mallory.signals:
			if s.Type == wire.TypeReject {
				rejects++
			}
		case <-deadline:
			t.Fatalf("%d busy rejects, want %d", rejects, burst-1)
		}
	}
	// Nothing more is on its way: a round trip through the server after the last reply.
	mallory.send(alice.LocalID(), probe)
	alice.rec.waitN(t, "second probe", 2, func(ev Event) bool { return ev.Session() == probe.SessionID })
	for len(mallory.signals) > 0 {
		if s := <-mallory.signals; s.Type == wire.TypeReject {
			t.Errorf("more than %d rejects: a rate-limited offer got a reply", burst-1)
		}
	}
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
