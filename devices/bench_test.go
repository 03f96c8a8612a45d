package devices

import (
	"fmt"
	"image"
	"syscall"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/codec"
	"github.com/pion/mediadevices/pkg/codec/opus"
	"github.com/pion/mediadevices/pkg/codec/vpx"
	"github.com/pion/mediadevices/pkg/io/audio"
	"github.com/pion/mediadevices/pkg/io/video"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/mediadevices/pkg/wave"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

var benchSizes = []struct{ w, h int }{{640, 480}, {1280, 720}}

// pacedFrames feeds pre-rendered pattern frames at 30 fps and accounts the time spent
// waiting, so that encode time can be told apart. Pacing matters: the mediadevices VP8
// encoder takes timestamps from the wall clock, and its rate control sizes each frame by
// the time since the previous one; unpaced, frames would get a tenth of their real budget.
type pacedFrames struct {
	frames []*image.YCbCr
	i      int
	pace   *pacer
	waited time.Duration
}

func (p *pacedFrames) Read() (image.Image, func(), error) {
	t := time.Now()
	_ = p.pace.wait()
	p.waited += time.Since(t)
	img := p.frames[p.i%len(p.frames)]
	p.i++
	return img, func() {}, nil
}

func renderFrames(w, h, n int) []*image.YCbCr {
	r := newPatternRenderer(w, h)
	out := make([]*image.YCbCr, n)
	for i := range out {
		out[i] = r.Render(i, time.Date(2026, 1, 1, 0, 0, 0, i*33_000_000, time.UTC))
	}
	return out
}

// encodeFrames encodes n frames in real time and returns the VP8 frames.
// busy is wall time inside the encoder; cpu is the process's CPU time meanwhile (the
// pacer sleeps, so it is the encoder's), which stays honest on a loaded machine.
func encodeFrames(tb testing.TB, w, h, n int) (frames [][]byte, busy, cpu time.Duration) {
	return encodeFramesWith(tb, w, h, n, false)
}

// encodeFramesWith is encodeFrames with ttycall's encoder (vp8enc.go) or, with
// mediadevices set, mediadevices' libvpx wrapper as ttycall used it before, for
// comparison.
func encodeFramesWith(tb testing.TB, w, h, n int, mediadevices bool) (frames [][]byte, busy, cpu time.Duration) {
	src := &pacedFrames{frames: renderFrames(w, h, 30), pace: newPacer(time.Second / 30)}
	var enc codec.ReadCloser
	if mediadevices {
		params, err := videoParams(defaultVideoBitrate(w, h, 30), 30)
		if err != nil {
			tb.Fatal(err)
		}
		if enc, err = params.BuildVideoEncoder(video.Reader(src), prop.Media{Video: prop.Video{Width: w, Height: h}}); err != nil {
			tb.Fatal(err)
		}
	} else {
		e, err := newVP8Encoder(video.Reader(src), w, h, 30, defaultVideoBitrate(w, h, 30))
		if err != nil {
			tb.Fatal(err)
		}
		enc = e
	}
	defer enc.Close()
	var out [][]byte
	start, cpu0 := time.Now(), cpuTime()
	for range n {
		data, rel, err := enc.Read()
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, data)
		rel()
	}
	return out, time.Since(start) - src.waited, cpuTime() - cpu0
}

// BenchmarkVP8Encode reports libvpx encode time per frame (ms/frame) at 30 fps with the
// default real-time bitrate. Run: go test -run X -bench VP8Encode -benchtime 60x ./devices/
func BenchmarkVP8Encode(b *testing.B) {
	for _, s := range benchSizes {
		for _, md := range []bool{false, true} {
			name := fmt.Sprintf("%dx%d", s.w, s.h)
			if md {
				name += "-mediadevices"
			}
			b.Run(name, func(b *testing.B) { benchEncode(b, s.w, s.h, md) })
		}
	}
}

func benchEncode(b *testing.B, w, h int, md bool) {
	frames, busy, cpu := encodeFramesWith(b, w, h, b.N, md)
	var bytes int
	for _, f := range frames {
		bytes += len(f)
	}
	b.ReportMetric(float64(busy.Microseconds())/1000/float64(b.N), "ms/frame")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/frame")
	b.ReportMetric(float64(bytes)*8*30/float64(b.N)/1000, "kbit/s")
}

// BenchmarkVP8Decode reports decode time per frame of a real-time encoded stream.
func BenchmarkVP8Decode(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", s.w, s.h), func(b *testing.B) {
			frames, _, _ := encodeFrames(b, s.w, s.h, 30) // starts with a key frame
			dec, err := newVP8Decoder()
			if err != nil {
				b.Fatal(err)
			}
			defer dec.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := dec.Decode(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/frame")
		})
	}
}

func toneReader() audio.Reader {
	src := newToneSource(440, false)
	return audio.ReaderFunc(func() (wave.Audio, func(), error) {
		c := wave.NewInt16Interleaved(wave.ChunkInfo{Len: chunkSamples, Channels: 1, SamplingRate: sampleRate})
		err := src.ReadChunk(c.Data)
		return c, func() {}, err
	})
}

