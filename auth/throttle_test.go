package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

const throttlePassword = "correct horse battery staple"

var t0 = time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)

// throttleService returns a Service on a fakeStore (which has no
// throttle.Store ability, so the counters are in memory) holding the user
// ada@example.com, with a settable clock and, unless cfg has a Logger, no
// audit log.
func throttleService(t *testing.T, cfg Config) (*Service, *testclock.Clock, *fakeStore) {
	t.Helper()
	clk := testclock.New(t0)
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

// wantThrottled fails the test unless err is a *throttle.ThrottledError
// wrapping ErrThrottled with the given RetryAfter.
func wantThrottled(t *testing.T, err error, retryAfter time.Duration, what string) {
	t.Helper()
	var te *throttle.ThrottledError
	switch {
	case !errors.As(err, &te):
		t.Fatalf("%s: err = %v; want a *throttle.ThrottledError", what, err)
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

// TestThrottleDefaults checks where the Service keeps its counters: in
// Config.Attempts, else in the UserStore if it has the ability, else in
// memory.
func TestThrottleDefaults(t *testing.T) {
	s := newTestService(t, newFakeStore(), Config{})
	if got, want := fmt.Sprintf("%T", s.attempts), fmt.Sprintf("%T", throttle.NewMemoryStore(0)); got != want {
		t.Errorf("Attempts for a store without the ability = %s; want the in-memory store, %s", got, want)
	}
	withAbility := &attemptFakeStore{fakeStore: newFakeStore(), Store: throttle.NewMemoryStore(10)}
	if s := newTestService(t, withAbility, Config{}); s.attempts != throttle.Store(withAbility) {
		t.Errorf("Attempts for a store with the ability = %T; want the store itself", s.attempts)
	}
	own := throttle.NewMemoryStore(10)
	if s := newTestService(t, withAbility, Config{Attempts: own}); s.attempts != own {
		t.Errorf("Attempts = %T; want Config.Attempts", s.attempts)
	}
}

// attemptFakeStore is a fakeStore with the throttle.Store ability.
type attemptFakeStore struct {
	*fakeStore
	throttle.Store
}

// TestThrottleConfigRejects checks that New and NewLimiter report a
// throttling configuration that package throttle refuses as
// ErrInvalidConfig (the rules themselves are tested there).
func TestThrottleConfigRejects(t *testing.T) {
	for name, lc := range map[string]throttle.LoginConfig{
		"negative Backoff":                      {Backoff: -time.Second},
		"window over Retention":                 {Window: throttle.Retention + time.Second},
		"account limit equal to the client cap": {MaxClientFailures: 10, MaxAccountFailures: 10},
	} {
		t.Run(name, func(t *testing.T) {
			if s, err := New(newFakeStore(), Config{Secret: testSecret, LoginThrottle: lc}); s != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("New = %v, %v; want an error wrapping ErrInvalidConfig", s, err)
			}
		})
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
		{"x", 1, throttle.Retention + 1},
	} {
		if l, err := s.NewLimiter(bad.name, bad.limit, bad.window); l != nil || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("NewLimiter(%q, %d, %v) = %v, %v; want an error wrapping ErrInvalidConfig", bad.name, bad.limit, bad.window, l, err)
		}
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
	// LoginThrottle.Window of quiet forgets the count too.
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
	s, clk, _ := throttleService(t, Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 2}})
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
// looks the email up nor hashes: it gets ErrThrottled at once even with
// every hashing slot taken (and a HashWait long enough to be admitted to
// the queue).
func TestLoginThrottledDoesNoWork(t *testing.T) {
	ctx := context.Background()
	g := &gateRand{}
	rnd := &countingReader{r: g}
	s, _, store := throttleService(t, Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 1}, MaxConcurrentHashes: 1, HashWait: time.Minute, Rand: rnd})
	lookups := &countingStore{UserStore: store}
	s.store = lookups
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		_, err := s.Login(ctx, email, "wrong password")
		wantInvalid(t, err, email+": first failure")
	}
	occupySlot(t, s, g) // every slot taken: hashing now would wait
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
// only LoginThrottle.BackoffAfter of them are checked, because each is
// counted before its password is, and judged by the count it finds then.
func TestLoginConcurrentAttempts(t *testing.T) {
	const n = 20
	barrier := &barrierAttempts{Store: throttle.NewMemoryStore(0), wait: make(chan struct{})}
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
	throttle.Store
	left atomic.Int64
	wait chan struct{}
}

func (b *barrierAttempts) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	a, err := b.Store.Attempts(ctx, key)
	if b.left.Add(-1) == 0 {
		close(b.wait)
	}
	<-b.wait
	return a, err
}

// failingAttempts is a throttle.Store whose methods fail as told.
type failingAttempts struct {
	throttle.Store
	get, add, reset error
}

func (f failingAttempts) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	if f.get != nil {
		return throttle.Attempts{}, f.get
	}
	return f.Store.Attempts(ctx, key)
}

func (f failingAttempts) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	if f.add != nil {
		return throttle.Attempts{}, f.add
	}
	return f.Store.AddAttempt(ctx, key, now, expiry)
}

