package call

import (
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
	if sig.SDP == "" {
		return fmt.Errorf("%w: call without SDP", ErrBadSignal)
	}
	if p := s.peers[sig.From]; p != nil && (p.offer != "" || p.pc != nil) {
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
		p := s.peerFor(sig.From)
		p.offer = sig.SDP
		if !s.ringing {
			s.ringing = true
			s.answerTimer = s.after(s.c.cfg.AnswerTimeInterval, func() {
				if s.closed || s.State() != SessionNew {
					return
				}
				s.close("answer timeout")
			})
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
		p := s.peerFor(sig.From)
		p.offer = sig.SDP
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
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: normalizeSDP(sig.SDP)}); err != nil {
		return fmt.Errorf("%w: set remote answer of %s: %w", ErrWebRTC, sig.From, err)
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
	p.remoteCands = append(p.remoteCands, sig.Candidates...)
	s.applyRemoteCandidates(p)
	return nil
}
