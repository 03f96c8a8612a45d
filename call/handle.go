package call

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"
)

// handle applies one incoming message. Session goroutine only. A message that makes
// no sense goes to OnInvalidEvents and changes nothing.
func (s *Session) handle(m Message) {
	h := m.Head()
	if s.closed {
		s.c.invalidMessage(s, m, ErrSessionClosed)
		return
	}
	if !s.isParticipant(h.From) {
		s.c.invalidMessage(s, m, fmt.Errorf("%w: %s", ErrNotParticipant, h.From))
		return
	}
	if _, cands := m.(*Candidates); s.outgoing && s.State() == SessionNew && !cands {
		// Nobody was called yet: no message of this session can be an answer to us.
		s.c.invalidMessage(s, m, fmt.Errorf("%w: %s before Call", ErrInvalidState, m.Kind()))
		return
	}
	var err error
	switch m := m.(type) {
	case *Offer:
		err = s.onOffer(m)
	case *Answer:
		err = s.onAnswer(m)
	case *Reject:
		s.c.emit(s, RejectEvent{EventMeta: s.meta(h.From), CallType: s.callType, Ext: h.Ext})
		s.dropPeer(h.From, "rejected")
	case *Terminate:
		s.c.emit(s, StopEvent{EventMeta: s.meta(h.From), CallType: s.callType, Ext: h.Ext})
		s.dropPeer(h.From, "hung up")
	case *Candidates:
		err = s.onCandidates(m)
	case *Restart:
		err = s.onRestart(s.peers[h.From], m)
	case *Update:
		s.c.emit(s, UpdateEvent{EventMeta: s.meta(h.From), Ext: h.Ext})
	default:
		err = fmt.Errorf("%w: message %T", ErrBadSignal, m)
	}
	if err != nil {
		s.c.invalidMessage(s, m, err)
	}
}

// dropPeer closes the connection with u (after its reject or hangUp) and the session
// when it was the last.
func (s *Session) dropPeer(u UserID, reason string) {
	if p := s.peers[u]; p != nil {
		s.closePeer(p)
	}
	if !s.outgoing && u == s.initiator && s.State() == SessionNew {
		// The caller gave up before we answered: nobody is left to talk to.
		for _, p := range s.sortedPeers() {
			s.closePeer(p)
		}
	}
	s.closeIfEmpty(reason)
}

// onOffer handles an offer for this session: the first one rings, repeats of it are
// the same call, and in an ACTIVE session an offer from another participant (the mesh
// rule) is answered without asking.
func (s *Session) onOffer(sig *Offer) error {
	p := s.peers[sig.From]
	if sig.Deferred {
		if s.outgoing || s.State() != SessionNew || p.live() || sig.From != s.initiator {
			return fmt.Errorf("%w: deferred call in %s", ErrInvalidState, s.State())
		}
		p = s.peerFor(sig.From)
		p.deferred = true
		s.ring(sig)
		return nil
	}
	offer, err := s.c.checkRemoteSDP(sig.SDP, webrtc.SDPTypeOffer, nil)
	if err != nil && (!p.live() || p.deferred) {
		// A first call we can never answer: reject it so the caller stops dialing. A
		// bad copy of a call we already hold changes nothing.
		s.c.send(s, &Reject{Header: s.header(sig.From, nil)})
		if p != nil {
			s.closePeer(p)
		}
		s.closeIfEmpty("bad call")
		return err
	}
	if err != nil {
		return err
	}
	if p != nil && p.deferred {
		// The offer of a call that rang before it existed: answered at once when
		// the call is accepted, else by Accept.
		p.deferred = false
		p.offer = offer
		if s.State() == SessionActive {
			return s.answer(p, nil)
		}
		return nil
	}
	if p.live() {
		if p.callMsg != nil && !p.answered {
			return fmt.Errorf("%w: call from %s while we call it", ErrInvalidState, sig.From)
		}
		s.log.Debug("repeated call ignored", "user", string(sig.From))
		return nil
	}
	switch s.State() {
	case SessionNew:
		if s.outgoing {
			return fmt.Errorf("%w: call for our own session", ErrInvalidState)
		}
		p = s.peerFor(sig.From)
		p.offer = offer
		s.ring(sig)
		return nil
	case SessionActive:
		if sig.From == s.initiator {
			return fmt.Errorf("%w: call from the initiator of an active session", ErrInvalidState)
		}
		delete(s.gone, sig.From)
		p = s.peerFor(sig.From)
		p.offer = offer
		return s.answer(p, nil)
	default:
		return fmt.Errorf("%w: call in %s", ErrInvalidState, s.State())
	}
}

