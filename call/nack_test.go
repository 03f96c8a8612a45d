package call

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// TestNACKGeneratorLearnsFromRTX: a gap in the media stream is NACKed; once the packet
// comes back on the RTX stream (its original sequence number in the payload) it is no
// longer asked for. pion's generator keeps asking, which starves the responder.
func TestNACKGeneratorLearnsFromRTX(t *testing.T) {
	f := nackFactory{interval: 5 * time.Millisecond}
	i, err := f.NewInterceptor("")
	if err != nil {
		t.Fatal(err)
	}
	g := i.(*nackGenerator)
	defer g.Close()
	nacks := make(chan []uint16, 100)
	g.BindRTCPWriter(interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, _ interceptor.Attributes) (int, error) {
		for _, p := range pkts {
			if n, ok := p.(*rtcp.TransportLayerNack); ok && n.MediaSSRC == 1 {
				var seqs []uint16
				for _, pair := range n.Nacks {
					seqs = append(seqs, pair.PacketList()...)
				}
				select {
				case nacks <- seqs:
				default:
				}
			}
		}
		return 0, nil
	}))
	feed := func(info *interceptor.StreamInfo) func(rtp.Packet) {
		in := make(chan []byte, 1)
		r := g.BindRemoteStream(info, interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
			return copy(b, <-in), a, nil
		}))
		return func(p rtp.Packet) {
			raw, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			in <- raw
			if _, _, err := r.Read(make([]byte, 1500), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	media := feed(&interceptor.StreamInfo{SSRC: 1, MimeType: "video/VP8", RTCPFeedback: []interceptor.RTCPFeedback{{Type: "nack"}}})
	repair := feed(&interceptor.StreamInfo{SSRC: 2, MimeType: "video/rtx"})
	for _, seq := range []uint16{10, 11, 13} {
		media(rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: seq}, Payload: []byte{0}})
	}
	deadline := time.After(waitTimeout)
	select {
	case seqs := <-nacks:
		if len(seqs) != 1 || seqs[0] != 12 {
			t.Fatalf("NACK %v, want [12]", seqs)
		}
	case <-deadline:
		t.Fatal("no NACK for the gap")
	}
	osn := make([]byte, 3)
	binary.BigEndian.PutUint16(osn, 12)
	repair(rtp.Packet{Header: rtp.Header{SSRC: 2, SequenceNumber: 500}, Payload: osn})
	// 12 is no longer missing (so never asked for again); a later gap is.
	media(rtp.Packet{Header: rtp.Header{SSRC: 1, SequenceNumber: 15}, Payload: []byte{0}})
	g.mu.Lock()
	_, still12 := g.logs[1].missing[12]
	_, has14 := g.logs[1].missing[14]
	g.mu.Unlock()
	if still12 || !has14 {
		t.Fatalf("after the repair: 12 missing %v, 14 missing %v", still12, has14)
	}
}
