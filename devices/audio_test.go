package devices

import (
	"io"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// countedAudio ends a source with io.EOF after n chunks, once start is closed.
type countedAudio struct {
	audioSource
	start chan struct{}
	n     int
	read  int
}

func (c *countedAudio) ReadChunk(buf []int16) error {
	<-c.start
	if c.read >= c.n {
		return io.EOF
	}
	c.read++
	return c.audioSource.ReadChunk(buf)
}

// captureOutput is an AudioOutput that keeps everything written to it.
type captureOutput struct {
	mu       sync.Mutex
	pcm      []int16
	channels int
	closed   bool
}

func (c *captureOutput) NewInput(name string, channels int) (PCMWriter, error) {
	c.channels = channels
	return c, nil
}
func (c *captureOutput) WritePCM(s []int16) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pcm = append(c.pcm, s...)
	return nil
}
func (c *captureOutput) Close() error { c.mu.Lock(); c.closed = true; c.mu.Unlock(); return nil }
func (c *captureOutput) PCM() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int16(nil), c.pcm...)
}

// encodeAudio runs an audio source through the Opus track for n chunks and returns the
// RTP packets a peer would receive.
func encodeAudio(t *testing.T, src audioSource, n int, disabled bool) []*rtp.Packet {
	t.Helper()
	cs := &countedAudio{audioSource: src, start: make(chan struct{}), n: n}
	tr, err := newAudioTrack(cs, "s", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return runTrack(t, tr, cs.start, opusCodec, disabled)
}

func decodeAudio(t *testing.T, pkts []*rtp.Packet) []int16 {
	t.Helper()
	pcm, _ := decodeAudioStats(t, pkts)
	return pcm
}

func TestToneSurvivesOpus(t *testing.T) {
	const chunks = 100 // 2 s
	pkts := encodeAudio(t, newToneSource(440, false), chunks, false)
	if len(pkts) < chunks-1 || len(pkts) > chunks {
		t.Fatalf("%d packets for %d chunks of 20 ms", len(pkts), chunks)
	}
	pcm := decodeAudio(t, pkts)
	if got, want := len(pcm), len(pkts)*chunkSamples; got != want {
		t.Fatalf("decoded %d samples, want %d", got, want)
	}
	f := DominantFrequency(pcm, sampleRate)
	t.Logf("dominant frequency after Opus: %.2f Hz, RMS %.0f", f, RMS(pcm))
	if math.Abs(f-440) > 2 {
		t.Fatalf("dominant frequency %.2f Hz, want 440±2", f)
	}
}

func TestMutedMicSendsSilence(t *testing.T) {
	pkts := encodeAudio(t, newToneSource(440, false), 50, true)
	if len(pkts) < 49 {
		t.Fatalf("muted track sent %d packets, want a packet every 20 ms (no renegotiation, no gap)", len(pkts))
	}
	pcm := decodeAudio(t, pkts)
	if rms := RMS(pcm); rms > 5 {
		t.Fatalf("muted mic decodes to RMS %.1f, want silence", rms)
	}
}

func TestAudioLossConcealed(t *testing.T) {
	pkts := encodeAudio(t, newToneSource(440, false), 50, false)
	var kept []*rtp.Packet
	for i, p := range pkts {
		if i != 20 && i != 21 {
			kept = append(kept, p)
		}
	}
	pcm := decodeAudio(t, kept)
	if got, want := len(pcm), len(pkts)*chunkSamples; got != want {
		t.Fatalf("after losing 2 packets decoded %d samples, want %d (concealment fills the gap)", got, want)
	}
}

func TestDominantFrequency(t *testing.T) {
	for _, hz := range []float64{200, 440, 1000, 3150.5} {
		pcm := make([]int16, sampleRate)
		for i := range pcm {
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/sampleRate))
		}
		if f := DominantFrequency(pcm, sampleRate); math.Abs(f-hz) > 0.5 {
			t.Errorf("%.1f Hz measured as %.2f", hz, f)
		}
	}
	if f := DominantFrequency(make([]int16, 4096), sampleRate); f != 0 {
		t.Errorf("silence measured as %.1f Hz", f)
	}
}

