package devices

import (
	"encoding/binary"
	"fmt"
	"math"
)

// oggPackets splits an Ogg stream into packets of its first logical stream, joining
// packets that span pages. pion's oggreader returns whole page payloads without the
// lacing values, which cannot be split into Opus packets.
func oggPackets(data []byte) ([][]byte, error) {
	var (
		packets [][]byte
		partial []byte
		serial  uint32
		first   = true
	)
	for p := 0; p+27 <= len(data); {
		if string(data[p:p+4]) != "OggS" {
			return packets, fmt.Errorf("ogg: lost page sync at %d: %w", p, ErrBadFile)
		}
		s := binary.LittleEndian.Uint32(data[p+14:])
		nseg := int(data[p+26])
		if p+27+nseg > len(data) {
			break
		}
		lacing := data[p+27 : p+27+nseg]
		body := p + 27 + nseg
		total := 0
		for _, l := range lacing {
			total += int(l)
		}
		if body+total > len(data) {
			break // truncated last page
		}
		if first {
			serial, first = s, false
		}
		if s == serial {
			off := body
			for _, l := range lacing {
				partial = append(partial, data[off:off+int(l)]...)
				off += int(l)
				if l < 255 {
					packets = append(packets, partial)
					partial = nil
				}
			}
		}
		p = body + total
	}
	return packets, nil
}

// decodeOggOpus decodes an Ogg/Opus stream to 48 kHz interleaved PCM, dropping the
// encoder's pre-skip as RFC 7845 asks.
func decodeOggOpus(data []byte) ([]int16, int, error) {
	packets, err := oggPackets(data)
	if len(packets) < 2 {
		if err == nil {
			err = ErrBadFile
		}
		return nil, 0, fmt.Errorf("ogg: no Opus headers: %w", err)
	}
	head := packets[0]
	if len(head) < 19 || string(head[:8]) != "OpusHead" {
		return nil, 0, fmt.Errorf("ogg: not an Opus stream: %w", ErrBadFile)
	}
	channels := int(head[9])
	preSkip := int(binary.LittleEndian.Uint16(head[10:]))
	if channels < 1 {
		return nil, 0, fmt.Errorf("ogg: %d channels: %w", channels, ErrBadFile)
	}
	outCh := min(channels, 2)
	dec, err := newOpusDecoder(outCh)
	if err != nil {
		return nil, 0, err
	}
	defer dec.Close()
	var pcm []int16
	for _, pkt := range packets[2:] { // [1] is OpusTags
		if len(pkt) == 0 {
			continue
		}
		out, err := dec.Decode(pkt, 0)
		if err != nil {
			continue // a damaged packet costs its 20 ms, not the file
		}
		pcm = append(pcm, out...)
	}
	skip := min(preSkip*outCh, len(pcm))
	return pcm[skip:], outCh, nil
}

func float32frombits(b uint32) float32 { return math.Float32frombits(b) }

func clip16(v int32) int16 {
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}
