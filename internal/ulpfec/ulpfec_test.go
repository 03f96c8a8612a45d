package ulpfec

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/pion/rtp"
)

// packets makes n consecutive RTP packets from seq with varied sizes, markers,
// timestamps and a one-byte header extension (as pion sends: transport-wide sequence
// number, value zeroed).
func packets(t *testing.T, rng *rand.Rand, seq uint16, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range n {
		h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq + uint16(i), Timestamp: 9000 * uint32(1+i/3), SSRC: 0xdecafbad, Marker: i%3 == 2}
		if err := h.SetExtension(3, []byte{0, 0}); err != nil {
			t.Fatal(err)
		}
		payload := make([]byte, 20+rng.IntN(1100))
		for j := range payload {
			payload[j] = byte(rng.Uint32())
		}
		b, err := (&rtp.Packet{Header: h, Payload: payload}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestRecoverOneLossPerParity: every group of n packets protected by k parity packets
// gets back any one lost packet per parity packet, byte for byte, across the sequence
// number wrap and with the 48-bit mask.
func TestRecoverOneLossPerParity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		seq  uint16
		n, k int
	}{{100, 2, 1}, {65534, 5, 2}, {7, 17, 3}, {1000, 48, 8}, {3, 1, 1}} {
		media := packets(t, rng, c.seq, c.n)
		fec, err := Encode(media, c.k)
		if err != nil {
			t.Fatal(err)
		}
		if len(fec) != c.k {
			t.Fatalf("%d parity packets, want %d", len(fec), c.k)
		}
		// lose one packet of each parity group (packet j of group j)
		lost := map[int]bool{}
		for j := range c.k {
			lost[j] = true
		}
		d := NewDecoder(0xdecafbad)
		var got [][]byte
		for i, p := range media {
			if lost[i] {
				continue
			}
			r, err := d.AddMedia(p)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r...)
		}
		for _, f := range fec {
			r, err := d.AddParity(f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r...)
		}
		if len(got) != len(lost) {
			t.Fatalf("seq %d n %d k %d: rebuilt %d packets, want %d", c.seq, c.n, c.k, len(got), len(lost))
		}
		for _, r := range got {
			seq := binary.BigEndian.Uint16(r[2:])
			want := media[int(seq-c.seq)]
			if !bytes.Equal(r, want) {
				t.Fatalf("rebuilt packet %d differs from the original", seq)
			}
		}
	}
}

// TestTwoLossesInOneGroup: one parity packet cannot rebuild two losses; nothing wrong
// comes out, and the second packet arriving late (a retransmission) lets the first be
// rebuilt.
func TestTwoLossesInOneGroup(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	media := packets(t, rng, 500, 4)
	fec, _ := Encode(media, 1)
	d := NewDecoder(0xdecafbad)
	for _, i := range []int{0, 3} {
		if r, _ := d.AddMedia(media[i]); len(r) != 0 {
			t.Fatalf("rebuilt %d packets before the parity packet", len(r))
		}
	}
	if r, _ := d.AddParity(fec[0]); len(r) != 0 {
		t.Fatalf("rebuilt %d packets out of two losses", len(r))
	}
	r, _ := d.AddMedia(media[1]) // retransmitted
	if len(r) != 1 || !bytes.Equal(r[0], media[2]) {
		t.Fatalf("after the retransmission: rebuilt %d packets, want packet 502", len(r))
	}
	if d.Recovered != 1 {
		t.Fatalf("Recovered = %d", d.Recovered)
	}
}

// TestHostileParity: parity packets that lie (lengths, masks, garbage) and media
// packets that are not RTP give errors or nothing, never a panic, and the decoder stays
// bounded.
func TestHostileParity(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := NewDecoder(1)
	media := packets(t, rng, 10, 6)
	for _, p := range media[1:] {
		_, _ = d.AddMedia(p)
	}
	fec, _ := Encode(media, 1)
	bad := append([]byte(nil), fec[0]...)
	binary.BigEndian.PutUint16(bad[8:], 0xffff) // length recovery beyond the payload
	if r, _ := d.AddParity(bad); len(r) != 0 {
		t.Fatal("rebuilt a packet from a corrupt length")
	}
	for range 5000 {
		b := make([]byte, rng.IntN(80))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		_, _ = d.AddParity(b)
		if len(b) >= 12 {
			b[0] = 0x80
		}
		_, _ = d.AddMedia(b)
	}
	if len(d.have) > window || len(d.pending) > window {
		t.Fatalf("decoder holds %d media and %d parity packets, window %d", len(d.have), len(d.pending), window)
	}
	if _, err := Encode(nil, 1); err == nil {
		t.Fatal("empty group accepted")
	}
	if _, err := Encode([][]byte{media[0], media[2]}, 1); err == nil {
		t.Fatal("non-consecutive group accepted")
	}
}

func TestRED(t *testing.T) {
	pt, p, err := UnwrapRED(WrapRED(96, []byte{1, 2, 3}))
	if err != nil || pt != 96 || !bytes.Equal(p, []byte{1, 2, 3}) {
		t.Fatalf("round trip: %d %v %v", pt, p, err)
	}
	if _, _, err := UnwrapRED([]byte{0x80 | 96, 0, 0, 3, 1}); err == nil {
		t.Fatal("multi-block RED accepted")
	}
	if _, _, err := UnwrapRED(nil); err == nil {
		t.Fatal("empty RED accepted")
	}
}

func FuzzDecoder(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	media := make([][]byte, 0)
	for i := range 3 {
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i)}, Payload: []byte{byte(rng.Uint32()), 2, 3}}).Marshal()
		media = append(media, b)
	}
	fec, _ := Encode(media, 1)
	f.Add(media[0], fec[0])
	f.Fuzz(func(t *testing.T, m, p []byte) {
		d := NewDecoder(0)
		_, _ = d.AddMedia(m)
		_, _ = d.AddParity(p)
	})
}
