package janus

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Subprotocol is the WebSocket subprotocol of Janus' API.
const Subprotocol = "janus-protocol"

// Defaults of Options.
const (
	// DefaultKeepAlive is below Janus' default session_timeout of 60 s, as janus.js'
	// 25 s is.
	DefaultKeepAlive = 25 * time.Second
	// DefaultTimeout bounds one request (its ack, or its event for asynchronous ones).
	DefaultTimeout = 10 * time.Second
	// maxMessage bounds one message from Janus (SDPs of a dozen streams fit).
	maxMessage = 1 << 20
)

// Options configure a Client.
type Options struct {
	// Token and APISecret are sent with every request when set (Janus' token_auth and
	// api_secret).
	Token, APISecret string
	KeepAlive        time.Duration // default DefaultKeepAlive
	Timeout          time.Duration // default DefaultTimeout
	Logger           *slog.Logger
}

// JSEP is an SDP offer or answer carried by a message.
type JSEP struct {
	Type string `json:"type"`
	SDP  string `json:"sdp"`
	// Simulcast, E2EE and other fields Janus may add are ignored.
}

// Candidate is a trickled ICE candidate; Completed marks the end of gathering.
type Candidate struct {
	Candidate     string  `json:"candidate,omitempty"`
	SDPMid        *string `json:"sdpMid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdpMLineIndex,omitempty"`
	Completed     bool    `json:"completed,omitempty"`
}

// message is every message of the API, both ways; unused fields stay empty.
type message struct {
	Janus       string          `json:"janus"`
	Transaction string          `json:"transaction,omitempty"`
	SessionID   uint64          `json:"session_id,omitempty"`
	HandleID    uint64          `json:"handle_id,omitempty"`
	Sender      uint64          `json:"sender,omitempty"`
	Plugin      string          `json:"plugin,omitempty"`
	Body        any             `json:"body,omitempty"`
	JSEP        *JSEP           `json:"jsep,omitempty"`
	Candidate   *Candidate      `json:"candidate,omitempty"`
	Token       string          `json:"token,omitempty"`
	APISecret   string          `json:"apisecret,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	PluginData  *struct {
		Plugin string          `json:"plugin"`
		Data   json.RawMessage `json:"data"`
	} `json:"plugindata,omitempty"`
	Error *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"error,omitempty"`
	// Core events.
	Type      string `json:"type,omitempty"`      // media
	Receiving *bool  `json:"receiving,omitempty"` // media
	Mid       string `json:"mid,omitempty"`       // media, slowlink
	Uplink    *bool  `json:"uplink,omitempty"`    // slowlink
	Lost      int    `json:"lost,omitempty"`      // slowlink
	Reason    string `json:"reason,omitempty"`    // hangup
}

// Client is one WebSocket connection to Janus holding one Janus session.
type Client struct {
	conn    *websocket.Conn
	o       Options
	log     *slog.Logger
	session uint64

	closing   atomic.Bool
	done      chan struct{} // closed when the connection is gone
	closeOnce sync.Once
	wg        sync.WaitGroup // the reader and the keepalive

	mu      sync.Mutex
	err     error                    // guarded by mu; why done was closed
	pending map[string]chan *message // guarded by mu; by transaction
	handles map[uint64]*Handle       // guarded by mu
}

// Dial connects to Janus at url (ws://host:port), creates a session and starts its
// keepalive. The client ends on Close, or when the connection drops (Done, Err): a
// Janus restart drops it, and every session and handle of the old process is gone.
func Dial(ctx context.Context, url string, o Options) (*Client, error) {
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, url, &websocket.DialOptions{Subprotocols: []string{Subprotocol}})
	if err != nil {
		return nil, fmt.Errorf("janus: dial %s: %w", url, err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if conn.Subprotocol() != Subprotocol {
		conn.CloseNow()
		return nil, fmt.Errorf("%w: %s did not accept subprotocol %s", ErrProtocol, url, Subprotocol)
	}
	conn.SetReadLimit(maxMessage)
	c := &Client{
		conn: conn, o: o, log: o.Logger, done: make(chan struct{}),
		pending: map[string]chan *message{}, handles: map[uint64]*Handle{},
	}
	c.wg.Add(1)
	// Owned by c: the only reader of the connection; ends when it closes (Close, or
	// Janus going away), and then ends the client.
	go c.readLoop()
	r, err := c.do(ctx, &message{Janus: "create"}, false)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("janus: create session: %w", err)
	}
	var data struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || data.ID == 0 {
		c.Close()
		return nil, fmt.Errorf("%w: create session: no id in %s", ErrProtocol, r.Data)
	}
	c.session = data.ID
	c.log = c.log.With("janus_session", c.session)
	c.wg.Add(1)
	// Owned by c: keeps the session alive; ends with the client.
	go c.keepAlive()
	return c, nil
}

// SessionID is Janus' ID of this client's session.
func (c *Client) SessionID() uint64 { return c.session }

// Done is closed when the client has ended: Close, or the connection dropped.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err tells why the client ended (nil while it runs, ErrClosed after Close).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close destroys the session (best effort, bounded by the request timeout), closes the
// connection, and waits for the client's goroutines and every handle's dispatcher.
func (c *Client) Close() error {
	if c.closing.CompareAndSwap(false, true) && c.session != 0 {
		select {
		case <-c.done:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
			_, _ = c.do(ctx, &message{Janus: "destroy", SessionID: c.session}, false)
			cancel()
		}
	}
	c.shutdown(ErrClosed)
	c.wg.Wait()
	return nil
}

