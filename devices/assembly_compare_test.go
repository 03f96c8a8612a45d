package devices

// Issue #15 asks whether pion's pieces can replace ttycall's own VP8 receive path:
// pion/webrtc's samplebuilder for frame assembly, pion/interceptor's jitterbuffer as the
// reorder stage. This file measures them against ttycall's path (reorderBuffer ->
// VideoReceiver.handle -> the VP8 decoder) on the same simulated links, in simulated
// time, with the sender in the loop (a key frame request makes the encoder's next frame
// a key frame, as it does in a call). Run:
//
//	go test -run '^$' -bench BenchmarkAssembly -benchtime 1x ./devices/
//
// The figures are per link profile and implementation; see BenchmarkAssembly.
//
// What they showed (December 2026, pion/webrtc v4.2.26, interceptor v0.1.51; 210
// frames a run):
//   - samplebuilder hands a frame over only when the packet after its marker has
//     arrived, the next frame's first: its frames come 20-30 ms (a frame interval)
//     later than ttycall's on every link, mean and mostly p95.
//   - Its wait for a missing packet is a packet count (maxLate) or an RTP timestamp
//     span (WithMaxTimeDelay), not time. maxLate 50 covers ~800 ms of 2-packet frames
//     but not a 120 ms RTT in 7-packet ones (188/210 decoded); a 150 ms span drops
//     retransmissions on that link (188 and 131/210); 128 packets or 500 ms decode every
//     frame when NACK works, and without NACK hold frames behind each loss for that long
//     (p95 up to 1.7 s) and decode fewer than ttycall (126-156 vs 197/210).
//   - jitterbuffer counts packets too: as its interceptor uses it, every packet waits
//     for 50 more (275-910 ms by frame size), and it never skips a missing packet: on a
//     link without retransmission it stops for good at the first loss (67/210).
//   - ttycall's learned reorder wait starts at 60 ms and gives up on the first
//     retransmission on a 120 ms RTT link (and on 60 ms in one of two runs): one key
//     frame request, 4-7 frames not shown. Seeded with the RTT (ttycall_seeded) it
//     decodes every frame. That start is the one place where the library (samplebuilder
//     at maxLate 128 or 500 ms) decoded more.
import (
	"fmt"
	"image"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/jitterbuffer"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

// linkProfile is a simulated one-way link with NACK/RTX repair.
type linkProfile struct {
	name   string
	delay  time.Duration // one way
	jitter time.Duration // uniform [0, jitter) on top of delay; order kept
	rtt    time.Duration
	loss   float64 // per packet and per retransmission attempt
	noNACK bool    // the peer does not retransmit: every loss is final
	// reorderP of the packets come reorderMin..reorderMax late, overtaken by the rest.
	reorderP               float64
	reorderMin, reorderMax time.Duration
}

var assemblyProfiles = []linkProfile{
	{name: "loss2_rtt60", delay: 30 * time.Millisecond, jitter: 5 * time.Millisecond, rtt: 60 * time.Millisecond, loss: 0.02},
	{name: "loss5_rtt120_j30", delay: 60 * time.Millisecond, jitter: 30 * time.Millisecond, rtt: 120 * time.Millisecond, loss: 0.05},
	{name: "loss2_nonack", delay: 30 * time.Millisecond, jitter: 5 * time.Millisecond, rtt: 60 * time.Millisecond, loss: 0.02, noNACK: true},
	{name: "reorder10", delay: 30 * time.Millisecond, rtt: 60 * time.Millisecond,
		reorderP: 0.10, reorderMin: 10 * time.Millisecond, reorderMax: 30 * time.Millisecond},
}

func assemblyProfile(name string) linkProfile {
	for _, p := range assemblyProfiles {
		if p.name == name {
			return p
		}
	}
	panic("no link profile " + name)
}

// The simulated stream: the test pattern at 640x480, 30 fps, ttycall's default
// bitrate for that size, in RTP packets of one of assemblySizes paced 1 ms apart
// within a frame.
const (
	simW, simH     = 640, 480
	simFPS         = 30
	simFrameTS     = 90000 / simFPS
	simPacketGap   = time.Millisecond
	simTailFrames  = 26 // sent after the measured ones, so that those can complete (the jitterbuffer holds 50 packets)
	simMaxAttempts = 5  // retransmissions of one packet before the sender gives up
	simFirstSeq    = 65000
)

var simFrameDur = time.Second / simFPS

// assemblySizes are the RTP payload sizes simulated. With 1200-byte packets the
// pattern takes about 2 packets a frame (its CBR frames stay small at any bitrate);
// 300-byte packets stand for a busier or larger picture at about 7 packets a frame
// (a 720p call). The packet count matters: samplebuilder's maxLate counts packets, so
// the time it waits shrinks as frames grow, and a frame of more packets is more
// likely to lose one.
var assemblySizes = []struct {
	name string
	mtu  uint16 // RTP payload bytes
}{
	{"pkt1200", 1200 - 12},
	{"pkt300", 300 - 12},
}

// simUnit is a deterministic uniform [0,1) draw for (seq, attempt, what): the same packet
// number meets the same fate whichever receiver is under test, so the implementations
// see the same link until their key frame requests make the streams differ.
func simUnit(seed uint64, seq uint16, attempt, what int) float64 {
	x := seed ^ uint64(seq)<<32 ^ uint64(attempt)<<8 ^ uint64(what)
	// splitmix64
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// simEvent is one packet arriving at the receiver.
type simEvent struct {
	at time.Duration
	p  *rtp.Packet
}

// simLink turns sent packets into arrivals: delay + jitter in order, some packets
// reordered, losses repaired by NACK/RTX one RTT after the gap became visible (the
// next packet arrived), each attempt lost with the same probability and retried every
// RTT.
type simLink struct {
	prof       linkProfile
	seed       uint64
	lastOrig   time.Duration
	undetected []*rtp.Packet
	events     []simEvent // a heap on at would do; the queue stays short
	lost       int        // packets never delivered
	repaired   int
}

func (l *simLink) send(p *rtp.Packet, sent time.Duration) {
	seq := p.SequenceNumber
	if simUnit(l.seed, seq, 0, 'L') < l.prof.loss {
		l.undetected = append(l.undetected, p)
		return
	}
	at := sent + l.prof.delay + time.Duration(simUnit(l.seed, seq, 0, 'J')*float64(l.prof.jitter))
	if l.prof.reorderP > 0 && simUnit(l.seed, seq, 0, 'R') < l.prof.reorderP {
		at += l.prof.reorderMin + time.Duration(simUnit(l.seed, seq, 0, 'r')*float64(l.prof.reorderMax-l.prof.reorderMin))
	} else {
		at = max(at, l.lastOrig)
		l.lastOrig = at
	}
	l.push(simEvent{at, p})
	// This arrival shows the receiver the gaps before it: NACKs go out now.
	for _, q := range l.undetected {
		l.repair(q, at)
	}
	l.undetected = l.undetected[:0]
}

func (l *simLink) repair(p *rtp.Packet, detect time.Duration) {
	for k := 1; k <= simMaxAttempts && !l.prof.noNACK; k++ {
		if simUnit(l.seed, p.SequenceNumber, k, 'L') < l.prof.loss {
			continue
		}
		at := detect + time.Duration(k)*l.prof.rtt + time.Duration(simUnit(l.seed, p.SequenceNumber, k, 'J')*float64(l.prof.jitter))
		l.push(simEvent{at, p})
		l.repaired++
		return
	}
	l.lost++
}

func (l *simLink) push(e simEvent) {
	i, _ := slices.BinarySearchFunc(l.events, e.at, func(a simEvent, t time.Duration) int {
		if a.at <= t {
			return -1 // after equal times: arrivals at one instant keep their order
		}
		return 1
	})
	l.events = slices.Insert(l.events, i, e)
}

// due removes and returns the arrivals up to t.
func (l *simLink) due(t time.Duration, out []simEvent) []simEvent {
	n := 0
	for n < len(l.events) && l.events[n].at <= t {
		n++
	}
	out = append(out, l.events[:n]...)
	l.events = slices.Delete(l.events, 0, n)
	return out
}

// simResult is what a receiver achieved on the measured frames.
type simResult struct {
	sent, decoded, skipped, kfRequests, keyFramesSent int
	packets, lost, repaired                           int
	latency                                           []time.Duration // per decoded frame
}

// kfPolicy is ttycall's key frame request rule (requestKeyFrame, decode) in simulated
// time, applied to every implementation alike: on a loss at most every keyFrameMinGap,
// and again every keyFrameRetry while complete frames are skipped. The product's own
// requests use the wall clock, which a simulation runs through in no time.
type kfPolicy struct {
	last  time.Duration
	asked bool
	reqs  []time.Duration
}

func (k *kfPolicy) onLoss(now time.Duration) {
	if !k.asked || now-k.last >= keyFrameMinGap {
		k.ask(now)
	}
}

func (k *kfPolicy) onSkip(now time.Duration) {
	if !k.asked || now-k.last >= keyFrameRetry {
		k.ask(now)
	}
}

func (k *kfPolicy) ask(now time.Duration) { k.asked, k.last, k.reqs = true, now, append(k.reqs, now) }

// simReceiver is one implementation under test. deliver takes a packet arriving at
// now; it decodes with a VideoReceiver's decode (ttycall's decoder and its wait for a
// key frame), so "decoded" means the same for all.
type simReceiver interface {
	deliver(p *rtp.Packet, now time.Duration)
}

// simDecoder is the common decode side: it counts what the receiver reports and
// records each decoded frame's latency from its first packet's send time.
type simDecoder struct {
	r    *VideoReceiver
	kf   kfPolicy
	res  *simResult
	n    int // measured frames: indexes below n count
	prof linkProfile
}

// decoded compares the receiver's counters around one step (handle or decode) that
// may have completed the frame with timestamp ts.
func (d *simDecoder) observe(before VideoReceiverStats, needKey bool, ts uint32, now time.Duration) {
	after := d.r.Stats()
	idx := int(ts / simFrameTS)
	if after.Frames > before.Frames && idx < d.n {
		d.res.decoded++
		d.res.latency = append(d.res.latency, now-time.Duration(idx)*simFrameDur)
	}
	if after.SkippedWaitingKey > before.SkippedWaitingKey {
		if idx < d.n {
			d.res.skipped++
		}
		d.kf.onSkip(now)
	}
	if after.Lost > before.Lost || after.DecodeErrors > before.DecodeErrors || (!needKey && d.r.needKey) {
		d.kf.onLoss(now)
	}
}

// ttycallRx is the product path: reorderBuffer -> handle -> decode.
type ttycallRx struct{ simDecoder }

func (x *ttycallRx) deliver(p *rtp.Packet, now time.Duration) {
	for _, q := range x.r.reorder.push(p, simEpoch.Add(now)) {
		before, nk := x.r.Stats(), x.r.needKey
		x.r.handle(q)
		x.observe(before, nk, q.Timestamp, now)
	}
}

var simEpoch = time.Unix(1_700_000_000, 0)

// sampleBuilderRx is pion's samplebuilder with a careful consumer: a sample after a
// sequence gap (PrevDroppedPackets, or RTP headers not continuing the last sample's)
// makes the decoder wait for a key frame, as ttycall's does; a sample older than the
// last one decoded (a late retransmission that rewound the builder) is discarded.
type sampleBuilderRx struct {
	simDecoder
	sb      *samplebuilder.SampleBuilder
	started bool
	nextSeq uint16
	lastTS  uint32
	stale   int
}

func newSampleBuilder(maxLate uint16, maxDelay time.Duration) *samplebuilder.SampleBuilder {
	opts := []samplebuilder.Option{samplebuilder.WithRTPHeaders(true)}
	if maxDelay > 0 {
		opts = append(opts, samplebuilder.WithMaxTimeDelay(maxDelay))
	}
	return samplebuilder.New(maxLate, &codecs.VP8Packet{}, 90000, opts...)
}

func (x *sampleBuilderRx) deliver(p *rtp.Packet, now time.Duration) {
	x.sb.Push(p)
	for s := x.sb.Pop(); s != nil; s = x.sb.Pop() {
		if len(s.RTPHeaders) == 0 {
			continue
		}
		first, last := s.RTPHeaders[0].SequenceNumber, s.RTPHeaders[len(s.RTPHeaders)-1].SequenceNumber
		if x.started && int32(s.PacketTimestamp-x.lastTS) <= 0 {
			x.stale++
			continue
		}
		before, nk := x.r.Stats(), x.r.needKey
		if x.started && (first != x.nextSeq || s.PrevDroppedPackets > 0) {
			x.r.count(func(s *VideoReceiverStats) { s.Lost++ })
			x.r.lose()
		}
		x.started, x.nextSeq, x.lastTS = true, last+1, s.PacketTimestamp
		x.r.decode(s.Data, time.Time{})
		x.observe(before, nk, s.PacketTimestamp, now)
	}
}

// jitterBufferRx is pion's jitterbuffer as a reorder stage in front of ttycall's
// assembly. With drain false it pops as its ReceiverInterceptor does, one packet per
// packet read once 50 are buffered; with drain true it pops all it can.
type jitterBufferRx struct {
	simDecoder
	jb    *jitterbuffer.JitterBuffer
	drain bool
}

func (x *jitterBufferRx) deliver(p *rtp.Packet, now time.Duration) {
	x.jb.Push(p)
	for {
		q, err := x.jb.Pop()
		if err != nil {
			return
		}
		before, nk := x.r.Stats(), x.r.needKey
		x.r.handle(q)
		x.observe(before, nk, q.Timestamp, now)
		if !x.drain {
			return
		}
	}
}

// assemblyImpl names an implementation and builds its receiver around d.
type assemblyImpl struct {
	name string
	new  func(d simDecoder) simReceiver
}

func sbImpl(maxLate uint16, maxDelay time.Duration) assemblyImpl {
	name := fmt.Sprintf("samplebuilder_late%d", maxLate)
	if maxDelay > 0 {
		name += fmt.Sprintf("_%dms", maxDelay.Milliseconds())
	}
	return assemblyImpl{name, func(d simDecoder) simReceiver {
		return &sampleBuilderRx{simDecoder: d, sb: newSampleBuilder(maxLate, maxDelay)}
	}}
}

var assemblyImpls = []assemblyImpl{
	{"ttycall", func(d simDecoder) simReceiver { return &ttycallRx{d} }},
	// ttycall with the reorder wait seeded from the link's RTT, as if it had already
	// learned it (or were told by RTCP): what the learning costs at the start.
	{"ttycall_seeded", func(d simDecoder) simReceiver {
		d.r.reorder.learn(d.prof.rtt)
		return &ttycallRx{d}
	}},
	sbImpl(50, 0),
	sbImpl(128, 0),
	sbImpl(256, 150*time.Millisecond),
	sbImpl(256, 500*time.Millisecond),
	{"jitterbuffer_interceptor", func(d simDecoder) simReceiver {
		return &jitterBufferRx{simDecoder: d, jb: jitterbuffer.New()}
	}},
	{"jitterbuffer_drain", func(d simDecoder) simReceiver {
		return &jitterBufferRx{simDecoder: d, jb: jitterbuffer.New(), drain: true}
	}},
}

// simFrames is a frame source for the encoder: pre-rendered pattern frames in a loop.
type simFrames struct {
	frames []*image.YCbCr
	i      int
}

func (s *simFrames) Read() (image.Image, func(), error) {
	img := s.frames[s.i%len(s.frames)]
	s.i++
	return img, func() {}, nil
}

var simRendered = map[[2]int][]*image.YCbCr{}

// simulate sends n measured frames (and simTailFrames more) from a live VP8 encoder
// over the link to the receiver impl builds, in simulated time, and returns what the
// receiver made of them. trace, when not nil, receives every arrival in order.
func simulateAssembly(tb testing.TB, prof linkProfile, impl assemblyImpl, mtu uint16, n int, trace *[]simEvent) simResult {
	tb.Helper()
	key := [2]int{simW, simH}
	if simRendered[key] == nil {
		simRendered[key] = renderFrames(simW, simH, simFPS)
	}
	src := &simFrames{frames: simRendered[key]}
	enc, err := newVP8Encoder(src, simW, simH, simFPS, defaultVideoBitrate(simW, simH, simFPS))
	if err != nil {
		tb.Fatal(err)
	}
	defer enc.Close()
	res := simResult{sent: n}
	dec := simDecoder{r: newTestVideoReceiver(tb, &FrameSlot{}), res: &res, n: n, prof: prof}
	rx := impl.new(dec)
	kf := func() *kfPolicy { // the receiver's copy of simDecoder holds the requests
		switch x := rx.(type) {
		case *ttycallRx:
			return &x.kf
		case *sampleBuilderRx:
			return &x.kf
		case *jitterBufferRx:
			return &x.kf
		}
		panic("unknown receiver")
	}()
	link := &simLink{prof: prof, seed: uint64(len(prof.name))*0x1000193 + uint64(prof.loss*1e6)}
	var vp codecs.VP8Payloader
	seq := uint16(simFirstSeq)
	served := 0 // key frame requests the sender has answered
	var due []simEvent
	deliverUntil := func(t time.Duration) {
		due = link.due(t, due[:0])
		for _, e := range due {
			if trace != nil {
				*trace = append(*trace, e)
			}
			rx.deliver(e.p, e.at)
		}
	}
	for i := 0; i < n+simTailFrames; i++ {
		t := time.Duration(i) * simFrameDur
		deliverUntil(t)
		force := false
		for served < len(kf.reqs) && kf.reqs[served]+prof.rtt/2 <= t {
			served, force = served+1, true
		}
		if force {
			_ = enc.ForceKeyFrame()
		}
		// The encoder's rate control sizes a frame by the time since the last one:
		// give it simulated time, not the wall clock's few milliseconds.
		now := time.Now()
		enc.last, enc.t0 = now.Add(-simFrameDur), now.Add(-t)
		data, _, err := enc.Read()
		if err != nil {
			tb.Fatal(err)
		}
		if len(data) == 0 {
			continue
		}
		if isVP8KeyFrame(data) && i < n {
			res.keyFramesSent++
		}
		payloads := vp.Payload(mtu, data)
		for j, pl := range payloads {
			p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 7,
				SequenceNumber: seq, Timestamp: uint32(i * simFrameTS), Marker: j == len(payloads)-1}, Payload: pl}
			seq++
			if i < n {
				res.packets++
			}
			link.send(p, t+time.Duration(j)*simPacketGap)
		}
	}
	deliverUntil(time.Duration(n+simTailFrames)*simFrameDur + 10*time.Second)
	res.kfRequests = len(kf.reqs)
	res.lost, res.repaired = link.lost, link.repaired
	return res
}

