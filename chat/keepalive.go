package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmpp"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"
)

// keepalive pings the server (XEP-0199) every PingInterval. A ping unanswered within
// PingTimeout means a dead connection: it calls dead and returns. It ends with ctx.
// With the defaults a dead link is found within 20 s.
func (a *Account) keepalive(ctx context.Context, s *xmpp.Session, dead func(error)) {
	t := time.NewTicker(a.cfg.PingInterval)
	defer t.Stop()
	server := a.local.Domain()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, a.cfg.PingTimeout)
		// A send stuck on a full socket (the peer stopped reading) holds mellium's write
		// lock; the ping then waits for that lock without seeing pctx end. So the
		// deadline itself declares the link dead, and closing the connection frees both.
		timeout := context.AfterFunc(pctx, func() {
			if ctx.Err() == nil {
				dead(fmt.Errorf("chat: %w within %s", ErrPingTimeout, a.cfg.PingTimeout))
			}
		})
		err := ping.Send(pctx, s, server)
		fired := !timeout()
		cancel()
		if fired {
			return // dead was called, or ctx ended
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		var se stanza.Error
		if errors.As(err, &se) { // an error reply is still a reply: the link is alive
			continue
		}
		dead(fmt.Errorf("chat: %w within %s: %w", ErrPingTimeout, a.cfg.PingTimeout, err))
		return
	}
}
