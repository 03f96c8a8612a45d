package chat

// The XMPP side of standard calls: Jingle IQs (XEP-0166) through the mux, answered
// before the adapter acts; Jingle Message Initiation messages (XEP-0353), also as
// carbons (XEP-0280) so our other devices stop ringing; and the features we advertise
// (XEP-0030, XEP-0115) and discover on contacts to choose the protocol per contact. The
// call logic is the Jingle adapter's (a JingleHandler); the wire formats are
// signaling/jingle's and signaling/jmi's.

import (
	"context"
	"crypto/sha1" // #nosec G505: XEP-0115 names sha-1 for the caps hash
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/carbons"
	xmppcrypto "mellium.im/xmpp/crypto"
	"mellium.im/xmpp/delay"
	"mellium.im/xmpp/disco"
	"mellium.im/xmpp/disco/info"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/signaling/jingle"
	"github.com/ttycall/ttycall/signaling/jmi"
)

// CapsNode is ttycall's XEP-0115 node.
const CapsNode = "https://github.com/ttycall/ttycall"

// nsHints: the <store/> hint keeps JMI messages in archives (XEP-0334), as
// Conversations sends them.
const nsHints = "urn:xmpp:hints"

// JingleFeatures are the disco features of a client that takes Jingle audio and video
// calls (XEP-0166, 0167, 0176, 0320, 0293, 0294, 0339, 0338, 0353).
var JingleFeatures = []string{
	jingle.NS, jingle.NSRTP, jingle.NSAudio, jingle.NSVideo, jingle.NSICEUDP, jingle.NSDTLS,
	jingle.NSRTCPFB, jingle.NSHdrExt, jingle.NSSSMAFeat, jingle.NSBundle, jmi.NS,
}

// JingleHandler is the Jingle adapter's side of the account. Its methods run on the
// receive goroutine: they must not block, and must not wait for a send (a send waits
// for this goroutine to read the reply).
type JingleHandler interface {
	// HandleJingle decides the answer to a Jingle IQ: nil for a result, or the
	// XEP-0166 error. then, when not nil, runs after the answer is sent (XEP-0166: the
	// IQ is acknowledged before the action takes effect).
	HandleJingle(from jid.JID, j *jingle.Jingle) (then func(), err *jingle.Error)
	// HandleJMI receives a JMI message.
	HandleJMI(m JMIMessage)
}

// JMIMessage is a received JMI element and where it came from.
type JMIMessage = jmi.Envelope

type jingleBox struct{ h JingleHandler }

// SetJingleHandler makes the account take Jingle calls through h: call it before Run.
// From then on the account advertises JingleFeatures, enables carbons at login and
// hands Jingle IQs and JMI messages to h.
func (a *Account) SetJingleHandler(h JingleHandler) {
	if h == nil {
		a.jingle.Store(nil)
		return
	}
	a.jingle.Store(&jingleBox{h})
}

func (a *Account) jingleHandler() JingleHandler {
	if b := a.jingle.Load(); b != nil {
		return b.h
	}
	return nil
}

// jingleIQ is the mux handler of Jingle IQs.
type jingleIQ struct{ a *Account }

func (h jingleIQ) HandleIQ(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	return h.a.handleJingleIQ(iq, t, start)
}

// identity is ours in disco#info: a client on a computer (XEP-0030 registry).
var identity = info.Identity{Category: "client", Type: "pc", Name: "ttycall"}

// features lists what we answer to disco#info: what the mux handles (ping, disco,
// caps) and, when a Jingle handler is set, JingleFeatures.
func (a *Account) features() []string {
	out := []string{disco.NSInfo, disco.NSCaps, ping.NS, NSQuickBlox}
	if a.jingleHandler() != nil {
		out = append(out, JingleFeatures...)
	}
	sort.Strings(out)
	return out
}

