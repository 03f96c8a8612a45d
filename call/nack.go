package call

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
)

// ttycall's NACK generator, in place of pion's (nack.GeneratorInterceptor), which
// never learns that a packet came back on the RTX stream: it binds only the media
// stream, so it NACKs every repaired packet again every interval until the packet
// leaves its window, the responder resends it every RTT, and the retransmissions eat
// the responder's budget (the target bitrate over 500 ms) until fresh losses are no
// longer resent. Measured with BenchmarkImpairedCall (2% loss, 60 ms RTT): repaired
// packets kept being asked for, and new ones came back 0.5-2 s late or never.
//
// This one reads both streams: an RTX packet's original sequence number (the first two
// bytes of its payload, RFC 4588) marks the media packet as received. A missing packet
// is asked for when its gap is seen, then again every nackRetry (a lost NACK or a lost
// retransmission), at most nackTries times and for at most nackMaxAge.
const (
	nackRetry   = 100 * time.Millisecond
	nackTries   = 10
	nackMaxAge  = time.Second
	nackMaxGap  = 512 // a larger jump is a sender restarting its numbering, not loss
	nackMaxHeld = 1000
)

type nackFactory struct{ interval time.Duration }

func (f nackFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	g := &nackGenerator{
		interval: f.interval,
		logs:     map[uint32]*missingLog{},
		rtx:      map[uint32]uint32{},
		close:    make(chan struct{}),
		done:     make(chan struct{}),
	}
	return g, nil
}

type nackGenerator struct {
	interceptor.NoOp
	interval  time.Duration
	mu        sync.Mutex
	logs      map[uint32]*missingLog // media SSRC -> its missing packets
	rtx       map[uint32]uint32      // RTX SSRC -> media SSRC
	lastMedia uint32                 // the media stream bound last, waiting for its RTX stream
	started   bool
	close     chan struct{}
	done      chan struct{}
	once      sync.Once
}

// missingLog is one media stream's highest sequence number and missing packets.
type missingLog struct {
	started bool
	highest uint16
	missing map[uint16]*missingPkt
}

type missingPkt struct {
	seen, asked time.Time
	tries       int
}

func (l *missingLog) received(seq uint16, now time.Time) {
	if !l.started {
		l.started, l.highest = true, seq
		return
	}
	d := int16(seq - l.highest)
	switch {
	case d <= 0:
		delete(l.missing, seq)
	case d > nackMaxGap:
		clear(l.missing)
		l.highest = seq
	default:
		for s := l.highest + 1; s != seq; s++ {
			if len(l.missing) < nackMaxHeld {
				l.missing[s] = &missingPkt{seen: now}
			}
		}
		l.highest = seq
	}
}

func nackStream(info *interceptor.StreamInfo) bool {
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			return true
		}
	}
	return false
}

func (g *nackGenerator) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	g.mu.Lock()
	defer g.mu.Unlock()
	if strings.EqualFold(info.MimeType, "video/rtx") {
		// pion binds a receiver's RTX stream right after its media stream and gives
		// neither the other's SSRC: the RTX stream repairs the last media stream
		// bound without one.
		media, ok := g.lastMedia, g.lastMedia != 0
		if !ok {
			return reader
		}
		g.rtx[info.SSRC], g.lastMedia = media, 0
		return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
			n, attr, err := reader.Read(b, a)
			if err != nil {
				return n, attr, err
			}
			if attr == nil {
				attr = make(interceptor.Attributes)
			}
			h, herr := attr.GetRTPHeader(b[:n])
			if herr == nil {
				if off := h.MarshalSize(); n >= off+2 {
					osn := binary.BigEndian.Uint16(b[off : off+2])
					g.mark(media, osn)
				}
			}
			return n, attr, nil
		})
	}
	if !nackStream(info) {
		return reader
	}
	g.logs[info.SSRC] = &missingLog{missing: map[uint16]*missingPkt{}}
	g.lastMedia = info.SSRC
	ssrc := info.SSRC
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, attr, err := reader.Read(b, a)
		if err != nil {
			return n, attr, err
		}
		if attr == nil {
			attr = make(interceptor.Attributes)
		}
		if h, herr := attr.GetRTPHeader(b[:n]); herr == nil {
			g.mark(ssrc, h.SequenceNumber)
		}
		return n, attr, nil
	})
}

func (g *nackGenerator) mark(ssrc uint32, seq uint16) {
	g.mu.Lock()
	if l := g.logs[ssrc]; l != nil {
		l.received(seq, time.Now())
	}
	g.mu.Unlock()
}

func (g *nackGenerator) UnbindRemoteStream(info *interceptor.StreamInfo) {
	g.mu.Lock()
	delete(g.logs, info.SSRC)
	delete(g.rtx, info.SSRC)
	g.mu.Unlock()
}

// BindRTCPWriter starts the loop that sends the NACKs (once per connection).
func (g *nackGenerator) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.close:
		return w
	default:
	}
	if !g.started {
		g.started = true
		// Owned by g; ends on Close.
		go g.loop(w)
	}
	return w
}

func (g *nackGenerator) loop(w interceptor.RTCPWriter) {
	defer close(g.done)
	sender := rand.Uint32()
	t := time.NewTicker(g.interval)
	defer t.Stop()
	for {
		select {
		case <-g.close:
			return
		case now := <-t.C:
			var pkts []rtcp.Packet
			g.mu.Lock()
			for ssrc, l := range g.logs {
				var seqs []uint16
				for seq, m := range l.missing {
					if now.Sub(m.seen) > nackMaxAge || m.tries >= nackTries {
						delete(l.missing, seq)
						continue
					}
					if m.tries == 0 || now.Sub(m.asked) >= nackRetry {
						m.tries++
						m.asked = now
						seqs = append(seqs, seq)
					}
				}
				if len(seqs) > 0 {
					sortSeqs(seqs, l.highest)
					pkts = append(pkts, &rtcp.TransportLayerNack{
						SenderSSRC: sender, MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers(seqs),
					})
				}
			}
			g.mu.Unlock()
			if len(pkts) > 0 {
				_, _ = w.Write(pkts, interceptor.Attributes{})
			}
		}
	}
}

// sortSeqs orders sequence numbers oldest first, across a wrap (all lie within
// nackMaxGap of highest).
func sortSeqs(s []uint16, highest uint16) {
	age := func(x uint16) uint16 { return highest - x }
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && age(s[j]) > age(s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Close stops the loop and waits for it.
func (g *nackGenerator) Close() error {
	g.once.Do(func() { close(g.close) })
	g.mu.Lock()
	started := g.started
	g.mu.Unlock()
	if started {
		<-g.done
	}
	return nil
}
