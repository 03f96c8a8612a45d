package call

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/signaling/quickblox"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

func TestStateStrings(t *testing.T) {
	for want, s := range map[string]interface{ String() string }{
		"NEW": SessionNew, "ACTIVE": SessionActive, "HUNGUP": SessionHungUp, "REJECTED": SessionRejected,
		"CLOSED": SessionClosed, "CONNECTING": ConnectionConnecting, "CONNECTED": ConnectionConnected,
		"COMPLETED": ConnectionCompleted, "DISCONNECTED": ConnectionDisconnected, "FAILED": ConnectionFailed,
		"RECONNECTING": Reconnecting, "RECONNECTED": Reconnected,
	} {
		if s.String() != want {
			t.Errorf("%#v.String() = %q, want %q", s, s.String(), want)
		}
	}
	if SessionStateUnknown.String() != "UNKNOWN" || ReconnectionFailed.String() != "FAILED" || ConnectionClosed.String() != "CLOSED" {
		t.Error("unknown/failed/closed names")
	}
}

func TestHigherID(t *testing.T) {
	for _, c := range []struct {
		a, b UserID
		want bool
	}{
		{"10", "9", true}, {"9", "10", false}, {"bob@x", "alice@x", true}, {"alice@x", "bob@x", false}, {"10", "abc", false},
	} {
		if got := quickblox.HigherID(c.a, c.b); got != c.want {
			t.Errorf("quickblox.HigherID(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

func TestWithBandwidth(t *testing.T) {
	in := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:10\r\na=mid:1\r\n"
	out := withBandwidth(in, 300)
	want := "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\nb=AS:300\r\na=mid:1\r\n"
	if out != want {
		t.Errorf("withBandwidth:\n%q\nwant\n%q", out, want)
	}
	if withBandwidth(in, 0) != in {
		t.Error("kbps 0 changed the SDP")
	}
}

// TestBandwidthAndLFSDP: b=AS reaches the wire in the video section, and SDP whose CRLF
// became LF (as after XML parsing) is accepted.
func TestBandwidthAndLFSDP(t *testing.T) {
	bus := membus.New()
	bus.SetFilter(func(s *wire.Signal) bool {
		s.SDP = strings.ReplaceAll(s.SDP, "\r\n", "\n")
		return true
	})
	alice := newMemParty(t, bus, "alice", func(c *Config) { c.BandwidthKbps = 256 })
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	s, _ := startCall(t, alice, bob, CallTypeVideo, nil, nil)
	waitPackets(t, remoteStream(t, alice, s.ID(), "bob", devices.KindVideo), 5)
	for _, sig := range bus.Delivered() {
		if sig.Type == wire.TypeCall {
			video := sig.SDP[strings.Index(sig.SDP, "m=video"):]
			if !strings.Contains(video, "\nb=AS:256\n") {
				t.Errorf("no b=AS:256 in the video section:\n%s", video)
			}
			if strings.Contains(sig.SDP, "\r") {
				t.Error("filter did not apply")
			}
		}
	}
}

// TestCandidatesBeforeAnswer: the callee's candidates reach the caller before its
// accept; they are kept and applied with the answer.
func TestCandidatesBeforeAnswer(t *testing.T) {
	bus := membus.New()
	var held atomic.Pointer[wire.Signal]
	candsPassed := make(chan struct{}, 1)
	bus.SetFilter(func(s *wire.Signal) bool {
		switch {
		case s.Type == wire.TypeAccept && held.Load() == nil:
			held.Store(s)
			return false
		case s.Type == wire.TypeICECandidates && s.From == "bob" && held.Load() != nil:
			select {
			case candsPassed <- struct{}{}:
			default:
			}
		}
		return true
	})
	alice := newMemParty(t, bus, "alice", nil)
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	s, err := alice.CreateNewSession([]UserID{"bob"}, CallTypeVideo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUserMedia(context.Background(), devices.MediaParams{Audio: true, Video: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	bob.rec.wait(t, "call", isType[CallEvent]("alice"))
	if err := bob.Session(s.ID()).Accept(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-candsPassed:
	case <-time.After(waitTimeout):
		t.Fatal("no candidates from bob")
	}
	bus.SetFilter(nil)
	if err := bus.Inject(held.Load()); err != nil {
		t.Fatal(err)
	}
	waitConnected(t, alice, s.ID(), "bob")
	waitPackets(t, remoteStream(t, alice, s.ID(), "bob", devices.KindVideo), 5)
}

func TestStatsReport(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", func(c *Config) { c.StatsReportInterval = 150 * time.Millisecond })
	bob := newMemParty(t, bus, "bob", func(c *Config) { c.Echo = true })
	startCall(t, alice, bob, CallTypeVideo, nil, nil)
	ev := alice.rec.wait(t, "stats with bitrates", func(ev Event) bool {
		e, ok := ev.(StatsEvent)
		return ok && e.User == "bob" && e.Stats.Local.Video.BitrateKbps > 0 && e.Stats.Remote.Video.BitrateKbps > 0 &&
			e.Stats.Local.Video.FPS > 0
	}).(StatsEvent)
	st := ev.Stats
	// What we send: frame size and rate come from the local track (pion has neither).
	w, h := alice.Session(ev.SessionID).LocalStream().Video.FrameSize()
	if w == 0 || st.Local.Video.Width != w || st.Local.Video.Height != h {
		t.Errorf("sent frame size %dx%d, the track's %dx%d", st.Local.Video.Width, st.Local.Video.Height, w, h)
	}
	if st.Local.Video.FPS > 100 {
		t.Errorf("sent frame rate %.1f fps: more than the source makes", st.Local.Video.FPS)
	}
	if st.Local.Video.Packets == 0 || st.Remote.Audio.Packets == 0 || st.Remote.Video.Bytes == 0 {
		t.Errorf("counters: %+v", st)
	}
	if st.Candidate.LocalAddress != "127.0.0.1" || st.Candidate.RemoteAddress != "127.0.0.1" || st.Candidate.Protocol != "udp" {
		t.Errorf("candidate pair: %+v", st.Candidate)
	}
}

// TestListenersWithoutEventsReader: a client whose Events channel nobody reads still
// works through its listeners (the queue grows instead of blocking), and listeners see
// the same events in the same order as the stream.
func TestListenersWithoutEventsReader(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	cfg := testConfig(t, "bob", bus.Endpoint("bob"))
	cfg.Echo = true
	bob, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bob.Close() })
	bus.Register("bob", receiver(bob))
	connected := make(chan struct{})
	var order []string
	bob.OnCall(func(s *Session, _ CallEvent) {
		order = append(order, "call")
		go func() { _ = s.Accept(nil) }() // owner: this test; ends when Accept returns
	})
	bob.OnSessionConnectionStateChanged(func(_ *Session, e ConnectionStateEvent) {
		order = append(order, e.State.String())
		if e.State == ConnectionConnected {
			close(connected)
		}
	})
	s, _ := alice.CreateNewSession([]UserID{"bob"}, CallTypeAudio)
	if err := s.Call(nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-connected:
	case <-time.After(waitTimeout):
		t.Fatal("bob never connected")
	}
	if strings.Join(order, ",") != "call,CONNECTING,CONNECTED" {
		t.Errorf("listener order %v", order)
	}
}

func TestMute(t *testing.T) {
	bus := membus.New()
	alice := newMemParty(t, bus, "alice", nil)
	s, _ := alice.CreateNewSession([]UserID{"bob"}, CallTypeVideo)
	if err := s.Mute(devices.KindAudio); err == nil {
		t.Error("Mute without media succeeded")
	}
	ls, err := s.GetUserMedia(context.Background(), devices.MediaParams{Audio: true, Video: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mute(devices.KindVideo); err != nil || ls.Video.Enabled() {
		t.Errorf("Mute video: %v, enabled %v", err, ls.Video.Enabled())
	}
	if err := s.Unmute(devices.KindVideo); err != nil || !ls.Video.Enabled() {
		t.Errorf("Unmute video: %v", err)
	}
}

// A Close that runs while another is closing returns only when the engine has stopped
// (before, it returned at once, with the event goroutine still running a listener).
func TestConcurrentCloseWaits(t *testing.T) {
	bus := membus.New()
	c, err := NewClient(testConfig(t, "alice", bus.Endpoint("alice")))
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	c.OnSessionClose(func(*Session, SessionCloseEvent) {
		close(entered)
		<-release
	})
	if _, err := c.CreateNewSession([]UserID{"bob"}, CallTypeAudio); err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	go func() { // owner: this test; ends when the listener is released
		defer close(first)
		_ = c.Close()
	}()
	<-entered // the first Close waits for the listener
	second := make(chan bool)
	go func() { // owner: this test; ends when the second Close returns
		_ = c.Close()
		second <- eventsClosed(c)
	}()
	// Give a second Close that does not wait the time to return early; one that waits
	// (correct) is released after this either way.
	select {
	case closed := <-second:
		close(release)
		<-first
		if !closed {
			t.Fatal("second Close returned while the first was still closing")
		}
		return
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if !<-second {
		t.Fatal("second Close returned before the Events channel was closed")
	}
	<-first
}

// eventsClosed drains what is buffered in c.Events() and reports whether it is closed.
func eventsClosed(c *Client) bool {
	for {
		select {
		case _, ok := <-c.Events():
			if !ok {
				return true
			}
		default:
			return false
		}
	}
}
