package chat

import (
	"encoding/xml"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/mux"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/roster"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/signaling/jingle"
)

// handler routes what the server sends: messages (call signals) and presence are read
// whole here (a signal's <delay> may follow its payload); IQs go through a mux with
// XEP-0199 ping replies and roster pushes, and any other IQ gets service-unavailable.
// Handlers run on the receive goroutine: they never block, and they return an error
// only when the stream itself is broken (an error ends the session).
func (a *Account) handler() xmpp.Handler {
	m := mux.New(stanza.NSClient,
		ping.Handle(),
		mux.IQFunc(stanza.SetIQ, xml.Name{Space: roster.NS, Local: "query"}, a.handleRosterPush),
		// Jingle IQs and our disco#info (jingle.go).
		mux.IQFunc(stanza.GetIQ, xml.Name{Space: disco.NSInfo, Local: "query"}, a.handleDiscoInfo),
		mux.IQ(stanza.SetIQ, xml.Name{Space: jingle.NS, Local: "jingle"}, jingleIQ{a}),
	)
	a.computeCaps()
	return xmpp.HandlerFunc(func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		if start.Name.Space == stanza.NSClient {
			switch start.Name.Local {
			case "message":
				return a.handleMessage(t, start)
			case "presence":
				return a.handlePresence(t, start)
			}
		}
		return m.HandleXMPP(t, start)
	})
}
