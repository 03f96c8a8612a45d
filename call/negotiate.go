package call

// One pion peer connection's negotiation, written once: making a connection (and its
// replacement on a reconnect), our offer, our answer to a remote offer, applying a
// remote answer, and the candidates both ways (ours wait until our description has
// left, theirs until their description is applied). dial, answer, restartICE and
// onRestart (peer.go) are these steps in the order each situation needs.

import (
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/signaling"
)

// localOffer adds our media to pc (a connection of p), creates our offer and sets it
// as the local description. It returns the offer as it is sent (with b=AS).
func (s *Session) localOffer(p *peer, pc *webrtc.PeerConnection, echo echoTracks) (string, error) {
	if err := s.attachMedia(p, pc, echo, true); err != nil {
		return "", err
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create offer: %w", ErrWebRTC, err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("%w: set local offer: %w", ErrWebRTC, err)
	}
	return withBandwidth(offer.SDP, s.c.cfg.BandwidthKbps), nil
}

// localAnswer applies a remote offer (checked by checkRemoteSDP) to pc, adds our media,
// creates our answer and sets it as the local description. It returns the answer as
// it is sent (with b=AS).
func (s *Session) localAnswer(p *peer, pc *webrtc.PeerConnection, echo echoTracks, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: signaling.NormalizeSDP(offer)}); err != nil {
		return "", fmt.Errorf("%w: set remote offer: %w", ErrWebRTC, err)
	}
	if err := s.attachMedia(p, pc, echo, false); err != nil {
		return "", err
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create answer: %w", ErrWebRTC, err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("%w: set local answer: %w", ErrWebRTC, err)
	}
	return withBandwidth(ans.SDP, s.c.cfg.BandwidthKbps), nil
}

// remoteAnswer checks raw as the answer to pc's local offer and applies it. A refused
// answer is ErrBadSignal and pc is untouched; one pion refused is ErrWebRTC.
func (s *Session) remoteAnswer(pc *webrtc.PeerConnection, raw string) error {
	ans, err := s.c.checkRemoteSDP(raw, webrtc.SDPTypeAnswer, pc.LocalDescription())
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
		return fmt.Errorf("%w: set remote answer: %w", ErrWebRTC, err)
	}
	return nil
}

// newPC creates the peer connection of p and wires its callbacks to session operations.
func (s *Session) newPC(p *peer) error {
	pc, echo, err := s.buildPC(p)
	if err != nil {
		return err
	}
	p.pc, p.echo = pc, echo
	s.trackStats(p)
	s.setConnState(p, ConnectionConnecting)
	return nil
}

// buildPC creates a peer connection for p (its first, or the replacement of a
// reconnect) with its callbacks wired to session operations, and in Echo mode the map
// attachMedia fills with its echo tracks. Callbacks of a connection that is no longer
// p.pc or p.next change nothing.
func (s *Session) buildPC(p *peer) (*webrtc.PeerConnection, echoTracks, error) {
	rc, info := s.c.rtcConfiguration()
	pc, err := s.c.api.NewPeerConnection(rc)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: new peer connection: %w", ErrWebRTC, err)
	}
	var echo echoTracks
	if s.c.cfg.Echo {
		echo = make(echoTracks)
	}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		typ := c.Typ
		s.post(func() {
			if pc == p.pc && typ == webrtc.ICECandidateTypeRelay {
				p.ice.relayGathered = true
			}
			if pc == p.pc || pc == p.next {
				s.onLocalCandidate(p, init)
			}
		})
	})
	// pion calls the connection-state handler on a new goroutine per change, so the
	// handlers only ask the session to re-read the current state of p.pc (order-safe).
	pc.OnICEConnectionStateChange(func(webrtc.ICEConnectionState) { s.post(func() { s.onPCState(p) }) })
	pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) { s.post(func() { s.onPCState(p) }) })
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { s.readTrack(p, pc, echo, t) })
	if p.pc == nil {
		p.ice = info
	}
	return pc, echo, nil
}

