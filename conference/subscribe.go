package conference

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/conference/janus"
	"github.com/ttycall/ttycall/devices"
)

// reconcile makes our one subscription carry what we want: every participant's audio,
// and the video of the visible ones. It subscribes the first time (join as
// subscriber), then updates.
func (r *Room) reconcile(c *conn) {
	want := map[string]janus.StreamRef{} // by feed/mid
	have := map[string]string{}          // feed/mid -> our mid
	layerOf := map[string]Layer{}        // feed/mid -> the layer wanted (simulcast video)
	r.mu.Lock()
	for _, f := range r.feeds {
		for _, s := range f.streams {
			if s.Disabled || (s.Type != "audio" && s.Type != "video") {
				continue
			}
			ref := janus.StreamRef{Feed: f.id, Mid: s.Mid}
			if s.Type == "video" {
				layer, shown := r.visible[f.id]
				if r.visible == nil {
					layer, shown = LayerHigh, true
				}
				if !shown {
					continue
				}
				if s.Simulcast {
					l := int(layer)
					ref.Substream = &l
					layerOf[f.id+"/"+s.Mid] = layer
				}
			}
			want[f.id+"/"+s.Mid] = ref
		}
	}
	for mid, s := range c.subscribed {
		if s.FeedID != "" && (s.Active == nil || *s.Active) {
			have[s.FeedID+"/"+s.FeedMid] = mid
		}
	}
	r.mu.Unlock()
	var sub, unsub []janus.StreamRef
	var layers []janus.StreamConfig
	for k, ref := range want {
		mid, ok := have[k]
		if !ok {
			sub = append(sub, ref)
			continue
		}
		if l, sim := layerOf[k]; sim && c.layers[mid] != l {
			n := int(l)
			layers = append(layers, janus.StreamConfig{Mid: mid, Substream: &n})
			c.layers[mid] = l
		}
	}
	if len(layers) > 0 && c.sub != nil {
		ctx, cancel := context.WithTimeout(r.ctx, 15e9)
		if err := janus.ConfigureSubscription(ctx, c.sub, layers); err != nil {
			r.log.Warn("simulcast layer", "err", err)
		}
		cancel()
		// Janus switches at a key frame of the new layer. It asks the publisher for one
		// (a PLI), but with Chromium publishers the switch came only with the periodic
		// key frame of the room's fir_freq (measured: 10 s at fir_freq = 10).
	}
	for k, mid := range have {
		if _, ok := want[k]; !ok {
			unsub = append(unsub, janus.StreamRef{SubMid: mid})
		}
	}
	if len(sub) == 0 && len(unsub) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, 15e9)
	defer cancel()
	var offer *janus.JSEP
	if !c.subJoined {
		if len(sub) == 0 {
			return
		}
		if c.sub == nil {
			ref := &atomic.Pointer[janus.Handle]{}
			h, err := c.client.Attach(ctx, janus.VideoRoom, func(e janus.Event) { r.inbox.push(janusMsg{gen: c.gen, h: ref.Load(), e: e}) })
			if err != nil {
				r.log.Warn("subscriber handle", "err", err)
				return
			}
			ref.Store(h)
			c.sub = h
		}
		o, streams, err := janus.JoinSubscriber(ctx, c.sub, r.cfg.Room, r.cfg.Pin, c.privateID, sub)
		if err != nil {
			r.log.Warn("subscribe", "err", err)
			return
		}
		c.subJoined = true
		r.setSubscribed(c, streams)
		offer = o
	} else {
		o, ev, err := janus.Update(ctx, c.sub, sub, unsub)
		if err != nil {
			r.log.Warn("update subscription", "err", err)
			return
		}
		if ev.Streams != nil {
			r.setSubscribed(c, ev.Streams)
		}
		offer = o
	}
	r.markConnecting(sub)
	if offer != nil {
		if err := r.answer(c, offer); err != nil {
			r.log.Warn("subscription offer", "err", err)
			r.failFeeds()
		}
	}
}

func (r *Room) markConnecting(refs []janus.StreamRef) {
	seen := map[string]bool{}
	for _, ref := range refs {
		if seen[ref.Feed] {
			continue
		}
		seen[ref.Feed] = true
		r.mu.Lock()
		f := r.feeds[ref.Feed]
		changed := f != nil && f.state == FeedStateUnknown
		if changed {
			f.state = FeedConnecting
		}
		r.mu.Unlock()
		if changed {
			r.emit(FeedStateEvent{ID: ref.Feed, State: FeedConnecting})
		}
	}
}

