package conference

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/conference/janus"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/signaling"
)

// Room is our place in a Janus VideoRoom room. One goroutine (run) owns the Janus
// conversation and the room's state; callbacks of pion and of the Janus client post
// to it.
type Room struct {
	cfg Config
	log *slog.Logger
	api *webrtc.API

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	inbox  queue[any]
	events queue[Event]
	runWG  sync.WaitGroup // run and the event emitter
	media  sync.WaitGroup // track readers and RTCP readers

	closeOnce sync.Once

	mu       sync.Mutex
	feeds    map[string]*feed // guarded by mu; by publisher ID
	visible  map[string]Layer // guarded by mu; nil: every feed's video, at LayerHigh
	c        *conn            // guarded by mu; nil while rejoining
	myID     string           // guarded by mu
	leftErr  error            // guarded by mu
	mediaEnd bool             // guarded by mu; no new track readers
}

// feed is a remote participant.
type feed struct {
	id, display string
	streams     []janus.PublishedStream
	state       FeedState
	talking     bool
	heard       bool // Janus sent talking events for it
	remotes     []*RemoteStream
}

// conn is one connection to Janus with its handles and peer connections; a lost server
// replaces it.
type conn struct {
	gen        int
	client     *janus.Client
	pub, sub   *janus.Handle
	pubPC      *webrtc.PeerConnection
	subPC      *webrtc.PeerConnection
	privateID  uint64
	subJoined  bool
	subscribed map[string]janus.SubscribedStream // guarded by Room.mu; by our mid
	layers     map[string]Layer                  // the substream asked per our mid (simulcast)
	sim        *devices.Simulcast                // our video's layers, when offered as simulcast
	simulcast  bool                              // Janus took the three layers (else only "h" is sent)
}

// Messages to run.
type (
	janusMsg struct {
		gen int
		pub bool
		h   *janus.Handle // the subscriber handle it came from (one replaced is ignored)
		e   janus.Event
	}
	pcStateMsg struct {
		gen int
		pub bool
		pc  *webrtc.PeerConnection
		s   webrtc.PeerConnectionState
	}
	trackMsg struct {
		gen int
		rs  *RemoteStream
	}
	visibleMsg struct{ layers map[string]Layer }
	tickMsg    struct{}
)

// Talking estimate for feeds Janus sends no talking events about (publishers that do
// not send the audio level RTP extension, as ttycall's own): talking above
// talkOnBytes of Opus payload a packet on average, silent again below talkOffBytes.
const (
	talkOnBytes  = 24
	talkOffBytes = 12
	talkTick     = 200 * time.Millisecond
)

// Join connects to Janus, joins cfg.Room as a publisher and publishes cfg.Local. It
// returns when we are in the room and our offer is answered; a wrong pin is
// ErrUnauthorized, an unknown room ErrNoSuchRoom.
func Join(ctx context.Context, cfg Config) (*Room, error) {
	if cfg.Server == "" || cfg.Room == "" {
		return nil, fmt.Errorf("%w: need a server and a room", ErrConfig)
	}
	if cfg.Display == "" {
		cfg.Display = defaultDisplay
	}
	if cfg.RejoinBackoff <= 0 {
		cfg.RejoinBackoff = defaultRejoinBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	api, err := newAPI(cfg.LoopbackOnly, cfg.TestAddresses)
	if err != nil {
		return nil, err
	}
	r := &Room{cfg: cfg, log: cfg.Logger.With("room", cfg.Room), api: api, feeds: map[string]*feed{}}
	r.inbox.init()
	r.events.init()
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.runWG.Add(1)
	// Owned by r: hands events to cfg.OnEvent; ends after LeftEvent.
	go r.emitLoop()
	c, joined, err := r.connect(ctx, 1)
	if err != nil {
		r.cancel()
		r.events.close()
		r.media.Wait()
		r.runWG.Wait()
		return nil, err
	}
	r.adopt(c, joined, false)
	r.runWG.Add(2)
	// Owned by r: the room's single worker; ends on Close or when the room is over.
	go r.run(c)
	// Owned by r: ticks the talking estimate; ends on Close or when the room is over.
	go func() {
		defer r.runWG.Done()
		t := time.NewTicker(talkTick)
		defer t.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-r.events.done:
				return
			case <-t.C:
				r.inbox.push(tickMsg{})
			}
		}
	}()
	return r, nil
}

