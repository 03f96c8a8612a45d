package devices

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// Receiver is an RTPSink with its own goroutine; Close stops it and waits.
type Receiver interface {
	RTPSink
	Close() error
}

// Queue sizes between the engine's read loop and a receiver's goroutine. A 720p key
// frame is about 60-100 packets; 512 absorbs several while the decoder is busy, and
// anything beyond is dropped (and recovered with a key frame) rather than blocking pion.
const (
	videoQueue = 512
	audioQueue = 64
)

// Key frame requests are spaced: a burst of losses asks once, and a sender that ignores
// us is asked again every keyFrameRetry.
const (
	keyFrameMinGap = 250 * time.Millisecond
	keyFrameRetry  = time.Second
)

// lateResync is how many packets in a row may arrive behind the expected sequence number
// before a receiver concludes that the sender restarted its numbering and follows it.
// Senders do restart: pion's ReplaceTrack binds a new packetizer that starts at a random
// sequence number on the same SSRC. Below the limit such packets are late duplicates or
// retransmissions and are dropped; without the limit a restart that lands "behind" (half
// of them) would silence the stream until the numbers wrapped, up to 32768 packets later.
// Retransmissions are interleaved with new packets, so 16 late ones in a row are not
// retransmissions; for audio, 16 packets are 320 ms of silence.
const lateResync = 16

// rtpQueue is the non-blocking hand-off shared by all receivers: WriteRTP copies the
// packet into a bounded channel or drops it.
type rtpQueue struct {
	in      chan *rtp.Packet
	stop    chan struct{}
	done    chan struct{}
	closed  atomic.Bool
	dropped atomic.Uint64
	once    sync.Once
}

func newRTPQueue(n int) rtpQueue {
	return rtpQueue{in: make(chan *rtp.Packet, n), stop: make(chan struct{}), done: make(chan struct{})}
}

// WriteRTP queues a copy of p; it never blocks. A full queue drops the packet, and the
// consumer sees the sequence gap and recovers.
func (q *rtpQueue) WriteRTP(p *rtp.Packet) error {
	if q.closed.Load() {
		return ErrClosed
	}
	if p == nil {
		return nil
	}
	select {
	case q.in <- p.Clone():
	default:
		q.dropped.Add(1)
	}
	return nil
}

// shutdown stops the consumer and waits for it.
func (q *rtpQueue) shutdown() {
	q.once.Do(func() {
		q.closed.Store(true)
		close(q.stop)
	})
	<-q.done
}

// VideoReceiverStats are counters of a video receiver, for tests and a status line.
type VideoReceiverStats struct {
	Frames            uint64 // decoded and stored
	Dropped           uint64 // packets dropped because the queue was full
	Lost              uint64 // sequence gaps seen
	DecodeErrors      uint64
	KeyFrameRequests  uint64
	SkippedWaitingKey uint64 // complete frames skipped while waiting for a key frame
	// As getStats names them (inbound-rtp): freezes of the decoded picture by
	// Chromium's definition (FreezeMeter), and the time frames waited between their
	// first packet and their decode, summed (jitterBufferDelay; divide by Frames).
	FreezeCount          uint64
	TotalFreezesDuration time.Duration
	JitterBufferDelay    time.Duration
}

// VideoReceiver turns a remote VP8 RTP stream into frames in a FrameSlot.
type VideoReceiver struct {
	rtpQueue
	slot  *FrameSlot
	reqKF func()
	log   *slog.Logger

	// Owned by the goroutine.
	reorder reorderBuffer
	dec     *vp8Decoder
	frame   []byte
	inFrame bool
	frameTS uint32
	nextSeq uint16
	haveSeq bool
	needKey bool
	lastReq time.Time
	started time.Time // when the frame being assembled had its first packet
	freeze  FreezeMeter
	// playout paces decoding (playout.go); nil when frames are decoded as they
	// complete (tests that feed handle directly).
	playout *playout
	due     []pendingFrame
	onFrame func() // tests: called after each stored frame
	statsMu sync.Mutex
	stats   VideoReceiverStats // guarded by statsMu
}

