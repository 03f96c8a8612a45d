// Package ulpfec is forward error correction for video as Chromium sends and receives
// it: ULPFEC (RFC 5109) parity packets carried, like the media packets they protect, in
// RED (RFC 2198) on the media stream's SSRC and sequence numbers.
//
// Why: a lost video packet repaired by NACK costs a round trip plus the time to notice
// the loss (for the last packet of a frame, the next frame's arrival). On a 120 ms link
// that is 200-300 ms, and a Chromium receiver shows a freeze. Chromium's own sender
// protects its frames with ULPFEC on such links (about one parity packet per two media
// packets at 5% loss, measured in BenchmarkImpairedWeb): a single loss in a protected
// group is rebuilt as soon as the parity packet arrives.
//
// A parity packet is the XOR of the protected packets as the receiver sees them: the
// RTP packet with its media payload type (not RED's), its header extensions with the
// values a middlebox may rewrite zeroed (libwebrtc zeroes transport-wide sequence
// numbers before it checks parity), and its payload.
package ulpfec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Sizes of the ULPFEC headers (RFC 5109 sections 7.3, 7.4).
const (
	fecHeaderSize   = 10
	levelHeaderSize = 4 // protection length + 16-bit mask
	longMaskExtra   = 4 // L=1: the mask has 48 bits
	rtpHeaderSize   = 12

	// MaxGroup is the most media packets one parity packet can cover (48-bit mask).
	MaxGroup = 48
)

var (
	errShort   = errors.New("ulpfec: packet too short")
	errGroup   = errors.New("ulpfec: group must be 1-48 consecutive packets")
	errVersion = errors.New("ulpfec: not RTP version 2")
)

// Encode returns the parity payloads (ULPFEC headers and level-0 payload, without the
// RED header) protecting media, which must be consecutive in sequence number, with k
// parity packets: parity packet j covers media packets i with i%k == j, so k losses
// spread over a group can all be rebuilt. Each media packet is the raw RTP packet as the
// receiver will check it (see the package doc).
func Encode(media [][]byte, k int) ([][]byte, error) {
	n := len(media)
	if n == 0 || n > MaxGroup {
		return nil, errGroup
	}
	k = max(1, min(k, n))
	base := binary.BigEndian.Uint16(media[0][2:])
	for i, p := range media {
		if len(p) < rtpHeaderSize {
			return nil, errShort
		}
		if binary.BigEndian.Uint16(p[2:]) != base+uint16(i) {
			return nil, errGroup
		}
	}
	long := n > 16
	hdr := fecHeaderSize + levelHeaderSize
	if long {
		hdr += longMaskExtra
	}
	out := make([][]byte, 0, k)
	for j := range k {
		protLen := 0
		for i := j; i < n; i += k {
			protLen = max(protLen, len(media[i])-rtpHeaderSize)
		}
		f := make([]byte, hdr+protLen)
		var lenRec uint16
		var mask uint64 // bit 47 = base+0
		for i := j; i < n; i += k {
			p := media[i]
			f[0] ^= p[0]
			f[1] ^= p[1]
			for b := 4; b < 8; b++ {
				f[b] ^= p[b]
			}
			lenRec ^= uint16(len(p) - rtpHeaderSize)
			for b, v := range p[rtpHeaderSize:] {
				f[hdr+b] ^= v
			}
			mask |= 1 << (47 - i)
		}
		f[0] &^= 0xc0 // E=0, L below
		if long {
			f[0] |= 0x40
		}
		binary.BigEndian.PutUint16(f[2:], base)
		binary.BigEndian.PutUint16(f[8:], lenRec)
		binary.BigEndian.PutUint16(f[10:], uint16(protLen))
		binary.BigEndian.PutUint16(f[12:], uint16(mask>>32))
		if long {
			binary.BigEndian.PutUint32(f[14:], uint32(mask))
		}
		out = append(out, f)
	}
	return out, nil
}

// parity is a received parity packet, parsed.
type parity struct {
	base    uint16
	seqs    []uint16
	payload []byte // the FEC packet (headers included)
	hdr     int
	protLen int
}

func parseParity(f []byte) (*parity, error) {
	if len(f) < fecHeaderSize+levelHeaderSize {
		return nil, errShort
	}
	hdr := fecHeaderSize + levelHeaderSize
	long := f[0]&0x40 != 0
	if long {
		hdr += longMaskExtra
	}
	if len(f) < hdr {
		return nil, errShort
	}
	protLen := int(binary.BigEndian.Uint16(f[10:]))
	if len(f) < hdr+protLen {
		return nil, fmt.Errorf("%w: protection length %d, %d bytes", errShort, protLen, len(f)-hdr)
	}
	mask := uint64(binary.BigEndian.Uint16(f[12:])) << 32
	if long {
		mask |= uint64(binary.BigEndian.Uint32(f[14:]))
	}
	p := &parity{base: binary.BigEndian.Uint16(f[2:]), payload: f, hdr: hdr, protLen: protLen}
	for i := range 48 {
		if mask&(1<<(47-i)) != 0 {
			p.seqs = append(p.seqs, p.base+uint16(i))
		}
	}
	if len(p.seqs) == 0 {
		return nil, fmt.Errorf("ulpfec: parity packet protects nothing")
	}
	return p, nil
}

