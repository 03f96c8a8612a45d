package call

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ttycall/ttycall/devices"
)

// Session is one call session. Its state is owned by one goroutine (run) that executes
// operations one at a time from a queue: API calls, incoming messages, pion callbacks and
// timers all become operations, so none of them race and SDP operations never overlap.
type Session struct {
	mu        sync.Mutex
	state     SessionState               // guarded by mu; written by the session goroutine
	connState map[UserID]ConnectionState // guarded by mu; written by the session goroutine
	local     *devices.LocalStream       // guarded by mu

	c         *Client
	log       *slog.Logger
	id        string
	initiator UserID
	opponents []UserID // every callee, as on the wire (the initiator not included)
	callType  CallType
	protocol  string // SessionInfo.Protocol: the adapter replies go through
	outgoing  bool   // we are the initiator
	rules     Rules  // the protocol's policy for this session

	ops *queue[func()]

	// Owned by the session goroutine.
	peers       map[UserID]*peer
	gone        map[UserID]bool // users whose peer connection closed
	closed      bool
	ringing     bool   // incoming: CallEvent emitted
	answerTimer *timer // incoming: answer timeout while NEW
	statsTimer  *timer
	adaptTimer  *timer // the encoder follows the bandwidth estimate (adapt.go)
}

func (c *Client) newSessionLocked(si SessionInfo, outgoing bool) *Session {
	id := si.ID
	rules := c.cfg.Signaling.Rules(si)
	if rules.Offers == nil {
		rules.Offers = func(local, peer UserID) bool { return local > peer }
	}
	s := &Session{
		connState: make(map[UserID]ConnectionState),
		c:         c,
		log:       c.log.With("session", id),
		id:        id,
		initiator: si.Initiator,
		opponents: slices.Clone(si.Opponents),
		callType:  si.CallType,
		protocol:  si.Protocol,
		outgoing:  outgoing,
		rules:     rules,
		ops:       newQueue[func()](maxQueuedMessages),
		peers:     make(map[UserID]*peer),
		gone:      make(map[UserID]bool),
	}
	c.sessions[id] = s
	c.sessWG.Add(1)
	go s.run() // owner: Client (sessWG); ends when the session closes
	s.post(func() { s.setState(SessionNew) })
	return s
}

// run executes the session's operations until the session closes; operations still
// queued then run once more against the closed session (they fail or report invalid).
func (s *Session) run() {
	defer s.c.sessWG.Done()
	for range s.ops.ready {
		for _, op := range s.ops.drain() {
			op()
		}
		if s.closed {
			for _, op := range s.ops.close() {
				op()
			}
			return
		}
	}
}

// post queues op on the session goroutine; false once the session has ended.
func (s *Session) post(op func()) bool { return s.ops.push(op) }

// do runs op on the session goroutine and waits for its result; on a closed session op
// does not run and the result is ErrSessionClosed. It must not be called from the
// session goroutine.
func (s *Session) do(name string, op func() error) error {
	closedErr := fmt.Errorf("%s: %w", name, ErrSessionClosed)
	res := make(chan error, 1)
	ran := s.post(func() {
		if s.closed {
			res <- closedErr
			return
		}
		res <- op()
	})
	if !ran {
		res <- closedErr
	}
	err := <-res
	if err != nil {
		s.c.emit(s, InvalidEvent{EventMeta: s.meta(""), Op: name, Err: err})
	}
	return err
}

func (s *Session) meta(user UserID) EventMeta {
	return EventMeta{SessionID: s.id, User: user, Time: time.Now()}
}

// setState is the one place the session state changes. Nothing leaves Closed.
func (s *Session) setState(n SessionState) {
	s.mu.Lock()
	old := s.state
	if old == n || old == SessionClosed {
		s.mu.Unlock()
		return
	}
	s.state = n
	s.mu.Unlock()
	s.log.Info("session state", "old", old.String(), "new", n.String())
	s.c.emit(s, SessionStateEvent{EventMeta: s.meta(""), Old: old, New: n})
}

// setConnState is the one place a peer's connection state changes. Nothing leaves Closed.
func (s *Session) setConnState(p *peer, n ConnectionState) {
	if p.state == n || p.state == ConnectionClosed {
		return
	}
	old := p.state
	p.state = n
	s.mu.Lock()
	s.connState[p.user] = n
	s.mu.Unlock()
	reason := ""
	if n == ConnectionFailed && !p.wasConnected {
		reason = p.ice.failReason()
	}
	s.log.Info("connection state", "user", string(p.user), "old", old.String(), "new", n.String(), "reason", reason)
	s.c.emit(s, ConnectionStateEvent{EventMeta: s.meta(p.user), State: n, Reason: reason})
}

// ID is the session ID (a UUID chosen by the initiator).
func (s *Session) ID() string { return s.id }

// State is the session state.
func (s *Session) State() SessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// InitiatorID is the user who started the session.
func (s *Session) InitiatorID() UserID { return s.initiator }