// ID is our publisher ID in the room (it changes on a rejoin).
func (r *Room) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.myID
}

// Simulcast tells whether we publish our video as three layers now: Config.Simulcast
// asked for it and Janus' answer took them.
func (r *Room) Simulcast() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c != nil && r.c.simulcast
}

// Participants returns the other participants, ordered by name.
func (r *Room) Participants() []Participant {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Participant, 0, len(r.feeds))
	for _, f := range r.feeds {
		p := Participant{ID: f.id, Display: f.display, State: f.state, Talking: f.talking}
		for _, s := range f.streams {
			p.Audio = p.Audio || (s.Type == "audio" && !s.Disabled)
			p.Video = p.Video || (s.Type == "video" && !s.Disabled)
			p.Simulcast = p.Simulcast || (s.Type == "video" && !s.Disabled && s.Simulcast)
		}
		for _, rs := range f.remotes {
			if rs.Ended() {
				continue
			}
			p.Streams = append(p.Streams, rs)
			if rs.Kind == videoKind {
				p.VideoStream = rs
			}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Display != out[j].Display {
			return out[i].Display < out[j].Display
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Layer is the simulcast layer to receive of a participant's video, for a publisher
// that sends simulcast (others send one layer, whatever is asked).
type Layer int

// Layers, as Janus' substreams: a quarter, half and full resolution of the publisher's.
const (
	LayerLow    Layer = 0
	LayerMedium Layer = 1
	LayerHigh   Layer = 2
)

// SetVisible subscribes to the video of the listed participants only (the tiles on
// screen), at LayerHigh; nil subscribes to every participant's video. Audio is always
// received.
func (r *Room) SetVisible(ids []string) {
	if ids == nil {
		r.inbox.push(visibleMsg{})
		return
	}
	l := make(map[string]Layer, len(ids))
	for _, id := range ids {
		l[id] = LayerHigh
	}
	r.inbox.push(visibleMsg{layers: l})
}

// SetLayers subscribes to the video of the participants listed, each at the simulcast
// layer its tile is worth (a small tile needs no full resolution); the others' video
// is dropped.
func (r *Room) SetLayers(layers map[string]Layer) {
	l := make(map[string]Layer, len(layers))
	for id, v := range layers {
		l[id] = v
	}
	r.inbox.push(visibleMsg{layers: l})
}

// Close leaves the room, closes the peer connections and waits for every goroutine.
// The last event is LeftEvent. Safe to call more than once.
func (r *Room) Close() error {
	r.closeOnce.Do(func() { r.cancel() })
	r.runWG.Wait()
	return nil
}

// Done is closed when the room is over (Close, or ended by Janus).
func (r *Room) Done() <-chan struct{} { return r.events.done }

// Err tells why the room ended by itself (nil after Close).
func (r *Room) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leftErr
}

func (r *Room) emit(e Event) { r.events.push(e) }

func (r *Room) emitLoop() {
	defer r.runWG.Done()
	for {
		batch, ok := r.events.wait(nil, nil)
		for _, e := range batch {
			if r.cfg.OnEvent != nil {
				r.cfg.OnEvent(e)
			}
		}
		if !ok {
			return
		}
	}
}

// run is the room's worker: Janus events, peer connection states, visibility changes,
// and a lost server, until Close or the room ends.
func (r *Room) run(c *conn) {
	defer r.runWG.Done()
	reason, err := "left", error(nil)
	defer func() {
		r.mu.Lock()
		r.leftErr = err
		r.mu.Unlock()
		r.finish(c, reason, err)
	}()
	for {
		var lost <-chan struct{}
		if c != nil {
			lost = c.client.Done()
		}
		msgs, ok := r.inbox.wait(r.ctx.Done(), lost)
		if !ok || r.ctx.Err() != nil {
			return
		}
		for _, m := range msgs {
			if c == nil {
				continue
			}
			if rsn, e, over := r.handle(c, m); over {
				reason, err = rsn, e
				return
			}
		}
		if c != nil {
			select {
			case <-c.client.Done():
				cerr := c.client.Err()
				r.log.Warn("janus lost; rejoining", "err", cerr)
				r.teardown(c)
				r.dropAllFeeds("server lost")
				r.emit(ServerLostEvent{Err: cerr})
				c = r.rejoin(c.gen + 1)
				if c == nil {
					return // closed while rejoining
				}
			default:
			}
		}
	}
}

// rejoin connects again until it succeeds or the room is closed.
func (r *Room) rejoin(gen int) *conn {
	wait := r.cfg.RejoinBackoff
	for {
		t := time.NewTimer(wait)
		select {
		case <-r.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		c, joined, err := r.connect(r.ctx, gen)
		if err == nil {
			r.adopt(c, joined, true)
			return c
		}
		r.log.Info("rejoin failed", "err", err, "retry_in", wait)
		gen++
		wait = min(2*wait, maxRejoinBackoff)
	}
}

// connect dials Janus, joins as a publisher and publishes.
func (r *Room) connect(ctx context.Context, gen int) (*conn, *janus.RoomEvent, error) {
	client, err := janus.Dial(ctx, r.cfg.Server, janus.Options{
		Token: r.cfg.Token, APISecret: r.cfg.APISecret, Timeout: r.cfg.Timeout, Logger: r.log,
	})
	if err != nil {
		return nil, nil, err
	}
	c := &conn{gen: gen, client: client, subscribed: map[string]janus.SubscribedStream{}, layers: map[string]Layer{}}
	c.pub, err = client.Attach(ctx, janus.VideoRoom, func(e janus.Event) { r.inbox.push(janusMsg{gen: gen, pub: true, e: e}) })
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	joined, err := janus.JoinPublisher(ctx, c.pub, r.cfg.Room, r.cfg.Display, r.cfg.Pin)
	if errors.Is(err, janus.ErrNoSuchRoom) && r.cfg.Create {
		spec := janus.RoomSpec{ID: r.cfg.Room, Description: r.cfg.Room, Pin: r.cfg.Pin, Secret: r.cfg.Secret, Bitrate: r.cfg.VideoBitrate}
		if err = janus.CreateRoom(ctx, c.pub, spec); err == nil {
			r.log.Info("created the room", "room", r.cfg.Room)
			joined, err = janus.JoinPublisher(ctx, c.pub, r.cfg.Room, r.cfg.Display, r.cfg.Pin)
		}
	}
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	c.privateID = joined.PrivateID
	if r.cfg.Local != nil && (r.cfg.Local.Audio != nil || r.cfg.Local.Video != nil) {
		if err := r.publish(ctx, c); err != nil {
			r.teardown(c)
			return nil, nil, err
		}
	}
	return c, joined, nil
}

// adopt makes c the room's connection and takes in the participants already there.
func (r *Room) adopt(c *conn, joined *janus.RoomEvent, rejoined bool) {
	r.mu.Lock()
	r.c = c
	r.myID = joined.ID
	r.mu.Unlock()
	r.log.Info("joined", "id", joined.ID, "publishers", len(joined.Publishers), "rejoined", rejoined)
	r.emit(JoinedEvent{Room: r.cfg.Room, ID: joined.ID, Rejoined: rejoined})
	for _, a := range joined.Attendees {
		r.addAttendee(a)
	}
	r.addPublishers(joined.Publishers)
	r.reconcile(c)
}

// publish sends our tracks on a new publisher peer connection.
func (r *Room) publish(ctx context.Context, c *conn) error {
	pc, err := r.api.NewPeerConnection(r.rtcConfig())
	if err != nil {
		return fmt.Errorf("%w: publisher: %w", ErrWebRTC, err)
	}
	c.pubPC = pc
	r.watchPC(c, pc, c.pub, true)
	send := webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}
	for _, t := range []devices.LocalTrack{r.cfg.Local.Audio, r.cfg.Local.Video} {
		if t == nil {
			continue
		}
		if t.Kind() == devices.KindVideo && r.cfg.Simulcast && devices.SimulcastWorth(t) {
			if err := r.addSimulcast(c, pc, t); err != nil {
				return err
			}
			continue
		}
		tr, err := pc.AddTransceiverFromTrack(t.WebRTC(), send)
		if err != nil {
			return fmt.Errorf("%w: add %s: %w", ErrWebRTC, t.Kind(), err)
		}
		if t.Kind() == devices.KindVideo && r.cfg.VideoBitrate > 0 {
			t.SetBitrate(r.cfg.VideoBitrate)
		}
		r.readRTCP(tr.Sender(), t.RequestKeyFrame)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("%w: offer: %w", ErrWebRTC, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("%w: set offer: %w", ErrWebRTC, err)
	}
	answer, err := janus.Publish(ctx, c.pub, janus.JSEP{Type: "offer", SDP: r.withCandidates(pc, gathered, offer.SDP)}, r.cfg.VideoBitrate)
	if err != nil {
		return err
	}
	sdp, err := remoteSDP(answer)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("%w: set answer: %w", ErrWebRTC, err)
	}
	if c.sim != nil {
		c.simulcast = answerTakesSimulcast(sdp)
		if !c.simulcast {
			r.log.Info("the room takes no simulcast: publishing one layer")
			c.sim.Single()
		}
	}
	return nil
}

// watchPC trickles pc's candidates to h and posts its state changes.
func (r *Room) watchPC(c *conn, pc *webrtc.PeerConnection, h *janus.Handle, pub bool) {
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		ctx, cancel := context.WithTimeout(r.ctx, 5*time.Second)
		defer cancel()
		var jc janus.Candidate
		if cand == nil {
			jc.Completed = true
		} else {
			init := cand.ToJSON()
			jc = janus.Candidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex}
		}
		if err := h.Trickle(ctx, jc); err != nil {
			r.log.Debug("trickle", "err", err)
		}
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		r.inbox.push(pcStateMsg{gen: c.gen, pub: pub, pc: pc, s: s})
	})
}

