package devices

import "time"

// playout schedules complete frames for decoding at a steady pace, as a browser's
// jitter buffer does: a frame is shown at the time its RTP timestamp says, shifted by
// a delay that covers how late frames have been arriving (network jitter, and the
// round trip of a NACK retransmission). Without it a frame held up 150 ms by a
// retransmission is shown 150 ms late, and Chromium's freeze rule counts every such
// frame as a freeze on a 120 ms RTT link.
//
// The delay is the largest lateness seen, decaying by playoutDecay a frame (30 ms a
// second at 30 fps), within [0, playoutMax]; lateness is a frame's arrival against the
// earliest arrival its timestamp allows (a baseline that follows the fastest frames).
type playout struct {
	queue   []pendingFrame
	started bool
	lastTS  uint32
	ts      int64         // unwrapped timestamp of the last frame (90 kHz)
	base    time.Time     // arrival time of timestamp 0 on the fastest path seen
	delay   time.Duration // current playout delay
}

type pendingFrame struct {
	data    []byte
	due     time.Time
	started time.Time // when its first packet came (jitterBufferDelay)
}

const (
	playoutMax      = 400 * time.Millisecond
	playoutDecay    = time.Millisecond
	playoutMaxQueue = 60 // frames; beyond, the oldest is decoded at once
	// baseDrift lets the baseline follow a sender clock slower than ours.
	baseDrift = 100 * time.Microsecond
)

// add queues a complete frame with RTP timestamp ts that arrived at now (its first
// packet at started) and returns when it is due.
func (p *playout) add(data []byte, ts uint32, started, now time.Time) {
	if !p.started {
		p.started, p.lastTS, p.ts = true, ts, 0
		p.base = now
	} else {
		p.ts += int64(int32(ts - p.lastTS))
		p.lastTS = ts
	}
	at := time.Duration(p.ts) * time.Second / 90000
	rel := now.Add(-at) // arrival of timestamp 0, by this frame
	if rel.Before(p.base) {
		p.base = rel
	} else {
		p.base = p.base.Add(baseDrift)
		if p.base.After(rel) {
			p.base = rel
		}
	}
	late := rel.Sub(p.base)
	if late > p.delay {
		p.delay = min(late, playoutMax)
	} else if p.delay > playoutDecay {
		p.delay -= playoutDecay
	}
	due := p.base.Add(at + p.delay)
	if due.After(now.Add(playoutMax)) { // a timestamp jump (sender restart): no waiting
		p.started = false
		due = now
	}
	p.queue = append(p.queue, pendingFrame{data: append([]byte(nil), data...), due: due, started: started})
}

// next returns the time the first queued frame is due (ok false when none).
func (p *playout) next() (time.Time, bool) {
	if len(p.queue) == 0 {
		return time.Time{}, false
	}
	return p.queue[0].due, true
}

// pop returns the frames due at now (and the oldest beyond playoutMaxQueue).
func (p *playout) pop(now time.Time, out []pendingFrame) []pendingFrame {
	for len(p.queue) > 0 && (!p.queue[0].due.After(now) || len(p.queue) > playoutMaxQueue) {
		out = append(out, p.queue[0])
		p.queue[0] = pendingFrame{}
		p.queue = p.queue[1:]
	}
	return out
}
