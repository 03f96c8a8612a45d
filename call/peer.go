package call

import (
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/call/signal"
)

// peer is the peer connection with one opponent of a session. Owned by the session
// goroutine, except mediaMu/mediaClosed/mediaWG which media goroutines use.
type peer struct {
	mediaMu     sync.Mutex
	mediaClosed bool // guarded by mediaMu; no media goroutine starts once set

	user  signal.UserID
	pc    *webrtc.PeerConnection // nil until we offer or answer
	state ConnectionState

	offer    string         // a remote offer waiting for Accept
	callSig  *signal.Signal // our call signal, re-sent while dialing
	answered bool           // offer/answer done: dialing is over
	sdpSent  bool           // our offer or answer left: candidates may follow

	ice         iceInfo                   // the servers of p.pc and what it gathered
	localCands  []webrtc.ICECandidateInit // gathered before sdpSent
	remoteCands []signal.ICECandidate     // received before the remote description

	dialTimer, noAnswerTimer *timer // stopped by the answer

	wasConnected   bool
	reconnecting   bool
	restartTimer   *timer // ReconnectWait: (re)start ICE; stopped when back
	disconnTimer   *timer // DisconnectTimeInterval: give up; stopped when back
	restartOfferID string // our reconnect offer (from next) waiting for its answer

	// A reconnect replaces the peer connection, as the web SDK does (a new DTLS
	// certificate, ICE credentials and SSRCs): next is the new one while our reconnect
	// offer waits for its answer; the answer swaps it in and closes pc.
	next     *webrtc.PeerConnection
	nextEcho echoTracks

	echo    echoTracks // pc's echo tracks (Echo mode)
	remotes remoteSet
	stats   statsPrev // previous counters for bitrates
	statsID string    // the pc's stats ID (key of Client.statsGetters)

	closed  bool
	mediaWG sync.WaitGroup // remote track readers and RTCP readers
}

// goMedia starts f as a media goroutine of the peer unless the peer is closing.
// Owner: the peer (mediaWG); closePeer waits for them after closing the pc, which ends
// every ReadRTP/ReadRTCP.
func (p *peer) goMedia(f func()) {
	if !p.enterMedia() {
		return
	}
	go func() { // ends when the pc closes (f's reads fail)
		defer p.mediaWG.Done()
		f()
	}()
}

// enterMedia registers the calling goroutine as a media goroutine (mediaWG.Done when
// it ends); false when the peer is closing.
func (p *peer) enterMedia() bool {
	p.mediaMu.Lock()
	defer p.mediaMu.Unlock()
	if p.mediaClosed {
		return false
	}
	p.mediaWG.Add(1)
	return true
}

// live reports whether p holds a peer connection or an offer waiting for Accept (nil:
// no). A peer that only holds candidates is not live: its call may never come.
func (p *peer) live() bool { return p != nil && (p.pc != nil || p.offer != "") }

// peerFor returns the peer of u, making an empty one (no pc yet) if needed.
func (s *Session) peerFor(u signal.UserID) *peer {
	p := s.peers[u]
	if p == nil {
		p = &peer{user: u}
		s.peers[u] = p
	}
	return p
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
	p.ice = info
	return pc, echo, nil
}

// trackStats points p's stats at p.pc.
func (s *Session) trackStats(p *peer) {
	if s.c.cfg.StatsReportInterval > 0 {
		p.statsID = pcStatsID(p.pc)
	}
	p.stats = statsPrev{}
}

