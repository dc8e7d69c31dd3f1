package throttle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// LimiterConfig configures a [Limiter]. Name, Limit and Window are
// required; every other zero field takes the default stated beside it.
type LimiterConfig struct {
	// Name names the Limiter's counters in the Store: Limiters with the
	// same name, Store and HMAC key share their counters, which is how
	// the replicas of a service share them, so give every kind of event
	// its own. It must not be empty or contain ':'.
	Name string

	// Limit is the number of events after which a key is throttled. At
	// least 1.
	Limit int

	// Window is the pause between two events that forgets the earlier
	// ones, and how long a key stays throttled after its latest event.
	// Positive and at most [Retention].
	Window time.Duration

	// Now returns the current time. Default: time.Now.
	Now func() time.Time

	// OnThrottled, if set, is called with every attempt the Limiter
	// refuses with a *ThrottledError, synchronously, in the goroutine of
	// Acquire, with Acquire's ctx: keep it fast, and safe for concurrent
	// use. Default: nil.
	OnThrottled func(ctx context.Context, err *ThrottledError)
}

// Limiter limits how often something may happen per key (failed logins
// per client address, sign-ups per client address) with counters in a
// [Store], so that replicas sharing the store share the counts. A Limiter
// is safe for concurrent use.
//
// A key is throttled once Limit events have been counted for it with no
// pause of Window between one and the next, and stays throttled until
// Window has passed since the latest, when its counter is forgotten.
// Attempts refused with a [*ThrottledError] are not counted, and counters
// are reset early only by [Limiter.Reset]. Keys are stored hashed (see [Store]).
type Limiter struct {
	store       Store
	keys        counterKeys
	kind        string // limiterKind + name
	limit       int
	window      time.Duration
	now         func() time.Time
	onThrottled func(context.Context, *ThrottledError)

	mu       sync.Mutex
	inflight map[string]int // attempts admitted by Acquire and not yet released
}

// limiterKind, followed by its name, is the kind of a Limiter's counters.
const limiterKind = "limit/"

// NewLimiter returns a Limiter that counts events in store, under counter
// keys that are HMACs keyed with hmacKey (at least 32 bytes, which
// replicas must share, and which should be used for nothing else: derive
// it from a secret of the service). It returns an error if store is nil,
// hmacKey is too short or cfg is not acceptable (see [LimiterConfig]).
func NewLimiter(store Store, hmacKey []byte, cfg LimiterConfig) (*Limiter, error) {
	keys, err := newCounterKeys(hmacKey)
	switch {
	case err != nil:
		return nil, err
	case store == nil:
		return nil, errors.New("throttle: nil Store")
	case cfg.Name == "" || strings.Contains(cfg.Name, ":"):
		return nil, fmt.Errorf("throttle: limiter name %q is empty or contains ':'", cfg.Name)
	case cfg.Limit < 1:
		return nil, fmt.Errorf("throttle: limiter %s: limit %d is less than 1", cfg.Name, cfg.Limit)
	case cfg.Window <= 0 || cfg.Window > Retention:
		return nil, fmt.Errorf("throttle: limiter %s: window %v outside (0, %v]", cfg.Name, cfg.Window, Retention)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{
		store:       store,
		keys:        keys,
		kind:        limiterKind + cfg.Name,
		limit:       cfg.Limit,
		window:      cfg.Window,
		now:         cfg.Now,
		onThrottled: cfg.OnThrottled,
		inflight:    map[string]int{},
	}, nil
}

// Acquire admits an attempt for key whose outcome is not known yet (a
// login, of which only failures count), or returns a [*ThrottledError] if
// key is throttled. Attempts admitted by this Limiter and not yet
// released count as events while they run, so that a burst of concurrent
// attempts cannot overshoot the limit; replicas see one another's only
// once they are released, so a burst spread over n replicas at one
// instant can get up to n times the limit through. It returns a wrapped
// error if the Store fails; the caller should then refuse the attempt:
// throttling fails closed.
//
// The caller must call release once the outcome is known, with true if the
// attempt counts as an event, and should also defer a call, in case of
// panics: calls after the first do nothing. An event is counted even if
// ctx has been cancelled meanwhile (a client that hangs up must not
// escape the count). release returns the Store's error, wrapped, if
// the event could not be counted.
func (l *Limiter) Acquire(ctx context.Context, key string) (release func(count bool) error, err error) {
	k := l.keys.key(l.kind, key)
	now := l.now()
	a, err := l.store.Attempts(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("throttle: limiter %s: reading attempts: %w", l.name(), err)
	}
	a = current(a, now, l.window)
	l.mu.Lock()
	running := l.inflight[k]
	if a.Count+running >= l.limit {
		l.mu.Unlock()
		te := &ThrottledError{RetryAfter: time.Second, Reason: "limit " + l.name()} // throttled by attempts still running: they end within seconds
		if a.Count >= l.limit {
			te = waitUntil(a.Last.Add(l.window), now, te.Reason)
		}
		if l.onThrottled != nil {
			l.onThrottled(ctx, te)
		}
		return nil, te
	}
	l.inflight[k] = running + 1
	l.mu.Unlock()

	var once sync.Once
	return func(count bool) (err error) {
		once.Do(func() {
			if count {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), countTimeout)
				defer cancel()
				if _, aerr := l.store.AddAttempt(ctx, k, l.now(), l.window); aerr != nil {
					err = fmt.Errorf("throttle: limiter %s: counting attempt: %w", l.name(), aerr)
				}
			}
			l.mu.Lock()
			if l.inflight[k]--; l.inflight[k] <= 0 {
				delete(l.inflight, k)
			}
			l.mu.Unlock()
		})
		return err
	}, nil
}

// countTimeout bounds the Store call of a Limiter's release, which does
// not end with the caller's context.
const countTimeout = 10 * time.Second

func (l *Limiter) name() string { return strings.TrimPrefix(l.kind, limiterKind) }

// Reset forgets the counter of key, as if no event had been counted for
// it (package auth calls it when an account is deleted). It returns the
// Store's error, wrapped.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.store.ResetAttempts(ctx, l.keys.key(l.kind, key)); err != nil {
		return fmt.Errorf("throttle: limiter %s: resetting: %w", l.name(), err)
	}
	return nil
}