// NewVideoReceiver decodes a remote video track (mime "video/VP8") into slot. It calls
// requestKeyFrame when the decoder needs one (at start, after loss or corruption), from
// its own goroutine, never from WriteRTP.
func NewVideoReceiver(mime string, slot *FrameSlot, requestKeyFrame func(), log *slog.Logger) (Receiver, error) {
	if !strings.EqualFold(mime, webrtc.MimeTypeVP8) {
		return nil, fmt.Errorf("video receiver for %q: %w", mime, ErrUnsupportedCodec)
	}
	if slot == nil {
		return nil, fmt.Errorf("video receiver: nil frame slot")
	}
	if requestKeyFrame == nil {
		requestKeyFrame = func() {}
	}
	if log == nil {
		log = slog.Default()
	}
	dec, err := newVP8Decoder()
	if err != nil {
		return nil, fmt.Errorf("video receiver: %w", err)
	}
	r := &VideoReceiver{rtpQueue: newRTPQueue(videoQueue), slot: slot, reqKF: requestKeyFrame, log: log, dec: dec, needKey: true, playout: &playout{}}
	// Owned by r; ends on Close.
	go r.run()
	return r, nil
}

// Stats returns the receiver's counters.
func (r *VideoReceiver) Stats() VideoReceiverStats {
	r.statsMu.Lock()
	defer r.statsMu.Unlock()
	s := r.stats
	s.Dropped = r.dropped.Load()
	s.FreezeCount, s.TotalFreezesDuration, _ = r.freeze.Freezes()
	return s
}

func (r *VideoReceiver) count(f func(*VideoReceiverStats)) {
	r.statsMu.Lock()
	f(&r.stats)
	r.statsMu.Unlock()
}

// Close stops the decoder goroutine and waits for it. Idempotent.
func (r *VideoReceiver) Close() error {
	r.shutdown()
	return nil
}

func (r *VideoReceiver) run() {
	defer close(r.done)
	defer r.dec.Close()
	r.requestKeyFrame(true)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due <-chan time.Time
		if r.playout != nil {
			if at, ok := r.playout.next(); ok {
				timer.Reset(time.Until(at))
				due = timer.C
			}
		}
		select {
		case <-r.stop:
			return
		case p := <-r.in:
			for _, q := range r.reorder.push(p, time.Now()) {
				r.handle(q)
			}
		case <-due:
		}
		if r.playout != nil {
			r.due = r.playout.pop(time.Now(), r.due[:0])
			for i, f := range r.due {
				r.decode(f.data, f.started)
				r.due[i] = pendingFrame{}
			}
		}
	}
}

// requestKeyFrame asks the sender for a key frame unless one was asked for very recently
// (force bypasses the spacing for the first request).
func (r *VideoReceiver) requestKeyFrame(force bool) {
	now := time.Now()
	if !force && now.Sub(r.lastReq) < keyFrameMinGap {
		return
	}
	r.lastReq = now
	r.count(func(s *VideoReceiverStats) { s.KeyFrameRequests++ })
	r.reqKF()
}

// lose drops the frame being assembled and waits for a key frame: decoding frames that
// refer to lost data only smears garbage over the picture.
func (r *VideoReceiver) lose() {
	r.frame, r.inFrame = r.frame[:0], false
	r.needKey = true
	r.requestKeyFrame(false)
}

