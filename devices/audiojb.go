package devices

import (
	"slices"
	"time"
)

// audioJB is the audio jitter buffer, after WebRTC's NetEQ, cut down to what an Opus
// call needs. Packets go in as they arrive (insert); every 20 ms the playout asks what
// to play next (pull): a packet to decode, a missing packet to conceal (PLC, or FEC
// from the packet after it), silence (a DTX pause), or nothing (not started, or
// re-buffering after a long outage).
//
// It plays the sender's timeline: a packet is due a target delay after the time its RTP
// timestamp says it would arrive on the fastest path seen lately (the "base"). The
// target is a high quantile of how much later than that packets came, plus one frame,
// between jbMinTarget and jbMaxTarget; so a link with 50 ms of jitter is played about
// 70 ms behind the fastest packets and no packet is missing when its time comes, while
// a clean link is played 20 ms behind. When the actual playout drifts from the target
// (the target moved, a loss was concealed), a frame is inserted (a PLC frame, or
// silence in a DTX pause) or dropped, at most one every few frames: NetEQ's
// deceleration and acceleration without its time stretching.
//
// It is pure: no goroutines, no clock; the caller passes now. Not safe for concurrent
// use. Memory is bounded whatever a peer sends: at most jbMaxPackets are held.
type audioJB struct {
	held []jbPacket // sorted by seq

	// Unwrapping: the last inserted packet's numbers, wire and unwrapped.
	started      bool
	wireSeq      uint16
	seqU         int64
	wireTS       uint32
	tsU          int64
	epoch        time.Time // arrival of the first packet; d values count from it
	late         int       // packets in a row behind the playout; see lateResync
	window       [jbWindow]time.Duration
	nWin, iWin   int
	base         time.Duration // the smallest d in window: the fastest path
	hist         [jbBuckets]float64
	target       time.Duration
	playing      bool
	haveLast     bool
	lastSeq      int64 // the last packet played (or skipped)
	playTS       int64 // the sender's timestamp of the next sample to play
	lastDur      int   // samples of the last decoded packet
	lastDTX      bool  // the last decoded packet was an Opus DTX frame
	expanding    bool  // concealing because the buffer ran dry
	concealRun   int   // frames concealed in a row
	silentRun    int   // frames of DTX silence in a row with nothing held
	sinceStretch int   // pulls since the last insertion or removal

	stats jbStats
}

// jbPacket is one held packet: unwrapped numbers, when it came, its Opus payload.
type jbPacket struct {
	seq     int64
	ts      int64
	arrival time.Time
	payload []byte
	dur     int // samples, from the Opus TOC
}

// jbStats are the buffer's counters, as getStats (inbound-rtp, audio) names them.
type jbStats struct {
	// Samples that came out of the buffer from packets (decoded or rebuilt from FEC),
	// the sum over them of how long each sat in the buffer, and of the target delay
	// when it left.
	EmittedCount uint64
	Delay        time.Duration
	TargetDelay  time.Duration
	// Concealment: samples made up for missing packets (PLC when one was lost or the
	// buffer ran dry; not FEC), and how many runs of them.
	ConcealedSamples  uint64
	ConcealmentEvents uint64
	// Frames inserted to raise the delay, dropped to lower it.
	InsertedSamplesForDeceleration uint64
	RemovedSamplesForAcceleration  uint64
	// Packets that came after their time had passed, duplicates, and overflow.
	PacketsDiscarded uint64
}

const (
	jbClock      = 48000 // Opus RTP clock
	jbFrame      = 960   // samples per pull: 20 ms
	jbMinTarget  = 20 * time.Millisecond
	jbMaxTarget  = 300 * time.Millisecond
	jbMaxPackets = 50  // 1 s of 20 ms packets; more than jbMaxTarget
	jbWindow     = 128 // packets over which the fastest path is found (~2.5 s)
	jbBucket     = 5 * time.Millisecond
	jbBuckets    = 80 // 0-400 ms of relative delay
	// jbForget is each packet's weight against the history: the histogram forgets with
	// a time constant of 200 packets, 4 s.
	jbForget = 0.995
	// jbQuantile of relative delays the target covers: a packet in 30 later than that
	// is concealed rather than waited for.
	jbQuantile = 0.97
	// jbJump is a change of the fastest path that is no jitter but a new timeline: the
	// sender restarted its timestamps, or paused without advancing them.
	jbJump = time.Second
	// Deceleration and acceleration are spaced: at most one frame every so many pulls
	// (10% and 5% of the time), so the adaptation is not heard as stutter.
	jbDecelEvery = 10
	jbAccelEvery = 20
	// jbDTXHold is how long silence is played after a DTX frame with nothing to
	// follow (a DTX sender refreshes every 400 ms); after it the buffer re-buffers.
	jbDTXHold = 50
)

