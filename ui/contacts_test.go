package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
)

func TestContactsShowsRosterWithPresence(t *testing.T) {
	h := newHarness(t)
	h.mustSee("Bob", "bob@example.org", "online — bob status", "carol", "away — carol status", "Dave", "offline")
	s := h.m.render()
	if !strings.Contains(s, "●") || !strings.Contains(s, "○") {
		t.Fatalf("no presence dots:\n%s", s)
	}
}

func TestContactsMoveAndVideoCall(t *testing.T) {
	h := newHarness(t)
	// Sorted by name: Bob, carol, Dave.
	h.key("j")
	equal(t, h.m.contacts.cursor, 1)
	h.key("down")
	h.key("down") // stays on the last
	equal(t, h.m.contacts.cursor, 2)
	h.key("k")
	equal(t, h.m.contacts.cursor, 1)

	// Test the contacts screen's own command first: enter asks for a video call.
	cmd := h.m.contacts.update(keyPress("enter"))
	got, ok := cmd().(startCallMsg)
	if !ok {
		t.Fatalf("enter: %T, want startCallMsg", cmd())
	}
	equal(t, got, startCallMsg{Opponents: []call.UserID{"carol@example.org"}, CallType: call.CallTypeVideo})

	// Through the root: the call screen opens and the engine dials.
	h.key("v")
	if h.m.screen != screenCall || h.m.call == nil {
		t.Fatalf("screen %v, call %v", h.m.screen, h.m.call)
	}
	s := h.eng.session(h.m.call.sessionID)
	equal(t, s.opsList(), []string{"media", "call"})
	equal(t, s.callType, call.CallTypeVideo)
	if !s.media.Video || !s.media.Audio {
		t.Fatalf("media params %+v", s.media)
	}
	h.mustSee("video call with carol", "RINGING")
}

func TestContactsAudioCall(t *testing.T) {
	h := newHarness(t)
	h.key("a")
	s := h.eng.session(h.m.call.sessionID)
	equal(t, s.callType, call.CallTypeAudio)
	if s.media.Video {
		t.Fatal("audio call opened the camera")
	}
	equal(t, s.opponents, []call.UserID{"bob@example.org"})
}

func TestContactsMarkForGroupCall(t *testing.T) {
	h := newHarness(t)
	h.key("space") // marks Bob, moves to carol
	h.key("j")     // Dave
	h.key("space") // marks Dave
	h.mustSee("2 marked")
	cmd := h.m.contacts.update(keyPress("enter"))
	equal(t, cmd().(startCallMsg).Opponents, []call.UserID{"bob@example.org", "dave@example.org"})
	h.key("space") // on Dave again? cursor stayed on the last: unmarks Dave
	equal(t, len(h.m.contacts.marked), 1)
	h.key("a")
	equal(t, h.eng.session(h.m.call.sessionID).opponents, []call.UserID{"bob@example.org"})
	equal(t, len(h.m.contacts.marked), 0)
}

func TestContactsFilter(t *testing.T) {
	h := newHarness(t)
	h.key("/")
	if !h.m.contacts.filter.Focused() {
		t.Fatal("/ did not open the filter")
	}
	for _, r := range "da" {
		h.key(string(r))
	}
	equal(t, len(h.m.contacts.items()), 1)
	h.mustSee("Dave")
	h.mustNotSee("Bob")
	// q types into the filter instead of quitting.
	h.key("q")
	if h.m.quitting {
		t.Fatal("q quit while typing a filter")
	}
	h.key("esc")
	equal(t, len(h.m.contacts.items()), 3)
	equal(t, h.m.contacts.filter.Value(), "")

	h.key("/")
	h.key("c")
	h.key("enter") // keep the filter, leave the input
	if h.m.contacts.filter.Focused() {
		t.Fatal("enter did not leave the filter input")
	}
	equal(t, len(h.m.contacts.items()), 1) // carol
	h.key("a")
	equal(t, h.eng.session(h.m.call.sessionID).opponents, []call.UserID{"carol@example.org"})
}

func TestCtrlCQuitsWhileTyping(t *testing.T) {
	h := newHarness(t)
	h.key("/")
	if _, ok := findMsg[tea.QuitMsg](h.key("ctrl+c")); !ok {
		t.Fatal("ctrl+c in the filter did not quit")
	}
}

