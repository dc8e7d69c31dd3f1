package throttle

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// LoginConfig configures a [LoginPolicy]: how many failed logins for an
// account key are allowed, per client and from all clients together.
// Every zero field takes the default stated beside it.
//
// The account key names the account an attempt is for, whether or not an
// account has it, so that throttling says nothing about which accounts
// exist (package auth uses the normalised email). The client names who
// makes the attempt (package auth uses a device token's device, otherwise
// the client's address, an IPv4 address or the /64 network of an IPv6
// one, otherwise one client "unknown" for all calls with neither).
type LoginConfig struct {
	// BackoffAfter is the number of consecutive failed logins for one
	// account key from one client after which every further attempt of
	// that client must wait: Backoff after the BackoffAfter-th failure,
	// twice that after the next, and so on up to BackoffMax, counted from
	// the latest failure. An attempt made too early is refused with a
	// [*ThrottledError], without being counted. A successful login from
	// the client, or Window without an attempt, clears its count; other
	// clients' counts for the account are their own. Default: 5.
	// Negative: no backoff.
	BackoffAfter int

	// Backoff is the first wait of the backoff. Default: 1 second.
	Backoff time.Duration

	// BackoffMax caps the backoff's wait. Default: 1 minute. It must be
	// at least Backoff and at most Window.
	BackoffMax time.Duration

	// MaxClientFailures is the number of consecutive failed logins for
	// one account key from one client after which every attempt of that
	// client for the account key is refused with a [*ThrottledError]
	// until Window has passed since the latest: no client gets more than
	// this many attempts checked for one account key in any Window.
	// Default: 20. Negative: no cap, which requires MaxAccountFailures to
	// be negative too.
	MaxClientFailures int

	// MaxAccountFailures is the number of failed logins for one account
	// key, from all clients together, after which every attempt for it
	// from a client that is not trusted for the account is refused with a
	// [*ThrottledError] until the current window ends. The windows are
	// consecutive intervals of Window counted from the zero time, so with
	// the default hour, the hours of the clock (UTC). Attempts of trusted
	// clients count too, but are not refused for it; successful logins
	// are counted apart and do not add to it. It must be more than
	// MaxClientFailures, so that no client can reach it on its own: with
	// the defaults, refusing an account key to untrusted clients takes
	// failures from at least 5 clients in one window, and untrusted
	// clients get at most 100 attempts checked per account key in an hour
	// of the clock. Default: 100. Negative: no limit.
	MaxAccountFailures int

	// Window is how long a client's count of failed logins for an
	// account key lasts without a new attempt, and the length of the
	// windows of MaxAccountFailures. Default: 1 hour. At most
	// [Retention].
	Window time.Duration
}

// LoginPolicy throttles logins per account key and client, and per
// account key from all clients together, as its [LoginConfig] says, with
// counters in a [Store]. It is safe for concurrent use.
type LoginPolicy struct {
	store Store
	keys  counterKeys
	rules loginRules
}

// loginRules are a LoginConfig with its defaults filled in, and 0 for
// what is off.
type loginRules struct {
	backoffAfter int // 0: no backoff
	backoff      time.Duration
	backoffMax   time.Duration
	clientMax    int // 0: no cap
	accountMax   int // 0: no limit
	window       time.Duration
}

// The kinds of a LoginPolicy's counters.
const (
	clientKind    = "login-client"     // an account key and a client: attempts since the last success
	accountKind   = "login-account"    // an account key and a window: attempts from all clients
	accountOKKind = "login-account-ok" // an account key and a window: successes among them
)

// NewLoginPolicy returns a LoginPolicy that counts attempts in store,
// under counter keys that are HMACs keyed with hmacKey (at least 32
// bytes, which replicas must share, and which should be used for nothing
// else: derive it from a secret of the service). It returns an error if
// store is nil, hmacKey is too short, a duration is negative, or cfg's
// limits and windows do not fit together (see [LoginConfig]).
func NewLoginPolicy(store Store, hmacKey []byte, cfg LoginConfig) (*LoginPolicy, error) {
	keys, err := newCounterKeys(hmacKey)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("throttle: nil Store")
	}
	rules, err := newLoginRules(cfg)
	if err != nil {
		return nil, err
	}
	return &LoginPolicy{store: store, keys: keys, rules: rules}, nil
}