// BenchmarkOpusEncode: one op is one 20 ms mono frame at 32 kbit/s.
func BenchmarkOpusEncode(b *testing.B) {
	params, _ := opus.NewParams()
	params.BitRate = opusBitrate
	enc, err := params.BuildAudioEncoder(toneReader(), prop.Media{Audio: prop.Audio{SampleRate: sampleRate, ChannelCount: 1}})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	for i := 0; i < b.N; i++ {
		if _, _, err := enc.Read(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpusDecode: one op is one 20 ms frame.
func BenchmarkOpusDecode(b *testing.B) {
	params, _ := opus.NewParams()
	params.BitRate = opusBitrate
	enc, err := params.BuildAudioEncoder(toneReader(), prop.Media{Audio: prop.Audio{SampleRate: sampleRate, ChannelCount: 1}})
	if err != nil {
		b.Fatal(err)
	}
	var pkts [][]byte
	for range 50 {
		p, _, err := enc.Read()
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	enc.Close()
	dec, err := newOpusDecoder(1)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := dec.Decode(pkts[i%len(pkts)], 0); err != nil {
			b.Fatal(err)
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoopCPU640x480at30 runs the whole local loop in real time: synthetic camera
// 640x480@30 -> VP8 encode -> pion packetizer -> WriteRTP -> VP8 assembly -> decode ->
// FrameSlot, and reports the process's CPU time over wall time (100% = one core).
// Run: go test -run X -bench LoopCPU -benchtime 150x ./devices/
func BenchmarkLoopCPU640x480at30(b *testing.B) {
	src := newTestPatternSource(640, 480, 30, true)
	tr, err := newVideoTrack(src, 640, 480, 30, 0, &FrameSlot{}, false, "s", quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	frames := make(chan struct{}, 1024)
	rcv, err := NewVideoReceiver("video/VP8", &FrameSlot{}, tr.RequestKeyFrame, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer rcv.Close()
	rcv.(*VideoReceiver).onFrame = func() { frames <- struct{}{} }
	bind(b, tr.WebRTC(), &fakeBinding{id: "v", ssrc: 1, codec: vp8Codec, sink: rcv})
	<-frames // warm-up: first key frame through
	b.ResetTimer()
	cpu0, wall0 := cpuTime(), time.Now()
	for i := 0; i < b.N; i++ {
		select {
		case <-frames:
		case <-time.After(5 * time.Second):
			b.Fatalf("frame %d did not arrive", i)
		}
	}
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu%")
	b.ReportMetric(float64(b.N)/wall.Seconds(), "fps")
	if st := rcv.(*VideoReceiver).Stats(); st.Lost+st.Dropped+st.DecodeErrors > 0 {
		b.Logf("losses in the loop: %+v", st)
	}
}

// BenchmarkReceiveVideo: one op is one packet of a 640x480 stream through the receive
// goroutine's path (reorder buffer, VP8 assembly, decode into the FrameSlot), fed
// synchronously; allocs/op shows what the hot path allocates per packet.
// Run: go test -run X -bench ReceiveVideo -benchmem ./devices/
func BenchmarkReceiveVideo(b *testing.B) {
	frames, _, _ := encodeFrames(b, 640, 480, 30)
	var pkts []*rtp.Packet
	pz := rtp.NewPacketizer(1200, 96, 1, &codecs.VP8Payloader{}, rtp.NewRandomSequencer(), 90000)
	for range 4 { // enough packets to loop over; each pass starts with the key frame
		for _, f := range frames {
			pkts = append(pkts, pz.Packetize(f, 3000)...)
		}
	}
	r := newTestVideoReceiver(b, &FrameSlot{})
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pkts[i%len(pkts)]
		if i > 0 && i%len(pkts) == 0 {
			b.StopTimer() // start over: new receiver state, same packets
			r.reorder, r.haveSeq = reorderBuffer{}, false
			b.StartTimer()
		}
		for _, q := range r.reorder.push(p, now) {
			r.handle(q)
		}
	}
}

// BenchmarkReorderInOrder: one op is one in-order packet through the reorder buffer.
func BenchmarkReorderInOrder(b *testing.B) {
	var rb reorderBuffer
	p := &rtp.Packet{}
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.SequenceNumber = uint16(i)
		rb.push(p, now)
	}
}

// videoParams are the mediadevices libvpx settings ttycall used before vp8enc.go for interactive video: constant bitrate, no lag
// (every frame leaves the encoder at once), the realtime deadline, error resilience so
// a lost packet damages less, and a key frame at least every 2 s so that peers joining a
// mesh without sending PLI still start quickly.
func videoParams(bitrate, fps int) (vpx.VP8Params, error) {
	p, err := vpx.NewVP8Params()
	if err != nil {
		return p, fmt.Errorf("vp8 params: %w", err)
	}
	p.BitRate = bitrate
	p.KeyFrameInterval = 2 * fps
	p.RateControlEndUsage = vpx.RateControlCBR
	p.RateControlMinQuantizer = 4
	p.RateControlMaxQuantizer = 56
	p.RateControlUndershootPercent = 95
	p.RateControlOvershootPercent = 15
	p.LagInFrames = 0
	p.ErrorResilient = vpx.ErrorResilientDefault
	return p, nil
}
