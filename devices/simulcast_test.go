package devices

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// TestSimulcastLayers: the three layers of a test-pattern track each carry packets;
// Single stops the reduced ones while the full layer goes on; Close ends it all.
func TestSimulcastLayers(t *testing.T) {
	s, err := GetUserMedia(context.Background(), MediaParams{Video: true},
		Options{Camera: SourceTest, Width: 320, Height: 240, FPS: 30, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sim, err := NewSimulcast(s.Video, "ttycall", 300_000, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var binds [3]*fakeBinding
	for i, tr := range sim.Tracks() {
		if tr.RID() != SimulcastRIDs[i] {
			t.Fatalf("track %d: rid %q", i, tr.RID())
		}
		binds[i] = &fakeBinding{id: tr.RID(), ssrc: webrtc.SSRC(i + 1), codec: vp8Codec}
		if _, err := tr.Bind(binds[i]); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: layer frames %v", what, sim.LayerFrames())
			}
			time.Sleep(20 * time.Millisecond) // polling the packet counts
		}
	}
	wait("every layer sends", func() bool {
		return len(binds[0].Packets()) > 0 && len(binds[1].Packets()) > 0 && len(binds[2].Packets()) > 0
	})
	sim.Single()
	n1, n2 := len(binds[1].Packets()), len(binds[2].Packets())
	h := len(binds[0].Packets())
	wait("the full layer goes on alone", func() bool { return len(binds[0].Packets()) > h+20 })
	if len(binds[1].Packets()) != n1 || len(binds[2].Packets()) != n2 {
		t.Errorf("reduced layers sent after Single: %d->%d, %d->%d", n1, len(binds[1].Packets()), n2, len(binds[2].Packets()))
	}
	sim.Close()
	if s.Video.(*localTrack).sim.Load() != nil {
		t.Error("still attached after Close")
	}
}