// newLoginRules checks cfg and returns its rules, defaults filled in.
func newLoginRules(cfg LoginConfig) (loginRules, error) {
	p := loginRules{
		backoffAfter: cfg.BackoffAfter,
		backoff:      cfg.Backoff,
		backoffMax:   cfg.BackoffMax,
		clientMax:    cfg.MaxClientFailures,
		accountMax:   cfg.MaxAccountFailures,
		window:       cfg.Window,
	}
	if p.backoff < 0 || p.backoffMax < 0 || p.window < 0 {
		return p, errors.New("throttle: negative Backoff, BackoffMax or Window")
	}
	orDefault := func(n *int, def int) {
		switch {
		case *n == 0:
			*n = def
		case *n < 0:
			*n = 0
		}
	}
	orDefault(&p.backoffAfter, 5)
	orDefault(&p.clientMax, 20)
	orDefault(&p.accountMax, 100)
	if p.backoff == 0 {
		p.backoff = time.Second
	}
	if p.backoffMax == 0 {
		p.backoffMax = time.Minute
	}
	if p.window == 0 {
		p.window = time.Hour
	}
	switch {
	case p.window > Retention:
		return p, fmt.Errorf("throttle: Window %v is longer than Retention (%v)", p.window, Retention)
	case p.backoffAfter > 0 && p.backoffMax < p.backoff:
		return p, fmt.Errorf("throttle: BackoffMax %v is shorter than Backoff %v", p.backoffMax, p.backoff)
	case p.backoffAfter > 0 && p.backoffMax > p.window:
		return p, fmt.Errorf("throttle: BackoffMax %v is longer than Window %v", p.backoffMax, p.window)
	case p.accountMax > 0 && p.clientMax == 0:
		return p, errors.New("throttle: MaxAccountFailures needs MaxClientFailures, or one client could reach it alone")
	case p.accountMax > 0 && p.accountMax <= p.clientMax:
		return p, fmt.Errorf("throttle: MaxAccountFailures %d is not more than MaxClientFailures %d: one client could reach it alone", p.accountMax, p.clientMax)
	}
	return p, nil
}

func (p *loginRules) enabled() bool {
	return p.backoffAfter > 0 || p.clientMax > 0 || p.accountMax > 0
}

// check returns a *ThrottledError if a client whose current counter for
// an account key is a may not try to log in at now.
func (p *loginRules) check(a Attempts, now time.Time) error {
	const reason = "account backoff"
	switch {
	case p.clientMax > 0 && a.Count >= p.clientMax:
		return waitUntil(a.Last.Add(p.window), now, reason)
	case p.backoffAfter > 0 && a.Count >= p.backoffAfter:
		return throttled(a.Last.Add(p.delay(a.Count)), now, reason)
	}
	return nil
}

// delay returns the wait after n consecutive failures, n >= backoffAfter:
// backoff, doubled for every failure beyond backoffAfter, at most
// backoffMax.
func (p *loginRules) delay(n int) time.Duration {
	d := p.backoff
	for i := p.backoffAfter; i < n && d < p.backoffMax; i++ {
		d *= 2
	}
	return min(d, p.backoffMax)
}

