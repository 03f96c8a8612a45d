package devices

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// jbPayload is a fake Opus packet: a TOC saying one 20 ms CELT frame, then the packet's
// index, so a test sees which packet was played.
func jbPayload(i int) []byte {
	return []byte{31 << 3, byte(i >> 8), byte(i)}
}

func jbIndex(p []byte) int {
	if len(p) < 3 {
		return -1
	}
	return int(binary.BigEndian.Uint16(p[1:]))
}

// jbPkt is one packet of a simulated stream: sent at index*20 ms with its timestamp.
type jbPkt struct {
	seq     uint16
	ts      uint32
	payload []byte
	at      time.Duration // arrival
}

// jbPull is one pull of the simulation: when, and what it returned.
type jbPull struct {
	at  time.Duration
	out jbOut
}

// stream makes n packets of 20 ms starting at seq0/ts0; delay(i) is packet i's network
// delay, and lost(i) drops it.
func stream(n int, seq0 uint16, ts0 uint32, delay func(i int) time.Duration, lost func(i int) bool) []jbPkt {
	var ps []jbPkt
	for i := range n {
		if lost != nil && lost(i) {
			continue
		}
		d := time.Duration(0)
		if delay != nil {
			d = delay(i)
		}
		ps = append(ps, jbPkt{seq: seq0 + uint16(i), ts: ts0 + uint32(i*jbFrame), payload: jbPayload(i), at: time.Duration(i)*20*time.Millisecond + d})
	}
	return ps
}

// simulate runs a buffer on a fake clock: the packets arrive at their times (in that
// order; equal times keep the slice's order), and the buffer is pulled every 20 ms
// (at 7 ms past the packets' rhythm) until the last packet is played, or end.
func simulate(b *audioJB, ps []jbPkt, end time.Duration) []jbPull {
	t0 := time.Unix(1000, 0)
	order := make([]jbPkt, len(ps))
	copy(order, ps)
	// A stable insertion sort by arrival: the streams are short and nearly sorted.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && order[j].at < order[j-1].at; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	var pulls []jbPull
	next := 7 * time.Millisecond
	for _, p := range order {
		for ; next < p.at && next < end; next += 20 * time.Millisecond {
			pulls = append(pulls, jbPull{next, b.pull(t0.Add(next))})
		}
		b.insert(p.seq, p.ts, p.payload, t0.Add(p.at))
	}
	// Until the last packet is played: a pull after it would find the buffer dry.
	for ; next < end && b.Len() > 0; next += 20 * time.Millisecond {
		pulls = append(pulls, jbPull{next, b.pull(t0.Add(next))})
	}
	return pulls
}

// played lists the packet indexes decoded, in order (dropped ones are not played).
func played(pulls []jbPull) []int {
	var out []int
	for _, p := range pulls {
		if p.out.Kind == jbDecode {
			out = append(out, jbIndex(p.out.Payload))
		}
	}
	return out
}

// count returns how many pulls from `from` on returned kind (fec: concealment from a
// packet's FEC; otherwise PLC only, for jbConceal).
func count(pulls []jbPull, from time.Duration, kind jbKind, fec bool) int {
	n := 0
	for _, p := range pulls {
		if p.at >= from && p.out.Kind == kind && (kind != jbConceal || (p.out.Payload != nil) == fec) {
			n++
		}
	}
	return n
}

func increasing(t *testing.T, idx []int) {
	t.Helper()
	for i := 1; i < len(idx); i++ {
		if idx[i] <= idx[i-1] {
			t.Fatalf("played out of order: %d after %d", idx[i], idx[i-1])
		}
	}
}

// A clean stream: everything played in order, nothing concealed, and the delay stays
// at the minimum.
func TestAudioJBInOrder(t *testing.T) {
	var b audioJB
	const n = 250
	ps := stream(n, 65500, 4294967000, nil, nil) // both wrap
	pulls := simulate(&b, ps, n*20*time.Millisecond+30*time.Millisecond)
	got := played(pulls)
	if len(got) != n {
		t.Fatalf("played %d packets of %d", len(got), n)
	}
	increasing(t, got)
	st := b.Stats()
	if st.ConcealedSamples != 0 || st.ConcealmentEvents != 0 || st.InsertedSamplesForDeceleration != 0 || st.RemovedSamplesForAcceleration != 0 {
		t.Fatalf("clean stream: %+v", st)
	}
	mean := st.Delay / time.Duration(st.EmittedCount)
	t.Logf("target %v, mean delay %v", b.Target(), mean)
	if b.Target() > 30*time.Millisecond || mean > 30*time.Millisecond {
		t.Fatalf("clean stream: target %v, mean delay %v; want near the %v minimum", b.Target(), mean, jbMinTarget)
	}
}

