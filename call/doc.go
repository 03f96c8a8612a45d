// Package call is ttycall's call engine: the QuickBlox video-calling API (sessions,
// call/accept/reject/stop/update, every listener, session/connection/reconnection states)
// on pion/webrtc v4, one peer connection per opponent (full mesh).
//
// It knows nothing of the terminal or of XMPP: signals leave through the small Signaler
// interface and arrive through Client.HandleSignal; events leave as typed values through
// Client.Events and the OnX listeners.
package call
