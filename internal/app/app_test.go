package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/internal/app"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

func TestEngineConfigMapping(t *testing.T) {
	cfg := config.Default()
	cfg.Calls.AnswerTimeInterval = 7
	cfg.Calls.DialingTimeInterval = 1.5
	cfg.Calls.DisconnectTimeInterval = 9
	cfg.Calls.StatsReportTimeInterval = 2
	cfg.Calls.AutoReject = true
	cfg.Calls.IncomingLimit = 3
	cfg.Calls.Bandwidth = 512
	cfg.ICE.TransportPolicy = "relay"
	cfg.ICE.Servers = []config.ICEServer{{URLs: []string{"turn:127.0.0.1:3478"}, Username: "u", Credential: "c"}}
	cfg.Media.Camera, cfg.Media.Microphone = "test", "tone.wav"
	cfg.Media.Width, cfg.Media.Height, cfg.Media.FPS = 320, 240, 15

	t.Setenv(app.EnvLoopbackICE, "")
	c := app.EngineConfig(cfg, "me@localhost", nil, app.Options{Echo: true, DecodeVideo: true})
	if q := app.AdapterConfig(cfg, "me@localhost", nil, app.Options{}); q.DialingTimeInterval != 1500*time.Millisecond {
		t.Errorf("adapter: %+v", q)
	}
	if c.AnswerTimeInterval != 7*time.Second ||
		c.DisconnectTimeInterval != 9*time.Second || c.StatsReportInterval != 2*time.Second {
		t.Errorf("intervals: %+v", c)
	}
	if !c.AutoReject || c.IncomingLimit != 3 || c.BandwidthKbps != 512 || !c.RelayOnly || c.LoopbackOnly {
		t.Errorf("calls/ice: %+v", c)
	}
	if len(c.ICEServers) != 1 || c.ICEServers[0].URLs[0] != "turn:127.0.0.1:3478" || c.ICEServers[0].Credential != "c" {
		t.Errorf("ice servers: %+v", c.ICEServers)
	}
	if c.Media.Camera != "test" || c.Media.Microphone != "tone.wav" || c.Media.Width != 320 || c.Media.FPS != 15 {
		t.Errorf("media: %+v", c.Media)
	}
	if !c.Echo || !c.DecodeVideo || c.LocalID != "me@localhost" {
		t.Errorf("options: %+v", c)
	}

	t.Setenv(app.EnvLoopbackICE, "1")
	if c := app.EngineConfig(cfg, "me@localhost", nil, app.Options{}); !c.LoopbackOnly {
		t.Error("TTYCALL_ICE_LOOPBACK=1 did not turn on loopback-only ICE")
	}
}

func TestNewBadJID(t *testing.T) {
	cfg := config.Default()
	cfg.Account.JID = "@@"
	if _, err := app.New(cfg, app.Options{}); !errors.Is(err, app.ErrConfig) {
		t.Errorf("err = %v, want ErrConfig", err)
	}
}

// No account configured: the error says where the config was looked for and what to
// do, not a JID parser's complaint about an empty domainpart.
func TestNewNoAccount(t *testing.T) {
	_, err := app.New(config.Default(), app.Options{})
	if !errors.Is(err, app.ErrConfig) || !errors.Is(err, config.ErrNoAccount) {
		t.Fatalf("err = %v, want ErrConfig and ErrNoAccount", err)
	}
	for _, want := range []string{"no config file at " + config.DefaultPath(), "copy config.toml.example", "ttycall demo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "domainpart") || strings.Count(err.Error(), "config:") > 0 {
		t.Errorf("%q", err)
	}
}

func testConfig(srv *xmppserver.Server, user, password string) *config.Config {
	cfg := config.Default()
	cfg.Account.JID = user + "@" + srv.Domain
	cfg.Account.Password = password
	cfg.Account.Server = srv.Addr
	cfg.Account.CAFile = srv.CAFile
	cfg.Account.TLS = "starttls"
	return cfg
}

func TestRunWrongPassword(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "secret"}})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := app.New(testConfig(srv, "alice", "wrong"), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := a.Run(ctx); !errors.Is(err, chat.ErrAuth) {
		t.Errorf("Run = %v, want ErrAuth", err)
	}
}

func TestOnlineThenClose(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "secret"}})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := app.New(testConfig(srv, "alice", "secret"), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.LocalID() != "alice@localhost" {
		t.Errorf("LocalID = %q", a.LocalID())
	}
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(context.Background()) }() // ends when Close cancels it
	deadline := time.After(20 * time.Second)
wait:
	for {
		select {
		case ev := <-a.AccountEvents():
			if s, ok := ev.(chat.StateEvent); ok && s.State == chat.Online {
				break wait
			}
		case err := <-runErr:
			t.Fatalf("Run returned before online: %v", err)
		case <-deadline:
			t.Fatal("not online within 20 s")
		}
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after Close = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Run did not return after Close")
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRunEndsWithContext(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "secret"}})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := app.New(testConfig(srv, "alice", "secret"), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx) }() // ends when ctx is cancelled below
	deadline := time.After(20 * time.Second)
	for online := false; !online; {
		select {
		case ev := <-a.AccountEvents():
			s, ok := ev.(chat.StateEvent)
			online = ok && s.State == chat.Online
		case err := <-runErr:
			t.Fatalf("Run returned before online: %v", err)
		case <-deadline:
			t.Fatal("not online within 20 s")
		}
	}
	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if err := a.Close(); err != nil { // waits for the Close that ctx started
		t.Errorf("Close: %v", err)
	}
}

// TestCloseWithoutRunAndRunAfterClose: Close before Run does not wait for a Run that
// never started, and Run after Close refuses at once.
func TestCloseWithoutRunAndRunAfterClose(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: map[string]string{"alice": "secret"}})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	a, err := app.New(testConfig(srv, "alice", "secret"), app.Options{LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- a.Close() }() // ends when Close returns
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close without Run did not return")
	}
	if err := a.Run(context.Background()); err == nil {
		t.Error("Run after Close: no error")
	}
}
