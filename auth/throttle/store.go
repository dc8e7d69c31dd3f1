package throttle

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"
)

// Retention is the longest a counter has to be kept without activity.
// Every expiry a [Limiter] or [LoginPolicy] passes to a [Store] is at
// most this long, and a store may forget a counter whose Last is older
// than this; stores should, so that counters for keys never seen again do
// not pile up.
const Retention = 24 * time.Hour

// Attempts is the state of one counter in a [Store].
type Attempts struct {
	// Count is the number of attempts counted since the counter last
	// started; 0 for no counter.
	Count int
	// Last is when the latest of them was counted: the latest now passed
	// to AddAttempt since the counter started. Kept to at least the
	// microsecond; it may come back in another location.
	Last time.Time
}

// Store keeps the counters of [Limiter]s and of a [LoginPolicy].
// Implementations must be safe for concurrent use. [NewMemoryStore]
// keeps them in memory; the stores of this module's store packages keep
// them in their database, so that replicas share them.
//
// A counter counts attempts until it is reset, and is forgotten once
// expiry has passed without an attempt. Keys are opaque: this package
// passes 64 lower-case hex digits (an HMAC-SHA-256, under the key given
// to [NewLimiter] or [NewLoginPolicy], of the kind of counter and, say,
// an email or address), so a store holds no email or address; stores
// compare keys byte for byte and may reject anything longer than 64
// bytes.
//
//   - Attempts returns the counter under key as stored, or the zero
//     Attempts if there is none. It does not judge expiry; the caller
//     does.
//   - AddAttempt counts one attempt, atomically: if there is no counter
//     under key, or its Last is not after now minus expiry (both
//     truncated to the microsecond), the counter restarts with Count 1;
//     otherwise Count goes up by one. Last becomes the later of Last and
//     now. It returns the counter as it left it. Of any number of
//     concurrent calls for one key each is counted exactly once.
//   - ResetAttempts deletes the counter under key; it is not an error if
//     there is none.
//
// expiry is positive and at most [Retention]; a store may delete counters
// whose Last is older than Retention at any time. A call whose ctx is
// already done returns an error wrapping ctx.Err() and changes nothing.
// Any other failure is returned as is; the caller wraps it, and refuses
// the attempt rather than allow it uncounted.
//
// The package storetest (store/storetest) checks all of this.
type Store interface {
	// Attempts returns the counter under key, or the zero Attempts.
	Attempts(ctx context.Context, key string) (Attempts, error)
	// AddAttempt counts an attempt made at now under key, restarting
	// the counter if it is older than expiry, and returns the counter.
	AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (Attempts, error)
	// ResetAttempts deletes the counter under key.
	ResetAttempts(ctx context.Context, key string) error
}

// expired reports whether a counter last counted at last is forgotten at
// now, expiry being its lifetime: the rule Store.AddAttempt applies, to
// the microsecond.
func expired(last, now time.Time, expiry time.Duration) bool {
	return !last.After(now.Add(-expiry).Truncate(time.Microsecond))
}

// current returns a as it stands at now: the zero Attempts if it is
// empty or expired.
func current(a Attempts, now time.Time, expiry time.Duration) Attempts {
	if a.Count <= 0 || expired(a.Last, now, expiry) {
		return Attempts{}
	}
	return a
}

// minKeyLen is the shortest HMAC key NewLimiter and NewLoginPolicy accept.
const minKeyLen = 32

// counterKeys names counters in a Store: the HMAC-SHA-256, under its key,
// of a kind of counter and a value.
type counterKeys []byte

// newCounterKeys checks an HMAC key and copies it.
func newCounterKeys(key []byte) (counterKeys, error) {
	if len(key) < minKeyLen {
		return nil, fmt.Errorf("throttle: HMAC key is %d bytes; at least %d are required", len(key), minKeyLen)
	}
	return counterKeys(append([]byte(nil), key...)), nil
}

// key returns the Store key of the counter of the given kind (which
// contains no ':') for value: 64 lower-case hex digits.
func (k counterKeys) key(kind, value string) string {
	m := hmac.New(sha256.New, k)
	m.Write([]byte(kind))
	m.Write([]byte{':'})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
