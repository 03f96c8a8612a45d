package qbapi

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; every error of this package wraps one of them (check with errors.Is).
var (
	// ErrAuth: QuickBlox refused the credentials (wrong auth key or secret, wrong login,
	// email or password, unknown application). Retrying does not help: fix the config.
	ErrAuth = errors.New("quickblox: sign-in refused")
	// ErrExpired: the session token is no longer valid; a new session is needed.
	ErrExpired = errors.New("quickblox: session expired")
	// ErrRateLimited: too many requests; retry later.
	ErrRateLimited = errors.New("quickblox: too many requests")
	// ErrUnavailable: the API endpoint could not be reached or failed (network error,
	// HTTP 5xx); retry later.
	ErrUnavailable = errors.New("quickblox: API unreachable")
	// ErrNotFound: no such user.
	ErrNotFound = errors.New("quickblox: not found")
	// ErrProtocol: the answer was not what the API documents.
	ErrProtocol = errors.New("quickblox: unexpected response")
	// ErrConfig: the Client or Account was given unusable settings.
	ErrConfig = errors.New("quickblox: bad settings")
)

// Temporary reports whether err may go away by itself (network, server, rate limit), so
// that retrying with backoff makes sense; wrong credentials are not temporary.
func Temporary(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRateLimited)
}

// APIError is an error answer of the API, turned into a sentence that names what to fix.
type APIError struct {
	Op       string   // "create session", "users by login", ...
	Status   int      // HTTP status
	Messages []string // the API's own error texts, flattened ("base: Unexpected signature")
	Hint     string   // what to do about it
	Kind     error    // one of the sentinels
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", strings.TrimPrefix(e.Kind.Error(), "quickblox: "), e.Op)
	if e.Hint != "" {
		b.WriteString(": " + e.Hint)
	}
	if len(e.Messages) > 0 {
		fmt.Fprintf(&b, " (HTTP %d: %s)", e.Status, strings.Join(e.Messages, "; "))
	} else {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	return "quickblox: " + b.String()
}

func (e *APIError) Unwrap() error { return e.Kind }

// classify turns an error answer into an *APIError. The texts are the API's own (seen in
// the SDKs' issue trackers: "Unexpected signature", "Unauthorized", "Token is required",
// "Required session does not exist", ...); the status decides when the text is unknown.
func classify(op string, status int, msgs []string) *APIError {
	e := &APIError{Op: op, Status: status, Messages: msgs}
	text := strings.ToLower(strings.Join(msgs, " "))
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(text, w) {
				return true
			}
		}
		return false
	}
	session := op == opCreateSession
	switch {
	case status == 429 || has("too many requests", "rate limit"):
		e.Kind, e.Hint = ErrRateLimited, "QuickBlox limits how often an application may call it; wait and try again"
	case status >= 500:
		e.Kind, e.Hint = ErrUnavailable, "the QuickBlox API failed; it is retried"
	case session && has("signature"):
		e.Kind, e.Hint = ErrAuth, "the signature was refused: check quickblox.auth_secret (and quickblox.auth_key, quickblox.hash)"
	case session && has("timestamp", "nonce"):
		e.Kind, e.Hint = ErrAuth, "the request's timestamp was refused: check this computer's clock"
	case session && has("application", "app not found", "auth_key", "auth key"):
		e.Kind, e.Hint = ErrAuth, "unknown application or auth key: check quickblox.app_id and quickblox.auth_key"
	case session && (status == 401 || has("unauthorized", "login", "password", "email")):
		e.Kind, e.Hint = ErrAuth, "wrong user name or password: check quickblox.login (or quickblox.email) and quickblox.password"
	case session && status == 404:
		e.Kind, e.Hint = ErrAuth, "no such endpoint: check quickblox.api_endpoint"
	case op == opAccountSettings && (status == 401 || status == 403 || status == 404 || status == 422):
		e.Kind, e.Hint = ErrAuth, "account settings refused: check quickblox.account_key"
	case status == 401 || has("token is required", "session does not exist", "token has expired", "token expired"):
		e.Kind, e.Hint = ErrExpired, "the session token is no longer valid; a new session is made"
	case status == 404:
		e.Kind, e.Hint = ErrNotFound, "no such user in this application"
	case status == 403:
		e.Kind, e.Hint = ErrAuth, "this user may not do that in this application (check its permissions in the QuickBlox dashboard)"
	default:
		e.Kind = ErrProtocol
	}
	return e
}
