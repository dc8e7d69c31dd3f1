package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AttemptRetention is the longest an attempt counter has to be kept
// without activity. Every window the Service passes to an [AttemptStore] is
// at most this long, and a store may forget a counter whose Last is older
// than this; stores should, so that counters for keys never seen again do
// not pile up.
const AttemptRetention = 24 * time.Hour

// Attempts is the state of one attempt counter in an [AttemptStore].
type Attempts struct {
	// Count is the number of attempts counted since the counter last
	// started; 0 for no counter.
	Count int
	// Last is when the latest of them was counted: the latest now passed
	// to AddAttempt since the counter started. Kept to at least the
	// microsecond; it may come back in another location.
	Last time.Time
}

// AttemptStore keeps the attempt counters behind login throttling and
// [Limiter]s. It is an optional ability of a [UserStore], discovered by
// type assertion; every store of this module has it, keeping the counters
// in the same database as the users, so that replicas share them. Set
// Config.Attempts to keep them elsewhere. Implementations must be safe for
// concurrent use.
//
// A counter counts attempts until it is reset, and is forgotten once
// expiry has passed without an attempt. Keys are opaque: the Service
// passes 64 lower-case hex digits (an HMAC-SHA-256 keyed with the
// Service's secret, of the kind of counter and, say, the normalised
// email), so a store holds no email or address; stores compare keys byte
// for byte and may reject anything longer than 64 bytes.
//
//   - Attempts returns the counter under key as stored, or the zero
//     Attempts if there is none. It does not judge expiry; the Service
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
// expiry is positive and at most [AttemptRetention]; a store may delete
// counters whose Last is older than AttemptRetention at any time. A call
// whose ctx is already done returns an error wrapping ctx.Err() and
// changes nothing. Any other failure is returned as is; the Service wraps
// it, and refuses the attempt rather than allow it uncounted.
//
// The package storetest (store/storetest) checks all of this for stores
// that have the ability.
type AttemptStore interface {
	// Attempts returns the counter under key, or the zero Attempts.
	Attempts(ctx context.Context, key string) (Attempts, error)
	// AddAttempt counts an attempt made at now under key, restarting
	// the counter if it is older than expiry, and returns the counter.
	AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (Attempts, error)
	// ResetAttempts deletes the counter under key.
	ResetAttempts(ctx context.Context, key string) error
}

// expired reports whether a counter last counted at last is forgotten at
// now, expiry being its lifetime: the rule AttemptStore.AddAttempt
// applies, to the microsecond.
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

// throttled returns a *ThrottledError if now is before until.
func throttled(until, now time.Time) error {
	if !now.Before(until) {
		return nil
	}
	return &ThrottledError{RetryAfter: until.Sub(now)}
}

// waitUntil returns a *ThrottledError to wait until until, or at least a
// microsecond: for a counter that is current, whose window may end, by
// the truncation in expired, up to a microsecond before Last+window.
func waitUntil(until, now time.Time) error {
	return &ThrottledError{RetryAfter: max(until.Sub(now), time.Microsecond)}
}

// The kinds of counter, the first part of what attemptKey hashes. A
// Limiter's kind is limiterKind followed by its name.
const (
	clientKind    = "login-client"     // an account key and a client: attempts since the last success
	accountKind   = "login-account"    // an account key and a window: attempts from all clients
	accountOKKind = "login-account-ok" // an account key and a window: successes among them
	limiterKind   = "limit/"
)

// newAttemptKeyMAC derives the HMAC key of attempt keys from the token
// secret, so that stored keys reveal nothing (an unkeyed hash of an email
// or an IPv4 address is easily reversed) and replicas, sharing the secret,
// derive the same ones.
func newAttemptKeyMAC(secret []byte) []byte {
	return deriveKey(secret, "gatehouse attempt keys v1")
}