// readRTCP reads a sender's RTCP (the interceptors need it read) and asks for a key
// frame on PLI or FIR. It ends when the peer connection closes.
func (r *Room) readRTCP(s *webrtc.RTPSender, keyFrame func()) {
	r.media.Add(1)
	// Owned by r.media: ends when the sender's peer connection closes.
	go func() {
		defer r.media.Done()
		buf := make([]byte, 1500)
		for {
			n, _, err := s.Read(buf)
			if err != nil {
				return
			}
			pkts, err := rtcp.Unmarshal(buf[:n])
			if err != nil {
				continue
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
					keyFrame()
				}
			}
		}
	}()
}

// handle processes one message; over reports that the room is over.
func (r *Room) handle(c *conn, m any) (reason string, err error, over bool) {
	switch m := m.(type) {
	case visibleMsg:
		r.mu.Lock()
		r.visible = m.layers
		r.mu.Unlock()
		r.reconcile(c)
	case trackMsg:
		if m.gen != c.gen {
			return
		}
		r.trackStarted(c, m.rs)
	case tickMsg:
		r.estimateTalking()
	case pcStateMsg:
		if m.gen != c.gen {
			return
		}
		r.log.Debug("peer connection", "publisher", m.pub, "state", m.s)
		if m.s == webrtc.PeerConnectionStateFailed {
			if m.pub {
				return "publisher connection failed", fmt.Errorf("%w: publisher connection failed", ErrWebRTC), true
			}
			if m.pc == c.subPC {
				r.resubscribe(c, "subscriber connection failed")
			}
		}
	case janusMsg:
		if m.gen != c.gen || (!m.pub && m.h != c.sub) {
			return
		}
		return r.handleJanus(c, m.pub, m.e)
	}
	return
}

