package call

// One pion peer connection and its negotiation, written once: making a connection (a
// peer's first, or its replacement on a reconnect), our offer, our answer to a remote
// offer, applying a remote answer, our candidates (they wait until our description has
// left) and closing it. dial, answer, restartICE and onRestart (peer.go) are these
// steps in the order each situation needs; a peer holds its current conn and, during a
// reconnect, the next one.

import (
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/signaling"
)

// conn is one pion peer connection of a peer and what belongs to it alone. Session
// goroutine only.
type conn struct {
	pc      *webrtc.PeerConnection
	echo    echoTracks // pc's echo tracks (Echo mode), filled by attachMedia
	statsID string     // pc's stats ID (key of Client.statsGetters and estimators)

	sdpSent    bool                      // our offer or answer left: candidates may follow
	localCands []webrtc.ICECandidateInit // gathered before sdpSent
	sentCands  []webrtc.ICECandidateInit // every candidate sent, for resendCandidates
	resend     *timer                    // resendCandidates' timer, from the first candidates
}

// candidateResendAfter is how long after our first candidates left (as answerer) they
// are all sent once more if ICE has not connected by then. The QuickBlox web SDK
// (2.23) queues candidates that come before its remote description is set and adds
// them only when a later candidates message comes; our answer's candidates often come
// a few ms after the answer, before Chromium has applied it, and in relay-only calls
// they are the only ones: the page never learned them, never opened its relay to us,
// and ICE failed after 30 s (BenchmarkImpairedWeb, ttycall <-> Chromium). Sending them
// again makes the SDK add the whole queue. A pion peer ignores the duplicates.
const candidateResendAfter = time.Second

// newConn creates a peer connection for p (its first, or the replacement of a
// reconnect) with its callbacks wired to session operations, and in Echo mode the map
// attachMedia fills with its echo tracks. Callbacks of a connection that is no longer
// p.cur or p.next change nothing.
func (s *Session) newConn(p *peer) (*conn, error) {
	rc, info := s.c.rtcConfiguration()
	pc, err := s.c.api.NewPeerConnection(rc)
	if err != nil {
		return nil, fmt.Errorf("%w: new peer connection: %w", ErrWebRTC, err)
	}
	c := &conn{pc: pc, statsID: pcStatsID(pc)}
	if s.c.cfg.Echo {
		c.echo = make(echoTracks)
	}
	pc.OnICECandidate(func(ic *webrtc.ICECandidate) {
		if ic == nil {
			return
		}
		init := ic.ToJSON()
		typ := ic.Typ
		s.post(func() {
			if c == p.cur && typ == webrtc.ICECandidateTypeRelay {
				p.ice.relayGathered = true
			}
			if (c == p.cur || c == p.next) && !p.closed {
				c.localCandidate(s, p, init)
			}
		})
	})
	// pion calls the connection-state handler on a new goroutine per change, so the
	// handlers only ask the session to re-read the current state of p.cur (order-safe).
	pc.OnICEConnectionStateChange(func(webrtc.ICEConnectionState) { s.post(func() { s.onPCState(p) }) })
	pc.OnConnectionStateChange(func(webrtc.PeerConnectionState) { s.post(func() { s.onPCState(p) }) })
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		s.readReceiverRTCP(p, r)
		s.readTrack(p, pc, c.echo, t, r)
	})
	if p.cur == nil {
		p.ice = info
	}
	return c, nil
}

// offer adds our media to c (a connection of p), creates our offer and sets it as the
// local description. It returns the offer as it is sent (with b=AS).
func (c *conn) offer(s *Session, p *peer) (string, error) {
	if err := s.attachMedia(p, c.pc, c.echo, true); err != nil {
		return "", err
	}
	offer, err := c.pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create offer: %w", ErrWebRTC, err)
	}
	if err := c.pc.SetLocalDescription(offer); err != nil {
		return "", fmt.Errorf("%w: set local offer: %w", ErrWebRTC, err)
	}
	return withBandwidth(offer.SDP, s.c.cfg.BandwidthKbps), nil
}

// answer applies a remote offer (checked by checkRemoteSDP) to c, adds our media,
// creates our answer and sets it as the local description. It returns the answer as
// it is sent (with b=AS).
func (c *conn) answer(s *Session, p *peer, offer string) (string, error) {
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: withoutBareFEC(signaling.NormalizeSDP(offer))}); err != nil {
		return "", fmt.Errorf("%w: set remote offer: %w", ErrWebRTC, err)
	}
	if err := s.attachMedia(p, c.pc, c.echo, false); err != nil {
		return "", err
	}
	ans, err := c.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("%w: create answer: %w", ErrWebRTC, err)
	}
	if err := c.pc.SetLocalDescription(ans); err != nil {
		return "", fmt.Errorf("%w: set local answer: %w", ErrWebRTC, err)
	}
	return withBandwidth(ans.SDP, s.c.cfg.BandwidthKbps), nil
}

