package devices

import (
	"image"
	"io"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeBinding stands in for a peer connection bound to a local track: pion calls
// WriteRTP on its write stream for every packet, as it would for a real transceiver.
type fakeBinding struct {
	id    string
	ssrc  webrtc.SSRC
	codec webrtc.RTPCodecParameters

	mu      sync.Mutex
	packets []*rtp.Packet
	sink    RTPSink // when set, packets are forwarded instead of kept
}

func (b *fakeBinding) ID() string                                             { return b.id }
func (b *fakeBinding) SSRC() webrtc.SSRC                                      { return b.ssrc }
func (b *fakeBinding) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (b *fakeBinding) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (b *fakeBinding) WriteStream() webrtc.TrackLocalWriter                   { return b }
func (b *fakeBinding) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (b *fakeBinding) RTCPReader() interceptor.RTCPReader                     { return nil }
func (b *fakeBinding) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{b.codec}
}

func (b *fakeBinding) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	p := &rtp.Packet{Header: h.Clone(), Payload: append([]byte(nil), payload...)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sink != nil {
		return len(payload), b.sink.WriteRTP(p)
	}
	b.packets = append(b.packets, p)
	return len(payload), nil
}

func (b *fakeBinding) Write(buf []byte) (int, error) {
	var p rtp.Packet
	if err := p.Unmarshal(buf); err != nil {
		return 0, err
	}
	return b.WriteRTP(&p.Header, p.Payload)
}

func (b *fakeBinding) Packets() []*rtp.Packet {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*rtp.Packet(nil), b.packets...)
}

var vp8Codec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
var opusCodec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, PayloadType: 111}

func bind(t testing.TB, tr webrtc.TrackLocal, b *fakeBinding) {
	t.Helper()
	if _, err := tr.Bind(b); err != nil {
		t.Fatalf("bind %s: %v", b.id, err)
	}
}

// runTrack binds one fake peer to tr, opens its counted source's start, waits until
// the source ran out and returns the packets the peer received.
func runTrack(t testing.TB, tr *localTrack, start chan struct{}, codec webrtc.RTPCodecParameters, disabled bool) []*rtp.Packet {
	t.Helper()
	if disabled {
		tr.SetEnabled(false)
	}
	b := &fakeBinding{id: "a", ssrc: 7, codec: codec}
	bind(t, tr.WebRTC(), b)
	close(start)
	waitDone(t, tr.done, 30*time.Second, tr.kind.String()+" encoder")
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Packets()
}

// countedSource wraps a video source: it waits for start, keeps every frame it hands
// out, and ends with io.EOF after n frames.
type countedSource struct {
	videoSource
	start  chan struct{}
	n      int
	mu     sync.Mutex
	frames []*image.YCbCr
}

func (c *countedSource) ReadFrame() (*image.YCbCr, bool, error) {
	<-c.start
	c.mu.Lock()
	done := len(c.frames) >= c.n
	c.mu.Unlock()
	if done {
		return nil, false, io.EOF
	}
	img, fresh, err := c.videoSource.ReadFrame()
	if err != nil {
		return nil, false, err
	}
	c.mu.Lock()
	c.frames = append(c.frames, img)
	c.mu.Unlock()
	return img, fresh, nil
}

// psnr is the luma and chroma PSNR of b against a (same size), in dB.
func psnr(a, b *image.YCbCr) float64 {
	var sum float64
	var n int
	add := func(x, y []byte) {
		for i := range x {
			d := float64(x[i]) - float64(y[i])
			sum += d * d
		}
		n += len(x)
	}
	add(a.Y, b.Y)
	add(a.Cb, b.Cb)
	add(a.Cr, b.Cr)
	if sum == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/(sum/float64(n)))
}