// closePC closes a peer connection of p that is not (or no longer) p.pc, and forgets
// its stats. Its media goroutines end with it (closePeer waits for them).
func (s *Session) closePC(p *peer, pc *webrtc.PeerConnection) {
	id := ""
	if s.c.cfg.StatsReportInterval > 0 {
		id = pcStatsID(pc)
	}
	if err := pc.Close(); err != nil {
		s.log.Debug("peer connection close", "user", string(p.user), "err", err)
	}
	if id != "" {
		s.c.statsGetters.Delete(id)
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

// dial offers to u and sends call, re-sent every DialingTimeInterval until answered;
// after AnswerTimeInterval u counts as not answered.
func (s *Session) dial(u signal.UserID, ext signal.Extension) error {
	p := s.peerFor(u)
	fail := func(err error) error {
		s.log.Warn("dial failed", "user", string(u), "err", err)
		s.closePeer(p)
		return err
	}
	if err := s.newPC(p); err != nil {
		return fail(err)
	}
	if err := s.attachMedia(p, p.pc, p.echo, true); err != nil {
		return fail(err)
	}
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: create offer: %w", ErrWebRTC, err))
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fail(fmt.Errorf("%w: set local offer: %w", ErrWebRTC, err))
	}
	sig := s.newSignal(signal.TypeCall, u, ext)
	sig.SDP = withBandwidth(offer.SDP, s.c.cfg.BandwidthKbps)
	p.callSig = sig
	s.sendSDP(p, sig)
	cfg := &s.c.cfg
	var redial func()
	redial = func() {
		again := *p.callSig
		s.c.send(s, &again)
		p.dialTimer = s.after(cfg.DialingTimeInterval, redial)
	}
	p.dialTimer = s.after(cfg.DialingTimeInterval, redial)
	p.noAnswerTimer = s.after(cfg.AnswerTimeInterval, func() {
		s.log.Info("not answered", "user", string(u))
		s.c.emit(s, UserNotAnswerEvent{EventMeta: s.meta(u)})
		s.closePeer(p)
		s.closeIfEmpty("not answered")
	})
	return nil
}

// answer answers p's stored offer and sends accept.
func (s *Session) answer(p *peer, ext signal.Extension) error {
	if p.pc == nil {
		if err := s.newPC(p); err != nil {
			return err
		}
	}
	offer := p.offer
	p.offer = ""
	// An offer we cannot answer: reject it so its sender stops dialing.
	fail := func(err error) error {
		s.c.send(s, s.newSignal(signal.TypeReject, p.user, nil))
		s.closePeer(p)
		return err
	}
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: normalizeSDP(offer)}); err != nil {
		return fail(fmt.Errorf("%w: set remote offer of %s: %w", ErrWebRTC, p.user, err))
	}
	if err := s.attachMedia(p, p.pc, p.echo, false); err != nil {
		return fail(err)
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err == nil {
		err = p.pc.SetLocalDescription(ans)
	}
	if err != nil {
		return fail(fmt.Errorf("%w: answer %s: %w", ErrWebRTC, p.user, err))
	}
	p.answered = true
	sig := s.newSignal(signal.TypeAccept, p.user, ext)
	sig.SDP = withBandwidth(ans.SDP, s.c.cfg.BandwidthKbps)
	s.sendSDP(p, sig)
	s.applyRemoteCandidates(p)
	return nil
}

