package janusserver_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/internal/janusserver"
	"github.com/ttycall/ttycall/internal/janusserver/janusservertest"
)

func TestMain(m *testing.M) {
	if code, ran := janusserver.ReexecInNetns(); ran {
		os.Exit(code)
	}
	goleak.VerifyTestMain(m)
}

func dial(t *testing.T, addr string) error {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

func TestStartKillRestart(t *testing.T) {
	s := janusservertest.Start(t, janusserver.Options{
		Rooms:      []janusserver.Room{{ID: "acc", Pin: "1234"}, {ID: "645f1e9a2c"}},
		ICEAddress: janusserver.ICEAddress(),
	})
	if !strings.HasPrefix(s.URL, "ws://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL)
	}
	if err := dial(t, s.Addr); err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile(s.Dir + "/janus.plugin.videoroom.jcfg")
	if err != nil || !strings.Contains(string(cfg), "room-acc") || !strings.Contains(string(cfg), "string_ids = true") {
		t.Fatalf("room config: %v\n%s", err, cfg)
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	if s.Running() {
		t.Fatal("running after Kill")
	}
	if err := dial(t, s.Addr); err == nil {
		t.Fatal("port still answers after Kill")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := dial(t, s.Addr); err != nil {
		t.Fatal(err)
	}
}

func TestBadRoomID(t *testing.T) {
	_, err := janusserver.Start(context.Background(), janusserver.Options{Rooms: []janusserver.Room{{ID: "a b"}}})
	if err == nil || !strings.Contains(err.Error(), "room ID") {
		t.Fatalf("err = %v", err)
	}
}