// handle assembles VP8 frames (RFC 7741): a frame starts at a packet with S=1 and
// partition index 0 and ends at the packet with the RTP marker bit. Packets must come in
// sequence order (the reorder buffer sees to it); any jump, a gap or the sender
// restarting its numbering, counts as loss.
func (r *VideoReceiver) handle(p *rtp.Packet) {
	if r.haveSeq && p.SequenceNumber != r.nextSeq {
		r.count(func(s *VideoReceiverStats) { s.Lost++ })
		r.lose()
	}
	r.haveSeq, r.nextSeq = true, p.SequenceNumber+1
	if len(p.Payload) == 0 {
		return // padding
	}
	var vp codecs.VP8Packet
	payload, err := vp.Unmarshal(p.Payload)
	if err != nil || len(payload) == 0 {
		r.count(func(s *VideoReceiverStats) { s.DecodeErrors++ })
		r.lose()
		return
	}
	if vp.S == 1 && vp.PID == 0 {
		if r.inFrame { // the previous frame never saw its marker
			r.lose()
		}
		r.frame, r.inFrame, r.frameTS = append(r.frame[:0], payload...), true, p.Timestamp
		r.started = time.Now()
	} else {
		if !r.inFrame || p.Timestamp != r.frameTS {
			if r.inFrame {
				r.lose()
			}
			return
		}
		if len(r.frame)+len(payload) > 8<<20 {
			r.lose() // no sane VP8 frame is this big
			return
		}
		r.frame = append(r.frame, payload...)
	}
	if !p.Marker {
		return
	}
	r.inFrame = false
	if r.playout != nil {
		r.playout.add(r.frame, r.frameTS, r.started, time.Now())
		return
	}
	r.decode(r.frame, r.started)
}

func (r *VideoReceiver) decode(frame []byte, started time.Time) {
	key := isVP8KeyFrame(frame)
	if r.needKey && !key {
		r.count(func(s *VideoReceiverStats) { s.SkippedWaitingKey++ })
		if time.Since(r.lastReq) >= keyFrameRetry {
			r.requestKeyFrame(false)
		}
		return
	}
	img, corrupt, err := r.dec.Decode(frame)
	if err != nil || corrupt {
		r.count(func(s *VideoReceiverStats) { s.DecodeErrors++ })
		r.log.Debug("vp8 decode", "err", err, "corrupt", corrupt, "key", key, "size", len(frame))
		r.lose()
		return
	}
	if key {
		r.needKey = false
	}
	if img == nil {
		return
	}
	r.slot.Store(img)
	now := time.Now()
	r.freeze.Frame(now)
	r.count(func(s *VideoReceiverStats) {
		s.Frames++
		s.JitterBufferDelay += now.Sub(started)
	})
	if r.onFrame != nil {
		r.onFrame()
	}
}

// AudioReceiver turns a remote Opus RTP stream into PCM for an AudioOutput input.
// Packets go into a jitter buffer (audiojb.go) as they arrive; a playout clock takes
// 20 ms from it at a time and writes the decoded, FEC-rebuilt or concealed audio to
// the output in audioTick pieces, so the output's own buffer can stay small.
type AudioReceiver struct {
	rtpQueue
	out PCMWriter
	log *slog.Logger
	// tick drives the playout; now is the clock. Tests inject both.
	tick     <-chan time.Time
	now      func() time.Time
	stopTick func()
	onPacket func() // tests: called after each packet is in the jitter buffer

	// Owned by the goroutine.
	dec   *opusDecoder
	jb    audioJB
	carry []int16   // decoded audio not yet written: the rest of a 20 ms frame
	next  time.Time // when the next audioTick of audio is due
	zeros []int16

	frames    atomic.Uint64
	concealed atomic.Uint64
	fec       atomic.Uint64 // lost frames recovered from the next packet's FEC
	// As getStats names them: every sample played out (decoded, recovered, concealed
	// or DTX silence), and the concealed ones.
	samples          atomic.Uint64
	concealedSamples atomic.Uint64
	jbMu             sync.Mutex
	jbStats          jbStats       // guarded by jbMu; a copy of jb's after each pull
	jbTarget         time.Duration // guarded by jbMu
}

// AudioReceiverStats are an audio receiver's counters.
type AudioReceiverStats struct {
	Frames, Concealed, FECRecovered        uint64
	TotalSamplesReceived, ConcealedSamples uint64
	// As getStats names them (inbound-rtp, audio). JitterBufferDelay is summed over
	// the samples that left the jitter buffer from packets (JitterBufferEmittedCount),
	// as is JitterBufferTargetDelay; divide by the count for a mean. Concealment
	// events are runs of concealed samples.
	JitterBufferDelay              time.Duration
	JitterBufferTargetDelay        time.Duration
	JitterBufferEmittedCount       uint64
	ConcealmentEvents              uint64
	InsertedSamplesForDeceleration uint64
	RemovedSamplesForAcceleration  uint64
	PacketsDiscarded               uint64
	// Target is the jitter buffer's current target delay.
	Target time.Duration
}