// OpponentIDs are the callees, as on the wire (the initiator is not among them; on the
// callee side the local user is).
func (s *Session) OpponentIDs() []UserID { return slices.Clone(s.opponents) }

// Peers are the other participants of the session: everyone but the local user.
func (s *Session) Peers() []UserID { return s.peerIDs() }

// Outgoing reports whether the local user started the session.
func (s *Session) Outgoing() bool { return s.outgoing }

// CallType is VIDEO or AUDIO.
func (s *Session) CallType() CallType { return s.callType }

// ConnectionStateForUser is the state of the peer connection with id (Unknown before
// one exists).
func (s *Session) ConnectionStateForUser(id UserID) ConnectionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connState[id]
}

func (s *Session) peerIDs() []UserID {
	me := s.c.cfg.LocalID
	var out []UserID
	if s.initiator != me {
		out = append(out, s.initiator)
	}
	for _, o := range s.opponents {
		if o != me && o != s.initiator && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

func (s *Session) isParticipant(u UserID) bool {
	return u == s.initiator || slices.Contains(s.opponents, u)
}

// info describes the session to the Signaling.
func (s *Session) info() SessionInfo {
	return SessionInfo{
		ID: s.id, Protocol: s.protocol, CallType: s.callType,
		Initiator: s.initiator, Opponents: slices.Clone(s.opponents),
	}
}

// header is the header of a message of this session to user to ("" for the whole
// session).
func (s *Session) header(to UserID, ext Extension) Header {
	return Header{Session: s.info(), From: s.c.cfg.LocalID, To: to, Ext: ext}
}

// GetUserMedia opens local media for the session (before Call or Accept).
func (s *Session) GetUserMedia(ctx context.Context, p devices.MediaParams) (*devices.LocalStream, error) {
	if s.callType == CallTypeAudio {
		p.Video = false
	}
	s.mu.Lock()
	if s.local != nil {
		l := s.local
		s.mu.Unlock()
		return l, nil
	}
	if s.state == SessionClosed {
		s.mu.Unlock()
		return nil, fmt.Errorf("GetUserMedia: %w", ErrSessionClosed)
	}
	s.mu.Unlock()
	opts := s.c.cfg.Media
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	ls, err := s.c.cfg.getUserMedia(ctx, p, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: GetUserMedia: %w", ErrMedia, err)
	}
	if p.Mute && ls.Audio != nil {
		ls.Audio.SetEnabled(false)
	}
	if kbps := s.c.cfg.BandwidthKbps; kbps > 0 && ls.Video != nil {
		ls.Video.SetBitrate(kbps * 1000)
	}
	err = s.do("GetUserMedia", func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.local != nil {
			return fmt.Errorf("%w: local media already open", ErrInvalidState)
		}
		s.local = ls
		return nil
	})
	if err != nil {
		closeLocalStream(ls)
		return nil, err
	}
	return ls, nil
}

// LocalStream is the stream GetUserMedia opened, or nil.
func (s *Session) LocalStream() *devices.LocalStream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.local
}

func closeLocalStream(ls *devices.LocalStream) {
	if ls != nil {
		_ = ls.Close()
	}
}

