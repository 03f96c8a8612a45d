package qbapi

// ICEServer is one STUN/TURN server, as in an RTCConfiguration.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// DefaultICEServers are the ICE servers the web SDK's config ships with (src/qbConfig.js
// webrtc.iceServers of npm quickblox 2.23.0): QuickBlox's TURN/STUN host with the SDK's
// built-in credentials. In QuickBlox mode they are the default when the config names no
// [ice] servers, so ttycall relays through the same servers as the apps it calls. A new
// slice each call: callers may merge into it.
func DefaultICEServers() []ICEServer {
	return []ICEServer{{
		URLs:       []string{"turn:turn.quickblox.com", "stun:turn.quickblox.com"},
		Username:   "quickblox",
		Credential: "baccb97ba2d92d71e26eb9886da5f1e0",
	}}
}

// The SDK's default endpoints (qbConfig.js endpoints).
const (
	DefaultAPIEndpoint  = "https://api.quickblox.com"
	DefaultChatEndpoint = "chat.quickblox.com"
)
