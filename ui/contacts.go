package ui

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/call"
	"github.com/ttycall/ttycall/chat"
)

// startCallMsg asks the root to call the opponents.
type startCallMsg struct {
	Opponents []call.UserID
	CallType  call.CallType
}

// contactsModel is the roster screen: presence, filter, marks for a group call, adding
// contacts and answering subscription requests.
type contactsModel struct {
	env      *env
	contacts []chat.Contact // sorted by display name
	requests []jid.JID      // pending subscription requests, oldest first
	cursor   int
	marked   map[call.UserID]bool

	filter textinput.Model // focused while the user types a filter; kept after
	add    textinput.Model // focused while the user types a JID to add
	addErr string          // why the address typed is not one; shown under the input

	// removing is the contact d asked to remove, waiting for y (anything else keeps
	// it); nil otherwise.
	removing *chat.Contact
}

// contactItem is one row: a subscription request or a contact.
type contactItem struct {
	request *jid.JID
	contact *chat.Contact
}

func newContacts(e *env) contactsModel {
	f := textinput.New()
	f.Prompt = "/"
	f.Placeholder = "filter"
	a := textinput.New()
	a.Prompt = "add contact: "
	a.Placeholder = "user@server"
	// A steady cursor: no blink timers while typing.
	for _, in := range []*textinput.Model{&f, &a} {
		st := in.Styles()
		st.Cursor.Blink = false
		in.SetStyles(st)
	}
	return contactsModel{env: e, marked: map[call.UserID]bool{}, filter: f, add: a}
}

func (c *contactsModel) setWidth(w int) {
	c.filter.SetWidth(max(w-4, 10))
	c.add.SetWidth(max(w-16, 10))
}

func (c *contactsModel) setRoster(list []chat.Contact) {
	c.contacts = append([]chat.Contact(nil), list...)
	sort.SliceStable(c.contacts, func(i, j int) bool {
		return strings.ToLower(displayName(c.contacts[i])) < strings.ToLower(displayName(c.contacts[j]))
	})
	// A contact we now see no longer needs approval.
	for i := 0; i < len(c.requests); i++ {
		for _, ct := range c.contacts {
			if ct.JID.Equal(c.requests[i]) && (ct.Subscription == "both" || ct.Subscription == "from") {
				c.requests = append(c.requests[:i], c.requests[i+1:]...)
				i--
				break
			}
		}
	}
	c.clamp()
}

func (c *contactsModel) setPresence(j jid.JID, p chat.Presence) {
	b := j.Bare()
	for i := range c.contacts {
		if c.contacts[i].JID.Bare().Equal(b) {
			c.contacts[i].Presence = p
		}
	}
}

// clearPresence marks every contact offline (the connection to the server is lost).
func (c *contactsModel) clearPresence() {
	for i := range c.contacts {
		c.contacts[i].Presence = chat.Presence{}
	}
}

func (c *contactsModel) addRequest(j jid.JID) {
	b := j.Bare()
	for _, r := range c.requests {
		if r.Equal(b) {
			return
		}
	}
	c.requests = append(c.requests, b)
}

func (c *contactsModel) removeRequest(j jid.JID) {
	for i, r := range c.requests {
		if r.Equal(j) {
			c.requests = append(c.requests[:i], c.requests[i+1:]...)
			break
		}
	}
	c.clamp()
}

func (c *contactsModel) clearMarks() { c.marked = map[call.UserID]bool{} }

// offline reports whether id is a contact known to be offline (false for a stranger:
// their presence is unknown).
func (c *contactsModel) offline(id call.UserID) bool {
	for _, ct := range c.contacts {
		if ct.UserID == id {
			return !ct.Presence.Available
		}
	}
	return false
}

// names maps user IDs to display names, for other screens.
func (c *contactsModel) names() map[call.UserID]string {
	n := make(map[call.UserID]string, len(c.contacts))
	for _, ct := range c.contacts {
		n[ct.UserID] = displayName(ct)
	}
	return n
}

func (c *contactsModel) inputActive() bool { return c.filter.Focused() || c.add.Focused() }

// blurInputs leaves the text inputs (keeping the filter) so that keys reach the
// incoming-call prompt.
func (c *contactsModel) blurInputs() {
	c.filter.Blur()
	c.closeAdd()
	c.clamp()
}

