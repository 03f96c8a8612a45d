// The ICE-restart test against the SDK. The SDK answers a reconnect offer from a new
// RTCPeerConnection (new DTLS certificate, setup:active), so ttycall replaces its peer
// connection on a reconnect too (call/peer.go: restartICE, onRestart); before that,
// ICE came back but media did not (pion's old connection never answered the new DTLS
// handshake).

package interop

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// udpBlock drops every UDP packet on this network namespace's loopback (nftables), so
// media stops while XMPP (TCP) and the page's WebSocket (TCP) keep working. Only inside
// the namespace TestMain made: a rule on the host's firewall is never written.
type udpBlock struct {
	tb  testing.TB
	nft string
	on  bool
}

const nftTable = "ttycall_interop"

func needUDPBlock(t *testing.T) *udpBlock {
	t.Helper()
	if !inNetns {
		t.Skip("needs the test's own network namespace (run as root with unshare and ip, without TTYCALL_INTEROP_NO_NETNS): the firewall rule must not touch the host")
	}
	nft, err := exec.LookPath("nft")
	if err != nil {
		t.Skip("nft (Debian nftables) is missing: scripts/setup.sh installs it")
	}
	b := &udpBlock{tb: t, nft: nft}
	t.Cleanup(func() {
		if b.on {
			b.Restore()
		}
	})
	return b
}

// Drop starts dropping UDP on lo.
func (b *udpBlock) Drop() {
	b.tb.Helper()
	rules := "table inet " + nftTable + " {\n" +
		"  chain in { type filter hook input priority 0; policy accept; meta l4proto udp drop; }\n" +
		"  chain out { type filter hook output priority 0; policy accept; meta l4proto udp drop; }\n" +
		"}\n"
	cmd := exec.Command(b.nft, "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.tb.Fatalf("nft: %v: %s", err, out)
	}
	b.on = true
}

// Restore removes the rule.
func (b *udpBlock) Restore() {
	b.tb.Helper()
	if out, err := exec.Command(b.nft, "delete", "table", "inet", nftTable).CombinedOutput(); err != nil {
		b.tb.Errorf("nft delete: %v: %s", err, out)
	}
	b.on = false
}

// waitStanza waits for a stanza event (xml_in or xml_out) of page p after mark for which
// pred holds.
func waitStanza(ctx context.Context, t testing.TB, p *Page, mark int, what string, pred func(raw string) bool) Event {
	t.Helper()
	m := func(e Event) bool {
		return e.Str("page") == p.Name && strings.HasPrefix(e.Str("event"), "xml_") && pred(e.Str("xml"))
	}
	e, _, err := p.b.log.waitFrom(ctx, mark, what, m)
	if err != nil {
		t.Fatalf("page %s: %v", p.Name, err)
	}
	return e
}

