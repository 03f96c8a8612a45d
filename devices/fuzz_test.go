package devices

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// packetsFromBytes turns fuzz input into RTP packets: each record is a 2-byte length,
// a flags byte (bit 0 marker, bit 1 skip a sequence number) and the payload.
func packetsFromBytes(data []byte) []*rtp.Packet {
	var out []*rtp.Packet
	seq, ts := uint16(100), uint32(0)
	for len(data) >= 3 {
		n := int(binary.BigEndian.Uint16(data)) % 1500
		flags := data[2]
		data = data[3:]
		n = min(n, len(data))
		if flags&2 != 0 {
			seq++
		}
		if flags&4 != 0 {
			ts += 3000
		}
		out = append(out, &rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: flags&1 != 0},
			Payload: append([]byte(nil), data[:n]...),
		})
		seq++
		data = data[n:]
	}
	return out
}

func bytesFromPackets(pkts []*rtp.Packet) []byte {
	var b bytes.Buffer
	for _, p := range pkts {
		var flags byte
		if p.Marker {
			flags |= 1 | 4
		}
		b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(p.Payload))))
		b.WriteByte(flags)
		b.Write(p.Payload)
	}
	return b.Bytes()
}

// FuzzReceivers feeds arbitrary packets to the VP8 and Opus receive paths: nothing may
// panic or hang. Run: go test -fuzz FuzzReceivers -fuzztime 30s ./devices/
func FuzzReceivers(f *testing.F) {
	pkts, _ := encodeVideo(f, newTestPatternSource(64, 48, 30, false), 3, false)
	f.Add(bytesFromPackets(pkts))
	f.Add([]byte{0, 5, 1, 0x10, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ps := packetsFromBytes(data)
		slot := &FrameSlot{}
		r := newTestVideoReceiver(t, slot)
		for _, p := range ps {
			r.handle(p)
		}
		driveAudio(t, ps, func(i int) time.Duration { return time.Duration(i) * 7 * time.Millisecond })
	})
}

// TestGarbageIntoDecoders: random payloads, a real stream with bytes flipped and packets
// truncated, all through the public WriteRTP path; then a clean stream still decodes.
func TestGarbageIntoDecoders(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	good, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 30, false)

	var garbage []*rtp.Packet
	seq := uint16(0)
	next := func(payload []byte, marker bool, ts uint32) {
		garbage = append(garbage, &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, Marker: marker}, Payload: payload})
		seq++
	}
	// The packets are written in chunks that fit the receiver's queue, each once the
	// queue has drained (how many packets the encoder makes depends on the machine's
	// load), so the clean key frame cannot be dropped for lack of room.
	for i := range 300 { // pure noise, some with a plausible VP8 descriptor
		p := make([]byte, rng.IntN(1200))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		if len(p) > 0 && i%2 == 0 {
			p[0] = 0x10
		}
		next(p, rng.IntN(3) == 0, uint32(i/3*3000))
	}
	for _, p := range good { // damaged real stream
		q := append([]byte(nil), p.Payload...)
		switch rng.IntN(3) {
		case 0:
			q = q[:rng.IntN(len(q)+1)]
		case 1:
			for range 1 + rng.IntN(8) {
				if len(q) > 0 {
					q[rng.IntN(len(q))] ^= byte(1 + rng.IntN(255))
				}
			}
		}
		next(q, p.Marker, p.Timestamp)
	}

	slot := &FrameSlot{}
	frames := make(chan struct{}, 1000)
	var requests int
	reqs := make(chan struct{}, 1000)
	rcv, err := NewVideoReceiver("video/VP8", slot, func() { reqs <- struct{}{} }, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	vr := rcv.(*VideoReceiver)
	vr.onFrame = func() { frames <- struct{}{} }
	deadline := time.After(20 * time.Second)
	writeAll := func(ps []*rtp.Packet) {
		const chunk = videoQueue / 2
		for len(ps) > 0 {
			n := min(chunk, len(ps))
			for _, p := range ps[:n] {
				_ = rcv.WriteRTP(p) // must not block
			}
			ps = ps[n:]
			// Wait until the receiver has taken the chunk off its queue.
			for len(vr.in) > 0 {
				select {
				case <-deadline:
					t.Fatalf("receiver stuck with %d queued packets; stats %+v", len(vr.in), vr.Stats())
				case <-time.After(time.Millisecond):
				}
			}
		}
	}
	writeAll(garbage)
	// Then the clean stream, renumbered to follow on.
	var clean []*rtp.Packet
	for _, p := range good {
		q := p.Clone()
		q.SequenceNumber = seq
		seq++
		clean = append(clean, q)
	}
	writeAll(clean)
	for got := 0; got < 1; {
		select {
		case <-frames:
			got++
		case <-reqs:
			requests++
		case <-deadline:
			t.Fatalf("no frame decoded after garbage; stats %+v", vr.Stats())
		}
	}
	if err := rcv.Close(); err != nil {
		t.Fatal(err)
	}
	st := vr.Stats()
	t.Logf("stats %+v", st)
	// Requests are spaced by keyFrameMinGap, and all this takes a few ms: one request.
	if st.KeyFrameRequests < 1 || st.SkippedWaitingKey == 0 {
		t.Errorf("garbage did not make the receiver wait for a key frame: %+v", st)
	}

	// Opus: noise and truncated packets.
	out := &captureOutput{}
	ar, err := NewAudioReceiver("audio/opus", out, "x", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range garbage {
		_ = ar.WriteRTP(p)
	}
	if err := ar.Close(); err != nil {
		t.Fatal(err)
	}
	if !out.closed {
		t.Error("audio receiver did not close its output input")
	}
	if _, err := NewVideoReceiver("video/H264", slot, nil, nil); err == nil {
		t.Error("H264 receiver accepted")
	}
}
