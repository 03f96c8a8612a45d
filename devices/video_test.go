package devices

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/mediadevices/pkg/frame"
	"github.com/pion/mediadevices/pkg/prop"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
)

// encodeVideo runs a source through the VP8 track for n frames and returns the packets.
func encodeVideo(t testing.TB, src videoSource, n int, disabled bool) ([]*rtp.Packet, *countedSource) {
	t.Helper()
	cs := &countedSource{videoSource: src, start: make(chan struct{}), n: n}
	tr, err := newVideoTrack(cs, 320, 240, 30, 0, nil, false, "s", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	return runTrack(t, tr, cs.start, vp8Codec, disabled), cs
}

// periodicKeyFrames makes the encoders of t's tracks send a key frame every n frames
// (as a sender that answers a key-frame request would) instead of on request only.
func periodicKeyFrames(t *testing.T, n int) {
	old := keyFrameDist
	keyFrameDist = n
	t.Cleanup(func() { keyFrameDist = old })
}

// decodeAll feeds packets synchronously and returns the decoded frames.
func decodeAll(t testing.TB, pkts []*rtp.Packet) ([]*image.YCbCr, *VideoReceiver) {
	t.Helper()
	slot := &FrameSlot{}
	r := newTestVideoReceiver(t, slot)
	var out []*image.YCbCr
	var last uint64
	for _, p := range pkts {
		r.handle(p)
		if img, seq := slot.Load(); seq != last {
			last = seq
			out = append(out, img)
		}
	}
	return out, r
}

// TestGetUserMediaRealTime runs the public path at real pace: GetUserMedia with the
// synthetic sources, the pion track bound to a "peer" whose packets go through WriteRTP
// into the receivers, until 10 frames are shown and audio is heard.
func TestGetUserMediaRealTime(t *testing.T) {
	s, err := GetUserMedia(context.Background(), MediaParams{Audio: true, Video: true, Mirror: true},
		Options{Camera: SourceTest, Microphone: SourceTest, Width: 320, Height: 240, FPS: 30, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.Notices) != 0 {
		t.Fatalf("notices for explicit test sources: %v", s.Notices)
	}
	if s.Video.Kind() != KindVideo || s.Audio.Kind() != KindAudio || s.Video.Label() != "test pattern" {
		t.Fatalf("tracks: %v %v %q", s.Video.Kind(), s.Audio.Kind(), s.Video.Label())
	}
	frames := make(chan struct{}, 64)
	var kfRequests atomic.Int32
	slot := &FrameSlot{}
	vr, err := NewVideoReceiver("video/VP8", slot, func() { kfRequests.Add(1); s.Video.RequestKeyFrame() }, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer vr.Close()
	vr.(*VideoReceiver).onFrame = func() { frames <- struct{}{} }
	out := &captureOutput{}
	ar, err := NewAudioReceiver("audio/opus", out, "peer", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer ar.Close()
	bind(t, s.Video.WebRTC(), &fakeBinding{id: "v", ssrc: 1, codec: vp8Codec, sink: vr})
	bind(t, s.Audio.WebRTC(), &fakeBinding{id: "a", ssrc: 2, codec: opusCodec, sink: ar})

	deadline := time.After(20 * time.Second)
	for i := 0; i < 10; i++ {
		select {
		case <-frames:
		case <-deadline:
			t.Fatalf("only %d frames decoded; stats %+v", i, vr.(*VideoReceiver).Stats())
		}
	}
	if kfRequests.Load() < 1 {
		t.Error("receiver did not ask for a key frame at start")
	}
	img, _ := slot.Load()
	if img.Rect.Dx() != 320 || img.Rect.Dy() != 240 {
		t.Fatalf("decoded size %v", img.Rect)
	}
	// The preview is mirrored: the grey ramp at the bottom, dark on the left of the sent
	// picture, is light on the left of the preview.
	pv, _ := s.Preview.Load()
	if pv == nil {
		t.Fatal("no preview frame")
	}
	if l, r := pv.Y[pv.YOffset(2, 238)], pv.Y[pv.YOffset(317, 238)]; int(l) < int(r)+100 {
		t.Errorf("preview not mirrored: bottom-left Y %d, bottom-right Y %d", l, r)
	}
	if l, r := img.Y[img.YOffset(2, 238)], img.Y[img.YOffset(317, 238)]; int(r) < int(l)+100 {
		t.Errorf("sent picture is mirrored: bottom-left Y %d, bottom-right Y %d", l, r)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	ar.Close()
	if dec, _ := ar.(*AudioReceiver).Frames(); dec == 0 {
		t.Error("no audio decoded")
	}
}

func TestMissingDevicesFallBack(t *testing.T) {
	for _, tc := range []struct {
		cam, mic string
		want     []string
	}{
		{"/dev/video99", "no-such-mic", []string{`camera "/dev/video99" not found; sending a test pattern instead`, `microphone "no-such-mic" not found; sending a 440 Hz test tone instead`}},
		{"missing.ivf", "missing.wav", []string{`camera file "missing.ivf" cannot be used`, `microphone file "missing.wav" cannot be used`}},
	} {
		s, err := getUserMedia(context.Background(), MediaParams{Audio: true, Video: true},
			Options{Camera: tc.cam, Microphone: tc.mic, Width: 160, Height: 120, Logger: quietLog()}, false)
		if err != nil {
			t.Fatalf("%s/%s: %v", tc.cam, tc.mic, err)
		}
		if s.Video.Label() != "test pattern" || s.Audio.Label() != "test tone" {
			t.Errorf("fallback labels %q %q", s.Video.Label(), s.Audio.Label())
		}
		if len(s.Notices) != 2 {
			t.Fatalf("notices %q", s.Notices)
		}
		for i, w := range tc.want {
			if !strings.Contains(s.Notices[i], w) {
				t.Errorf("notice %q does not contain %q", s.Notices[i], w)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The default devices: none on a machine without a camera (CI); a notice, no crash.
	s, err := getUserMedia(context.Background(), MediaParams{Video: true, Audio: true, Mute: true},
		Options{Width: 160, Height: 120, Logger: quietLog()}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Audio.Enabled() {
		t.Error("MediaParams.Mute did not start the microphone muted")
	}
	t.Logf("default devices: video %q, audio %q, notices %q", s.Video.Label(), s.Audio.Label(), s.Notices)
}

func TestMutedCameraSendsBlack(t *testing.T) {
	pkts, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 10, true)
	frames, _ := decodeAll(t, pkts)
	if len(frames) < 9 {
		t.Fatalf("%d frames while muted, want black frames to keep flowing", len(frames))
	}
	for _, f := range frames {
		var maxY uint8
		for _, v := range f.Y {
			maxY = max(maxY, v)
		}
		if maxY > 24 {
			t.Fatalf("muted camera frame has luma up to %d, want black", maxY)
		}
	}
}

// TestLossRequestsKeyFrame drops one packet of an inter frame: the receiver asks for a
// key frame, shows nothing damaged meanwhile, and resumes on the next key frame.
func TestLossRequestsKeyFrame(t *testing.T) {
	periodicKeyFrames(t, 60)
	pkts, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 90, false)
	var keyStarts []int
	for i, p := range pkts {
		var vp codecs.VP8Packet
		if data, err := vp.Unmarshal(p.Payload); err == nil && vp.S == 1 && isVP8KeyFrame(data) {
			keyStarts = append(keyStarts, i)
		}
	}
	if len(keyStarts) < 2 {
		t.Fatalf("key frames at %v: want the periodic one (interval 2 s = 60 frames)", keyStarts)
	}
	drop := keyStarts[0] + (keyStarts[1]-keyStarts[0])/2
	var kept []*rtp.Packet
	kept = append(kept, pkts[:drop]...)
	kept = append(kept, pkts[drop+1:]...)
	frames, r := decodeAll(t, kept)
	st := r.Stats()
	t.Logf("dropped packet %d of %d; key frames at %v; stats %+v", drop, len(pkts), keyStarts, st)
	if st.Lost != 1 || st.KeyFrameRequests < 1 || st.SkippedWaitingKey == 0 {
		t.Fatalf("after a loss: %+v", st)
	}
	if len(frames) >= 90 || len(frames) < 50 { // ~30 before the loss + ~30 from the next key frame
		t.Fatalf("%d frames decoded", len(frames))
	}
}

func TestRequestKeyFrameForcesKeyFrame(t *testing.T) {
	cs := &countedSource{videoSource: newTestPatternSource(160, 120, 30, false), start: make(chan struct{}), n: 30}
	tr, err := newVideoTrack(cs, 160, 120, 30, 0, nil, false, "s", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	var keys atomic.Int32
	tr.out = sampleWriterFunc(func(data []byte) {
		if isVP8KeyFrame(data) {
			keys.Add(1)
		}
		if tr.frames.Load() == 10 {
			tr.RequestKeyFrame()
		}
	})
	close(cs.start)
	waitDone(t, tr.done, 30*time.Second, "encoder")
	tr.Close()
	if keys.Load() != 2 {
		t.Fatalf("%d key frames in 30 frames with one request, want 2 (first + forced)", keys.Load())
	}
}

// TestIVFRecordAndReplay: packets -> IVF recorder -> the IVF file as a camera gives back
// exactly the frames the receiver decoded; a Y4M file loops.
func TestIVFRecordAndReplay(t *testing.T) {
	dir := t.TempDir()
	pkts, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 20, false)
	want, _ := decodeAll(t, pkts)
	path := filepath.Join(dir, "rec.ivf")
	rec, err := NewIVFRecorder(path)
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
	src, err := openVideoFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer src.(*ivfSource).release()
	defer src.Close()
	for i := 0; i < len(want)+3; i++ { // +3: it loops
		img, _, err := src.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if q := psnr(want[i%len(want)], img); q < 99 {
			t.Fatalf("replayed frame %d differs from the received one (PSNR %.1f)", i, q)
		}
	}

	// Y4M: write 3 pattern frames, read 5 (looping).
	pr := newPatternRenderer(64, 48)
	y4m := filepath.Join(dir, "in.y4m")
	f, _ := os.Create(y4m)
	fmt.Fprintf(f, "YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n")
	var ref []*image.YCbCr
	for i := range 3 {
		img := pr.Render(i, time.Time{})
		ref = append(ref, img)
		fmt.Fprintf(f, "FRAME\n")
		f.Write(img.Y)
		f.Write(img.Cb)
		f.Write(img.Cr)
	}
	f.Close()
	ys, err := openVideoFile(y4m, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ys.(*y4mSource).release()
	defer ys.Close()
	for i := range 5 {
		img, _, err := ys.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if psnr(ref[i%3], img) < 99 {
			t.Fatalf("y4m frame %d differs", i)
		}
	}
}

type sampleWriterFunc func([]byte)

func (f sampleWriterFunc) WriteSample(s media.Sample) error { f(s.Data); return nil }

// TestReorderBuffer: swapped packets come out in order with no loss; a missing packet is
// given up after reorderWait and shows as a gap; duplicates are dropped.
func TestReorderBuffer(t *testing.T) {
	pk := func(seq uint16) *rtp.Packet { return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq}} }
	seqs := func(ps []*rtp.Packet) (out []uint16) {
		for _, p := range ps {
			out = append(out, p.SequenceNumber)
		}
		return out
	}
	var b reorderBuffer
	t0 := time.Unix(0, 0)
	var got []uint16
	for _, s := range []uint16{65534, 0, 65535, 1, 1, 3} { // wraps, swapped, duplicate, gap at 2
		got = append(got, seqs(b.push(pk(s), t0))...)
	}
	if fmt.Sprint(got) != "[65534 65535 0 1]" {
		t.Fatalf("in order: %v", got)
	}
	got = seqs(b.push(pk(4), t0.Add(reorderWait)))
	if fmt.Sprint(got) != "[3 4]" {
		t.Fatalf("after giving up on 2: %v", got)
	}
	if got := b.push(pk(2), t0.Add(reorderWait)); len(got) != 0 {
		t.Fatalf("late packet 2 delivered: %v", seqs(got))
	}

	// Through the decoder: a stream with neighbours swapped decodes completely.
	pkts, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 30, false)
	for i := 1; i+1 < len(pkts); i += 5 {
		pkts[i], pkts[i+1] = pkts[i+1], pkts[i]
	}
	slot := &FrameSlot{}
	r := newTestVideoReceiver(t, slot)
	for _, p := range pkts {
		for _, q := range r.reorder.push(p, time.Now()) {
			r.handle(q)
		}
	}
	if st := r.Stats(); st.Frames != 30 || st.Lost != 0 {
		t.Fatalf("reordered stream: %+v", st)
	}
}

func TestListAndModes(t *testing.T) {
	var video, audio bool
	for _, d := range List() {
		if d.ID == SourceTest {
			video = video || d.Kind == KindVideo
			audio = audio || d.Kind == KindAudio
		}
		if strings.Contains(d.Label, "Discard all samples") {
			t.Errorf("miniaudio's null device listed as a microphone: %+v", d)
		}
	}
	if !video || !audio {
		t.Fatalf("List lacks the synthetic sources: %+v", List())
	}
	if findDriver(KindVideo, "/dev/video99") != nil {
		t.Error("found a camera that does not exist")
	}
}

func TestPickVideoProp(t *testing.T) {
	mode := func(w, h int, f frame.Format, fps float32) prop.Media {
		return prop.Media{Video: prop.Video{Width: w, Height: h, FrameFormat: f, FrameRate: fps}}
	}
	props := []prop.Media{
		mode(640, 480, frame.FormatYUYV, 30),
		mode(1280, 720, frame.FormatMJPEG, 30),
		mode(1280, 720, frame.FormatYUYV, 10),
		mode(1920, 1080, frame.FormatZ16, 30), // depth camera: unusable
	}
	for _, tc := range []struct {
		w, h int
		want prop.Media
	}{
		{640, 480, props[0]},
		{1280, 720, props[1]}, // MJPEG at 30 fps beats raw at 10
		{320, 240, props[0]},
	} {
		got, err := pickVideoProp(props, tc.w, tc.h, 30)
		if err != nil || got != tc.want {
			t.Errorf("%dx%d: got %+v, %v; want %+v", tc.w, tc.h, got.Video, err, tc.want.Video)
		}
	}
	if _, err := pickVideoProp([]prop.Media{props[3]}, 640, 480, 30); err == nil {
		t.Error("a depth-only camera was accepted")
	}
}

// TestSequenceRestart: a sender that restarts its sequence numbers behind the old ones
// (pion's ReplaceTrack does, at random) is followed after lateResync packets, for video
// and audio, instead of being dropped as "late" until the numbers wrap.
func TestSequenceRestart(t *testing.T) {
	pk := func(seq uint16) *rtp.Packet { return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq}} }
	var b reorderBuffer
	t0 := time.Unix(0, 0)
	for s := uint16(1000); s < 1010; s++ {
		b.push(pk(s), t0)
	}
	b.push(pk(1011), t0) // pending, waiting for 1010
	var got []uint16
	for s := uint16(100); s < 100+2*lateResync; s++ { // 900 behind: a restart
		for _, p := range b.push(pk(s), t0) {
			got = append(got, p.SequenceNumber)
		}
	}
	if len(got) != lateResync+1 || got[0] != 100+lateResync-1 {
		t.Fatalf("after a restart the buffer delivered %v, want %d.. (%d packets)", got, 100+lateResync-1, lateResync+1)
	}
	// A few late packets (retransmissions after giving up) do not trigger a restart.
	b.push(pk(90), t0)
	if got := b.push(pk(100+2*lateResync), t0); len(got) != 1 {
		t.Fatalf("in-order packet after one late one: %d delivered", len(got))
	}

	// Video: stream A, then stream B numbered 20000 behind; B's periodic key frame at
	// frame 60 must be decoded and what follows it shown.
	periodicKeyFrames(t, 60)
	a, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 10, false)
	bp, _ := encodeVideo(t, newTestPatternSource(320, 240, 30, false), 90, false)
	slot := &FrameSlot{}
	r := newTestVideoReceiver(t, slot)
	seq := uint16(30000)
	feed := func(ps []*rtp.Packet) {
		for _, p := range ps {
			q := p.Clone()
			q.SequenceNumber = seq
			seq++
			for _, x := range r.reorder.push(q, time.Now()) {
				r.handle(x)
			}
		}
	}
	feed(a)
	seq -= 20000
	feed(bp)
	st := r.Stats()
	t.Logf("stats %+v", st)
	if st.Frames < 10+25 {
		t.Fatalf("%d frames decoded; the restarted stream was not followed", st.Frames)
	}

	// Audio: the same restart goes silent for at most lateResync packets.
	pkts := encodeAudio(t, newToneSource(440, false), 100, false)
	for i, p := range pkts {
		if i >= 50 {
			p.SequenceNumber -= 20000
		}
	}
	pcm := decodeAudio(t, pkts)
	if min := (100 - lateResync) * chunkSamples; len(pcm) < min {
		t.Fatalf("decoded %d samples after a sequence restart, want at least %d", len(pcm), min)
	}
}

// TestEncoderAtSourceSize: a source whose size is not the one asked for (a camera's
// nearest mode, a file) gets an encoder of its own size. mediadevices' VP8 encoder
// would otherwise start over at the first frame and leak the libvpx encoder it replaced:
// about 24 MB of C memory per stream at 1280x720, which the process's RSS shows.
func TestEncoderAtSourceSize(t *testing.T) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("no /proc/self/statm:", err)
	}
	rss := func() int64 {
		b, _ := os.ReadFile("/proc/self/statm")
		var size, res int64
		fmt.Sscan(string(b), &size, &res)
		return res * int64(os.Getpagesize())
	}
	y4m := filepath.Join(t.TempDir(), "small.y4m")
	img := newPatternRenderer(64, 48).Render(0, time.Time{})
	data := append([]byte("YUV4MPEG2 W64 H48 F30:1 C420jpeg\nFRAME\n"), img.Y...)
	data = append(append(data, img.Cb...), img.Cr...)
	if err := os.WriteFile(y4m, data, 0o644); err != nil {
		t.Fatal(err)
	}
	stream := func() {
		s, err := getUserMedia(context.Background(), MediaParams{Video: true}, Options{Camera: y4m, Width: 1280, Height: 720, Logger: quietLog()}, false)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if len(s.Notices) != 0 {
			t.Fatalf("notices %q", s.Notices)
		}
		tr := s.Video.(*localTrack)
		deadline := time.Now().Add(20 * time.Second)
		for tr.frames.Load() < 2 { // the first frames are where the encoder would start over
			if time.Now().After(deadline) {
				t.Fatal("no frames encoded")
			}
			time.Sleep(time.Millisecond) // polling a counter the encoder goroutine bumps
		}
		if img, _ := s.Preview.Load(); img == nil || img.Rect.Dx() != 64 {
			t.Fatalf("preview %v", img)
		}
	}
	stream()
	runtime.GC()
	before := rss()
	const n = 20
	for range n {
		stream()
	}
	runtime.GC()
	grew := rss() - before
	t.Logf("RSS grew %d kB over %d streams", grew/1024, n)
	if grew > 150<<20 { // a leak would be ~480 MB; without one it is a few MB
		t.Fatalf("RSS grew %d MB over %d streams: an encoder leaks", grew>>20, n)
	}
}

