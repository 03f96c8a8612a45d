package chat

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/roster"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// contact is a Contact with the presence of each of its resources.
type contact struct {
	Contact
	resources map[string]resourcePresence // guarded by Account.mu
}

// rosterItem is a roster item as the server sends it (RFC 6121 §2.1.2); unlike
// mellium's roster.Item it keeps ask="subscribe" (our request is pending).
type rosterItem struct {
	JID          string `xml:"jid,attr"`
	Name         string `xml:"name,attr"`
	Subscription string `xml:"subscription,attr"`
	Ask          string `xml:"ask,attr"`
}

// fetchRoster asks for the whole roster (RFC 6121 §2.2) and replaces the contact list
// with it. Presence is unknown until contacts send it after our initial presence.
func (a *Account) fetchRoster(ctx context.Context, s *xmpp.Session) error {
	var query struct {
		Items []rosterItem `xml:"item"`
	}
	iq := roster.IQ{IQ: stanza.IQ{Type: stanza.GetIQ}}
	if err := s.UnmarshalIQ(ctx, iq.TokenReader(), &query); err != nil {
		return err
	}
	a.mu.Lock()
	a.contacts = make(map[string]*contact, len(query.Items))
	for _, it := range query.Items {
		a.applyItemLocked(it)
	}
	list := a.rosterLocked()
	a.mu.Unlock()
	a.emit(RosterEvent{Contacts: list})
	return nil
}

// applyItemLocked adds, updates or (subscription "remove") deletes a contact.
func (a *Account) applyItemLocked(it rosterItem) {
	j, err := jid.Parse(it.JID)
	if err != nil {
		a.log.Debug("chat: roster item with a bad jid", "jid", it.JID, "err", err)
		return
	}
	j = j.Bare()
	key := j.String()
	if it.Subscription == "remove" {
		delete(a.contacts, key)
		return
	}
	c := a.contacts[key]
	if c == nil {
		c = &contact{}
		a.contacts[key] = c
	}
	id, err := a.cfg.Scheme.UserID(j)
	if err != nil {
		id = "" // not a user of our scheme (still listed, cannot be called)
	}
	sub := it.Subscription
	if sub == "" {
		sub = "none"
	}
	c.JID, c.UserID, c.Name, c.Subscription, c.Pending = j, id, it.Name, sub, it.Ask == "subscribe"
}

// IsContact reports whether id is a contact with a subscription (to, from or both):
// someone the user added or let see their presence, as opposed to a stranger or a
// request still pending. It is what calls.accept_from = "contacts" lets ring.
func (a *Account) IsContact(id wire.UserID) bool {
	if id == "" {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.contacts {
		if c.UserID == id {
			return c.Subscription == "to" || c.Subscription == "from" || c.Subscription == "both"
		}
	}
	return false
}

// handleRosterPush applies a roster push (RFC 6121 §2.1.6) and acknowledges it. Pushes
// not from our own account are refused (they could be spoofed).
func (a *Account) handleRosterPush(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if !iq.From.Equal(jid.JID{}) && !iq.From.Equal(a.local.Bare()) {
		_, err := xmlstream.Copy(t, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.Forbidden}))
		return err
	}
	var it rosterItem
	if err := xml.NewTokenDecoder(t).Decode(&it); err != nil {
		a.log.Debug("chat: bad roster push", "err", err)
		_, err = xmlstream.Copy(t, iq.Error(stanza.Error{Type: stanza.Modify, Condition: stanza.BadRequest}))
		return err
	}
	a.mu.Lock()
	a.applyItemLocked(it)
	list := a.rosterLocked()
	a.mu.Unlock()
	a.emit(RosterEvent{Contacts: list})
	_, err := xmlstream.Copy(t, iq.Result(nil))
	return err
}

// Subscribe adds a contact and asks for its presence (the server adds the roster item
// and pushes it with Pending set until the contact answers).
func (a *Account) Subscribe(ctx context.Context, j jid.JID) error {
	return a.sendSubscription(ctx, j, stanza.SubscribePresence)
}

// Approve accepts a subscription request: j may see our presence. (It does not ask
// for j's presence in return; call Subscribe for that.)
func (a *Account) Approve(ctx context.Context, j jid.JID) error {
	return a.sendSubscription(ctx, j, stanza.SubscribedPresence)
}

// Deny declines a subscription request (or cancels one approved before).
func (a *Account) Deny(ctx context.Context, j jid.JID) error {
	return a.sendSubscription(ctx, j, stanza.UnsubscribedPresence)
}

func (a *Account) sendSubscription(ctx context.Context, j jid.JID, typ stanza.PresenceType) error {
	if j.Localpart() == "" && j.Domainpart() == "" {
		return fmt.Errorf("chat: %s: empty jid", typ)
	}
	sess := a.session()
	if sess == nil {
		return fmt.Errorf("chat: %s %s: %w", typ, j.Bare(), ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	p := stanza.Presence{ID: randomID(), To: j.Bare(), Type: typ}
	if err := sess.Send(ctx, p.Wrap(nil)); err != nil {
		return fmt.Errorf("chat: %s %s: %w", typ, j.Bare(), err)
	}
	return nil
}

// Remove deletes a contact from the roster (RFC 6121 §2.5): the server cancels the
// subscriptions both ways and pushes the removal, which drops the contact from the list.
func (a *Account) Remove(ctx context.Context, j jid.JID) error {
	if j.Localpart() == "" && j.Domainpart() == "" {
		return errors.New("chat: remove: empty jid")
	}
	sess := a.session()
	if sess == nil {
		return fmt.Errorf("chat: remove %s: %w", j.Bare(), ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	if err := roster.Delete(ctx, sess, j.Bare()); err != nil {
		return fmt.Errorf("chat: remove %s: %w", j.Bare(), err)
	}
	return nil
}
