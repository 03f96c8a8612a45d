package call

import (
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/call/signal"
)

// handleSignal applies one incoming signal. Session goroutine only. A signal that makes
// no sense goes to OnInvalidEvents and changes nothing.
func (s *Session) handleSignal(sig *signal.Signal) {
	if s.closed {
		s.c.invalidSignal(s, sig, ErrSessionClosed)
		return
	}
	if !s.isParticipant(sig.From) {
		s.c.invalidSignal(s, sig, fmt.Errorf("%w: %s", ErrNotParticipant, sig.From))
		return
	}
	if s.outgoing && s.State() == SessionNew && sig.Type != signal.TypeICECandidates {
		// Nobody was called yet: no signal of this session can be an answer to us.
		s.c.invalidSignal(s, sig, fmt.Errorf("%w: %s before Call", ErrInvalidState, sig.Type))
		return
	}
	var err error
	switch sig.Type {
	case signal.TypeCall:
		err = s.onCall(sig)
	case signal.TypeAccept:
		err = s.onAccept(sig)
	case signal.TypeReject:
		s.c.emit(s, RejectEvent{EventMeta: s.meta(sig.From), CallType: s.callType, Ext: sig.UserInfo})
		s.dropPeer(sig.From, "rejected")
	case signal.TypeHangUp:
		s.c.emit(s, StopEvent{EventMeta: s.meta(sig.From), CallType: s.callType, Ext: sig.UserInfo})
		s.dropPeer(sig.From, "hung up")
	case signal.TypeICECandidates:
		err = s.onCandidates(sig)
	case signal.TypeUpdate:
		if sig.Reason == signal.ReasonReconnect && sig.SessionDescription != nil {
			err = s.onRestart(s.peers[sig.From], sig)
		} else {
			s.c.emit(s, UpdateEvent{EventMeta: s.meta(sig.From), Ext: sig.UserInfo})
		}
	default:
		err = fmt.Errorf("%w: signal type %q", ErrBadSignal, sig.Type)
	}
	if err != nil {
		s.c.invalidSignal(s, sig, err)
	}
}

// dropPeer closes the connection with u (after its reject or hangUp) and the session
// when it was the last.
func (s *Session) dropPeer(u signal.UserID, reason string) {
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

// onCall handles a call signal for this session: the first one rings, repeats of it are
// the same call, and in an ACTIVE session a call from another participant (the mesh
// rule) is answered without asking.
func (s *Session) onCall(sig *signal.Signal) error {
	offer, err := s.c.checkRemoteSDP(sig.SDP, webrtc.SDPTypeOffer, nil)
	p := s.peers[sig.From]
	if err != nil && !p.live() {
		// A first call we can never answer: reject it so the caller stops dialing. A
		// bad copy of a call we already hold changes nothing.
		s.c.send(s, s.newSignal(signal.TypeReject, sig.From, nil))
		if p != nil {
			s.closePeer(p)
		}
		s.closeIfEmpty("bad call")
		return err
	}
	if err != nil {
		return err
	}
	if p.live() {
		if p.callSig != nil && !p.answered {
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
		if !s.ringing {
			s.ringing = true
			s.answerTimer = s.after(s.c.cfg.AnswerTimeInterval, func() { s.close("answer timeout") })
			s.c.emit(s, CallEvent{
				EventMeta: s.meta(sig.From), CallType: s.callType, InitiatorID: s.initiator,
				OpponentIDs: s.OpponentIDs(), Ext: sig.UserInfo,
			})
		}
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

// onAccept applies the answer of a user we called.
func (s *Session) onAccept(sig *signal.Signal) error {
	p := s.peers[sig.From]
	if p == nil || p.callSig == nil || p.answered || p.pc == nil {
		return fmt.Errorf("%w: accept from %s, who was not called", ErrInvalidState, sig.From)
	}
	// An answer we cannot apply ends the call with that user: they think it is
	// answered and will not answer again, so dialing on would only ring into the void.
	fail := func(err error) error {
		s.log.Warn("bad answer", "user", string(sig.From), "err", err)
		s.c.send(s, s.newSignal(signal.TypeHangUp, sig.From, nil))
		s.closePeer(p)
		s.closeIfEmpty("bad answer")
		return err
	}
	ans, err := s.c.checkRemoteSDP(sig.SDP, webrtc.SDPTypeAnswer, p.pc.LocalDescription())
	if err != nil {
		return fail(err)
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		return fail(fmt.Errorf("%w: set remote answer of %s: %w", ErrWebRTC, sig.From, err))
	}
	p.answered = true
	stopTimer(&p.dialTimer)
	stopTimer(&p.noAnswerTimer)
	s.applyRemoteCandidates(p)
	s.c.emit(s, AcceptEvent{EventMeta: s.meta(sig.From), CallType: s.callType, Ext: sig.UserInfo})
	return nil
}

// onCandidates adds remote candidates, or queues them until their SDP is applied.
func (s *Session) onCandidates(sig *signal.Signal) error {
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
