// Package conference joins a room on a Janus VideoRoom SFU: a multiparty call that
// grows past what a mesh can carry, since every participant sends its media once (to
// Janus) and receives each other participant's feed from Janus.
//
// A Room has two peer connections: a publisher (our microphone and camera, sent once,
// with a bitrate cap) and one subscriber carrying every remote feed as its own streams
// (Janus >= 1.0 multistream). Remote video is subscribed only for the feeds the caller
// shows (SetVisible). Feeds have connection states as call's sessions have
// (CONNECTING, CONNECTED, FAILED); the room reports participants joining and leaving,
// talking, slow links, and a lost Janus, which it rejoins by itself.
//
// A room is not a call.Session: the engine's sessions negotiate one peer connection
// per opponent through a signaling.Signaling adapter, while Janus offers the
// subscription itself and carries every feed on one connection. So a room has its own
// type, and shares the engine's vocabulary where it maps: feed states are
// call.ConnectionState values, SDPs from Janus go through signaling's normaliser and
// size limit, remote media reaches devices' receivers as in a call.
//
// The Janus API client is package conference/janus.
package conference
