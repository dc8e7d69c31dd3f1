package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const throttlePassword = "correct horse battery staple"

var t0 = time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)

// throttleService returns a Service on a fakeStore (which has no
// AttemptStore ability, so the counters are in memory) holding the user
// ada@example.com, with a settable clock and, unless cfg has a Logger, no
// audit log.
func throttleService(t *testing.T, cfg Config) (*Service, *clock, *fakeStore) {
	t.Helper()
	clk := newClock(t0)
	cfg.Now = clk.Now
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	store := newFakeStore()
	s := newTestService(t, store, cfg)
	if _, err := s.Signup(context.Background(), NewUser{Name: "Ada", Email: "ada@example.com", Password: throttlePassword}); err != nil {
		t.Fatal(err)
	}
	return s, clk, store
}

// wantThrottled fails the test unless err is a *ThrottledError wrapping
// ErrThrottled with the given RetryAfter.
func wantThrottled(t *testing.T, err error, retryAfter time.Duration, what string) {
	t.Helper()
	var te *ThrottledError
	switch {
	case !errors.As(err, &te):
		t.Fatalf("%s: err = %v; want a *ThrottledError", what, err)
	case !errors.Is(err, ErrThrottled):
		t.Errorf("%s: errors.Is(%v, ErrThrottled) = false", what, err)
	case te.RetryAfter != retryAfter:
		t.Errorf("%s: RetryAfter = %v; want %v", what, te.RetryAfter, retryAfter)
	}
}

func wantInvalid(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("%s: err = %v; want ErrInvalidCredentials", what, err)
	}
}

func TestThrottleDefaults(t *testing.T) {
	s := newTestService(t, newFakeStore(), Config{})
	want := loginPolicy{backoffAfter: 5, backoff: time.Second, backoffMax: time.Minute, clientMax: 20, accountMax: 100, window: time.Hour}
	if s.login != want {
		t.Errorf("login policy = %+v; want %+v", s.login, want)
	}
	if _, ok := s.attempts.(*memoryAttempts); !ok {
		t.Errorf("Attempts for a store without the ability = %T; want the in-memory store", s.attempts)
	}
	if m := s.attempts.(*memoryAttempts); m.max != DefaultMemoryAttemptKeys {
		t.Errorf("in-memory store holds %d keys; want %d", m.max, DefaultMemoryAttemptKeys)
	}

	withAbility := &attemptFakeStore{fakeStore: newFakeStore(), AttemptStore: NewMemoryAttemptStore(10)}
	if s := newTestService(t, withAbility, Config{}); s.attempts != AttemptStore(withAbility) {
		t.Errorf("Attempts for a store with the ability = %T; want the store itself", s.attempts)
	}
	own := NewMemoryAttemptStore(10)
	if s := newTestService(t, withAbility, Config{Attempts: own}); s.attempts != own {
		t.Errorf("Attempts = %T; want Config.Attempts", s.attempts)
	}
	off := newTestService(t, newFakeStore(), Config{LoginBackoffAfter: -1, MaxClientLoginFailures: -1, MaxAccountLoginFailures: -1})
	if off.login.enabled() {
		t.Errorf("negative LoginBackoffAfter, MaxClientLoginFailures and MaxAccountLoginFailures: policy %+v is enabled", off.login)
	}
}

// attemptFakeStore is a fakeStore with the AttemptStore ability.
type attemptFakeStore struct {
	*fakeStore
	AttemptStore
}

func TestThrottleConfigRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative LoginBackoff", Config{LoginBackoff: -time.Second}},
		{"negative LoginBackoffMax", Config{LoginBackoffMax: -time.Second}},
		{"negative LoginFailureWindow", Config{LoginFailureWindow: -time.Second}},
		{"window over AttemptRetention", Config{LoginFailureWindow: AttemptRetention + time.Second}},
		{"LoginBackoffMax below LoginBackoff", Config{LoginBackoff: time.Minute, LoginBackoffMax: time.Second}},
		{"LoginBackoffMax above the window", Config{LoginBackoffMax: 2 * time.Hour}},
		{"account limit equal to the client cap", Config{MaxClientLoginFailures: 10, MaxAccountLoginFailures: 10}},
		{"account limit below the client cap", Config{MaxClientLoginFailures: 100}},
		{"account limit without a client cap", Config{MaxClientLoginFailures: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Secret = testSecret
			if s, err := New(newFakeStore(), tt.cfg); s != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New = %v, %v; want an error wrapping ErrInvalidConfig", s, err)
			}
		})
	}
	// Without backoff, its fields do not matter.
	if _, err := New(newFakeStore(), Config{Secret: testSecret, LoginBackoffAfter: -1, LoginBackoffMax: 2 * time.Hour}); err != nil {
		t.Errorf("New with backoff off and a long LoginBackoffMax: %v", err)
	}
	if _, err := New(newFakeStore(), Config{Secret: testSecret, LoginFailureWindow: AttemptRetention}); err != nil {
		t.Errorf("New with LoginFailureWindow = AttemptRetention: %v", err)
	}
	// Without an account limit, the client cap may be anything.
	if _, err := New(newFakeStore(), Config{Secret: testSecret, MaxClientLoginFailures: -1, MaxAccountLoginFailures: -1}); err != nil {
		t.Errorf("New with both caps off: %v", err)
	}
	if _, err := New(newFakeStore(), Config{Secret: testSecret, MaxClientLoginFailures: 500, MaxAccountLoginFailures: -1}); err != nil {
		t.Errorf("New with a client cap and no account limit: %v", err)
	}

	s := newTestService(t, newFakeStore(), Config{})
	for _, bad := range []struct {
		name   string
		limit  int
		window time.Duration
	}{
		{"", 1, time.Minute},
		{"a:b", 1, time.Minute},
		{"x", 0, time.Minute},
		{"x", 1, 0},
		{"x", 1, AttemptRetention + 1},
	} {
		if l, err := s.NewLimiter(bad.name, bad.limit, bad.window); l != nil || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewLimiter(%q, %d, %v) = %v, %v; want an error wrapping ErrInvalidConfig", bad.name, bad.limit, bad.window, l, err)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	p := loginPolicy{backoffAfter: 5, backoff: time.Second, backoffMax: time.Minute, clientMax: 100, window: time.Hour}
	for n, want := range map[int]time.Duration{
		5: time.Second, 6: 2 * time.Second, 7: 4 * time.Second, 8: 8 * time.Second, 9: 16 * time.Second,
		10: 32 * time.Second, 11: time.Minute, 12: time.Minute, 99: time.Minute, 1 << 30: time.Minute,
	} {
		if got := p.delay(n); got != want {
			t.Errorf("delay(%d) = %v; want %v", n, got, want)
		}
	}
	for _, tt := range []struct {
		a     Attempts
		retry time.Duration // 0: allowed
	}{
		{Attempts{}, 0},
		{Attempts{Count: 4, Last: t0}, 0},
		{Attempts{Count: 5, Last: t0}, time.Second},
		{Attempts{Count: 5, Last: t0.Add(-time.Second)}, 0},
		{Attempts{Count: 7, Last: t0.Add(-time.Second)}, 3 * time.Second},
		{Attempts{Count: 100, Last: t0.Add(-time.Minute)}, 59 * time.Minute},
		{Attempts{Count: 100, Last: t0.Add(-time.Hour + time.Microsecond)}, time.Microsecond},
	} {
		err := p.check(tt.a, t0)
		if tt.retry == 0 {
			if err != nil {
				t.Errorf("check(%+v) = %v; want nil", tt.a, err)
			}
			continue
		}
		wantThrottled(t, err, tt.retry, fmt.Sprintf("check(%+v)", tt.a))
	}
}

