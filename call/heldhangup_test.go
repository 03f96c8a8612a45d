package call

import (
	"testing"
	"time"

	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// TestHangUpHeldWhileOffline: alice hangs up while her XMPP link is down (a proxy in
// front of the real Prosody cuts it; bob stays online). The hang-up is held and sent
// when her account is back, so bob's call ends with alice's stop, not with his own
// disconnect timeout (set far beyond the test).
func TestHangUpHeldWhileOffline(t *testing.T) {
	x := startProsody(t, "alice", "bob")
	proxy := xmppservertest.NewProxy(t, x.addr)
	alice, acc := newXMPPPartyAcc(t, x, "alice", func(c *chat.Config) {
		c.Server = proxy.Addr
		c.ReconnectMin, c.ReconnectMax = 50*time.Millisecond, 200*time.Millisecond
	}, nil)
	bob := newXMPPParty(t, x, "bob", func(c *Config) { c.DisconnectTimeInterval = 10 * time.Minute })
	s, _ := startCall(t, alice, bob, wire.CallTypeAudio, nil, nil)

	proxy.Cut()
	waitAccount(t, acc, chat.Offline)
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	alice.rec.wait(t, "alice closed", isSessionClose(s.ID()))
	proxy.Restore()
	waitAccount(t, acc, chat.Online)
	bob.rec.wait(t, "alice's hang-up", isType[StopEvent](alice.LocalID()))
	bob.rec.wait(t, "bob closed", isSessionClose(s.ID()))
}

// waitAccount reads acc's events until its state is st.
func waitAccount(t testing.TB, acc *chat.Account, st chat.ConnState) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev := <-acc.Events():
			if e, ok := ev.(chat.StateEvent); ok && e.State == st {
				return
			}
		case <-deadline:
			t.Fatalf("account not %s", st)
		}
	}
}