// ring emits CallEvent once and starts the answer timeout.
func (s *Session) ring(sig *Offer) {
	if s.ringing {
		return
	}
	s.ringing = true
	s.answerTimer = s.after(s.c.cfg.AnswerTimeInterval, func() { s.close("answer timeout") })
	s.c.emit(s, CallEvent{
		EventMeta: s.meta(sig.From), CallType: s.callType, InitiatorID: s.initiator,
		OpponentIDs: s.OpponentIDs(), Ext: sig.Ext,
	})
}

// onAnswer applies the answer of a user we called.
func (s *Session) onAnswer(sig *Answer) error {
	p := s.peers[sig.From]
	if p == nil || p.callMsg == nil || p.answered || p.cur == nil {
		return fmt.Errorf("%w: accept from %s, who was not called", ErrInvalidState, sig.From)
	}
	// An answer we cannot apply ends the call with that user: they think it is
	// answered and will not answer again, so dialing on would only ring into the void.
	fail := func(err error) error {
		s.log.Warn("bad answer", "user", string(sig.From), "err", err)
		s.c.send(s, &Terminate{Header: s.header(sig.From, nil)})
		s.closePeer(p)
		s.closeIfEmpty("bad answer")
		return err
	}
	if err := p.cur.applyAnswer(s, sig.SDP); err != nil {
		return fail(fmt.Errorf("answer of %s: %w", sig.From, err))
	}
	p.answered = true
	s.startConnectTimer(p)
	stopTimer(&p.dialTimer)
	stopTimer(&p.noAnswerTimer)
	s.applyRemoteCandidates(p)
	// The callee has set our offer by now: candidates it got earlier may have been
	// queued and forgotten (candidateResendAfter), so they go once more.
	p.cur.resendCandidates(s, p)
	s.c.emit(s, AcceptEvent{EventMeta: s.meta(sig.From), CallType: s.callType, Ext: sig.Ext})
	return nil
}

// onCandidates adds remote candidates, or queues them until their SDP is applied.
func (s *Session) onCandidates(sig *Candidates) error {
	if len(sig.Candidates) == 0 {
		return nil
	}
	p := s.peers[sig.From]
	if p == nil && s.gone[sig.From] {
		s.log.Debug("late candidates ignored", "user", string(sig.From))
		return nil
	}
	if p == nil {
		if s.State() != SessionNew && s.State() != SessionActive {
			return fmt.Errorf("%w: candidates in %s", ErrInvalidState, s.State())
		}
		p = s.peerFor(sig.From) // candidates before their call: keep them
	}
	var errs []error
	for _, c := range sig.Candidates {
		switch err := s.c.checkCandidate(c.Candidate); {
		case err == errEndOfCandidates:
		case err != nil:
			errs = append(errs, err)
			continue
		}
		if len(p.remoteCands) >= maxQueuedCandidates {
			errs = append(errs, fmt.Errorf("%w: more than %d candidates queued", ErrBadSignal, maxQueuedCandidates))
			break
		}
		p.remoteCands = append(p.remoteCands, c)
	}
	errs = append(errs, s.applyRemoteCandidates(p)...)
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d candidates refused: %w", len(errs), len(sig.Candidates), errors.Join(errs...))
	}
	return nil
}