func (f failingAttempts) ResetAttempts(ctx context.Context, key string) error {
	if f.reset != nil {
		return f.reset
	}
	return f.Store.ResetAttempts(ctx, key)
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
			f.Store = throttle.NewMemoryStore(0)
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
		s, _, _ := throttleService(t, Config{Attempts: failingAttempts{Store: throttle.NewMemoryStore(0), reset: down}})
		if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
			t.Errorf("Login with a failing ResetAttempts = %v; want success", err)
		}
	})
	t.Run("off", func(t *testing.T) {
		f := failingAttempts{get: down, add: down, reset: down}
		s, _, _ := throttleService(t, Config{Attempts: f, LoginThrottle: throttle.LoginConfig{BackoffAfter: -1, MaxClientFailures: -1, MaxAccountFailures: -1}})
		if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
			t.Errorf("Login with throttling off and a failing attempt store = %v; want success (the store is not used)", err)
		}
	})
}

// TestServiceLimiter checks the Limiters a Service makes: they share
// their counters with those of the same name on every Service with the
// same secret and store, as replicas do, and not with another secret's;
// each refusal is an EventThrottled.
func TestServiceLimiter(t *testing.T) {
	ctx := context.Background()
	store := throttle.NewMemoryStore(0)
	var events []Event
	cfg := Config{Attempts: store, OnEvent: func(_ context.Context, ev Event) { events = append(events, ev) }}
	limiter := func(cfg Config) *throttle.Limiter {
		t.Helper()
		l, err := newTestService(t, newFakeStore(), cfg).NewLimiter("test", 2, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	count := func(l *throttle.Limiter, key string) {
		t.Helper()
		release, err := l.Acquire(ctx, key)
		if err != nil {
			t.Fatalf("Acquire(%q) = %v; want admission", key, err)
		}
		if err := release(true); err != nil {
			t.Fatal(err)
		}
	}
	l, twin := limiter(cfg), limiter(cfg)
	count(l, "192.0.2.1")
	count(twin, "192.0.2.1")
	cfg.Secret = []byte(strings.Repeat("x", 32))
	if release, err := limiter(cfg).Acquire(ctx, "192.0.2.1"); err != nil {
		t.Errorf("a Limiter of a Service with another secret: %v; want admission", err)
	} else {
		release(false)
	}
	_, err := l.Acquire(WithClientIP(ctx, netip.MustParseAddr("192.0.2.1")), "192.0.2.1")
	if !errors.Is(err, ErrThrottled) {
		t.Fatalf("after two events through two Limiters of one name and secret: %v; want ErrThrottled", err)
	}
	want := []Event{{Kind: EventThrottled, ClientIP: netip.MustParseAddr("192.0.2.1"), Reason: "limit test"}}
	for i := range events {
		events[i].Time = time.Time{}
	}
	if !slices.Equal(events, want) {
		t.Errorf("events = %+v; want %+v", events, want)
	}
}

// TestLoginBusyIsNotCounted checks that a login the hashing queue refuses
// at once (ErrBusy, every slot taken and none expected within HashWait)
// counts as no attempt: a client retrying after a flood is not throttled
// for the refusals, even with a backoff after one failure.
func TestLoginBusyIsNotCounted(t *testing.T) {
	ctx := context.Background()
	g := &gateRand{}
	s, _, _ := throttleService(t, Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 1}, MaxConcurrentHashes: 1, HashWait: time.Millisecond, Rand: g})
	release := occupySlot(t, s, g) // after the sign-up's hash: a slot is held for longer than HashWait
	for i := range 3 {
		if _, err := s.Login(ctx, "ada@example.com", throttlePassword); !errors.Is(err, ErrBusy) {
			t.Fatalf("login %d with the slot taken: %v, want ErrBusy", i+1, err)
		}
	}
	release()
	if _, err := s.Login(ctx, "ada@example.com", throttlePassword); err != nil {
		t.Errorf("login once the slot is free: %v, want success (refusals for want of capacity count as no attempt)", err)
	}
}

// TestPasswordChecksBusyAreNotCounted: as for Login, a password change
// and the other calls that check the account's password
// (checkAccountPassword: DeleteAccount, RequestEmailChange, SetupTOTP,
// DisableTOTP) refused for want of hashing capacity (ErrBusy) count as
// no attempt, so a client retrying during a flood is not throttled.
func TestPasswordChecksBusyAreNotCounted(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		store UserStore
		check func(s *Service, userID string) error
	}{
		{"ChangePassword", newSessStore(), func(s *Service, userID string) error {
			_, err := s.ChangePassword(ctx, userID, throttlePassword, throttlePassword+" and more")
			return err
		}},
		{"checkAccountPassword", newFakeStore(), func(s *Service, userID string) error {
			_, err := s.checkAccountPassword(ctx, userID, throttlePassword)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := &gateRand{}
			s := newTestService(t, tt.store, Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 1}, MaxConcurrentHashes: 1,
				HashWait: time.Millisecond, Rand: g, Logger: slog.New(slog.DiscardHandler)})
			g2, err := s.Signup(ctx, NewUser{Name: "Ada", Email: "ada@example.com", Password: throttlePassword})
			if err != nil {
				t.Fatal(err)
			}
			release := occupySlot(t, s, g)
			for i := range 3 {
				if err := tt.check(s, g2.User.ID); !errors.Is(err, ErrBusy) {
					t.Fatalf("attempt %d with the slot taken: %v, want ErrBusy", i+1, err)
				}
			}
			release()
			if err := tt.check(s, g2.User.ID); err != nil {
				t.Errorf("once the slot is free: %v, want success (refusals for want of capacity count as no attempt)", err)
			}
		})
	}
}
