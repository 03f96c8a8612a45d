package chat

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// Prosody's mod_turn_external hands out STUN and TURN (UDP, TCP, TLS) entries with REST
// credentials that coturn would accept: HMAC-SHA1 of the username under the secret.
func TestExternalServicesFromProsody(t *testing.T) {
	srv := xmppservertest.Start(t, xmppserver.Options{Users: testUsers, Modules: []string{"turn_external"},
		Extra: `turn_external_secret = "s3cret"
turn_external_host = "turn.example.test"
turn_external_port = 3478
turn_external_ttl = 600
turn_external_tcp = true
turn_external_tls_port = 5349
`})
	p := newPeer(t, srv, "alice", nil).online()
	list, err := p.ExternalServices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	urls := map[string]ExternalService{}
	for _, s := range list {
		urls[s.URL()] = s
	}
	for _, want := range []string{"stun:turn.example.test:3478", "turn:turn.example.test:3478",
		"turn:turn.example.test:3478?transport=tcp", "turns:turn.example.test:5349"} {
		if _, ok := urls[want]; !ok {
			t.Errorf("no %s in %v", want, list)
		}
	}
	for u, s := range urls {
		if !strings.HasPrefix(u, "turn") {
			continue
		}
		m := hmac.New(sha1.New, []byte("s3cret"))
		m.Write([]byte(s.Username))
		if s.Username == "" || s.Password != base64.StdEncoding.EncodeToString(m.Sum(nil)) {
			t.Errorf("%s: credentials %q/%q do not verify", u, s.Username, s.Password)
		}
		if d := time.Until(s.Expires); d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("%s: expires %v, want in about 10 minutes", u, s.Expires)
		}
	}
}

func TestExternalServicesOffline(t *testing.T) {
	a := offlineAccount(t)
	if _, err := a.ExternalServices(context.Background()); !errors.Is(err, ErrOffline) {
		t.Errorf("err = %v, want ErrOffline", err)
	}
}

func TestParseServices(t *testing.T) {
	in := []serviceXML{
		{Type: "turns", Host: "h", Port: "5349"},
		{Type: "turn", Host: "h", Port: "3478", Transport: "udp", Username: "u", Password: "p", Expires: "2030-01-02T03:04:05Z"},
		{Type: "stun", Host: "", Port: "3478"},
		{Type: "stun", Host: "h", Port: "99999"},
		{Type: "stun", Host: "h?x=y"},
		{Type: "STUN", Host: "2001:db8::1", Port: "3478", Transport: "udp"},
	}
	got := parseServices(in, func(string, ...any) {})
	if len(got) != 3 {
		t.Fatalf("got %d services: %v", len(got), got)
	}
	if got[0].Username != "u" || got[0].Password != "p" || got[0].Expires.Year() != 2030 {
		t.Errorf("turns without credentials did not take the turn entry's: %+v", got[0])
	}
	if u := got[2].URL(); u != "stun:[2001:db8::1]:3478" {
		t.Errorf("URL = %q", u)
	}
}