// TestLoginBackoff walks an account through the backoff with the
// default policy: five failures, then waits of 1 s and 2 s; a correct
// password is refused during a wait and accepted after it, and clears the
// count.
func TestLoginBackoff(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := throttleService(t, Config{})
	for i := 1; i <= 5; i++ {
		_, err := s.Login(ctx, "ada@example.com", "wrong password")
		wantInvalid(t, err, fmt.Sprintf("failure #%d", i))
	}
	_, err := s.Login(ctx, "ada@example.com", throttlePassword)
	wantThrottled(t, err, time.Second, "correct password right after 5 failures")
	clk.Add(999 * time.Millisecond)
	_, err = s.Login(ctx, "ADA@example.com", "wrong password")
	wantThrottled(t, err, time.Millisecond, "another spelling of the email, 1 ms before the wait ends")
	clk.Add(time.Millisecond)
	_, err = s.Login(ctx, "ada@example.com", "wrong password")
	wantInvalid(t, err, "failure #6, once the wait is over")
	_, err = s.Login(ctx, "ada@example.com", throttlePassword)
	wantThrottled(t, err, 2*time.Second, "right after failure #6")
	clk.Add(2 * time.Second)
	if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
		t.Fatalf("correct password after the wait: %v", err)
	}
	// The success cleared the count: five more failures before a wait.
	for i := 1; i <= 5; i++ {
		_, err := s.Login(ctx, "ada@example.com", "wrong password")
		wantInvalid(t, err, fmt.Sprintf("failure #%d after a success", i))
	}
	_, err = s.Login(ctx, "ada@example.com", "wrong password")
	wantThrottled(t, err, time.Second, "the 6th attempt after a success")
	// LoginFailureWindow of quiet forgets the count too.
	clk.Add(time.Hour)
	if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
		t.Fatalf("correct password an hour later: %v", err)
	}
}

// TestLoginThrottleUnknownEmail checks that an account key is throttled
// the same whether or not an account has the email: same errors, same
// texts, same waits.
func TestLoginThrottleUnknownEmail(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := throttleService(t, Config{LoginBackoffAfter: 2})
	steps := []time.Duration{0, 0, 0, time.Second, 0, 2 * time.Second, 0}
	for i, d := range steps {
		clk.Add(d)
		_, errKnown := s.Login(ctx, "ada@example.com", "wrong password")
		_, errUnknown := s.Login(ctx, "nobody@example.com", "wrong password")
		if errKnown == nil || errUnknown == nil || errKnown.Error() != errUnknown.Error() ||
			errors.Is(errKnown, ErrThrottled) != errors.Is(errUnknown, ErrThrottled) {
			t.Errorf("step %d: existing account: %v; unknown email: %v; want the same", i, errKnown, errUnknown)
		}
	}
}

// TestLoginThrottledDoesNoWork checks that a throttled attempt neither
// looks the email up nor hashes: it gets ErrThrottled even with every
// hashing slot taken.
func TestLoginThrottledDoesNoWork(t *testing.T) {
	ctx := context.Background()
	g := &gateRand{}
	rnd := &countingReader{r: g}
	s, _, store := throttleService(t, Config{LoginBackoffAfter: 1, MaxConcurrentHashes: 1, HashWait: time.Millisecond, Rand: rnd})
	lookups := &countingStore{UserStore: store}
	s.store = lookups
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		_, err := s.Login(ctx, email, "wrong password")
		wantInvalid(t, err, email+": first failure")
	}
	occupySlot(t, s, g) // every slot taken: hashing now would be ErrBusy
	before, n := rnd.n.Load(), lookups.n.Load()
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		_, err := s.Login(ctx, email, throttlePassword)
		wantThrottled(t, err, time.Second, email+": right after a failure")
	}
	if got := rnd.n.Load() - before; got != 0 {
		t.Errorf("throttled logins read %d random bytes (a dummy hash's salt); want 0", got)
	}
	if got := lookups.n.Load() - n; got != 0 {
		t.Errorf("throttled logins looked %d emails up; want 0", got)
	}
}

// countingStore counts UserByEmail calls.
type countingStore struct {
	UserStore
	n atomic.Int64
}

func (s *countingStore) UserByEmail(ctx context.Context, email string) (User, error) {
	s.n.Add(1)
	return s.UserStore.UserByEmail(ctx, email)
}

