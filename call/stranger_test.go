package call

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// A stranger is a second account on the real Prosody with no engine behind it: it
// sends whatever call signals a test makes up (through chat.Account.SendSignal, so
// the server stamps its real address as the sender) and records what it receives.

type stranger struct {
	*chat.Account
	t       testing.TB
	signals chan *wire.Signal
}

func newStranger(t testing.TB, x xmppTarget, user string) *stranger {
	t.Helper()
	j, err := jid.Parse(user + "@" + x.domain)
	if err != nil {
		t.Fatal(err)
	}
	st := &stranger{t: t, signals: make(chan *wire.Signal, 4096)}
	acc, err := chat.New(chat.Config{
		JID: j, Password: "pw", Server: x.addr, TLS: chat.TLSStartTLS, CAFile: x.caFile,
		OnSignal: func(s *wire.Signal) {
			select {
			case st.signals <- s:
			default:
			}
		},
		Logger: testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	st.Account = acc
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- acc.Run(ctx) }() // owner: this helper; ends at cleanup
	t.Cleanup(func() {
		cancel()
		<-runDone
		_ = acc.Close()
	})
	waitOnline(t, acc)
	return st
}

// send sends s to the user to, as the stranger.
func (st *stranger) send(to wire.UserID, s *wire.Signal) {
	st.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := st.SendSignal(ctx, to, s); err != nil {
		st.t.Fatal(err)
	}
}

// waitSignal waits for a signal to the stranger that match accepts.
func (st *stranger) waitSignal(what string, match func(*wire.Signal) bool) *wire.Signal {
	st.t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case s := <-st.signals:
			if match(s) {
				return s
			}
		case <-deadline:
			st.t.Fatalf("%s received no %s", st.LocalID(), what)
			return nil
		}
	}
}

// call makes a call signal from the stranger to callee with a real offer.
func (st *stranger) call(callee wire.UserID, sdp string) *wire.Signal {
	return &wire.Signal{
		Type: wire.TypeCall, SessionID: uuid.NewString(), CallType: wire.CallTypeAudio,
		CallerID: st.LocalID(), OpponentIDs: []wire.UserID{callee}, Platform: "web", SDP: sdp,
	}
}

// strangerOffer is a valid audio offer from a pion connection of the test's own (on
// loopback), with its candidates gathered; extra lines are appended to its audio
// section (the only one).
func strangerOffer(t testing.TB, extra ...string) string {
	t.Helper()
	cfg := Config{LoopbackOnly: true}
	api, err := newAPI(&cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gathered:
	case <-time.After(waitTimeout):
		t.Fatal("gathering did not complete")
	}
	sdp := pc.LocalDescription().SDP
	if len(extra) > 0 {
		sdp = strings.TrimRight(sdp, "\r\n") + "\r\n" + strings.Join(extra, "\r\n") + "\r\n"
	}
	return sdp
}

// udpTrap is a loopback UDP port that must receive nothing.
func udpTrap(t testing.TB) (*net.UDPConn, int) {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, c.LocalAddr().(*net.UDPAddr).Port
}

// trapEmpty reports whether anything arrived at the trap (without waiting).
func trapEmpty(t testing.TB, c *net.UDPConn) bool {
	t.Helper()
	if err := c.SetReadDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2048)
	_, _, err := c.ReadFromUDP(buf)
	return err != nil
}
