// Package adapter is the signaling adapter of standard XMPP calls: it carries the
// engine's neutral messages as Jingle (XEP-0166/0167, package jingle) with Jingle
// Message Initiation (XEP-0353, package jmi), the way Conversations, Dino, Gajim, Monal
// and Movim call, and turns what arrives back into neutral messages.
//
// An outgoing call: the engine's Offer becomes a JMI propose to the contact's bare JID
// (every device rings); the first device that proceeds gets our session-initiate,
// which carries the offer translated to Jingle; its session-accept becomes the engine's
// Answer; candidates trickle as transport-info both ways. The engine's Terminate before
// a proceed is a JMI retract (the engine's answer timeout ends an unanswered propose).
//
// An incoming call: a propose is answered with ringing and handed to the engine as a
// deferred Offer (signaling.Offer.Deferred): the engine rings, and so do our other
// devices and the caller's. The engine's Answer without SDP (the user accepted) is our
// proceed to the caller and an accept to our own bare JID (our other devices stop
// ringing); the caller's session-initiate then becomes the Offer the engine answers
// at once, with our session-accept. The engine's Reject before that is a JMI reject;
// after a session-initiate, a session-terminate with decline (busy when another call
// is live). Another device of ours answering (a carbon of its accept, proceed or
// reject) or the caller's retract ends the ringing session.
//
// Jingle calls are 1:1: an Offer to more than one user is refused with ErrGroupCall.
// Jingle IQs are answered before the engine sees them; what does not fit a session
// gets the error XEP-0166 names (unknown-session, out-of-order, tie-break,
// unsupported-info) and never touches a live call.
package adapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/signaling"
	"github.com/ttycall/ttycall/signaling/jingle"
	"github.com/ttycall/ttycall/signaling/jmi"
)

// Protocol is this adapter's name in Session.Protocol and a signaling.Router.
const Protocol = "jingle"

// ErrGroupCall: Jingle calls are 1:1 until conferences exist.
var ErrGroupCall = errors.New("jingle: group calls with Jingle (Conversations, Dino...) contacts are not supported yet: call them one at a time")

// OfflineReason is Ext["reason"] of the Reject that ends a call whose propose bounced:
// the contact has no device online.
const OfflineReason = "offline"

// ErrUnsupported: what the engine asked has no Jingle form the peers take.
var ErrUnsupported = errors.New("jingle: not supported")

// Transport carries Jingle IQs and JMI messages; chat.Account implements it.
type Transport interface {
	// SendJingle sends an IQ set and waits for its answer (an error wraps the peer's
	// *jingle.Error).
	SendJingle(ctx context.Context, to jid.JID, j *jingle.Jingle) error
	SendJMI(ctx context.Context, to jid.JID, m jmi.Message) error
}

// Config configures an Adapter.
type Config struct {
	// Local is our bare JID (the engine's local UserID is its string).
	Local jid.JID
	// Self, when set, returns our full JID (for the initiator/responder attributes).
	Self func() jid.JID
	// Transport carries the stanzas.
	Transport Transport
	// Admit, when set, is asked about every proposal before we proceed; an error
	// rejects it (the engine's own Admit still decides on the offer). h is the
	// header the call's Offer would carry (caller, session ID, call type), so that a
	// refusal can be reported as the engine reports its own.
	Admit func(h signaling.Header) error
	// SendTimeout bounds a send the adapter makes on its own (proceed, initiate).
	SendTimeout time.Duration
	// AnswerTimeout ends an outgoing call no device has accepted: a propose nobody
	// took is retracted, a session-initiate left ringing is terminated with timeout
	// (the engine reports user_not_answer at the same time, and tells no peer).
	// 0: never (the engine's Terminate still ends it).
	AnswerTimeout time.Duration
	Logger        *slog.Logger
}

// state of an adapter session.
type state int

const (
	proposed   state = iota + 1 // outgoing: propose sent, waiting for proceed
	initiating                  // outgoing: proceed came, session-initiate on its way
	initiated                   // outgoing: session-initiate acknowledged, waiting for accept
	ringing                     // incoming: propose came, the engine rings (no SDP yet)
	proceeded                   // incoming: accepted, we proceeded, waiting for session-initiate
	offered                     // incoming: session-initiate came, the engine rings
	active                      // accepted either way
	ended
)

