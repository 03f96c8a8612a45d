package call

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/call/signal"
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

// iceServersTimeout bounds ICEServersFunc for one peer connection (an XMPP round trip
// when the credentials are not cached).
const iceServersTimeout = 5 * time.Second

// iceInfo is what a peer connection was given and gathered, for the reason of a failure.
type iceInfo struct {
	relays        []string // the TURN URLs it was given
	relayGathered bool     // a relay candidate was gathered (an allocation worked)
}

// failReason says why ICE found no path, for a user whose call did not connect.
func (i iceInfo) failReason() string {
	switch {
	case len(i.relays) == 0:
		return "no TURN server configured or reachable; see README: NAT traversal"
	case !i.relayGathered:
		return fmt.Sprintf("TURN server %s unreachable or refused our credentials; see README: NAT traversal", strings.Join(i.relays, ", "))
	}
	return fmt.Sprintf("no path to the peer, even through %s; see README: NAT traversal", strings.Join(i.relays, ", "))
}

// rtcConfiguration builds the configuration of a new peer connection with the servers
// of this call (ICEServersFunc, else ICEServers).
func (c *Client) rtcConfiguration() (webrtc.Configuration, iceInfo) {
	servers := c.cfg.ICEServers
	if f := c.cfg.ICEServersFunc; f != nil {
		ctx, cancel := context.WithTimeout(context.Background(), iceServersTimeout)
		got, err := f(ctx)
		cancel()
		if err != nil {
			c.log.Warn("ICE servers: using the configured ones", "err", err)
		} else {
			servers = got
		}
	}
	var rc webrtc.Configuration
	var info iceInfo
	for _, s := range servers {
		rc.ICEServers = append(rc.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
				info.relays = append(info.relays, u)
			}
		}
	}
	if c.cfg.RelayOnly {
		rc.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return rc, info
}

// relayOnly removes from an outgoing signal every candidate that is not a relay one,
// in its SDP and in its trickled candidates. pion gathers only relay candidates under
// ICETransportPolicyRelay; this is the last check before anything leaves the machine,
// so that no path ever puts our address in a signal in relay-only mode.
func relayOnly(sig *signal.Signal) {
	if sig.SDP != "" && strings.Contains(sig.SDP, "candidate:") {
		lines := strings.SplitAfter(sig.SDP, "\n")
		out := lines[:0]
		for _, l := range lines {
			if c, ok := strings.CutPrefix(strings.TrimRight(l, "\r\n"), "a="); ok && strings.HasPrefix(c, "candidate:") && !isRelay(c) {
				continue
			}
			out = append(out, l)
		}
		sig.SDP = strings.Join(out, "")
	}
	if len(sig.Candidates) > 0 {
		kept := make([]signal.ICECandidate, 0, len(sig.Candidates))
		for _, c := range sig.Candidates {
			if c.Candidate == "" || isRelay(c.Candidate) {
				kept = append(kept, c)
			}
		}
		sig.Candidates = kept
	}
}

// isRelay reports whether a candidate attribute ("candidate:... typ relay ...") is a
// relay candidate.
func isRelay(cand string) bool {
	f := strings.Fields(cand)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "typ" {
			return f[i+1] == "relay"
		}
	}
	return false
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
