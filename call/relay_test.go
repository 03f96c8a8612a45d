package call

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
)

const relaySecret = "relay-test-secret"

// startTURN runs a pion TURN server on loopback with REST credentials (use-auth-secret,
// as coturn's) and returns its turn: URL.
func startTURN(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:       "test",
		AuthHandler: turn.LongTermTURNRESTAuthHandler(relaySecret, nil),
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"},
			PermissionHandler:     func(net.Addr, net.IP) bool { return true }, // loopback peers
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return "turn:" + pc.LocalAddr().String()
}

// turnServers returns an ICEServersFunc with fresh credentials signed by secret, and the
// count of its calls.
func turnServers(url, secret string) (func(context.Context) ([]ICEServer, error), *atomic.Int32) {
	var n atomic.Int32
	return func(context.Context) ([]ICEServer, error) {
		n.Add(1)
		u, p, err := turn.GenerateLongTermTURNRESTCredentials(secret, "t", time.Hour)
		if err != nil {
			return nil, err
		}
		return []ICEServer{{URLs: []string{url}, Username: u, Credential: p}}, nil
	}, &n
}

// Relay-only mode on a network where a direct path exists (loopback): the pair is
// relay/relay over UDP, servers are asked for per call, and no signal that crosses the
// bus carries a host, server-reflexive or peer-reflexive candidate.
func TestRelayOnlyNoAddressLeaves(t *testing.T) {
	url := startTURN(t)
	bus := membus.New()
	var asked []*atomic.Int32
	relay := func(c *Config) {
		f, n := turnServers(url, relaySecret)
		c.ICEServersFunc, c.RelayOnly, c.StatsReportInterval = f, true, 200*time.Millisecond
		asked = append(asked, n)
	}
	alice := newMemParty(t, bus, "alice", relay)
	bob := newMemParty(t, bus, "bob", relay)
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	for _, p := range []*party{alice, bob} {
		ev := p.rec.wait(t, "stats with a relay/relay pair", func(ev Event) bool {
			e, ok := ev.(StatsEvent)
			return ok && e.Session() == s.ID() && e.Stats.Candidate.LocalType != ""
		}).(StatsEvent)
		c := ev.Stats.Candidate
		if c.LocalType != "relay" || c.RemoteType != "relay" || c.RelayProtocol != "udp" {
			t.Errorf("%s: pair %+v, want relay/relay over udp", p.LocalID(), c)
		}
	}
	for i, n := range asked {
		if n.Load() == 0 {
			t.Errorf("party %d never asked for its ICE servers", i)
		}
	}
	sdps, cands := 0, 0
	for _, sig := range bus.Delivered() {
		texts := []string{sig.SDP}
		if sig.SDP != "" {
			sdps++
		}
		for _, c := range sig.Candidates {
			texts = append(texts, c.Candidate)
			cands++
		}
		for _, x := range texts {
			for _, typ := range []string{"typ host", "typ srflx", "typ prflx"} {
				if strings.Contains(x, typ) {
					t.Errorf("%s signal from %s carries %q: %s", sig.Type, sig.From, typ, x)
				}
			}
		}
	}
	if sdps < 2 || cands == 0 {
		t.Errorf("saw %d SDPs and %d candidates: the check looked at nothing", sdps, cands)
	}
}

// The last check before a message leaves drops every candidate that is not a relay.
func TestRelayOnlyFilter(t *testing.T) {
	sdp := "v=0\r\na=candidate:1 1 udp 2130706431 10.0.0.2 5000 typ host\r\n" +
		"a=candidate:2 1 udp 1694498815 198.51.100.2 5001 typ srflx raddr 0.0.0.0 rport 5001\r\n" +
		"a=candidate:3 1 udp 16777215 198.51.100.1 49152 typ relay raddr 0.0.0.0 rport 40000\r\n" +
		"a=end-of-candidates\r\n"
	o := &Offer{SDP: sdp}
	if !relayOnly(o) {
		t.Fatal("an offer was dropped")
	}
	if strings.Contains(o.SDP, "typ host") || strings.Contains(o.SDP, "typ srflx") || !strings.Contains(o.SDP, "typ relay") ||
		!strings.Contains(o.SDP, "a=end-of-candidates\r\n") {
		t.Errorf("filtered SDP:\n%s", o.SDP)
	}
	c := &Candidates{Candidates: []ICECandidate{{Candidate: "candidate:1 1 udp 2130706431 10.0.0.2 5000 typ host"}}}
	if relayOnly(c) || len(c.Candidates) != 0 {
		t.Errorf("host-only candidates left: %v", c.Candidates)
	}
}

// A wrong TURN secret in relay-only mode: the call fails with a reason that names the
// relay, instead of a bare FAILED (or a hang).
func TestWrongTURNSecretFailsNamingRelay(t *testing.T) {
	url := startTURN(t)
	bus := membus.New()
	relay := func(c *Config) {
		f, _ := turnServers(url, "not-the-secret")
		c.ICEServersFunc, c.RelayOnly = f, true
		c.iceTimeouts = [3]time.Duration{time.Second, 2 * time.Second, 500 * time.Millisecond}
	}
	alice := newMemParty(t, bus, "alice", relay)
	bob := newMemParty(t, bus, "bob", relay)
	s, err := alice.CreateNewSession([]UserID{"bob"}, CallTypeAudio)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserMedia(context.Background(), devices.MediaParams{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "call", isType[CallEvent](""))
	cs := bob.Session(s.ID())
	if _, err := cs.GetUserMedia(context.Background(), devices.MediaParams{Audio: true}); err != nil {
		t.Fatal(err)
	}
	if err := cs.Accept(nil); err != nil {
		t.Fatal(err)
	}
	ev := alice.rec.wait(t, "FAILED", isConn("bob", ConnectionFailed)).(ConnectionStateEvent)
	if !strings.Contains(ev.Reason, url) || !strings.Contains(ev.Reason, "NAT traversal") {
		t.Errorf("reason %q does not name %s and the README section", ev.Reason, url)
	}
}

func TestFailReasonWithoutRelay(t *testing.T) {
	if r := (iceInfo{}).failReason(); !strings.HasPrefix(r, "no TURN server configured or reachable; see README: NAT traversal") {
		t.Errorf("reason %q", r)
	}
}