// jbKind is what the playout does with a pull's result.
type jbKind uint8

const (
	jbNone    jbKind = iota // write nothing: not started, re-buffering, a long gap
	jbDecode                // decode Payload (after decoding and discarding Drop, if set)
	jbConceal               // PLC for Samples, or FEC from Payload when it is set
	jbInsert                // PLC for Samples, not for a loss: deceleration
	jbSilence               // Samples of silence: a DTX pause, not a loss
)

// jbOut is a pull's result.
type jbOut struct {
	Kind    jbKind
	Payload []byte
	Drop    []byte // acceleration: a frame to decode (keeping the decoder's state) and drop
	Samples int    // for jbConceal, jbInsert and jbSilence
}

// insert takes a packet that arrived at now.
func (b *audioJB) insert(seq uint16, ts uint32, payload []byte, now time.Time) {
	if !b.started {
		b.started, b.wireSeq, b.wireTS, b.seqU, b.tsU, b.epoch = true, seq, ts, 0, 0, now
		b.target = jbMinTarget
	} else {
		b.seqU += int64(int16(seq - b.wireSeq))
		b.tsU += int64(int32(ts - b.wireTS))
		b.wireSeq, b.wireTS = seq, ts
	}
	p := jbPacket{seq: b.seqU, ts: b.tsU, arrival: now, payload: payload, dur: opusSamples(payload)}
	if !b.measure(p) {
		// A new timeline: what is held belongs to the old one, and the new one is
		// buffered from the start.
		b.stats.PacketsDiscarded += uint64(len(b.held))
		b.held = b.held[:0]
		b.playing, b.haveLast, b.late = false, false, 0
	}
	if b.haveLast && p.seq <= b.lastSeq {
		if b.late++; b.late < lateResync {
			b.stats.PacketsDiscarded++
			return // its time has passed
		}
		// The sender restarted its numbering (and kept its timestamps): follow it.
		b.stats.PacketsDiscarded += uint64(len(b.held))
		b.held = b.held[:0]
		b.playing, b.haveLast = false, false
	}
	b.late = 0
	i, found := slices.BinarySearchFunc(b.held, p.seq, func(h jbPacket, s int64) int { return cmpInt64(h.seq, s) })
	if found {
		b.stats.PacketsDiscarded++
		return // duplicate
	}
	b.held = slices.Insert(b.held, i, p)
	if len(b.held) > jbMaxPackets {
		// Far more than the target: a burst after a stall, or a peer flooding us.
		// The oldest goes; the playout sees a gap.
		b.held = slices.Delete(b.held, 0, 1)
		b.stats.PacketsDiscarded++
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// tsTime is the time of an unwrapped timestamp from the start of the timeline.
func tsTime(ts int64) time.Duration {
	// In two parts, so that no product overflows in a call of any length.
	return time.Duration(ts/jbClock)*time.Second + time.Duration(ts%jbClock)*time.Second/jbClock
}

// measure feeds p's arrival to the delay estimate: d is its arrival against its
// timestamp, the base is the smallest d of the last jbWindow packets (the fastest path;
// it follows clock drift as old packets leave the window), and p's delay relative to
// the base goes into a decaying histogram whose jbQuantile, plus a frame, is the
// target. It returns false when p starts a new timeline (d more than jbJump from the
// base): then the history of the fastest path starts again from p.
func (b *audioJB) measure(p jbPacket) bool {
	d := p.arrival.Sub(b.epoch) - tsTime(p.ts)
	if b.nWin > 0 && (d < b.base-jbJump || d > b.base+jbJump) {
		b.nWin, b.iWin = 0, 0
		b.push(d)
		return false
	}
	b.push(d)
	rel := d - b.base
	bucket := min(int(rel/jbBucket), jbBuckets-1)
	for i := range b.hist {
		b.hist[i] *= jbForget
	}
	b.hist[bucket] += 1 - jbForget
	var sum float64
	for _, v := range b.hist {
		sum += v
	}
	var acc float64
	q := jbBuckets - 1
	for i, v := range b.hist {
		if acc += v; acc >= jbQuantile*sum {
			q = i
			break
		}
	}
	// The bucket's upper edge: a delay in it is covered.
	b.target = min(max(time.Duration(q+1)*jbBucket+jbFrame*time.Second/jbClock, jbMinTarget), jbMaxTarget)
	return true
}

// push adds d to the window and recomputes the base.
func (b *audioJB) push(d time.Duration) {
	b.window[b.iWin] = d
	b.iWin = (b.iWin + 1) % jbWindow
	b.nWin = min(b.nWin+1, jbWindow)
	b.base = slices.Min(b.window[:b.nWin]) // filled from index 0 after a reset
}

// ideal is the sender's timestamp that should be playing at now for the target delay.
func (b *audioJB) ideal(now time.Time) int64 {
	d := now.Sub(b.epoch) - b.base - b.target
	return int64(d/time.Second)*jbClock + int64(d%time.Second)*jbClock/int64(time.Second)
}

// Target is the current target delay.
func (b *audioJB) Target() time.Duration { return b.target }

// Len is how many packets are held.
func (b *audioJB) Len() int { return len(b.held) }

// Stats returns the counters.
func (b *audioJB) Stats() jbStats { return b.stats }

// pull returns what to play at now, for about jbFrame samples.
func (b *audioJB) pull(now time.Time) jbOut {
	b.sinceStretch++
	if !b.playing {
		return b.startPlayout(now)
	}
	// Packets behind the playout point that were played or given up on.
	for len(b.held) > 0 && b.haveLast && b.held[0].seq <= b.lastSeq {
		b.held = b.held[1:]
	}
	if len(b.held) == 0 {
		return b.dry()
	}
	q := &b.held[0]
	gap := q.seq - b.lastSeq - 1 // packets missing before q
	if !b.haveLast {
		gap = 0
	}
	ahead := q.ts - b.playTS // samples until q's time
	e := b.playTS - b.ideal(now)
	switch {
	case gap == 0 && ahead >= jbFrame:
		// The sender paused (DTX): silence until q's time. A pause is where the delay
		// moves for free: shortened by as much as the playout is behind its target,
		// held a frame longer when it is ahead.
		if e < -jbFrame/2 {
			skip := min(ahead, -e)
			b.playTS += skip
			if ahead -= skip; ahead < jbFrame {
				return b.decode(now)
			}
		}
		if e > jbFrame/2 && b.sinceStretch >= jbDecelEvery {
			b.sinceStretch = 0
			b.stats.InsertedSamplesForDeceleration += jbFrame
			return jbOut{Kind: jbSilence, Samples: jbFrame}
		}
		n := min(ahead, jbFrame)
		b.playTS += n
		return jbOut{Kind: jbSilence, Samples: int(n)}
	case gap == 0 && ahead < 0 && !b.expanding && q.ts+int64(b.durOf(q)) <= b.playTS:
		// Its time passed while a gap was concealed: too late.
		b.lastSeq = q.seq
		b.held = b.held[1:]
		b.stats.PacketsDiscarded++
		return b.pull(now)
	case gap > 0 && ahead > 0:
		// Packets are missing before q (lost, or still on their way: a reordered one
		// that comes before its time is played). After a dry spell the part of the gap
		// already concealed counts in the same run.
		return b.concealGap(q, ahead, now)
	}
	// q is next (or the gap before it is in the past): play it, unless the playout
	// strays from the target.
	if e > jbFrame/2 && b.sinceStretch >= jbDecelEvery {
		b.sinceStretch = 0
		b.stats.InsertedSamplesForDeceleration += jbFrame
		if b.lastDTX {
			return jbOut{Kind: jbSilence, Samples: jbFrame}
		}
		return jbOut{Kind: jbInsert, Samples: jbFrame}
	}
	if e < -3*jbFrame/2 && b.sinceStretch >= jbAccelEvery && len(b.held) > 1 && b.held[1].seq == q.seq+1 && !b.expanding {
		b.sinceStretch = 0
		drop := b.held[0]
		b.held = b.held[1:]
		b.stats.RemovedSamplesForAcceleration += uint64(b.durOf(&drop))
		f := b.decode(now)
		f.Drop = drop.payload
		return f
	}
	return b.decode(now)
}

// startPlayout starts (or restarts after re-buffering) once the oldest held packet is
// due.
func (b *audioJB) startPlayout(now time.Time) jbOut {
	if len(b.held) == 0 {
		return jbOut{}
	}
	q := b.held[0]
	if b.ideal(now) < q.ts {
		return jbOut{}
	}
	b.playing, b.playTS = true, q.ts
	b.expanding, b.concealRun, b.silentRun = false, 0, 0
	if !b.haveLast {
		b.haveLast, b.lastSeq = true, q.seq-1
	}
	return b.decode(now)
}

// decode plays the first held packet.
func (b *audioJB) decode(now time.Time) jbOut {
	q := b.held[0]
	b.held = b.held[1:]
	n := b.durOf(&q)
	b.lastDur = n
	b.haveLast, b.lastSeq = true, q.seq
	b.playTS = q.ts + int64(n)
	b.lastDTX = len(q.payload) <= 2
	b.expanding, b.concealRun, b.silentRun = false, 0, 0
	b.emit(q.arrival, n, now)
	return jbOut{Kind: jbDecode, Payload: q.payload, Samples: n}
}

// emit counts n samples of a packet that arrived at arrival leaving at now.
func (b *audioJB) emit(arrival time.Time, n int, now time.Time) {
	b.stats.EmittedCount += uint64(n)
	b.stats.Delay += time.Duration(n) * now.Sub(arrival)
	b.stats.TargetDelay += time.Duration(n) * b.target
}

// durOf is p's duration, from its TOC or, for a packet that does not say, the last.
func (b *audioJB) durOf(p *jbPacket) int {
	if p.dur > 0 {
		return p.dur
	}
	if b.lastDur > 0 {
		return b.lastDur
	}
	return jbFrame
}

// concealGap fills the time before q, ahead samples, for packets that are missing: PLC
// for a frame, or for the last stretch FEC from q; after a DTX frame it is silence (a
// lost DTX refresh is no speech), and beyond maxConcealed frames nothing is played.
func (b *audioJB) concealGap(q *jbPacket, ahead int64, now time.Time) jbOut {
	if b.lastDTX {
		n := min(ahead, jbFrame)
		b.playTS += n
		return jbOut{Kind: jbSilence, Samples: int(n)}
	}
	if ahead <= jbFrame {
		// The last missing frame, right before q: q's in-band FEC rebuilds it.
		n := roundPLC(ahead)
		b.playTS, b.lastSeq = q.ts, q.seq-1
		b.concealRun++            // in the run, but no concealment: FEC is the sender's audio
		b.emit(q.arrival, n, now) // rebuilt from q: it left the buffer with q's data
		return jbOut{Kind: jbConceal, Payload: q.payload, Samples: n}
	}
	if b.concealRun >= maxConcealed {
		b.playTS += jbFrame
		return jbOut{}
	}
	b.playTS += jbFrame
	b.countConceal(jbFrame)
	return jbOut{Kind: jbConceal, Samples: jbFrame}
}

// dry handles a pull with nothing held.
func (b *audioJB) dry() jbOut {
	if b.lastDTX {
		if b.silentRun++; b.silentRun > jbDTXHold {
			b.playing = false
			return jbOut{}
		}
		b.playTS += jbFrame
		return jbOut{Kind: jbSilence, Samples: jbFrame}
	}
	if b.concealRun >= maxConcealed {
		// A long outage: stop, and re-buffer to the target when packets come again.
		b.playing, b.expanding = false, false
		return jbOut{}
	}
	b.expanding = true
	b.playTS += jbFrame
	b.countConceal(jbFrame)
	return jbOut{Kind: jbConceal, Samples: jbFrame}
}

// countConceal counts n concealed samples and, at the start of a run, an event.
func (b *audioJB) countConceal(n int) {
	if b.concealRun == 0 {
		b.stats.ConcealmentEvents++
	}
	b.concealRun++
	b.stats.ConcealedSamples += uint64(n)
}

// roundPLC rounds a concealment length to what libopus takes: whole 2.5 ms steps,
// at least one, at most a frame.
func roundPLC(n int64) int {
	const step = jbClock / 400
	return int(min(max(n/step, 1)*step, jbFrame))
}

// opusSamples is the duration (samples at 48 kHz) of an Opus packet, from its TOC byte
// (RFC 6716, 3.1); 0 when it does not parse.
func opusSamples(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	cfg := p[0] >> 3
	var per int
	switch {
	case cfg < 12: // SILK: 10, 20, 40, 60 ms
		per = [4]int{480, 960, 1920, 2880}[cfg&3]
	case cfg < 16: // hybrid: 10, 20 ms
		per = [2]int{480, 960}[cfg&1]
	default: // CELT: 2.5, 5, 10, 20 ms
		per = [4]int{120, 240, 480, 960}[cfg&3]
	}
	frames := 1
	switch p[0] & 3 {
	case 1, 2:
		frames = 2
	case 3:
		if len(p) < 2 {
			return 0
		}
		frames = int(p[1] & 0x3f)
	}
	if n := per * frames; n > 0 && n <= opusMaxFrame {
		return n
	}
	return 0
}