// simPercentile is the p-quantile of ds (sorted in place), 0 when empty.
func simPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(len(ds)-1, int(math.Ceil(p*float64(len(ds))))-1)]
}

func simMean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var s time.Duration
	for _, d := range ds {
		s += d
	}
	return s / time.Duration(len(ds))
}

// simMeasuredFrames is how many frames each simulation measures: 7 s of video (64
// simulations of 7 s at 2 ms of encoding and decoding a frame keep the benchmark near
// 30 s).
const simMeasuredFrames = 210

// BenchmarkAssembly runs every implementation on every link profile and reports, for
// the measured frames: decoded (of sent), skipped (complete but the decoder waited
// for a key frame), never (never complete: dropped or given up), key frame requests,
// and the latency from a frame's first packet leaving the sender to the frame being
// handed to the decoder (mean and p95, ms). ns/op is a whole simulation including the
// encoder; BenchmarkAssemblyCPU has the cost per packet.
func BenchmarkAssembly(b *testing.B) {
	for _, prof := range assemblyProfiles {
		for _, size := range assemblySizes {
			for _, impl := range assemblyImpls {
				b.Run(prof.name+"/"+size.name+"/"+impl.name, func(b *testing.B) {
					var res simResult
					for b.Loop() {
						res = simulateAssembly(b, prof, impl, size.mtu, simMeasuredFrames, nil)
					}
					b.ReportMetric(float64(res.sent), "sent")
					b.ReportMetric(float64(res.decoded), "decoded")
					b.ReportMetric(float64(res.skipped), "skipped")
					b.ReportMetric(float64(res.sent-res.decoded-res.skipped), "never")
					b.ReportMetric(float64(res.kfRequests), "kf_req")
					b.ReportMetric(float64(res.keyFramesSent), "kf_sent")
					b.ReportMetric(float64(res.packets)/float64(res.sent), "pkt/frame")
					b.ReportMetric(simMean(res.latency).Seconds()*1000, "mean_ms")
					b.ReportMetric(simPercentile(res.latency, 0.95).Seconds()*1000, "p95_ms")
				})
			}
		}
	}
}

