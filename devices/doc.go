// Package devices is ttycall's media layer: local capture (camera and microphone through
// pion/mediadevices, synthetic and file sources for machines without devices), encoding
// once per session and fanning the encoded samples out to every peer connection, and the
// receive side (RTP to decoded frames and PCM, audio playback, recording without
// re-encoding).
//
// The call engine (package call) asks this package for a LocalStream and feeds remote
// RTP into the sinks it provides; the UI reads decoded frames from FrameSlots. Nothing
// here knows of sessions, signaling or the terminal.
//
// # Send side
//
// A source (synthetic test pattern or tone, IVF/Y4M/WAV/Ogg-Opus file, a V4L2 camera or
// a malgo microphone through mediadevices' drivers) feeds one mediadevices encoder (VP8
// through libvpx, Opus through libopus) on one goroutine, which writes each sample to a
// pion TrackLocalStaticSample. pion packetizes a sample once and writes the packets to
// every peer connection the track is bound to, so a mesh of 25 peers costs one encoder.
// mediadevices' own Track is not used: it builds an encoder per binding. A LocalStream
// may also be shared by several sessions, for the same reason.
//
// A missing or unusable device is replaced at the start by the synthetic source, and a
// device that fails during a call by the test pattern (camera) or silence (microphone),
// each with a notice (LocalStream.Notices, Options.OnNotice): a call never loses a track
// because of a device.
//
// # Receive side
//
// Receivers take RTP from the engine through WriteRTP, which only copies the packet into
// a bounded queue (a full queue drops, and the gap is repaired by a key frame). Video
// packets are put back in order (a short reorder window that lets NACK retransmissions
// land), assembled into VP8 frames (RFC 7741) and decoded by a small libvpx wrapper of
// our own, which reads libvpx's corruption flag and refuses absurd frame sizes; after a
// loss the receiver skips frames until a key frame and asks for one. Opus packets go
// into an adaptive jitter buffer (audiojb.go, after WebRTC's NetEQ) that a playout clock
// drains every 20 ms: decoded by libopus, a lost packet rebuilt from the next one's FEC
// or concealed (PLC) for short gaps. Both receivers follow a sender that restarts its
// sequence numbers (see lateResync).
package devices
