package throttle

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)

// testKey is a 32-byte HMAC key, the shortest NewLimiter and
// NewLoginPolicy accept.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// wantThrottled fails the test unless err is a *ThrottledError wrapping
// ErrThrottled with the given RetryAfter and Reason.
func wantThrottled(t *testing.T, err error, retryAfter time.Duration, reason, what string) {
	t.Helper()
	var te *ThrottledError
	switch {
	case !errors.As(err, &te):
		t.Fatalf("%s: err = %v; want a *ThrottledError", what, err)
	case !errors.Is(err, ErrThrottled):
		t.Errorf("%s: errors.Is(%v, ErrThrottled) = false", what, err)
	case te.RetryAfter != retryAfter || te.Reason != reason:
		t.Errorf("%s: RetryAfter %v, Reason %q; want %v, %q", what, te.RetryAfter, te.Reason, retryAfter, reason)
	}
}

// storeError is a Store failure of a type of the store's own, as a driver
// would return.
type storeError struct{ op string }

func (e *storeError) Error() string { return "fakestore: " + e.op + ": connection refused" }

// failingStore is a Store whose methods fail as told.
type failingStore struct {
	Store
	get, add, reset error
}

func (f failingStore) Attempts(ctx context.Context, key string) (Attempts, error) {
	if f.get != nil {
		return Attempts{}, f.get
	}
	return f.Store.Attempts(ctx, key)
}

func (f failingStore) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (Attempts, error) {
	if f.add != nil {
		return Attempts{}, f.add
	}
	return f.Store.AddAttempt(ctx, key, now, expiry)
}

func (f failingStore) ResetAttempts(ctx context.Context, key string) error {
	if f.reset != nil {
		return f.reset
	}
	return f.Store.ResetAttempts(ctx, key)
}