// 60 ms of uniform jitter (packets 20 ms apart come out of order): after the first
// second the target covers the jitter and next to nothing is concealed.
func TestAudioJBAdaptsToJitter(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		rng := rand.New(rand.NewPCG(seed, 7))
		var b audioJB
		const n = 1000 // 20 s
		delays := make([]time.Duration, n)
		for i := range delays {
			delays[i] = 10*time.Millisecond + time.Duration(rng.Int64N(int64(60*time.Millisecond)))
		}
		ps := stream(n, 0, 0, func(i int) time.Duration { return delays[i] }, nil)
		reordered := 0
		for i := 1; i < len(ps); i++ {
			if ps[i].at < ps[i-1].at {
				reordered++
			}
		}
		pulls := simulate(&b, ps, n*20*time.Millisecond+time.Second)
		got := played(pulls)
		increasing(t, got)
		plc := count(pulls, time.Second, jbConceal, false)
		st := b.Stats()
		t.Logf("seed %d: %d reordered; target %v, mean delay %v; PLC frames after 1 s %d (all %d), FEC %d, inserted %d, removed %d, discarded %d, played %d/%d",
			seed, reordered, b.Target(), st.Delay/time.Duration(st.EmittedCount), plc, count(pulls, 0, jbConceal, false),
			count(pulls, 0, jbConceal, true), st.InsertedSamplesForDeceleration/jbFrame, st.RemovedSamplesForAcceleration/jbFrame, st.PacketsDiscarded, len(got), n)
		if reordered < n/10 {
			t.Fatalf("only %d packets reordered: the test does not test reordering", reordered)
		}
		if b.Target() < 60*time.Millisecond || b.Target() > 150*time.Millisecond {
			t.Errorf("target %v for 60 ms of jitter", b.Target())
		}
		if plc > n/100 {
			t.Errorf("%d frames concealed after the first second, want <= %d", plc, n/100)
		}
		if len(got) < n-n/50 {
			t.Errorf("played %d packets of %d", len(got), n)
		}
	}
}

// One lost packet with the next one in the buffer: rebuilt from its FEC, once; two in
// a row: one concealed (PLC), one rebuilt.
func TestAudioJBLossFEC(t *testing.T) {
	for _, tc := range []struct {
		lost     []int
		plc, fec int
	}{{[]int{50}, 0, 1}, {[]int{50, 51}, 1, 1}, {[]int{50, 52}, 0, 2}} {
		var b audioJB
		ps := stream(100, 0, 0, nil, func(i int) bool {
			for _, l := range tc.lost {
				if i == l {
					return true
				}
			}
			return false
		})
		pulls := simulate(&b, ps, 100*20*time.Millisecond+30*time.Millisecond)
		if got := len(played(pulls)); got != 100-len(tc.lost) {
			t.Errorf("lost %v: played %d", tc.lost, got)
		}
		plc, fec := count(pulls, 0, jbConceal, false), count(pulls, 0, jbConceal, true)
		if plc != tc.plc || fec != tc.fec {
			t.Errorf("lost %v: %d concealed, %d from FEC; want %d, %d", tc.lost, plc, fec, tc.plc, tc.fec)
		}
		for i, p := range pulls {
			if p.out.Kind == jbConceal && p.out.Payload != nil {
				// The FEC comes from the packet played next.
				if i+1 >= len(pulls) || pulls[i+1].out.Kind != jbDecode || jbIndex(pulls[i+1].out.Payload) != jbIndex(p.out.Payload) {
					t.Errorf("lost %v: FEC from packet %d, not the next one played", tc.lost, jbIndex(p.out.Payload))
				}
			}
		}
		st := b.Stats()
		if st.ConcealedSamples != uint64(tc.plc*jbFrame) || st.ConcealmentEvents != uint64(tc.plc) {
			t.Errorf("lost %v: stats %+v", tc.lost, st)
		}
	}
}

