package call

import (
	"context"
	"fmt"
	"time"

	"github.com/ttycall/ttycall/call/signal"
)

// outSignal is one signal waiting for the sender goroutine.
type outSignal struct {
	sess *Session // for error reports; nil for a busy reject
	sig  *signal.Signal
}

// send queues sig for sig.To; it never blocks. Signals leave in the order they were
// queued (a call before its candidates).
func (c *Client) send(s *Session, sig *signal.Signal) {
	if c.cfg.RelayOnly {
		relayOnly(sig)
		if sig.Type == signal.TypeICECandidates && len(sig.Candidates) == 0 {
			return
		}
	}
	if !c.sendq.push(outSignal{sess: s, sig: sig}) {
		c.log.Debug("signal after close dropped", "type", sig.Type, "to", string(sig.To))
	}
}

// runSender is the goroutine that hands signals to the Signaler, one at a time, in
// order. Owner: Client (bgWG). It ends when Close closes stopSend, after sending what is
// still queued (bounded by senderTimeout).
func (c *Client) runSender() {
	defer c.bgWG.Done()
	for {
		select {
		case <-c.sendq.ready:
			for _, o := range c.sendq.drain() {
				c.sendOne(context.Background(), o)
			}
		case <-c.stopSend:
			ctx, cancel := context.WithTimeout(context.Background(), c.cfg.senderTimeout)
			for _, o := range c.sendq.close() {
				c.sendOne(ctx, o)
			}
			cancel()
			return
		}
	}
}

func (c *Client) sendOne(ctx context.Context, o outSignal) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.senderTimeout)
	defer cancel()
	err := c.cfg.Signaler.SendSignal(ctx, o.sig.To, o.sig)
	if err == nil {
		c.log.Debug("signal sent", "type", o.sig.Type, "to", string(o.sig.To), "session", o.sig.SessionID)
		return
	}
	c.log.Warn("signal not sent", "type", o.sig.Type, "to", string(o.sig.To), "session", o.sig.SessionID, "err", err)
	c.emit(o.sess, InvalidEvent{
		EventMeta: EventMeta{SessionID: o.sig.SessionID, User: o.sig.To, Time: time.Now()},
		Op:        "send " + string(o.sig.Type),
		Err:       fmt.Errorf("send %s to %s: %w", o.sig.Type, o.sig.To, err),
	})
}