// handleDiscoInfo answers disco#info (XEP-0030) for no node and for our caps node
// (XEP-0115 §6.2); mellium's disco handler is not used: it reads the request from a
// goroutine of its own while the stream goes on (a data race).
func (a *Account) handleDiscoInfo(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	var node string
	for _, at := range start.Attr {
		if at.Name.Local == "node" {
			node = at.Value
		}
	}
	if !a.answersNode(node) {
		_, err := xmlstream.Copy(t, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ItemNotFound}))
		return err
	}
	in := disco.Info{InfoQuery: disco.InfoQuery{Node: node}, Identity: []info.Identity{identity}}
	for _, f := range a.features() {
		in.Features = append(in.Features, info.Feature{Var: f})
	}
	_, err := xmlstream.Copy(t, iq.Result(in.TokenReader()))
	return err
}

func (a *Account) answersNode(node string) bool {
	if node == "" {
		return true
	}
	c := a.caps.Load()
	return c != nil && node == CapsNode+"#"+c.Ver
}

// computeCaps hashes what handleDiscoInfo answers (XEP-0115 §5.1) for our presence.
func (a *Account) computeCaps() {
	in := disco.Info{Identity: []info.Identity{identity}}
	for _, f := range a.features() {
		in.Features = append(in.Features, info.Feature{Var: f})
	}
	ver := in.Hash(sha1.New()) // #nosec G401: XEP-0115
	a.caps.Store(&disco.Caps{Node: CapsNode, Ver: ver, Hash: xmppcrypto.SHA1})
}

// capsElement is the <c/> of our presence, nil before the first connection.
func (a *Account) capsElement() xml.TokenReader {
	if c := a.caps.Load(); c != nil {
		return c.TokenReader()
	}
	return nil
}

// handleJingleIQ parses a Jingle IQ, lets the handler decide, answers, then lets the
// handler act. Bad input is answered with bad-request and never reaches the handler.
func (a *Account) handleJingleIQ(iq stanza.IQ, t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	h := a.jingleHandler()
	if h == nil {
		_, err := xmlstream.Copy(t, iq.Error(stanza.Error{Type: stanza.Cancel, Condition: stanza.ServiceUnavailable}))
		return err
	}
	from := iq.From
	if from.Equal(jid.JID{}) {
		from = a.local.Bare()
	}
	j, err := a.parseJingle(t, start)
	if err != nil {
		a.logBad(from, "chat: refused a Jingle IQ", "err", err)
		return a.jingleError(t, iq, jingle.ErrIQBadRequest.With("%v", err))
	}
	then, jerr := h.HandleJingle(from, j)
	if jerr != nil {
		a.logBad(from, "chat: Jingle IQ answered with an error", "action", j.Action, "sid", guard.Clip(j.SID), "err", jerr)
		return a.jingleError(t, iq, jerr)
	}
	if _, err := xmlstream.Copy(t, iq.Result(nil)); err != nil {
		return err
	}
	if then != nil {
		then()
	}
	return nil
}

// parseJingle runs the parser; a panic in it is bad input, never a crash.
func (a *Account) parseJingle(r xml.TokenReader, start *xml.StartElement) (j *jingle.Jingle, err error) {
	defer func() {
		if p := recover(); p != nil {
			j, err = nil, fmt.Errorf("jingle parser panic: %v", p)
		}
	}()
	return jingle.Parse(r, start)
}

func (a *Account) jingleError(t xmlstream.TokenReadEncoder, iq stanza.IQ, e *jingle.Error) error {
	reply := stanza.IQ{ID: iq.ID, To: iq.From, Type: stanza.ErrorIQ}
	_, err := xmlstream.Copy(t, reply.Wrap(e.TokenReader()))
	return err
}