// applyAnswer checks raw as the answer to c's local offer and applies it. A refused
// answer is ErrBadSignal and c is untouched; one pion refused is ErrWebRTC.
func (c *conn) applyAnswer(s *Session, raw string) error {
	ans, err := s.c.checkRemoteSDP(raw, webrtc.SDPTypeAnswer, c.pc.LocalDescription())
	if err != nil {
		return err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: withoutBareFEC(ans)}); err != nil {
		return fmt.Errorf("%w: set remote answer: %w", ErrWebRTC, err)
	}
	return nil
}

// sent records that the message carrying c's description has left (m, sent by the
// caller) and sends the candidates gathered meanwhile.
func (c *conn) sent(s *Session, p *peer) {
	c.sdpSent = true
	if len(c.localCands) > 0 {
		c.sendLocal(s, p, c.localCands)
		c.localCands = nil
	}
}

// localCandidate sends one of our candidates, or queues it until c's description has
// left.
func (c *conn) localCandidate(s *Session, p *peer, ic webrtc.ICECandidateInit) {
	if !c.sdpSent {
		c.localCands = append(c.localCands, ic)
		return
	}
	c.sendLocal(s, p, []webrtc.ICECandidateInit{ic})
}

// sendLocal sends our candidates cs and remembers them; the first ones start the
// resend timer (candidateResendAfter).
func (c *conn) sendLocal(s *Session, p *peer, cs []webrtc.ICECandidateInit) {
	c.sentCands = append(c.sentCands, cs...)
	s.sendCandidates(p, cs)
	if c.resend == nil {
		c.resend = s.after(candidateResendAfter, func() {
			// The caller resends when the answer comes (onAnswer): only then is the
			// callee's remote description surely set.
			if p.callMsg == nil {
				c.resendCandidates(s, p)
			}
		})
	}
}

// resendCandidates sends every candidate sent so far once more, in one message, while
// c is p's connection and ICE has not connected (see candidateResendAfter).
func (c *conn) resendCandidates(s *Session, p *peer) {
	if c != p.cur || p.closed || len(c.sentCands) == 0 {
		return
	}
	switch c.pc.ICEConnectionState() {
	case webrtc.ICEConnectionStateNew, webrtc.ICEConnectionStateChecking:
	default:
		return
	}
	s.log.Debug("candidates sent again", "user", string(p.user), "n", len(c.sentCands))
	s.sendCandidates(p, c.sentCands)
}

// addCandidates adds remote candidates to c. It returns pion's refusals.
func (c *conn) addCandidates(s *Session, p *peer, cs []ICECandidate) []error {
	var errs []error
	for _, ic := range cs {
		mid, idx := ic.SDPMid, ic.SDPMLineIndex
		err := c.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: ic.Candidate, SDPMid: &mid, SDPMLineIndex: &idx})
		if err != nil {
			s.log.Debug("remote candidate not added", "user", string(p.user), "candidate", ic.Candidate, "err", err)
			errs = append(errs, fmt.Errorf("%w: candidate %q: %w", ErrBadSignal, ic.Candidate, err))
		}
	}
	return errs
}

// close closes c and forgets its stats. Its media goroutines end with it (closePeer
// waits for them).
func (c *conn) close(s *Session, p *peer) {
	stopTimer(&c.resend)
	if err := c.pc.Close(); err != nil {
		s.log.Debug("peer connection close", "user", string(p.user), "err", err)
	}
	if c.statsID != "" {
		s.c.statsGetters.Delete(c.statsID)
		s.c.estimators.Delete(c.statsID)
	}
}

// newPC makes p's first connection.
func (s *Session) newPC(p *peer) error {
	c, err := s.newConn(p)
	if err != nil {
		return err
	}
	p.cur = c
	p.stats = statsPrev{}
	s.setConnState(p, ConnectionConnecting)
	return nil
}

// swapPC makes p.next, which has both descriptions, p's connection and closes the old
// one (its remote tracks end: their readers close their receivers and sinks; the new
// connection's tracks come as new RemoteStreams). onPCState re-reads the state.
func (s *Session) swapPC(p *peer) {
	old := p.cur
	p.cur, p.next = p.next, nil
	p.restartOfferID = ""
	p.remotes.setVideo(nil)
	p.remotes.setAudio(nil)
	p.stats = statsPrev{}
	old.close(s, p)
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
	p.next = nil
	p.restartOfferID = ""
	next.close(s, p)
}

// sendSDP sends the message carrying our SDP from p.cur, then the candidates gathered
// meanwhile.
func (s *Session) sendSDP(p *peer, m Message) {
	s.c.send(s, m)
	p.cur.sent(s, p)
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

// applyRemoteCandidates adds the queued remote candidates to p.cur once its remote
// description is set. While a replacement connection waits for its answer, the
// candidates that come are its own (the other side answers from a new connection too):
// they wait for it. It returns pion's refusals (the callers that apply a description
// only log them: the candidates were reported when they came).
func (s *Session) applyRemoteCandidates(p *peer) []error {
	if p.cur == nil || p.next != nil || p.cur.pc.RemoteDescription() == nil {
		return nil
	}
	errs := p.cur.addCandidates(s, p, p.remoteCands)
	p.remoteCands = nil
	return errs
}
