package call

// Checks of what a remote party sends before pion sees it. pion changes a peer
// connection's signaling state before it has read every part of a remote description,
// so a description that parses but lacks ICE credentials or a fingerprint would leave the
// connection half changed. Here a hostile or broken SDP or candidate becomes an
// ErrBadSignal (an InvalidEvent) and the peer connection is never touched.

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/signaling"
)

// Limits on what one remote party may make the engine hold or try.
const (
	// maxMediaSections: a call has an audio and a video section (a data channel at
	// most adds one); anything far beyond that is not a call we can take part in.
	maxMediaSections = 16
	// maxSDPCandidates: a=candidate lines in one description (a browser gathers a few
	// per interface and server).
	maxSDPCandidates = 64
	// maxQueuedCandidates: trickled candidates kept per peer (before the remote
	// description, or in one iceCandidates signal).
	maxQueuedCandidates = 256
)

// checkRemoteSDP checks raw (with any line ends) as a remote description of type t and
// returns it with CRLF line ends and without the candidate lines checkCandidate refuses.
// ref, when not nil, is the description raw must match section by section: our offer
// for an answer, the current remote description for an ICE-restart offer (ttycall does
// not renegotiate media).
func (c *Client) checkRemoteSDP(raw string, t webrtc.SDPType, ref *webrtc.SessionDescription) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("%w: no SDP", ErrBadSignal)
	}
	if len(raw) > MaxSDP {
		return "", fmt.Errorf("%w: SDP of %d bytes", ErrBadSignal, len(raw))
	}
	norm := signaling.NormalizeSDP(raw)
	// Count m= lines before parsing: thousands of sections are refused cheaply.
	if n := strings.Count(norm, "\r\nm="); n > maxMediaSections {
		return "", fmt.Errorf("%w: SDP with %d media sections (at most %d)", ErrBadSignal, n, maxMediaSections)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(norm); err != nil {
		return "", fmt.Errorf("%w: SDP: %w", ErrBadSignal, err)
	}
	if len(d.MediaDescriptions) == 0 {
		return "", fmt.Errorf("%w: SDP without media", ErrBadSignal)
	}
	sessUfrag, _ := d.Attribute("ice-ufrag")
	sessPwd, _ := d.Attribute("ice-pwd")
	sessFP, _ := d.Attribute("fingerprint")
	codec := false
	for i, m := range d.MediaDescriptions {
		if m.MediaName.Port.Value == 0 {
			continue // a rejected section
		}
		ufrag, _ := m.Attribute("ice-ufrag")
		pwd, _ := m.Attribute("ice-pwd")
		fp, _ := m.Attribute("fingerprint")
		if (ufrag == "" && sessUfrag == "") || (pwd == "" && sessPwd == "") {
			return "", fmt.Errorf("%w: SDP section %d without ICE credentials", ErrBadSignal, i)
		}
		if fp == "" && sessFP == "" {
			return "", fmt.Errorf("%w: SDP section %d without DTLS fingerprint", ErrBadSignal, i)
		}
		setup, _ := m.Attribute("setup")
		if t == webrtc.SDPTypeAnswer && setup == "actpass" {
			return "", fmt.Errorf("%w: an offer (setup:actpass) where an answer was due", ErrBadSignal)
		}
		if supportedCodec(m) {
			codec = true
		}
	}
	if !codec {
		return "", fmt.Errorf("%w: SDP offers no codec ttycall speaks (VP8 video, Opus audio)", ErrBadSignal)
	}
	if ref != nil {
		if err := sameSections(&d, ref); err != nil {
			return "", err
		}
	}
	return c.filterSDPCandidates(norm)
}

// supportedCodec reports whether an m-section lists VP8 (video) or Opus (audio).
func supportedCodec(m *sdp.MediaDescription) bool {
	want := map[string]string{"video": "vp8/90000", "audio": "opus/48000"}[m.MediaName.Media]
	if want == "" {
		return false
	}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		if _, enc, ok := strings.Cut(a.Value, " "); ok && strings.HasPrefix(strings.ToLower(enc), want) {
			return true
		}
	}
	return false
}

// sameSections checks that d has the media sections of ref: as many, of the same kinds,
// with the same mids, in the same order.
func sameSections(d *sdp.SessionDescription, ref *webrtc.SessionDescription) error {
	// Parsed into a value of our own: ref may be pion's (RemoteDescription), and its
	// Unmarshal caches into it, racing with pion's readers.
	r := &sdp.SessionDescription{}
	if err := r.UnmarshalString(ref.SDP); err != nil {
		return fmt.Errorf("%w: our own description: %w", ErrWebRTC, err)
	}
	if len(d.MediaDescriptions) != len(r.MediaDescriptions) {
		return fmt.Errorf("%w: SDP with %d media sections for %d", ErrBadSignal, len(d.MediaDescriptions), len(r.MediaDescriptions))
	}
	for i, m := range d.MediaDescriptions {
		rm := r.MediaDescriptions[i]
		mid, _ := m.Attribute("mid")
		rmid, _ := rm.Attribute("mid")
		if m.MediaName.Media != rm.MediaName.Media || mid != rmid {
			return fmt.Errorf("%w: SDP section %d is %s mid %q, want %s mid %q", ErrBadSignal,
				i, m.MediaName.Media, mid, rm.MediaName.Media, rmid)
		}
	}
	return nil
}