// setSubscribed records the subscription's layout (our mid -> the publisher's stream).
func (r *Room) setSubscribed(c *conn, streams []janus.SubscribedStream) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.subscribed = map[string]janus.SubscribedStream{}
	for _, s := range streams {
		if s.Active == nil || *s.Active {
			c.subscribed[s.Mid] = s
		}
	}
	// The layer asked with a new subscription is the one it starts with.
	for mid := range c.layers {
		if _, ok := c.subscribed[mid]; !ok {
			delete(c.layers, mid)
		}
	}
	for mid, s := range c.subscribed {
		if _, ok := c.layers[mid]; ok || s.Type != "video" {
			continue
		}
		if f := r.feeds[s.FeedID]; f != nil {
			if l, shown := r.visible[s.FeedID]; shown {
				c.layers[mid] = l
			} else {
				c.layers[mid] = LayerHigh
			}
		}
	}
	// A stream no longer in the subscription (unsubscribed, its publisher gone) has
	// ended even if its track has not closed yet: its tile goes.
	for _, f := range r.feeds {
		live := f.remotes[:0]
		for _, rs := range f.remotes {
			if s, ok := c.subscribed[rs.Mid]; !ok || s.FeedID != rs.ID {
				rs.ended.Store(true)
				continue
			}
			live = append(live, rs)
		}
		f.remotes = live
	}
}

// answer applies an offer of Janus to the subscriber peer connection (made on the
// first offer) and sends the answer with "start".
func (r *Room) answer(c *conn, offer *janus.JSEP) error {
	if c.subPC == nil {
		pc, err := r.api.NewPeerConnection(r.rtcConfig())
		if err != nil {
			return fmt.Errorf("%w: subscriber: %w", ErrWebRTC, err)
		}
		c.subPC = pc
		r.watchPC(c, pc, c.sub, false)
		pc.OnTrack(func(t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) { r.readTrack(c, pc, t, recv) })
	}
	pc := c.subPC
	sdp, err := remoteSDP(offer)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("%w: set offer: %w", ErrWebRTC, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("%w: answer: %w", ErrWebRTC, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("%w: set answer: %w", ErrWebRTC, err)
	}
	ctx, cancel := context.WithTimeout(r.ctx, 15e9)
	defer cancel()
	return janus.Start(ctx, c.sub, janus.JSEP{Type: "answer", SDP: r.withCandidates(pc, gathered, ans.SDP)})
}

// readTrack is the reader of one remote stream, on the goroutine pion starts for
// OnTrack; it ends when the track ends (unsubscribed, or the connection closed).
//
// Janus reuses a freed slot of the subscription (mid) for the next publisher's stream
// and keeps the slot's SSRC and msid, so for pion the track goes on and OnTrack does not
// fire again (measured with Janus 1.x: a leaves, b joins, b's audio came on mid "0"
// with a's SSRC). So the one reader serves whichever feed its mid carries: when the
// mid is given to another feed (setSubscribed ends the stream), the next packet starts
// a new RemoteStream for that feed.
func (r *Room) readTrack(c *conn, pc *webrtc.PeerConnection, t *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	r.mu.Lock()
	if r.mediaEnd {
		r.mu.Unlock()
		return
	}
	r.media.Add(1)
	mid := ""
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == recv {
			mid = tr.Mid()
		}
	}
	r.mu.Unlock()
	defer r.media.Done()
	var pending []byte // the first packet for the next stream
	warned := false
	for {
		r.mu.Lock()
		s, ok := c.subscribed[mid]
		r.mu.Unlock()
		if !ok {
			// Not (or no longer) subscribed: drop packets until the mid is given to a
			// feed again or the track ends.
			if !warned {
				r.log.Warn("track of no subscribed stream", "mid", mid)
				warned = true
			}
			buf := make([]byte, 1500)
			n, _, err := t.Read(buf)
			if err != nil {
				return
			}
			pending = buf[:n]
			continue
		}
		warned = false
		pending = r.serveStream(c, pc, t, mid, s, pending)
		if pending == nil {
			return
		}
	}
}

// serveStream reads t as the stream s until the track ends (nil) or the mid is given
// to another feed (the first packet read after that).
func (r *Room) serveStream(c *conn, pc *webrtc.PeerConnection, t *webrtc.TrackRemote, mid string, s janus.SubscribedStream, pending []byte) []byte {
	kind := devices.KindAudio
	if t.Kind() == webrtc.RTPCodecTypeVideo {
		kind = devices.KindVideo
	}
	rs := &RemoteStream{ID: s.FeedID, Display: s.FeedDisplay, Kind: kind, Mid: mid, pc: pc, ssrc: uint32(t.SSRC()), mime: t.Codec().MimeType}
	log := r.log.With("feed", s.FeedID, "kind", kind.String())
	var rc devices.Receiver
	var err error
	switch {
	case kind == devices.KindVideo && r.cfg.DecodeVideo:
		rs.Video = &devices.FrameSlot{}
		rc, err = devices.NewVideoReceiver(rs.mime, rs.Video, rs.RequestKeyFrame, log)
	case kind == devices.KindAudio && r.cfg.AudioOutput != nil:
		rc, err = devices.NewAudioReceiver(rs.mime, r.cfg.AudioOutput, s.FeedDisplay, log)
	}
	if err != nil {
		log.Warn("no receiver for remote stream", "err", err)
	}
	if rc != nil {
		rs.AddSink(rc)
		defer rc.Close()
	}
	if pending != nil && kind == devices.KindVideo {
		// The new feed's video starts mid-stream for this decoder.
		rs.RequestKeyFrame()
	}
	return rs.pump(t, pending, func() { r.inbox.push(trackMsg{gen: c.gen, rs: rs}) })
}
