package conference_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ttycall/ttycall/conference"
	"github.com/ttycall/ttycall/devices"
	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

// TestPublishSimulcast: ttycall publishes its 320x240 test pattern as simulcast into a
// room of the real Janus; another ttycall subscribes and decodes the feed at
// substream 0 (a quarter: 80 px wide), then 2 (full: 320), then 0 again. With
// simulcast off, the feed is one layer: substream 0 asked, 320 px arrive; a 160x120
// camera is not worth simulcast and sends one layer.
func TestPublishSimulcast(t *testing.T) {
	janusservertest.NeedMedia(t)
	// A layer switch lands at a key frame of the new layer: Janus sends a PLI at the
	// switch, and its periodic requests (fir_freq) back that up.
	s := janusservertest.Start(t, janusserver.Options{Rooms: []janusserver.Room{{ID: "simpub", Bitrate: 1_000_000, FIRFreq: 1}},
		ICEAddress: janusserver.ICEAddress()})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var log *slog.Logger
	if os.Getenv("TTYCALL_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	sub, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "simpub", Display: "sub", DecodeVideo: true, Logger: log,
		LoopbackOnly: true, TestAddresses: testAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	publish := func(name string, simulcast bool) *conference.Room {
		ls, err := devices.GetUserMedia(context.Background(),
			devices.MediaParams{Video: true, Width: 320, Height: 240, FPS: 15},
			devices.Options{Camera: devices.SourceTest, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ls.Close() })
		pub, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "simpub", Display: name, Local: ls,
			VideoBitrate: 500_000, Simulcast: simulcast, LoopbackOnly: true, TestAddresses: testAddrs(), Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pub.Close() })
		if pub.Simulcast() != simulcast {
			t.Fatalf("%s: publishing simulcast %v, want %v", name, pub.Simulcast(), simulcast)
		}
		return pub
	}
	participant := func(id string) conference.Participant {
		for _, pt := range sub.Participants() {
			if pt.ID == id {
				return pt
			}
		}
		return conference.Participant{}
	}
	width := func(id string) int {
		if pt := participant(id); pt.VideoStream != nil && pt.VideoStream.Video != nil {
			if img, _ := pt.VideoStream.Video.Load(); img != nil {
				return img.Bounds().Dx()
			}
		}
		return 0
	}
	waitWidth := func(id, what string, want int) {
		t.Helper()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for width(id) != want {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("%s: frame width %d, want %d", what, width(id), want)
			}
		}
	}

	// A camera under devices.MinSimulcastWidth sends one layer even when asked.
	ls, err := devices.GetUserMedia(context.Background(), devices.MediaParams{Video: true, Width: 160, Height: 120, FPS: 15},
		devices.Options{Camera: devices.SourceTest, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	small, err := conference.Join(ctx, conference.Config{Server: s.URL, Room: "simpub", Display: "small", Local: ls,
		Simulcast: true, LoopbackOnly: true, TestAddresses: testAddrs()})
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	if small.Simulcast() {
		t.Error("a 160x120 camera publishes simulcast")
	}

	oneID := publish("one", false).ID()
	sub.SetLayers(map[string]conference.Layer{oneID: conference.LayerLow})
	waitWidth(oneID, "one layer", 320)
	if participant(oneID).Simulcast {
		t.Error("Janus lists the single-layer feed as simulcast")
	}

	// Both publish at once: after the only feed of a subscription leaves, the next
	// feed's media did not arrive (a limit of the subscription update, not of
	// simulcast).
	simID := publish("sim", true).ID()
	sub.SetLayers(map[string]conference.Layer{simID: conference.LayerLow})
	waitWidth(simID, "substream 0", 80)
	if !participant(simID).Simulcast {
		t.Error("Janus does not list the feed as simulcast")
	}
	sub.SetLayers(map[string]conference.Layer{simID: conference.LayerHigh})
	waitWidth(simID, "substream 2", 320)
	sub.SetLayers(map[string]conference.Layer{simID: conference.LayerLow})
	waitWidth(simID, "substream 0 again", 80)
}
