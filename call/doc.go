// Package call is ttycall's call engine: the QuickBlox video-calling API (sessions,
// call/accept/reject/stop/update, every listener, session/connection/reconnection states)
// on pion/webrtc v4, one peer connection per opponent (full mesh).
//
// It knows nothing of the terminal or of XMPP: signals leave through the small Signaler
// interface and arrive through Client.HandleSignal; events leave as typed values through
// Client.Events and the OnX listeners.
//
// # Concurrency
//
// Each Session has one goroutine that owns its state and runs operations one at a time
// from an unbounded queue: API calls (Call, Accept, ... wait for their result), incoming
// signals, pion callbacks (candidates, state changes) and timers (dialing re-send, not
// answered, answer timeout, reconnect wait, disconnect limit). So signals and API calls
// never race, and SDP operations never overlap. Nothing that feeds a queue ever blocks:
// HandleSignal returns at once and pion's callbacks only post operations.
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
// # Wire behaviour
//
// The rules of ../shared/design/signaling.md: dialing re-sends, not-answered and
// answer timeouts, busy auto-reject, repeated calls of one session ring once, candidates
// before or after their SDP, reject/hangUp to every participant, the higher ID offers in
// a mesh (numerically when both IDs are numbers), auto-accept of offers from the other
// participants of an ACTIVE session, ICE restart through update/reconnect with an
// offerId, b=AS in the video section, VP8 and Opus only.
package call