func (r *Room) handleJanus(c *conn, pub bool, e janus.Event) (reason string, err error, over bool) {
	pc := c.subPC
	if pub {
		pc = c.pubPC
	}
	switch e.Type {
	case janus.EventTrickle:
		if pc != nil && e.Candidate != nil && !e.Candidate.Completed {
			if err := pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: e.Candidate.Candidate, SDPMid: e.Candidate.SDPMid, SDPMLineIndex: e.Candidate.SDPMLineIndex}); err != nil {
				r.log.Debug("remote candidate", "err", err)
			}
		}
	case janus.EventSlowLink:
		r.emit(SlowLinkEvent{Uplink: e.Uplink, Lost: e.Lost, At: time.Now()})
	case janus.EventHangup:
		r.log.Info("janus hung up", "publisher", pub, "reason", e.Reason)
		if pub && c.pubPC != nil {
			return "hangup: " + e.Reason, fmt.Errorf("janus hung up: %s", e.Reason), true
		}
		if !pub {
			r.resubscribe(c, "janus hung up the subscription: "+e.Reason)
		}
	case janus.EventPlugin:
		re, perr := janus.ParseRoomEvent(e.Data)
		if perr != nil {
			r.log.Warn("videoroom event", "err", perr)
			return
		}
		if !pub {
			r.subscriberEvent(c, re, e.JSEP)
			return
		}
		return r.publisherEvent(c, re)
	}
	return
}