// shutdown ends the client once: the connection, every pending request, every handle.
func (c *Client) shutdown(err error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.err = err
		pending := c.pending
		c.pending = map[string]chan *message{}
		handles := c.handles
		c.handles = map[uint64]*Handle{}
		c.mu.Unlock()
		close(c.done)
		c.conn.CloseNow()
		for _, ch := range pending {
			close(ch)
		}
		for _, h := range handles {
			h.end()
		}
	})
}

func (c *Client) readLoop() {
	defer c.wg.Done()
	for {
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			if c.closing.Load() {
				c.shutdown(ErrClosed)
			} else {
				c.log.Warn("janus connection lost", "err", err)
				c.shutdown(fmt.Errorf("%w: %w", ErrClosed, err))
			}
			return
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			c.log.Warn("janus: unparsable message", "err", err, "len", len(b))
			continue
		}
		c.route(&m)
	}
}

// route hands a message to the request waiting for its transaction, or as an event to
// its handle. Janus sends an asynchronous plugin response as an event carrying the
// request's transaction.
func (c *Client) route(m *message) {
	if m.Transaction != "" {
		c.mu.Lock()
		ch := c.pending[m.Transaction]
		c.mu.Unlock()
		if ch != nil {
			select {
			case ch <- m:
			default: // a late duplicate: the waiter has what it needs
			}
			return
		}
	}
	switch m.Janus {
	case "timeout":
		c.log.Warn("janus session timed out")
		c.shutdown(fmt.Errorf("%w: session timed out", ErrClosed))
		return
	case "ack", "success", "error", "keepalive", "server_info":
		return // the answer of a request that gave up
	}
	c.mu.Lock()
	h := c.handles[m.Sender]
	c.mu.Unlock()
	if h == nil {
		c.log.Debug("janus: event for no handle", "janus", m.Janus, "sender", m.Sender)
		return
	}
	h.push(eventOf(m))
}

// do sends m with a new transaction and waits for its answer: "success" (or "ack" when
// !async), the plugin's event when async, or "error".
func (c *Client) do(ctx context.Context, m *message, async bool) (*message, error) {
	tx := newTransaction()
	m.Transaction = tx
	m.Token, m.APISecret = c.o.Token, c.o.APISecret
	ch := make(chan *message, 4)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[tx] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, tx)
		c.mu.Unlock()
	}()
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("janus: encode %s: %w", m.Janus, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, fmt.Errorf("%w: send %s: %w", ErrClosed, m.Janus, err)
	}
	for {
		select {
		case r, ok := <-ch:
			if !ok {
				return nil, c.Err()
			}
			switch r.Janus {
			case "error":
				e := &Error{Code: 0, Reason: "unknown"}
				if r.Error != nil {
					e.Code, e.Reason = r.Error.Code, r.Error.Reason
				}
				return nil, e
			case "ack":
				if async {
					continue
				}
				return r, nil
			case "success", "event":
				if err := pluginError(r); err != nil {
					return nil, err
				}
				return r, nil
			default:
				continue
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, fmt.Errorf("%w: %s", ErrTimeout, m.Janus)
			}
			return nil, ctx.Err()
		case <-c.done:
			return nil, c.Err()
		}
	}
}

// pluginError returns the error a plugin put in its data (error_code, error).
func pluginError(r *message) error {
	if r.PluginData == nil {
		return nil
	}
	var e struct {
		Code   int    `json:"error_code"`
		Reason string `json:"error"`
	}
	if json.Unmarshal(r.PluginData.Data, &e) == nil && (e.Code != 0 || e.Reason != "") {
		return &Error{Plugin: true, Code: e.Code, Reason: e.Reason}
	}
	return nil
}

func (c *Client) keepAlive() {
	defer c.wg.Done()
	t := time.NewTicker(c.o.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), c.o.Timeout)
			_, err := c.do(ctx, &message{Janus: "keepalive", SessionID: c.session}, false)
			cancel()
			if err != nil && !errors.Is(err, ErrClosed) {
				c.log.Warn("janus keepalive failed", "err", err)
			}
		}
	}
}

// Attach attaches a handle to plugin (e.g. "janus.plugin.videoroom"). Its events are
// given, one at a time and in order, to onEvent on a goroutine of the handle's own, so
// onEvent may make requests; it must return for the next event to come.
func (c *Client) Attach(ctx context.Context, plugin string, onEvent func(Event)) (*Handle, error) {
	r, err := c.do(ctx, &message{Janus: "attach", SessionID: c.session, Plugin: plugin}, false)
	if err != nil {
		return nil, fmt.Errorf("janus: attach %s: %w", plugin, err)
	}
	var data struct {
		ID uint64 `json:"id"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || data.ID == 0 {
		return nil, fmt.Errorf("%w: attach: no id in %s", ErrProtocol, r.Data)
	}
	if onEvent == nil {
		onEvent = func(Event) {}
	}
	h := &Handle{c: c, ID: data.ID, onEvent: onEvent, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	c.handles[h.ID] = h
	c.wg.Add(1)
	c.mu.Unlock()
	// Owned by c: the handle's dispatcher; ends when the handle is detached or the
	// client ends.
	go h.dispatch(&c.wg)
	return h, nil
}

func newTransaction() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
