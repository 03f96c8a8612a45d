package adapter

import (
	"context"
	"slices"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/signaling"
	"github.com/ttycall/ttycall/signaling/jingle"
	"github.com/ttycall/ttycall/signaling/jmi"
)

// HandleJMI takes a JMI message (chat.JingleHandler). It runs on the receive goroutine:
// what it sends goes through the worker.
func (a *Adapter) HandleJMI(m jmi.Envelope) {
	if m.Delayed {
		a.log.Debug("jingle: stale JMI message dropped", "kind", m.Kind, "id", m.ID, "from", m.From)
		return
	}
	if m.Bounced {
		a.bounced(m)
		return
	}
	if m.Carbon != "" || m.From.Bare().Equal(a.cfg.Local) {
		a.fromOurDevice(m)
		return
	}
	peer := m.From.Bare()
	a.mu.Lock()
	s := a.sessions[m.ID]
	a.mu.Unlock()
	if m.Kind == jmi.Propose {
		if s == nil {
			a.proposal(m)
		}
		return
	}
	if s == nil || !s.peer.Equal(peer) {
		a.log.Info("jingle: JMI message for no session of its sender", "kind", m.Kind, "id", m.ID, "from", m.From)
		return
	}
	switch m.Kind {
	case jmi.Proceed:
		a.mu.Lock()
		ok := s.st == proposed
		if ok {
			s.st, s.peerFull = initiating, m.From
		}
		a.mu.Unlock()
		if ok {
			a.later(func(ctx context.Context) { a.initiate(ctx, s) })
		}
	case jmi.Reject:
		if a.drop(s, proposed) {
			a.receive(&signaling.Reject{Header: a.header(s)})
		}
	case jmi.Retract:
		if a.drop(s, ringing, proceeded, offered) {
			a.receive(&signaling.Terminate{Header: a.header(s)})
		}
	case jmi.Ringing:
		a.log.Debug("jingle: peer rings", "id", m.ID, "from", m.From)
	}
}

// bounced: our propose came back (no device of the contact online): the call ends at
// once, as a Reject with Ext reason "offline" (the engine shows the contact offline)
// instead of ringing into the void until the answer timeout.
func (a *Adapter) bounced(m jmi.Envelope) {
	a.mu.Lock()
	s := a.sessions[m.ID]
	a.mu.Unlock()
	if s == nil || s.role != jingle.Initiator || !s.peer.Equal(m.From.Bare()) {
		return
	}
	if a.drop(s, proposed) {
		a.mu.Lock()
		if s.timer != nil {
			s.timer.Stop()
		}
		a.mu.Unlock()
		a.log.Info("jingle: propose bounced: contact offline", "id", s.id, "to", s.peer)
		h := a.header(s)
		h.Ext = signaling.Extension{"reason": OfflineReason}
		a.receive(&signaling.Reject{Header: h})
	}
}

// fromOurDevice: another device of ours answered a call (accept to our bare JID, or a
// carbon of its proceed or reject): ours stops ringing.
func (a *Adapter) fromOurDevice(m jmi.Envelope) {
	if m.Carbon == "" && a.cfg.Self != nil && m.From.Equal(a.cfg.Self()) {
		return // our own accept coming back
	}
	switch m.Kind {
	case jmi.Accept, jmi.Proceed, jmi.Reject:
	default:
		return
	}
	a.mu.Lock()
	s := a.sessions[m.ID]
	a.mu.Unlock()
	if s == nil || s.role != jingle.Responder {
		return
	}
	if m.Carbon == "sent" && m.Kind == jmi.Proceed && a.cfg.Self != nil && m.From.Equal(a.cfg.Self()) {
		return // the copy of our own proceed
	}
	a.log.Info("jingle: call answered on another device", "id", m.ID, "kind", m.Kind)
	if a.drop(s, ringing, proceeded, offered) {
		a.receive(&signaling.Terminate{Header: a.header(s)})
	}
}