// attemptKey returns the AttemptStore key of the counter of the given
// kind (which contains no ':') for value.
func (s *Service) attemptKey(kind, value string) string {
	m := hmac.New(sha256.New, s.attemptKeyMAC)
	m.Write([]byte(kind))
	m.Write([]byte{':'})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// loginPolicy is the throttling of Login, from Config: per account key and
// client, a backoff and a cap (backoffAfter to clientMax); per account key,
// from all clients together, a limit per window (accountMax), which
// clients with a device token for the account do not see.
type loginPolicy struct {
	backoffAfter int // 0: no backoff
	backoff      time.Duration
	backoffMax   time.Duration
	clientMax    int // 0: no cap
	accountMax   int // 0: no limit
	window       time.Duration
}

func (p *loginPolicy) enabled() bool {
	return p.backoffAfter > 0 || p.clientMax > 0 || p.accountMax > 0
}

// check returns a *ThrottledError if a client whose current counter for
// an account key is a may not try to log in at now.
func (p *loginPolicy) check(a Attempts, now time.Time) error {
	switch {
	case p.clientMax > 0 && a.Count >= p.clientMax:
		return waitUntil(a.Last.Add(p.window), now)
	case p.backoffAfter > 0 && a.Count >= p.backoffAfter:
		return throttled(a.Last.Add(p.delay(a.Count)), now)
	}
	return nil
}

// delay returns the wait after n consecutive failures, n >= backoffAfter:
// backoff, doubled for every failure beyond backoffAfter, at most
// backoffMax.
func (p *loginPolicy) delay(n int) time.Duration {
	d := p.backoff
	for i := p.backoffAfter; i < n && d < p.backoffMax; i++ {
		d *= 2
	}
	return min(d, p.backoffMax)
}

// accountWindow returns the start of the window of the account-wide
// count that now is in. Windows are consecutive intervals of the window's
// length, from the zero time (so an hour's windows are the hours of the
// clock, in UTC).
func (p *loginPolicy) accountWindow(now time.Time) time.Time {
	return now.Truncate(p.window)
}

// loginClient returns the client of a login attempt for the normalised
// email under ctx, as its counter names it: the device of a valid device
// token for the account (trusted), otherwise the client's address from
// [WithClientIP], an IPv4 address or the /64 network of an IPv6 one, or,
// without one, the one client "unknown" that all such calls share.
func (s *Service) loginClient(ctx context.Context, email string, now time.Time) (client string, trusted bool) {
	if tok, _ := ctx.Value(deviceTokenKey{}).(string); tok != "" {
		if id, ok := s.deviceID(email, tok, now); ok {
			return "device " + id, true
		}
	}
	addr, _ := ctx.Value(clientIPKey{}).(netip.Addr)
	if !addr.IsValid() {
		return "unknown", false
	}
	if addr = addr.Unmap().WithZone(""); addr.Is6() {
		return "address " + netip.PrefixFrom(addr, 64).Masked().String(), false
	}
	return "address " + addr.String(), false
}

// loginCount is what countLogin counted for an attempt, for resetLogin to
// settle if the attempt succeeds.
type loginCount struct {
	client    string    // key of the client's counter; "" if nothing was counted
	accountOK string    // key of the account's successes in the window; "" if none is kept
	at        time.Time // when the attempt was counted
}

// countLogin decides whether a login attempt for the normalised email,
// from the client that ctx names (see loginClient), may go ahead and, if
// so, counts it, before any password is checked: resetLogin settles the
// counts of a successful one afterwards. Counting first means that
// concurrent attempts cannot all pass one check: each sees the count the
// others left. It refuses the attempt with a *ThrottledError, recorded as
// an EventThrottled for userID (which may be empty), if the client is in
// backoff or at its cap for the account, or if the account has had
// accountMax failures in the current window and the client has no device
// token for it; it returns a wrapped store error if a counter cannot be
// read or written.
func (s *Service) countLogin(ctx context.Context, email, userID string) (loginCount, error) {
	if !s.login.enabled() {
		return loginCount{}, nil
	}
	now := s.now()
	client, trusted := s.loginClient(ctx, email, now)
	c := loginCount{client: s.attemptKey(clientKind, email+"\x00"+client), at: now}
	refuse := func(err error, reason string) (loginCount, error) {
		if errors.Is(err, ErrThrottled) {
			s.record(ctx, Event{Kind: EventThrottled, UserID: userID, Email: email, Reason: reason})
		}
		return loginCount{}, err
	}

	a, err := s.attempts.Attempts(ctx, c.client)
	if err != nil {
		return refuse(fmt.Errorf("auth: reading login attempts: %w", err), "")
	}
	a = current(a, now, s.login.window)
	if err := s.login.check(a, now); err != nil {
		return refuse(err, "account backoff")
	}
	var account string
	var windowEnd time.Time
	if s.login.accountMax > 0 {
		start := s.login.accountWindow(now)
		windowEnd = start.Add(s.login.window)
		w := email + "\x00" + strconv.FormatInt(start.UnixNano(), 10)
		account, c.accountOK = s.attemptKey(accountKind, w), s.attemptKey(accountOKKind, w)
		if !trusted {
			n, err := s.attempts.Attempts(ctx, account)
			if err != nil {
				return refuse(fmt.Errorf("auth: reading login attempts: %w", err), "")
			}
			if err := s.checkAccount(ctx, current(n, now, s.login.window).Count, c.accountOK, windowEnd, now); err != nil {
				return refuse(err, "account limit")
			}
		}
	}

	b, err := s.attempts.AddAttempt(ctx, c.client, now, s.login.window)
	if err != nil {
		return refuse(fmt.Errorf("auth: counting login attempt: %w", err), "")
	}
	if prev := b.Count - 1; prev != a.Count {
		// Other attempts were counted since a was read, just now: judge
		// this one by the count they left.
		if err := s.login.check(Attempts{Count: prev, Last: b.Last}, now); err != nil {
			return refuse(err, "account backoff")
		}
	}
	if account != "" {
		n, err := s.attempts.AddAttempt(ctx, account, now, s.login.window)
		if err != nil {
			return refuse(fmt.Errorf("auth: counting login attempt: %w", err), "")
		}
		if !trusted {
			if err := s.checkAccount(ctx, n.Count-1, c.accountOK, windowEnd, now); err != nil {
				return refuse(err, "account limit")
			}
		}
	}
	return c, nil
}

// checkAccount returns a *ThrottledError, to wait until the window ends at
// end, if attempts counted for an account key in the window, less the
// successes among them (counted under okKey), reach accountMax.
func (s *Service) checkAccount(ctx context.Context, attempts int, okKey string, end, now time.Time) error {
	if attempts < s.login.accountMax {
		return nil
	}
	ok, err := s.attempts.Attempts(ctx, okKey)
	if err != nil {
		return fmt.Errorf("auth: reading login attempts: %w", err)
	}
	if attempts-current(ok, now, s.login.window).Count < s.login.accountMax {
		return nil
	}
	return waitUntil(end, now)
}

// resetLogin settles the counts of a successful login: it clears the
// client's counter for the account, and counts the success in the
// account's window, so that it is not taken for a failure there. A
// failure is ignored: it can only leave a count too high, never allow an
// attempt more.
func (s *Service) resetLogin(ctx context.Context, c loginCount) {
	if c.client != "" {
		_ = s.attempts.ResetAttempts(ctx, c.client)
	}
	if c.accountOK != "" {
		_, _ = s.attempts.AddAttempt(ctx, c.accountOK, c.at, s.login.window)
	}
}

// Limiter limits how often something may happen per key (failed logins
// per client IP, sign-ups per client IP) with counters in the Service's
// [AttemptStore], so that replicas sharing the store share the counts.
// Package httpauth makes two; other front ends (a gRPC server, say) can
// make their own with [Service.NewLimiter]. A Limiter is safe for
// concurrent use.
//
// A key is throttled once limit events have been counted for it with no
// pause of window between one and the next, and stays throttled until
// window has passed since the latest, when its counter is forgotten.
// Attempts refused with a [*ThrottledError] are not counted, and counters
// are never reset early. Keys are stored hashed, as login counters are.
type Limiter struct {
	svc    *Service
	kind   string
	limit  int
	window time.Duration

	mu       sync.Mutex
	inflight map[string]int // attempts admitted by Acquire and not yet released
}

// NewLimiter returns a Limiter that throttles a key after limit events
// with no pause of window between them (see [Limiter]), counted in the
// Service's AttemptStore under name: Limiters with the same name share
// their counters, which is how the replicas of a service share them, so
// give every kind of event its own. name must not be empty or contain
// ':'; limit must be at least 1; window must be positive and at most
// [AttemptRetention]. Errors wrap [ErrInvalidConfig].
func (s *Service) NewLimiter(name string, limit int, window time.Duration) (*Limiter, error) {
	switch {
	case name == "" || strings.Contains(name, ":"):
		return nil, fmt.Errorf("%w: limiter name %q is empty or contains ':'", ErrInvalidConfig, name)
	case limit < 1:
		return nil, fmt.Errorf("%w: limiter %s: limit %d is less than 1", ErrInvalidConfig, name, limit)
	case window <= 0 || window > AttemptRetention:
		return nil, fmt.Errorf("%w: limiter %s: window %v outside (0, %v]", ErrInvalidConfig, name, window, AttemptRetention)
	}
	return &Limiter{svc: s, kind: limiterKind + name, limit: limit, window: window, inflight: map[string]int{}}, nil
}

// Acquire admits an attempt for key whose outcome is not known yet (a
// login, of which only failures count), or returns a [*ThrottledError] if
// key is throttled. Attempts admitted by this Limiter and not yet
// released count as events while they run, so that a burst of concurrent
// attempts cannot overshoot the limit; replicas see one another's only
// once they are released, so a burst spread over n replicas at one
// instant can get up to n times the limit through. It returns a wrapped
// error if the AttemptStore fails; the caller should then refuse the
// attempt, as httpauth does (500): throttling fails closed.
//
// The caller must call release once the outcome is known, with true if the
// attempt counts as an event, and should also defer a call, in case of
// panics: calls after the first do nothing. An event is counted even if
// ctx has been cancelled meanwhile (a client that hangs up must not
// escape the count). release returns the AttemptStore's error, wrapped, if
// the event could not be counted.
func (l *Limiter) Acquire(ctx context.Context, key string) (release func(count bool) error, err error) {
	k := l.svc.attemptKey(l.kind, key)
	now := l.svc.now()
	a, err := l.svc.attempts.Attempts(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("auth: limiter %s: reading attempts: %w", l.name(), err)
	}
	a = current(a, now, l.window)
	l.mu.Lock()
	running := l.inflight[k]
	if a.Count+running >= l.limit {
		l.mu.Unlock()
		l.svc.record(ctx, Event{Kind: EventThrottled, Reason: "limit " + l.name()})
		if a.Count >= l.limit {
			return nil, l.throttled(a, now)
		}
		// Throttled by attempts still running: they end within seconds.
		return nil, &ThrottledError{RetryAfter: time.Second}
	}
	l.inflight[k] = running + 1
	l.mu.Unlock()

	var once sync.Once
	return func(count bool) (err error) {
		once.Do(func() {
			if count {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), countTimeout)
				defer cancel()
				if _, aerr := l.svc.attempts.AddAttempt(ctx, k, l.svc.now(), l.window); aerr != nil {
					err = fmt.Errorf("auth: limiter %s: counting attempt: %w", l.name(), aerr)
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

// countTimeout bounds the AttemptStore call of a Limiter's release, which
// does not end with the caller's context.
const countTimeout = 10 * time.Second

func (l *Limiter) name() string { return strings.TrimPrefix(l.kind, limiterKind) }

// throttled returns the error for a key whose current counter a has
// reached the limit: wait until a's window has passed.
func (l *Limiter) throttled(a Attempts, now time.Time) error {
	return waitUntil(a.Last.Add(l.window), now)
}