func (r *Room) publisherEvent(c *conn, re *janus.RoomEvent) (reason string, err error, over bool) {
	switch re.VideoRoom {
	case "talking", "stopped-talking":
		r.setTalking(re.ID, re.VideoRoom == "talking", re.Level, true)
		return
	case "destroyed":
		return "room destroyed", errors.New("conference: the room was destroyed"), true
	case "slow_link":
		r.emit(SlowLinkEvent{Uplink: true, At: time.Now()})
		return
	}
	if re.Joining != nil {
		r.addAttendee(*re.Joining)
	}
	if len(re.Publishers) > 0 {
		r.addPublishers(re.Publishers)
		r.reconcile(c)
	}
	for _, gone := range []struct{ id, why string }{{re.Leaving, "left"}, {re.Unpublished, "unpublished"}, {re.Kicked, "kicked"}} {
		switch {
		case gone.id == "":
		case gone.id == "ok" || gone.id == r.ID():
			if gone.why != "unpublished" {
				return gone.why, fmt.Errorf("conference: %s the room", gone.why), true
			}
		default:
			r.removeFeed(c, gone.id, gone.why)
		}
	}
	return
}

func (r *Room) subscriberEvent(c *conn, re *janus.RoomEvent, jsep *janus.JSEP) {
	if re.Streams != nil {
		r.setSubscribed(c, re.Streams)
	}
	if jsep != nil && jsep.Type == "offer" {
		if err := r.answer(c, jsep); err != nil {
			r.log.Warn("subscription offer", "err", err)
			r.failFeeds()
		}
	}
}

// resubscribe replaces a failed subscription: the feeds go FAILED, the subscriber peer
// connection and handle are dropped, and a new subscription to the same feeds is made
// (its feeds go CONNECTING, then CONNECTED with media again).
func (r *Room) resubscribe(c *conn, why string) {
	r.log.Warn("subscription lost; subscribing again", "why", why)
	r.failFeeds()
	old, pc := c.sub, c.subPC
	c.sub, c.subPC, c.subJoined = nil, nil, false
	r.mu.Lock()
	c.subscribed = map[string]janus.SubscribedStream{}
	c.layers = map[string]Layer{}
	for _, f := range r.feeds {
		for _, rs := range f.remotes {
			rs.ended.Store(true)
		}
		f.remotes = nil
		f.state = FeedStateUnknown
	}
	r.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	if old != nil {
		ctx, cancel := context.WithTimeout(r.ctx, 2*time.Second)
		_ = old.Detach(ctx)
		cancel()
	}
	r.reconcile(c)
}

