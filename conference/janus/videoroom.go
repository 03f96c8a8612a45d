package janus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// VideoRoom is the VideoRoom plugin's package name, for Attach.
const VideoRoom = "janus.plugin.videoroom"

// Publisher is an active publisher of a room (a "feed"). With string_ids, as QuickBlox
// and ttycall's rooms use, IDs are strings.
type Publisher struct {
	ID      string            `json:"id"`
	Display string            `json:"display,omitempty"`
	Streams []PublishedStream `json:"streams,omitempty"`
	Talking bool              `json:"talking,omitempty"`
}

// PublishedStream is one stream of a publisher.
type PublishedStream struct {
	Type        string `json:"type"` // audio, video, data
	Mindex      int    `json:"mindex"`
	Mid         string `json:"mid"`
	Disabled    bool   `json:"disabled,omitempty"`
	Codec       string `json:"codec,omitempty"`
	Description string `json:"description,omitempty"`
	Simulcast   bool   `json:"simulcast,omitempty"`
	Talking     bool   `json:"talking,omitempty"`
}

// Attendee is a participant that joined without publishing (notify_joining rooms).
type Attendee struct {
	ID      string `json:"id"`
	Display string `json:"display,omitempty"`
}

// SubscribedStream is one stream of a subscription: Mid is the subscriber's own mid,
// FeedID/FeedMid the publisher's.
type SubscribedStream struct {
	Mindex      int    `json:"mindex"`
	Mid         string `json:"mid"`
	Type        string `json:"type"`
	Active      *bool  `json:"active,omitempty"`
	FeedID      string `json:"feed_id"`
	FeedMid     string `json:"feed_mid"`
	FeedDisplay string `json:"feed_display,omitempty"`
	Send        bool   `json:"send,omitempty"`
	Codec       string `json:"codec,omitempty"`
	Ready       bool   `json:"ready,omitempty"`
}

// RoomEvent is the data of a VideoRoom event, for every kind of event this client
// handles; what the event is follows from which fields are set.
type RoomEvent struct {
	VideoRoom  string      `json:"videoroom"` // joined, event, talking, stopped-talking, attached, updated, destroyed, slow_link
	Room       string      `json:"room,omitempty"`
	ID         string      `json:"id,omitempty"` // joined: ours; talking: who
	PrivateID  uint64      `json:"private_id,omitempty"`
	Publishers []Publisher `json:"publishers,omitempty"`
	Attendees  []Attendee  `json:"attendees,omitempty"`
	Joining    *Attendee   `json:"joining,omitempty"`
	// Leaving, Unpublished and Kicked hold a publisher's ID, or "ok" for ourselves.
	Leaving     string             `json:"leaving,omitempty"`
	Unpublished string             `json:"unpublished,omitempty"`
	Kicked      string             `json:"kicked,omitempty"`
	Level       float64            `json:"audio-level-dBov-avg,omitempty"`
	Streams     []SubscribedStream `json:"streams,omitempty"`
	Configured  string             `json:"configured,omitempty"`
	Started     string             `json:"started,omitempty"`
	// CurrentBitrate is in slow_link events (the cap Janus lowered to).
	CurrentBitrate int `json:"current-bitrate,omitempty"`
}

// ParseRoomEvent decodes a VideoRoom event's data.
func ParseRoomEvent(data json.RawMessage) (*RoomEvent, error) {
	var e RoomEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%w: videoroom event: %w", ErrProtocol, err)
	}
	return &e, nil
}

// StreamRef names a publisher's stream (or all of its streams, Mid empty) to subscribe
// to or unsubscribe from; SubMid names one stream of the subscription.
type StreamRef struct {
	Feed   string `json:"feed,omitempty"`
	Mid    string `json:"mid,omitempty"`
	SubMid string `json:"sub_mid,omitempty"`
	// Substream picks a simulcast layer (0 low .. 2 high) when the publisher sends
	// simulcast; nil: Janus' default (the highest).
	Substream *int `json:"substream,omitempty"`
}

// JoinPublisher joins room as a publisher (not yet publishing) with a display name.
func JoinPublisher(ctx context.Context, h *Handle, room, display, pin string) (*RoomEvent, error) {
	body := map[string]any{"request": "join", "ptype": "publisher", "room": room, "display": display}
	if pin != "" {
		body["pin"] = pin
	}
	data, _, err := h.Message(ctx, body, nil)
	if err != nil {
		return nil, fmt.Errorf("janus: join room %q: %w", room, err)
	}
	e, err := ParseRoomEvent(data)
	if err != nil {
		return nil, err
	}
	if e.VideoRoom != "joined" {
		return nil, fmt.Errorf("%w: join answered %q", ErrProtocol, e.VideoRoom)
	}
	return e, nil
}