// Stats returns the receiver's counters.
func (r *AudioReceiver) Stats() AudioReceiverStats {
	r.jbMu.Lock()
	j, target := r.jbStats, r.jbTarget
	r.jbMu.Unlock()
	return AudioReceiverStats{
		Frames: r.frames.Load(), Concealed: r.concealed.Load(), FECRecovered: r.fec.Load(),
		TotalSamplesReceived: r.samples.Load(), ConcealedSamples: r.concealedSamples.Load(),
		JitterBufferDelay: j.Delay, JitterBufferTargetDelay: j.TargetDelay, JitterBufferEmittedCount: j.EmittedCount,
		ConcealmentEvents: j.ConcealmentEvents, InsertedSamplesForDeceleration: j.InsertedSamplesForDeceleration,
		RemovedSamplesForAcceleration: j.RemovedSamplesForAcceleration, PacketsDiscarded: j.PacketsDiscarded,
		Target: target,
	}
}

// audioChannels is what remote Opus is decoded to: mono. Call audio is speech; the mixer
// spreads mono to the output's channels.
const audioChannels = 1

// maxConcealed is the longest gap (in 20 ms frames) filled by Opus packet-loss
// concealment; longer gaps are left silent rather than filled with a synthetic drone.
const maxConcealed = 5

// audioTick is the playout's period: half a pull, so the output gets 10 ms pieces and
// its buffer (mixPrebuffer) need cover only a device period and the timer's jitter.
const (
	audioTick    = 10 * time.Millisecond
	audioTickLen = sampleRate / 100 * audioChannels
	audioCatchUp = 5 * audioTick
)

// NewAudioReceiver decodes a remote audio track (mime "audio/opus") into a new input of
// out named name.
func NewAudioReceiver(mime string, out AudioOutput, name string, log *slog.Logger) (Receiver, error) {
	r, err := newAudioReceiver(mime, out, name, log)
	if err != nil {
		return nil, err
	}
	t := time.NewTicker(audioTick)
	r.tick, r.now, r.stopTick = t.C, time.Now, t.Stop
	// Owned by r; ends on Close.
	go r.run()
	return r, nil
}

// newAudioReceiver builds a receiver without its goroutine or clock.
func newAudioReceiver(mime string, out AudioOutput, name string, log *slog.Logger) (*AudioReceiver, error) {
	if !strings.EqualFold(mime, webrtc.MimeTypeOpus) {
		return nil, fmt.Errorf("audio receiver for %q: %w", mime, ErrUnsupportedCodec)
	}
	if out == nil {
		return nil, fmt.Errorf("audio receiver: nil output")
	}
	if log == nil {
		log = slog.Default()
	}
	dec, err := newOpusDecoder(audioChannels)
	if err != nil {
		return nil, fmt.Errorf("audio receiver: %w", err)
	}
	in, err := out.NewInput(name, audioChannels)
	if err != nil {
		dec.Close()
		return nil, fmt.Errorf("audio receiver %s: %w", name, err)
	}
	return &AudioReceiver{rtpQueue: newRTPQueue(audioQueue), out: in, log: log, dec: dec, stopTick: func() {}}, nil
}

// Frames returns how many packets were decoded and how many frames were concealed.
func (r *AudioReceiver) Frames() (decoded, concealed uint64) {
	return r.frames.Load(), r.concealed.Load()
}

// Close stops the goroutine, waits for it and removes the output's input. Idempotent.
func (r *AudioReceiver) Close() error {
	r.shutdown()
	return nil
}