// A late packet that still comes before its time is played, not dropped; one whose
// time has passed is dropped.
func TestAudioJBLateButInTime(t *testing.T) {
	var b audioJB
	// Settle at 20 ms, then packet 60 is held up behind 61 and 62.
	ps := stream(100, 0, 0, func(i int) time.Duration {
		if i == 60 {
			return 15 * time.Millisecond
		}
		return 0
	}, nil)
	pulls := simulate(&b, ps, 100*20*time.Millisecond+30*time.Millisecond)
	got := played(pulls)
	increasing(t, got)
	if len(got) != 100 || count(pulls, 0, jbConceal, false)+count(pulls, 0, jbConceal, true) != 0 {
		t.Fatalf("reordered packet 60: played %d, stats %+v", len(got), b.Stats())
	}

	// 100 ms late on a 20 ms target: rebuilt from 61's FEC in its time, then dropped.
	b = audioJB{}
	ps = stream(100, 0, 0, func(i int) time.Duration {
		if i == 60 {
			return 100 * time.Millisecond
		}
		return 0
	}, nil)
	pulls = simulate(&b, ps, 100*20*time.Millisecond+30*time.Millisecond)
	got = played(pulls)
	increasing(t, got)
	if len(got) != 99 || slices.Contains(got, 60) || count(pulls, 0, jbConceal, true) != 1 || b.Stats().PacketsDiscarded != 1 {
		t.Fatalf("packet 60 too late: played %d, %d FEC, stats %+v", len(got), count(pulls, 0, jbConceal, true), b.Stats())
	}
}

// A gap longer than maxConcealed frames is concealed for maxConcealed frames, then
// silent; the stream resumes after it.
func TestAudioJBLongGap(t *testing.T) {
	for _, dry := range []bool{false, true} {
		var b audioJB
		lost := func(i int) bool { return i >= 50 && i < 80 }
		var delay func(int) time.Duration
		if dry {
			// An outage: everything from 50 on is 600 ms late; nothing is lost.
			lost, delay = nil, func(i int) time.Duration {
				if i >= 50 {
					return 600 * time.Millisecond
				}
				return 0
			}
		}
		ps := stream(150, 0, 0, delay, lost)
		pulls := simulate(&b, ps, 150*20*time.Millisecond+700*time.Millisecond)
		got := played(pulls)
		increasing(t, got)
		if got[len(got)-1] != 149 {
			t.Fatalf("dry %v: the stream did not resume after the gap: last played %d", dry, got[len(got)-1])
		}
		st := b.Stats()
		t.Logf("dry %v: %+v, target %v", dry, st, b.Target())
		if plc := count(pulls, 0, jbConceal, false); plc > maxConcealed || plc == 0 {
			t.Errorf("dry %v: %d frames concealed in a 600 ms gap, want 1..%d", dry, plc, maxConcealed)
		}
		if st.ConcealmentEvents != 1 {
			t.Errorf("dry %v: %d concealment events, want 1", dry, st.ConcealmentEvents)
		}
	}
}

// DTX: the sender sends a 1-byte frame every 400 ms during silence. That is silence,
// not loss.
func TestAudioJBDTX(t *testing.T) {
	var b audioJB
	var ps []jbPkt
	seq, ts, at := uint16(0), uint32(0), time.Duration(0)
	add := func(payload []byte, dur int) {
		ps = append(ps, jbPkt{seq: seq, ts: ts, payload: payload, at: at})
		seq++
		ts += uint32(dur)
		at += tsTime(int64(dur))
	}
	for i := range 50 {
		add(jbPayload(i), jbFrame)
	}
	for range 5 {
		add([]byte{31 << 3}, 20*jbFrame) // a DTX frame, then 380 ms of nothing
	}
	for i := range 50 {
		add(jbPayload(100+i), jbFrame)
	}
	pulls := simulate(&b, ps, at+40*time.Millisecond)
	st := b.Stats()
	silence := count(pulls, 0, jbSilence, false)
	t.Logf("%+v; %d silent pulls", st, silence)
	if st.ConcealedSamples != 0 || st.ConcealmentEvents != 0 {
		t.Errorf("DTX counted as concealment: %+v", st)
	}
	if len(played(pulls)) != len(ps) {
		t.Errorf("played %d of %d", len(played(pulls)), len(ps))
	}
	if silence < 5*18 || silence > 5*19 {
		t.Errorf("%d pulls of silence for 5 DTX pauses of 380 ms", silence)
	}
	if st.InsertedSamplesForDeceleration != 0 || st.RemovedSamplesForAcceleration != 0 {
		t.Errorf("the delay moved across DTX pauses on a clean link: %+v", st)
	}
}