// TestLoginConcurrentAttempts fires 20 wrong passwords for one account at
// one instant, all of which read the counter before any counts: still
// only LoginBackoffAfter of them are checked, because each is counted
// before its password is, and judged by the count it finds then.
func TestLoginConcurrentAttempts(t *testing.T) {
	const n = 20
	barrier := &barrierAttempts{AttemptStore: NewMemoryAttemptStore(0), wait: make(chan struct{})}
	barrier.left.Store(n)
	s, _, _ := throttleService(t, Config{HashWait: time.Minute, Attempts: barrier})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.Login(context.Background(), "ada@example.com", "wrong password")
		})
	}
	wg.Wait()
	invalid, throttled := 0, 0
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrInvalidCredentials):
			invalid++
		case errors.Is(err, ErrThrottled):
			throttled++
		default:
			t.Errorf("concurrent login: %v", err)
		}
	}
	if invalid != 5 || throttled != n-5 {
		t.Errorf("%d concurrent wrong passwords: %d checked, %d throttled; want 5 and %d", n, invalid, throttled, n-5)
	}
}

// barrierAttempts holds every Attempts call until left of them have been
// made, so that they all read the counter before any AddAttempt.
type barrierAttempts struct {
	AttemptStore
	left atomic.Int64
	wait chan struct{}
}

func (b *barrierAttempts) Attempts(ctx context.Context, key string) (Attempts, error) {
	a, err := b.AttemptStore.Attempts(ctx, key)
	if b.left.Add(-1) == 0 {
		close(b.wait)
	}
	<-b.wait
	return a, err
}

// TestLoginHourlyCap plays an attacker who tries one account from one
// client every 100 ms for three hours, with the default policy and with
// backoff off: at most MaxClientLoginFailures passwords are checked in any
// hour. It calls the counting step alone, without hashing.
func TestLoginHourlyCap(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cfg     Config
		maxHour int
	}{
		{"defaults", Config{}, 20},
		{"no backoff", Config{LoginBackoffAfter: -1}, 20},
		{"no backoff, cap 10", Config{LoginBackoffAfter: -1, MaxClientLoginFailures: 10}, 10},
		{"cap 100, no account limit", Config{MaxClientLoginFailures: 100, MaxAccountLoginFailures: -1}, 70},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, clk, _ := throttleService(t, tt.cfg)
			var admitted []time.Time
			for range 3 * 36000 {
				clk.Add(100 * time.Millisecond)
				switch _, err := s.countLogin(context.Background(), "victim@example.com", ""); {
				case err == nil:
					admitted = append(admitted, clk.Now())
				case !errors.Is(err, ErrThrottled):
					t.Fatal(err)
				}
			}
			most := 0
			for i, at := range admitted { // the hour starting at each admitted attempt
				j := i
				for j < len(admitted) && admitted[j].Sub(at) < time.Hour {
					j++
				}
				most = max(most, j-i)
			}
			t.Logf("busiest hour: %d passwords checked", most)
			if most > tt.maxHour {
				t.Errorf("%d passwords checked in one hour; want at most %d", most, tt.maxHour)
			}
			if most < tt.maxHour/2 {
				t.Errorf("only %d passwords checked in the busiest hour; the policy is stricter than configured (want about %d)", most, tt.maxHour)
			}
		})
	}
}

// failingAttempts is an AttemptStore whose methods fail as told.
type failingAttempts struct {
	AttemptStore
	get, add, reset error
}

func (f failingAttempts) Attempts(ctx context.Context, key string) (Attempts, error) {
	if f.get != nil {
		return Attempts{}, f.get
	}
	return f.AttemptStore.Attempts(ctx, key)
}

func (f failingAttempts) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (Attempts, error) {
	if f.add != nil {
		return Attempts{}, f.add
	}
	return f.AttemptStore.AddAttempt(ctx, key, now, expiry)
}

func (f failingAttempts) ResetAttempts(ctx context.Context, key string) error {
	if f.reset != nil {
		return f.reset
	}
	return f.AttemptStore.ResetAttempts(ctx, key)
}

