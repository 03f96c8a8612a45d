package call

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/call/internal/membus"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// The property test: random sequences of signals (random types, session IDs from a
// small set, senders in and out of the session, valid and broken SDP, replays of
// delivered signals) interleaved with API calls, against two real clients (alice and
// bob) and two fake users (carol, mallory) whose signals the input makes up. After
// every sequence every session is stopped and both clients closed, and the invariants
// below are checked.

// fuzzSDP is a real offer and answer (made once by two pion peer connections).
var fuzzSDP = sync.OnceValues(func() (offer, answer string) {
	cfg := Config{LoopbackOnly: true}
	cfg.setDefaults()
	api, err := newAPI(&cfg, nil, nil)
	if err != nil {
		panic(err)
	}
	a, _ := api.NewPeerConnection(webrtc.Configuration{})
	b, _ := api.NewPeerConnection(webrtc.Configuration{})
	defer a.Close()
	defer b.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := a.AddTransceiverFromKind(k); err != nil {
			panic(err)
		}
	}
	o, err := a.CreateOffer(nil)
	if err != nil {
		panic(err)
	}
	if err := b.SetRemoteDescription(o); err != nil {
		panic(err)
	}
	ans, err := b.CreateAnswer(nil)
	if err != nil {
		panic(err)
	}
	return o.SDP, ans.SDP
})

// fuzzInput hands out decisions from the fuzzer's bytes; 0 once they run out.
type fuzzInput struct {
	b []byte
	i int
}

func (in *fuzzInput) more() bool { return in.i < len(in.b) }

func (in *fuzzInput) n(k int) int {
	if in.i >= len(in.b) || k <= 1 {
		return 0
	}
	v := int(in.b[in.i]) % k
	in.i++
	return v
}

func pick[T any](in *fuzzInput, xs []T) T { return xs[in.n(len(xs))] }

const fuzzMaxSteps = 48

var fuzzUsers = []UserID{"alice", "bob", "carol", "mallory"}

