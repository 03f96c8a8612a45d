package jingle

// Limits on what one Jingle element may hold. Jingle actions arrive as IQs from anyone
// on the network; a call has an audio and a video content with a few dozen codecs, and a
// browser gathers a handful of candidates per interface. Anything far beyond is refused
// on parse, before a session or a peer connection sees it.
const (
	// MaxElements bounds the elements of one <jingle/> (Chromium's video description,
	// the largest real one, has about 150).
	MaxElements = 2000
	// MaxDepth bounds nesting (<jingle><content><description><payload-type><parameter>
	// is 5 deep).
	MaxDepth = 8
	// MaxContents: audio, video and a data channel at most, with room.
	MaxContents = 4
	// MaxPayloadTypes per description (Chromium offers about 30 for video).
	MaxPayloadTypes = 64
	// MaxParams per payload type or source.
	MaxParams = 16
	// MaxFeedback rtcp-fb per payload type or description.
	MaxFeedback = 16
	// MaxHdrExts per description (ids are 1..255).
	MaxHdrExts = 32
	// MaxSources and MaxSourceGroups per description (simulcast uses a few).
	MaxSources      = 16
	MaxSourceGroups = 8
	// MaxCandidates per transport (as call/ takes in one SDP).
	MaxCandidates = 64
	// MaxFingerprints per transport.
	MaxFingerprints = 4
	// MaxText bounds every attribute and text (ufrag, pwd, sid, names, fingerprints).
	MaxText = 512
)