// TestLoginAttemptStoreFails checks that throttling fails closed: if the
// counter cannot be read or written, Login fails with that error and
// checks no password; a failed reset after a success is harmless.
func TestLoginAttemptStoreFails(t *testing.T) {
	ctx := context.Background()
	down := &storeError{"attempts"}
	for name, f := range map[string]failingAttempts{
		"read":  {get: down},
		"write": {add: down},
	} {
		t.Run(name, func(t *testing.T) {
			f.AttemptStore = NewMemoryAttemptStore(0)
			rnd := &countingReader{r: rand.Reader}
			s, _, _ := throttleService(t, Config{Attempts: f, Rand: rnd})
			before := rnd.n.Load()
			for _, email := range []string{"ada@example.com", "nobody@example.com"} {
				_, err := s.Login(ctx, email, throttlePassword)
				if !errors.Is(err, down) || errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrThrottled) {
					t.Errorf("Login(%s) with the attempt store down = %v; want its error, wrapped", email, err)
				}
			}
			if n := rnd.n.Load() - before; n != 0 {
				t.Errorf("Login hashed (read %d random bytes) with the attempt store down", n)
			}
		})
	}
	t.Run("reset", func(t *testing.T) {
		s, _, _ := throttleService(t, Config{Attempts: failingAttempts{AttemptStore: NewMemoryAttemptStore(0), reset: down}})
		if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
			t.Errorf("Login with a failing ResetAttempts = %v; want success", err)
		}
	})
	t.Run("off", func(t *testing.T) {
		f := failingAttempts{get: down, add: down, reset: down}
		s, _, _ := throttleService(t, Config{Attempts: f, LoginBackoffAfter: -1, MaxClientLoginFailures: -1, MaxAccountLoginFailures: -1})
		if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
			t.Errorf("Login with throttling off and a failing attempt store = %v; want success (the store is not used)", err)
		}
	})
}

