package conference

import "testing"

// Janus 1.1.2's answers to our publish offer (trimmed): with the layers taken, and one
// without (a server or codec that takes no simulcast).
func TestAnswerTakesSimulcast(t *testing.T) {
	const head = "v=0\r\ns=VideoRoom simpub\r\nt=0 0\r\n" +
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=recvonly\r\na=mid:0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=mid:1\r\na=rtpmap:96 VP8/90000\r\n" +
		"a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
	takes := head + "a=rid:h recv\r\na=rid:m recv\r\na=rid:l recv\r\na=simulcast:recv h;m;l\r\n"
	if !answerTakesSimulcast(takes) {
		t.Error("an answer with a=simulcast:recv: not taken")
	}
	if answerTakesSimulcast(head) {
		t.Error("an answer without a=simulcast: taken")
	}
	// a=simulcast in another section than the video's does not count.
	if answerTakesSimulcast("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nm=application 9 x\r\na=simulcast:recv h;m;l\r\n") {
		t.Error("a=simulcast outside the video section: taken")
	}
}
