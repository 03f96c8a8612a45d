package call

import (
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"

	"github.com/ttycall/ttycall/devices"
)

type sinkFunc func(*rtp.Packet) error

func (f sinkFunc) WriteRTP(p *rtp.Packet) error { return f(p) }

// packetReader hands out the given datagrams one per read, then io.EOF.
func packetReader(dgrams ...[]byte) func([]byte) (int, interceptor.Attributes, error) {
	return func(b []byte) (int, interceptor.Attributes, error) {
		if len(dgrams) == 0 {
			return 0, nil, io.EOF
		}
		n := copy(b, dgrams[0])
		dgrams = dgrams[1:]
		return n, nil, nil
	}
}

func marshalRTP(t testing.TB, seq uint16, marker bool, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptVP8, SequenceNumber: seq, Marker: marker, SSRC: 1}, Payload: payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A packet that does not parse is skipped: the packets after it still reach the sinks
// and then the echo track (before, the first bad packet ended the track's reader for
// good).
func TestPumpSkipsBadPacket(t *testing.T) {
	rs := &RemoteStream{Kind: devices.KindVideo}
	var got []string
	rs.AddSink(sinkFunc(func(p *rtp.Packet) error {
		got = append(got, fmt.Sprintf("sink %d %s", p.SequenceNumber, p.Payload))
		return nil
	}))
	echo := sinkFunc(func(p *rtp.Packet) error {
		got = append(got, fmt.Sprintf("echo %d", p.SequenceNumber))
		return nil
	})
	bad := []byte{0x80} // shorter than an RTP header
	err := rs.pump(packetReader(marshalRTP(t, 1, false, []byte("one")), bad, marshalRTP(t, 2, true, []byte("two"))), echo)
	if err != io.EOF {
		t.Fatalf("pump = %v, want io.EOF", err)
	}
	if want := []string{"sink 1 one", "echo 1", "sink 2 two", "echo 2"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
	if got := rs.PacketsReceived(); got != 2 {
		t.Fatalf("PacketsReceived = %d, want 2", got)
	}
	if got := rs.frames.Load(); got != 1 {
		t.Fatalf("frames = %d, want 1", got)
	}
}

// BenchmarkRemotePump is the per-packet path of a remote track (read, parse, fan out to
// two sinks). It allocates nothing per packet:
//
//	go test -run '^$' -bench RemotePump -benchmem ./call/
func BenchmarkRemotePump(b *testing.B) {
	rs := &RemoteStream{Kind: devices.KindVideo}
	for range 2 {
		rs.AddSink(sinkFunc(func(*rtp.Packet) error { return nil }))
	}
	dgram := marshalRTP(b, 1, true, make([]byte, 1100))
	n := 0
	read := func(buf []byte) (int, interceptor.Attributes, error) {
		if n == b.N {
			return 0, nil, io.EOF
		}
		n++
		return copy(buf, dgram), nil, nil
	}
	b.ReportAllocs()
	b.ResetTimer()
	if err := rs.pump(read, nil); err != io.EOF {
		b.Fatal(err)
	}
}
