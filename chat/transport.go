package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/delay"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

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
		return fmt.Errorf("chat: send %s to %s: %w", s.Type, to, ErrOffline)
	}
	ctx, cancel := a.sendContext(ctx)
	defer cancel()
	msg := stanza.Message{ID: randomID(), To: toJID.Bare(), Type: stanza.HeadlineMessage}
	if err := sess.Send(ctx, msg.Wrap(wire.Encode(s, a.cfg.Scheme))); err != nil {
		return fmt.Errorf("chat: send %s to %s: %w", s.Type, to, err)
	}
	return nil
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
		a.log.Debug("chat: dropped delayed signal", "from", from, "id", msg.ID)
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

func (a *Account) badSignal(from wire.UserID, id string, err error) {
	err = fmt.Errorf("chat: %w from %s (message %q): %w", ErrBadSignal, from, id, err)
	a.log.Warn("chat: bad signal", "from", from, "err", err)
	if f := a.cfg.OnSignalError; f != nil {
		f(from, err)
	}
	a.emit(ErrorEvent{Err: err})
}

// randomID is a fresh stanza id: 16 random bytes in hex.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
