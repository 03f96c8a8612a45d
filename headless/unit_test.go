package headless

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/devices"
)

func TestParseFlags(t *testing.T) {
	o, err := ParseFlags([]string{"--config", "c.toml", "--answer", "auto", "--call", "1,2", "--video",
		"--play", "a.wav", "--record", "b.ogg", "--echo", "--hangup-after", "3s", "--exit-on-close",
		"--ext", "a=1", "--ext", "b=x=y"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Config != "c.toml" || o.Answer != AnswerAuto || strings.Join(o.Call, ",") != "1,2" || !o.Video ||
		o.Play != "a.wav" || o.Record != "b.ogg" || !o.Echo || o.HangupAfter != 3*time.Second || !o.ExitOnClose {
		t.Errorf("parsed %+v", o)
	}
	if o.Ext["a"] != "1" || o.Ext["b"] != "x=y" || len(o.Ext) != 2 {
		t.Errorf("ext = %v", o.Ext)
	}
	d, err := ParseFlags(nil, io.Discard)
	if err != nil || d.Answer != AnswerIgnore || len(d.Ext) != 0 {
		t.Errorf("defaults: %+v, %v", d, err)
	}
	for _, bad := range [][]string{
		{"--answer", "maybe"}, {"--ext", "novalue"}, {"--bogus"}, {"--hangup-after", "x"},
		{"--call", ","}, {"stray"}, {"--hangup-after", "-1s"},
	} {
		if _, err := ParseFlags(bad, io.Discard); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Command
	}{
		{"accept", Command{Name: "accept"}},
		{" reject  s1 ", Command{Name: "reject", Session: "s1"}},
		{"hangup", Command{Name: "hangup"}},
		// A token with '=' is an extension pair, never a session ID.
		{"reject why=busy", Command{Name: "reject", Ext: call.Extension{"why": "busy"}}},
		{"accept s1 a=1 b=x=y", Command{Name: "accept", Session: "s1", Ext: call.Extension{"a": "1", "b": "x=y"}}},
		{"hangup s2 reason=done", Command{Name: "hangup", Session: "s2", Ext: call.Extension{"reason": "done"}}},
		{"update a=1 b=two", Command{Name: "update", Ext: call.Extension{"a": "1", "b": "two"}}},
		{"mute audio", Command{Name: "mute", Kind: devices.KindAudio}},
		{"unmute video", Command{Name: "unmute", Kind: devices.KindVideo}},
		{"call 12,13 video", Command{Name: "call", IDs: []string{"12", "13"}, Type: call.CallTypeVideo}},
		{"call bob@localhost", Command{Name: "call", IDs: []string{"bob@localhost"}}},
		{"quit", Command{Name: "quit"}},
	} {
		c, err := ParseCommand(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		got, _ := json.Marshal(c)
		want, _ := json.Marshal(tc.want)
		if !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", tc.line, got, want)
		}
	}
	if c, err := ParseCommand("   "); c != nil || err != nil {
		t.Errorf("blank line: %v, %v", c, err)
	}
	for _, bad := range []string{"dance", "mute", "mute ears", "update", "update x", "call", "call 1 fax", "quit now", "accept a b", "reject a=1 s1", "hangup =x"} {
		if _, err := ParseCommand(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestEventLines(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 678900000, time.UTC)
	m := call.EventMeta{SessionID: "s1", User: "bob@localhost", Time: now}
	var buf bytes.Buffer
	e := newEmitter(&buf)
	for _, ev := range []call.Event{
		call.CallEvent{EventMeta: m, CallType: call.CallTypeAudio, InitiatorID: "bob@localhost", OpponentIDs: []call.UserID{"alice@localhost"}, Ext: call.Extension{"k": "v"}},
		call.AcceptEvent{EventMeta: m, CallType: call.CallTypeVideo},
		call.ConnectionStateEvent{EventMeta: m, State: call.ConnectionConnected},
		call.ReconnectEvent{EventMeta: m, State: call.Reconnecting},
		call.RemoteStreamEvent{EventMeta: m, Stream: &call.RemoteStream{Kind: devices.KindAudio}},
		call.InvalidEvent{EventMeta: m, Op: "Accept", Err: errors.New("closed")},
		call.StatsEvent{EventMeta: m, Stats: call.Stats{RTT: 1500 * time.Microsecond, Remote: call.MediaStats{Audio: call.TrackStats{Packets: 50, PacketsLost: 1,
			JitterBufferDelay: 45 * time.Millisecond, JitterBufferTargetDelay: 60 * time.Millisecond,
			TotalSamplesReceived: 48000, ConcealedSamples: 960, ConcealmentEvents: 1, InsertedSamplesForDeceleration: 960}}}},
		call.SessionStateEvent{EventMeta: m},
		call.SessionCloseEvent{EventMeta: m, Reason: "hung up"},
	} {
		if l, ok := callLine(ev); ok {
			e.emit(l)
		}
	}
	if !e.close(time.Second) {
		t.Fatal("emitter did not write its lines")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{
		`{"time":"2026-01-02T03:04:05.6789Z","event":"call","session":"s1","user":"bob@localhost","ext":{"k":"v"},"call_type":"audio","initiator":"bob@localhost","opponents":["alice@localhost"]}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"accept","session":"s1","user":"bob@localhost","ext":{},"call_type":"video"}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"connection_state","session":"s1","user":"bob@localhost","state":"CONNECTED"}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"reconnect","session":"s1","user":"bob@localhost","state":"RECONNECTING"}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"remote_stream","session":"s1","user":"bob@localhost","kind":"audio"}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"invalid_event","session":"s1","user":"bob@localhost","message":"closed","op":"Accept"}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"stats","session":"s1","user":"bob@localhost","local":{"audio":{"bitrate_kbps":0,"bytes":0,"packets":0,"packets_lost":0,"jitter":0},"video":{"bitrate_kbps":0,"bytes":0,"packets":0,"packets_lost":0,"jitter":0}},"remote":{"audio":{"bitrate_kbps":0,"bytes":0,"packets":50,"packets_lost":1,"jitter":0,"jitterBufferDelay_ms":45,"jitterBufferTargetDelay_ms":60,"totalSamplesReceived":48000,"concealedSamples":960,"concealmentEvents":1,"insertedSamplesForDeceleration":960},"video":{"bitrate_kbps":0,"bytes":0,"packets":0,"packets_lost":0,"jitter":0}},"rtt_ms":1.5,"candidate":{"protocol":"","local_type":"","local_address":"","local_port":0,"remote_type":"","remote_address":"","remote_port":0}}`,
		`{"time":"2026-01-02T03:04:05.6789Z","event":"session_close","session":"s1","user":"bob@localhost","reason":"hung up"}`,
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines:\n%s", len(lines), buf.String())
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %s\nwant %s", i, lines[i], want[i])
		}
	}
}

func TestEmitterErrorLineAndTime(t *testing.T) {
	var buf bytes.Buffer
	e := newEmitter(&buf)
	e.errorf("", "", `unknown command "x"`)
	e.close(time.Second)
	var l map[string]any
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if l["event"] != "error" || l["message"] != `unknown command "x"` || l["session"] != "" || l["user"] != "" {
		t.Errorf("line %v", l)
	}
	if _, err := time.Parse(time.RFC3339Nano, l["time"].(string)); err != nil {
		t.Errorf("time: %v", err)
	}
}

// blockingWriter blocks every Write until unblock is closed, then signals each write
// on wrote (when there is room).
type blockingWriter struct {
	unblock chan struct{}
	wrote   chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer // guarded by mu
}

func newBlockingWriter() *blockingWriter {
	return &blockingWriter{unblock: make(chan struct{}), wrote: make(chan struct{}, 16)}
}

func (w *blockingWriter) Write(b []byte) (int, error) {
	<-w.unblock
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return w.buf.Write(b)
}

// TestEmitterNeverBlocks: a stdout nobody reads neither blocks emit nor close; once it
// is read again, the queued lines come out in order, then a line saying how many were
// dropped, then the newer ones.
func TestEmitterNeverBlocks(t *testing.T) {
	w := newBlockingWriter()
	e := newEmitter(w)
	done := make(chan struct{})
	go func() { // ends after the emits, which must not block
		defer close(done)
		for i := range queueLen + 100 {
			e.emit(Line{Event: EvStats, Session: strconv.Itoa(i)})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("emit blocked on a stdout nobody reads")
	}
	close(w.unblock)
	// Room again: the next line comes after a notice of the drop.
	timeout := time.After(10 * time.Second)
	for range 2 {
		select {
		case <-w.wrote:
		case <-timeout:
			t.Fatal("the queued lines were not written")
		}
	}
	e.emit(Line{Event: EvStop, Session: "last"})
	if !e.close(10 * time.Second) {
		t.Fatal("close did not drain the queue")
	}
	lines := strings.Split(strings.TrimSpace(w.buf.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("%d lines", len(lines))
	}
	var l Line
	json.Unmarshal([]byte(lines[0]), &l)
	if l.Session != "0" {
		t.Errorf("first line %s, want session 0", lines[0])
	}
	json.Unmarshal([]byte(lines[len(lines)-2]), &l)
	if l.Event != EvError || !strings.Contains(l.Message, "events dropped") {
		t.Errorf("line before the last = %s, want the drop notice", lines[len(lines)-2])
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &l)
	if l.Session != "last" {
		t.Errorf("last line %s", lines[len(lines)-1])
	}
	if got := len(lines); got > queueLen+3 || got < queueLen-1 {
		t.Errorf("%d lines written, want about the queue's %d plus the notice", got, queueLen)
	}

	// close with a stdout that stays blocked returns after its timeout.
	w2 := newBlockingWriter()
	e2 := newEmitter(w2)
	e2.emit(Line{Event: EvOnline})
	if e2.close(50 * time.Millisecond) {
		t.Error("close reported a line written to a blocked stdout")
	}
	close(w2.unblock) // lets the writer goroutine end
	if !e2.close(10 * time.Second) {
		t.Error("second close did not see the writer end")
	}
}

// TestReadLines: a line too long to be a command is reported and skipped, and the lines
// after it still arrive; CRLF ends are trimmed; a last line without '\n' counts.
func TestReadLines(t *testing.T) {
	in := "accept\r\n" + strings.Repeat("x", maxLine+10) + "\nquit\nhangup"
	out := make(chan stdinLine)
	done := make(chan struct{})
	defer close(done)
	go readLines(strings.NewReader(in), out, done) // ends at EOF
	var got []string
	for l := range out {
		if l.err != nil {
			got = append(got, "ERR "+l.err.Error())
		} else {
			got = append(got, l.text)
		}
	}
	want := []string{"accept", "ERR " + errLineTooLong.Error(), "quit", "hangup"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines %q, want %q", got, want)
	}
	// Exactly maxLine bytes is still a line.
	out = make(chan stdinLine)
	go readLines(strings.NewReader(strings.Repeat("y", maxLine)+"\n"), out, done)
	if l := <-out; l.err != nil || len(l.text) != maxLine {
		t.Errorf("a line of maxLine bytes: err %v, %d bytes", l.err, len(l.text))
	}
	for range out {
	}
}
