package ui

import (
	"slices"
	"testing"

	"github.com/ttycall/ttycall/call"
)

// TestBlockedCallInHistory: a call declined by calls.accept_from never rings; it shows
// in the history as blocked (repeats folded into one line), and + adds the caller as a
// contact.
func TestBlockedCallInHistory(t *testing.T) {
	h := newHarness(t)
	for i := range 3 {
		h.event(call.MissedCallEvent{EventMeta: call.EventMeta{SessionID: "s" + string(rune('0'+i)), User: "mallory@example.org", Time: h.now},
			CallType: call.CallTypeAudio, InitiatorID: "mallory@example.org", Reason: "blocked"})
	}
	h.mustNotSee("Incoming")
	equal(t, len(h.m.history.records), 1)
	h.key("tab")
	h.mustSee("blocked", "mallory", "×3")
	h.key("+")
	if ops := h.acc.ops(); !slices.Contains(ops, "subscribe mallory@example.org") {
		t.Errorf("account ops %v, want a subscription to mallory", ops)
	}
}