// Count decides whether a login attempt made at now for account (an
// account key) from client may go ahead and, if so, counts it, before any
// password is checked: the caller calls succeeded, once, if the attempt
// succeeds, which clears the client's count for the account and counts
// the success in the account's window, so that it is not taken for a
// failure there (a Store failure then is ignored: it can only leave a
// count too high, never allow an attempt more). Counting first means that
// concurrent attempts cannot all pass one check: each sees the count the
// others left. trusted says that the client is known to the account's
// owner (package auth: it presents a valid device token for the account):
// the account-wide limit counts its attempts but does not refuse them.
//
// Count refuses the attempt with a [*ThrottledError], counting nothing,
// if the client is in backoff or at its cap for the account (Reason
// "account backoff"), or if the account has had MaxAccountFailures
// failures in the current window and the client is not trusted (Reason
// "account limit"). It returns a wrapped error if a counter cannot be
// read or written; the caller should then refuse the attempt: throttling
// fails closed. If every limit of the policy is off, it neither counts
// nor uses the Store.
func (p *LoginPolicy) Count(ctx context.Context, now time.Time, account, client string, trusted bool) (succeeded func(), err error) {
	if !p.rules.enabled() {
		return func() {}, nil
	}
	r := &p.rules
	clientKey := p.keys.key(clientKind, account+"\x00"+client)
	a, err := p.store.Attempts(ctx, clientKey)
	if err != nil {
		return nil, fmt.Errorf("throttle: reading login attempts: %w", err)
	}
	a = current(a, now, r.window)
	if err := r.check(a, now); err != nil {
		return nil, err
	}
	var accountKey, okKey string
	var windowEnd time.Time
	if r.accountMax > 0 {
		start := now.Truncate(r.window)
		windowEnd = start.Add(r.window)
		w := account + "\x00" + strconv.FormatInt(start.UnixNano(), 10)
		accountKey, okKey = p.keys.key(accountKind, w), p.keys.key(accountOKKind, w)
		if !trusted {
			n, err := p.store.Attempts(ctx, accountKey)
			if err != nil {
				return nil, fmt.Errorf("throttle: reading login attempts: %w", err)
			}
			if err := p.checkAccount(ctx, current(n, now, r.window).Count, okKey, windowEnd, now); err != nil {
				return nil, err
			}
		}
	}

	b, err := p.store.AddAttempt(ctx, clientKey, now, r.window)
	if err != nil {
		return nil, fmt.Errorf("throttle: counting login attempt: %w", err)
	}
	if prev := b.Count - 1; prev != a.Count {
		// Other attempts were counted since a was read, just now: judge
		// this one by the count they left.
		if err := r.check(Attempts{Count: prev, Last: b.Last}, now); err != nil {
			return nil, err
		}
	}
	if accountKey != "" {
		n, err := p.store.AddAttempt(ctx, accountKey, now, r.window)
		if err != nil {
			return nil, fmt.Errorf("throttle: counting login attempt: %w", err)
		}
		if !trusted {
			if err := p.checkAccount(ctx, n.Count-1, okKey, windowEnd, now); err != nil {
				return nil, err
			}
		}
	}
	return func() {
		_ = p.store.ResetAttempts(ctx, clientKey)
		if okKey != "" {
			_, _ = p.store.AddAttempt(ctx, okKey, now, r.window)
		}
	}, nil
}

// checkAccount returns a *ThrottledError, to wait until the window ends at
// end, if attempts counted for an account key in the window, less the
// successes among them (counted under okKey), reach accountMax.
func (p *LoginPolicy) checkAccount(ctx context.Context, attempts int, okKey string, end, now time.Time) error {
	if attempts < p.rules.accountMax {
		return nil
	}
	ok, err := p.store.Attempts(ctx, okKey)
	if err != nil {
		return fmt.Errorf("throttle: reading login attempts: %w", err)
	}
	if attempts-current(ok, now, p.rules.window).Count < p.rules.accountMax {
		return nil
	}
	return waitUntil(end, now, "account limit")
}

// Passed records that an attempt Count let through at now for account
// passed its first factor, with a second still to come (package auth: a
// right password, then a TOTP code): it counts a success in the
// account's window, as Count's succeeded does, so that the attempt is
// not taken for a failure of the account, but leaves the client's count
// as it is, so that the client's further attempts for the account (the
// codes, each counted by Count) stay throttled until one succeeds and
// clears it. A Store failure is ignored, as for succeeded.
func (p *LoginPolicy) Passed(ctx context.Context, now time.Time, account string) {
	if p.rules.accountMax <= 0 {
		return
	}
	w := account + "\x00" + strconv.FormatInt(now.Truncate(p.rules.window).UnixNano(), 10)
	_, _ = p.store.AddAttempt(ctx, p.keys.key(accountOKKind, w), now, p.rules.window)
}

// Reset forgets the counters of account (an account key) that it can
// name: those of each of clients, and the account-wide counters of the
// window that holds now (package auth calls it when an account is
// deleted, so that the address starts afresh). Counters of other
// clients for the account cannot be found without their names (they are
// HMACs) and stay until they expire, after Window without an attempt. It
// returns the first Store error, wrapped, after trying every counter.
func (p *LoginPolicy) Reset(ctx context.Context, now time.Time, account string, clients ...string) error {
	if !p.rules.enabled() {
		return nil
	}
	keys := make([]string, 0, len(clients)+2)
	for _, c := range clients {
		keys = append(keys, p.keys.key(clientKind, account+"\x00"+c))
	}
	if p.rules.accountMax > 0 {
		w := account + "\x00" + strconv.FormatInt(now.Truncate(p.rules.window).UnixNano(), 10)
		keys = append(keys, p.keys.key(accountKind, w), p.keys.key(accountOKKind, w))
	}
	var first error
	for _, k := range keys {
		if err := p.store.ResetAttempts(ctx, k); err != nil && first == nil {
			first = fmt.Errorf("throttle: resetting login attempts: %w", err)
		}
	}
	return first
}
