package conference_test

import (
	"context"
	"testing"
	"time"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

// TestReusedSlot: when a subscriber's only remote feed leaves, Janus frees its stream
// slots, and the next publisher's streams reuse those mids in the updated offer (same
// mid, new SSRC and msid). The new feed must still reach CONNECTED and bring media.
func TestReusedSlot(t *testing.T) {
	janusservertest.NeedMedia(t)
	s := janusservertest.Start(t, janusserver.Options{Rooms: []janusserver.Room{{ID: "reuse"}}, ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	sub, err := join(t, ctx, s, "reuse", "", "sub", false)
	if err != nil {
		t.Fatal(err)
	}
	a, err := join(t, ctx, s, "reuse", "", "a", true)
	if err != nil {
		t.Fatal(err)
	}
	aID := a.room.ID()
	sub.waitFor(t, ctx, "a connected", has(func(e conference.FeedStateEvent) bool { return e.ID == aID && e.State == conference.FeedConnected }))
	waitMedia(t, ctx, sub, devices.KindVideo, "a")
	waitMedia(t, ctx, sub, devices.KindAudio, "a")

	a.room.Close()
	sub.waitFor(t, ctx, "a leaving", has(func(e conference.ParticipantLeftEvent) bool { return e.ID == aID }))

	b, err := join(t, ctx, s, "reuse", "", "b", true)
	if err != nil {
		t.Fatal(err)
	}
	bID := b.room.ID()
	sub.waitFor(t, ctx, "b connected", has(func(e conference.FeedStateEvent) bool { return e.ID == bID && e.State == conference.FeedConnected }))
	waitMedia(t, ctx, sub, devices.KindVideo, "b")
	waitMedia(t, ctx, sub, devices.KindAudio, "b")
}