// SendJingle sends a Jingle action to a full JID and waits for the answer: nil for a
// result, an error wrapping the peer's *jingle.Error for an IQ error (errors.Is with
// jingle.ErrUnknownSession and the like), or ErrOffline. Never call it from a
// JingleHandler method (it waits for the receive goroutine).
func (a *Account) SendJingle(ctx context.Context, to jid.JID, j *jingle.Jingle) error {
	sess := a.session()
	if sess == nil {
		return fmt.Errorf("chat: jingle %s to %s: %w", j.Action, to, ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	iq := stanza.IQ{ID: randomID(), To: to, Type: stanza.SetIQ}
	resp, err := sess.SendIQ(ctx, iq.Wrap(j.TokenReader()))
	if err != nil {
		return fmt.Errorf("chat: jingle %s to %s: %w", j.Action, to, err)
	}
	defer resp.Close()
	if jerr := readIQError(resp); jerr != nil {
		return fmt.Errorf("chat: jingle %s to %s: %w", j.Action, to, jerr)
	}
	return nil
}

// readIQError returns the error of an IQ error reply, nil for a result.
func readIQError(r xml.TokenReader) error {
	tok, err := r.Token()
	if err != nil {
		return fmt.Errorf("reading the reply: %w", err)
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return fmt.Errorf("reply starts with %T", tok)
	}
	iq, err := stanza.NewIQ(start)
	if err != nil {
		return err
	}
	if iq.Type != stanza.ErrorIQ {
		return nil
	}
	for {
		tok, err := r.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return &jingle.Error{Type: "cancel", Condition: "undefined-condition"}
			}
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "error" {
			e, err := jingle.ParseError(r, &se)
			if err != nil {
				return err
			}
			return e
		}
	}
}

// SendJMI sends a JMI element in a chat message (as Conversations and Dino do, so it
// is carbon-copied to our other devices) with a <store/> hint.
func (a *Account) SendJMI(ctx context.Context, to jid.JID, m jmi.Message) error {
	sess := a.session()
	if sess == nil {
		return fmt.Errorf("chat: jmi %s to %s: %w", m.Kind, to, ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	msg := stanza.Message{ID: randomID(), To: to, Type: stanza.ChatMessage}
	if m.Kind == jmi.Propose {
		msg.ID = jmi.ProposeStanzaID(m.ID) // a bounce names the call (HandleJMI)
	}
	store := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: nsHints, Local: "store"}})
	if err := sess.Send(ctx, msg.Wrap(xmlstream.MultiReader(m.TokenReader(), store))); err != nil {
		return fmt.Errorf("chat: jmi %s to %s: %w", m.Kind, to, err)
	}
	return nil
}

// enableCarbons asks the server for carbons (XEP-0280) when Jingle is on, so a call
// answered or declined on another device stops ringing here. A server without carbons
// is no error: JMI's accept to our own bare JID still reaches us.
func (a *Account) enableCarbons(ctx context.Context, s *xmpp.Session) {
	if a.jingleHandler() == nil {
		return
	}
	if err := carbons.Enable(ctx, s); err != nil {
		a.log.Info("chat: carbons not enabled", "err", err)
	}
}