// proposal answers a propose with ringing and hands the engine a deferred Offer (see
// the package doc), unless Admit refuses the caller.
func (a *Adapter) proposal(m jmi.Envelope) {
	peer := m.From.Bare()
	t := signaling.CallTypeAudio
	if slices.Contains(m.Media, "video") {
		t = signaling.CallTypeVideo
	}
	s := &session{id: m.ID, role: jingle.Responder, peer: peer, peerFull: m.From, callType: t, st: ringing}
	if a.cfg.Admit != nil {
		if err := a.cfg.Admit(a.header(s)); err != nil {
			a.log.Info("jingle: proposal refused", "from", m.From, "err", err)
			a.later(func(ctx context.Context) {
				_ = a.cfg.Transport.SendJMI(ctx, m.From, jmi.Message{Kind: jmi.Reject, ID: m.ID, Reason: jingle.ReasonDecline})
			})
			return
		}
	}
	a.mu.Lock()
	if a.sessions[m.ID] != nil {
		a.mu.Unlock()
		return
	}
	a.sessions[m.ID] = s
	if d := a.cfg.AnswerTimeout; d > 0 {
		// Bounds how long we keep a proposal nobody here answers: the engine stops
		// ringing at its own answer timeout and tells nobody (the caller and our other
		// devices go on).
		s.timer = time.AfterFunc(d, func() {
			if a.drop(s, ringing, proceeded) {
				a.log.Info("jingle: proposal left unanswered here", "id", s.id, "from", s.peerFull)
			}
		})
	}
	a.mu.Unlock()
	a.receive(&signaling.Offer{Header: a.header(s), Deferred: true})
	a.later(func(ctx context.Context) {
		if err := a.cfg.Transport.SendJMI(ctx, m.From, jmi.Message{Kind: jmi.Ringing, ID: m.ID}); err != nil {
			a.log.Info("jingle: ringing", "err", err)
		}
	})
}

// drop ends s if it is in one of the states sts, and says whether it did.
func (a *Adapter) drop(s *session, sts ...state) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !slices.Contains(sts, s.st) {
		return false
	}
	s.st = ended
	delete(a.sessions, s.id)
	return true
}

func (a *Adapter) receive(m signaling.Message) {
	if in := a.incoming(); in != nil {
		in.Receive(m)
	}
}

// initiate sends our session-initiate to the device that proceeded, then the
// candidates gathered meanwhile.
func (a *Adapter) initiate(ctx context.Context, s *session) {
	a.mu.Lock()
	gone := s.st != initiating
	a.mu.Unlock()
	if gone {
		return // ended before its turn: the peer hears nothing of it (see end)
	}
	contents, groups, err := jingle.FromSDP(s.offerSDP, jingle.Initiator)
	if err == nil {
		j := &jingle.Jingle{Action: jingle.SessionInitiate, SID: s.id, Initiator: a.self(), Contents: contents, Groups: groups}
		err = a.cfg.Transport.SendJingle(ctx, s.peerFull, j)
	}
	if err != nil {
		a.log.Info("jingle: session-initiate failed", "id", s.id, "to", s.peerFull, "err", err)
		if a.drop(s, initiating) {
			a.receive(&signaling.Reject{Header: a.header(s)})
		}
		return
	}
	a.mu.Lock()
	if s.st == initiating {
		s.st = initiated
	}
	pending := s.pending
	s.pending = nil
	live := s.st != ended
	a.mu.Unlock()
	if live && len(pending) > 0 {
		if err := a.sendCandidates(ctx, s.peerFull, s.id, s.ufrag, s.role, pending); err != nil {
			a.log.Info("jingle: early candidates", "err", err)
		}
	}
}

// HandleJingle decides the answer to a Jingle IQ (chat.JingleHandler); the returned
// func hands the engine what it carries, after the answer has gone.
func (a *Adapter) HandleJingle(from jid.JID, j *jingle.Jingle) (func(), *jingle.Error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[j.SID]
	if j.Action == jingle.SessionInitiate {
		return a.initiateLocked(from, j, s)
	}
	if s == nil {
		return nil, jingle.ErrUnknownSession
	}
	if s.peerFull.Equal(jid.JID{}) || !from.Equal(s.peerFull) || s.st == ended {
		return nil, jingle.ErrUnknownSession.With("not the session's peer")
	}
	switch j.Action {
	case jingle.SessionAccept:
		if s.role != jingle.Initiator || (s.st != initiating && s.st != initiated) {
			return nil, jingle.ErrOutOfOrder
		}
		sdp, err := jingle.ToSDP(j.Contents, j.Groups, jingle.Responder)
		if err != nil {
			return nil, jingle.ErrIQBadRequest.With("%v", err)
		}
		s.st = active
		h := a.header(s)
		cands := a.candidatesLocked(s, j.Contents)
		return func() {
			a.receive(&signaling.Answer{Header: h, SDP: sdp})
			if len(cands) > 0 {
				a.receive(&signaling.Candidates{Header: h, Candidates: cands})
			}
		}, nil
	case jingle.TransportInfo:
		if s.st == proposed || s.st == ringing || s.st == proceeded {
			return nil, jingle.ErrOutOfOrder
		}
		cands := a.candidatesLocked(s, j.Contents)
		h := a.header(s)
		return func() {
			if len(cands) > 0 {
				a.receive(&signaling.Candidates{Header: h, Candidates: cands})
			}
		}, nil
	case jingle.SessionTerminate:
		was := s.st
		s.st = ended
		delete(a.sessions, s.id)
		h := a.header(s)
		reason := ""
		if j.Reason != nil {
			reason = j.Reason.Condition
		}
		return func() {
			if was != active && (reason == jingle.ReasonDecline || reason == jingle.ReasonBusy) {
				a.receive(&signaling.Reject{Header: h})
				return
			}
			a.receive(&signaling.Terminate{Header: h})
		}, nil
	case jingle.SessionInfo:
		if j.Info == nil {
			return nil, nil // a ping
		}
		kind := j.Info.Kind()
		if kind == "" {
			return nil, jingle.ErrUnsupportedInfo
		}
		a.log.Debug("jingle: session-info", "sid", s.id, "info", kind)
		return nil, nil
	case jingle.ContentModify, jingle.DescriptionInfo, jingle.SecurityInfo:
		return nil, nil // nothing we act on: the media stay as negotiated
	}
	return nil, jingle.ErrFeatureNotImplemented.With("%s", j.Action)
}