// Publish sends our offer with a video bitrate cap (bit/s, 0: the room's) and returns
// Janus' answer.
func Publish(ctx context.Context, h *Handle, offer JSEP, bitrate int) (*JSEP, error) {
	body := map[string]any{"request": "publish"}
	if bitrate > 0 {
		body["bitrate"] = bitrate
	}
	_, answer, err := h.Message(ctx, body, &offer)
	if err != nil {
		return nil, fmt.Errorf("janus: publish: %w", err)
	}
	if answer == nil || answer.Type != "answer" {
		return nil, fmt.Errorf("%w: publish: no SDP answer", ErrProtocol)
	}
	return answer, nil
}

// JoinSubscriber makes h a subscription to streams of room, and returns Janus' offer
// and the subscription's streams.
func JoinSubscriber(ctx context.Context, h *Handle, room, pin string, privateID uint64, streams []StreamRef) (*JSEP, []SubscribedStream, error) {
	body := map[string]any{"request": "join", "ptype": "subscriber", "room": room, "streams": streams}
	if pin != "" {
		body["pin"] = pin
	}
	if privateID != 0 {
		body["private_id"] = privateID
	}
	data, offer, err := h.Message(ctx, body, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("janus: subscribe in room %q: %w", room, err)
	}
	e, err := ParseRoomEvent(data)
	if err != nil {
		return nil, nil, err
	}
	return offer, e.Streams, nil
}

// Update changes a subscription. Janus answers with the new layout and an offer, or
// with "updating" and no offer (the offer then comes later as an event of h).
func Update(ctx context.Context, h *Handle, subscribe, unsubscribe []StreamRef) (*JSEP, *RoomEvent, error) {
	body := map[string]any{"request": "update"}
	if len(subscribe) > 0 {
		body["subscribe"] = subscribe
	}
	if len(unsubscribe) > 0 {
		body["unsubscribe"] = unsubscribe
	}
	data, offer, err := h.Message(ctx, body, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("janus: update subscription: %w", err)
	}
	e, err := ParseRoomEvent(data)
	if err != nil {
		return nil, nil, err
	}
	return offer, e, nil
}

// Start answers a subscription's offer.
func Start(ctx context.Context, h *Handle, answer JSEP) error {
	if _, _, err := h.Message(ctx, map[string]any{"request": "start"}, &answer); err != nil {
		return fmt.Errorf("janus: start subscription: %w", err)
	}
	return nil
}

// Leave leaves the room (publisher handle).
func Leave(ctx context.Context, h *Handle) error {
	if _, _, err := h.Message(ctx, map[string]any{"request": "leave"}, nil); err != nil {
		return fmt.Errorf("janus: leave: %w", err)
	}
	return nil
}

// Exists tells whether room exists (a synchronous request).
func Exists(ctx context.Context, h *Handle, room string) (bool, error) {
	data, err := h.Request(ctx, map[string]any{"request": "exists", "room": room})
	if err != nil {
		return false, fmt.Errorf("janus: exists %q: %w", room, err)
	}
	var r struct {
		Exists bool `json:"exists"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return false, fmt.Errorf("%w: exists: %w", ErrProtocol, err)
	}
	return r.Exists, nil
}

// StreamConfig changes one stream of a subscription (its mid, ours).
type StreamConfig struct {
	Mid string `json:"mid"`
	// Substream picks the simulcast layer to receive (0 lowest .. 2 highest).
	Substream *int `json:"substream,omitempty"`
	// Send pauses (false) or resumes (true) relaying the stream.
	Send *bool `json:"send,omitempty"`
}

// ConfigureSubscription changes streams of a subscription (simulcast layers, pauses).
func ConfigureSubscription(ctx context.Context, h *Handle, streams []StreamConfig) error {
	if _, _, err := h.Message(ctx, map[string]any{"request": "configure", "streams": streams}, nil); err != nil {
		return fmt.Errorf("janus: configure subscription: %w", err)
	}
	return nil
}

// RoomSpec is a room to create.
type RoomSpec struct {
	ID, Description string
	// Pin is needed to join; Secret to edit or destroy it. Empty: none.
	Pin, Secret string
	Publishers  int // most concurrent publishers; 0: 16
	Bitrate     int // video cap per publisher, bit/s; 0: Janus' default
}

// CreateRoom creates a room that lives as long as the Janus process (not saved to its
// config). A room that exists already (created by another participant at the same
// time) is no error.
func CreateRoom(ctx context.Context, h *Handle, r RoomSpec) error {
	if r.Publishers <= 0 {
		r.Publishers = 16
	}
	body := map[string]any{
		"request": "create", "room": r.ID, "permanent": false, "is_private": true,
		"publishers": r.Publishers, "audiocodec": "opus", "videocodec": "vp8",
		"audiolevel_event": true, "notify_joining": true,
	}
	if r.Description != "" {
		body["description"] = r.Description
	}
	if r.Pin != "" {
		body["pin"] = r.Pin
	}
	if r.Secret != "" {
		body["secret"] = r.Secret
	}
	if r.Bitrate > 0 {
		body["bitrate"] = r.Bitrate
	}
	_, err := h.Request(ctx, body)
	var je *Error
	if errors.As(err, &je) && je.Plugin && je.Code == 427 {
		return nil
	}
	if err != nil {
		return fmt.Errorf("janus: create room %q: %w", r.ID, err)
	}
	return nil
}
