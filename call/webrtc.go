package call

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/stats"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Payload types as the web SDK's browsers number them.
const (
	ptVP8    = 96
	ptVP8RTX = 97 // video/rtx apt=96, as Chromium offers it
	ptOpus   = 111
	// RED carrying VP8 and ULPFEC parity, with RED's own RTX: what Chromium offers for
	// video FEC (devices/fectrack.go, internal/ulpfec).
	ptRED    = 116
	ptREDRTX = 117
	ptULPFEC = 118
)

// mimeRED is RED's media type for video (pion only names audio's).
const mimeRED = "video/red"

// nackInterval is how often the NACK generator reports missing packets.
const nackInterval = 20 * time.Millisecond

// Congestion control bounds (bit/s) for the whole connection, audio included. GCC starts
// at bweStart and probes upward, as Chromium does (it starts at 300 kbit/s); bweMin keeps
// audio and a postage-stamp picture alive on the worst link; bweMax is above anything a
// terminal can show.
const (
	bweStart = 300_000
	bweMin   = 60_000
	bweMax   = 4_000_000
)

// newAPI builds the pion API shared by every peer connection of a client: VP8 (with its
// RTX stream, as Chromium negotiates it) and Opus only (VP8 first); the interceptors:
// send-side congestion control (GCC on transport-wide feedback), NACK generator and
// responder (retransmitting on the RTX stream when negotiated), RTCP reports, TWCC
// feedback, stats; and a SettingEngine that never stalls a loopback call.
//
// onStats, when not nil, receives the stats getter of every new peer connection (by its
// stats ID): pion's GetStats has no outbound streams, the interceptor's getter has.
// onBWE, when not nil, receives the bandwidth estimator of every new peer connection,
// keyed by the same ID.
func newAPI(cfg *Config, onStats func(id string, g stats.Getter), onBWE func(id string, e cc.BandwidthEstimator)) (*webrtc.API, error) {
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
	// With video/rtx negotiated, pion gives each video sender a second SSRC and the NACK
	// responder resends on it (RFC 4588), and the receiver unwraps RTX into the track:
	// a retransmission is then told from a late original, as Chromium expects.
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", ptVP8)},
		PayloadType:        ptVP8RTX,
	}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, fmt.Errorf("%w: register RTX: %w", ErrWebRTC, err)
	}
	// RED and ULPFEC, as Chromium offers them: with both negotiated, each side may send
	// its video in RED with parity packets that rebuild a lost packet without the round
	// trip of a retransmission.
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeRED, ClockRate: 90000}, PayloadType: ptRED},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeRTX, ClockRate: 90000, SDPFmtpLine: fmt.Sprintf("apt=%d", ptRED)}, PayloadType: ptREDRTX},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeUlpFEC, ClockRate: 90000}, PayloadType: ptULPFEC},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, fmt.Errorf("%w: register %s: %w", ErrWebRTC, c.MimeType, err)
		}
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
	// The stats interceptor comes first (innermost), so that it sees the RTCP the others
	// write (the NACKs and PLIs we send) and the retransmissions.
	if onStats != nil {
		sf, err := stats.NewInterceptor()
		if err != nil {
			return nil, fmt.Errorf("%w: stats interceptor: %w", ErrWebRTC, err)
		}
		sf.OnNewPeerConnection(onStats)
		ir.Add(sf)
	}

	// Order matters: the first interceptor added is the innermost writer. GCC must see
	// every packet (retransmissions too) after the TWCC header extension numbered it.
	bwe, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		hi := bweMax
		if cfg.BandwidthKbps > 0 {
			hi = min(hi, cfg.BandwidthKbps*1000+audioReserve)
		}
		// No pacing: the leaky-bucket pacer runs a 5 ms ticker per connection (a mesh
		// pays it per peer) with an unbounded queue; the encoder follows the estimate
		// instead, so the queue it would smooth never builds. Not gcc's NoOpPacer: like
		// the leaky bucket it drops every packet of an SSRC it was not given, and RTX
		// retransmissions carry the RTX SSRC.
		e, err := gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(min(bweStart, hi)),
			gcc.SendSideBWEMinBitrate(min(bweMin, hi)),
			gcc.SendSideBWEMaxBitrate(hi),
			gcc.SendSideBWEPacer(&passPacer{writers: map[uint32]interceptor.RTPWriter{}, rtxSeq: map[uint32]uint16{}}),
		)
		if err != nil {
			return nil, err
		}
		return delayBasedBWE{e}, nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: congestion control: %w", ErrWebRTC, err)
	}
	if onBWE != nil {
		bwe.OnNewPeerConnection(onBWE)
	}
	ir.Add(bwe)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, ir); err != nil {
		return nil, fmt.Errorf("%w: TWCC header extension: %w", ErrWebRTC, err)
	}
	// pion's NACK generator is left without streams: ours (nack.go) replaces it. NACKs
	// go out every 20 ms rather than pion's 100 ms: a lost packet is asked for about
	// when Chromium asks (at once), so that the retransmission arrives while the
	// receiver's reorder buffer still waits for it.
	if err := webrtc.RegisterDefaultInterceptorsWithOptions(m, ir,
		webrtc.WithNackGeneratorOptions(nack.GeneratorStreamsFilter(func(*interceptor.StreamInfo) bool { return false })),
	); err != nil {
		return nil, fmt.Errorf("%w: interceptors: %w", ErrWebRTC, err)
	}
	ir.Add(nackFactory{interval: nackInterval})

	se := webrtc.SettingEngine{}
	se.SetPrflxAcceptanceMinWait(0) // else ~1 call in 20 stalls ~1 s (interop-facts.md)
	// pion waits 2 s before it nominates a relayed pair, in case a direct one succeeds
	// meanwhile; behind a symmetric NAT none will, and every relayed call took 2 s to
	// connect (BenchmarkCallSetup, internal/nattest). 1 s still leaves direct checks
	// several rounds (200 ms apart) to win.
	se.SetRelayAcceptanceMinWait(time.Second)
	// A remote DTLS close does not close our peer connection: the hangUp signal closes
	// it, so a hang-up is always reported as a hang-up.
	se.DisableCloseByDTLS(true)
	// Host candidates go out as mDNS names (.local), as browsers send theirs: a peer on
	// the same link resolves them, nobody else learns our private addresses, and a
	// remote relay is never asked to send to them. A TURN server with no route to a
	// private address (as in internal/nattest, and many hosted relays) drops the whole
	// allocation on the first such send, taking every relayed pair with it: two
	// ttycall peers behind symmetric NATs never connected, while two browsers did.
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

