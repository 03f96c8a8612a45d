package call

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/ulpfec"
)

// fecContext is a pion TrackLocalContext that negotiated VP8, RED and ULPFEC and
// collects what the track writes.
type fecContext struct {
	mu   sync.Mutex
	pkts []*rtp.Packet
	want int // full is closed when this many packets were written
	full chan struct{}
}

func (c *fecContext) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}}}, PayloadType: 96},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeRED, ClockRate: 90000}, PayloadType: 118},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeUlpFEC, ClockRate: 90000}, PayloadType: 120},
	}
}
func (c *fecContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter {
	return []webrtc.RTPHeaderExtensionParameter{{URI: sdp.TransportCCURI, ID: 3}}
}
func (c *fecContext) SSRC() webrtc.SSRC                       { return 1234 }
func (c *fecContext) SSRCRetransmission() webrtc.SSRC         { return 0 }
func (c *fecContext) SSRCForwardErrorCorrection() webrtc.SSRC { return 0 }
func (c *fecContext) WriteStream() webrtc.TrackLocalWriter    { return c }
func (c *fecContext) ID() string                              { return "fec-test" }
func (c *fecContext) RTCPReader() interceptor.RTCPReader      { return nil }

// WriteRTP adds the transport-wide sequence number as pion's interceptor would.
func (c *fecContext) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &rtp.Packet{Header: h.Clone(), Payload: append([]byte(nil), payload...)}
	_ = p.Header.SetExtension(3, []byte{byte(len(c.pkts) >> 8), byte(len(c.pkts))})
	c.pkts = append(c.pkts, p)
	if len(c.pkts) == c.want {
		close(c.full)
	}
	return len(payload), nil
}

