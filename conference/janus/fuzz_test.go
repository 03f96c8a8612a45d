package janus

import (
	"encoding/json"
	"log/slog"
	"testing"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// FuzzRoute: whatever Janus (or something posing as it) sends, the client neither
// panics nor blocks: a message is decoded, routed to a waiting request or a handle's
// queue, or dropped.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{
		`{"janus":"event","sender":1,"plugindata":{"plugin":"janus.plugin.videoroom","data":{"videoroom":"event","publishers":[{"id":"a","display":"x","streams":[{"type":"video","mid":"1"}]}]}}}`,
		`{"janus":"trickle","sender":1,"candidate":{"completed":true}}`,
		`{"janus":"hangup","sender":1,"reason":"DTLS alert"}`,
		`{"janus":"success","transaction":"t","data":{"id":5}}`,
		`{"janus":"timeout","session_id":3}`,
		`{"janus":"event","sender":1,"plugindata":{"data":{"leaving":12}}}`,
		`{"janus":"media","sender":1,"type":"video","receiving":false}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c := &Client{done: make(chan struct{}), pending: map[string]chan *message{"t": make(chan *message, 1)}, handles: map[uint64]*Handle{}}
		c.log = discardLogger()
		h := &Handle{c: c, ID: 1, onEvent: func(Event) {}, wake: make(chan struct{}, 1), done: make(chan struct{})}
		c.handles[1] = h
		var m message
		if json.Unmarshal(b, &m) != nil {
			return
		}
		c.closeOnce.Do(func() {}) // shutdown would close a nil conn: mark it done instead
		c.route(&m)
		h.mu.Lock()
		q := h.queue
		h.mu.Unlock()
		for _, e := range q {
			if e.Type == EventPlugin {
				_, _ = ParseRoomEvent(e.Data)
			}
		}
	})
}
