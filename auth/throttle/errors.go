package throttle

import (
	"errors"
	"time"
)

// ErrThrottled is wrapped by every [*ThrottledError]: too many attempts
// were made for a key, and this one was refused without being made.
var ErrThrottled = errors.New("throttle: too many attempts")

// ThrottledError reports an attempt refused because of earlier ones, by a
// [Limiter] or a [LoginPolicy]. It wraps [ErrThrottled]; use [errors.As]
// to learn how long to wait. Its text is the same for every key and
// reason, so that it says nothing about, say, which accounts exist.
type ThrottledError struct {
	// RetryAfter is how long from now the same attempt will not be
	// refused for the same reason. It is always positive.
	RetryAfter time.Duration

	// Reason says which limit refused the attempt, for logs and audit
	// records: "limit " followed by its name for a Limiter; for a
	// LoginPolicy, "account backoff" (the client's backoff or cap for
	// the account) or "account limit" (the account-wide limit). It is
	// not part of the error's text.
	Reason string
}

// Error says that the attempt was throttled and when to retry; it does
// not hold the Reason, which is for audit records.
func (e *ThrottledError) Error() string {
	return "throttle: too many attempts; retry after " + e.RetryAfter.String()
}

// Unwrap returns [ErrThrottled].
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// throttled returns a *ThrottledError for reason if now is before until.
func throttled(until, now time.Time, reason string) error {
	if !now.Before(until) {
		return nil
	}
	return &ThrottledError{RetryAfter: until.Sub(now), Reason: reason}
}

// waitUntil returns a *ThrottledError for reason to wait until until, or
// at least a microsecond: for a counter that is current, whose window may
// end, by the truncation in expired, up to a microsecond before
// Last+window.
func waitUntil(until, now time.Time, reason string) *ThrottledError {
	return &ThrottledError{RetryAfter: max(until.Sub(now), time.Microsecond), Reason: reason}
}
