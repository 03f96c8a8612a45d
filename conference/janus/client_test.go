package janus_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/conference/janus"
	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

func TestMain(m *testing.M) {
	if code, ran := janusserver.ReexecInNetns(); ran {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

func startJanus(t *testing.T) *janusserver.Server {
	return janusservertest.Start(t, janusserver.Options{
		Rooms:      []janusserver.Room{{ID: "acc"}, {ID: "locked", Pin: "1234"}},
		ICEAddress: janusserver.ICEAddress(),
	})
}

func dial(t *testing.T, ctx context.Context, url string) *janus.Client {
	t.Helper()
	c, err := janus.Dial(ctx, url, janus.Options{KeepAlive: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestJoinEventsWrongPin(t *testing.T) {
	s := startJanus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	a := dial(t, ctx, s.URL)
	events := make(chan janus.Event, 16)
	ha, err := a.Attach(ctx, janus.VideoRoom, func(e janus.Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := janus.Exists(ctx, ha, "acc"); err != nil || !ok {
		t.Fatalf("exists acc = %v, %v", ok, err)
	}
	if ok, err := janus.Exists(ctx, ha, "nope"); err != nil || ok {
		t.Fatalf("exists nope = %v, %v", ok, err)
	}
	if _, err := janus.JoinPublisher(ctx, ha, "locked", "alice", "0000"); !errors.Is(err, janus.ErrUnauthorized) {
		t.Fatalf("wrong pin: err = %v, want ErrUnauthorized", err)
	}
	if _, err := janus.JoinPublisher(ctx, ha, "nope", "alice", ""); !errors.Is(err, janus.ErrNoSuchRoom) {
		t.Fatalf("no room: err = %v, want ErrNoSuchRoom", err)
	}
	j, err := janus.JoinPublisher(ctx, ha, "acc", "alice", "")
	if err != nil {
		t.Fatal(err)
	}
	if j.ID == "" || j.Room != "acc" {
		t.Fatalf("joined %+v", j)
	}

	b := dial(t, ctx, s.URL)
	hb, err := b.Attach(ctx, janus.VideoRoom, nil)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := janus.JoinPublisher(ctx, hb, "locked", "bob", "1234")
	if err != nil {
		t.Fatal(err)
	}
	_ = jb
	jb2, err := b.Attach(ctx, janus.VideoRoom, nil)
	if err != nil {
		t.Fatal(err)
	}
	jj, err := janus.JoinPublisher(ctx, jb2, "acc", "bob", "")
	if err != nil {
		t.Fatal(err)
	}
	// alice hears of bob joining (notify_joining), then leaving.
	want := map[string]bool{"joining": false, "leaving": false}
	for !want["joining"] || !want["leaving"] {
		select {
		case e := <-events:
			if e.Type != janus.EventPlugin {
				continue
			}
			re, err := janus.ParseRoomEvent(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			if re.Joining != nil && re.Joining.ID == jj.ID && re.Joining.Display == "bob" {
				want["joining"] = true
				if err := janus.Leave(ctx, jb2); err != nil {
					t.Fatal(err)
				}
			}
			if re.Leaving == jj.ID {
				want["leaving"] = true
			}
		case <-ctx.Done():
			t.Fatalf("events: %v", want)
		}
	}
}

func TestRestartEndsClient(t *testing.T) {
	s := startJanus(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := dial(t, ctx, s.URL)
	if _, err := c.Attach(ctx, janus.VideoRoom, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("client did not notice Janus going away")
	}
	if !errors.Is(c.Err(), janus.ErrClosed) {
		t.Fatalf("Err = %v", c.Err())
	}
	if _, err := c.Attach(ctx, janus.VideoRoom, nil); !errors.Is(err, janus.ErrClosed) {
		t.Fatalf("attach after loss: %v", err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, ctx, s.URL)
	if c2.SessionID() == 0 {
		t.Fatal("no session")
	}
}

func TestDialRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := janus.Dial(ctx, "ws://127.0.0.1:1", janus.Options{}); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
}