// trackStats points p's stats and bandwidth estimate at p.pc.
func (s *Session) trackStats(p *peer) {
	p.statsID = pcStatsID(p.pc)
	p.stats = statsPrev{}
}

// closePC closes a peer connection of p that is not (or no longer) p.pc, and forgets
// its stats. Its media goroutines end with it (closePeer waits for them).
func (s *Session) closePC(p *peer, pc *webrtc.PeerConnection) {
	id := pcStatsID(pc)
	if err := pc.Close(); err != nil {
		s.log.Debug("peer connection close", "user", string(p.user), "err", err)
	}
	if id != "" {
		s.c.statsGetters.Delete(id)
		s.c.estimators.Delete(id)
	}
}

// swapPC makes p.next, which has both descriptions, p's connection and closes the old
// one (its remote tracks end: their readers close their receivers and sinks; the new
// connection's tracks come as new RemoteStreams). onPCState re-reads the state.
func (s *Session) swapPC(p *peer) {
	old := p.pc
	p.pc, p.echo = p.next, p.nextEcho
	p.next, p.nextEcho = nil, nil
	p.restartOfferID = ""
	p.remotes.setVideo(nil)
	p.remotes.setAudio(nil)
	s.trackStats(p)
	s.closePC(p, old)
	s.log.Info("peer connection replaced", "user", string(p.user))
	s.applyRemoteCandidates(p)
	s.onPCState(p)
}

// dropNext discards a replacement connection whose offer was never answered.
func (s *Session) dropNext(p *peer) {
	if p.next == nil {
		return
	}
	next := p.next
	p.next, p.nextEcho = nil, nil
	p.restartOfferID = ""
	s.closePC(p, next)
}

// sendSDP sends the message carrying our SDP, then the candidates gathered meanwhile.
func (s *Session) sendSDP(p *peer, m Message) {
	s.c.send(s, m)
	p.sdpSent = true
	if len(p.localCands) > 0 {
		s.sendCandidates(p, p.localCands)
		p.localCands = nil
	}
}

func (s *Session) onLocalCandidate(p *peer, c webrtc.ICECandidateInit) {
	if p.closed {
		return
	}
	if !p.sdpSent {
		p.localCands = append(p.localCands, c)
		return
	}
	s.sendCandidates(p, []webrtc.ICECandidateInit{c})
}

func (s *Session) sendCandidates(p *peer, cs []webrtc.ICECandidateInit) {
	m := &Candidates{Header: s.header(p.user, nil)}
	for _, c := range cs {
		ic := ICECandidate{Candidate: c.Candidate}
		if c.SDPMid != nil {
			ic.SDPMid = *c.SDPMid
		}
		if c.SDPMLineIndex != nil {
			ic.SDPMLineIndex = *c.SDPMLineIndex
		}
		m.Candidates = append(m.Candidates, ic)
	}
	s.c.send(s, m)
}

// applyRemoteCandidates adds the queued remote candidates once the remote description
// is set. While a replacement connection waits for its answer, the candidates that come
// are its own (the other side answers from a new connection too): they wait for it. It
// returns pion's refusals (the callers that apply a description only log
// them: the candidates were reported when they came).
func (s *Session) applyRemoteCandidates(p *peer) []error {
	if p.pc == nil || p.next != nil || p.pc.RemoteDescription() == nil {
		return nil
	}
	var errs []error
	for _, c := range p.remoteCands {
		mid, idx := c.SDPMid, c.SDPMLineIndex
		err := p.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: &mid, SDPMLineIndex: &idx})
		if err != nil {
			s.log.Debug("remote candidate not added", "user", string(p.user), "candidate", c.Candidate, "err", err)
			errs = append(errs, fmt.Errorf("%w: candidate %q: %w", ErrBadSignal, c.Candidate, err))
		}
	}
	p.remoteCands = nil
	return errs
}
