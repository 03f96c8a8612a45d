package wire

import (
	"bytes"
	"encoding/xml"
	"testing"

	"mellium.im/xmlstream"
)

// BenchmarkEncodeDecode encodes a typical call signal (a 5.5 KB Chrome offer, userInfo,
// two opponents) to XML bytes and decodes it back, as one hop of signaling costs.
func BenchmarkEncodeDecode(b *testing.B) {
	sch := qbScheme(b)
	s := &Signal{Type: TypeCall, SessionID: sessionID, CallType: CallTypeVideo, CallerID: "1001",
		OpponentIDs: []UserID{"1002", "1003"}, SDP: readFile(b, "offer.sdp"),
		UserInfo: Extension{"name": "Alice", "bandwidth": "0"}}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		enc := xml.NewEncoder(&buf)
		if _, err := xmlstream.Copy(enc, Encode(s, sch)); err != nil {
			b.Fatal(err)
		}
		if err := enc.Flush(); err != nil {
			b.Fatal(err)
		}
		if _, err := Decode(xml.NewDecoder(bytes.NewReader(buf.Bytes())), sch); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
