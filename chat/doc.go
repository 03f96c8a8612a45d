// Package chat is ttycall's XMPP account (RFC 6120/6121 through mellium.im/xmpp): login
// with StartTLS and SASL, resource binding, presence and roster, XEP-0199 ping keepalive,
// reconnection with backoff, and the transport of call signals (package call/signal) in
// headline messages.
//
// It knows nothing of calls or of the terminal: signals go out through SendSignal and
// come in through Config.OnSignal; everything else is reported as typed events.
package chat
