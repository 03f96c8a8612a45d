package xmppserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// encode is Prosody's datamanager name encoding: every byte that is not a letter or a
// digit becomes %xx (lower-case hex).
func encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// luaString quotes s as a Lua string literal.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// storeFile writes data/<host>/<store>/<user>.dat atomically.
func (s *Server) storeFile(store, user, content string) error {
	dir := filepath.Join(s.Dir, "data", encode(s.Domain), store)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("xmppserver: %s dir: %w", store, err)
	}
	path := filepath.Join(dir, encode(user)+".dat")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return fmt.Errorf("xmppserver: write %s: %w", store, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("xmppserver: write %s: %w", store, err)
	}
	return nil
}

// Register creates (or resets) an account; it works before and while the server runs.
func (s *Server) Register(ctx context.Context, user, password string) error {
	if user == "" || strings.ContainsAny(user, "@/ ") {
		return fmt.Errorf("xmppserver: bad user name %q", user)
	}
	return s.storeFile("accounts", strings.ToLower(user), "return {\n\t[\"password\"] = "+luaString(password)+";\n};\n")
}

// RosterItem is one contact written by SetRoster.
type RosterItem struct {
	JID          string // bare JID
	Name         string
	Subscription string // "both", "to", "from", "none"
}

// SetRoster replaces a user's roster. Use it before the user logs in (Prosody caches
// the roster of online users).
func (s *Server) SetRoster(user string, items []RosterItem) error {
	var b strings.Builder
	b.WriteString("return {\n\t[false] = { [\"version\"] = 1; };\n")
	sorted := append([]RosterItem(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].JID < sorted[j].JID })
	for _, it := range sorted {
		sub := it.Subscription
		if sub == "" {
			sub = "both"
		}
		fmt.Fprintf(&b, "\t[%s] = { [\"subscription\"] = %s; [\"groups\"] = { }; ", luaString(it.JID), luaString(sub))
		if it.Name != "" {
			fmt.Fprintf(&b, "[\"name\"] = %s; ", luaString(it.Name))
		}
		b.WriteString("};\n")
	}
	b.WriteString("};\n")
	return s.storeFile("roster", strings.ToLower(user), b.String())
}

// Befriend makes users see each other's presence (mutual "both" subscriptions), by
// writing their rosters; call it before they log in.
func (s *Server) Befriend(users ...string) error {
	for _, u := range users {
		var items []RosterItem
		for _, v := range users {
			if v != u {
				items = append(items, RosterItem{JID: v + "@" + s.Domain, Name: v, Subscription: "both"})
			}
		}
		if err := s.SetRoster(u, items); err != nil {
			return err
		}
	}
	return nil
}