// sendSDP sends the signal carrying our SDP, then the candidates gathered meanwhile.
func (s *Session) sendSDP(p *peer, sig *signal.Signal) {
	s.c.send(s, sig)
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
	sig := s.newSignal(signal.TypeICECandidates, p.user, nil)
	for _, c := range cs {
		ic := signal.ICECandidate{Candidate: c.Candidate}
		if c.SDPMid != nil {
			ic.SDPMid = *c.SDPMid
		}
		if c.SDPMLineIndex != nil {
			ic.SDPMLineIndex = *c.SDPMLineIndex
		}
		sig.Candidates = append(sig.Candidates, ic)
	}
	s.c.send(s, sig)
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

// onPCState maps pion's current peer-connection state to the SDK's connection state
// and drives reconnection.
func (s *Session) onPCState(p *peer) {
	if p.closed || p.pc == nil {
		return
	}
	var n ConnectionState
	switch p.pc.ConnectionState() {
	case webrtc.PeerConnectionStateNew, webrtc.PeerConnectionStateConnecting:
		n = ConnectionConnecting
	case webrtc.PeerConnectionStateConnected:
		n = ConnectionConnected
		if p.pc.ICEConnectionState() == webrtc.ICEConnectionStateCompleted {
			n = ConnectionCompleted
		}
	case webrtc.PeerConnectionStateDisconnected:
		n = ConnectionDisconnected
	case webrtc.PeerConnectionStateFailed:
		n = ConnectionFailed
	case webrtc.PeerConnectionStateClosed:
		n = ConnectionClosed
	default:
		return
	}
	if n == p.state {
		return
	}
	s.setConnState(p, n)
	switch n {
	case ConnectionConnected, ConnectionCompleted:
		if !p.wasConnected || p.reconnecting {
			// Frames encoded before DTLS was up (on this connection, maybe a new one)
			// were lost: start this peer's video at a key frame now instead of after a
			// PLI round trip.
			s.keyFrameFor(p)
		}
		p.wasConnected = true
		if p.reconnecting {
			stopTimer(&p.restartTimer)
			stopTimer(&p.disconnTimer)
			s.setReconnect(p, Reconnected)
		}
	case ConnectionDisconnected, ConnectionFailed:
		if p.wasConnected && !p.reconnecting {
			s.startReconnect(p)
		}
	case ConnectionClosed:
		s.closePeer(p)
		s.closeIfEmpty("all peers closed")
	}
}

// startReconnect reports RECONNECTING, waits ReconnectWait for ICE to recover and then
// restarts it (the higher ID offers); after DisconnectTimeInterval it gives up.
func (s *Session) startReconnect(p *peer) {
	s.setReconnect(p, Reconnecting)
	cfg := &s.c.cfg
	var restart func()
	restart = func() {
		// Restart while ICE is down; a restarted agent that is still checking is left
		// to finish (its checks succeed as soon as the path is back).
		st := p.pc.ICEConnectionState()
		down := st == webrtc.ICEConnectionStateDisconnected || st == webrtc.ICEConnectionStateFailed
		if down && higherID(cfg.LocalID, p.user) {
			s.restartICE(p)
		}
		p.restartTimer = s.after(cfg.ReconnectWait, restart)
	}
	p.restartTimer = s.after(cfg.ReconnectWait, restart)
	p.disconnTimer = s.after(cfg.DisconnectTimeInterval, func() {
		s.setReconnect(p, ReconnectionFailed)
		s.closePeer(p)
		s.closeIfEmpty("connection failed")
	})
}

// setReconnect is the one place a peer's reconnection state changes: it logs the change
// and reports it. Session goroutine only.
func (s *Session) setReconnect(p *peer, st ReconnectionState) {
	p.reconnecting = st == Reconnecting
	s.log.Info("reconnection", "user", string(p.user), "state", st.String())
	s.c.emit(s, ReconnectEvent{EventMeta: s.meta(p.user), State: st})
}

// restartICE offers, in an update with reason reconnect and a fresh offerId, from a new
// peer connection (p.next) that replaces p.pc when the answer comes: the web SDK answers
// a reconnect from a new connection too, so restarting ICE on the old one is not enough
// (its DTLS would never meet the new one's). An earlier offer that was never answered
// is dropped.
func (s *Session) restartICE(p *peer) {
	s.dropNext(p)
	pc, echo, err := s.buildPC(p)
	if err != nil {
		s.log.Warn("reconnect offer failed", "user", string(p.user), "err", err)
		return
	}
	p.next, p.nextEcho = pc, echo
	err = s.attachMedia(p, pc, echo, true)
	var offer webrtc.SessionDescription
	if err == nil {
		offer, err = pc.CreateOffer(nil)
	}
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	if err != nil {
		s.log.Warn("reconnect offer failed", "user", string(p.user), "err", err)
		s.dropNext(p)
		return
	}
	p.restartOfferID = uuid.NewString()
	sig := s.newSignal(signal.TypeUpdate, p.user, nil)
	sig.Reason = signal.ReasonReconnect
	sig.SessionDescription = &signal.SessionDescription{
		OfferID: p.restartOfferID, SDP: withBandwidth(offer.SDP, s.c.cfg.BandwidthKbps), Type: "offer",
	}
	s.log.Info("ICE restart offered", "user", string(p.user), "offerId", p.restartOfferID)
	s.c.send(s, sig) // pc's candidates follow (onLocalCandidate)
}

// onRestart handles an update with reason reconnect: answer a reconnect offer from a
// new peer connection, or apply the answer to ours (p.next); either way the new
// connection replaces the old one, which never sees a reconnect description.
func (s *Session) onRestart(p *peer, sig *signal.Signal) error {
	sd := sig.SessionDescription
	if p == nil || p.pc == nil || !p.answered {
		return fmt.Errorf("%w: ICE restart without a connection", ErrInvalidState)
	}
	// Checked before pion sees them: a bad restart description leaves the connection as
	// it was (the restart loop offers again).
	switch sd.Type {
	case "offer":
		if p.next != nil {
			// Glare: the higher ID offers; the other side answers ours.
			return fmt.Errorf("%w: restart offer while our offer %s waits for its answer", ErrInvalidState, p.restartOfferID)
		}
		offer, err := s.c.checkRemoteSDP(sd.SDP, webrtc.SDPTypeOffer, p.pc.RemoteDescription())
		if err != nil {
			return fmt.Errorf("restart offer: %w", err)
		}
		pc, echo, err := s.buildPC(p)
		if err != nil {
			return err
		}
		p.next, p.nextEcho = pc, echo
		fail := func(err error) error {
			s.dropNext(p)
			return err
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
			return fail(fmt.Errorf("%w: restart offer: %w", ErrWebRTC, err))
		}
		if err := s.attachMedia(p, pc, echo, false); err != nil {
			return fail(err)
		}
		ans, err := pc.CreateAnswer(nil)
		if err == nil {
			err = pc.SetLocalDescription(ans)
		}
		if err != nil {
			return fail(fmt.Errorf("%w: restart answer: %w", ErrWebRTC, err))
		}
		out := s.newSignal(signal.TypeUpdate, p.user, nil)
		out.Reason = signal.ReasonReconnect
		out.SessionDescription = &signal.SessionDescription{
			OfferID: sd.OfferID, SDP: withBandwidth(ans.SDP, s.c.cfg.BandwidthKbps), Type: "answer",
		}
		s.c.send(s, out) // pc's candidates follow (onLocalCandidate)
		s.swapPC(p)
		return nil
	case "answer":
		if sd.OfferID == "" || sd.OfferID != p.restartOfferID || p.next == nil {
			return fmt.Errorf("%w: answer to unknown offer %q", ErrInvalidState, sd.OfferID)
		}
		if st := p.next.SignalingState(); st != webrtc.SignalingStateHaveLocalOffer {
			return fmt.Errorf("%w: restart answer in signaling state %s", ErrInvalidState, st)
		}
		ans, err := s.c.checkRemoteSDP(sd.SDP, webrtc.SDPTypeAnswer, p.next.LocalDescription())
		if err != nil {
			return fmt.Errorf("restart answer: %w", err) // the offer still waits for a good answer
		}
		if err := p.next.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans}); err != nil {
			s.dropNext(p) // the restart loop offers again
			return fmt.Errorf("%w: restart answer: %w", ErrWebRTC, err)
		}
		s.swapPC(p)
		return nil
	}
	return fmt.Errorf("%w: session description type %q", ErrBadSignal, sd.Type)
}

// closePeer closes p's peer connection, waits for its media goroutines and forgets it.
func (s *Session) closePeer(p *peer) {
	if p.closed {
		return
	}
	p.closed = true
	stopTimer(&p.dialTimer)
	stopTimer(&p.noAnswerTimer)
	stopTimer(&p.restartTimer)
	stopTimer(&p.disconnTimer)
	p.mediaMu.Lock()
	p.mediaClosed = true
	p.mediaMu.Unlock()
	s.dropNext(p)
	if p.pc != nil {
		s.closePC(p, p.pc)
	}
	p.mediaWG.Wait()
	if p.pc != nil {
		s.setConnState(p, ConnectionClosed)
	}
	delete(s.peers, p.user)
	s.gone[p.user] = true
}

// keyFrameFor asks for a key frame of the video p receives from us: from the local
// encoder, or in Echo mode from p itself (what we echo).
func (s *Session) keyFrameFor(p *peer) {
	if p.echo != nil {
		p.remotes.requestKeyFrame()
		return
	}
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	if ls != nil && ls.Video != nil && s.callType == signal.CallTypeVideo {
		ls.Video.RequestKeyFrame()
	}
}
