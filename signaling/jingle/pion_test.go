package jingle

import (
	"encoding/xml"
	"net"
	"strings"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

func newPC(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	var m webrtc.MediaEngine
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	var se webrtc.SettingEngine
	// Loopback only, no mDNS (as call.LoopbackOnly).
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	api := webrtc.NewAPI(webrtc.WithMediaEngine(&m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc
}

// wire sends contents through XML, as they would travel: marshal, parse.
func wire(t *testing.T, action Action, cs []Content, gs []Group) *Jingle {
	t.Helper()
	b, err := xml.Marshal(&Jingle{Action: action, SID: "sid1", Contents: cs, Groups: gs})
	if err != nil {
		t.Fatal(err)
	}
	j, err := ParseString(string(b))
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	return j
}

// TestPionThroughJingle: pion's offer and answer, each translated to Jingle, sent as XML
// and translated back, are accepted by the other pion.
func TestPionThroughJingle(t *testing.T) {
	a, b := newPC(t), newPC(t)
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := a.AddTransceiverFromKind(k); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := a.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	cs, gs, err := FromSDP(offer.SDP, Initiator)
	if err != nil {
		t.Fatal(err)
	}
	init := wire(t, SessionInitiate, cs, gs)
	remote, err := ToSDP(init.Contents, init.Groups, Initiator)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: remote}); err != nil {
		t.Fatalf("pion refused the translated offer: %v\n%s", err, remote)
	}
	answer, err := b.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	cs, gs, err = FromSDP(answer.SDP, Responder)
	if err != nil {
		t.Fatal(err)
	}
	acc := wire(t, SessionAccept, cs, gs)
	remote, err = ToSDP(acc.Contents, acc.Groups, Responder)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: remote}); err != nil {
		t.Fatalf("pion refused the translated answer: %v\n%s", err, remote)
	}
}

// TestStanzaJSOfferToPion: StanzaJS's real session-initiate, translated, is an offer
// pion takes, and pion's answer translates to a session-accept.
func TestStanzaJSOfferToPion(t *testing.T) {
	init, err := ParseString(goldens(t)["session-initiate"])
	if err != nil {
		t.Fatal(err)
	}
	offer, err := ToSDP(init.Contents, init.Groups, Initiator)
	if err != nil {
		t.Fatal(err)
	}
	pc := newPC(t)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		t.Fatalf("%v\n%s", err, offer)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, _, err := FromSDP(answer.SDP, Responder)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "0" || cs[1].Name != "1" || cs[0].Transport.Fingerprints[0].Setup != "active" {
		t.Errorf("answer contents %+v %+v", cs, cs[0].Transport)
	}
}