func (r *AudioReceiver) run() {
	defer close(r.done)
	defer r.dec.Close()
	defer r.out.Close()
	defer r.stopTick()
	for {
		select {
		case <-r.stop:
			return
		case p := <-r.in:
			r.handle(p, r.now())
			if r.onPacket != nil {
				r.onPacket()
			}
		case t := <-r.tick:
			r.onTick(t)
		}
	}
}

// onTick runs the playout for every audioTick up to t: a ticker drops ticks when its
// reader is late (a busy machine), and each dropped tick would be 10 ms the output
// runs short. After a longer stall the backlog is skipped rather than written at once.
func (r *AudioReceiver) onTick(t time.Time) {
	if r.next.IsZero() || t.Sub(r.next) > audioCatchUp {
		r.next = t
	}
	for !r.next.After(t) {
		r.playout(r.next)
		r.next = r.next.Add(audioTick)
	}
}

// handle takes a packet that arrived at now.
func (r *AudioReceiver) handle(p *rtp.Packet, now time.Time) {
	r.jb.insert(p.SequenceNumber, p.Timestamp, p.Payload, now)
}

// playout writes audioTick of audio, taking the next 20 ms from the jitter buffer when
// what is left of the last is shorter. When the buffer has nothing (not started,
// re-buffering, a long gap) nothing is written, and the output plays silence.
func (r *AudioReceiver) playout(now time.Time) {
	if len(r.carry) < audioTickLen {
		r.pull(now)
	}
	n := min(audioTickLen, len(r.carry))
	if n == 0 {
		return
	}
	if err := r.out.WritePCM(r.carry[:n]); err != nil {
		r.log.Debug("audio output", "err", err)
	}
	r.carry = append(r.carry[:0], r.carry[n:]...)
}

// pull takes one step of the jitter buffer and appends its audio to carry.
func (r *AudioReceiver) pull(now time.Time) {
	f := r.jb.pull(now)
	r.jbMu.Lock()
	r.jbStats, r.jbTarget = r.jb.Stats(), r.jb.Target()
	r.jbMu.Unlock()
	switch f.Kind {
	case jbNone:
		return
	case jbDecode:
		if f.Drop != nil {
			_, _ = r.dec.Decode(f.Drop, 0) // acceleration: keep the decoder's state, drop the audio
		}
		pcm, err := r.dec.Decode(f.Payload, 0)
		if err != nil {
			r.log.Debug("opus decode", "err", err, "size", len(f.Payload))
			return
		}
		r.frames.Add(1)
		r.emit(pcm, false)
	case jbConceal:
		if f.Payload != nil {
			if pcm, err := r.dec.DecodeFEC(f.Payload, f.Samples); err == nil {
				r.fec.Add(1)
				r.emit(pcm, false)
			}
			return
		}
		if pcm, err := r.dec.Decode(nil, f.Samples); err == nil {
			r.concealed.Add(1)
			r.emit(pcm, true)
		}
	case jbInsert:
		if pcm, err := r.dec.Decode(nil, f.Samples); err == nil {
			r.emit(pcm, false)
		}
	case jbSilence:
		if cap(r.zeros) < f.Samples*audioChannels {
			r.zeros = make([]int16, f.Samples*audioChannels)
		}
		r.emit(r.zeros[:f.Samples*audioChannels], false)
	}
}

// emit queues pcm for the output and counts it.
func (r *AudioReceiver) emit(pcm []int16, concealed bool) {
	r.samples.Add(uint64(len(pcm) / audioChannels))
	if concealed {
		r.concealedSamples.Add(uint64(len(pcm) / audioChannels))
	}
	r.carry = append(r.carry, pcm...)
}

