package qbapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Hash is the HMAC of session signatures (config key quickblox.hash).
type Hash string

// The hashes the SDK knows (qbConfig.js hash).
const (
	SHA1   Hash = "sha1" // the SDK's default
	SHA256 Hash = "sha256"
)

// SessionRequest is the body of POST /session.json before it is signed: the application's
// credentials, a nonce and a timestamp, and the user's credentials when the session is a
// user session (Login or Email, with Password).
type SessionRequest struct {
	AppID     int
	AuthKey   string
	Nonce     int
	Timestamp int64 // Unix seconds
	Login     string
	Email     string
	Password  string
}

// param is one request parameter; sub names a nested one: user[login].
type param struct {
	key, sub, value string
}

// params are the request's parameters as the SDK's generateAuthMsg builds them: a user
// is added by login when there is a login, else by email, and only with a password.
func (r SessionRequest) params() []param {
	p := []param{
		{key: "application_id", value: strconv.Itoa(r.AppID)},
		{key: "auth_key", value: r.AuthKey},
		{key: "nonce", value: strconv.Itoa(r.Nonce)},
		{key: "timestamp", value: strconv.FormatInt(r.Timestamp, 10)},
	}
	switch {
	case r.Login != "" && r.Password != "":
		p = append(p, param{key: "user", sub: "login", value: r.Login}, param{key: "user", sub: "password", value: r.Password})
	case r.Email != "" && r.Password != "":
		p = append(p, param{key: "user", sub: "email", value: r.Email}, param{key: "user", sub: "password", value: r.Password})
	}
	return p
}

// SignatureString is the text that is signed: each parameter as k=v (nested ones as
// k[sub]=v, sorted and joined within their key first), sorted, joined with '&', values
// not encoded (qbAuth.js signMessage). Sorting is by UTF-16 code units, as JavaScript's.
func (r SessionRequest) SignatureString() string {
	return joinSorted(r.params(), func(s string) string { return s })
}

// Signature is the hex HMAC of SignatureString keyed with the application's auth secret.
func (r SessionRequest) Signature(secret string, h Hash) (string, error) {
	var f func() hash.Hash
	switch h {
	case SHA1, "":
		f = sha1.New
	case SHA256:
		f = sha256.New
	default:
		return "", fmt.Errorf("quickblox: hash %q: want sha1 or sha256", h)
	}
	m := hmac.New(f, []byte(secret))
	m.Write([]byte(r.SignatureString()))
	return hex.EncodeToString(m.Sum(nil)), nil
}

// Body is the form-urlencoded request body with the signature, as qbProxy.js writes it:
// keys and values encoded as encodeURIComponent does, nested keys as k[sub], sorted.
func (r SessionRequest) Body(secret string, h Hash) (string, error) {
	sig, err := r.Signature(secret, h)
	if err != nil {
		return "", err
	}
	return joinSorted(append(r.params(), param{key: "signature", value: sig}), encodeURIComponent), nil
}

// joinSorted writes each parameter as k=v with enc applied to keys and values, sorts the
// nested ones of a key among themselves and joins them, then sorts and joins everything:
// the shape of both the SDK's signMessage and its request body.
func joinSorted(ps []param, enc func(string) string) string {
	var parts []string
	nested := map[string][]string{}
	var order []string
	for _, p := range ps {
		if p.sub == "" {
			parts = append(parts, enc(p.key)+"="+enc(p.value))
			continue
		}
		if _, ok := nested[p.key]; !ok {
			order = append(order, p.key)
		}
		nested[p.key] = append(nested[p.key], enc(p.key)+"["+p.sub+"]="+enc(p.value))
	}
	for _, k := range order {
		sortJS(nested[k])
		parts = append(parts, strings.Join(nested[k], "&"))
	}
	sortJS(parts)
	return strings.Join(parts, "&")
}

// sortJS sorts as JavaScript's Array.prototype.sort does without a comparator: by
// UTF-16 code units (which differs from Go's byte order for characters beyond U+FFFF
// against U+E000..U+FFFF).
func sortJS(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return lessUTF16(s[i], s[j]) })
}

func lessUTF16(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

// encodeURIComponent is JavaScript's: UTF-8, every byte percent-encoded (upper-case hex)
// except A-Z a-z 0-9 - _ . ! ~ * ' ( ).
func encodeURIComponent(s string) string {
	const hexdigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-_.!~*'()", c) >= 0:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		}
	}
	return b.String()
}
