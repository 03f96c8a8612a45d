package janus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// EventType names the events a handle receives.
type EventType string

// The events of a handle: Janus core events, and the plugin's own.
const (
	EventPlugin   EventType = "event"    // Data holds the plugin's data; JSEP may hold an SDP
	EventTrickle  EventType = "trickle"  // Candidate from Janus
	EventWebRTCUp EventType = "webrtcup" // the handle's peer connection is up
	EventMedia    EventType = "media"    // Janus started or stopped receiving a stream (Kind, Mid, Receiving)
	EventSlowLink EventType = "slowlink" // losses on a stream (Uplink, Lost, Mid)
	EventHangup   EventType = "hangup"   // the peer connection is gone (Reason)
	EventDetached EventType = "detached" // the handle is gone
	EventOther    EventType = "other"
)

// Event is one asynchronous event of a handle.
type Event struct {
	Type      EventType
	Data      json.RawMessage // the plugin's data (EventPlugin)
	JSEP      *JSEP
	Candidate *Candidate
	Kind      string // media: "audio" or "video"
	Mid       string
	Receiving bool
	Uplink    bool
	Lost      int
	Reason    string
}

func eventOf(m *message) Event {
	e := Event{Type: EventType(m.Janus), JSEP: m.JSEP, Candidate: m.Candidate, Kind: m.Type, Mid: m.Mid, Lost: m.Lost, Reason: m.Reason}
	switch e.Type {
	case EventPlugin, EventTrickle, EventWebRTCUp, EventMedia, EventSlowLink, EventHangup, EventDetached:
	default:
		e.Type = EventOther
	}
	if m.PluginData != nil {
		e.Data = m.PluginData.Data
	}
	if m.Receiving != nil {
		e.Receiving = *m.Receiving
	}
	if m.Uplink != nil {
		e.Uplink = *m.Uplink
	}
	return e
}

// Handle is a handle attached to a plugin.
type Handle struct {
	c       *Client
	ID      uint64
	onEvent func(Event)

	mu      sync.Mutex
	queue   []Event // guarded by mu; events not yet given to onEvent
	ended   bool    // guarded by mu
	wake    chan struct{}
	done    chan struct{} // closed by end
	endOnce sync.Once
}

func (h *Handle) push(e Event) {
	h.mu.Lock()
	if h.ended {
		h.mu.Unlock()
		return
	}
	h.queue = append(h.queue, e)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *Handle) end() { h.endOnce.Do(func() { close(h.done) }) }

// dispatch gives queued events to onEvent in order until the handle ends.
func (h *Handle) dispatch(wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		h.mu.Lock()
		q := h.queue
		h.queue = nil
		h.mu.Unlock()
		for _, e := range q {
			h.onEvent(e)
		}
		select {
		case <-h.wake:
		case <-h.done:
			h.mu.Lock()
			h.ended = true
			h.mu.Unlock()
			return
		}
	}
}

// Request sends a synchronous plugin request (e.g. VideoRoom "exists", "list") and
// returns the plugin's data.
func (h *Handle) Request(ctx context.Context, body any) (json.RawMessage, error) {
	r, err := h.c.do(ctx, &message{Janus: "message", SessionID: h.c.session, HandleID: h.ID, Body: body}, false)
	if err != nil {
		return nil, err
	}
	if r.PluginData == nil {
		return nil, fmt.Errorf("%w: no plugin data in the response", ErrProtocol)
	}
	return r.PluginData.Data, nil
}

// Message sends an asynchronous plugin request (with an SDP when jsep is not nil) and
// waits for the plugin's event answering it: its data and SDP.
func (h *Handle) Message(ctx context.Context, body any, jsep *JSEP) (json.RawMessage, *JSEP, error) {
	r, err := h.c.do(ctx, &message{Janus: "message", SessionID: h.c.session, HandleID: h.ID, Body: body, JSEP: jsep}, true)
	if err != nil {
		return nil, nil, err
	}
	if r.PluginData == nil {
		// A synchronous answer ("success") to a request we thought asynchronous.
		return nil, r.JSEP, nil
	}
	return r.PluginData.Data, r.JSEP, nil
}

// Trickle sends one local candidate, or the end of gathering (Candidate.Completed).
func (h *Handle) Trickle(ctx context.Context, c Candidate) error {
	_, err := h.c.do(ctx, &message{Janus: "trickle", SessionID: h.c.session, HandleID: h.ID, Candidate: &c}, false)
	return err
}

// Hangup closes the handle's peer connection on Janus' side.
func (h *Handle) Hangup(ctx context.Context) error {
	_, err := h.c.do(ctx, &message{Janus: "hangup", SessionID: h.c.session, HandleID: h.ID}, false)
	return err
}

// Detach detaches the handle; its dispatcher ends after the events already queued.
func (h *Handle) Detach(ctx context.Context) error {
	_, err := h.c.do(ctx, &message{Janus: "detach", SessionID: h.c.session, HandleID: h.ID}, false)
	h.c.mu.Lock()
	delete(h.c.handles, h.ID)
	h.c.mu.Unlock()
	h.end()
	return err
}
