package chat

// CONTRACT STUB: the public surface agreed with the engine, the UI and the headless mode.
// The bodies are placeholders until the account lands.

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call/signal"
)

var errNotImplemented = errors.New("chat: not implemented yet")

// TLSMode is how the connection is secured.
type TLSMode string

// TLS modes (config key account.tls).
const (
	TLSStartTLS TLSMode = "starttls" // default
	TLSDirect   TLSMode = "direct"   // XEP-0368 style direct TLS
	TLSNone     TLSMode = "none"     // only to a loopback address
)

// Config configures an Account.
type Config struct {
	JID      jid.JID // bare or full; a resource here is used when Resource is empty
	Password string
	Server   string // "host:port"; empty: the JID's domain, port 5222
	TLS      TLSMode
	CAFile   string // extra CA certificate(s) in PEM, added to the system roots
	Resource string
	Priority int // presence priority; must be >= 0 to receive headlines; default 0
	Scheme   signal.Scheme

	PingInterval time.Duration // XEP-0199 keepalive; default 10 s (dead link found in ~30 s)
	// OnSignal receives every incoming call signal (From set from the stanza). It runs
	// on the receive goroutine and must not block.
	OnSignal func(*signal.Signal)
	// OnSignalError receives signals that could not be decoded; it must not block.
	OnSignalError func(from signal.UserID, err error)

	Logger *slog.Logger
}

// Account is one XMPP login that stays online: Run connects, reconnects with backoff
// and reports what happens through Events.
type Account struct{}

// New checks cfg and makes an Account; nothing is dialled before Run.
func New(cfg Config) (*Account, error) { return nil, errNotImplemented }

// Run connects and keeps the account online until ctx ends or authentication fails
// (then it returns an error wrapping ErrAuth; no retries).
func (a *Account) Run(ctx context.Context) error { return errNotImplemented }

// Events is the ordered stream of what happens; a slow reader never blocks the account.
func (a *Account) Events() <-chan Event { return nil }

// LocalID is this account's user ID in its scheme.
func (a *Account) LocalID() signal.UserID { return "" }

// SendSignal sends a call signal to a user (implements call.Signaler).
func (a *Account) SendSignal(ctx context.Context, to signal.UserID, s *signal.Signal) error {
	return errNotImplemented
}

// Roster returns the current contact list.
func (a *Account) Roster() []Contact { return nil }

// Subscribe adds a contact and asks for its presence.
func (a *Account) Subscribe(ctx context.Context, j jid.JID) error { return errNotImplemented }

// Approve accepts a subscription request.
func (a *Account) Approve(ctx context.Context, j jid.JID) error { return errNotImplemented }

// Deny declines a subscription request.
func (a *Account) Deny(ctx context.Context, j jid.JID) error { return errNotImplemented }

// SetPresence changes our own presence (show: "", "away", "dnd", "xa"; status text).
func (a *Account) SetPresence(ctx context.Context, show, status string) error {
	return errNotImplemented
}

// Close goes offline and waits for the account's goroutines.
func (a *Account) Close() error { return nil }

// ErrAuth is wrapped by the error Run returns when the server refuses the credentials.
var ErrAuth = errors.New("authentication failed")

// ConnState is the state of the server connection.
type ConnState int

// Connection states.
const (
	ConnStateUnknown ConnState = iota
	Connecting
	Online
	Offline
	Reconnecting
)

func (s ConnState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Online:
		return "online"
	case Offline:
		return "offline"
	case Reconnecting:
		return "reconnecting"
	default:
		return "unknown"
	}
}

// Presence of a contact.
type Presence struct {
	Available bool
	Show      string // "", "away", "chat", "dnd", "xa"
	Status    string
}

// Contact is a roster item with its presence.
type Contact struct {
	JID          jid.JID // bare
	UserID       signal.UserID
	Name         string
	Subscription string // none, to, from, both
	Pending      bool   // we asked and wait for approval
	Presence     Presence
}

// Event is something the account reports.
type Event interface{ isChatEvent() }

// StateEvent: the connection changed state. Err says why when going offline.
type StateEvent struct {
	State ConnState
	Err   error
	// RetryIn is the wait before the next attempt (Reconnecting).
	RetryIn time.Duration
}

// RosterEvent: the roster changed (fetched or pushed); Contacts is the whole list.
type RosterEvent struct{ Contacts []Contact }

// PresenceEvent: a contact's presence changed.
type PresenceEvent struct {
	JID      jid.JID // bare
	Presence Presence
}

// SubscriptionRequestEvent: someone asks to see our presence.
type SubscriptionRequestEvent struct{ JID jid.JID }

// ErrorEvent: something failed that is not a connection state (a send, a bad stanza).
type ErrorEvent struct{ Err error }

func (StateEvent) isChatEvent()               {}
func (RosterEvent) isChatEvent()              {}
func (PresenceEvent) isChatEvent()            {}
func (SubscriptionRequestEvent) isChatEvent() {}
func (ErrorEvent) isChatEvent()               {}