// closeAdd leaves the add-contact input, emptied.
func (c *contactsModel) closeAdd() {
	c.add.Blur()
	c.add.Reset()
	c.addErr = ""
}

// confirming reports that a removal waits for its y: the next key answers it.
func (c *contactsModel) confirming() bool { return c.removing != nil }

// items are the visible rows: requests first, then the contacts matching the filter.
func (c *contactsModel) items() []contactItem {
	var items []contactItem
	for i := range c.requests {
		items = append(items, contactItem{request: &c.requests[i]})
	}
	q := strings.ToLower(strings.TrimSpace(c.filter.Value()))
	for i := range c.contacts {
		ct := &c.contacts[i]
		if q != "" && !strings.Contains(strings.ToLower(displayName(*ct)+" "+ct.JID.String()+" "+ct.Presence.Status), q) {
			continue
		}
		items = append(items, contactItem{contact: ct})
	}
	return items
}

func (c *contactsModel) clamp() {
	n := len(c.items())
	if c.cursor >= n {
		c.cursor = n - 1
	}
	if c.cursor < 0 {
		c.cursor = 0
	}
}

func (c *contactsModel) selected() (contactItem, bool) {
	items := c.items()
	if c.cursor < 0 || c.cursor >= len(items) {
		return contactItem{}, false
	}
	return items[c.cursor], true
}

// update handles a key on the contacts screen.
func (c *contactsModel) update(k tea.KeyPressMsg) tea.Cmd {
	keys := c.env.keys
	if c.add.Focused() {
		switch {
		case key.Matches(k, keys.Cancel):
			c.closeAdd()
			return nil
		case key.Matches(k, keys.Submit):
			text := strings.TrimSpace(c.add.Value())
			if text == "" {
				c.closeAdd()
				return nil
			}
			if ns, ok := c.env.account.(nameSubscriber); ok && ns.ResolvesNames() {
				// QuickBlox mode: a login, email or full name; the account looks it up.
				c.closeAdd()
				return opCmd(c.env, "add contact", "asked "+text+" to share presence", func(ctx context.Context) error {
					return ns.SubscribeName(ctx, text)
				})
			}
			j, err := c.parseAddress(text)
			if err != nil {
				c.addErr = err.Error() // the input stays open to fix it
				return nil
			}
			c.closeAdd()
			return c.subscribe(j)
		}
		c.addErr = ""
		var cmd tea.Cmd
		c.add, cmd = c.add.Update(k)
		return cmd
	}
	if c.removing != nil {
		ct := *c.removing
		c.removing = nil
		if k.String() != "y" {
			return nil // anything but y keeps the contact
		}
		acc := c.env.account
		return opCmd(c.env, "remove contact", "removed "+displayName(ct)+" ("+ct.JID.String()+")", func(ctx context.Context) error {
			return acc.Remove(ctx, ct.JID)
		})
	}
	if c.filter.Focused() {
		switch {
		case key.Matches(k, keys.Cancel):
			c.filter.Blur()
			c.filter.Reset()
			c.clamp()
			return nil
		case key.Matches(k, keys.Submit):
			c.filter.Blur()
			c.clamp()
			return nil
		}
		var cmd tea.Cmd
		c.filter, cmd = c.filter.Update(k)
		c.cursor = 0
		c.clamp()
		return cmd
	}

	switch {
	case key.Matches(k, keys.Up):
		if c.cursor > 0 {
			c.cursor--
		}
	case key.Matches(k, keys.Down):
		if c.cursor < len(c.items())-1 {
			c.cursor++
		}
	case key.Matches(k, keys.Filter):
		return c.filter.Focus()
	case key.Matches(k, keys.Cancel):
		if c.filter.Value() != "" {
			c.filter.Reset()
			c.clamp()
		} else {
			c.clearMarks()
		}
	case key.Matches(k, keys.Add):
		return c.add.Focus()
	case key.Matches(k, keys.History):
		return func() tea.Msg { return showScreenMsg{screen: screenHistory} }
	case key.Matches(k, keys.Mark):
		if it, ok := c.selected(); ok && it.contact != nil {
			id := it.contact.UserID
			if c.marked[id] {
				delete(c.marked, id)
			} else {
				c.marked[id] = true
			}
			if c.cursor < len(c.items())-1 {
				c.cursor++
			}
		}
	case key.Matches(k, keys.Approve), key.Matches(k, keys.Deny):
		// The request under the cursor, or else the oldest: requests are listed
		// first, so the user need not go looking for one.
		approve := key.Matches(k, keys.Approve)
		if it, ok := c.selected(); ok && it.request != nil {
			return c.answerRequest(*it.request, approve)
		}
		if len(c.requests) > 0 {
			return c.answerRequest(c.requests[0], approve)
		}
		return func() tea.Msg {
			return opResultMsg{Op: "answer request", Err: errors.New("no subscription request is waiting")}
		}
	case key.Matches(k, keys.Remove):
		if it, ok := c.selected(); ok && it.contact != nil {
			ct := *it.contact
			c.removing = &ct
		}
	case key.Matches(k, keys.VideoCall):
		if it, ok := c.selected(); ok && it.request != nil && key.Matches(k, keys.Submit) {
			return c.answerRequest(*it.request, true)
		}
		return c.call(call.CallTypeVideo)
	case key.Matches(k, keys.AudioCall):
		return c.call(call.CallTypeAudio)
	}
	return nil
}