// handleJMI reads a non-headline message for JMI elements, directly or in a carbon.
func (a *Account) handleJMI(t xml.TokenReader, msg stanza.Message) error {
	h := a.jingleHandler()
	if h == nil {
		return nil
	}
	if msg.Type == stanza.ErrorMessage {
		// An error is a bounce of something we sent: its JMI element (when the
		// server copies it) is ours, not the sender's. A bounced propose (a contact
		// with no device online) ends that call; the adapter checks that it went
		// to the bouncing address.
		if id, ok := jmi.BouncedPropose(msg.ID); ok && !msg.From.Equal(jid.JID{}) {
			a.log.Info("chat: our propose bounced", "to", msg.From, "id", id)
			h.HandleJMI(JMIMessage{Message: jmi.Message{Kind: jmi.Propose, ID: id}, From: msg.From, To: msg.To, Bounced: true})
		}
		return nil
	}
	from := msg.From
	if from.Equal(jid.JID{}) {
		from = a.local.Bare()
	}
	var found []JMIMessage
	delayed := false
	iter := xmlstream.NewIter(t)
	for iter.Next() {
		child, r := iter.Current()
		if child == nil {
			continue
		}
		switch {
		case child.Name.Space == delay.NS && child.Name.Local == "delay":
			delayed = true
		case child.Name.Space == jmi.NS && len(found) == 0:
			m, err := jmi.Parse(r, child)
			if err != nil {
				a.logBad(from, "chat: dropped a JMI message", "err", err)
				continue
			}
			found = append(found, JMIMessage{Message: m, From: from, To: msg.To})
		case child.Name.Space == carbons.NS && (child.Name.Local == "sent" || child.Name.Local == "received") && len(found) == 0:
			// Only our own server may hand us carbons (XEP-0280 §11): a copy from anyone
			// else is a forgery.
			if !from.Equal(a.local.Bare()) {
				a.logBad(from, "chat: dropped a carbon not from our account")
				continue
			}
			if m, ok := a.carbonJMI(xmlstream.MultiReader(xmlstream.Token(child.Copy()), r)); ok {
				m.Carbon = child.Name.Local
				found = append(found, m)
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	for _, m := range found {
		m.Delayed = m.Delayed || delayed
		h.HandleJMI(m)
	}
	return nil
}

// carbonJMI finds a JMI element in a carbon-copied message.
func (a *Account) carbonJMI(r xml.TokenReader) (JMIMessage, bool) {
	var d delay.Delay
	inner, _, err := carbons.Unwrap(&d, r)
	if err != nil {
		a.log.Debug("chat: unreadable carbon", "err", err)
		return JMIMessage{}, false
	}
	tok, err := inner.Token()
	if err != nil {
		return JMIMessage{}, false
	}
	start, ok := tok.(xml.StartElement)
	if !ok || start.Name.Local != "message" {
		return JMIMessage{}, false
	}
	msg, err := stanza.NewMessage(start)
	if err != nil {
		return JMIMessage{}, false
	}
	iter := xmlstream.NewIter(xmlstream.Inner(inner))
	for iter.Next() {
		child, cr := iter.Current()
		if child != nil && child.Name.Space == jmi.NS {
			m, err := jmi.Parse(cr, child)
			if err != nil {
				return JMIMessage{}, false
			}
			return JMIMessage{Message: m, From: msg.From, To: msg.To}, true
		}
	}
	return JMIMessage{}, false
}

// Features asks a full JID what it supports (XEP-0030 disco#info).
func (a *Account) Features(ctx context.Context, to jid.JID) ([]string, error) {
	sess := a.session()
	if sess == nil {
		return nil, fmt.Errorf("chat: features of %s: %w", to, ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	in, err := disco.GetInfo(ctx, "", to, sess)
	if err != nil {
		return nil, fmt.Errorf("chat: features of %s: %w", to, err)
	}
	out := make([]string, 0, len(in.Features))
	for _, f := range in.Features {
		out = append(out, f.Var)
	}
	sort.Strings(out)
	return out, nil
}

// NSQuickBlox is the disco feature of a client that takes QuickBlox calls (ttycall
// always does). Between two ttycalls it keeps calls on QuickBlox, which carries
// extensions, group calls and ICE restarts that Jingle calls here do not.
const NSQuickBlox = "urn:x-ttycall:signaling:quickblox:0"

// ResourceFeatures asks each available resource of a contact what it supports
// (XEP-0030), by full JID. A contact we see no presence of has none; a resource that
// does not answer is left out.
func (a *Account) ResourceFeatures(ctx context.Context, contact jid.JID) (map[string][]string, error) {
	bare := contact.Bare()
	a.mu.Lock()
	var fulls []jid.JID
	if c := a.contacts[bare.String()]; c != nil {
		for res, rp := range c.resources {
			if rp.Available {
				if full, err := bare.WithResource(res); err == nil {
					fulls = append(fulls, full)
				}
			}
		}
	}
	a.mu.Unlock()
	out := map[string][]string{}
	var lastErr error
	for _, full := range fulls {
		feats, err := a.Features(ctx, full)
		if err != nil {
			lastErr = err
			continue
		}
		out[full.String()] = feats
	}
	if len(out) == 0 && lastErr != nil {
		return nil, lastErr
	}
	return out, nil
}

// JingleResources returns the available resources of a contact whose client takes
// Jingle RTP calls with JMI (both features advertised).
func (a *Account) JingleResources(ctx context.Context, contact jid.JID) ([]jid.JID, error) {
	feats, err := a.ResourceFeatures(ctx, contact)
	if err != nil {
		return nil, err
	}
	var out []jid.JID
	for full, f := range feats {
		if has(f, jingle.NSRTP) && has(f, jmi.NS) {
			if j, err := jid.Parse(full); err == nil {
				out = append(out, j)
			}
		}
	}
	return out, nil
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// FullJID is the JID the server bound for this connection (the configured one when
// offline).
func (a *Account) FullJID() jid.JID {
	if s := a.session(); s != nil {
		return s.LocalAddr()
	}
	return a.local
}