// TestWAVFileToOggRecording: a tone WAV as the microphone -> Opus -> RTP -> the Ogg
// recorder -> the file decodes back to the tone.
func TestWAVFileToOggRecording(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	if err := WriteToneWAV(wav, 660, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	src, err := openAudioFile(wav, false)
	if err != nil {
		t.Fatal(err)
	}
	if src.Label() != "tone.wav" {
		t.Errorf("label %q", src.Label())
	}
	// 1.5 s from a 0.5 s file: the source loops.
	pkts := encodeAudio(t, src, 75, false)
	ogg := filepath.Join(dir, "rec.ogg")
	rec, err := NewOggRecorder(ogg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		if err := rec.WriteRTP(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rec.WriteRTP(pkts[0]); err == nil {
		t.Error("WriteRTP after Close succeeded")
	}
	pcm, err := LoadAudioFile(ogg)
	if err != nil {
		t.Fatal(err)
	}
	// 75 packets of 20 ms, less the 80 ms pre-skip that pion's Ogg writer declares.
	if d := float64(len(pcm)) / sampleRate; d < 1.40 || d > 1.5 {
		t.Errorf("recording lasts %.2f s, want 1.42", d)
	}
	f, err := FileDominantFrequency(ogg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d packets, %.2f s, %.1f Hz", len(pkts), float64(len(pcm))/sampleRate, f)
	if math.Abs(f-660) > 2 {
		t.Fatalf("recording's dominant frequency %.1f Hz, want 660", f)
	}
	// The Ogg file is also usable as a microphone.
	if _, err := openAudioFile(ogg, false); err != nil {
		t.Fatalf("ogg as microphone: %v", err)
	}
}

func TestMixer(t *testing.T) {
	m := NewMixer(1)
	a, _ := m.NewInput("a", 1)
	b, _ := m.NewInput("b", 2)
	n := mixPrebuffer
	sa, sb := make([]int16, n), make([]int16, 2*n)
	for i := range sa {
		sa[i] = 30000
	}
	for i := range sb {
		sb[i] = 10000
	}
	_ = a.WritePCM(sa)
	_ = b.WritePCM(sb)
	out := make([]int16, n)
	m.Mix(out)
	if out[0] != math.MaxInt16 {
		t.Fatalf("30000+10000 mixed to %d, want clipped %d", out[0], math.MaxInt16)
	}
	// Input a leaves; b's next audio plays alone.
	_ = a.Close()
	if err := a.WritePCM(sa); err == nil {
		t.Error("write to a closed input succeeded")
	}
	_ = b.WritePCM(sb)
	m.Mix(out)
	if out[0] != 10000 {
		t.Fatalf("after a left, mix = %d, want 10000", out[0])
	}
	m.Mix(out)
	if out[0] != 0 {
		t.Fatalf("dry input mixes to %d, want silence", out[0])
	}
	// A flood is bounded.
	big := make([]int16, 10*sampleRate)
	_ = b.WritePCM(big)
	if l := len(b.(*mixInput).buf); l > mixMaxBuffer {
		t.Fatalf("input buffers %d frames, max %d", l, mixMaxBuffer)
	}
	_ = b.Close()
	if m.Inputs() != 0 {
		t.Fatalf("%d inputs after closing all", m.Inputs())
	}
}

func TestOpenPlayerWithoutDevice(t *testing.T) {
	out, closer, notice, err := OpenPlayer("", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if _, isPlayer := closer.(*player); isPlayer {
		t.Skip("this machine has an audio output")
	}
	if notice == "" {
		t.Fatal("null output without a notice")
	}
	in, err := out.NewInput("x", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.WritePCM(make([]int16, 960)); err != nil {
		t.Fatal(err)
	}
	in.Close()
	t.Logf("notice: %s", notice)
}

// decodeAudioStats is decodeAudio that also returns the receiver's counters. Each
// packet arrives when its timestamp says (20 ms apart, lost ones leave their slot
// empty).
func decodeAudioStats(t *testing.T, pkts []*rtp.Packet) ([]int16, AudioReceiverStats) {
	t.Helper()
	return driveAudio(t, pkts, func(int) time.Duration { return 0 })
}

// driveAudio runs a receiver without its goroutine on a fake clock: packet i arrives
// at the time its timestamp says plus delay(i) (in arrival order), and the playout
// runs every audioTick until every packet is played. It returns what was written and
// the counters.
func driveAudio(t testing.TB, pkts []*rtp.Packet, delay func(i int) time.Duration) ([]int16, AudioReceiverStats) {
	t.Helper()
	out := &captureOutput{}
	r, err := newAudioReceiver("audio/opus", out, "peer", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer r.dec.Close()
	type arrival struct {
		p  *rtp.Packet
		at time.Duration
	}
	var as []arrival
	for i, p := range pkts {
		as = append(as, arrival{p, tsTime(int64(int32(p.Timestamp-pkts[0].Timestamp))) + delay(i)})
	}
	slices.SortStableFunc(as, func(a, b arrival) int { return cmpInt64(int64(a.at), int64(b.at)) })
	t0 := time.Unix(1000, 0)
	tick := audioTick / 2 // the playout's phase against the packets'
	for _, a := range as {
		for ; tick < a.at; tick += audioTick {
			r.playout(t0.Add(tick))
		}
		r.handle(a.p, t0.Add(a.at))
	}
	for i := 0; (r.jb.Len() > 0 || len(r.carry) > 0) && i < 10000; i++ {
		r.playout(t0.Add(tick))
		tick += audioTick
	}
	return out.PCM(), r.Stats()
}

// snr is the signal-to-noise ratio (dB) of got against want.
func snr(want, got []int16) float64 {
	var s, n float64
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		s += float64(want[i]) * float64(want[i])
		n += d * d
	}
	if n == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(s/n)
}

// TestAudioFECRecoversLoss: with the receiver's loss reported to the encoder, a single
// lost packet is rebuilt from the next packet's in-band FEC, much closer to what was
// sent than packet-loss concealment gets; two in a row: one concealed, one recovered.
func TestAudioFECRecoversLoss(t *testing.T) {
	const n = 60
	cs := &countedAudio{audioSource: newToneSource(440, false), start: make(chan struct{}), n: n}
	tr, err := newAudioTrack(cs, "s", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	tr.SetPacketLoss(20)
	pkts := runTrack(t, tr, cs.start, opusCodec, false)
	if len(pkts) < n-1 {
		t.Fatalf("%d packets", len(pkts))
	}
	clean, _ := decodeAudioStats(t, pkts)
	drop := func(lost ...int) []*rtp.Packet {
		var kept []*rtp.Packet
		for i, p := range pkts {
			if !slices.Contains(lost, i) {
				kept = append(kept, p)
			}
		}
		return kept
	}
	got, st := decodeAudioStats(t, drop(30))
	if st.FECRecovered != 1 || st.Concealed != 0 {
		t.Fatalf("one loss: %+v, want 1 recovered by FEC, none concealed", st)
	}
	if len(got) != len(clean) {
		t.Fatalf("%d samples after a loss, want %d", len(got), len(clean))
	}
	seg := func(pcm []int16) []int16 { return pcm[30*chunkSamples : 31*chunkSamples] }
	fecSNR := snr(seg(clean), seg(got))

	// The same loss concealed instead: a decoder that ignores the FEC.
	plcDec, err := newOpusDecoder(audioChannels)
	if err != nil {
		t.Fatal(err)
	}
	defer plcDec.Close()
	var plc []int16
	for i, p := range pkts {
		var pcm []int16
		if i == 30 {
			pcm, err = plcDec.Decode(nil, chunkSamples)
		} else {
			pcm, err = plcDec.Decode(p.Payload, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		plc = append(plc, pcm...)
	}
	plcSNR := snr(seg(clean), seg(plc))
	t.Logf("lost frame: FEC %.1f dB, PLC %.1f dB against the clean decode", fecSNR, plcSNR)
	if fecSNR < plcSNR+3 {
		t.Errorf("FEC (%.1f dB) not clearly better than concealment (%.1f dB): no FEC in the stream?", fecSNR, plcSNR)
	}
	_, st = decodeAudioStats(t, drop(40, 41))
	if st.FECRecovered != 1 || st.Concealed != 1 || st.ConcealedSamples != chunkSamples {
		t.Errorf("two losses: %+v, want 1 concealed (960 samples) and 1 recovered", st)
	}
	if st.TotalSamplesReceived != uint64(len(clean)) {
		t.Errorf("totalSamplesReceived %d, want %d", st.TotalSamplesReceived, len(clean))
	}
}

// The microphone's level is measured as sent: the tone's RMS, 0 while muted.
func TestLocalAudioLevel(t *testing.T) {
	on, level := &atomic.Bool{}, &atomic.Uint64{}
	on.Store(true)
	g := &gatedAudio{src: newToneSource(440, false), enabled: on, level: level}
	if _, _, err := g.Read(); err != nil {
		t.Fatal(err)
	}
	if l := math.Float64frombits(level.Load()); l < 0.05 || l > 1 {
		t.Fatalf("tone level %v", l)
	}
	on.Store(false)
	if _, _, err := g.Read(); err != nil {
		t.Fatal(err)
	}
	if l := math.Float64frombits(level.Load()); l != 0 {
		t.Fatalf("muted level %v, want 0", l)
	}
}