// call asks the root to call the marked contacts, or the selected one.
func (c *contactsModel) call(t call.CallType) tea.Cmd {
	var ids []call.UserID
	for _, ct := range c.contacts {
		if c.marked[ct.UserID] {
			ids = append(ids, ct.UserID)
		}
	}
	if len(ids) == 0 {
		it, ok := c.selected()
		if !ok || it.contact == nil {
			return nil
		}
		ids = []call.UserID{it.contact.UserID}
	}
	msg := startCallMsg{Opponents: ids, CallType: t}
	return func() tea.Msg { return msg }
}

// nameSubscriber is an account that turns what was typed into an address itself:
// app.NamedAccount, which in QuickBlox mode looks up logins, emails and full names in the
// users API.
type nameSubscriber interface {
	ResolvesNames() bool
	SubscribeName(ctx context.Context, text string) error
}

// parseAddress checks what was typed into the add-contact input: a user's address,
// user@server, not our own.
func (c *contactsModel) parseAddress(text string) (jid.JID, error) {
	j, err := jid.Parse(text)
	if err != nil || j.Localpart() == "" || j.Domainpart() == "" || strings.ContainsAny(text, " \t") {
		return jid.JID{}, fmt.Errorf("%q is not an address: type user@server", text)
	}
	if c.env.account != nil && string(c.env.account.LocalID()) == j.Bare().String() {
		return jid.JID{}, errors.New("that is your own address")
	}
	for _, ct := range c.contacts {
		if ct.JID.Bare().Equal(j.Bare()) && !ct.Pending && ct.Subscription != "none" {
			return jid.JID{}, fmt.Errorf("%s is already a contact", j.Bare())
		}
	}
	return j.Bare(), nil
}

func (c *contactsModel) subscribe(j jid.JID) tea.Cmd {
	acc := c.env.account
	return opCmd(c.env, "add contact", "asked "+j.Bare().String()+" to share presence", func(ctx context.Context) error {
		return acc.Subscribe(ctx, j.Bare())
	})
}

func (c *contactsModel) answerRequest(j jid.JID, approve bool) tea.Cmd {
	c.removeRequest(j)
	acc := c.env.account
	if approve {
		// Approving also asks for their presence back, unless we see it already: a
		// contact is useful both ways.
		askBack := true
		for _, ct := range c.contacts {
			if ct.JID.Bare().Equal(j.Bare()) && (ct.Subscription == "both" || ct.Subscription == "to" || ct.Pending) {
				askBack = false
			}
		}
		done := "approved " + j.String()
		if askBack {
			done += " and asked for their presence"
		}
		return opCmd(c.env, "approve", done, func(ctx context.Context) error {
			if err := acc.Approve(ctx, j); err != nil {
				return err
			}
			if askBack {
				return acc.Subscribe(ctx, j)
			}
			return nil
		})
	}
	return opCmd(c.env, "deny", "denied "+j.String(), func(ctx context.Context) error {
		return acc.Deny(ctx, j)
	})
}