// addPublishers takes in new or updated publishers.
func (r *Room) addPublishers(ps []janus.Publisher) {
	for _, p := range ps {
		r.mu.Lock()
		f, ok := r.feeds[p.ID]
		if !ok {
			f = &feed{id: p.ID}
			r.feeds[p.ID] = f
		}
		f.display, f.streams = p.Display, p.Streams
		r.mu.Unlock()
		if !ok {
			r.emit(ParticipantJoinedEvent{ID: p.ID, Display: p.Display})
		}
	}
}

func (r *Room) addAttendee(a janus.Attendee) {
	if a.ID == r.ID() {
		return
	}
	r.mu.Lock()
	_, ok := r.feeds[a.ID]
	if !ok {
		r.feeds[a.ID] = &feed{id: a.ID, display: a.Display}
	}
	r.mu.Unlock()
	if !ok {
		r.emit(ParticipantJoinedEvent{ID: a.ID, Display: a.Display})
	}
}

// removeFeed forgets a participant; Janus drops its streams from our subscription by
// itself (autoupdate) and sends the new offer.
func (r *Room) removeFeed(c *conn, id, why string) {
	r.mu.Lock()
	f := r.feeds[id]
	delete(r.feeds, id)
	for mid, s := range c.subscribed {
		if s.FeedID == id {
			delete(c.subscribed, mid)
		}
	}
	r.mu.Unlock()
	if f == nil {
		return
	}
	for _, rs := range f.remotes {
		rs.ended.Store(true)
	}
	r.emit(FeedStateEvent{ID: id, State: FeedClosed})
	r.emit(ParticipantLeftEvent{ID: id, Display: f.display, Reason: why})
}

func (r *Room) dropAllFeeds(why string) {
	r.mu.Lock()
	feeds := r.feeds
	r.feeds = map[string]*feed{}
	r.c = nil
	r.mu.Unlock()
	ids := make([]string, 0, len(feeds))
	for id := range feeds {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r.emit(FeedStateEvent{ID: id, State: FeedClosed})
		r.emit(ParticipantLeftEvent{ID: id, Display: feeds[id].display, Reason: why})
	}
}

func (r *Room) failFeeds() {
	r.mu.Lock()
	var ids []string
	for id, f := range r.feeds {
		if f.state == FeedConnecting || f.state == FeedConnected {
			f.state = FeedFailed
			ids = append(ids, id)
		}
	}
	r.mu.Unlock()
	sort.Strings(ids)
	for _, id := range ids {
		r.emit(FeedStateEvent{ID: id, State: FeedFailed})
	}
}

func (r *Room) setTalking(id string, talking bool, level float64, fromJanus bool) {
	r.mu.Lock()
	f := r.feeds[id]
	changed := f != nil && f.talking != talking
	if f != nil {
		f.talking = talking
		f.heard = f.heard || fromJanus
	}
	r.mu.Unlock()
	if changed {
		r.emit(TalkingEvent{ID: id, Talking: talking, Level: level})
	}
}

