// Package quickblox is the signaling adapter of the QuickBlox video-calling SDKs: it
// turns the engine's neutral messages into extraParams signals (codec in package
// wire, carried in XMPP headlines by chat.Account) and what arrives back into neutral
// messages.
//
// What only QuickBlox does lives here, not in the engine:
//   - message names: Offer is "call", Answer "accept", Terminate "hangUp",
//     Candidates "iceCandidates", Restart an "update" with reason "reconnect" and a
//     sessionDescription whose offerId is Restart.ID; any other update is an Update
//     (its userInfo only);
//   - every signal carries the session's callerID, opponentsIDs, callType and
//     platform (Session fills them);
//   - a session-wide Reject or Terminate (To empty) goes to every participant;
//   - headlines may be lost, so an unanswered call is sent again every
//     DialingTimeInterval (Rules.ResendOffer);
//   - in a mesh the higher user ID offers and restarts ICE, numerically when both
//     IDs are numbers (Rules.Offers = HigherID).
package quickblox

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ttycall/ttycall/config"
	"github.com/ttycall/ttycall/signaling"
	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// Protocol is the name of this adapter in Session.Protocol and a signaling.Router.
const Protocol = "quickblox"

// Transport sends one wire signal to a user; chat.Account implements it.
type Transport interface {
	SendSignal(ctx context.Context, to wire.UserID, s *wire.Signal) error
}

// Config configures an Adapter.
type Config struct {
	// Local is the local user's ID (the sender of every signal).
	Local signaling.UserID
	// Transport carries the signals.
	Transport Transport
	// Platform is written in every signal; "" writes wire.Platform ("ttycall").
	Platform string
	// DialingTimeInterval re-sends an unanswered call; 0 takes config.Default's.
	DialingTimeInterval time.Duration
}

// Adapter implements signaling.Signaling over QuickBlox signals. It keeps no state:
// every signal is built from the message and its Session.
type Adapter struct {
	cfg Config
}

var _ signaling.Signaling = (*Adapter)(nil)

// New returns an adapter.
func New(cfg Config) (*Adapter, error) {
	if cfg.Local == "" {
		return nil, errors.New("quickblox: no local user ID")
	}
	if cfg.Transport == nil {
		return nil, errors.New("quickblox: no transport")
	}
	if cfg.DialingTimeInterval <= 0 {
		cfg.DialingTimeInterval = config.Default().Calls.DialingTimeInterval.Duration()
	}
	return &Adapter{cfg: cfg}, nil
}

// Rules implements signaling.Signaling.
func (a *Adapter) Rules(signaling.Session) signaling.Rules {
	return signaling.Rules{ResendOffer: a.cfg.DialingTimeInterval, Offers: HigherID}
}

// HigherID reports whether a offers to b in a mesh (and restarts ICE): numerically
// when both are numbers, else as strings.
func HigherID(a, b signaling.UserID) bool {
	na, ea := strconv.ParseUint(string(a), 10, 64)
	nb, eb := strconv.ParseUint(string(b), 10, 64)
	if ea == nil && eb == nil {
		return na > nb
	}
	return a > b
}

// signal is the wire form of a message of type t to to.
func (a *Adapter) signal(t wire.Type, h *signaling.Header, to signaling.UserID) *wire.Signal {
	return &wire.Signal{
		From: a.cfg.Local, To: to, Type: t, SessionID: h.Session.ID, CallType: h.Session.CallType,
		CallerID: h.Session.Initiator, OpponentIDs: slices.Clone(h.Session.Opponents),
		Platform: a.cfg.Platform, UserInfo: h.Ext,
	}
}

func (a *Adapter) send(ctx context.Context, s *wire.Signal) error {
	if err := a.cfg.Transport.SendSignal(ctx, s.To, s); err != nil {
		return fmt.Errorf("quickblox: %w", err)
	}
	return nil
}

// sendSession sends a signal of type t to h.To, or to every participant when h.To is
// empty.
func (a *Adapter) sendSession(ctx context.Context, t wire.Type, h *signaling.Header) error {
	to := []signaling.UserID{h.To}
	if h.To == "" {
		to = h.Session.Participants(a.cfg.Local)
	}
	var errs []error
	for _, u := range to {
		errs = append(errs, a.send(ctx, a.signal(t, h, u)))
	}
	return errors.Join(errs...)
}