// initiateLocked takes a session-initiate: the one our proceed asked for, or a direct
// one (without JMI); a second one for a live session or while we call the same peer is
// a tie-break.
func (a *Adapter) initiateLocked(from jid.JID, j *jingle.Jingle, s *session) (func(), *jingle.Error) {
	if s != nil && !(s.role == jingle.Responder && (s.st == proceeded || s.st == ringing) && from.Equal(s.peerFull)) {
		return nil, jingle.ErrTieBreak.With("session %s exists", j.SID)
	}
	if s == nil {
		for _, o := range a.sessions {
			if o.peer.Equal(from.Bare()) && o.role == jingle.Initiator && o.st != ended && o.st != active {
				return nil, jingle.ErrTieBreak.With("we are calling %s", o.peer)
			}
		}
		if from.Bare().Equal(a.cfg.Local) {
			return nil, jingle.ErrNotAcceptable.With("a call from our own account")
		}
	}
	if len(j.Contents) == 0 {
		return nil, jingle.ErrIQBadRequest.With("session-initiate without contents")
	}
	sdp, err := jingle.ToSDP(j.Contents, j.Groups, jingle.Initiator)
	if err != nil {
		return nil, jingle.ErrIQBadRequest.With("%v", err)
	}
	t := signaling.CallTypeAudio
	for _, c := range j.Contents {
		if c.Description != nil && c.Description.Media == "video" {
			t = signaling.CallTypeVideo
		}
	}
	if s == nil {
		s = &session{id: j.SID, role: jingle.Responder, peer: from.Bare()}
		if a.cfg.Admit != nil {
			s.callType = t
			if err := a.cfg.Admit(a.header(s)); err != nil {
				return nil, jingle.ErrNotAcceptable.With("%v", err)
			}
		}
		a.sessions[j.SID] = s
	}
	s.peerFull, s.callType, s.st = from, t, offered
	accepted := s.accepted
	s.contents, s.media = nil, nil
	for _, c := range j.Contents {
		s.contents = append(s.contents, c.Name)
		s.media = append(s.media, mediaName(c))
	}
	h := a.header(s)
	cands := a.candidatesLocked(s, j.Contents)
	return func() {
		a.receive(&signaling.Offer{Header: h, SDP: sdp})
		if len(cands) > 0 {
			a.receive(&signaling.Candidates{Header: h, Candidates: cands})
		}
		if accepted {
			return // the engine answers at once: nothing rings
		}
		a.later(func(ctx context.Context) {
			info := &jingle.Jingle{Action: jingle.SessionInfo, SID: s.id, Info: jingle.RTPInfo(jingle.InfoRinging)}
			if err := a.cfg.Transport.SendJingle(ctx, from, info); err != nil {
				a.log.Debug("jingle: ringing", "err", err)
			}
		})
	}, nil
}

// candidatesLocked turns the candidates of contents into the engine's, with the media
// line index of each content in the session.
func (a *Adapter) candidatesLocked(s *session, contents []jingle.Content) []signaling.ICECandidate {
	var out []signaling.ICECandidate
	for _, c := range contents {
		if c.Transport == nil {
			continue
		}
		idx := slices.Index(s.contents, c.Name)
		if idx < 0 {
			continue
		}
		for _, cand := range c.Transport.Candidates {
			out = append(out, signaling.ICECandidate{Candidate: cand.SDP(), SDPMid: c.Name, SDPMLineIndex: uint16(idx)})
		}
	}
	return out
}
