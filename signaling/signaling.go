// Package signaling is the call engine's neutral language: who calls whom (UserID,
// CallType, Extension), the messages a call is negotiated with (Offer, Answer,
// Candidates, Reject, Terminate, Restart, Update), the Signaling interface the engine
// sends them through and the Incoming interface it receives them by.
//
// It imports nothing of ttycall or pion, so that a protocol adapter depends on this
// vocabulary and not on the engine (and the engine's own tests can run through a real
// adapter). Package call re-exports every name here (call.UserID, call.Offer,
// call.Signaling, ...): an application speaks of call.X, an adapter of signaling.X;
// they are the same types.
//
// # Where a protocol plugs in
//
// An adapter is one package per protocol below signaling/: signaling/quickblox (the
// QuickBlox SDK's extraParams headlines, codec in signaling/quickblox/wire), later
// signaling/jingle (XEP-0166/0167 with XEP-0353 session initiation). It does two
// things:
//
//   - outgoing: it implements Signaling. The engine calls Offer, Answer, ... with
//     neutral messages; the adapter builds its wire form and sends it.
//   - incoming: it decodes what arrives and hands the engine neutral messages through
//     Incoming.Receive (a Jingle session-initiate becomes an Offer, a QuickBlox
//     "call" headline too), or Incoming.ReceiveError for what it cannot decode.
//
// What is peculiar to one protocol stays in its adapter: its wire names, session-id
// bookkeeping (a Jingle sid, a JMI id), whom a session-wide message goes to, whether an
// unanswered offer is sent again (Rules), who offers in a group (Rules). The engine
// decides what is negotiated and when; it never sees a wire struct.
//
// A client that speaks several protocols gives the engine a Router, which picks the
// Signaling of each session by Session.Protocol.
//
// # Writing an adapter
//
//   - On what arrives, set Header.From from the transport's authenticated sender,
//     Session.Protocol to the adapter's name, and Session.ID to the engine's ID of the
//     session (map a protocol's own IDs, such as a Jingle sid, to it and back).
//   - Hand messages over in the order they arrived; Receive and ReceiveError never
//     block and may be called from any goroutine.
//   - The engine validates everything (participants, SDP, candidates) before pion sees
//     it: an adapter checks only its wire format.
//   - A protocol without session-wide messages (1:1 Jingle) sends a session-wide
//     Reject or Terminate to the one peer; without an ICE-restart offer ID it keeps the
//     last Restart.ID per session and user (see Restart).
//   - Return an error from a Signaling method only when the message did not leave; the
//     engine reports it and goes on.
package signaling

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// UserID identifies a user in the account's ID scheme: a decimal QuickBlox user ID
// ("12345") or a bare JID ("alice@example.org"). The engine compares IDs, nothing else.
type UserID string

// CallType is VIDEO or AUDIO. The values are those of the QuickBlox wire format (its
// codec relies on them, and its golden tests check them).
type CallType int

// Call types.
const (
	CallTypeUnknown CallType = 0
	CallTypeVideo   CallType = 1
	CallTypeAudio   CallType = 2
)

func (t CallType) String() string {
	switch t {
	case CallTypeVideo:
		return "video"
	case CallTypeAudio:
		return "audio"
	default:
		return "unknown"
	}
}

// Extension is the application's key-value map carried with call, accept, reject,
// hang-up and update (the SDK's userInfo). Values are strings or nested Extension maps.
type Extension map[string]any

// ICECandidate is one trickled candidate: the a=candidate value ("candidate:..."), its
// media section's mid and index. An empty Candidate is end-of-candidates.
type ICECandidate struct {
	Candidate     string
	SDPMid        string
	SDPMLineIndex uint16
}

// Limits every adapter and the engine share; each is written here only.
const (
	// MaxOpponents: callees of one session (each is a peer connection in a mesh; the
	// SDK's group calls are far smaller). A wire codec refuses more, the engine too.
	MaxOpponents = 32
	// MaxSDP: bytes of one session description.
	MaxSDP = 256 << 10
)

