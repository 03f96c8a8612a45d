package call

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// hostileFixture: alice in a live call with carol (media flowing from carol), and
// mallory, a bare bus endpoint that records what it receives and sends whatever it
// likes.
type hostileFixture struct {
	bus          *membus.Bus
	alice, carol *party
	s            *Session // alice's session with carol
	rs           *RemoteStream
	offer, ans   string // the real offer and answer of that call
	probes       int    // updates sent by untouched

	mu       sync.Mutex
	toMallor []wire.Signal // guarded by mu
}

func newHostileFixture(t *testing.T) *hostileFixture {
	f := &hostileFixture{bus: membus.New()}
	f.alice = newMemParty(t, f.bus, "alice", nil)
	f.carol = newMemParty(t, f.bus, "carol", func(c *Config) { c.Echo = true })
	f.bus.Register("mallory", func(s *wire.Signal) {
		f.mu.Lock()
		f.toMallor = append(f.toMallor, *s)
		f.mu.Unlock()
	})
	f.s, _ = startCall(t, f.alice, f.carol, CallTypeVideo, nil, nil)
	f.rs = remoteStream(t, f.alice, f.s.ID(), "carol", devices.KindVideo)
	for _, sig := range f.bus.Delivered() {
		switch sig.Type {
		case wire.TypeCall:
			f.offer = sig.SDP
		case wire.TypeAccept:
			f.ans = sig.SDP
		}
	}
	if f.offer == "" || f.ans == "" {
		t.Fatal("no offer or answer on the bus")
	}
	return f
}

// sentToMallory reports whether alice sent mallory a signal of type typ in session sid.
func (f *hostileFixture) sentToMallory(typ wire.Type, sid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.toMallor {
		if s.Type == typ && s.SessionID == sid {
			return true
		}
	}
	return false
}

// waitSentToMallory waits for alice's signal to mallory; the sender goroutine delivers
// it soon after the event that follows it, so this waits on the bus with a deadline.
func (f *hostileFixture) waitSentToMallory(t *testing.T, typ wire.Type, sid string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !f.sentToMallory(typ, sid) {
		if time.Now().After(deadline) {
			t.Fatalf("alice sent mallory no %s for %s", typ, sid)
		}
		<-tick.C
	}
}

