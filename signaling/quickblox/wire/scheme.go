package wire

import (
	"fmt"
	"strconv"
	"strings"

	"mellium.im/xmpp/jid"
)

// Scheme names accepted by NewScheme.
const (
	SchemeAuto      = "auto"
	SchemeJID       = "jid"
	SchemeQuickBlox = "quickblox"
)

// NewScheme picks the ID scheme for an account: name is "auto", "jid" or "quickblox";
// "auto" means quickblox when the account's localpart is "{digits}-{digits}" (the form
// QuickBlox gives its users' JIDs), jid otherwise. "" is taken as "auto" so a config
// without id_scheme works.
func NewScheme(name string, account jid.JID) (Scheme, error) {
	switch name {
	case SchemeAuto, "":
		if qb, ok := quickbloxFor(account); ok {
			return qb, nil
		}
		return jidScheme{}, nil
	case SchemeJID:
		return jidScheme{}, nil
	case SchemeQuickBlox:
		qb, ok := quickbloxFor(account)
		if !ok {
			return nil, fmt.Errorf("%w: quickblox needs an account JID of the form {userID}-{appID}@host, not %q",
				ErrScheme, account.Bare().String())
		}
		return qb, nil
	default:
		return nil, fmt.Errorf("%w: %q (want auto, jid or quickblox)", ErrScheme, name)
	}
}

// quickbloxFor returns the quickblox scheme of account when its localpart is
// "{digits}-{digits}".
func quickbloxFor(account jid.JID) (quickblox, bool) {
	_, app, ok := splitQuickBlox(account.Localpart())
	if !ok || account.Domainpart() == "" {
		return quickblox{}, false
	}
	return quickblox{appID: app, host: account.Domainpart()}, true
}

// splitQuickBlox splits a "{userID}-{appID}" localpart; both halves are canonical
// decimal numbers.
func splitQuickBlox(local string) (user, app string, ok bool) {
	u, a, found := strings.Cut(local, "-")
	if !found {
		return "", "", false
	}
	u, okU := canonicalNumber(u)
	a, okA := canonicalNumber(a)
	return u, a, okU && okA
}

// canonicalNumber accepts only ASCII digits (no sign, no spaces: the SDK's parseInt
// would read "12abc" as 12, which we refuse rather than guess) and returns the number
// without leading zeros. Zero is not a user.
func canonicalNumber(s string) (string, bool) {
	if s == "" || len(s) > 20 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return "", false
	}
	return strconv.FormatUint(n, 10), true
}

// quickblox is the scheme of QuickBlox users: IDs are decimal numbers and the JID of
// user N is "N-{appID}@{host}", with the account's own appID and host.
type quickblox struct {
	appID string
	host  string
}

func (quickblox) Name() string { return SchemeQuickBlox }

func (q quickblox) UserID(j jid.JID) (UserID, error) {
	user, app, ok := splitQuickBlox(j.Localpart())
	if !ok {
		return "", fmt.Errorf("%w: %q is not a {userID}-{appID} JID", ErrBadUserID, j.Bare().String())
	}
	if app != q.appID || !strings.EqualFold(j.Domainpart(), q.host) {
		return "", fmt.Errorf("%w: %q is not of application %s at %s", ErrForeignJID, j.Bare().String(), q.appID, q.host)
	}
	return UserID(user), nil
}

func (q quickblox) JID(id UserID) (jid.JID, error) {
	n, err := q.ParseUserID(string(id))
	if err != nil {
		return jid.JID{}, err
	}
	j, err := jid.New(string(n)+"-"+q.appID, q.host, "")
	if err != nil {
		return jid.JID{}, fmt.Errorf("%w: JID of user %s: %v", ErrBadUserID, n, err)
	}
	return j, nil
}

func (quickblox) ParseUserID(text string) (UserID, error) {
	n, ok := canonicalNumber(strings.TrimSpace(text))
	if !ok {
		return "", fmt.Errorf("%w: %q is not a positive decimal QuickBlox user ID", ErrBadUserID, clip(text))
	}
	return UserID(n), nil
}

// jidScheme is the scheme of plain XMPP accounts: a user ID is the bare JID.
type jidScheme struct{}

func (jidScheme) Name() string { return SchemeJID }

func (jidScheme) UserID(j jid.JID) (UserID, error) {
	if j.Localpart() == "" {
		return "", fmt.Errorf("%w: %q has no localpart", ErrBadUserID, j.String())
	}
	return UserID(j.Bare().String()), nil
}

func (s jidScheme) JID(id UserID) (jid.JID, error) {
	if _, err := s.ParseUserID(string(id)); err != nil {
		return jid.JID{}, err
	}
	j, _ := jid.Parse(strings.TrimSpace(string(id)))
	return j.Bare(), nil
}

// ParseUserID accepts a bare JID with a localpart and returns it normalised (the jid
// package applies the PRECIS profiles), so equal users compare equal as strings.
func (jidScheme) ParseUserID(text string) (UserID, error) {
	j, err := jid.Parse(strings.TrimSpace(text))
	if err != nil {
		return "", fmt.Errorf("%w: %q is not a JID: %v", ErrBadUserID, clip(text), err)
	}
	if j.Localpart() == "" || j.Resourcepart() != "" {
		return "", fmt.Errorf("%w: %q is not a bare user JID", ErrBadUserID, clip(text))
	}
	return UserID(j.String()), nil
}

// clip shortens hostile input before it goes into an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
