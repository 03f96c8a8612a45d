package call

import "reflect"

// The dispatcher: one goroutine turns queued events into listener calls and into the
// Events() stream, in order. Listeners and the stream are fed from the same values, so
// they cannot diverge.

type queuedEvent struct {
	sess *Session // nil for events about no known session (an InvalidEvent)
	ev   Event
}

// listeners holds the handler of each event type, keyed by the event's dynamic type.
// A new event type needs no entry here: Listen works for any Event.
type listeners map[reflect.Type]func(*Session, Event)

// Listen sets the handler of the events of type E (the seed's listeners are Listen for
// their event type: OnCall is Listen[CallEvent]). It runs on the engine's event
// goroutine, in order, after the event is queued for Events(); it must not block. The
// *Session is nil for an InvalidEvent about a session this client does not know. A nil
// handler removes the listener.
func Listen[E Event](c *Client, f func(*Session, E)) {
	t := reflect.TypeFor[E]()
	c.mu.Lock()
	defer c.mu.Unlock()
	if f == nil {
		delete(c.listeners, t)
		return
	}
	c.listeners[t] = func(s *Session, ev Event) { f(s, ev.(E)) }
}

// emit queues an event; it never blocks.
func (c *Client) emit(s *Session, ev Event) {
	if !c.evq.push(queuedEvent{sess: s, ev: ev}) {
		c.log.Debug("event after close dropped", "event", ev)
	}
}

// emitDroppable queues an event a remote party caused (an InvalidEvent about what it
// sent); beyond maxQueuedEvents waiting events it is dropped and counted.
func (c *Client) emitDroppable(s *Session, ev Event) {
	if _, full := c.evq.pushDroppable(queuedEvent{sess: s, ev: ev}); full {
		c.log.Debug("event dropped: event queue full", "event", ev)
	}
}

// dispatch runs the listener of one event. It reads the handler under the lock and runs
// it outside.
func (c *Client) dispatch(q queuedEvent) {
	c.mu.Lock()
	f := c.listeners[reflect.TypeOf(q.ev)]
	c.mu.Unlock()
	if f != nil {
		f(q.sess, q.ev)
	}
}

// runDispatcher is the event goroutine. Owner: Client (bgWG). It ends when Close closes
// c.stopDispatch, after running the listeners of every event still queued; then it
// closes the Events channel. Events not yet read from the channel by then are dropped.
func (c *Client) runDispatcher() {
	defer c.bgWG.Done()
	defer close(c.events)
	var pending []Event // handed to listeners, not yet taken by the Events reader
	for {
		var out chan Event
		var head Event
		if len(pending) > 0 {
			out, head = c.events, pending[0]
		}
		select {
		case <-c.evq.ready:
			for _, q := range c.evq.drain() {
				c.dispatch(q)
				pending = append(pending, q.ev)
			}
			if n := len(pending) - maxPendingEvents; n > 0 {
				// The reader fell behind: the oldest leave the stream.
				clear(pending[:n])
				pending = pending[n:]
				c.droppedStream.Add(uint64(n))
				c.log.Warn("events dropped: Events() is not read fast enough", "dropped", n)
			}
		case out <- head:
			pending[0] = nil
			pending = pending[1:]
		case <-c.stopDispatch:
			for _, q := range c.evq.close() {
				c.dispatch(q)
				pending = append(pending, q.ev)
			}
			// Hand over what fits in the channel's buffer; a reader that stopped reading
			// does not hold Close up.
			for _, ev := range pending {
				select {
				case c.events <- ev:
				default:
				}
			}
			return
		}
	}
}