// untouched checks the live call: ACTIVE, CONNECTED, media still arriving, and its
// session goroutine still runs operations (a probe answers within the deadline).
func (f *hostileFixture) untouched(t *testing.T) {
	t.Helper()
	probe(t, f.s, func() error {
		p := f.s.peers["carol"]
		if p == nil || p.pc() == nil {
			return errors.New("no peer connection with carol")
		}
		if st := p.pc().SignalingState(); st != webrtc.SignalingStateStable {
			return fmt.Errorf("signaling state %s", st)
		}
		return nil
	})
	if f.s.State() != SessionActive || f.s.ConnectionStateForUser("carol") != ConnectionConnected {
		t.Fatalf("call disturbed: %s / %s", f.s.State(), f.s.ConnectionStateForUser("carol"))
	}
	// An API call through the session goroutine still works end to end.
	f.probes++
	if err := f.s.Update(Extension{"probe": fmt.Sprint(f.probes)}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	f.carol.rec.waitN(t, "probe update", f.probes, isType[UpdateEvent]("alice"))
	waitPackets(t, f.rs, f.rs.PacketsReceived()+5)
	for _, ev := range f.alice.rec.events() {
		if ev.Session() != f.s.ID() {
			continue
		}
		switch ev.(type) {
		case StopEvent, SessionCloseEvent, ReconnectEvent:
			t.Fatalf("unexpected %T in the live call", ev)
		}
	}
}

// probe runs check on the session goroutine and fails when it does not answer in time
// (a hung session goroutine) or check fails.
func probe(t testing.TB, s *Session, check func() error) {
	t.Helper()
	res := make(chan error, 1)
	if !s.post(func() { res <- check() }) {
		t.Fatal("session goroutine ended")
	}
	select {
	case err := <-res:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("session goroutine does not answer")
	}
}

// invalidFor waits for an InvalidEvent of session sid about op.
func invalidFor(t *testing.T, p *party, sid, op string) InvalidEvent {
	t.Helper()
	return p.rec.wait(t, "InvalidEvent "+op+" "+sid, func(ev Event) bool {
		e, ok := ev.(InvalidEvent)
		return ok && e.SessionID == sid && e.Op == op
	}).(InvalidEvent)
}

func mline(sdp, kind string) (start, end int) {
	start = strings.Index(sdp, "m="+kind)
	end = strings.Index(sdp[start+1:], "\r\nm=")
	if end < 0 {
		return start, len(sdp)
	}
	return start, start + 1 + end + 2
}

func TestHostileCall(t *testing.T) {
	f := newHostileFixture(t)
	off := f.offer
	as, ae := mline(off, "audio")
	vs, ve := mline(off, "video")
	var many strings.Builder
	many.WriteString(off[:as])
	for range 300 {
		many.WriteString(off[as:ae])
	}
	bare := off + strings.Repeat("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", 5000)
	var cands strings.Builder
	cands.WriteString(off)
	for i := range 3000 {
		fmt.Fprintf(&cands, "a=candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host\r\n", i, 10000+i)
	}
	junk := strings.Repeat("this is not SDP at all\r\n", 250<<10/24)
	pad := off + strings.Repeat("a=x-padding:0123456789abcdef0123456789abcdef\r\n", 240<<10/46)
	wrongCodecs := strings.NewReplacer("VP8/90000", "H264/90000", "opus/48000/2", "PCMU/8000").Replace(off)
	noCreds := strings.NewReplacer("a=ice-ufrag:", "a=x-ufrag:", "a=ice-pwd:", "a=x-pwd:").Replace(off)
	noFP := strings.ReplaceAll(off, "a=fingerprint:", "a=x-fingerprint:")
	swapped := off[:as] + off[vs:ve] + off[as:ae]

	for _, c := range []struct {
		name, sdp string
		ok        bool // a valid call that rings
	}{
		{"empty", "", false},
		{"garbage", "hello, world", false},
		{"binary", "\x00\xff\xfe v=0\r\n\x00", false},
		{"v=0 only", "v=0\r\n", false},
		{"huge junk", junk, false},
		{"300 full sections", many.String(), false},
		{"5000 bare m-lines", bare, false},
		{"3000 candidates", cands.String(), false},
		{"H264 and PCMU only", wrongCodecs, false},
		{"no ICE credentials", noCreds, false},
		{"no fingerprint", noFP, false},
		{"huge but valid", pad, true},
		{"sections swapped", swapped, true},
		{"LF line ends", strings.ReplaceAll(off, "\r\n", "\n"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if len(c.sdp) > wire.MaxPayload {
				t.Fatalf("test SDP of %d bytes is beyond the codec's limit", len(c.sdp))
			}
			sid := uuid.NewString()
			start := time.Now()
			_ = f.bus.Inject(&wire.Signal{
				From: "mallory", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
				CallerID: "mallory", OpponentIDs: []UserID{"alice"}, SDP: c.sdp,
			})
			if c.ok {
				f.alice.rec.wait(t, "ring", func(ev Event) bool { _, ok := ev.(CallEvent); return ok && ev.Session() == sid })
				if err := f.alice.Session(sid).Reject(nil); err != nil {
					t.Fatal(err)
				}
				f.waitSentToMallory(t, wire.TypeReject, sid)
			} else {
				inv := invalidFor(t, f.alice, sid, "offer")
				if !errors.Is(inv.Err, ErrBadSignal) {
					t.Errorf("err = %v, want ErrBadSignal", inv.Err)
				}
				f.waitSentToMallory(t, wire.TypeReject, sid)
				if f.alice.Session(sid) != nil {
					t.Error("a bad call made a session")
				}
				for _, ev := range f.alice.rec.events() {
					if _, ok := ev.(CallEvent); ok && ev.Session() == sid {
						t.Error("a bad call rang")
					}
				}
				// A re-send of the refused call is a straggler: no session, no ring.
				_ = f.bus.Inject(&wire.Signal{
					From: "mallory", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
					CallerID: "mallory", OpponentIDs: []UserID{"alice"}, SDP: off,
				})
				if f.alice.Session(sid) != nil {
					t.Error("the re-sent call made a session")
				}
			}
			t.Logf("handled in %v", time.Since(start))
			f.untouched(t)
		})
	}

	t.Run("truncated", func(t *testing.T) {
		for pct := 5; pct < 100; pct += 5 {
			sid := uuid.NewString()
			_ = f.bus.Inject(&wire.Signal{
				From: "mallory", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
				CallerID: "mallory", OpponentIDs: []UserID{"alice"}, SDP: off[:len(off)*pct/100],
			})
			// Either refused (InvalidEvent + reject) or a well-formed shorter offer that
			// rings; never neither, never a session left behind.
			ev := f.alice.rec.wait(t, "verdict", func(ev Event) bool {
				switch ev.(type) {
				case CallEvent, InvalidEvent:
					return ev.Session() == sid
				}
				return false
			})
			if _, rang := ev.(CallEvent); rang {
				if err := f.alice.Session(sid).Reject(nil); err != nil {
					t.Fatal(err)
				}
			} else if f.alice.Session(sid) != nil {
				t.Errorf("%d%%: refused call left a session", pct)
			}
			f.waitSentToMallory(t, wire.TypeReject, sid)
		}
		f.untouched(t)
	})

	t.Run("too many opponents", func(t *testing.T) {
		sid := uuid.NewString()
		ops := []UserID{"alice"}
		for i := range 5000 {
			ops = append(ops, UserID(fmt.Sprintf("u%d", i)))
		}
		_ = f.bus.Inject(&wire.Signal{
			From: "mallory", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
			CallerID: "mallory", OpponentIDs: ops, SDP: off,
		})
		if inv := invalidFor(t, f.alice, sid, "offer"); !errors.Is(inv.Err, ErrBadSignal) {
			t.Errorf("err = %v", inv.Err)
		}
		if f.alice.Session(sid) != nil {
			t.Error("session made")
		}
		f.untouched(t)
	})

	// A bad offer of another participant in an ACTIVE mesh session: refused with a
	// reject to that participant, the session and its call untouched.
	t.Run("bad mesh offer", func(t *testing.T) {
		sid := f.s.ID()
		// mallory is not in alice's call with carol: not a participant, nothing sent.
		_ = f.bus.Inject(&wire.Signal{
			From: "mallory", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
			CallerID: "alice", OpponentIDs: []UserID{"carol", "mallory"}, SDP: "garbage",
		})
		if inv := invalidFor(t, f.alice, sid, "offer"); !errors.Is(inv.Err, ErrNotParticipant) {
			t.Errorf("err = %v", inv.Err)
		}
		// carol (a participant) re-sends a garbage call: she already has a connection,
		// so nothing changes and nothing is sent.
		_ = f.bus.Inject(&wire.Signal{
			From: "carol", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
			CallerID: "alice", OpponentIDs: []UserID{"carol"}, SDP: "garbage",
		})
		f.alice.rec.waitN(t, "second invalid call", 2, func(ev Event) bool {
			e, ok := ev.(InvalidEvent)
			return ok && e.SessionID == sid && e.Op == "offer"
		})
		f.untouched(t)
	})
}

func TestHostileAccept(t *testing.T) {
	f := newHostileFixture(t)
	// What each bad answer is made from: the offer alice sends mallory.
	cases := []struct {
		name string
		ans  func(offer string) string
	}{
		{"garbage", func(string) string { return "garbage" }},
		{"empty", func(string) string { return "" }},
		{"offer instead of answer", func(o string) string { return o }},
		{"audio only", func(o string) string {
			vs, ve := mline(o, "video")
			return strings.ReplaceAll(o[:vs]+o[ve:], "setup:actpass", "setup:active")
		}},
		{"sections swapped", func(o string) string {
			as, ae := mline(o, "audio")
			vs, ve := mline(o, "video")
			return strings.ReplaceAll(o[:as]+o[vs:ve]+o[as:ae], "setup:actpass", "setup:active")
		}},
		{"300 sections", func(o string) string {
			as, ae := mline(o, "audio")
			return strings.ReplaceAll(o[:as]+strings.Repeat(o[as:ae], 300), "setup:actpass", "setup:active")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ms, err := f.alice.CreateNewSession([]UserID{"mallory"}, CallTypeVideo)
			if err != nil {
				t.Fatal(err)
			}
			if err := ms.Call(nil); err != nil {
				t.Fatal(err)
			}
			f.waitSentToMallory(t, wire.TypeCall, ms.ID())
			var offer string
			f.mu.Lock()
			for _, s := range f.toMallor {
				if s.Type == wire.TypeCall && s.SessionID == ms.ID() {
					offer = s.SDP
				}
			}
			f.mu.Unlock()
			_ = f.bus.Inject(&wire.Signal{
				From: "mallory", To: "alice", Type: wire.TypeAccept, SessionID: ms.ID(), CallType: CallTypeVideo,
				CallerID: "alice", OpponentIDs: []UserID{"mallory"}, SDP: c.ans(offer),
			})
			inv := invalidFor(t, f.alice, ms.ID(), "answer")
			if !errors.Is(inv.Err, ErrBadSignal) && !errors.Is(inv.Err, ErrWebRTC) {
				t.Errorf("err = %v", inv.Err)
			}
			// The call with mallory ends: a hang-up to her, and the session closes.
			ev := f.alice.rec.wait(t, "closed", isSessionClose(ms.ID())).(SessionCloseEvent)
			if ev.Reason != "bad answer" {
				t.Errorf("reason %q", ev.Reason)
			}
			f.waitSentToMallory(t, wire.TypeHangUp, ms.ID())
			if ms.State() != SessionClosed {
				t.Errorf("state %s", ms.State())
			}
			for _, ev := range f.alice.rec.events() {
				if _, ok := ev.(AcceptEvent); ok && ev.Session() == ms.ID() {
					t.Error("a bad answer was reported as accepted")
				}
			}
			f.untouched(t)
		})
	}
}

func TestHostileCandidates(t *testing.T) {
	f := newHostileFixture(t)
	sid := f.s.ID()
	send := func(cs ...ICECandidate) {
		_ = f.bus.Inject(&wire.Signal{
			From: "carol", To: "alice", Type: wire.TypeICECandidates, SessionID: sid, CallType: CallTypeVideo,
			CallerID: "alice", OpponentIDs: []UserID{"carol"}, Candidates: cs,
		})
	}
	host := func(addr string) ICECandidate {
		return ICECandidate{Candidate: "candidate:1 1 udp 2130706431 " + addr + " 40000 typ host", SDPMid: "0"}
	}
	many := make([]ICECandidate, 5000)
	for i := range many {
		many[i] = ICECandidate{Candidate: fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 1024+i), SDPMid: "0"}
	}
	n := 0
	for _, c := range []struct {
		name string
		cs   []ICECandidate
	}{
		{"garbage", []ICECandidate{{Candidate: "candidate:not a candidate"}}},
		{"no prefix garbage", []ICECandidate{{Candidate: "\x00\x01\x02"}}},
		{"multicast", []ICECandidate{host("224.0.0.1")}},
		{"multicast v6", []ICECandidate{host("ff02::1")}},
		{"unspecified", []ICECandidate{host("0.0.0.0")}},
		{"broadcast", []ICECandidate{host("255.255.255.255")}},
		{"not loopback", []ICECandidate{host("8.8.8.8")}},
		{"DNS name", []ICECandidate{host("evil.example.com")}},
		{"mDNS without mDNS", []ICECandidate{host("abc.local")}},
		{"port 0", []ICECandidate{{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 0 typ host", SDPMid: "0"}}},
		{"5000 at once", many},
		{"good and bad mixed", []ICECandidate{host("127.0.0.1"), host("224.0.0.1"), {Candidate: ""}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			n++
			send(c.cs...)
			ev := f.alice.rec.waitN(t, "invalid candidates", n, func(ev Event) bool {
				e, ok := ev.(InvalidEvent)
				return ok && e.SessionID == sid && e.Op == "candidates"
			}).(InvalidEvent)
			if !errors.Is(ev.Err, ErrBadSignal) {
				t.Errorf("err = %v", ev.Err)
			}
			f.untouched(t)
		})
	}
	// Good candidates (and the end-of-candidates mark) are no InvalidEvent; pion
	// ignores the mid of a candidate (one bundled transport).
	send(host("127.0.0.1"), ICECandidate{},
		ICECandidate{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 40001 typ host", SDPMid: "nope", SDPMLineIndex: 999})
	f.untouched(t)
	for i, ev := range f.alice.rec.events() {
		if e, ok := ev.(InvalidEvent); ok && e.Op == "candidates" {
			n--
			if n < 0 {
				t.Errorf("event %d: good candidates reported invalid: %v", i, e.Err)
			}
		}
	}
}

func TestHostileRestart(t *testing.T) {
	f := newHostileFixture(t)
	sid := f.s.ID()
	send := func(sd *wire.SessionDescription) {
		_ = f.bus.Inject(&wire.Signal{
			From: "carol", To: "alice", Type: wire.TypeUpdate, SessionID: sid, CallType: CallTypeVideo,
			CallerID: "alice", OpponentIDs: []UserID{"carol"}, Reason: wire.ReasonReconnect, SessionDescription: sd,
		})
	}
	off := f.offer // an offer with the sections of the call (alice's own: setup actpass)
	as, ae := mline(off, "audio")
	n := 0
	for _, c := range []struct {
		name string
		sd   wire.SessionDescription
		want error
	}{
		{"garbage offer", wire.SessionDescription{OfferID: "x", SDP: "garbage", Type: "offer"}, ErrBadSignal},
		{"empty offer", wire.SessionDescription{OfferID: "x", Type: "offer"}, ErrBadSignal},
		{"offer without credentials", wire.SessionDescription{OfferID: "x", SDP: strings.ReplaceAll(off, "a=ice-ufrag:", "a=x:"), Type: "offer"}, ErrBadSignal},
		{"offer with other sections", wire.SessionDescription{OfferID: "x", SDP: off[:ae] + off[as:ae], Type: "offer"}, ErrBadSignal},
		{"answer to unknown offer", wire.SessionDescription{OfferID: "nope", SDP: f.ans, Type: "answer"}, ErrInvalidState},
		{"answer without offerId", wire.SessionDescription{SDP: f.ans, Type: "answer"}, ErrInvalidState},
		{"unknown type", wire.SessionDescription{OfferID: "x", SDP: off, Type: "pranswer"}, ErrBadSignal},
	} {
		t.Run(c.name, func(t *testing.T) {
			n++
			send(&c.sd)
			ev := f.alice.rec.waitN(t, "invalid update", n, func(ev Event) bool {
				e, ok := ev.(InvalidEvent)
				return ok && e.SessionID == sid && e.Op == "restart"
			}).(InvalidEvent)
			if !errors.Is(ev.Err, c.want) {
				t.Errorf("err = %v, want %v", ev.Err, c.want)
			}
			f.untouched(t)
		})
	}
}

// An offer whose video speaks only H264 (audio Opus) rings; answering it gives an audio
// call: the video section is refused in the answer, and nothing fails.
func TestHostileCallPartialCodecs(t *testing.T) {
	f := newHostileFixture(t)
	sid := uuid.NewString()
	_ = f.bus.Inject(&wire.Signal{
		From: "mallory", To: "alice", Type: wire.TypeCall, SessionID: sid, CallType: CallTypeVideo,
		CallerID: "mallory", OpponentIDs: []UserID{"alice"}, SDP: strings.ReplaceAll(f.offer, "VP8/90000", "H264/90000"),
	})
	f.alice.rec.wait(t, "ring", func(ev Event) bool { _, ok := ev.(CallEvent); return ok && ev.Session() == sid })
	s := f.alice.Session(sid)
	if err := s.Accept(nil); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	f.waitSentToMallory(t, wire.TypeAccept, sid)
	f.mu.Lock()
	for _, sig := range f.toMallor {
		if sig.Type == wire.TypeAccept && sig.SessionID == sid {
			vs, ve := mline(sig.SDP, "video")
			if line := strings.SplitN(sig.SDP[vs:ve], "\r\n", 2)[0]; !strings.HasPrefix(line, "m=video 0 ") {
				t.Errorf("video section of the answer not refused: %q", line)
			}
			if as, ae := mline(sig.SDP, "audio"); !strings.Contains(sig.SDP[as:ae], "opus/48000") {
				t.Errorf("audio section without Opus:\n%s", sig.SDP[as:ae])
			}
		}
	}
	f.mu.Unlock()
	if err := s.Stop(nil); err != nil {
		t.Fatal(err)
	}
	f.alice.rec.wait(t, "closed", isSessionClose(sid))
	f.untouched(t)
}
