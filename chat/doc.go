// Package chat is ttycall's XMPP account (RFC 6120/6121 through mellium.im/xmpp): login
// with StartTLS and SASL, resource binding, presence and roster, XEP-0199 ping keepalive,
// reconnection with backoff, and the transport of call signals (package signaling/quickblox/wire) in
// headline messages.
//
// It knows nothing of calls or of the terminal: signals go out through SendSignal and
// come in through Config.OnSignal; everything else is reported as typed events.
//
// # Connection
//
// Run dials Config.Server (else the JID's domain, port 5222), secures the stream
// (StartTLS verified against the system roots plus Config.CAFile with the JID's domain
// as the name; direct TLS; or, to a loopback address only, no TLS), authenticates with
// SCRAM-SHA-256 or SCRAM-SHA-1 (PLAIN only inside TLS), binds a resource, fetches the
// roster and sends presence with a priority >= 0. It reports Online only once the
// server has processed that presence (a ping round trip after it), so headlines to our
// bare JID reach us from then on.
//
// States go Connecting -> Online -> Offline (StateEvent.Err says why) -> Reconnecting
// (StateEvent.RetryIn) -> Connecting ... The wait grows exponentially from
// ReconnectMin to ReconnectMax with jitter and starts over after each Online. A
// connection that stops answering pings (PingInterval, PingTimeout) counts as dead. A
// refused login ends Run with an error wrapping ErrAuth after that single attempt.
//
// # Signals
//
// SendSignal writes one <message type="headline"> with a fresh id to the opponent's
// bare JID; it fails at once with ErrOffline when there is no connection. Incoming
// headlines with an extraParams payload are decoded; From is taken from the stanza's
// from JID (mapped through the ID scheme), To is us. Copies carrying a XEP-0203 <delay>
// are dropped, payloads of other modules ignored, and malformed signals go to
// Config.OnSignalError and an ErrorEvent wrapping ErrBadSignal.
//
// Events are delivered in order through a queue, so a slow reader never stalls the
// connection; the queue is bounded (a reader that stops reading loses events other
// than StateEvents, never memory to a peer's flood). Close stops them and closes the
// channel.
package chat