// BenchmarkAssemblyCPU feeds one recorded trace (profile loss5_rtt120_j30 in 300-byte packets
// as ttycall's receiver saw it) to each implementation's reorder and assembly stages, without
// decoding (ttycall's frames go to its playout queue and are popped as run() does):
// ns and allocations per packet. Each op replays the trace cpuReplays times, each time
// into fresh state (built outside the measurement), so that -benchtime 1x is not one
// millisecond of noise.
func BenchmarkAssemblyCPU(b *testing.B) {
	const cpuReplays = 50
	var trace []simEvent
	simulateAssembly(b, assemblyProfile("loss5_rtt120_j30"), assemblyImpls[0], assemblySizes[1].mtu, simMeasuredFrames, &trace)
	// cpuReceiver is a VideoReceiver for assembly only: complete frames go to its
	// playout queue, and nothing is decoded.
	cpuReceiver := func() *VideoReceiver {
		return &VideoReceiver{rtpQueue: newRTPQueue(videoQueue), slot: &FrameSlot{}, reqKF: func() {}, log: quietLog(), needKey: true, playout: &playout{}}
	}
	feeds := []struct {
		name string
		// setup builds fresh state and returns the feed, which is what is measured.
		setup func() func()
	}{
		{"ttycall", func() func() {
			r := cpuReceiver()
			var out []pendingFrame
			return func() {
				for _, e := range trace {
					now := simEpoch.Add(e.at)
					for _, q := range r.reorder.push(e.p, now) {
						r.handle(q)
					}
					out = r.playout.pop(now.Add(time.Hour), out[:0])
				}
			}
		}},
		{"samplebuilder_late256_500ms", func() func() {
			sb := newSampleBuilder(256, 500*time.Millisecond)
			return func() {
				for _, e := range trace {
					sb.Push(e.p)
					for s := sb.Pop(); s != nil; s = sb.Pop() {
					}
				}
			}
		}},
		{"jitterbuffer_drain", func() func() {
			jb := jitterbuffer.New()
			r := cpuReceiver()
			var out []pendingFrame
			return func() {
				for _, e := range trace {
					jb.Push(e.p)
					for q, err := jb.Pop(); err == nil; q, err = jb.Pop() {
						r.handle(q)
					}
					out = r.playout.pop(simEpoch.Add(e.at).Add(time.Hour), out[:0])
				}
			}
		}},
	}
	for _, f := range feeds {
		b.Run(f.name, func(b *testing.B) {
			var ms0, ms1 runtime.MemStats
			var elapsed time.Duration
			var allocs, bytes uint64
			b.StopTimer()
			for i := 0; i < b.N*cpuReplays; i++ {
				feed := f.setup()
				runtime.ReadMemStats(&ms0)
				b.StartTimer()
				t := time.Now()
				feed()
				elapsed += time.Since(t)
				b.StopTimer()
				runtime.ReadMemStats(&ms1)
				allocs += ms1.Mallocs - ms0.Mallocs
				bytes += ms1.TotalAlloc - ms0.TotalAlloc
			}
			n := float64(b.N*cpuReplays) * float64(len(trace))
			b.ReportMetric(float64(elapsed.Nanoseconds())/n, "ns/pkt")
			b.ReportMetric(float64(allocs)/n, "allocs/pkt")
			b.ReportMetric(float64(bytes)/n, "B/pkt")
			b.ReportMetric(float64(len(trace)), "pkts")
		})
	}
}

// TestAssemblyReorderOnlyDecodesAll: on the reorder-only link (10% of packets 10-30 ms
// late, no loss) ttycall's receive path decodes every frame and never asks for a key
// frame. The comparison with pion's pieces is BenchmarkAssembly.
func TestAssemblyReorderOnlyDecodesAll(t *testing.T) {
	res := simulateAssembly(t, assemblyProfile("reorder10"), assemblyImpls[0], assemblySizes[1].mtu, 60, nil)
	t.Logf("%+v", struct{ Sent, Decoded, Skipped, KF, Packets int }{res.sent, res.decoded, res.skipped, res.kfRequests, res.packets})
	if res.decoded != res.sent || res.kfRequests != 0 {
		t.Fatalf("decoded %d of %d frames with %d key frame requests on a link that only reorders", res.decoded, res.sent, res.kfRequests)
	}
}
