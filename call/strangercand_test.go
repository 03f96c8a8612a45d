package call

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// TestStrangerLoopbackCandidates: a stranger's call, accepted, names loopback,
// unspecified and multicast addresses as its candidates, in the offer and trickled.
// None reaches the ICE agent and nothing is sent to the loopback port it chose;
// LoopbackOnly (the test option) is what normally lets loopback through.
func TestStrangerLoopbackCandidates(t *testing.T) {
	x := startProsody(t, "alice", "mallory")
	alice := newXMPPParty(t, x, "alice", func(c *Config) { c.Echo, c.strictCandidates = true, true })
	mallory := newStranger(t, x, "mallory")
	trap, port := udpTrap(t)
	bad := []string{
		fmt.Sprintf("candidate:1 1 udp 2130706431 127.0.0.1 %d typ host", port),
		fmt.Sprintf("candidate:2 1 udp 2130706431 0.0.0.0 %d typ host", port),
		fmt.Sprintf("candidate:3 1 udp 2130706431 224.0.0.251 %d typ host", port),
		fmt.Sprintf("candidate:4 1 udp 2130706431 0.1.2.3 %d typ host", port),
		fmt.Sprintf("candidate:5 1 udp 2130706431 ::1 %d typ host", port),
	}
	var lines []string
	for _, c := range bad {
		lines = append(lines, "a="+c)
	}
	callSig := mallory.call(alice.LocalID(), strangerOffer(t, lines...))
	mallory.send(alice.LocalID(), callSig)
	alice.rec.wait(t, "call", isType[CallEvent](mallory.LocalID()))
	s := alice.Session(callSig.SessionID)
	if s == nil {
		t.Fatal("no session")
	}
	if err := s.Accept(nil); err != nil {
		t.Fatal(err)
	}
	mallory.waitSignal("accept", func(s *wire.Signal) bool { return s.Type == wire.TypeAccept })
	cands := &wire.Signal{
		Type: wire.TypeICECandidates, SessionID: callSig.SessionID, CallType: callSig.CallType,
		CallerID: callSig.CallerID, OpponentIDs: callSig.OpponentIDs, Platform: "web",
	}
	for _, c := range bad {
		cands.Candidates = append(cands.Candidates, wire.ICECandidate{Candidate: c, SDPMid: "0"})
	}
	mallory.send(alice.LocalID(), cands)
	ev := invalidFor(t, alice, callSig.SessionID, "candidates")
	if !strings.Contains(ev.Err.Error(), fmt.Sprintf("%d of %d candidates refused", len(bad), len(bad))) {
		t.Errorf("invalid event %v", ev.Err)
	}
	probe(t, s, func() error {
		p := s.peers[mallory.LocalID()]
		if p == nil || p.pc() == nil {
			return fmt.Errorf("no peer connection with mallory")
		}
		if strings.Contains(p.pc().RemoteDescription().SDP, "a=candidate") {
			return fmt.Errorf("remote description kept candidates:\n%s", p.pc().RemoteDescription().SDP)
		}
		for _, st := range p.pc().GetStats() {
			if c, ok := st.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate {
				return fmt.Errorf("remote candidate %s:%d reached the ICE agent", c.IP, c.Port)
			}
		}
		return nil
	})
	if !trapEmpty(t, trap) {
		t.Error("a packet reached the loopback port the stranger chose")
	}
}