func TestAttemptKey(t *testing.T) {
	s := newTestService(t, newFakeStore(), Config{})
	same := newTestService(t, newFakeStore(), Config{})
	other := newTestService(t, newFakeStore(), Config{Secret: []byte(strings.Repeat("x", 32))})
	k := s.attemptKey(accountKind, "ada@example.com")
	if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
		t.Errorf("key %q is not 64 lower-case hex digits", k)
	}
	if k2 := same.attemptKey(accountKind, "ada@example.com"); k2 != k {
		t.Errorf("two Services with one secret derive different keys: %s, %s", k, k2)
	}
	for what, k2 := range map[string]string{
		"another secret": other.attemptKey(accountKind, "ada@example.com"),
		"another kind":   s.attemptKey(limiterKind+"x", "ada@example.com"),
		"another value":  s.attemptKey(accountKind, "bob@example.com"),
	} {
		if k2 == k {
			t.Errorf("%s gives the same key", what)
		}
	}
}

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryAttemptStore(0)
	clk := newClock(t0)
	s := newTestService(t, newFakeStore(), Config{Now: clk.Now, Attempts: store})
	l, err := s.NewLimiter("test", 3, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	acquire := func(key string) func(bool) error {
		t.Helper()
		release, err := l.Acquire(ctx, key)
		if err != nil {
			t.Fatalf("Acquire(%q) = %v; want admission", key, err)
		}
		return release
	}

	// Attempts that do not count never throttle.
	for range 10 {
		if err := acquire("a")(false); err != nil {
			t.Fatal(err)
		}
	}
	// Three that count do.
	for range 3 {
		release := acquire("a")
		if err := release(true); err != nil {
			t.Fatal(err)
		}
		if err := release(true); err != nil { // a second call does nothing
			t.Fatal(err)
		}
		clk.Add(time.Minute)
	}
	_, err = l.Acquire(ctx, "a")
	wantThrottled(t, err, 14*time.Minute, "a fourth attempt a minute after the third event")
	acquire("b")(true) // other keys are counted apart
	clk.Add(14 * time.Minute)
	acquire("a")(true) // the window has passed: counting starts again

	// Attempts in flight count while they run.
	r1, r2 := acquire("c"), acquire("c")
	r3 := acquire("c")
	_, err = l.Acquire(ctx, "c")
	wantThrottled(t, err, time.Second, "a fourth attempt while three run")
	r1(false)
	r4 := acquire("c")
	for _, r := range []func(bool) error{r2, r3, r4} {
		r(false)
	}
	if len(l.inflight) != 0 {
		t.Errorf("inflight = %v after every release; want it empty", l.inflight)
	}

	// An event is counted even if the caller's context ended meanwhile.
	cctx, cancel := context.WithCancel(ctx)
	release, err := l.Acquire(cctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := release(true); err != nil {
		t.Fatalf("release(true) after the context ended = %v; want nil", err)
	}
	if a, _ := store.Attempts(ctx, s.attemptKey(limiterKind+"test", "d")); a.Count != 1 {
		t.Errorf("count after a release with an ended context = %d; want 1", a.Count)
	}

	// Limiters of one name share counters, on every Service with the same
	// secret and store, as replicas do; others do not.
	twin := newTestService(t, newFakeStore(), Config{Now: clk.Now, Attempts: store})
	same, _ := twin.NewLimiter("test", 3, 15*time.Minute)
	for range 2 {
		acquire("e")(true)
	}
	r, err := same.Acquire(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	r(true)
	_, err = l.Acquire(ctx, "e")
	wantThrottled(t, err, 15*time.Minute, "after three events through two Limiters of one name")
	otherName, _ := s.NewLimiter("other", 3, 15*time.Minute)
	if r, err := otherName.Acquire(ctx, "e"); err != nil {
		t.Errorf("a Limiter of another name: %v; want admission", err)
	} else {
		r(false)
	}

	// A failing store: refused (fail closed), and the release reports it.
	down := &storeError{"attempts"}
	broken := newTestService(t, newFakeStore(), Config{Now: clk.Now, Attempts: failingAttempts{AttemptStore: NewMemoryAttemptStore(0), get: down}})
	bl, _ := broken.NewLimiter("test", 3, time.Minute)
	if _, err := bl.Acquire(ctx, "a"); !errors.Is(err, down) {
		t.Errorf("Acquire with the store down = %v; want its error", err)
	}
	broken = newTestService(t, newFakeStore(), Config{Now: clk.Now, Attempts: failingAttempts{AttemptStore: NewMemoryAttemptStore(0), add: down}})
	bl, _ = broken.NewLimiter("test", 3, time.Minute)
	release, err = bl.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := release(true); !errors.Is(err, down) {
		t.Errorf("release(true) with AddAttempt failing = %v; want its error", err)
	}
}

func TestMemoryAttemptStoreBounded(t *testing.T) {
	ctx := context.Background()
	s := NewMemoryAttemptStore(3).(*memoryAttempts)
	add := func(key string, at time.Time) {
		t.Helper()
		if _, err := s.AddAttempt(ctx, key, at, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	has := func(key string) bool {
		a, _ := s.Attempts(ctx, key)
		return a.Count > 0
	}
	add("a", t0)
	add("b", t0)
	add("c", t0)
	add("a", t0) // a is now the most recently counted
	add("d", t0) // pushes out b, the least recently counted
	if has("b") || !has("a") || !has("c") || !has("d") || len(s.m) != 3 || s.lru.Len() != 3 {
		t.Errorf("after a fourth key in a store of 3: a %v, b %v, c %v, d %v, %d held; want b pushed out", has("a"), has("b"), has("c"), has("d"), len(s.m))
	}
	// Counters idle for AttemptRetention are dropped.
	add("e", t0.Add(AttemptRetention))
	if len(s.m) != 1 || !has("e") {
		t.Errorf("a day later: %d counters held; want only the new one", len(s.m))
	}
	// Many keys: never more than the bound.
	big := NewMemoryAttemptStore(1000).(*memoryAttempts)
	for i := range 5000 {
		if _, err := big.AddAttempt(ctx, fmt.Sprintf("%064x", i), t0, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if len(big.m) != 1000 || big.lru.Len() != 1000 {
		t.Errorf("after 5000 keys: %d held (%d in the list); want 1000", len(big.m), big.lru.Len())
	}
}
