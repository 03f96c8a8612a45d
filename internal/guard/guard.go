// Package guard bounds what a stranger can make ttycall write or hold: strings chosen
// by a remote party are clipped before they reach a log line or an event, and a
// per-sender limiter keeps a flood of bad signals (or of call offers) from becoming a
// flood of log lines, events or sessions. It is the one place for those limits.
package guard

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

// MaxString is the longest remote-chosen string written whole into a log line or an
// event (a stanza id, a session ID, a JID, an error that quotes one). UUIDs and
// ordinary JIDs fit; a 200 KB message id does not.
const MaxString = 128

// Clip returns s cut to MaxString bytes (at a UTF-8 boundary), marked with how much
// was cut.
func Clip(s string) string { return ClipN(s, MaxString) }

// ClipN is Clip with its own bound.
func ClipN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(+%d bytes)", s[:cut], len(s)-cut)
}

// ClipErr returns err with its message clipped to MaxErr bytes; errors.Is and
// errors.As still see err. nil stays nil.
func ClipErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if len(msg) <= MaxErr {
		return err
	}
	return &clippedErr{msg: ClipN(msg, MaxErr), err: err}
}

// MaxErr bounds an error message that may quote remote input (a decoder's complaint
// about a value, a refused candidate).
const MaxErr = 512

type clippedErr struct {
	msg string
	err error
}

func (e *clippedErr) Error() string { return e.msg }
func (e *clippedErr) Unwrap() error { return e.err }

// Limiter is a token bucket per key (per sender): Burst events at once, then one every
// Every. Keys beyond MaxKeys share one bucket, so a stranger who varies the key
// (resources, made-up JIDs) still cannot grow memory or escape the limit. Safe for
// concurrent use.
type Limiter struct {
	Burst   int
	Every   time.Duration
	MaxKeys int
	Now     func() time.Time // nil: time.Now (tests set it)

	mu      sync.Mutex
	buckets map[string]*bucket // guarded by mu
	shared  bucket             // guarded by mu; for keys beyond MaxKeys
}

type bucket struct {
	tokens     float64
	last       time.Time
	suppressed int // refused since the last allowed event
}

// sharedKey stands for every key past MaxKeys.
const sharedKey = "\x00shared"

// Allow takes a token for key. ok says whether the event may go ahead; when it does,
// suppressed is how many events of key were refused since its previous allowed one
// (for a "… and N more" note).
func (l *Limiter) Allow(key string) (ok bool, suppressed int) {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(key, now)
	if l.Every > 0 {
		b.tokens += float64(now.Sub(b.last)) / float64(l.Every)
	}
	if max := float64(l.Burst); b.tokens > max {
		b.tokens = max
	}
	b.last = now
	if b.tokens < 1 {
		b.suppressed++
		return false, 0
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	return true, n
}

// bucketLocked finds or makes key's bucket. Full buckets (no refusals pending) are
// forgotten first when the map is full; past that, keys share one bucket.
func (l *Limiter) bucketLocked(key string, now time.Time) *bucket {
	if l.buckets == nil {
		l.buckets = make(map[string]*bucket)
		l.shared = bucket{tokens: float64(l.Burst), last: now}
	}
	if b := l.buckets[key]; b != nil {
		return b
	}
	max := l.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	if len(l.buckets) >= max {
		for k, b := range l.buckets {
			if b.suppressed == 0 && l.Every > 0 && now.Sub(b.last) >= time.Duration(l.Burst)*l.Every {
				delete(l.buckets, k) // refilled: forgetting it changes nothing
			}
		}
	}
	if len(l.buckets) >= max {
		return &l.shared
	}
	b := &bucket{tokens: float64(l.Burst), last: now}
	l.buckets[key] = b
	return b
}

// DefaultMaxKeys bounds a Limiter's memory when MaxKeys is 0.
const DefaultMaxKeys = 1024

// NewLogLimiter limits log lines (and events) about one sender's bad input: 5 at once,
// then one every 10 s, so a flood of 1000 bad stanzas writes a handful of lines.
func NewLogLimiter() *Limiter { return &Limiter{Burst: 5, Every: 10 * time.Second} }

// NewOfferLimiter limits the new calls one sender may make: 5 at once, then one every
// 12 s (five a minute; a person redialling after a few rejects stays within it).
// Re-sends of the same call are not new calls.
func NewOfferLimiter() *Limiter { return &Limiter{Burst: 5, Every: 12 * time.Second} }
