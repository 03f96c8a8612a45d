package ui

import (
	"context"
	"testing"
)

// nameAccount is an account that resolves names itself, as app.NamedAccount does in
// QuickBlox mode.
type nameAccount struct {
	*fakeAccount
	names []string
}

func (a *nameAccount) ResolvesNames() bool { return true }
func (a *nameAccount) SubscribeName(ctx context.Context, text string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.names = append(a.names, text)
	return nil
}

// TestContactsAddByQuickBloxName: with an account that resolves names, what is typed
// (a login with an underscore, a full name with a space) goes to it as it is.
func TestContactsAddByQuickBloxName(t *testing.T) {
	h := newHarness(t)
	acc := &nameAccount{fakeAccount: h.acc}
	h.m.env.account = acc
	for _, name := range []string{"bob_login", "Bob Builder"} {
		h.key("+")
		for _, r := range name {
			h.key(string(r))
		}
		h.key("enter")
		h.mustSee("asked " + name + " to share presence")
	}
	equal(t, acc.names, []string{"bob_login", "Bob Builder"})
	equal(t, len(h.acc.ops()), 0)
}
