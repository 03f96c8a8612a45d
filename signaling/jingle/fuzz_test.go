package jingle

import (
	"encoding/xml"
	"reflect"
	"testing"
)

// FuzzJingleToSDP: any <jingle/> either fails to parse or to translate with an error, or
// translates to an SDP that translates back to the same SDP (a fixed point after one
// round), and what we write as XML parses back to the same value.
func FuzzJingleToSDP(f *testing.F) {
	for _, raw := range goldens(f) {
		f.Add(raw)
	}
	f.Add(`<jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" sid="s"><content creator="initiator" name="a"/></jingle>`)
	f.Fuzz(func(t *testing.T, raw string) {
		j, err := ParseString(raw)
		if err != nil {
			return
		}
		b, err := xml.Marshal(j)
		if err != nil {
			t.Fatalf("marshal of a parsed element: %v", err)
		}
		j2, err := ParseString(string(b))
		if err != nil {
			t.Fatalf("our XML does not parse: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(j, j2) {
			t.Fatalf("XML round trip differs:\n%+v\n%+v", j, j2)
		}
		for _, w := range []Role{Initiator, Responder} {
			s, err := ToSDP(j.Contents, j.Groups, w)
			if err != nil {
				continue
			}
			cs, gs, err := FromSDP(s, w)
			if err != nil {
				t.Fatalf("our SDP does not translate back: %v\n%s", err, s)
			}
			s2, err := ToSDP(cs, gs, w)
			if err != nil || s2 != s {
				t.Fatalf("SDP not a fixed point (%v):\n%s\n%s", err, s, s2)
			}
		}
	})
}

// FuzzSDPToJingle: any SDP either fails with an error, or gives contents that survive
// XML and give back, through SDP, the same contents.
func FuzzSDPToJingle(f *testing.F) {
	for kind, raw := range goldens(f) {
		j, err := ParseString(raw)
		if err != nil || len(j.Contents) == 0 || j.Contents[0].Description == nil {
			continue
		}
		if s, err := ToSDP(j.Contents, j.Groups, writerOf(kind)); err == nil {
			f.Add(s)
		}
	}
	f.Add("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		cs, gs, err := FromSDP(raw, Initiator)
		if err != nil {
			return
		}
		b, err := xml.Marshal(&Jingle{Action: SessionInitiate, SID: "s", Contents: cs, Groups: gs})
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		j, err := ParseString(string(b))
		if err != nil {
			t.Fatalf("our XML does not parse: %v\n%s", err, b)
		}
		s, err := ToSDP(j.Contents, j.Groups, Initiator)
		if err != nil {
			return // e.g. a content without ICE credentials: refused, with an error
		}
		cs2, gs2, err := FromSDP(s, Initiator)
		if err != nil {
			t.Fatalf("our SDP does not translate back: %v\n%s", err, s)
		}
		s2, err := ToSDP(cs2, gs2, Initiator)
		if err != nil || s2 != s {
			t.Fatalf("SDP not a fixed point (%v):\n%s\n%s", err, s, s2)
		}
	})
}
