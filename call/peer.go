package call

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"
)

// peer is the peer connection with one opponent of a session. Owned by the session
// goroutine, except mediaMu/mediaClosed/mediaWG which media goroutines use.
type peer struct {
	videoLoss atomic.Int32 // percent of our video the opponent reports lost (adapt.go)
	remb      atomic.Int64 // the opponent's REMB estimate (bit/s), 0: none (adapt.go)

	mediaMu     sync.Mutex
	mediaClosed bool // guarded by mediaMu; no media goroutine starts once set

	user  UserID
	cur   *conn // nil until we offer or answer
	state ConnectionState

	offer string // a remote offer waiting for Accept
	// deferred: the caller rings before its offer exists (Offer.Deferred); Accept
	// tells it so with an Answer without SDP and its offer is answered when it comes.
	deferred bool
	callMsg  *Offer // our offer, re-sent while dialing when the protocol wants it
	answered bool   // offer/answer done: dialing is over

	ice iceInfo // the servers of p.cur and whether it gathered a relay candidate
	// remoteCands are the opponent's candidates received before the remote description
	// of the connection they are for: they may come before any connection exists, and
	// during a reconnect they are the next connection's.
	remoteCands []ICECandidate

	dialTimer, noAnswerTimer *timer // stopped by the answer
	// connectTimer bounds the time from offer/answer to the first CONNECTED: a peer
	// that never connects (its candidates lead nowhere, its ICE fails) is closed, and
	// with it its ICE agent and media, instead of being held until restart.
	connectTimer *timer

	wasConnected   bool
	reconnecting   bool
	restartTimer   *timer // ReconnectWait: (re)start ICE; stopped when back
	disconnTimer   *timer // DisconnectTimeInterval: give up; stopped when back
	restartOfferID string // our reconnect offer (from next) waiting for its answer

	// A reconnect replaces the peer connection, as the web SDK does (a new DTLS
	// certificate, ICE credentials and SSRCs): next is the new one while our reconnect
	// offer waits for its answer; the answer swaps it in and closes cur.
	next *conn

	remotes remoteSet
	stats   statsPrev // previous counters for bitrates

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
func (p *peer) live() bool { return p != nil && (p.cur != nil || p.offer != "" || p.deferred) }

// pc is p's current pion connection, nil until we offer or answer.
func (p *peer) pc() *webrtc.PeerConnection {
	if p.cur == nil {
		return nil
	}
	return p.cur.pc
}

// echo is the echo tracks of p's current connection (Echo mode), else nil.
func (p *peer) echo() echoTracks {
	if p.cur == nil {
		return nil
	}
	return p.cur.echo
}

// statsID is the stats ID of p's current connection, "" without one.
func (p *peer) statsID() string {
	if p.cur == nil {
		return ""
	}
	return p.cur.statsID
}

// peerFor returns the peer of u, making an empty one (no pc yet) if needed.
func (s *Session) peerFor(u UserID) *peer {
	p := s.peers[u]
	if p == nil {
		p = &peer{user: u}
		s.peers[u] = p
	}
	return p
}

// dial offers to u, re-sent every Rules.ResendOffer until answered; after
// AnswerTimeInterval u counts as not answered.
func (s *Session) dial(u UserID, ext Extension) error {
	p := s.peerFor(u)
	fail := func(err error) error {
		s.log.Warn("dial failed", "user", string(u), "err", err)
		s.closePeer(p)
		return err
	}
	if err := s.newPC(p); err != nil {
		return fail(err)
	}
	sdp, err := p.cur.offer(s, p)
	if err != nil {
		return fail(err)
	}
	msg := &Offer{Header: s.header(u, ext), SDP: sdp}
	p.callMsg = msg
	s.sendSDP(p, msg)
	cfg := &s.c.cfg
	if d := s.rules.ResendOffer; d > 0 {
		var redial func()
		redial = func() {
			again := *p.callMsg
			s.c.send(s, &again)
			p.dialTimer = s.after(d, redial)
		}
		p.dialTimer = s.after(d, redial)
	}
	p.noAnswerTimer = s.after(cfg.AnswerTimeInterval, func() {
		s.log.Info("not answered", "user", string(u))
		s.c.emit(s, UserNotAnswerEvent{EventMeta: s.meta(u)})
		s.closePeer(p)
		s.closeIfEmpty("not answered")
	})
	return nil
}

// answer answers p's stored offer and sends accept.
func (s *Session) answer(p *peer, ext Extension) error {
	if p.cur == nil {
		if err := s.newPC(p); err != nil {
			return err
		}
	}
	offer := p.offer
	p.offer = ""
	// An offer we cannot answer: reject it so its sender stops dialing.
	fail := func(err error) error {
		s.c.send(s, &Reject{Header: s.header(p.user, nil)})
		s.closePeer(p)
		return err
	}
	sdp, err := p.cur.answer(s, p, offer)
	if err != nil {
		return fail(fmt.Errorf("answer %s: %w", p.user, err))
	}
	p.answered = true
	s.startConnectTimer(p)
	s.sendSDP(p, &Answer{Header: s.header(p.user, ext), SDP: sdp})
	s.applyRemoteCandidates(p)
	return nil
}

// onPCState maps pion's current peer-connection state to the SDK's connection state
// and drives reconnection.
func (s *Session) onPCState(p *peer) {
	if p.closed || p.cur == nil {
		return
	}
	pc := p.cur.pc
	var n ConnectionState
	switch pc.ConnectionState() {
	case webrtc.PeerConnectionStateNew, webrtc.PeerConnectionStateConnecting:
		n = ConnectionConnecting
	case webrtc.PeerConnectionStateConnected:
		n = ConnectionConnected
		if pc.ICEConnectionState() == webrtc.ICEConnectionStateCompleted {
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
		stopTimer(&p.connectTimer)
		if p.reconnecting {
			stopTimer(&p.restartTimer)
			stopTimer(&p.disconnTimer)
			s.setReconnect(p, Reconnected)
		}
	case ConnectionDisconnected, ConnectionFailed:
		if p.wasConnected && !p.reconnecting {
			s.startReconnect(p)
		}
		if !p.wasConnected && n == ConnectionFailed {
			// ICE failed before it ever connected: there is nothing to reconnect to.
			s.neverConnected(p)
		}
	case ConnectionClosed:
		s.closePeer(p)
		s.closeIfEmpty("all peers closed")
	}
}

// startConnectTimer starts the bound on reaching CONNECTED once offer and answer are
// exchanged (before that, the answer and dial timeouts bound the call).
func (s *Session) startConnectTimer(p *peer) {
	if p.wasConnected || p.connectTimer != nil {
		return
	}
	p.connectTimer = s.after(s.c.cfg.ConnectTimeInterval, func() {
		p.connectTimer = nil
		if !p.wasConnected {
			s.neverConnected(p)
		}
	})
}

// neverConnected ends a peer that did not reach CONNECTED: FAILED, then closed; the
// session closes with its last peer.
func (s *Session) neverConnected(p *peer) {
	s.log.Info("peer never connected", "user", string(p.user), "bound", s.c.cfg.ConnectTimeInterval)
	s.setConnState(p, ConnectionFailed)
	s.closePeer(p)
	s.closeIfEmpty("connection failed")
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
		st := p.cur.pc.ICEConnectionState()
		down := st == webrtc.ICEConnectionStateDisconnected || st == webrtc.ICEConnectionStateFailed
		if down && s.rules.Offers(cfg.LocalID, p.user) {
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

// restartICE offers, in a Restart with a fresh ID, from a new
// peer connection (p.next) that replaces p.cur when the answer comes: the web SDK answers
// a reconnect from a new connection too, so restarting ICE on the old one is not enough
// (its DTLS would never meet the new one's). An earlier offer that was never answered
// is dropped.
func (s *Session) restartICE(p *peer) {
	s.dropNext(p)
	next, err := s.newConn(p)
	if err != nil {
		s.log.Warn("reconnect offer failed", "user", string(p.user), "err", err)
		return
	}
	p.next = next
	sdp, err := next.offer(s, p)
	if err != nil {
		s.log.Warn("reconnect offer failed", "user", string(p.user), "err", err)
		s.dropNext(p)
		return
	}
	p.restartOfferID = uuid.NewString()
	s.log.Info("ICE restart offered", "user", string(p.user), "offerId", p.restartOfferID)
	s.c.send(s, &Restart{ // next's candidates follow (conn.localCandidate)
		Header: s.header(p.user, nil), ID: p.restartOfferID, Type: SDPOffer, SDP: sdp,
	})
	next.sent(s, p)
}

// onRestart handles a Restart: answer a reconnect offer from a
// new peer connection, or apply the answer to ours (p.next); either way the new
// connection replaces the old one, which never sees a reconnect description.
func (s *Session) onRestart(p *peer, sd *Restart) error {
	if p == nil || p.cur == nil || !p.answered {
		return fmt.Errorf("%w: ICE restart without a connection", ErrInvalidState)
	}
	// Checked before pion sees them: a bad restart description leaves the connection as
	// it was (the restart loop offers again).
	switch sd.Type {
	case SDPOffer:
		if p.next != nil {
			// Glare: the higher ID offers; the other side answers ours.
			return fmt.Errorf("%w: restart offer while our offer %s waits for its answer", ErrInvalidState, p.restartOfferID)
		}
		offer, err := s.c.checkRemoteSDP(sd.SDP, webrtc.SDPTypeOffer, p.cur.pc.RemoteDescription())
		if err != nil {
			return fmt.Errorf("restart offer: %w", err)
		}
		next, err := s.newConn(p)
		if err != nil {
			return err
		}
		p.next = next
		fail := func(err error) error {
			s.dropNext(p)
			return err
		}
		sdp, err := next.answer(s, p, offer)
		if err != nil {
			return fail(fmt.Errorf("restart: %w", err))
		}
		s.c.send(s, &Restart{ // next's candidates follow (conn.localCandidate)
			Header: s.header(p.user, nil), ID: sd.ID, Type: SDPAnswer, SDP: sdp,
		})
		next.sent(s, p)
		s.swapPC(p)
		return nil
	case SDPAnswer:
		if sd.ID == "" || sd.ID != p.restartOfferID || p.next == nil {
			return fmt.Errorf("%w: answer to unknown offer %q", ErrInvalidState, sd.ID)
		}
		if st := p.next.pc.SignalingState(); st != webrtc.SignalingStateHaveLocalOffer {
			return fmt.Errorf("%w: restart answer in signaling state %s", ErrInvalidState, st)
		}
		if err := p.next.applyAnswer(s, sd.SDP); err != nil {
			if errors.Is(err, ErrWebRTC) {
				s.dropNext(p) // pion refused it: the restart loop offers again
			} // else the offer still waits for a good answer
			return fmt.Errorf("restart answer: %w", err)
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
	stopTimer(&p.connectTimer)
	p.mediaMu.Lock()
	p.mediaClosed = true
	p.mediaMu.Unlock()
	s.dropNext(p)
	if p.cur != nil {
		p.cur.close(s, p)
	}
	p.mediaWG.Wait()
	if p.cur != nil {
		s.setConnState(p, ConnectionClosed)
	}
	delete(s.peers, p.user)
	s.gone[p.user] = true
}

// keyFrameFor asks for a key frame of the video p receives from us: from the local
// encoder, or in Echo mode from p itself (what we echo).
func (s *Session) keyFrameFor(p *peer) {
	if p.echo() != nil {
		p.remotes.requestKeyFrame()
		return
	}
	s.mu.Lock()
	ls := s.local
	s.mu.Unlock()
	if ls != nil && ls.Video != nil && s.callType == CallTypeVideo {
		ls.Video.RequestKeyFrame()
	}
}