// NormalizeSDP returns sdp with every line ending as CRLF, which pion's SDP parser and
// RFC 8866 expect. SDP written with CRLF arrives with bare LF after XML parsing (XML
// normalises line ends unless the CR is written as &#xD;), so both forms are accepted;
// a missing final line end is added. It is the one SDP normaliser of ttycall.
func NormalizeSDP(sdp string) string {
	if sdp == "" {
		return ""
	}
	if !strings.ContainsRune(sdp, '\r') && !strings.Contains(sdp, "\n") {
		return sdp + "\r\n"
	}
	s := strings.ReplaceAll(sdp, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

// Session names the call a message belongs to, with what any protocol needs to address
// it. The engine fills it from its session; an adapter fills it from the wire.
type Session struct {
	// ID is the engine's session ID: chosen by the initiator (a UUID from ttycall, the
	// QuickBlox sessionID, a Jingle sid / JMI id). An adapter whose protocol has a
	// second ID per session keeps that mapping itself.
	ID string
	// Protocol names the adapter that carries the session ("" is the Router's default).
	// An adapter sets it on what it receives, so that replies go back the same way.
	Protocol string
	CallType CallType
	// Initiator is the user who started the session.
	Initiator UserID
	// Opponents are the callees (the initiator is not among them). In a 1:1 protocol
	// it is the one callee.
	Opponents []UserID
}

// Participants are everyone in the session but local: the initiator, then the
// opponents, each once.
func (s Session) Participants(local UserID) []UserID {
	var out []UserID
	add := func(u UserID) {
		if u == "" || u == local {
			return
		}
		for _, x := range out {
			if x == u {
				return
			}
		}
		out = append(out, u)
	}
	add(s.Initiator)
	for _, o := range s.Opponents {
		add(o)
	}
	return out
}

// Header is what every message carries.
type Header struct {
	Session Session
	// From is the sender. On what an adapter receives it comes from the transport's
	// authenticated envelope (the stanza's from), never from the payload.
	From UserID
	// To is the addressee. Empty on an outgoing Reject or Terminate: the whole session
	// (the adapter knows whom that reaches in its protocol).
	To UserID
	// Ext is the application's extension (userInfo); nil when none.
	Ext Extension
}

// Head returns the header (so that code handling any Message reaches it).
func (h *Header) Head() *Header { return h }

// Message is one of Offer, Answer, Candidates, Reject, Terminate, Restart, Update. The
// engine hands pointers to values of these types to Signaling and takes them from
// Incoming.Receive.
type Message interface {
	Head() *Header
	// Kind names the message in logs and InvalidEvent.Op: "offer", "answer",
	// "candidates", "reject", "terminate", "restart", "update".
	Kind() string
}

// Offer starts a call with one user: our SDP offer (QuickBlox "call", Jingle
// session-initiate). An Offer from another participant of an active session is a
// mesh connection and is answered without asking.
type Offer struct {
	Header
	SDP string
	// Deferred: the call rings before its SDP exists (Jingle Message Initiation: a
	// propose rings every device, and the caller's session-initiate comes only after
	// one of them proceeds). SDP is empty; the engine rings, and on Accept sends an
	// Answer without SDP (the adapter's "proceed"); the caller's SDP then comes as a
	// second Offer from the same user, which the accepted session answers at once.
	// Only a new incoming call may be deferred.
	Deferred bool
}

// Answer accepts an Offer (QuickBlox "accept", Jingle session-accept). An Answer
// without SDP accepts a Deferred offer (JMI proceed): the SDP offer follows.
type Answer struct {
	Header
	SDP string
}

// Candidates trickles ICE candidates (QuickBlox "iceCandidates", Jingle
// transport-info). They may come before or after the description they belong to.
type Candidates struct {
	Header
	Candidates []ICECandidate
}

// Reject declines a call (QuickBlox "reject", Jingle session-terminate with
// <decline/>).
type Reject struct {
	Header
}

// Terminate hangs up (QuickBlox "hangUp", Jingle session-terminate).
type Terminate struct {
	Header
}

// SDPType says whether a Restart carries an offer or an answer.
type SDPType string

// Restart description types.
const (
	SDPOffer  SDPType = "offer"
	SDPAnswer SDPType = "answer"
)

// Restart is an ICE restart of an answered connection: an offer from a new peer
// connection, or the answer to one (QuickBlox: update with reason "reconnect" and a
// sessionDescription). The higher ID (Rules.Offers) offers.
type Restart struct {
	Header
	// ID pairs an answer with its offer: the engine makes a fresh ID per offer and
	// accepts only the answer carrying it; an answer carries the ID of the offer it
	// answers. A protocol without such an ID keeps the last offer's ID per session and
	// user and puts it on the answer it receives.
	ID   string
	Type SDPType
	SDP  string
}

// Update carries an application extension to a participant of an active session
// (QuickBlox "update" with userInfo; the SDK's onUpdateCallListener).
type Update struct {
	Header
}

// Mute tells a participant of an active session that the local user turned a kind
// of media off or on, without renegotiation (Jingle session-info mute/unmute). It is
// optional: the engine's Mute reaches only a Signaling that implements Muter (and a
// Router or other wrapper that passes it on); a protocol without such a message
// (QuickBlox) is told nothing.
type Mute struct {
	Header
	Media string // "audio" or "video"
	Muted bool   // false: unmuted
}

// Muter is the optional side of a Signaling that can tell peers of Mute.
type Muter interface {
	Mute(ctx context.Context, m *Mute) error
}

// Kind implements Message.
func (*Mute) Kind() string { return "mute" }

// Kind implements Message.
func (*Offer) Kind() string      { return "offer" }
func (*Answer) Kind() string     { return "answer" }
func (*Candidates) Kind() string { return "candidates" }
func (*Reject) Kind() string     { return "reject" }
func (*Terminate) Kind() string  { return "terminate" }
func (*Restart) Kind() string    { return "restart" }
func (*Update) Kind() string     { return "update" }

// Signaling is the engine's outgoing side: one method per negotiation step. The engine
// calls it from one sender goroutine, one message at a time, in the order the session
// produced them (an offer before its candidates); ctx bounds each send. A method
// returns when the message has left (or failed: the engine reports the error as an
// InvalidEvent "send <kind>"). It must not call back into the engine synchronously.
//
// The messages are the engine's: the adapter may read them but must not keep or
// change them after returning.
type Signaling interface {
	// Offer sends our offer to m.To. It may be called again with the same message
	// while the offer is unanswered, when Rules.ResendOffer says so.
	Offer(ctx context.Context, m *Offer) error
	// Answer sends our answer to m.To's offer.
	Answer(ctx context.Context, m *Answer) error
	// Candidates trickles our candidates to m.To.
	Candidates(ctx context.Context, m *Candidates) error
	// Reject declines the call: to m.To, or when m.To is empty to whoever the
	// protocol tells of a declined session (QuickBlox: every participant).
	Reject(ctx context.Context, m *Reject) error
	// Terminate hangs up: to m.To, or when m.To is empty to every participant.
	Terminate(ctx context.Context, m *Terminate) error
	// Restart sends an ICE-restart offer or answer to m.To.
	Restart(ctx context.Context, m *Restart) error
	// Update sends the extension to m.To.
	Update(ctx context.Context, m *Update) error
	// Rules are the protocol's answers to what the engine cannot decide alone, for
	// session s. The engine asks once per session, when it is made.
	Rules(s Session) Rules
}

// Rules are protocol (and topology) policy the engine follows for one session.
type Rules struct {
	// ResendOffer: while an Offer is unanswered, send it again this often (QuickBlox:
	// headlines may be lost, and the SDK re-sends its call every dialingTimeInterval).
	// 0: an offer is sent once (Jingle: IQs are acknowledged).
	ResendOffer time.Duration
	// Offers reports whether local offers to peer when neither is the initiator (the
	// other callees of a group call, a mesh) and who restarts ICE. It must be a strict
	// order: exactly one of Offers(a, b) and Offers(b, a) is true for a != b. nil: the
	// greater ID by string comparison.
	Offers func(local, peer UserID) bool
}

// Incoming is the engine's incoming side; *call.Client implements it. An adapter calls
// it from its transport's goroutine; neither method blocks.
type Incoming interface {
	// Receive applies a message. m.Head().From must be the authenticated sender;
	// m.Head().To is ignored (it was addressed to us). Whatever does not fit the
	// session becomes an InvalidEvent.
	Receive(m Message)
	// ReceiveError reports what arrived from a user but could not be decoded; it
	// becomes an InvalidEvent with Op "signal".
	ReceiveError(from UserID, err error)
}

// Router is a Signaling that hands each message to the Signaling of its session's
// protocol: Protocols[m.Session.Protocol], or Default for a protocol it does not know
// (and for "").
type Router struct {
	Default   Signaling
	Protocols map[string]Signaling
}

func (r *Router) pick(s Session) (Signaling, error) {
	if sg, ok := r.Protocols[s.Protocol]; ok && sg != nil {
		return sg, nil
	}
	if r.Default == nil {
		return nil, fmt.Errorf("signaling: no route for protocol %q", s.Protocol)
	}
	return r.Default, nil
}

func route[M Message](ctx context.Context, r *Router, m M, send func(Signaling, context.Context, M) error) error {
	sg, err := r.pick(m.Head().Session)
	if err != nil {
		return err
	}
	return send(sg, ctx, m)
}

// Offer implements Signaling.
func (r *Router) Offer(ctx context.Context, m *Offer) error {
	return route(ctx, r, m, Signaling.Offer)
}

// Answer implements Signaling.
func (r *Router) Answer(ctx context.Context, m *Answer) error {
	return route(ctx, r, m, Signaling.Answer)
}

// Candidates implements Signaling.
func (r *Router) Candidates(ctx context.Context, m *Candidates) error {
	return route(ctx, r, m, Signaling.Candidates)
}

// Reject implements Signaling.
func (r *Router) Reject(ctx context.Context, m *Reject) error {
	return route(ctx, r, m, Signaling.Reject)
}

// Terminate implements Signaling.
func (r *Router) Terminate(ctx context.Context, m *Terminate) error {
	return route(ctx, r, m, Signaling.Terminate)
}

// Restart implements Signaling.
func (r *Router) Restart(ctx context.Context, m *Restart) error {
	return route(ctx, r, m, Signaling.Restart)
}

// Update implements Signaling.
func (r *Router) Update(ctx context.Context, m *Update) error {
	return route(ctx, r, m, Signaling.Update)
}

// Mute implements Muter: it reaches the session's Signaling when that is a Muter.
func (r *Router) Mute(ctx context.Context, m *Mute) error {
	sg, err := r.pick(m.Session)
	if err != nil {
		return err
	}
	return Send(ctx, sg, m)
}

// Rules implements Signaling; a session without a route gets the zero Rules.
func (r *Router) Rules(s Session) Rules {
	sg, err := r.pick(s)
	if err != nil {
		return Rules{}
	}
	return sg.Rules(s)
}

// Send hands m to the method of sg for its type. It is how the engine's sender
// goroutine (and a Router, a test bus) turns a queued Message into a call.
func Send(ctx context.Context, sg Signaling, m Message) error {
	switch m := m.(type) {
	case *Offer:
		return sg.Offer(ctx, m)
	case *Answer:
		return sg.Answer(ctx, m)
	case *Candidates:
		return sg.Candidates(ctx, m)
	case *Reject:
		return sg.Reject(ctx, m)
	case *Terminate:
		return sg.Terminate(ctx, m)
	case *Restart:
		return sg.Restart(ctx, m)
	case *Update:
		return sg.Update(ctx, m)
	case *Mute:
		if mu, ok := sg.(Muter); ok {
			return mu.Mute(ctx, m)
		}
		return nil // optional: a protocol without it is told nothing
	}
	return fmt.Errorf("signaling: unknown message %T", m)
}