// reorderBuffer puts packets back in sequence order before frame assembly. A packet that
// arrives early waits, for at most reorderWait or reorderMax packets, for the ones
// before it: long enough for a NACK retransmission on a LAN or a short reordering, short
// enough that a real loss turns into a key frame request within a few frames.
//
// The wait is sized from what the buffer measures: how long a gap took to fill (a
// reordered packet, or a NACK retransmission: about one RTT plus the NACK interval),
// and how late packets came that it had already given up on. It rises at once to twice
// the longest recent fill (plus a margin) and decays slowly, between reorderWait and
// reorderMaxWait; so on a link with 120 ms RTT a frame with a lost packet waits for its
// retransmission instead of being dropped for a key frame.
type reorderBuffer struct {
	pending map[uint16]*rtp.Packet
	next    uint16
	started bool
	late    int           // packets in a row behind next; see lateResync
	since   time.Time     // when the oldest pending packet arrived
	out     []*rtp.Packet // push's result, reused: no allocation per packet
	wait    time.Duration // current wait; 0: reorderWait
	gaveUp  time.Time     // when the buffer last skipped a gap
}

const (
	reorderMax     = 256 // a 720p key frame is up to ~100 packets
	reorderWait    = 60 * time.Millisecond
	reorderMaxWait = 500 * time.Millisecond
	reorderMargin  = 20 * time.Millisecond
)

func (b *reorderBuffer) curWait() time.Duration {
	if b.wait == 0 {
		return reorderWait
	}
	return b.wait
}

// learn takes one measured gap-fill time.
func (b *reorderBuffer) learn(fill time.Duration) {
	target := min(max(2*fill+reorderMargin, reorderWait), reorderMaxWait)
	cur := b.curWait()
	if target > cur {
		b.wait = target
	} else {
		b.wait = cur - (cur-target)/16
	}
}

// Wait is the buffer's current wait for a missing packet.
func (b *reorderBuffer) Wait() time.Duration { return b.curWait() }

// push takes one packet and returns the packets now ready, in order; the slice is valid
// until the next push. Packets older than the next expected one (duplicates,
// retransmissions after we gave up) are dropped.
func (b *reorderBuffer) push(p *rtp.Packet, now time.Time) []*rtp.Packet {
	if !b.started {
		b.started, b.next = true, p.SequenceNumber
	}
	d := int16(p.SequenceNumber - b.next)
	if d < 0 {
		if !b.gaveUp.IsZero() && now.Sub(b.gaveUp) < reorderMaxWait {
			// It came after all: waiting this much longer would have had it.
			b.learn(b.curWait() + now.Sub(b.gaveUp))
			b.gaveUp = time.Time{}
		}
		if b.late++; b.late < lateResync {
			return nil
		}
		// The sender restarted its numbering: what is pending belongs to the old one.
		clear(b.pending)
		b.next, d = p.SequenceNumber, 0
	}
	b.late = 0
	switch {
	case d > 0:
		if b.pending == nil {
			b.pending = make(map[uint16]*rtp.Packet)
		}
		if len(b.pending) == 0 {
			b.since = now
		}
		b.pending[p.SequenceNumber] = p
		if len(b.pending) < reorderMax && now.Sub(b.since) < b.curWait() {
			return nil
		}
		// Give up on the missing packets: skip to the oldest one we hold. The gap is
		// seen downstream as loss.
		b.next = b.nextHeld()
		b.gaveUp = now
		return b.drain(b.out[:0], now)
	default:
		if len(b.pending) > 0 {
			b.learn(now.Sub(b.since)) // a gap filled
		}
		return b.drain(append(b.out[:0], p), now)
	}
}

// nextHeld is the pending sequence number closest after next.
func (b *reorderBuffer) nextHeld() uint16 {
	best, bestD := b.next, int16(0x7fff)
	for seq := range b.pending {
		if d := int16(seq - b.next); d >= 0 && d < bestD {
			best, bestD = seq, d
		}
	}
	return best
}

// drain appends the expected packet (when out already holds it, next advances past it)
// and every consecutive pending one.
func (b *reorderBuffer) drain(out []*rtp.Packet, now time.Time) []*rtp.Packet {
	if len(out) > 0 {
		b.next = out[len(out)-1].SequenceNumber + 1
	}
	for {
		p, ok := b.pending[b.next]
		if !ok {
			break
		}
		delete(b.pending, b.next)
		out = append(out, p)
		b.next++
	}
	if len(b.pending) > 0 {
		b.since = now // the wait restarts for the next gap
	}
	b.out = out
	return out
}