// filterSDPCandidates drops the candidate lines checkCandidate refuses; too many
// candidate lines make the whole SDP refused.
func (c *Client) filterSDPCandidates(norm string) (string, error) {
	if !strings.Contains(norm, "a=candidate:") {
		return norm, nil
	}
	lines := strings.Split(norm, "\r\n")
	out := lines[:0]
	n := 0
	for _, l := range lines {
		if cand, ok := strings.CutPrefix(l, "a="); ok && strings.HasPrefix(cand, "candidate:") {
			n++
			if n > maxSDPCandidates {
				return "", fmt.Errorf("%w: SDP with more than %d candidates", ErrBadSignal, maxSDPCandidates)
			}
			if err := c.checkCandidate(cand); err != nil {
				c.log.Info("SDP candidate dropped", "candidate", cand, "err", err)
				continue
			}
		}
		out = append(out, l)
	}
	return strings.Join(out, "\r\n"), nil
}

// errEndOfCandidates marks the empty candidate (end of candidates): not an error.
var errEndOfCandidates = errors.New("end of candidates")

// checkCandidate refuses a remote candidate that does not parse or whose address no
// call should send packets to: multicast, broadcast, unspecified ("this host", 0/8),
// loopback (a stranger's call must not make us send STUN to a port of our own host,
// as browsers refuse too), a DNS name (only mDNS .local names are resolved, and not
// with LoopbackOnly), and with LoopbackOnly anything but loopback. LoopbackOnly, the
// test option, is the only way loopback candidates are taken. Private and link-local
// addresses stay allowed: LAN calls need them.
func (c *Client) checkCandidate(raw string) error {
	v := strings.TrimPrefix(raw, "candidate:")
	if v == "" {
		return errEndOfCandidates
	}
	cand, err := ice.UnmarshalCandidate(v)
	if err != nil {
		return fmt.Errorf("%w: candidate: %w", ErrBadSignal, err)
	}
	addr := cand.Address()
	ip := net.ParseIP(addr)
	switch {
	case ip == nil && strings.HasSuffix(addr, ".local") && !c.cfg.LoopbackOnly:
		return nil
	case ip == nil:
		return fmt.Errorf("%w: candidate address %q is not an IP address", ErrBadSignal, addr)
	case ip.IsUnspecified() || ip.IsMulticast() || ip.Equal(net.IPv4bcast) || (ip.To4() != nil && ip.To4()[0] == 0):
		return fmt.Errorf("%w: candidate address %s", ErrBadSignal, addr)
	case ip.IsLoopback() && (!c.cfg.LoopbackOnly || c.cfg.strictCandidates):
		return fmt.Errorf("%w: candidate address %s is loopback", ErrBadSignal, addr)
	case c.cfg.LoopbackOnly && !ip.IsLoopback():
		return fmt.Errorf("%w: candidate address %s is not loopback", ErrBadSignal, addr)
	case cand.Port() == 0 && cand.NetworkType().IsUDP():
		return fmt.Errorf("%w: candidate port 0", ErrBadSignal)
	}
	return nil
}

// withoutBareFEC removes RED, ULPFEC and their RTX from every video section that lists no
// VP8. pion would otherwise answer such a section (H264 only, say) with RED alone: a
// video section open with nothing to decode, where it must be refused.
func withoutBareFEC(desc string) string {
	lines := strings.Split(desc, "\r\n")
	out := make([]string, 0, len(lines))
	for start := 0; start < len(lines); {
		end := start + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "m=") {
			end++
		}
		out = append(out, bareFECSection(lines[start:end])...)
		start = end
	}
	return strings.Join(out, "\r\n")
}

func bareFECSection(sec []string) []string {
	if len(sec) == 0 || !strings.HasPrefix(sec[0], "m=video ") {
		return sec
	}
	drop := map[string]bool{}
	for _, l := range sec {
		v, ok := strings.CutPrefix(l, "a=rtpmap:")
		if !ok {
			continue
		}
		pt, enc, _ := strings.Cut(v, " ")
		switch enc = strings.ToLower(enc); {
		case strings.HasPrefix(enc, "vp8/"):
			return sec // VP8 is there: RED and ULPFEC can carry it
		case strings.HasPrefix(enc, "red/"), strings.HasPrefix(enc, "ulpfec/"), strings.HasPrefix(enc, "rtx/"):
			drop[pt] = true
		}
	}
	if len(drop) == 0 {
		return sec
	}
	f := strings.Fields(sec[0])
	m := f[:3:3]
	for _, pt := range f[3:] {
		if !drop[pt] {
			m = append(m, pt)
		}
	}
	if len(m) == 3 {
		m = append(m, f[3]) // an m= line needs a format; with port 0 it is refused anyway
		m[1] = "0"
	}
	out := []string{strings.Join(m, " ")}
	for _, l := range sec[1:] {
		if v, ok := strings.CutPrefix(l, "a="); ok {
			if k, rest, ok := strings.Cut(v, ":"); ok && (k == "rtpmap" || k == "fmtp" || k == "rtcp-fb") {
				if pt, _, _ := strings.Cut(rest, " "); drop[pt] {
					continue
				}
			}
		}
		out = append(out, l)
	}
	return out
}