// ShortHelp implements help.KeyMap.
func (c *contactsModel) ShortHelp() []key.Binding {
	k := c.env.keys
	if c.inputActive() {
		return []key.Binding{k.Submit, k.Cancel}
	}
	if len(c.requests) > 0 {
		return []key.Binding{k.VideoCall, k.Approve, k.Deny, k.AudioCall, k.Mark, k.Filter, k.Add, k.Remove, k.History}
	}
	return []key.Binding{k.VideoCall, k.AudioCall, k.Mark, k.Filter, k.Add, k.Remove, k.History}
}

// FullHelp implements help.KeyMap.
func (c *contactsModel) FullHelp() [][]key.Binding {
	k := c.env.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Filter, k.Cancel},
		{k.VideoCall, k.AudioCall, k.Mark},
		{k.Add, k.Remove, k.Approve, k.Deny, k.History},
	}
}

// view draws the list.
func (c *contactsModel) view(w, h int) string {
	st := c.env.styles
	var b strings.Builder
	if c.add.Focused() {
		b.WriteString(c.add.View() + "\n")
		if c.addErr != "" {
			b.WriteString("  " + st.Error.Render(c.addErr) + "\n")
		}
	}
	if c.removing != nil {
		b.WriteString(st.Notice.Render(fmt.Sprintf("remove %s (%s) from your contacts? y to remove, any other key keeps them", displayName(*c.removing), c.removing.JID)) + "\n")
	}
	if c.filter.Focused() || c.filter.Value() != "" {
		b.WriteString(c.filter.View() + "\n")
	}
	items := c.items()
	if len(items) == 0 {
		if len(c.contacts) == 0 {
			b.WriteString(st.Muted.Render("  no contacts yet: press + to add one"))
		} else {
			b.WriteString(st.Muted.Render("  no contact matches the filter"))
		}
		return b.String()
	}
	// Keep the cursor in view.
	avail := max(h-strings.Count(b.String(), "\n")-1, 1)
	start := 0
	if c.cursor >= avail {
		start = c.cursor - avail + 1
	}
	for i := start; i < len(items) && i < start+avail; i++ {
		it := items[i]
		var line string
		if it.request != nil {
			line = fmt.Sprintf(" %s %s wants to see your presence  (%s)",
				st.Notice.Render("?"), it.request.String(), hint(c.env.keys.Approve, c.env.keys.Deny))
		} else {
			ct := it.contact
			mark := " "
			if c.marked[ct.UserID] {
				mark = st.Marked.Render("✓")
			}
			status := presenceText(ct.Presence)
			if ct.Pending {
				status = "awaiting approval"
			}
			line = fmt.Sprintf("%s %s %-20s %s %s", mark, c.dot(ct.Presence), displayName(*ct),
				st.Muted.Render(ct.JID.String()), st.Muted.Render(status))
		}
		if i == c.cursor {
			line = st.Selected.Render("›") + line
		} else {
			line = " " + line
		}
		b.WriteString(line + "\n")
	}
	if n := len(c.marked); n > 0 {
		b.WriteString(st.Marked.Render(fmt.Sprintf("  %d marked: enter/v video, a audio calls them together", n)))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (c *contactsModel) dot(p chat.Presence) string {
	st := c.env.styles
	switch {
	case !p.Available:
		return st.Offline.Render("○")
	case p.Show == "dnd":
		return st.Busy.Render("●")
	case p.Show == "away" || p.Show == "xa":
		return st.Away.Render("●")
	default:
		return st.Online.Render("●")
	}
}

func presenceText(p chat.Presence) string {
	var s string
	switch {
	case !p.Available:
		s = "offline"
	case p.Show == "dnd":
		s = "busy"
	case p.Show == "away":
		s = "away"
	case p.Show == "xa":
		s = "away (long)"
	default:
		s = "online"
	}
	if p.Status != "" {
		s += " — " + p.Status
	}
	return s
}

func displayName(c chat.Contact) string {
	if c.Name != "" {
		return c.Name
	}
	if l := c.JID.Localpart(); l != "" {
		return l
	}
	if c.UserID != "" {
		return string(c.UserID)
	}
	return c.JID.String()
}