// A sender that restarts its numbering is followed, behind (after lateResync packets)
// or ahead, with its timestamps kept or restarted.
func TestAudioJBSequenceRestart(t *testing.T) {
	for _, tc := range []struct {
		name  string
		seq   uint16
		ts    uint32
		maxLo int // packets of the new stream that may be lost
	}{
		{"behind, same clock", 1000 + 35536, 100 * jbFrame, lateResync + maxConcealed},
		{"ahead, same clock", 1000 + 20000, 100 * jbFrame, 2},
		{"behind, new clock", 1000 + 35536, 123456789, 2 + 20},
		{"ahead, new clock", 1000 + 20000, 3000000000, 2 + 20},
	} {
		var b audioJB
		old := stream(100, 1000, 0, nil, nil)
		fresh := stream(100, tc.seq, tc.ts, nil, nil)
		for i := range fresh {
			fresh[i].at += 2 * time.Second
			fresh[i].payload = jbPayload(1000 + i)
		}
		pulls := simulate(&b, append(old, fresh...), 4*time.Second+100*time.Millisecond)
		n := 0
		for _, i := range played(pulls) {
			if i >= 1000 {
				n++
			}
		}
		t.Logf("%s: %d of the new stream played; %+v", tc.name, n, b.Stats())
		if n < 100-tc.maxLo {
			t.Errorf("%s: played %d of the new stream's 100", tc.name, n)
		}
	}
}

// A flood of random packets: nothing panics and the buffer stays bounded.
func TestAudioJBFlood(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b audioJB
	t0 := time.Unix(1000, 0)
	for i := range 200000 {
		now := t0.Add(time.Duration(i) * 100 * time.Microsecond)
		p := make([]byte, rng.IntN(8))
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		b.insert(uint16(rng.Uint32()), rng.Uint32(), p, now)
		if b.Len() > jbMaxPackets {
			t.Fatalf("%d packets held", b.Len())
		}
		if i%200 == 0 {
			out := b.pull(now)
			if out.Samples < 0 || out.Samples > opusMaxFrame {
				t.Fatalf("pull of %d samples", out.Samples)
			}
		}
	}
}

// FuzzAudioJitterBuffer: a byte string is a script of inserts (sequence step, timestamp
// step, arrival step, payload) and pulls; nothing panics, the buffer stays bounded and
// pulls ask for sane amounts of audio.
// Run: go test -fuzz FuzzAudioJitterBuffer -fuzztime 30s ./devices/
func FuzzAudioJitterBuffer(f *testing.F) {
	f.Add([]byte{1, 0, 0, 20, 3, 1, 0, 20, 3, 0, 1, 3, 0, 20, 3})
	f.Add([]byte{1, 200, 0, 0, 1, 1, 0, 255, 255, 255, 0, 0})
	f.Add([]byte{5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var b audioJB
		now := time.Unix(1000, 0)
		seq, ts := uint16(0), uint32(0)
		for len(data) >= 5 {
			op, ds, dt, dn, n := data[0], data[1], data[2], data[3], int(data[4]%8)
			data = data[5:]
			now = now.Add(time.Duration(dn) * time.Millisecond)
			if op%3 == 0 {
				out := b.pull(now)
				if out.Samples < 0 || out.Samples > opusMaxFrame {
					t.Fatalf("pull of %d samples", out.Samples)
				}
				continue
			}
			seq += uint16(int8(ds))
			ts += uint32(int8(dt)) * 480
			if op%7 == 0 {
				ts += uint32(op) << 24
			}
			n = min(n, len(data))
			b.insert(seq, ts, append([]byte(nil), data[:n]...), now)
			data = data[n:]
			if b.Len() > jbMaxPackets {
				t.Fatalf("%d packets held", b.Len())
			}
		}
	})
}