// session is one call's Jingle state.
type session struct {
	id       string
	role     jingle.Role // ours
	peer     jid.JID     // bare
	peerFull jid.JID     // the device in the session; zero before proceed (outgoing)
	callType signaling.CallType
	st       state
	offerSDP string // outgoing: the engine's offer, sent at proceed
	contents []string
	media    []string                 // the media of each of contents ("audio", "video")
	pending  []signaling.ICECandidate // ours, before session-initiate went out
	ufrag    string                   // ours, for transport-info
	timer    *time.Timer              // AnswerTimeout: an outgoing call, an incoming proposal
	accepted bool                     // incoming: our accept went to our other devices
}

// Adapter implements signaling.Signaling over Jingle and JMI, and receives Jingle IQs
// and JMI messages (HandleJingle, HandleJMI: chat.JingleHandler).
type Adapter struct {
	mu       sync.Mutex
	sessions map[string]*session // guarded by mu; by sid = JMI id = engine session ID
	in       signaling.Incoming  // guarded by mu
	jobs     []func(context.Context)
	wake     chan struct{}

	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

var (
	_ signaling.Signaling = (*Adapter)(nil)
	_ signaling.Muter     = (*Adapter)(nil)
)

// New starts an adapter; Close stops it.
func New(cfg Config) (*Adapter, error) {
	if cfg.Local.Localpart() == "" {
		return nil, errors.New("jingle adapter: no local JID")
	}
	if cfg.Transport == nil {
		return nil, errors.New("jingle adapter: no transport")
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Local = cfg.Local.Bare()
	ctx, cancel := context.WithCancel(context.Background())
	a := &Adapter{sessions: map[string]*session{}, wake: make(chan struct{}, 1), cfg: cfg,
		log: cfg.Logger, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go a.work() // ends with Close
	return a, nil
}

// SetIncoming names where received messages go (the engine); before the account runs.
func (a *Adapter) SetIncoming(in signaling.Incoming) {
	a.mu.Lock()
	a.in = in
	a.mu.Unlock()
}

// Close stops the timers and the worker and waits for it.
func (a *Adapter) Close() error {
	a.mu.Lock()
	for _, s := range a.sessions {
		if s.timer != nil {
			s.timer.Stop()
		}
	}
	a.mu.Unlock()
	a.cancel()
	<-a.done
	return nil
}

// EndAll tells the peer of every live session that it is over (a retract, or a
// session-terminate): for shutdown, after the engine has hung up its calls and while
// the account is still online (an unanswered propose the engine has already given up
// on is still ringing elsewhere).
func (a *Adapter) EndAll(ctx context.Context) {
	a.mu.Lock()
	var live []*session
	for _, s := range a.sessions {
		live = append(live, s)
	}
	a.mu.Unlock()
	for _, s := range live {
		if a.drop(s, ringing) {
			continue // still ringing here: our other devices may take it
		}
		reason := jingle.ReasonSuccess
		a.mu.Lock()
		if s.st != active {
			reason = jingle.ReasonCancel
		}
		a.mu.Unlock()
		if err := a.end(ctx, s, reason); err != nil {
			a.log.Info("jingle: ending a session at shutdown", "id", s.id, "err", err)
		}
	}
}

// unanswered ends an outgoing call still unanswered at AnswerTimeout.
func (a *Adapter) unanswered(ctx context.Context, s *session) {
	a.mu.Lock()
	st := s.st
	a.mu.Unlock()
	if st != proposed && st != initiating && st != initiated {
		return
	}
	a.log.Info("jingle: call not answered", "id", s.id, "to", s.peer)
	if err := a.end(ctx, s, jingle.ReasonTimeout); err != nil {
		a.log.Info("jingle: ending an unanswered call", "id", s.id, "err", err)
	}
}

// work runs the sends the adapter makes on its own, one at a time, off the receive
// goroutine (a Jingle IQ waits for its answer, which that goroutine reads).
func (a *Adapter) work() {
	defer close(a.done)
	for {
		a.mu.Lock()
		jobs := a.jobs
		a.jobs = nil
		a.mu.Unlock()
		for _, j := range jobs {
			ctx, cancel := context.WithTimeout(a.ctx, a.cfg.SendTimeout)
			j(ctx)
			cancel()
		}
		select {
		case <-a.wake:
		case <-a.ctx.Done():
			return
		}
	}
}

func (a *Adapter) later(j func(context.Context)) {
	a.mu.Lock()
	a.jobs = append(a.jobs, j)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *Adapter) incoming() signaling.Incoming {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.in
}

func (a *Adapter) local() signaling.UserID { return signaling.UserID(a.cfg.Local.String()) }

func (a *Adapter) self() string {
	if a.cfg.Self != nil {
		return a.cfg.Self().String()
	}
	return ""
}

// Rules implements signaling.Signaling: IQs are acknowledged, so an offer is sent once.
func (a *Adapter) Rules(signaling.Session) signaling.Rules { return signaling.Rules{} }

func userJID(u signaling.UserID) (jid.JID, error) {
	j, err := jid.Parse(string(u))
	if err != nil || j.Localpart() == "" {
		return jid.JID{}, fmt.Errorf("jingle: %q is not a user's JID", u)
	}
	return j.Bare(), nil
}

func mediaOf(t signaling.CallType) []string {
	if t == signaling.CallTypeAudio {
		return []string{"audio"}
	}
	return []string{"audio", "video"}
}

// Offer implements signaling.Signaling: a JMI propose to the contact's bare JID; the
// session-initiate follows the first proceed.
func (a *Adapter) Offer(ctx context.Context, m *signaling.Offer) error {
	if len(m.Session.Opponents) != 1 {
		// The engine reports the error (InvalidEvent "send offer"); the Reject ends
		// the call for this opponent at once instead of at the answer timeout.
		h := m.Header
		h.From, h.To = m.To, a.local()
		h.Session.Protocol = Protocol
		a.later(func(context.Context) { a.receive(&signaling.Reject{Header: h}) })
		return ErrGroupCall
	}
	peer, err := userJID(m.To)
	if err != nil {
		return err
	}
	contents, _, err := jingle.FromSDP(m.SDP, jingle.Initiator)
	if err != nil {
		return fmt.Errorf("jingle: our offer: %w", err)
	}
	s := &session{id: m.Session.ID, role: jingle.Initiator, peer: peer, callType: m.Session.CallType,
		st: proposed, offerSDP: m.SDP}
	for _, c := range contents {
		s.contents = append(s.contents, c.Name)
		s.media = append(s.media, mediaName(c))
		if s.ufrag == "" && c.Transport != nil {
			s.ufrag = c.Transport.Ufrag
		}
	}
	a.mu.Lock()
	if old := a.sessions[s.id]; old != nil {
		a.mu.Unlock()
		return nil // sent already (Rules.ResendOffer is 0, so this is a duplicate call)
	}
	a.sessions[s.id] = s
	if d := a.cfg.AnswerTimeout; d > 0 {
		s.timer = time.AfterFunc(d, func() { a.later(func(ctx context.Context) { a.unanswered(ctx, s) }) })
	}
	a.mu.Unlock()
	if err := a.cfg.Transport.SendJMI(ctx, peer, jmi.Message{Kind: jmi.Propose, ID: s.id, Media: mediaOf(s.callType)}); err != nil {
		a.forget(s.id)
		return err
	}
	return nil
}

// Answer implements signaling.Signaling: our session-accept, then an accept to our own
// bare JID so our other devices stop ringing.
func (a *Adapter) Answer(ctx context.Context, m *signaling.Answer) error {
	a.mu.Lock()
	s := a.sessions[m.Session.ID]
	if s != nil && s.st == ringing && m.SDP == "" {
		// The user accepted a proposed call: proceed; the caller's session-initiate
		// brings the offer the engine answers.
		s.st, s.accepted = proceeded, true
		if s.timer != nil {
			s.timer.Reset(a.cfg.AnswerTimeout) // a full window for the session-initiate
		}
		peer := s.peerFull
		a.mu.Unlock()
		if err := a.cfg.Transport.SendJMI(ctx, peer, jmi.Message{Kind: jmi.Proceed, ID: m.Session.ID}); err != nil {
			return err
		}
		if err := a.cfg.Transport.SendJMI(ctx, a.cfg.Local, jmi.Message{Kind: jmi.Accept, ID: m.Session.ID}); err != nil {
			a.log.Info("jingle: accept to our other devices", "err", err)
		}
		return nil
	}
	if s == nil || s.st != offered || m.SDP == "" {
		a.mu.Unlock()
		return fmt.Errorf("jingle: answer for session %s: %w", m.Session.ID, ErrUnsupported)
	}
	peer, accepted := s.peerFull, s.accepted
	s.accepted = true
	a.mu.Unlock()
	contents, groups, err := jingle.FromSDP(m.SDP, jingle.Responder)
	if err != nil {
		return fmt.Errorf("jingle: our answer: %w", err)
	}
	j := &jingle.Jingle{Action: jingle.SessionAccept, SID: m.Session.ID, Responder: a.self(), Contents: contents, Groups: groups}
	if err := a.cfg.Transport.SendJingle(ctx, peer, j); err != nil {
		return err
	}
	a.mu.Lock()
	s.st = active
	for _, c := range contents {
		if s.ufrag == "" && c.Transport != nil {
			s.ufrag = c.Transport.Ufrag
		}
	}
	a.mu.Unlock()
	if accepted {
		return nil // told our other devices at proceed
	}
	if err := a.cfg.Transport.SendJMI(ctx, a.cfg.Local, jmi.Message{Kind: jmi.Accept, ID: m.Session.ID}); err != nil {
		a.log.Info("jingle: accept to our other devices", "err", err)
	}
	return nil
}

// Candidates implements signaling.Signaling: transport-info, or kept until our
// session-initiate has gone out.
func (a *Adapter) Candidates(ctx context.Context, m *signaling.Candidates) error {
	a.mu.Lock()
	s := a.sessions[m.Session.ID]
	if s == nil || s.st == ended {
		a.mu.Unlock()
		return nil // the session ended: its candidates are of no use
	}
	if s.st == proposed || s.st == initiating || s.st == ringing || s.st == proceeded {
		s.pending = append(s.pending, m.Candidates...)
		a.mu.Unlock()
		return nil
	}
	peer, sid, ufrag, role := s.peerFull, s.id, s.ufrag, s.role
	a.mu.Unlock()
	return a.sendCandidates(ctx, peer, sid, ufrag, role, m.Candidates)
}

func (a *Adapter) sendCandidates(ctx context.Context, peer jid.JID, sid, ufrag string, role jingle.Role, cands []signaling.ICECandidate) error {
	byName := map[string]*jingle.Content{}
	var order []string
	for _, c := range cands {
		if c.Candidate == "" {
			continue // end of candidates: Jingle has no element for it that peers read
		}
		jc, err := jingle.ParseCandidate(c.Candidate)
		if err != nil {
			a.log.Debug("jingle: our candidate not sent", "err", err)
			continue
		}
		ct := byName[c.SDPMid]
		if ct == nil {
			ct = &jingle.Content{Creator: string(jingle.Initiator), Name: c.SDPMid, Transport: &jingle.Transport{Ufrag: ufrag}}
			byName[c.SDPMid] = ct
			order = append(order, c.SDPMid)
		}
		ct.Transport.Candidates = append(ct.Transport.Candidates, jc)
	}
	if len(order) == 0 {
		return nil
	}
	j := &jingle.Jingle{Action: jingle.TransportInfo, SID: sid}
	for _, n := range order {
		j.Contents = append(j.Contents, *byName[n])
	}
	return a.cfg.Transport.SendJingle(ctx, peer, j)
}

// Reject implements signaling.Signaling: a JMI reject before a session-initiate, a
// session-terminate with decline (busy when another call is live) after.
func (a *Adapter) Reject(ctx context.Context, m *signaling.Reject) error {
	a.mu.Lock()
	s := a.sessions[m.Session.ID]
	busy := false
	for _, o := range a.sessions {
		if o != s && o.st == active {
			busy = true
		}
	}
	a.mu.Unlock()
	if s == nil {
		return nil
	}
	reason := jingle.ReasonDecline
	if busy {
		reason = jingle.ReasonBusy
	}
	return a.end(ctx, s, reason)
}

// Terminate implements signaling.Signaling: a JMI retract while our propose is
// unanswered, else a session-terminate (success once accepted, cancel before).
func (a *Adapter) Terminate(ctx context.Context, m *signaling.Terminate) error {
	a.mu.Lock()
	s := a.sessions[m.Session.ID]
	a.mu.Unlock()
	if s == nil {
		return nil
	}
	if a.drop(s, ringing) {
		// Stopped ringing here (shutdown): the caller and our other devices go on; a
		// reject would end the call on all of them.
		return nil
	}
	reason := jingle.ReasonSuccess
	a.mu.Lock()
	if s.st != active {
		reason = jingle.ReasonCancel
	}
	a.mu.Unlock()
	return a.end(ctx, s, reason)
}

// end tells the peer the session is over, in the form its state needs, and forgets it.
func (a *Adapter) end(ctx context.Context, s *session, reason string) error {
	a.mu.Lock()
	st, peer, peerFull := s.st, s.peer, s.peerFull
	s.st = ended
	delete(a.sessions, s.id)
	if s.timer != nil {
		s.timer.Stop()
	}
	a.mu.Unlock()
	switch st {
	case proposed:
		if reason != jingle.ReasonTimeout {
			reason = jingle.ReasonCancel
		}
		return a.cfg.Transport.SendJMI(ctx, peer, jmi.Message{Kind: jmi.Retract, ID: s.id, Reason: reason})
	case ringing, proceeded:
		if reason == jingle.ReasonSuccess {
			reason = jingle.ReasonCancel
		}
		return a.cfg.Transport.SendJMI(ctx, peerFull, jmi.Message{Kind: jmi.Reject, ID: s.id, Reason: reason})
	case ended:
		return nil
	case initiating:
		// Our session-initiate waits in the worker or is on its way: the terminate
		// follows it there, so the peer never sees them the other way round (and a
		// session-initiate not yet sent is not sent at all; the peer then only has
		// our proceeded proposal, which we retract).
		a.later(func(ctx context.Context) {
			j := &jingle.Jingle{Action: jingle.SessionTerminate, SID: s.id, Reason: &jingle.Reason{Condition: reason}}
			if err := a.cfg.Transport.SendJingle(ctx, peerFull, j); err != nil {
				_ = a.cfg.Transport.SendJMI(ctx, peer, jmi.Message{Kind: jmi.Retract, ID: s.id, Reason: reason})
			}
		})
		return nil
	}
	j := &jingle.Jingle{Action: jingle.SessionTerminate, SID: s.id, Reason: &jingle.Reason{Condition: reason}}
	err := a.cfg.Transport.SendJingle(ctx, peerFull, j)
	if errors.Is(err, jingle.ErrUnknownSession) {
		return nil // the peer ended it first
	}
	return err
}

// Restart implements signaling.Signaling. Peers (StanzaJS, Dino) do not take
// transport-replace; ICE restarts are not offered over Jingle.
func (a *Adapter) Restart(context.Context, *signaling.Restart) error {
	return fmt.Errorf("jingle: ICE restart: %w", ErrUnsupported)
}

// Mute implements signaling.Muter: session-info mute or unmute (XEP-0167 §7.2) naming
// the content of that media, once the call is accepted.
func (a *Adapter) Mute(ctx context.Context, m *signaling.Mute) error {
	a.mu.Lock()
	s := a.sessions[m.Session.ID]
	if s == nil || s.st != active {
		a.mu.Unlock()
		return nil // nothing to tell: the call is not up (or over)
	}
	peer, sid, name := s.peerFull, s.id, ""
	for i, md := range s.media {
		if md == m.Media {
			name = s.contents[i]
			break
		}
	}
	a.mu.Unlock()
	if name == "" {
		return nil // no content of that media in this call
	}
	kind := jingle.InfoUnmute
	if m.Muted {
		kind = jingle.InfoMute
	}
	info := jingle.RTPInfo(kind)
	info.Creator, info.Name = string(jingle.Initiator), name
	return a.cfg.Transport.SendJingle(ctx, peer, &jingle.Jingle{Action: jingle.SessionInfo, SID: sid, Info: info})
}

func mediaName(c jingle.Content) string {
	if c.Description == nil {
		return ""
	}
	return c.Description.Media
}

// Update implements signaling.Signaling: Jingle has no application extension; dropped.
func (a *Adapter) Update(context.Context, *signaling.Update) error { return nil }

func (a *Adapter) forget(id string) {
	a.mu.Lock()
	delete(a.sessions, id)
	a.mu.Unlock()
}

// header is what a received message of s carries.
func (a *Adapter) header(s *session) signaling.Header {
	si := signaling.Session{ID: s.id, Protocol: Protocol, CallType: s.callType}
	peer := signaling.UserID(s.peer.String())
	if s.role == jingle.Initiator {
		si.Initiator, si.Opponents = a.local(), []signaling.UserID{peer}
	} else {
		si.Initiator, si.Opponents = peer, []signaling.UserID{a.local()}
	}
	return signaling.Header{Session: si, From: peer, To: a.local()}
}
