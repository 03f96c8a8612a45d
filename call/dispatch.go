package call

// The dispatcher: one goroutine turns queued events into listener calls and into the
// Events() stream, in order. Listeners and the stream are fed from the same values, so
// they cannot diverge.

type queuedEvent struct {
	sess *Session // nil for events about no known session (an InvalidEvent)
	ev   Event
}

// listeners holds the OnX handlers. Every field is a non-nil function (no-ops by default).
type listeners struct {
	onCall          func(*Session, CallEvent)
	onAccept        func(*Session, AcceptEvent)
	onReject        func(*Session, RejectEvent)
	onStop          func(*Session, StopEvent)
	onUserNotAnswer func(*Session, UserNotAnswerEvent)
	onSessionClose  func(*Session, SessionCloseEvent)
	onStats         func(*Session, StatsEvent)
	onConnState     func(*Session, ConnectionStateEvent)
	onUpdate        func(*Session, UpdateEvent)
	onInvalid       func(*Session, InvalidEvent)
	onRemoteStream  func(*Session, RemoteStreamEvent)
	onReconnect     func(*Session, ReconnectEvent)
}

func noopListeners() listeners {
	return listeners{
		onCall:          func(*Session, CallEvent) {},
		onAccept:        func(*Session, AcceptEvent) {},
		onReject:        func(*Session, RejectEvent) {},
		onStop:          func(*Session, StopEvent) {},
		onUserNotAnswer: func(*Session, UserNotAnswerEvent) {},
		onSessionClose:  func(*Session, SessionCloseEvent) {},
		onStats:         func(*Session, StatsEvent) {},
		onConnState:     func(*Session, ConnectionStateEvent) {},
		onUpdate:        func(*Session, UpdateEvent) {},
		onInvalid:       func(*Session, InvalidEvent) {},
		onRemoteStream:  func(*Session, RemoteStreamEvent) {},
		onReconnect:     func(*Session, ReconnectEvent) {},
	}
}

// emit queues an event; it never blocks.
func (c *Client) emit(s *Session, ev Event) {
	if !c.evq.push(queuedEvent{sess: s, ev: ev}) {
		c.log.Debug("event after close dropped", "event", ev)
	}
}

// dispatch runs the listener of one event. It reads the handler under the lock and runs
// it outside.
func (c *Client) dispatch(q queuedEvent) {
	c.mu.Lock()
	l := c.listeners
	c.mu.Unlock()
	switch ev := q.ev.(type) {
	case CallEvent:
		l.onCall(q.sess, ev)
	case AcceptEvent:
		l.onAccept(q.sess, ev)
	case RejectEvent:
		l.onReject(q.sess, ev)
	case StopEvent:
		l.onStop(q.sess, ev)
	case UserNotAnswerEvent:
		l.onUserNotAnswer(q.sess, ev)
	case SessionCloseEvent:
		l.onSessionClose(q.sess, ev)
	case StatsEvent:
		l.onStats(q.sess, ev)
	case ConnectionStateEvent:
		l.onConnState(q.sess, ev)
	case UpdateEvent:
		l.onUpdate(q.sess, ev)
	case InvalidEvent:
		l.onInvalid(q.sess, ev)
	case RemoteStreamEvent:
		l.onRemoteStream(q.sess, ev)
	case ReconnectEvent:
		l.onReconnect(q.sess, ev)
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