// collect binds the video track of a synthetic w x h source to ctx (inside c), tells the
// track its peer reports loss (percent), and returns the bound codec and the first want
// packets the track wrote.
func collect(t *testing.T, ctx webrtc.TrackLocalContext, c *fecContext, w, h, loss, want int) (webrtc.RTPCodecParameters, []*rtp.Packet) {
	t.Helper()
	c.want, c.full = want, make(chan struct{})
	ls, err := devices.GetUserMedia(context.Background(), devices.MediaParams{Video: true},
		devices.Options{Camera: devices.SourceTest, Width: w, Height: h, FPS: 30, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	codec, err := ls.Video.WebRTC().Bind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ls.Video.(interface{ SetStreamLoss(uint32, int) }).SetStreamLoss(1234, loss)
	select {
	case <-c.full:
	case <-time.After(waitTimeout):
		t.Fatalf("fewer than %d packets in %v", want, waitTimeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return codec, append([]*rtp.Packet(nil), c.pkts[:want]...)
}
func (c *fecContext) Write(b []byte) (int, error) { return len(b), nil }

// TestULPFECRepairsLoss runs our video track's RED/ULPFEC output (at 8% reported loss)
// through a lossy link into the receiving side's unwrapper: every media packet the link
// lost in a group that kept the rest of its parity group comes back, byte for byte.
func TestULPFECRepairsLoss(t *testing.T) {
	ctx := &fecContext{}
	codec, sent := collect(t, ctx, ctx, 320, 240, 8, 400)
	if codec.MimeType != mimeRED || len(codec.RTCPFeedback) == 0 {
		t.Fatalf("bound %s with feedback %v: want RED carrying VP8's feedback", codec.MimeType, codec.RTCPFeedback)
	}

	rng := rand.New(rand.NewPCG(9, 9))
	rr := &redReceiver{redPT: 118, fecPT: 120, mediaPT: 96, twccID: 3, dec: ulpfec.NewDecoder(1234)}
	media := map[uint16][]byte{} // what the sender meant, by sequence number
	got := map[uint16][]byte{}
	parity, lost := 0, 0
	for _, p := range sent {
		if p.PayloadType != 118 || len(p.Payload) == 0 {
			t.Fatalf("packet %d: payload type %d, want every packet in RED", p.SequenceNumber, p.PayloadType)
		}
		if p.Payload[0] == 120 {
			parity++
		} else {
			media[p.SequenceNumber] = append([]byte(nil), p.Payload[1:]...)
		}
		if rng.Float64() < 0.08 {
			if p.Payload[0] != 120 {
				lost++
			}
			continue
		}
		q := &rtp.Packet{Header: p.Header.Clone(), Payload: append([]byte(nil), p.Payload...)}
		rr.handle(q, func(x *rtp.Packet) {
			if len(x.Payload) > 0 {
				if x.PayloadType != 96 {
					t.Fatalf("delivered payload type %d, want VP8's 96", x.PayloadType)
				}
				got[x.SequenceNumber] = append([]byte(nil), x.Payload...)
			}
		})
	}
	missing := 0
	for seq, want := range media {
		g, ok := got[seq]
		if !ok {
			missing++
			continue
		}
		if string(g) != string(want) {
			t.Fatalf("packet %d rebuilt wrong", seq)
		}
	}
	t.Logf("%d media, %d parity packets; link lost %d media, %d still missing after FEC", len(media), parity, lost, missing)
	if parity == 0 || lost == 0 || missing*3 > lost {
		t.Fatalf("FEC rebuilt %d of %d lost packets (parity %d)", lost-missing, lost, parity)
	}
}

// plainContext negotiated VP8 alone (a peer without RED/ULPFEC).
type plainContext struct{ fecContext }

func (c *plainContext) CodecParameters() []webrtc.RTPCodecParameters {
	return c.fecContext.CodecParameters()[:1]
}
func (c *plainContext) WriteStream() webrtc.TrackLocalWriter { return c }

// TestPlainVP8WithoutRED: a peer that did not negotiate RED gets plain VP8 packets with
// consecutive sequence numbers, never parity, whatever loss it reports.
func TestPlainVP8WithoutRED(t *testing.T) {
	ctx := &plainContext{}
	codec, pkts := collect(t, ctx, &ctx.fecContext, 160, 120, 20, 60)
	if codec.MimeType != webrtc.MimeTypeVP8 {
		t.Fatalf("bound %s, want VP8", codec.MimeType)
	}
	for i, p := range pkts {
		if p.PayloadType != 96 {
			t.Fatalf("packet %d: payload type %d, want 96", i, p.PayloadType)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("sequence %d after %d", p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
	}
}

// TestHostileRED: RED packets that lie (several blocks, empty, a parity block that is
// garbage, a parity packet of another stream's numbers) are dropped or passed as empty
// packets; nothing panics and nothing non-VP8 comes out.
func TestHostileRED(t *testing.T) {
	rr := &redReceiver{redPT: 118, fecPT: 120, mediaPT: 96, twccID: 3, dec: ulpfec.NewDecoder(1)}
	rng := rand.New(rand.NewPCG(1, 1))
	out := 0
	for i := range 20000 {
		payload := make([]byte, rng.IntN(60))
		for j := range payload {
			payload[j] = byte(rng.Uint32())
		}
		switch i % 4 {
		case 0:
			if len(payload) > 0 {
				payload[0] = 120 // a parity block of garbage
			}
		case 1:
			if len(payload) > 0 {
				payload[0] = 96
			}
		}
		p := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 118, SequenceNumber: uint16(rng.Uint32()), SSRC: 1}, Payload: payload}
		rr.handle(p, func(x *rtp.Packet) {
			out++
			if len(x.Payload) > 0 && x.PayloadType != 96 {
				t.Fatalf("passed on payload type %d with content, want only VP8's 96", x.PayloadType)
			}
		})
	}
	if out == 0 {
		t.Fatal("nothing passed on")
	}
}

// TestQueueWatch: losses on a jittery link (round trips spread over 60 ms) get parity;
// losses while a queue inflates the round trip do not; a route that stays slower for a
// minute becomes the new floor.
func TestQueueWatch(t *testing.T) {
	var q queueWatch
	now := time.Unix(1000, 0)
	rng := rand.New(rand.NewPCG(2, 2))
	for range 50 {
		now = now.Add(time.Second)
		if q.observe(now, 120*time.Millisecond+time.Duration(rng.IntN(60))*time.Millisecond) {
			t.Fatal("a jittery link's round trips read as a queue")
		}
	}
	queued := false
	for range 10 {
		now = now.Add(time.Second)
		queued = q.observe(now, 400*time.Millisecond)
	}
	if !queued {
		t.Fatal("round trips 280 ms above the floor did not read as a queue")
	}
	for range 60 {
		now = now.Add(time.Second)
		queued = q.observe(now, 400*time.Millisecond)
	}
	if queued {
		t.Fatal("a minute at 400 ms did not become the floor")
	}
	if q.observe(now, 0) {
		t.Fatal("no round trip read as a queue")
	}
}

// TestReportRTT: the round trip of a report block is now less the echoed sender
// report's time less the time the receiver held it.
func TestReportRTT(t *testing.T) {
	sent := time.Unix(1_800_000_000, 250_000_000)
	ntp := uint64(sent.Unix()+2208988800)<<32 | uint64(sent.Nanosecond())*(1<<32)/1e9
	r := rtcp.ReceptionReport{LastSenderReport: uint32(ntp >> 16), Delay: 65536 / 10} // held 100 ms
	got := reportRTT(sent.Add(250*time.Millisecond), r)
	if d := got - 150*time.Millisecond; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("rtt %v, want 150ms", got)
	}
	if reportRTT(sent, rtcp.ReceptionReport{}) != 0 {
		t.Fatal("a report without a sender report has a round trip")
	}
}

// TestWithoutBareFEC: RED, ULPFEC and RTX leave a video section without VP8 (so that
// pion refuses it), and stay where VP8 is.
func TestWithoutBareFEC(t *testing.T) {
	h264 := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 102 118 119 120\r\na=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\n" +
		"a=rtpmap:118 red/90000\r\na=rtpmap:119 rtx/90000\r\na=fmtp:119 apt=118\r\na=rtpmap:120 ulpfec/90000\r\n"
	got := withoutBareFEC(h264)
	for _, gone := range []string{"red/", "ulpfec/", "apt=118", " 118", " 119", " 120"} {
		if strings.Contains(got, gone) {
			t.Fatalf("%q left in\n%s", gone, got)
		}
	}
	if !strings.Contains(got, "m=video 9 UDP/TLS/RTP/SAVPF 102\r\n") || !strings.Contains(got, "opus/48000") {
		t.Fatalf("H264 or audio lost:\n%s", got)
	}
	only := "m=video 9 UDP/TLS/RTP/SAVPF 118\r\na=rtpmap:118 red/90000\r\n"
	if got := withoutBareFEC(only); !strings.HasPrefix(got, "m=video 0 ") {
		t.Fatalf("a RED-only section not refused: %q", got)
	}
	vp8 := strings.ReplaceAll(h264, "H264/90000", "VP8/90000")
	if withoutBareFEC(vp8) != vp8 {
		t.Fatal("a VP8 section changed")
	}
}

// TestLostParityIsNoGap: when the parity packets after a frame are lost and the next
// packet starts the next picture, their sequence numbers are passed on as empty
// packets (no receiver waits for them or asks for a key frame); a gap that may have held
// media (the next picture is not the one after) is left for NACK.
func TestLostParityIsNoGap(t *testing.T) {
	rr := &redReceiver{redPT: 118, fecPT: 120, mediaPT: 96, dec: ulpfec.NewDecoder(1)}
	vp8 := func(pic uint16, start bool) []byte {
		b := []byte{0x80, 0x80 | byte(pic>>8), byte(pic), 0xaa}
		if start {
			b[0] |= 0x10
		}
		return append([]byte{96}, b...) // in RED
	}
	var seqs []uint16
	var empty int
	out := func(p *rtp.Packet) {
		seqs = append(seqs, p.SequenceNumber)
		if len(p.Payload) == 0 {
			empty++
		}
	}
	send := func(seq uint16, marker bool, payload []byte) {
		rr.handle(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 118, SequenceNumber: seq, Marker: marker, SSRC: 1}, Payload: payload}, out)
	}
	send(10, false, vp8(5, true))
	send(11, true, vp8(5, false))
	// 12, 13: its parity, lost
	send(14, true, vp8(6, true))
	if want := []uint16{10, 11, 12, 13, 14}; fmt.Sprint(seqs) != fmt.Sprint(want) || empty != 2 {
		t.Fatalf("passed on %v (%d empty), want %v with 12 and 13 empty", seqs, empty, want)
	}
	// 15-17 lost, then picture 8: picture 7 may have been there
	seqs, empty = nil, 0
	send(18, true, vp8(8, true))
	if fmt.Sprint(seqs) != "[18]" || empty != 0 {
		t.Fatalf("passed on %v (%d empty) over a gap that may hold media", seqs, empty)
	}
}