// TestReorderWaitLearnsRetransmissionTime: a gap that a retransmission fills after
// 100 ms (a NACK on a 80 ms RTT link) raises the wait above 200 ms, so the next such gap
// is waited for instead of skipped; a packet that comes after the buffer gave up raises
// it too.
func TestReorderWaitLearnsRetransmissionTime(t *testing.T) {
	pk := func(seq uint16) *rtp.Packet { return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq}} }
	var b reorderBuffer
	t0 := time.Unix(0, 0)
	b.push(pk(1), t0)
	b.push(pk(3), t0.Add(10*time.Millisecond)) // 2 is missing
	if got := b.push(pk(4), t0.Add(80*time.Millisecond)); len(got) != 2 {
		t.Fatalf("gave up after 70 ms with the default wait: want 3 and 4 out, got %d packets", len(got))
	}
	if got := b.push(pk(2), t0.Add(110*time.Millisecond)); len(got) != 0 {
		t.Fatal("a packet behind the buffer was delivered")
	}
	if w := b.Wait(); w < 200*time.Millisecond {
		t.Fatalf("wait %v after a packet came 100 ms late", w)
	}
	// The next gap is waited for.
	t1 := t0.Add(time.Second)
	b.push(pk(6), t1) // 5 missing
	if got := b.push(pk(7), t1.Add(150*time.Millisecond)); len(got) != 0 {
		t.Fatalf("gave up after 150 ms with a %v wait", b.Wait())
	}
	if got := b.push(pk(5), t1.Add(160*time.Millisecond)); len(got) != 3 {
		t.Fatalf("retransmitted 5 did not release 5, 6, 7: %d packets", len(got))
	}
}

// camera = "test:NAME" writes the name on the pattern: two demo accounts' patterns
// differ where the name is, and the frame is otherwise the test pattern.
func TestNamedTestPattern(t *testing.T) {
	for _, size := range [][2]int{{640, 480}, {64, 48}, {32, 24}} {
		a := newNamedTestPatternSource("alice", size[0], size[1], 30, false).r.Render(0, time.Time{})
		b := newNamedTestPatternSource("bob", size[0], size[1], 30, false).r.Render(0, time.Time{})
		plain := newPatternRenderer(size[0], size[1]).Render(0, time.Time{})
		if bytes.Equal(a.Y, b.Y) || bytes.Equal(a.Y, plain.Y) {
			t.Errorf("%v: the names do not show", size)
		}
		if !bytes.Equal(a.Y[:len(a.Y)/2], plain.Y[:len(plain.Y)/2]) {
			t.Errorf("%v: the name is drawn over the bars", size)
		}
	}
	src, notice := openVideoSource("test:carol", 64, 48, 30, false, slog.New(slog.DiscardHandler))
	if notice != "" || src.Label() != "test pattern" {
		t.Fatalf("test:carol: %v %q", src, notice)
	}
}
