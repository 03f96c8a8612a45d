// Package call is ttycall's call engine: the QuickBlox video-calling API (sessions,
// call/accept/reject/stop/update, every listener, session/connection/reconnection states)
// on pion/webrtc v4, one peer connection per opponent (full mesh).
//
// It knows nothing of the terminal, of XMPP or of any signaling protocol: it speaks the
// neutral messages of package signaling (re-exported here: Offer, Answer, Candidates,
// Reject, Terminate, Restart, Update). They leave through Config.Signaling, a protocol
// adapter such as signaling/quickblox (or a Router over several), and arrive through
// Client.Receive; what a protocol decides for itself (re-sending an unanswered offer,
// who offers in a mesh) comes from the adapter's Rules. Events leave as typed values
// through Client.Events and the OnX listeners.
//
// # Concurrency
//
// Each Session has one goroutine that owns its state and runs operations one at a time
// from an unbounded queue: API calls (Call, Accept, ... wait for their result), incoming
// signals, pion callbacks (candidates, state changes) and timers (dialing re-send, not
// answered, answer timeout, reconnect wait, disconnect limit). So signals and API calls
// never race, and SDP operations never overlap. Nothing that feeds a queue ever blocks:
// Receive returns at once and pion's callbacks only post operations.
//
// Events go into one client-wide queue; one dispatcher goroutine runs the OnX listener of
// each event and then hands the same value to the Events channel, so the listeners and
// the stream see the same events in the same order, and a consumer that does not read
// Events never holds up the listeners, the media or the signaling. Signals leave through
// one sender goroutine, in the order they were queued (a call before its candidates).
//
// Media: each remote track has one reader goroutine that fans packets out to the
// RemoteStream's sinks (decoder, player, recorder, and in Echo mode the track that sends
// them back). Local tracks come from package devices, encoded once and added to every
// peer connection of the session; an RTCP reader per sender turns PLI/FIR into key-frame
// requests. Client.Close hangs up every session and waits for all of these goroutines.
//
// # Call behaviour
//
// The rules of ../shared/design/signaling.md that are not the wire's: re-sending an
// unanswered offer when Rules.ResendOffer says so, not-answered and answer timeouts,
// busy auto-reject, repeated offers of one session ring once, candidates before or
// after their SDP, session-wide reject/terminate, the offerer in a mesh chosen by
// Rules.Offers, auto-accept of offers from the other participants of an ACTIVE session,
// ICE restart through Restart messages paired by ID, b=AS in the video section, VP8 and
// Opus only. A reconnect replaces the peer
// connection, as the web SDK does (it answers and offers a reconnect from a new
// RTCPeerConnection: new DTLS certificate, ICE credentials and SSRCs): we offer from a
// new connection and swap it in when the answer comes, and answer an offer from a new
// one; the old connection's remote streams end and the new one's come as new
// RemoteStreamEvents.
//
// # Hostile input
//
// Whatever arrives (a malformed signal, an unknown session, a sender outside the
// session, a signal that makes no sense in the current state) becomes an InvalidEvent
// and changes nothing else; the session goroutine goes on answering. Remote SDP and
// candidates are checked before pion sees them (sdpcheck.go), because pion changes a
// connection's signaling state before it has read all of a description: the SDP must
// parse, have at most 16 media sections and 64 candidates, ICE credentials and a DTLS
// fingerprint, and at least one codec we speak (VP8 or Opus); an answer (or an
// ICE-restart description) must have the sections of what it answers, and an answer
// must not be an offer (setup:actpass). Candidates that do not parse or point to a
// multicast, broadcast or unspecified address or a DNS name (and with LoopbackOnly, to
// anything but loopback) are refused; at most 256 are queued per peer; an incoming call
// names at most 32 opponents.
//
// What is sent back: a call we cannot answer is rejected (the caller stops dialing) and
// never rings; an accept we cannot apply ends the call with that user (hangUp: they
// think it is answered and will not answer again); a bad ICE-restart description is
// only reported (the restart loop offers again). A reconnect works from pion's failed
// state as well as from disconnected (the new connection gathers afresh), so a break
// shorter than DisconnectTimeInterval recovers either way.
package call
