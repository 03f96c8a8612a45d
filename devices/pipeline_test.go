package devices

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

// waitDone waits for a channel with a deadline instead of sleeping.
func waitDone(t testing.TB, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestVideoPipeline: synthetic camera -> VP8 encode (once) -> pion packetizer fanned out
// to two bindings -> our VP8 frame assembly -> libvpx decode. Both peers get the same
// packets; every source frame comes out, and each decoded frame matches its source.
func TestVideoPipeline(t *testing.T) {
	const n = 60
	src := &countedSource{videoSource: newTestPatternSource(640, 480, 30, false), start: make(chan struct{}), n: n}
	preview := &FrameSlot{}
	tr, err := newVideoTrack(src, 640, 480, 30, 0, preview, false, "s", quietLog())
	if err != nil {
		t.Fatal(err)
	}
	a := &fakeBinding{id: "a", ssrc: 1, codec: vp8Codec}
	b := &fakeBinding{id: "b", ssrc: 2, codec: vp8Codec}
	bind(t, tr.WebRTC(), a)
	bind(t, tr.WebRTC(), b)
	close(src.start)
	waitDone(t, tr.done, 30*time.Second, "encoder to finish")
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	pa, pb := a.Packets(), b.Packets()
	if len(pa) == 0 || len(pa) != len(pb) {
		t.Fatalf("fan-out: binding a got %d packets, b got %d", len(pa), len(pb))
	}
	for i := range pa {
		if string(pa[i].Payload) != string(pb[i].Payload) {
			t.Fatalf("packet %d differs between bindings: the track was not encoded once", i)
		}
	}
	if pa[0].SSRC != 1 || pb[0].SSRC != 2 {
		t.Fatalf("SSRCs %d/%d, want each binding's own", pa[0].SSRC, pb[0].SSRC)
	}

	slot := &FrameSlot{}
	r := newTestVideoReceiver(t, slot)
	var decoded int
	var lastSeq uint64
	var worst = 1000.0
	for _, p := range pa {
		r.handle(p)
		img, seq := slot.Load()
		if seq == lastSeq {
			continue
		}
		lastSeq = seq
		if decoded < len(src.frames) {
			// 30 dB: VP8 at ~740 kbit/s on this flat synthetic pattern gives 38-45 dB;
			// a frame from elsewhere in the sequence (the box moves 4 px per frame, the
			// counter changes) or a broken decode falls far below 30 dB.
			if q := psnr(src.frames[decoded], img); q < worst {
				worst = q
			}
		}
		decoded++
	}
	t.Logf("%d packets, %d/%d frames decoded, worst PSNR %.1f dB", len(pa), decoded, n, worst)
	if decoded < n-2 || decoded > n {
		t.Fatalf("decoded %d frames, want %d (tolerance 2)", decoded, n)
	}
	if worst < 30 {
		t.Fatalf("worst PSNR %.1f dB < 30 dB", worst)
	}
	if img, _ := preview.Load(); img == nil || img.Rect.Dx() != 640 {
		t.Fatalf("preview slot not fed")
	}
}

// newTestVideoReceiver builds a receiver without its goroutine, so a test can feed it
// packets synchronously through handle.
func newTestVideoReceiver(t testing.TB, slot *FrameSlot) *VideoReceiver {
	t.Helper()
	dec, err := newVP8Decoder()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Close)
	return &VideoReceiver{rtpQueue: newRTPQueue(videoQueue), slot: slot, reqKF: func() {}, log: quietLog(), dec: dec, needKey: true}
}
