package conference

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

// TestResubscribe: when the subscriber connection fails (posted here as pion would),
// the feeds go FAILED, a new subscription is made, and media arrives again.
func TestResubscribe(t *testing.T) {
	janusservertest.NeedMedia(t)
	s := janusservertest.Start(t, janusserver.Options{Rooms: []janusserver.Room{{ID: "re"}}, ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ls, err := devices.GetUserMedia(ctx, devices.MediaParams{Audio: true}, devices.Options{Microphone: devices.SourceTest, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	addrs := []string{janusserver.ICEAddress()}
	pub, err := Join(ctx, Config{Server: s.URL, Room: "re", Display: "pub", Local: ls, LoopbackOnly: true, TestAddresses: addrs})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	states := make(chan FeedState, 64)
	sub, err := Join(ctx, Config{Server: s.URL, Room: "re", Display: "sub", LoopbackOnly: true, TestAddresses: addrs,
		OnEvent: func(e Event) {
			if fs, ok := e.(FeedStateEvent); ok {
				states <- fs.State
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	want := func(st FeedState) {
		t.Helper()
		for {
			select {
			case got := <-states:
				if got == st {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no feed state %v", st)
			}
		}
	}
	want(FeedConnected)
	sub.mu.Lock()
	c := sub.c
	sub.mu.Unlock()
	sub.inbox.push(pcStateMsg{gen: c.gen, pc: c.subPC, s: webrtc.PeerConnectionStateFailed})
	want(FeedFailed)
	want(FeedConnecting)
	want(FeedConnected)
	for _, p := range sub.Participants() {
		if len(p.Streams) == 0 {
			t.Fatalf("no live stream after resubscribing: %+v", p)
		}
	}
}
