package video

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"image"
	"strconv"
)

// The kitty graphics protocol (https://sw.kovidgoyal.net/kitty/graphics-protocol/):
// each frame is transmitted and placed in one command (a=T) under the tile's image
// ID and placement 1, so the terminal replaces the previous frame in place; raw RGB
// (f=24), zlib-compressed (o=z), base64 in chunks of 4096 bytes (m=1 ... m=0),
// quiet (q=2) and without moving the cursor (C=1). The picture is scaled to the
// cell rectangle by the terminal (c=, r=).
//
// x/ansi's kitty.Encoder was not used: it reads every pixel through image.At, which
// allocates per pixel; this encoder reuses its buffers between frames.

// KittyQueryID is the image ID KittyQuery uses; Bubble Tea v2 delivers the answer as
// ultraviolet's KittyGraphicsEvent with Options.ID == KittyQueryID and Payload "OK".
const KittyQueryID = 31

// KittyQuery asks the terminal whether it implements the kitty graphics protocol,
// followed by a primary device attributes request that every terminal answers: if
// the answer to the first (see IsKittyReply) arrives before the DA1 reply, kitty
// graphics are supported. Send it through Bubble Tea with tea.Raw(video.KittyQuery).
const KittyQuery = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[c"

// IsKittyReply reports whether b (an APC reply read from the terminal, with or without
// its ESC _ / ESC \ framing) is the positive answer to KittyQuery.
func IsKittyReply(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\x1b_"))
	b = bytes.TrimSuffix(b, []byte("\x1b\\"))
	return bytes.HasPrefix(b, []byte("Gi=31")) && bytes.HasSuffix(b, []byte(";OK"))
}

// kittyChunk is the protocol's largest base64 payload per escape sequence.
const kittyChunk = 4096

type kittyState struct {
	rgb  []byte
	prev []uint32 // the picture last sent, for the tolerance check
	z    bytes.Buffer
	zw   *zlib.Writer
	b64  []byte
}

// KittyDelete returns the sequence removing tile id's image (and its placements);
// call it when a tile goes away, since kitty images live outside the cell grid.
func KittyDelete(id int) string {
	return "\x1b_Ga=d,d=I,i=" + strconv.Itoa(id) + ",q=2\x1b\\"
}

func (r *Renderer) renderKitty(dst []byte, img *image.YCbCr) []byte {
	ks := r.opts.KittyScale
	pw, ph := r.rect.W*ks, r.rect.H*ks*2
	r.picture(img, pw, ph)
	k := &r.kitty
	if r.lastSeen && len(k.prev) == len(r.pix) && r.pixelsSame(k.prev) {
		return dst
	}
	k.prev = append(k.prev[:0], r.pix...)
	k.rgb = k.rgb[:0]
	for _, p := range r.pix {
		k.rgb = append(k.rgb, byte(p>>16), byte(p>>8), byte(p))
	}
	k.z.Reset()
	if k.zw == nil {
		k.zw, _ = zlib.NewWriterLevel(&k.z, zlib.BestSpeed) // the level is valid
	} else {
		k.zw.Reset(&k.z)
	}
	_, _ = k.zw.Write(k.rgb) // writes to a bytes.Buffer do not fail
	_ = k.zw.Close()
	k.b64 = base64.StdEncoding.AppendEncode(k.b64[:0], k.z.Bytes())

	var e emitter
	e.begin(dst, true)
	e.moveTo(r.rect.X, r.rect.Y)
	dst = e.buf
	payload := k.b64
	first := true
	for {
		n := min(len(payload), kittyChunk)
		more := n < len(payload)
		dst = append(dst, "\x1b_G"...)
		if first {
			dst = append(dst, "a=T,f=24,o=z,q=2,C=1,p=1,i="...)
			dst = strconv.AppendInt(dst, int64(r.opts.KittyID), 10)
			dst = append(dst, ",s="...)
			dst = strconv.AppendInt(dst, int64(pw), 10)
			dst = append(dst, ",v="...)
			dst = strconv.AppendInt(dst, int64(ph), 10)
			dst = append(dst, ",c="...)
			dst = strconv.AppendInt(dst, int64(r.rect.W), 10)
			dst = append(dst, ",r="...)
			dst = strconv.AppendInt(dst, int64(r.rect.H), 10)
			dst = append(dst, ',')
			first = false
		}
		if more {
			dst = append(dst, "m=1;"...)
		} else {
			dst = append(dst, "m=0;"...)
		}
		dst = append(dst, payload[:n]...)
		dst = append(dst, "\x1b\\"...)
		payload = payload[n:]
		if !more {
			break
		}
	}
	r.lastSeen = true
	r.valid = true
	return dst
}

func (r *Renderer) pixelsSame(prev []uint32) bool {
	t := int(r.opts.Tolerance)
	for i, p := range r.pix {
		if p != prev[i] && (t == 0 || !near(p, prev[i], t)) {
			return false
		}
	}
	return true
}