// Offer implements signaling.Signaling: a call.
func (a *Adapter) Offer(ctx context.Context, m *signaling.Offer) error {
	s := a.signal(wire.TypeCall, &m.Header, m.To)
	s.SDP = m.SDP
	return a.send(ctx, s)
}

// Answer implements signaling.Signaling: an accept.
func (a *Adapter) Answer(ctx context.Context, m *signaling.Answer) error {
	s := a.signal(wire.TypeAccept, &m.Header, m.To)
	s.SDP = m.SDP
	return a.send(ctx, s)
}

// Candidates implements signaling.Signaling: iceCandidates.
func (a *Adapter) Candidates(ctx context.Context, m *signaling.Candidates) error {
	s := a.signal(wire.TypeICECandidates, &m.Header, m.To)
	s.Candidates = slices.Clone(m.Candidates)
	return a.send(ctx, s)
}

// Reject implements signaling.Signaling: a reject, to every participant when m.To is
// empty.
func (a *Adapter) Reject(ctx context.Context, m *signaling.Reject) error {
	return a.sendSession(ctx, wire.TypeReject, &m.Header)
}

// Terminate implements signaling.Signaling: a hangUp, to every participant when m.To
// is empty.
func (a *Adapter) Terminate(ctx context.Context, m *signaling.Terminate) error {
	return a.sendSession(ctx, wire.TypeHangUp, &m.Header)
}

// Restart implements signaling.Signaling: an update with reason reconnect whose
// sessionDescription's offerId is m.ID.
func (a *Adapter) Restart(ctx context.Context, m *signaling.Restart) error {
	s := a.signal(wire.TypeUpdate, &m.Header, m.To)
	s.Reason = wire.ReasonReconnect
	s.SessionDescription = &wire.SessionDescription{OfferID: m.ID, SDP: m.SDP, Type: string(m.Type)}
	return a.send(ctx, s)
}

// Update implements signaling.Signaling: an update with userInfo.
func (a *Adapter) Update(ctx context.Context, m *signaling.Update) error {
	return a.send(ctx, a.signal(wire.TypeUpdate, &m.Header, m.To))
}

// Message is the neutral form of a decoded signal (whose From and To the transport
// set from the stanza's envelope).
func Message(s *wire.Signal) (signaling.Message, error) {
	h := signaling.Header{
		Session: signaling.Session{
			ID: s.SessionID, Protocol: Protocol, CallType: s.CallType,
			Initiator: s.CallerID, Opponents: slices.Clone(s.OpponentIDs),
		},
		From: s.From, To: s.To, Ext: s.UserInfo,
	}
	switch s.Type {
	case wire.TypeCall:
		return &signaling.Offer{Header: h, SDP: s.SDP}, nil
	case wire.TypeAccept:
		return &signaling.Answer{Header: h, SDP: s.SDP}, nil
	case wire.TypeReject:
		return &signaling.Reject{Header: h}, nil
	case wire.TypeHangUp:
		return &signaling.Terminate{Header: h}, nil
	case wire.TypeICECandidates:
		return &signaling.Candidates{Header: h, Candidates: slices.Clone(s.Candidates)}, nil
	case wire.TypeUpdate:
		if sd := s.SessionDescription; s.Reason == wire.ReasonReconnect && sd != nil {
			return &signaling.Restart{Header: h, ID: sd.OfferID, Type: signaling.SDPType(sd.Type), SDP: sd.SDP}, nil
		}
		return &signaling.Update{Header: h}, nil
	}
	return nil, fmt.Errorf("quickblox: %w: %q", wire.ErrUnknownType, s.Type)
}

// Receiver returns the functions a transport hands what it decoded to (chat.Config's
// OnSignal and OnSignalError): each signal reaches in as a neutral message.
func Receiver(in signaling.Incoming) (onSignal func(*wire.Signal), onError func(wire.UserID, error)) {
	onSignal = func(s *wire.Signal) {
		if s == nil {
			return
		}
		m, err := Message(s)
		if err != nil {
			in.ReceiveError(s.From, err)
			return
		}
		in.Receive(m)
	}
	return onSignal, in.ReceiveError
}