func TestContactsAddSendsSubscription(t *testing.T) {
	h := newHarness(t)
	h.key("+")
	for _, r := range "erin@example.org" {
		h.key(string(r))
	}
	msgs := h.key("enter")
	equal(t, h.acc.ops(), []string{"subscribe erin@example.org"})
	res, ok := findMsg[opResultMsg](msgs)
	if !ok || res.Err != nil {
		t.Fatalf("result %+v", res)
	}
	h.mustSee("asked erin@example.org")

	// What is not user@server is said under the input, which stays open to fix it.
	for _, bad := range []string{"@@", "bob", "me@example.org", "Bob@example.org"} {
		h.key("+")
		for _, r := range bad {
			h.key(string(r))
		}
		h.key("enter")
		equal(t, len(h.acc.ops()), 1)
		equal(t, h.m.contacts.add.Focused(), true)
		h.key("esc")
	}
	h.key("+")
	h.key("b")
	h.key("o")
	h.key("enter")
	h.mustSee(`"bo" is not an address: type user@server`)
	h.key("@")
	h.mustNotSee("is not an address")
	for _, r := range "x.org" {
		h.key(string(r))
	}
	h.key("enter")
	equal(t, h.acc.ops(), []string{"subscribe erin@example.org", "subscribe bo@x.org"})
}

// d asks before removing a contact: y removes, any other key keeps them.
func TestContactsRemoveAsksFirst(t *testing.T) {
	h := newHarness(t)
	h.key("d") // Bob
	h.mustSee("remove Bob (bob@example.org) from your contacts? y to remove")
	h.key("q") // keeps Bob; does not quit
	equal(t, h.m.quitting, false)
	equal(t, len(h.acc.ops()), 0)
	h.mustNotSee("from your contacts?")
	h.key("d")
	h.key("y")
	equal(t, h.acc.ops(), []string{"remove bob@example.org"})
	h.mustSee("removed Bob (bob@example.org)")
}

func TestContactsApproveAndDenyRequests(t *testing.T) {
	h := newHarness(t)
	h.chat(chat.SubscriptionRequestEvent{JID: mustJID(t, "erin@example.org/phone")})
	h.chat(chat.SubscriptionRequestEvent{JID: mustJID(t, "frank@example.org")})
	h.mustSee("erin@example.org wants to see your presence", "frank@example.org wants")
	h.key("y") // cursor on the first request; approving asks for erin's presence back
	h.mustSee("approved erin@example.org and asked for their presence")
	h.key("x") // now frank is first
	equal(t, h.acc.ops(), []string{"approve erin@example.org", "subscribe erin@example.org", "deny frank@example.org"})
	h.mustNotSee("wants to see")
	// y with no request waiting says so.
	h.key("y")
	equal(t, len(h.acc.ops()), 3)
	h.mustSee("no subscription request is waiting")
}

// y and x answer the oldest request wherever the cursor is.
func TestContactsRequestKeysAnywhere(t *testing.T) {
	h := newHarness(t)
	h.chat(chat.SubscriptionRequestEvent{JID: mustJID(t, "erin@example.org")})
	h.key("j")
	h.key("j") // on a contact, not the request
	h.mustSee("y approve request", "x deny request")
	h.key("x")
	equal(t, h.acc.ops(), []string{"deny erin@example.org"})
}

func TestContactsRosterAndPresenceUpdates(t *testing.T) {
	h := newHarness(t)
	h.chat(chat.PresenceEvent{JID: mustJID(t, "dave@example.org/x"), Presence: chat.Presence{Available: true, Show: "dnd", Status: "in a meeting"}})
	h.mustSee("busy — in a meeting")
	h.chat(chat.RosterEvent{Contacts: []chat.Contact{{JID: mustJID(t, "zed@example.org"), UserID: "zed@example.org", Pending: true}}})
	h.mustSee("zed", "awaiting approval")
	h.mustNotSee("Bob")
}

func TestContactsHistoryKey(t *testing.T) {
	h := newHarness(t)
	h.key("tab")
	equal(t, h.m.screen, screenHistory)
	h.mustSee("no calls yet")
	h.key("esc")
	equal(t, h.m.screen, screenContacts)
}