// Scenario 6: ICE restart. Page 101 calls ttycall 201 (auto-answer); with both CONNECTED
// and media flowing, UDP is dropped on lo: both report RECONNECTING; ttycall (the higher
// ID) offers an ICE restart in an update with reason reconnect; UDP comes back; the page
// answers with the same offerId; both are CONNECTED again with media growing.
func TestICERestartTtycallOffers(t *testing.T) {
	ctx := ctxFor(t, 90*time.Second)
	block := needUDPBlock(t)
	env := startEnv(t, ctx, 101, 201)
	tty := env.Ttycall(ctx, 201, TtyOpts{
		Args:           []string{"--answer", "auto", "--video"},
		StatsInterval:  0.5,
		DisconnectTime: 20,
	})
	web := env.WebUser(ctx, 101, WebRTC{DisconnectTimeInterval: 20})

	wm, tm := web.Mark(), tty.Mark()
	var c callResult
	web.Must(ctx, &c, "call", []int{201}, videoCall, map[string]string{})
	waitConnected(ctx, web, wm, c.Session, 201)
	tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED")
	waitMediaFlows(t, ctx, web, c.Session, 201)
	waitTtyReceives(t, ctx, tty, tm, c.Session, 101, true)

	// Media breaks; signaling does not.
	wm, tm = web.Mark(), tty.Mark()
	block.Drop()
	tty.Wait(ctx, tm, "event", "reconnect", "session", c.Session, "user", "101", "state", "RECONNECTING")
	offer := waitStanza(ctx, t, web, wm, "ttycall's ICE-restart offer", func(raw string) bool {
		typ, _, ok := reconnectUpdate(raw)
		return ok && typ == "offer" && strings.Contains(raw, `from="201-7@`)
	})
	_, offerID, _ := reconnectUpdate(offer.Str("xml"))
	if offerID == "" {
		t.Fatalf("ttycall's reconnect offer has no offerId: %s", offer.Str("xml"))
	}
	block.Restore()

	answer := waitStanza(ctx, t, web, wm, "the page's answer to offer "+offerID, func(raw string) bool {
		typ, id, ok := reconnectUpdate(raw)
		return ok && typ == "answer" && id == offerID
	})
	if answer.Str("event") != "xml_out" {
		t.Errorf("the reconnect answer was not sent by the page: %s", answer)
	}
	// The SDK answers a reconnect offer from a new RTCPeerConnection (its _reconnect):
	// a new DTLS certificate, so a new DTLS handshake is needed on the new ICE path.
	for _, e := range web.Events(0) {
		if e.Str("event") == "xml_out" && containsAll(e.Str("xml"), "<signalType>call</signalType>", c.Session) {
			t.Logf("page's DTLS fingerprint: call %s, reconnect answer %s", sdpFingerprint(e.Str("xml")), sdpFingerprint(answer.Str("xml")))
		}
	}
	if *update {
		for name, raw := range map[string]string{
			"ttycall-update-reconnect-offer.xml": offer.Str("xml"),
			"web-update-reconnect-answer.xml":    answer.Str("xml"),
		} {
			p := filepath.Join("testdata", name)
			if err := os.WriteFile(p, []byte(raw+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", p)
		}
	}
	tty.Wait(ctx, tm, "event", "reconnect", "session", c.Session, "user", "101", "state", "RECONNECTED")
	web.Wait(ctx, wm, "event", "reconnect", "session", c.Session, "user", "201", "state", "reconnected")
	tm2 := tty.Mark()
	waitConnected(ctx, web, wm, c.Session, 201)
	// Media again, both ways: a connection that is back but carries nothing fails here
	// in 10 s rather than at the test's deadline.
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	defer func() {
		if t.Failed() {
			var st map[string]RTPStats
			_ = web.Invoke(ctx, &st, "getStats", c.Session)
			t.Logf("page stats after the restart: %+v", st)
			for _, e := range web.Events(wm) {
				if typ, id, ok := reconnectUpdate(e.Str("xml")); ok {
					t.Logf("page %s %s %s t=%.0f", e.Str("event"), typ, id, e.Float("t"))
				}
				if e.Str("event") == "reconnect" || e.Str("event") == "connection_state" {
					t.Logf("page %s %s t=%.0f", e.Str("event"), e.Str("state"), e.Float("t"))
				}
			}
			for _, e := range tty.Events(tm) {
				if e.Str("event") == "reconnect" || e.Str("event") == "connection_state" || e.Str("event") == "invalid_event" {
					t.Logf("ttycall %s %s %s t=%.0f", e.Str("event"), e.Str("state"), e.Str("message"), eventTime(t, e))
				}
			}
		}
	}()
	waitMediaFlows(t, mctx, web, c.Session, 201)
	waitTtyReceives(t, mctx, tty, tm2, c.Session, 101, true)

	// Who offered: ttycall alone; the SDK, the lower ID, answers.
	for _, e := range web.Events(wm) {
		if typ, id, ok := reconnectUpdate(e.Str("xml")); ok && e.Str("event") == "xml_out" && typ == "offer" {
			t.Logf("the page also offered an ICE restart (offerId %s)", id)
		}
	}

	web.Must(ctx, nil, "stop", map[string]string{}, c.Session)
	tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)
	web.Wait(ctx, wm, "event", "session_close", "session", c.Session)
	checkNoGarbage(t, tty)
	checkStanzasFrom(t, web.Events(0))
}