// Call dials every opponent with ext as userInfo.
func (s *Session) Call(ext Extension) error {
	return s.do("Call", func() error {
		if !s.outgoing || s.State() != SessionNew {
			return fmt.Errorf("%w: Call in %s", ErrInvalidState, s.State())
		}
		s.setState(SessionActive)
		s.startStats()
		var errs []error
		for _, u := range s.peerIDs() {
			if err := s.dial(u, ext); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeIfEmpty("call failed")
		return errors.Join(errs...)
	})
}

// Accept answers an incoming call.
func (s *Session) Accept(ext Extension) error {
	return s.do("Accept", func() error {
		if s.outgoing || s.State() != SessionNew {
			return fmt.Errorf("%w: Accept in %s", ErrInvalidState, s.State())
		}
		s.setState(SessionActive)
		stopTimer(&s.answerTimer)
		s.startStats()
		var errs []error
		// Answer every offer received so far (the initiator's, and those of callees with
		// higher IDs that were quicker), then offer to the callees with lower IDs.
		for _, p := range s.sortedPeers() {
			if p.deferred {
				// Its offer comes after this Answer without SDP (Offer.Deferred);
				// ConnectTimeInterval bounds the wait for it.
				s.c.send(s, &Answer{Header: s.header(p.user, ext)})
				s.startConnectTimer(p)
				continue
			}
			if p.offer != "" {
				if err := s.answer(p, ext); err != nil {
					errs = append(errs, err)
				}
			}
		}
		me := s.c.cfg.LocalID
		for _, u := range s.peerIDs() {
			if u == s.initiator || !s.rules.Offers(me, u) {
				continue
			}
			if s.peers[u].live() {
				continue
			}
			if err := s.dial(u, nil); err != nil {
				errs = append(errs, err)
			}
		}
		s.closeIfEmpty("call failed")
		return errors.Join(errs...)
	})
}

// Reject declines an incoming call.
func (s *Session) Reject(ext Extension) error {
	return s.do("Reject", func() error {
		if s.outgoing || s.State() != SessionNew {
			return fmt.Errorf("%w: Reject in %s", ErrInvalidState, s.State())
		}
		s.c.send(s, &Reject{Header: s.header("", ext)})
		s.setState(SessionRejected)
		s.close("rejected")
		return nil
	})
}

// Stop hangs up.
func (s *Session) Stop(ext Extension) error {
	return s.do("Stop", func() error {
		s.hangUp(ext, "hung up")
		return nil
	})
}

// hangUp sends hangUp to everyone (unless we never called) and closes the session.
func (s *Session) hangUp(ext Extension, reason string) {
	if st := s.State(); st == SessionActive || !s.outgoing {
		s.c.send(s, &Terminate{Header: s.header("", ext)})
	}
	s.setState(SessionHungUp)
	s.close(reason)
}

// shutdown ends the session because the client closes.
func (s *Session) shutdown(reason string) {
	if s.closed {
		return
	}
	s.hangUp(nil, reason)
}

// Update sends ext to every opponent, or only to the given ones.
func (s *Session) Update(ext Extension, to ...UserID) error {
	return s.do("Update", func() error {
		if len(to) == 0 {
			to = s.peerIDs()
		}
		for _, u := range to {
			if u == s.c.cfg.LocalID || !s.isParticipant(u) {
				return fmt.Errorf("%w: %s", ErrNotParticipant, u)
			}
		}
		for _, u := range to {
			s.c.send(s, &Update{Header: s.header(u, ext)})
		}
		return nil
	})
}

// Mute turns the local track of the kind off without renegotiation; Unmute turns it on.
func (s *Session) Mute(k devices.Kind) error   { return s.setEnabled(k, false) }
func (s *Session) Unmute(k devices.Kind) error { return s.setEnabled(k, true) }

func (s *Session) setEnabled(k devices.Kind, on bool) error {
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	var t devices.LocalTrack
	if ls != nil {
		switch k {
		case devices.KindAudio:
			t = ls.Audio
		case devices.KindVideo:
			t = ls.Video
		}
	}
	if t == nil {
		return fmt.Errorf("%w: no local %s track", ErrMedia, k)
	}
	t.SetEnabled(on)
	// Peers that can show it are told (Jingle session-info; see signaling.Mute).
	s.post(func() {
		if s.closed || s.State() != SessionActive {
			return
		}
		for _, u := range s.peerIDs() {
			if s.peers[u].live() {
				s.c.send(s, &Mute{Header: s.header(u, nil), Media: k.String(), Muted: !on})
			}
		}
	})
	return nil
}

// close ends the session: every peer connection closes, local media stops, and
// SessionCloseEvent is the last event of the session. Session goroutine only.
func (s *Session) close(reason string) {
	if s.closed {
		return
	}
	s.closed = true
	stopTimer(&s.answerTimer)
	stopTimer(&s.statsTimer)
	stopTimer(&s.adaptTimer)
	for _, p := range s.sortedPeers() {
		s.closePeer(p)
	}
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	closeLocalStream(ls)
	s.setState(SessionClosed)
	s.c.removeSession(s)
	s.log.Info("session closed", "reason", reason)
	s.c.emit(s, SessionCloseEvent{EventMeta: s.meta(""), Reason: reason})
}

// closeIfEmpty closes the session when its last peer connection has closed. A peer
// that only holds candidates (no connection, no offer) keeps nothing alive: its call
// may never come.
func (s *Session) closeIfEmpty(reason string) {
	for _, p := range s.peers {
		if p.live() {
			return
		}
	}
	s.close(reason)
}

func (s *Session) sortedPeers() []*peer {
	out := make([]*peer, 0, len(s.peers))
	for _, p := range s.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *peer) int {
		switch {
		case a.user < b.user:
			return -1
		case a.user > b.user:
			return 1
		}
		return 0
	})
	return out
}

// timer is a session timer. Its operation runs on the session goroutine unless the timer
// was stopped first, even when it had already fired and the operation waited in the
// queue behind the one that stopped it; so an operation never checks whether it is
// still wanted. stopped is read and written by the session goroutine only.
type timer struct {
	t       *time.Timer
	stopped bool
}

// stopTimer stops *t (if any) and clears it. Session goroutine only.
func stopTimer(t **timer) {
	if *t != nil {
		(*t).stopped = true
		(*t).t.Stop()
		*t = nil
	}
}

// after runs op on the session goroutine after d, unless the timer is stopped before
// op's turn comes. Session goroutine only.
func (s *Session) after(d time.Duration, op func()) *timer {
	tm := &timer{}
	tm.t = time.AfterFunc(d, func() {
		s.post(func() {
			if !tm.stopped {
				op()
			}
		})
	})
	return tm
}
