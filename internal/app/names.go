package app

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/chat"
)

// NamedAccount is the chat account as the terminal interface sees it: in QuickBlox mode
// the contacts of its roster events carry the users' full names from the users API
// (cached with an expiry by qbapi.Account) instead of bare numbers; without QuickBlox it
// is the account itself. Its Events must have one reader.
type NamedAccount struct {
	*chat.Account
	app *App

	once    sync.Once
	started atomic.Bool // the forwarder runs (or ran); App.Close then waits for done
	out     chan chat.Event
	done    chan struct{} // closed when the forwarder has ended
}

// NamedAccount wraps the account for a user interface (see NamedAccount); always the
// same one.
func (a *App) NamedAccount() *NamedAccount {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.named == nil {
		a.named = &NamedAccount{Account: a.account, app: a, out: make(chan chat.Event), done: make(chan struct{})}
	}
	return a.named
}

// wait waits for the forwarder, when it was started; the account must be closed.
func (n *NamedAccount) wait() {
	if n != nil && n.started.Load() {
		<-n.done
	}
}

// Events is the account's event stream with the names filled in. It is closed after the
// account's (App.Close).
func (n *NamedAccount) Events() <-chan chat.Event {
	if n.app.qb == nil {
		return n.Account.Events()
	}
	n.once.Do(func() {
		n.started.Store(true)
		go n.forward() // ends when the account's events end (App.Close waits for it)
	})
	return n.out
}

// forward copies the account's events, naming the contacts of roster events from the
// cache; names not cached are looked up by one goroutine at a time, after which the
// roster is sent again with them.
func (n *NamedAccount) forward() {
	defer close(n.done)
	defer close(n.out)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait() // the lookup ends with ctx (cancelled first: defers run last to first)
	defer cancel()
	looked := make(chan struct{}, 1)
	busy := false
	in := n.Account.Events()
	for {
		var ev chat.Event
		select {
		case e, ok := <-in:
			if !ok {
				return
			}
			ev = e
		case <-looked:
			busy = false
			ev = chat.RosterEvent{Contacts: n.Account.Roster()}
		}
		if r, ok := ev.(chat.RosterEvent); ok {
			var missing []int
			r.Contacts, missing = n.name(r.Contacts)
			ev = r
			if len(missing) > 0 && !busy {
				busy = true
				wg.Add(1)
				go func() { // ends after its lookups, each bounded by lookupTimeout and ctx
					defer wg.Done()
					n.lookup(ctx, missing)
					looked <- struct{}{}
				}()
			}
		}
		select {
		case n.out <- ev:
		case <-n.app.closing():
			// Nobody reads any more and the app is closing: drain the account's events
			// until they end.
			for range in {
			}
			return
		}
	}
}

// name fills in the cached full names of contacts without a roster name; missing are
// the user IDs not in the cache.
func (n *NamedAccount) name(cs []chat.Contact) (out []chat.Contact, missing []int) {
	out = make([]chat.Contact, len(cs))
	copy(out, cs)
	for i, c := range out {
		id, err := strconv.Atoi(string(c.UserID))
		if c.Name != "" || err != nil {
			continue
		}
		if u, ok := n.app.qb.CachedUser(id); ok {
			out[i].Name = u.DisplayName()
		} else {
			missing = append(missing, id)
		}
	}
	return out, missing
}

func (n *NamedAccount) lookup(ctx context.Context, ids []int) {
	for _, id := range ids {
		lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
		if _, err := n.app.qb.User(lctx, id); err != nil {
			n.app.log.Debug("quickblox: contact name", "user_id", id, "err", err)
		}
		cancel()
		if ctx.Err() != nil {
			return
		}
	}
}

// Subscribe asks j to share presence. In QuickBlox mode, what the user typed may be an
// email (or a login that parses as a domain, like "bob") instead of a chat address: an
// address not on the chat host is looked up in the users API and becomes
// {user_id}-{app_id}@{chat host}; an unknown one is an error.
func (n *NamedAccount) Subscribe(ctx context.Context, j jid.JID) error {
	qb := n.app.qb
	if qb == nil || j.Domainpart() == qb.ChatHost() {
		return n.Account.Subscribe(ctx, j)
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	u, err := qb.Resolve(lctx, j.String())
	if err != nil {
		return err
	}
	to, err := jid.Parse(fmt.Sprintf("%d-%d@%s", u.ID, n.app.cfg.QuickBlox.AppID, qb.ChatHost()))
	if err != nil {
		return fmt.Errorf("app: user %d: %w", u.ID, err)
	}
	return n.Account.Subscribe(ctx, to)
}

// ResolvesNames reports whether SubscribeName looks names up (QuickBlox mode).
func (n *NamedAccount) ResolvesNames() bool { return n.app.qb != nil }

// SubscribeName is Subscribe for what a person typed: a JID, or in QuickBlox mode a
// login, email or full name (looked up in the users API). The interface's "add contact"
// uses it.
func (n *NamedAccount) SubscribeName(ctx context.Context, text string) error {
	if n.app.qb != nil {
		if j, err := jid.Parse(text); err != nil || j.Domainpart() != n.app.qb.ChatHost() {
			lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
			defer cancel()
			u, err := n.app.qb.Resolve(lctx, text)
			if err != nil {
				return err
			}
			text = fmt.Sprintf("%d-%d@%s", u.ID, n.app.cfg.QuickBlox.AppID, n.app.qb.ChatHost())
		}
	}
	j, err := jid.Parse(text)
	if err != nil {
		return fmt.Errorf("%q is not an address", text)
	}
	return n.Account.Subscribe(ctx, j.Bare())
}
