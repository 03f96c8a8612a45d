package chat

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// maxResources bounds the resources tracked per contact: presence is sent by remote
// peers, and one peer must not make the account keep an entry per made-up resource.
const maxResources = 64

// resourcePresence is the last presence of one resource of a contact.
type resourcePresence struct {
	Presence
	priority int
	seq      uint64 // arrival order, to break priority ties by recency
}

// SetPresence changes our own presence (show: "", "away", "chat", "dnd", "xa"; status
// text). It is kept across reconnections; when offline it is only stored and sent
// with the next login.
func (a *Account) SetPresence(ctx context.Context, show, status string) error {
	switch show {
	case "", "away", "chat", "dnd", "xa":
	default:
		return fmt.Errorf("chat: presence: show %q: want \"\", away, chat, dnd or xa", show)
	}
	a.mu.Lock()
	a.show, a.status = show, status
	sess := a.sess
	a.mu.Unlock()
	if sess == nil {
		return nil
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	if err := a.sendPresence(ctx, sess, show, status); err != nil {
		return fmt.Errorf("chat: presence: %w", err)
	}
	return nil
}

// sendPresence broadcasts our availability with the configured priority (>= 0, so
// headlines to our bare JID reach us).
func (a *Account) sendPresence(ctx context.Context, s *xmpp.Session, show, status string) error {
	var payload []xml.TokenReader
	if show != "" {
		payload = append(payload, textElement("show", show))
	}
	if status != "" {
		payload = append(payload, textElement("status", status))
	}
	payload = append(payload, textElement("priority", strconv.Itoa(a.cfg.Priority)))
	if c := a.capsElement(); c != nil {
		payload = append(payload, c) // XEP-0115 (jingle.go)
	}
	return s.Send(ctx, stanza.Presence{ID: randomID()}.Wrap(xmlstream.MultiReader(payload...)))
}

func unavailablePresence() xml.TokenReader {
	return stanza.Presence{Type: stanza.UnavailablePresence}.Wrap(nil)
}

func textElement(name, text string) xml.TokenReader {
	return xmlstream.Wrap(xmlstream.Token(xml.CharData(text)), xml.StartElement{Name: xml.Name{Local: name}})
}

// handlePresence tracks contacts' availability and reports subscription requests.
func (a *Account) handlePresence(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	p, err := stanza.NewPresence(*start)
	if err != nil {
		a.log.Debug("chat: unreadable presence", "err", err)
		return nil
	}
	from := p.From
	if from.Equal(jid.JID{}) { // mellium blanks our own bare JID
		from = a.local.Bare()
	}
	bare := from.Bare()
	switch p.Type {
	case stanza.SubscribePresence:
		a.emit(SubscriptionRequestEvent{JID: bare})
		return nil
	case "", stanza.UnavailablePresence:
	default: // subscribed, unsubscribe(d): the roster push says what changed; error: log
		a.log.Debug("chat: presence", "type", string(p.Type), "from", from)
		return nil
	}
	if bare.Equal(a.local.Bare()) {
		return nil // our own resources
	}
	var body struct {
		Show     string   `xml:"show"`
		Status   []string `xml:"status"`
		Priority string   `xml:"priority"`
	}
	if err := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(*start), t)).Decode(&body); err != nil {
		a.log.Debug("chat: bad presence", "from", from, "err", err)
		return nil
	}
	rp := resourcePresence{Presence: Presence{Available: p.Type == ""}}
	if rp.Available {
		rp.Show = body.Show
		if len(body.Status) > 0 {
			rp.Status = body.Status[0]
		}
		rp.priority, _ = strconv.Atoi(body.Priority)
	}

	a.mu.Lock()
	a.presenceSeq++
	rp.seq = a.presenceSeq
	key := bare.String()
	c := a.contacts[key]
	if c == nil { // not (yet) in the roster: report it, keep nothing
		a.mu.Unlock()
		a.emit(PresenceEvent{JID: bare, Presence: rp.Presence})
		return nil
	}
	switch {
	case rp.Available:
		if c.resources == nil {
			c.resources = make(map[string]resourcePresence)
		}
		res := from.Resourcepart()
		if _, known := c.resources[res]; !known && len(c.resources) >= maxResources {
			a.mu.Unlock()
			a.log.Debug("chat: presence of too many resources, ignored", "from", from, "limit", maxResources)
			return nil
		}
		c.resources[res] = rp
	case from.Resourcepart() == "":
		c.resources = nil
	default:
		delete(c.resources, from.Resourcepart())
	}
	agg := aggregate(c.resources)
	changed := agg != c.Presence
	c.Presence = agg
	a.mu.Unlock()
	if changed {
		a.emit(PresenceEvent{JID: bare, Presence: agg})
	}
	return nil
}

// aggregate is a contact's presence: its highest-priority resource, the most recent
// one on a tie; unavailable when no resource is online.
func aggregate(res map[string]resourcePresence) Presence {
	var best *resourcePresence
	for _, r := range res {
		if best == nil || r.priority > best.priority || (r.priority == best.priority && r.seq > best.seq) {
			r := r
			best = &r
		}
	}
	if best == nil {
		return Presence{}
	}
	return best.Presence
}
