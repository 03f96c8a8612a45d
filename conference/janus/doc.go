// Package janus is a client of the Janus WebRTC server's API over WebSocket (the
// "janus-protocol" subprotocol): one connection, one Janus session kept alive every
// 25 s, plugin handles, transactions with timeouts, trickle both ways, and the
// asynchronous events of the core (webrtcup, media, slowlink, hangup) and of plugins.
//
// The VideoRoom requests that ttycall needs are in videoroom.go; the peer connections
// live in package conference. See https://janus.conf.meetecho.com/docs/rest.html.
package janus
