package app

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
)

// Lifetimes of XEP-0215 answers in the cache.
const (
	// extRenewBefore: credentials are fetched again this long before they expire, so
	// a call never starts with credentials that lapse during its allocation.
	extRenewBefore = 2 * time.Minute
	// extNoExpiry: how long an answer without expiry is kept.
	extNoExpiry = 10 * time.Minute
)

// iceSource merges the STUN/TURN servers of a call: the config's (or, in QuickBlox mode
// without any, the SDK's defaults: quickbloxICE) and the XMPP server's (XEP-0215,
// cached until shortly before its credentials expire).
type iceSource struct {
	configured []call.ICEServer
	discover   func(ctx context.Context) ([]chat.ExternalService, error) // nil: off
	now        func() time.Time

	mu    sync.Mutex
	cache []call.ICEServer // guarded by mu
	until time.Time        // guarded by mu; cache is valid before
}

// servers returns the servers for a new peer connection. A failed XEP-0215 request
// leaves the other sources: a call still gets what the config gives.
func (s *iceSource) servers(ctx context.Context) ([]call.ICEServer, error) {
	out := slices.Clone(s.configured)
	if s.discover != nil {
		out = appendNew(out, s.external(ctx)...)
	}
	return out, nil
}

// newICESource is the source of an account: configured servers, and the account's
// XEP-0215 services unless ice.external_services is off.
func newICESource(cfg *config.Config, configured []call.ICEServer, acc *chat.Account, log *slog.Logger) *iceSource {
	src := &iceSource{configured: configured, now: time.Now}
	if cfg.ICE.ExternalServices {
		src.discover = func(ctx context.Context) ([]chat.ExternalService, error) {
			list, err := acc.ExternalServices(ctx)
			if err != nil {
				log.Info("app: no external services (XEP-0215)", "err", err)
			}
			return list, err
		}
	}
	return src
}

func (s *iceSource) external(ctx context.Context) []call.ICEServer {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Before(s.until) {
		return s.cache
	}
	list, err := s.discover(ctx)
	if err != nil {
		s.cache, s.until = nil, time.Time{}
		return nil
	}
	s.cache, s.until = nil, now.Add(extNoExpiry)
	for _, e := range list {
		if !e.ICE() {
			continue
		}
		s.cache = append(s.cache, call.ICEServer{URLs: []string{e.URL()}, Username: e.Username, Credential: e.Password})
		if !e.Expires.IsZero() {
			if t := e.Expires.Add(-extRenewBefore); t.Before(s.until) {
				s.until = t
			}
		}
	}
	return s.cache
}

// appendNew appends the servers whose URLs are not in list yet.
func appendNew(list []call.ICEServer, more ...call.ICEServer) []call.ICEServer {
	seen := map[string]bool{}
	for _, s := range list {
		for _, u := range s.URLs {
			seen[u] = true
		}
	}
	for _, s := range more {
		var urls []string
		for _, u := range s.URLs {
			if !seen[u] {
				seen[u] = true
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			s.URLs = urls
			list = append(list, s)
		}
	}
	return list
}
