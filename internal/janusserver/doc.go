// Package janusserver runs a private Janus WebRTC server (Debian's janus 1.x) with the
// VideoRoom plugin and the WebSocket transport, unprivileged, on loopback, from a config
// directory it generates: for the conference tests, benchmarks and a local demo, as
// internal/xmppserver does with Prosody.
//
// Janus never gathers ICE candidates on a loopback interface (src/ice.c skips
// IFF_LOOPBACK), so media needs one non-loopback address: Options.ICEAddress. Tests put
// it on a veth pair inside a network namespace of their own (see NetnsMain), so no
// packet leaves the test.
package janusserver
