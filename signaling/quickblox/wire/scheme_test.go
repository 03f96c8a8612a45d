package wire

import (
	"errors"
	"testing"

	"mellium.im/xmpp/jid"
)

func TestNewScheme(t *testing.T) {
	tests := []struct {
		name, account, want string
		err                 error
	}{
		{"auto", "1002-77@chat.example.org/web", SchemeQuickBlox, nil},
		{"", "1002-77@chat.example.org", SchemeQuickBlox, nil},
		{"auto", "alice@example.org", SchemeJID, nil},
		{"auto", "12-ab@example.org", SchemeJID, nil},
		{"jid", "1002-77@chat.example.org", SchemeJID, nil},
		{"quickblox", "1002-77@chat.example.org", SchemeQuickBlox, nil},
		{"quickblox", "alice@example.org", "", ErrScheme},
		{"numbers", "alice@example.org", "", ErrScheme},
	}
	for _, tc := range tests {
		sch, err := NewScheme(tc.name, jid.MustParse(tc.account))
		if !errors.Is(err, tc.err) {
			t.Errorf("NewScheme(%q, %s) err = %v, want %v", tc.name, tc.account, err, tc.err)
			continue
		}
		if err == nil && sch.Name() != tc.want {
			t.Errorf("NewScheme(%q, %s) = %s, want %s", tc.name, tc.account, sch.Name(), tc.want)
		}
	}
}

func TestQuickBloxScheme(t *testing.T) {
	sch, err := NewScheme("quickblox", jid.MustParse("1002-77@chat.example.org"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := sch.JID("1001")
	if err != nil || j.String() != "1001-77@chat.example.org" {
		t.Errorf("JID(1001) = %v, %v", j, err)
	}
	id, err := sch.UserID(jid.MustParse("1001-77@chat.example.org/web-123"))
	if err != nil || id != "1001" {
		t.Errorf("UserID(1001-77@…/web-123) = %q, %v", id, err)
	}
	for in, want := range map[string]error{
		"1001-78@chat.example.org":  ErrForeignJID,
		"1001-77@other.example.org": ErrForeignJID,
		"alice@chat.example.org":    ErrBadUserID,
		"x-77@chat.example.org":     ErrBadUserID,
	} {
		if _, err := sch.UserID(jid.MustParse(in)); !errors.Is(err, want) {
			t.Errorf("UserID(%s) err = %v, want %v", in, err, want)
		}
	}
	for in, want := range map[string]UserID{"42": "42", " 42 ": "42", "0042": "42"} {
		if got, err := sch.ParseUserID(in); err != nil || got != want {
			t.Errorf("ParseUserID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "+1", "1.0", "12abc", "1e3", "99999999999999999999999", "alice@example.org"} {
		if _, err := sch.ParseUserID(in); !errors.Is(err, ErrBadUserID) {
			t.Errorf("ParseUserID(%q) err = %v, want ErrBadUserID", in, err)
		}
		if _, err := sch.JID(UserID(in)); !errors.Is(err, ErrBadUserID) {
			t.Errorf("JID(%q) err = %v, want ErrBadUserID", in, err)
		}
	}
}

func TestJIDScheme(t *testing.T) {
	sch, err := NewScheme("jid", jid.MustParse("alice@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := sch.UserID(jid.MustParse("Bob@Example.ORG/phone"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := sch.JID(id)
	if err != nil || !j.Equal(jid.MustParse("bob@example.org")) {
		t.Errorf("JID(UserID(Bob@Example.ORG/phone)) = %v, %v", j, err)
	}
	if got, err := sch.ParseUserID("carol@example.org"); err != nil || got != "carol@example.org" {
		t.Errorf("ParseUserID(carol@example.org) = %q, %v", got, err)
	}
	for _, in := range []string{"", "example.org", "carol@example.org/res", "@@"} {
		if _, err := sch.ParseUserID(in); !errors.Is(err, ErrBadUserID) {
			t.Errorf("ParseUserID(%q) err = %v, want ErrBadUserID", in, err)
		}
	}
	if _, err := sch.UserID(jid.MustParse("example.org")); !errors.Is(err, ErrBadUserID) {
		t.Errorf("UserID(domain JID) err = %v", err)
	}
}