// recover rebuilds the one packet of p missing from have (all others present), with
// ssrc as its SSRC. It reports false when the packets do not add up (a parity packet
// of another stream, or corrupt).
func (p *parity) recover(missing uint16, have map[uint16][]byte, ssrc uint32) ([]byte, bool) {
	f := p.payload
	var h [10]byte
	copy(h[:], f[:fecHeaderSize])
	body := make([]byte, p.protLen)
	copy(body, f[p.hdr:p.hdr+p.protLen])
	for _, s := range p.seqs {
		if s == missing {
			continue
		}
		q := have[s]
		h[0] ^= q[0]
		h[1] ^= q[1]
		for b := 4; b < 8; b++ {
			h[b] ^= q[b]
		}
		l := binary.BigEndian.Uint16(h[8:]) ^ uint16(len(q)-rtpHeaderSize)
		binary.BigEndian.PutUint16(h[8:], l)
		if len(q)-rtpHeaderSize > p.protLen {
			return nil, false
		}
		for b, v := range q[rtpHeaderSize:] {
			body[b] ^= v
		}
	}
	n := int(binary.BigEndian.Uint16(h[8:]))
	if n > p.protLen {
		return nil, false
	}
	out := make([]byte, rtpHeaderSize+n)
	out[0] = 0x80 | (h[0] & 0x3f)
	out[1] = h[1]
	binary.BigEndian.PutUint16(out[2:], missing)
	copy(out[4:8], h[4:8])
	binary.BigEndian.PutUint32(out[8:], ssrc)
	copy(out[rtpHeaderSize:], body[:n])
	// The rebuilt header must describe a packet that fits: CSRCs and extension
	// inside it, padding no longer than it.
	cc := int(out[0] & 0x0f)
	if rtpHeaderSize+4*cc > len(out) {
		return nil, false
	}
	return out, true
}

// Decoder rebuilds lost media packets of one stream from the parity packets that
// protect them. It keeps the last window media packets and parity packets (by sequence
// number): memory is bounded whatever a peer sends. Not safe for concurrent use.
type Decoder struct {
	ssrc    uint32
	have    map[uint16][]byte
	order   []uint16 // media sequence numbers in arrival order, for eviction
	pending []*parity
	// Recovered counts the packets rebuilt so far.
	Recovered int
}

// window is how many media packets (and parity packets) a Decoder keeps: a second of
// video at 2 Mbit/s, far beyond any group a sender protects.
const window = 256

// NewDecoder returns a Decoder for the stream ssrc.
func NewDecoder(ssrc uint32) *Decoder {
	return &Decoder{ssrc: ssrc, have: make(map[uint16][]byte)}
}

// AddMedia records a received media packet (as the parity was computed over it) and
// returns the packets it lets the decoder rebuild.
func (d *Decoder) AddMedia(pkt []byte) ([][]byte, error) {
	if len(pkt) < rtpHeaderSize {
		return nil, errShort
	}
	if pkt[0]>>6 != 2 {
		return nil, errVersion
	}
	d.store(pkt)
	return d.tryAll(), nil
}

// AddParity records a received parity payload (after the RED header) and returns the
// packets it lets the decoder rebuild.
func (d *Decoder) AddParity(f []byte) ([][]byte, error) {
	p, err := parseParity(f)
	if err != nil {
		return nil, err
	}
	p.payload = append([]byte(nil), f...)
	d.pending = append(d.pending, p)
	if len(d.pending) > window {
		d.pending = d.pending[len(d.pending)-window:]
	}
	return d.tryAll(), nil
}

func (d *Decoder) store(pkt []byte) {
	seq := binary.BigEndian.Uint16(pkt[2:])
	if _, dup := d.have[seq]; dup {
		return
	}
	d.have[seq] = append([]byte(nil), pkt...)
	d.order = append(d.order, seq)
	if len(d.order) > window {
		delete(d.have, d.order[0])
		d.order = d.order[1:]
	}
}

// tryAll rebuilds what the pending parity packets allow, repeatedly (a rebuilt packet
// may complete another group), and drops parity packets with nothing left to do.
func (d *Decoder) tryAll() [][]byte {
	var out [][]byte
	for progress := true; progress; {
		progress = false
		kept := d.pending[:0]
		for _, p := range d.pending {
			missing, nMissing := uint16(0), 0
			for _, s := range p.seqs {
				if _, ok := d.have[s]; !ok {
					missing = s
					nMissing++
				}
			}
			switch {
			case nMissing == 0:
				// all there: nothing to rebuild
			case nMissing == 1 && d.inWindow(p):
				if pkt, ok := p.recover(missing, d.have, d.ssrc); ok {
					d.store(pkt)
					d.Recovered++
					out = append(out, pkt)
					progress = true
				}
			default:
				if d.inWindow(p) {
					kept = append(kept, p)
				}
			}
		}
		for i := len(kept); i < len(d.pending); i++ {
			d.pending[i] = nil
		}
		d.pending = kept
	}
	return out
}

// inWindow reports whether p's group is recent enough to be completed: its packets
// are not older than what the decoder keeps.
func (d *Decoder) inWindow(p *parity) bool {
	if len(d.order) == 0 {
		return true
	}
	newest := d.order[len(d.order)-1]
	return int16(newest-p.base) < window
}

// RED (RFC 2198) with one block, as WebRTC uses it for video: a one-byte header (F=0,
// the block's payload type) before the block.

// WrapRED returns payload in a single-block RED payload of payload type pt.
func WrapRED(pt uint8, payload []byte) []byte {
	out := make([]byte, 1+len(payload))
	out[0] = pt & 0x7f
	copy(out[1:], payload)
	return out
}

// UnwrapRED returns the block's payload type and payload of a single-block RED payload.
// Several blocks (F=1: redundant audio) are refused, as libwebrtc refuses them for video.
func UnwrapRED(red []byte) (pt uint8, payload []byte, err error) {
	if len(red) < 1 {
		return 0, nil, errShort
	}
	if red[0]&0x80 != 0 {
		return 0, nil, errors.New("ulpfec: RED with more than one block")
	}
	return red[0] & 0x7f, red[1:], nil
}