// runSignalSequence drives one sequence and checks the invariants.
func runSignalSequence(t *testing.T, data []byte) {
	ignore := goleak.IgnoreCurrent()
	in := &fuzzInput{b: data}
	offer, answer := fuzzSDP()
	sdps := []string{"", "garbage", offer, answer, offer[:len(offer)/2], strings.ReplaceAll(offer, "\r\n", "\n"),
		strings.ReplaceAll(offer, "VP8/90000", "H264/90000"), "v=0\r\n"}
	cands := [][]ICECandidate{
		nil,
		{{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host", SDPMid: "0"}},
		{{Candidate: "candidate:garbage"}},
		{{Candidate: "candidate:1 1 udp 2130706431 224.0.0.1 40000 typ host"}, {Candidate: ""}},
	}

	bus := membus.New()
	short := func(c *Config) {
		setDialing(c, 30*time.Millisecond)
		c.AnswerTimeInterval = 300 * time.Millisecond
		c.Echo = true
		c.AutoReject = in.n(2) == 1
	}
	alice := newMemParty(t, bus, "alice", short)
	bob := newMemParty(t, bus, "bob", short)
	for _, u := range []UserID{"carol", "mallory"} {
		bus.Register(u, func(*wire.Signal) {})
	}
	parties := []*party{alice, bob}
	var mine []*Session // every session the clients made, to check at the end
	sids := []string{"s1", "s2"}
	seen := func(s *Session) {
		if s != nil && !slices.Contains(mine, s) {
			mine = append(mine, s)
			if !slices.Contains(sids, s.ID()) {
				sids = append(sids, s.ID())
			}
		}
	}
	sessions := func(p *party) []*Session {
		ss := p.Sessions()
		slices.SortFunc(ss, func(a, b *Session) int { return strings.Compare(a.ID(), b.ID()) })
		for _, s := range ss {
			seen(s)
		}
		return ss
	}
	ext := Extension{"k": "v"}

	for step := 0; step < fuzzMaxSteps && in.more(); step++ {
		switch in.n(7) {
		case 0, 1: // a made-up signal to alice or bob
			to := pick(in, []UserID{"alice", "bob"})
			from := pick(in, fuzzUsers)
			sig := &wire.Signal{
				From: from, To: to, SessionID: pick(in, sids),
				Type:        pick(in, []wire.Type{wire.TypeCall, wire.TypeAccept, wire.TypeReject, wire.TypeHangUp, wire.TypeICECandidates, wire.TypeUpdate, "bogus"}),
				CallType:    CallType(in.n(4)),
				CallerID:    pick(in, fuzzUsers),
				OpponentIDs: pick(in, [][]UserID{{to}, {"alice", "bob"}, {"alice", "bob", "carol"}, {"mallory"}, nil}),
				SDP:         pick(in, sdps),
				Candidates:  pick(in, cands),
				UserInfo:    ext,
			}
			if sig.Type == wire.TypeUpdate && in.n(2) == 1 {
				sig.Reason = wire.ReasonReconnect
				sig.SessionDescription = &wire.SessionDescription{
					OfferID: pick(in, []string{"", "x"}), SDP: pick(in, sdps), Type: pick(in, []string{"offer", "answer", "junk"}),
				}
			}
			_ = bus.Inject(sig)
		case 2: // a replay of a delivered signal (duplicate, reordered), maybe re-addressed
			log := bus.Delivered()
			if len(log) == 0 {
				continue
			}
			sig := log[len(log)-1-in.n(min(len(log), 32))]
			if in.n(3) == 0 {
				sig.From = pick(in, fuzzUsers)
			}
			if sig.To == "alice" || sig.To == "bob" {
				_ = bus.Inject(&sig)
			}
		case 3: // an API call on a live session
			p := pick(in, parties)
			ss := sessions(p)
			if len(ss) == 0 {
				continue
			}
			s := pick(in, ss)
			switch in.n(5) {
			case 0:
				_ = s.Accept(ext)
			case 1:
				_ = s.Reject(ext)
			case 2:
				_ = s.Stop(ext)
			case 3:
				_ = s.Update(ext)
			case 4:
				_ = s.Call(ext)
			}
		case 4: // a new outgoing session
			p := pick(in, parties)
			ops := pick(in, [][]UserID{{"bob"}, {"alice"}, {"carol"}, {"alice", "bob", "carol"}, {"mallory", "carol"}})
			s, err := p.CreateNewSession(ops, pick(in, []CallType{CallTypeAudio, CallTypeVideo}))
			if err == nil {
				seen(s)
				_ = s.Call(ext)
			}
		case 6: // answer every ringing call of one party (calls that connect)
			for _, s := range sessions(pick(in, parties)) {
				if !s.Outgoing() && s.State() == SessionNew {
					_ = s.Accept(ext)
				}
			}
		case 5: // let time pass a little (timers: re-dials, answer timeouts)
			waitQuiet(p0(parties), time.Duration(in.n(4))*20*time.Millisecond)
		}
		for _, p := range parties {
			sessions(p)
		}
	}

	// Stop everything, then close; both must end within the deadline.
	for _, p := range parties {
		for _, s := range sessions(p) {
			_ = s.Stop(nil)
		}
	}
	for _, p := range parties {
		done := make(chan struct{})
		go func() { // owner: this test; ends when Close returns
			defer close(done)
			_ = p.Client.Close()
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Close did not return", p.LocalID())
		}
		<-p.rec.done
	}
	for _, p := range parties {
		if n := len(p.Sessions()); n != 0 {
			t.Errorf("%s: %d live sessions after Close", p.LocalID(), n)
		}
	}
	for _, s := range mine {
		if st := s.State(); st != SessionClosed {
			t.Errorf("session %s of %s: %s after Close", s.ID(), s.c.LocalID(), st)
		}
	}
	for _, p := range parties {
		checkEventInvariants(t, p.LocalID(), p.rec.events())
	}
	kinds := map[string]int{}
	for _, p := range parties {
		for _, ev := range p.rec.events() {
			k := strings.TrimPrefix(fmt.Sprintf("%T", ev), "call.")
			if e, ok := ev.(ConnectionStateEvent); ok {
				k = e.State.String()
			}
			kinds[k]++
		}
	}
	t.Logf("%d sessions; events %v", len(mine), kinds)
	// goleak retries for about 2 s; on a loaded machine pion's last goroutines may end
	// later than that after Close, so a leak must also survive a second round.
	if err := goleak.Find(ignore); err != nil {
		if err := goleak.Find(ignore); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.Logf("input %x", data)
	}
}

func p0(ps []*party) *party { return ps[0] }

// waitQuiet waits for d (0: not at all) on a timer; it stands for time passing in the
// sequence, not for waiting on something.
func waitQuiet(_ *party, d time.Duration) {
	if d > 0 {
		<-time.After(d)
	}
}

// checkEventInvariants: per session, the session state only moves forward; every
// session that existed emits exactly one SessionCloseEvent, and after it only
// InvalidEvents of that session.
func checkEventInvariants(t *testing.T, who UserID, evs []Event) {
	t.Helper()
	type sess struct {
		state   SessionState
		existed bool
		closes  int
	}
	ss := map[string]*sess{}
	conn := map[string]ConnectionState{} // session/user -> last connection state
	get := func(id string) *sess {
		if ss[id] == nil {
			ss[id] = &sess{}
		}
		return ss[id]
	}
	for i, ev := range evs {
		if ev.Session() == "" {
			continue
		}
		st := get(ev.Session())
		if st.closes > 0 {
			if _, ok := ev.(InvalidEvent); !ok {
				t.Errorf("%s: event %d %T %+v after the SessionCloseEvent of %s", who, i, ev, ev, ev.Session())
			}
		}
		switch e := ev.(type) {
		case SessionStateEvent:
			st.existed = true
			if e.Old != st.state || e.New <= e.Old {
				t.Errorf("%s: session %s: state %s -> %s (was %s)", who, e.SessionID, e.Old, e.New, st.state)
			}
			st.state = e.New
		case ConnectionStateEvent:
			// A closed peer connection stays closed; only a new one (a participant
			// calling again in a mesh) starts over at CONNECTING.
			k := e.SessionID + "/" + string(e.User)
			if conn[k] == ConnectionClosed && e.State != ConnectionConnecting {
				t.Errorf("%s: session %s: %s's connection CLOSED -> %s", who, e.SessionID, e.User, e.State)
			}
			conn[k] = e.State
		case SessionCloseEvent:
			st.closes++
			if st.state != SessionClosed {
				t.Errorf("%s: session %s closed in state %s", who, e.SessionID, st.state)
			}
		}
	}
	for id, st := range ss {
		if st.existed && st.closes != 1 {
			t.Errorf("%s: session %s: %d SessionCloseEvents", who, id, st.closes)
		}
		if !st.existed && st.closes != 0 {
			t.Errorf("%s: session %s closed without existing", who, id)
		}
	}
}

// TestSignalSequences is the seeded, deterministic-input version of FuzzSignalSequences
// that runs with go test (a few seconds).
func TestSignalSequences(t *testing.T) {
	n, first := 12, 0
	if testing.Short() {
		n = 4
	}
	// CALL_SEQUENCES=first:count runs other seeds (a longer local search).
	if v := os.Getenv("CALL_SEQUENCES"); v != "" {
		if _, err := fmt.Sscanf(v, "%d:%d", &first, &n); err != nil {
			t.Fatalf("CALL_SEQUENCES=%q: %v", v, err)
		}
	}
	for seed := first; seed < first+n; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 0x7779))
			data := make([]byte, 400)
			for i := range data {
				data[i] = byte(r.UintN(256))
			}
			runSignalSequence(t, data)
		})
	}
}

// FuzzSignalSequences: go test -race -run '^$' -fuzz FuzzSignalSequences -fuzztime 3000x
// -fuzzminimizetime 1x -parallel 1 ./call/ (about 5 minutes here). A count, not a
// duration: with a duration, Go 1.26's coordinator can end a clean run with a bare
// "context deadline exceeded" and no failing input (golang/go#75804, fixed in 1.27).
func FuzzSignalSequences(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{4, 0, 0, 1, 3, 1, 0, 0, 2, 2, 2, 2})
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x05\x03"))
	for seed := range 4 {
		r := rand.New(rand.NewPCG(uint64(seed), 1))
		b := make([]byte, 200)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Fuzz(runSignalSequence)
}
