package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
)

// XEP-0215 answers are kept until shortly before their credentials expire, merged after
// the configured servers without duplicate URLs, and asked for again after a failure.
func TestICESourceCacheAndMerge(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	calls := 0
	var fail bool
	src := &iceSource{
		configured: []call.ICEServer{{URLs: []string{"stun:cfg.test"}}},
		now:        func() time.Time { return now },
		discover: func(context.Context) ([]chat.ExternalService, error) {
			calls++
			if fail {
				return nil, errors.New("offline")
			}
			return []chat.ExternalService{
				{Type: "stun", Host: "cfg.test"},
				{Type: "turn", Host: "x.test", Port: 3478, Username: "u", Password: "p", Expires: now.Add(10 * time.Minute)},
				{Type: "ftp", Host: "x.test"},
			}, nil
		},
	}
	got, _ := src.servers(context.Background())
	if len(got) != 2 || got[1].URLs[0] != "turn:x.test:3478" || got[1].Username != "u" {
		t.Fatalf("servers = %+v", got)
	}
	now = now.Add(7 * time.Minute) // within the lifetime, before the renewal margin
	src.servers(context.Background())
	if calls != 1 {
		t.Errorf("asked %d times within the credentials' lifetime, want 1", calls)
	}
	now = now.Add(2 * time.Minute) // one minute before expiry: renewed
	src.servers(context.Background())
	if calls != 2 {
		t.Errorf("asked %d times, want 2 (renewed before expiry)", calls)
	}
	fail = true
	now = now.Add(time.Hour)
	got, _ = src.servers(context.Background())
	if len(got) != 1 {
		t.Errorf("after a failed request: %+v, want the configured server only", got)
	}
}