// trackStarted: the first packet of a remote stream arrived.
func (r *Room) trackStarted(c *conn, rs *RemoteStream) {
	r.mu.Lock()
	f := r.feeds[rs.ID]
	if s, ok := c.subscribed[rs.Mid]; !ok || s.FeedID != rs.ID {
		// Its mid went to another feed before its first packet: its reader starts
		// the stream of that feed with the next packet.
		rs.ended.Store(true)
		f = nil
	}
	var becameConnected bool
	if f != nil {
		f.remotes = append(f.remotes, rs)
		if f.state != FeedConnected {
			f.state, becameConnected = FeedConnected, true
		}
		rs.Display = f.display
	}
	r.mu.Unlock()
	if f == nil {
		return
	}
	if becameConnected {
		r.emit(FeedStateEvent{ID: rs.ID, State: FeedConnected})
	}
	r.emit(RemoteStreamEvent{ID: rs.ID, Display: rs.Display, Stream: rs})
}

// teardown closes a connection's client and peer connections (its track readers end).
func (r *Room) teardown(c *conn) {
	c.client.Close()
	for _, pc := range []*webrtc.PeerConnection{c.pubPC, c.subPC} {
		if pc != nil {
			_ = pc.Close()
		}
	}
	if c.sim != nil {
		_ = c.sim.Close()
	}
}

// finish ends the room: leave (best effort), close, wait, LeftEvent.
func (r *Room) finish(c *conn, reason string, err error) {
	if c != nil {
		select {
		case <-c.client.Done():
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = janus.Leave(ctx, c.pub)
			cancel()
		}
		r.teardown(c)
	}
	r.mu.Lock()
	r.mediaEnd = true
	r.c = nil
	r.mu.Unlock()
	r.media.Wait()
	r.log.Info("left the room", "reason", reason, "err", err)
	r.emit(LeftEvent{Reason: reason, Err: err})
	r.events.close()
}

func (r *Room) rtcConfig() webrtc.Configuration {
	var rc webrtc.Configuration
	for _, s := range r.cfg.ICEServers {
		rc.ICEServers = append(rc.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	if r.cfg.RelayOnly {
		rc.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return rc
}

// estimateTalking updates the talking state of the feeds Janus is silent about from
// their audio payload sizes.
func (r *Room) estimateTalking() {
	type change struct {
		id    string
		on    bool
		level float64
	}
	var changes []change
	r.mu.Lock()
	for id, f := range r.feeds {
		if f.heard {
			continue
		}
		for _, rs := range f.remotes {
			if rs.Kind != devices.KindAudio || rs.Ended() {
				continue
			}
			lvl := rs.audioLevel()
			switch {
			case !f.talking && lvl >= talkOnBytes:
				changes = append(changes, change{id, true, lvl})
			case f.talking && lvl < talkOffBytes:
				changes = append(changes, change{id, false, lvl})
			}
		}
	}
	r.mu.Unlock()
	sort.Slice(changes, func(i, j int) bool { return changes[i].id < changes[j].id })
	for _, c := range changes {
		r.setTalking(c.id, c.on, -1, false)
	}
}

// gatherWait bounds the wait for host candidates before an SDP goes to Janus.
const gatherWait = 300 * time.Millisecond

// withCandidates returns pc's local SDP with the candidates gathered within gatherWait
// (host candidates come at once; slower ones are still trickled). Janus then has our
// candidates with the SDP: when they only trickle in after it, libnice's checks toward
// us often started a second later (join times of ~1.1 s instead of ~0.1 s, measured).
func (r *Room) withCandidates(pc *webrtc.PeerConnection, gathered <-chan struct{}, sdp string) string {
	t := time.NewTimer(gatherWait)
	defer t.Stop()
	select {
	case <-gathered:
	case <-t.C:
	case <-r.ctx.Done():
	}
	if ld := pc.LocalDescription(); ld != nil {
		return ld.SDP
	}
	return sdp
}

// remoteSDP checks an SDP from Janus against the engine's limit and gives it the line
// ends pion expects (signaling's one normaliser).
func remoteSDP(j *janus.JSEP) (string, error) {
	if len(j.SDP) == 0 || len(j.SDP) > signaling.MaxSDP {
		return "", fmt.Errorf("%w: %s of %d bytes from janus", ErrWebRTC, j.Type, len(j.SDP))
	}
	return signaling.NormalizeSDP(j.SDP), nil
}
