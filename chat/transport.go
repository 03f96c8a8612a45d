package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/delay"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/ttycall/ttycall/internal/guard"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// SendSignal sends a call signal to a user (implements quickblox.Transport): one headline
// message to the user's bare JID with a fresh id, carrying the extraParams payload.
// It returns at once with an error wrapping ErrOffline when the account is not
// online. A send is bounded by ctx, or by SendTimeout when ctx has no deadline; a write
// already blocked on a stalled connection (mellium cannot always interrupt it) ends at
// the latest when the keepalive finds the link dead. s is not modified.
func (a *Account) SendSignal(ctx context.Context, to wire.UserID, s *wire.Signal) error {
	if s == nil {
		return fmt.Errorf("chat: send signal to %s: nil signal", to)
	}
	toJID, err := a.cfg.Scheme.JID(to)
	if err != nil {
		return fmt.Errorf("chat: send %s to %s: %w", s.Type, to, err)
	}
	sess := a.session()
	if sess == nil {
		if a.hold(to, toJID, s) {
			return nil
		}
		return fmt.Errorf("chat: send %s to %s: %w", s.Type, to, ErrOffline)
	}
	if err := a.send(ctx, sess, toJID, s); err != nil {
		if a.hold(to, toJID, s) {
			return nil
		}
		return fmt.Errorf("chat: send %s to %s: %w", s.Type, to, err)
	}
	return nil
}

// send writes one signal on sess, bounded like SendSignal.
func (a *Account) send(ctx context.Context, sess *xmpp.Session, toJID jid.JID, s *wire.Signal) error {
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	msg := stanza.Message{ID: randomID(), To: toJID.Bare(), Type: stanza.HeadlineMessage}
	return sess.Send(ctx, msg.Wrap(wire.Encode(s, a.cfg.Scheme)))
}

// HoldTime is how long a hang-up or reject that could not leave (the link was down)
// is kept, to be sent once the account is back online: as long as the peer may still
// wait for it (a caller dials for the SDK's 60 s answer time; a connected peer waits
// its 30 s disconnect time). After that the peer has given up by itself.
const HoldTime = 60 * time.Second

// maxHeld bounds the signals held while offline (the oldest go first).
const maxHeld = 64

// heldSignal is a hang-up or reject waiting for the account to be online.
type heldSignal struct {
	to    wire.UserID
	toJID jid.JID
	sig   wire.Signal
	until time.Time
}

// hold keeps s, when it ends a call (hangUp, reject), to be sent once the account is
// back online: a peer that never hears it sits in a ghost call until its own timeout.
// Other signals are not held: offers and candidates are stale by then.
func (a *Account) hold(to wire.UserID, toJID jid.JID, s *wire.Signal) bool {
	if s.Type != wire.TypeHangUp && s.Type != wire.TypeReject {
		return false
	}
	a.mu.Lock()
	if len(a.held) >= maxHeld {
		a.held = a.held[1:]
	}
	a.held = append(a.held, heldSignal{to: to, toJID: toJID, sig: *s, until: time.Now().Add(HoldTime)})
	a.mu.Unlock()
	a.log.Info("chat: offline: holding the signal until online", "type", s.Type, "to", guard.Clip(string(to)), "session", guard.Clip(s.SessionID))
	return true
}

// sendHeld sends the held signals that are still wanted, once the account is online
// again (before Online is reported, so they leave before anything new).
func (a *Account) sendHeld(ctx context.Context, sess *xmpp.Session) {
	a.mu.Lock()
	held := a.held
	a.held = nil
	a.mu.Unlock()
	now := time.Now()
	for i, h := range held {
		if now.After(h.until) {
			a.log.Info("chat: held signal expired", "type", h.sig.Type, "to", guard.Clip(string(h.to)), "session", guard.Clip(h.sig.SessionID))
			continue
		}
		if err := a.send(ctx, sess, h.toJID, &h.sig); err != nil {
			// The link broke again: keep the rest for the next time.
			a.mu.Lock()
			a.held = append(held[i:len(held):len(held)], a.held...)
			a.mu.Unlock()
			a.log.Info("chat: held signal not sent", "type", h.sig.Type, "to", guard.Clip(string(h.to)), "err", err)
			return
		}
		a.log.Info("chat: held signal sent", "type", h.sig.Type, "to", guard.Clip(string(h.to)), "session", guard.Clip(h.sig.SessionID))
	}
}

