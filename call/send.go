package call

import (
	"context"
	"fmt"
	"time"

	"github.com/ttycall/ttycall/signaling"
)

// outMessage is one message waiting for the sender goroutine.
type outMessage struct {
	sess *Session // for error reports; nil for a reject that made no session
	m    Message
}

// send queues m for the Signaling; it never blocks. Messages leave in the order they
// were queued (an offer before its candidates).
func (c *Client) send(s *Session, m Message) {
	if c.cfg.RelayOnly && !relayOnly(m) {
		return
	}
	if !c.sendq.push(outMessage{sess: s, m: m}) {
		c.log.Debug("message after close dropped", "kind", m.Kind(), "to", string(m.Head().To))
	}
}

// sendReply queues a reply to a remote party that has no session here (the reject of a
// call we refused); beyond maxQueuedReplies waiting messages it is dropped: a peer that
// floods us with calls must not grow the queue.
func (c *Client) sendReply(m Message) {
	if _, full := c.sendq.pushDroppable(outMessage{m: m}); full {
		c.log.Debug("reply dropped: send queue full", "kind", m.Kind(), "to", string(m.Head().To))
	}
}

// runSender is the goroutine that hands messages to the Signaling, one at a time, in
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

func (c *Client) sendOne(ctx context.Context, o outMessage) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.senderTimeout)
	defer cancel()
	h := o.m.Head()
	err := signaling.Send(ctx, c.cfg.Signaling, o.m)
	if err == nil {
		c.log.Debug("message sent", "kind", o.m.Kind(), "to", string(h.To), "session", h.Session.ID)
		return
	}
	c.log.Warn("message not sent", "kind", o.m.Kind(), "to", string(h.To), "session", h.Session.ID, "err", err)
	c.emit(o.sess, InvalidEvent{
		EventMeta: EventMeta{SessionID: h.Session.ID, User: h.To, Time: time.Now()},
		Op:        "send " + o.m.Kind(),
		Err:       fmt.Errorf("send %s to %s: %w", o.m.Kind(), h.To, err),
	})
}
