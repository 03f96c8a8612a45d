package conference

import (
	"fmt"
	"net"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// newAPI builds the pion API of a room: VP8 and Opus (what the room config asks of
// publishers), the default interceptors (NACK, reports, TWCC), and the loopback-only
// settings tests need.
//
// With loopbackOnly, candidates are gathered only on loopback, or only on the extra
// addresses when given (Janus never pairs with loopback: a test gives it and us a
// namespace's veth address).
func newAPI(loopbackOnly bool, extra []string) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
		{Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB},
		PayloadType:        96,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("%w: register VP8: %w", ErrWebRTC, err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("%w: register Opus: %w", ErrWebRTC, err)
	}
	// MID and RID header extensions name the layers of a simulcast publisher.
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("%w: header extension %s: %w", ErrWebRTC, uri, err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("%w: interceptors: %w", ErrWebRTC, err)
	}
	se := webrtc.SettingEngine{}
	se.SetPrflxAcceptanceMinWait(0)
	// Answering Janus' subscription offers (actpass), be the DTLS server: Janus then
	// starts the handshake once its side is ready. As the client, pion's first
	// ClientHello often reached Janus before its DTLS was set up and was lost, and the
	// retransmission came a second later (one join in two took ~1.1 s, measured).
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
		return nil, fmt.Errorf("%w: dtls role: %w", ErrWebRTC, err)
	}
	if loopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		allowed := map[string]bool{}
		for _, a := range extra {
			allowed[a] = true
		}
		if len(extra) == 0 {
			se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
			se.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") })
		} else {
			// Only the test addresses: a loopback candidate is one libnice never pairs,
			// and pion's checks from it only delay the pair that works (measured: a
			// second more to connect, one join in three).
			se.SetIPFilter(func(ip net.IP) bool { return allowed[ip.String()] })
		}
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}
