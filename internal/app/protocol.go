package app

// Which protocol carries a call: Jingle (signaling/jingle/adapter) or QuickBlox
// (signaling/quickblox). Incoming calls come with theirs; an outgoing call made
// without one (CreateNewSession) goes through a chooser that picks per contact at the
// offer and keeps the choice for the session.

import (
	"context"
	"regexp"
	"slices"
	"sync"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/signaling"
	"github.com/ttycall/ttycall/signaling/jingle"
	jingleadapter "github.com/ttycall/ttycall/signaling/jingle/adapter"
	"github.com/ttycall/ttycall/signaling/jmi"
	"github.com/ttycall/ttycall/signaling/quickblox"
)

// quickbloxLocal is the local part of a QuickBlox chat JID: {userID}-{appID}.
var quickbloxLocal = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// pickProtocol chooses the protocol of an outgoing call to u: the contact's
// [contacts."JID"] protocol, else calls.protocol; "auto" is QuickBlox for QuickBlox
// IDs and JIDs and for another ttycall (chat.NSQuickBlox), Jingle for a contact with a
// device that advertises Jingle RTP and JMI, QuickBlox otherwise.
func pickProtocol(ctx context.Context, cfg *config.Config, acc *chat.Account, u call.UserID) string {
	j, err := jid.Parse(string(u))
	if err != nil || j.Localpart() == "" {
		return quickblox.Protocol // a QuickBlox user ID
	}
	p := cfg.Calls.Protocol
	if c, ok := cfg.Contacts[j.Bare().String()]; ok && c.Protocol != "" {
		p = c.Protocol
	}
	switch p {
	case jingleadapter.Protocol, quickblox.Protocol:
		return p
	}
	if quickbloxLocal.MatchString(j.Localpart()) {
		return quickblox.Protocol
	}
	feats, _ := acc.ResourceFeatures(ctx, j.Bare())
	jingleOK := false
	for _, f := range feats {
		if slices.Contains(f, chat.NSQuickBlox) {
			return quickblox.Protocol // another ttycall: QuickBlox does more
		}
		if slices.Contains(f, jingle.NSRTP) && slices.Contains(f, jmi.NS) {
			jingleOK = true
		}
	}
	if jingleOK {
		return jingleadapter.Protocol
	}
	return quickblox.Protocol
}

// chooser is the Signaling of sessions that name no protocol.
type chooser struct {
	mu     sync.Mutex
	picked map[string]string // session ID -> protocol; guarded by mu

	by   map[string]call.Signaling
	pick func(ctx context.Context, u call.UserID) string
}

func newChooser(by map[string]call.Signaling, pick func(context.Context, call.UserID) string) *chooser {
	return &chooser{picked: map[string]string{}, by: by, pick: pick}
}

// route returns the session's Signaling, choosing at its first offer.
func (c *chooser) route(ctx context.Context, h *call.Header, offer bool) call.Signaling {
	c.mu.Lock()
	p, ok := c.picked[h.Session.ID]
	c.mu.Unlock()
	if !ok && offer {
		p = c.pick(ctx, h.To)
		if len(h.Session.Opponents) > 1 {
			// A group call: every opponent must speak QuickBlox; a Jingle contact
			// among them refuses the call (Jingle calls are 1:1).
			p = quickblox.Protocol
			for _, o := range h.Session.Opponents {
				if c.pick(ctx, o) == jingleadapter.Protocol {
					p = jingleadapter.Protocol
				}
			}
		}
		c.mu.Lock()
		if q, ok := c.picked[h.Session.ID]; ok {
			p = q
		} else {
			c.picked[h.Session.ID] = p
		}
		c.mu.Unlock()
	}
	if s := c.by[p]; s != nil {
		return s
	}
	return c.by[quickblox.Protocol]
}

func (c *chooser) done(id string) {
	c.mu.Lock()
	delete(c.picked, id)
	c.mu.Unlock()
}

func (c *chooser) Offer(ctx context.Context, m *call.Offer) error {
	return c.route(ctx, &m.Header, true).Offer(ctx, m)
}

func (c *chooser) Answer(ctx context.Context, m *call.Answer) error {
	return c.route(ctx, &m.Header, false).Answer(ctx, m)
}

func (c *chooser) Candidates(ctx context.Context, m *call.Candidates) error {
	return c.route(ctx, &m.Header, false).Candidates(ctx, m)
}

func (c *chooser) Reject(ctx context.Context, m *call.Reject) error {
	err := c.route(ctx, &m.Header, false).Reject(ctx, m)
	c.done(m.Session.ID)
	return err
}

func (c *chooser) Terminate(ctx context.Context, m *call.Terminate) error {
	err := c.route(ctx, &m.Header, false).Terminate(ctx, m)
	if m.To == "" {
		c.done(m.Session.ID)
	}
	return err
}

func (c *chooser) Restart(ctx context.Context, m *call.Restart) error {
	return c.route(ctx, &m.Header, false).Restart(ctx, m)
}

func (c *chooser) Update(ctx context.Context, m *call.Update) error {
	return c.route(ctx, &m.Header, false).Update(ctx, m)
}

// Mute passes the engine's optional Mute on to the session's adapter (call.Muter).
func (c *chooser) Mute(ctx context.Context, m *call.Mute) error {
	return signaling.Send(ctx, c.route(ctx, &m.Header, false), m)
}

// Rules are QuickBlox's until the offer picks (a Jingle session ignores the re-sent
// offer: its adapter sends one propose per session).
func (c *chooser) Rules(s call.SessionInfo) call.Rules {
	return c.by[quickblox.Protocol].Rules(s)
}