// relayOnly removes from an outgoing message every candidate that is not a relay one,
// in its SDP and in its trickled candidates, and reports whether anything is left to
// send. pion gathers only relay candidates under ICETransportPolicyRelay; this is the
// last check before anything leaves the machine, so that no path ever puts our address
// in a message in relay-only mode.
func relayOnly(m Message) bool {
	switch x := m.(type) {
	case *Offer:
		x.SDP = relaySDP(x.SDP)
	case *Answer:
		x.SDP = relaySDP(x.SDP)
	case *Restart:
		x.SDP = relaySDP(x.SDP)
	case *Candidates:
		kept := make([]ICECandidate, 0, len(x.Candidates))
		for _, c := range x.Candidates {
			if c.Candidate == "" || isRelay(c.Candidate) {
				kept = append(kept, c)
			}
		}
		x.Candidates = kept
		return len(kept) > 0
	}
	return true
}

// relaySDP drops the a=candidate lines of sdp that are not relay candidates.
func relaySDP(sdp string) string {
	if !strings.Contains(sdp, "candidate:") {
		return sdp
	}
	lines := strings.SplitAfter(sdp, "\n")
	out := lines[:0]
	for _, l := range lines {
		if c, ok := strings.CutPrefix(strings.TrimRight(l, "\r\n"), "a="); ok && strings.HasPrefix(c, "candidate:") && !isRelay(c) {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "")
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

// passPacer is a gcc.Pacer that sends every packet at once through the writer of its
// stream. A packet of an SSRC it does not know (an RTX retransmission: pion binds the
// stream under its media SSRC only) goes through any stream's writer: below the
// interceptors each writer is the connection's SRTP session, which routes by the
// packet's own SSRC, and the estimator has already recorded the packet.
//
// It also numbers the retransmissions. pion's NACK responder gives each stored packet
// its RTX sequence number once, when the packet is stored: a packet retransmitted twice
// (its first retransmission lost) went out twice under the same number, and the
// receiver's SRTP replay check dropped the second copy (Chromium logged "Failed to
// unprotect SRTP packet, err=9"), so a lost retransmission was never repaired and the
// picture froze until the next key frame. Numbered here, in sending order, every
// retransmission is new to the receiver.
type passPacer struct {
	mu      sync.Mutex
	writers map[uint32]interceptor.RTPWriter
	last    interceptor.RTPWriter
	rtxSeq  map[uint32]uint16 // next sequence number per RTX SSRC
}

func (p *passPacer) AddStream(ssrc uint32, w interceptor.RTPWriter) {
	p.mu.Lock()
	p.writers[ssrc], p.last = w, w
	p.mu.Unlock()
}

func (p *passPacer) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	p.mu.Lock()
	w, ok := p.writers[h.SSRC]
	if !ok {
		w = p.last
		seq, seen := p.rtxSeq[h.SSRC]
		if !seen {
			seq = uint16(rand.Uint32())
		}
		p.rtxSeq[h.SSRC] = seq + 1
		hh := *h
		hh.SequenceNumber = seq
		h = &hh
	}
	p.mu.Unlock()
	if w == nil {
		return 0, fmt.Errorf("%w: no stream for SSRC %d", ErrWebRTC, h.SSRC)
	}
	return w.Write(h, payload, a)
}

func (p *passPacer) SetTargetBitrate(int) {}
func (p *passPacer) Close() error         { return nil }

// delayBasedBWE is pion's GCC whose target is its delay-based estimate alone. pion's
// loss-based half counts a 2% random loss as 10-28% (measured with
// BenchmarkImpairedCall, profile a: its feedback adapter sees losses several times)
// and ratchets the combined target down to its 100 kbit/s floor, where the NACK
// responder, which budgets retransmissions by this target, stops resending. The loss
// rule is applied on the loss receivers report instead (Session.estimate).
type delayBasedBWE struct{ *gcc.SendSideBWE }

func (e delayBasedBWE) GetTargetBitrate() int {
	if d, ok := e.GetStats()["delayTargetBitrate"].(int); ok && d > 0 {
		return d
	}
	return e.SendSideBWE.GetTargetBitrate()
}