func TestOpusSamples(t *testing.T) {
	for _, tc := range []struct {
		p    []byte
		want int
	}{
		{nil, 0},
		{[]byte{31 << 3}, 960},       // CELT 20 ms
		{[]byte{15<<3 | 1}, 1920},    // hybrid 20 ms, two frames
		{[]byte{3 << 3}, 2880},       // SILK 60 ms
		{[]byte{3<<3 | 3, 2}, 5760},  // SILK 60 ms x 2
		{[]byte{3<<3 | 3, 3}, 0},     // 180 ms: too long
		{[]byte{16<<3 | 3, 0}, 0},    // no frames
		{[]byte{16<<3 | 3}, 0},       // code 3 without its count
		{[]byte{16 << 3, 1, 2}, 120}, // CELT 2.5 ms
	} {
		if got := opusSamples(tc.p); got != tc.want {
			t.Errorf("opusSamples(% x) = %d, want %d", tc.p, got, tc.want)
		}
	}
}

// The receiver's own goroutine plays on its injected clock and Close waits for it.
func TestAudioReceiverPlayoutClock(t *testing.T) {
	out := &captureOutput{}
	r, err := newAudioReceiver("audio/opus", out, "peer", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	tick := make(chan time.Time)
	handled := make(chan struct{})
	t0 := time.Unix(1000, 0)
	var clock time.Time // written before each packet, read by the goroutine in handle
	r.tick, r.now = tick, func() time.Time { return clock }
	r.onPacket = func() { handled <- struct{}{} }
	go r.run()
	pkts := encodeAudio(t, newToneSource(440, false), 50, false)
	next := t0.Add(5 * time.Millisecond)
	for i, p := range pkts {
		at := t0.Add(time.Duration(i) * 20 * time.Millisecond)
		for ; next.Before(at); next = next.Add(audioTick) {
			tick <- next
		}
		clock = at // the goroutine is waiting in select: no race
		if err := r.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
		<-handled
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	pcm := out.PCM()
	t.Logf("%+v; %d samples written", st, len(pcm))
	if st.Frames < uint64(len(pkts))-3 || st.ConcealedSamples != 0 {
		t.Fatalf("%d packets: %+v", len(pkts), st)
	}
	if len(pcm) < (len(pkts)-3)*chunkSamples {
		t.Fatalf("%d samples written for %d packets", len(pcm), len(pkts))
	}
	if !out.closed {
		t.Fatal("Close did not close the output's input")
	}
	if err := r.WriteRTP(&rtp.Packet{}); err == nil {
		t.Fatal("WriteRTP after Close succeeded")
	}
}

// The playout writes 10 ms per audioTick, also for ticks its ticker dropped; after a
// long stall it does not write the backlog at once.
func TestAudioReceiverTickCatchUp(t *testing.T) {
	out := &captureOutput{}
	r, err := newAudioReceiver("audio/opus", out, "peer", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer r.dec.Close()
	t0 := time.Unix(1000, 0)
	for i := range 100 { // 2 s of silence packets, all there already
		r.jb.insert(uint16(i), uint32(i*jbFrame), []byte{31<<3 | 0, 0xff, 0xfe}, t0)
	}
	start := t0.Add(time.Second) // every packet is due
	r.onTick(start)
	if n := len(out.PCM()); n != audioTickLen {
		t.Fatalf("first tick wrote %d samples, want %d", n, audioTickLen)
	}
	r.onTick(start.Add(4 * audioTick)) // three ticks dropped
	if n := len(out.PCM()); n != 5*audioTickLen {
		t.Fatalf("after 5 ticks' time %d samples, want %d", n, 5*audioTickLen)
	}
	r.onTick(start.Add(4*audioTick + time.Second)) // a stall
	if n := len(out.PCM()); n != 6*audioTickLen {
		t.Fatalf("after a stall %d samples, want %d (no backlog)", n, 6*audioTickLen)
	}
}
