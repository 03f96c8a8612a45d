package call

import (
	"fmt"
	"net"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/webrtc/v4"
)

// Payload types as the web SDK's browsers number them.
const (
	ptVP8  = 96
	ptOpus = 111
)

// newAPI builds the pion API shared by every peer connection of a client: VP8 and Opus
// only (VP8 first), the default interceptors (NACK, RTCP reports, TWCC, stats), and a
// SettingEngine that never stalls a loopback call.
//
// onStats, when not nil, receives the stats getter of every new peer connection (by its
// stats ID): pion's GetStats has no outbound streams, the interceptor's getter has.
func newAPI(cfg *Config, onStats func(id string, g stats.Getter)) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	videoFB := []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
		{Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFB},
		PayloadType:        ptVP8,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("%w: register VP8: %w", ErrWebRTC, err)
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}},
		},
		PayloadType: ptOpus,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, fmt.Errorf("%w: register Opus: %w", ErrWebRTC, err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, fmt.Errorf("%w: interceptors: %w", ErrWebRTC, err)
	}
	if onStats != nil {
		sf, err := stats.NewInterceptor()
		if err != nil {
			return nil, fmt.Errorf("%w: stats interceptor: %w", ErrWebRTC, err)
		}
		sf.OnNewPeerConnection(onStats)
		ir.Add(sf)
	}

	se := webrtc.SettingEngine{}
	se.SetPrflxAcceptanceMinWait(0) // else ~1 call in 20 stalls ~1 s (interop-facts.md)
	// A remote DTLS close does not close our peer connection: the hangUp signal closes
	// it, so a hang-up is always reported as a hang-up.
	se.DisableCloseByDTLS(true)
	// Host candidates go out as mDNS names (.local), as browsers send theirs: a peer on
	// the same link resolves them, nobody else learns our private addresses, and a
	// remote relay is never asked to send to them. A TURN server with no route to a
	// private address (as in tests/nat, and on many hosted relays) drops the whole
	// allocation on the first such send, taking every relayed pair with it: two
	// ttycall peers behind symmetric NATs then never connected, while two browsers did.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeQueryAndGather)
	if cfg.LoopbackOnly {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
		se.SetInterfaceFilter(func(name string) bool { return strings.HasPrefix(name, "lo") })
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	if cfg.net != nil {
		se.SetNet(cfg.net)
	}
	if t := cfg.iceTimeouts; t[0] > 0 {
		se.SetICETimeouts(t[0], t[1], t[2])
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

func rtcConfiguration(cfg *Config) webrtc.Configuration {
	var rc webrtc.Configuration
	for _, s := range cfg.ICEServers {
		rc.ICEServers = append(rc.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	if cfg.RelayOnly {
		rc.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return rc
}

// normalizeSDP accepts SDP with LF line ends (as it arrives after XML parsing) and
// returns it with CRLF.
func normalizeSDP(sdp string) string {
	sdp = strings.ReplaceAll(sdp, "\r\n", "\n")
	return strings.ReplaceAll(sdp, "\n", "\r\n")
}

// withBandwidth writes b=AS:kbps into the video m-section (after its c= line, where
// RFC 4566 puts b= lines), replacing any b=AS there.
func withBandwidth(sdp string, kbps int) string {
	if kbps <= 0 {
		return sdp
	}
	lines := strings.Split(strings.TrimRight(sdp, "\r\n"), "\r\n")
	out := make([]string, 0, len(lines)+1)
	inVideo, written := false, false
	for _, l := range lines {
		if strings.HasPrefix(l, "m=") {
			inVideo, written = strings.HasPrefix(l, "m=video"), false
		}
		if inVideo && strings.HasPrefix(l, "b=AS:") {
			continue
		}
		out = append(out, l)
		if inVideo && !written && strings.HasPrefix(l, "c=") {
			out = append(out, fmt.Sprintf("b=AS:%d", kbps))
			written = true
		}
	}
	return strings.Join(out, "\r\n") + "\r\n"
}