// sendContext bounds a send by SendTimeout when ctx has no deadline of its own.
func (a *Account) sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, a.cfg.SendTimeout)
}

// handleMessage turns a headline carrying extraParams into a Signal for OnSignal.
// Messages with a <delay> (offline or archived copies) are dropped: a stale call must
// never ring. extraParams of other modules are ignored; malformed signals go to
// OnSignalError and an ErrorEvent.
func (a *Account) handleMessage(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	msg, err := stanza.NewMessage(*start)
	if err != nil {
		a.log.Debug("chat: unreadable message", "err", err)
		return nil
	}
	if msg.Type != stanza.HeadlineMessage {
		return a.handleJMI(t, msg) // Jingle Message Initiation (jingle.go)
	}
	var (
		sig            *wire.Signal
		decErr         error
		found, delayed bool
	)
	iter := xmlstream.NewIter(t)
	for iter.Next() {
		child, r := iter.Current()
		if child == nil {
			continue
		}
		switch {
		case child.Name.Space == delay.NS && child.Name.Local == "delay":
			delayed = true
		case child.Name.Local == "extraParams" && !found:
			found = true
			sig, decErr = a.decode(xmlstream.MultiReader(xmlstream.Token(*child), r))
		}
	}
	if err := iter.Err(); err != nil {
		return err // the stream is broken
	}
	if !found {
		return nil
	}
	from := msg.From
	if from.Equal(jid.JID{}) { // mellium blanks our own bare JID
		from = a.local.Bare()
	}
	if delayed {
		a.log.Debug("chat: dropped delayed signal", "from", guard.Clip(from.String()), "id", guard.Clip(msg.ID))
		return nil
	}
	if errors.Is(decErr, wire.ErrNotSignal) {
		return nil
	}
	fromID, idErr := a.cfg.Scheme.UserID(from)
	if idErr != nil {
		fromID = wire.UserID(from.Bare().String())
		if decErr == nil {
			decErr = fmt.Errorf("sender %s: %w", from, idErr)
		}
	}
	if decErr != nil {
		a.badSignal(fromID, msg.ID, decErr)
		return nil
	}
	sig.From, sig.To, sig.StanzaID = fromID, a.localID, msg.ID
	if f := a.cfg.OnSignal; f != nil {
		f(sig)
	}
	return nil
}

// decode runs the codec; a panic in it is a bad signal, never a crash.
func (a *Account) decode(r xml.TokenReader) (sig *wire.Signal, err error) {
	defer func() {
		if p := recover(); p != nil {
			sig, err = nil, fmt.Errorf("decoder panic: %v", p)
		}
	}()
	sig, err = wire.Decode(r, a.cfg.Scheme)
	if err == nil && sig == nil {
		err = errors.New("decoder returned no signal")
	}
	return sig, err
}

// badSignal reports a signal that could not be decoded. With OnSignalError set, the
// engine reports it (log line and event, once); otherwise it is logged here and becomes
// an ErrorEvent. The sender chose the id and much of what the error quotes: both are
// clipped, and the log lines of one sender are rate-limited.
func (a *Account) badSignal(from wire.UserID, id string, err error) {
	err = guard.ClipErr(fmt.Errorf("chat: %w from %s (message %q): %w", ErrBadSignal, guard.Clip(string(from)), guard.Clip(id), err))
	if f := a.cfg.OnSignalError; f != nil {
		f(from, err)
		return
	}
	if ok, more := a.badLog.Allow(string(from)); ok {
		a.log.Warn("chat: bad signal", "from", guard.Clip(string(from)), "err", err, "suppressed", more)
	}
	a.emit(ErrorEvent{Err: err})
}

// logBad logs a line about a stranger's bad input, rate-limited per sender (bare
// JID) with a count of the lines left out; the sender is clipped.
func (a *Account) logBad(from jid.JID, msg string, args ...any) {
	key := from.Bare().String()
	if ok, more := a.badLog.Allow(key); ok {
		a.log.Info(msg, append([]any{"from", guard.Clip(from.String()), "suppressed", more}, args...)...)
	}
}

// randomID is a fresh stanza id: 16 random bytes in hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
