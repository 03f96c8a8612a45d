// Package devices is ttycall's media layer: local capture (camera and microphone through
// pion/mediadevices, synthetic and file sources for machines without devices), encoding
// once per session and fanning the encoded samples out to every peer connection, and the
// receive side (RTP to decoded frames and PCM, audio playback, recording without
// re-encoding).
//
// The call engine (package call) asks this package for a LocalStream and feeds remote
// RTP into the sinks it provides; the UI reads decoded frames from FrameSlots. Nothing
// here knows of sessions, signaling or the terminal.
package devices
