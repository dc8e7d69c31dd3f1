package throttle

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func newPolicy(t *testing.T, store Store, cfg LoginConfig) *LoginPolicy {
	t.Helper()
	p, err := NewLoginPolicy(store, testKey, cfg)
	if err != nil {
		t.Fatalf("NewLoginPolicy: %v", err)
	}
	return p
}

func TestLoginDefaults(t *testing.T) {
	p := newPolicy(t, NewMemoryStore(0), LoginConfig{})
	want := loginRules{backoffAfter: 5, backoff: time.Second, backoffMax: time.Minute, clientMax: 20, accountMax: 100, window: time.Hour}
	if p.rules != want {
		t.Errorf("login rules = %+v; want %+v", p.rules, want)
	}
	off := newPolicy(t, NewMemoryStore(0), LoginConfig{BackoffAfter: -1, MaxClientFailures: -1, MaxAccountFailures: -1})
	if off.rules.enabled() {
		t.Errorf("negative BackoffAfter, MaxClientFailures and MaxAccountFailures: rules %+v are enabled", off.rules)
	}
}

func TestLoginConfigRejects(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  LoginConfig
	}{
		{"negative Backoff", LoginConfig{Backoff: -time.Second}},
		{"negative BackoffMax", LoginConfig{BackoffMax: -time.Second}},
		{"negative Window", LoginConfig{Window: -time.Second}},
		{"window over Retention", LoginConfig{Window: Retention + time.Second}},
		{"BackoffMax below Backoff", LoginConfig{Backoff: time.Minute, BackoffMax: time.Second}},
		{"BackoffMax above the window", LoginConfig{BackoffMax: 2 * time.Hour}},
		{"account limit equal to the client cap", LoginConfig{MaxClientFailures: 10, MaxAccountFailures: 10}},
		{"account limit below the client cap", LoginConfig{MaxClientFailures: 100}},
		{"account limit without a client cap", LoginConfig{MaxClientFailures: -1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if p, err := NewLoginPolicy(NewMemoryStore(0), testKey, tt.cfg); p != nil || err == nil {
				t.Errorf("NewLoginPolicy = %v, %v; want an error", p, err)
			}
		})
	}
	if p, err := NewLoginPolicy(NewMemoryStore(0), testKey[:31], LoginConfig{}); p != nil || err == nil {
		t.Errorf("NewLoginPolicy with a 31-byte HMAC key = %v, %v; want an error", p, err)
	}
	if p, err := NewLoginPolicy(nil, testKey, LoginConfig{}); p != nil || err == nil {
		t.Errorf("NewLoginPolicy with a nil Store = %v, %v; want an error", p, err)
	}
	for what, cfg := range map[string]LoginConfig{
		// Without backoff, its fields do not matter.
		"backoff off and a long BackoffMax": {BackoffAfter: -1, BackoffMax: 2 * time.Hour},
		"Window = Retention":                {Window: Retention},
		// Without an account limit, the client cap may be anything.
		"both caps off":                          {MaxClientFailures: -1, MaxAccountFailures: -1},
		"a client cap and no account limit":      {MaxClientFailures: 500, MaxAccountFailures: -1},
		"an account limit just above client cap": {MaxClientFailures: 10, MaxAccountFailures: 11},
	} {
		if _, err := NewLoginPolicy(NewMemoryStore(0), testKey, cfg); err != nil {
			t.Errorf("NewLoginPolicy with %s: %v", what, err)
		}
	}
}

func TestBackoffDelay(t *testing.T) {
	p := loginRules{backoffAfter: 5, backoff: time.Second, backoffMax: time.Minute, clientMax: 100, window: time.Hour}
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
		wantThrottled(t, err, tt.retry, "account backoff", fmt.Sprintf("check(%+v)", tt.a))
	}
}

// TestLoginCount walks one account key through the policy: a client's
// backoff, cleared by a success; other clients counted apart; the
// account-wide limit, which trusted clients pass and successes do not
// feed.
func TestLoginCount(t *testing.T) {
	ctx := context.Background()
	p := newPolicy(t, NewMemoryStore(0), LoginConfig{BackoffAfter: 2, MaxClientFailures: 3, MaxAccountFailures: 6})
	now := t0
	count := func(client string, trusted bool) (func(), error) {
		return p.Count(ctx, now, "ada@example.com", client, trusted)
	}
	fail := func(client string, trusted bool, what string) {
		t.Helper()
		if _, err := count(client, trusted); err != nil {
			t.Fatalf("%s: %v; want the attempt counted", what, err)
		}
	}
	fail("a", false, "a's failure #1")
	fail("a", false, "a's failure #2")
	_, err := count("a", false)
	wantThrottled(t, err, time.Second, "account backoff", "a, right after 2 failures")
	now = now.Add(time.Second)
	succeeded, err := count("a", false)
	if err != nil {
		t.Fatalf("a, once the wait is over: %v", err)
	}
	succeeded()
	fail("a", false, "a's failure #1 after a success")
	fail("a", false, "a's failure #2 after a success")
	now = now.Add(2 * time.Second)
	fail("a", false, "a's failure #3 after a success")
	_, err = count("a", false)
	wantThrottled(t, err, time.Hour, "account backoff", "a at its cap")

	// The account has 6 attempts this hour, one of them a success: 5
	// failures. One more from b reaches the limit.
	fail("b", false, "b's failure #1")
	_, err = count("c", false)
	wantThrottled(t, err, t0.Add(time.Hour).Sub(now), "account limit", "c, with the account at its limit")
	fail("d", true, "d, trusted, with the account at its limit")
	_, err = p.Count(ctx, now, "bob@example.com", "c", false)
	if err != nil {
		t.Errorf("c for another account key: %v; want it counted", err)
	}
	now = t0.Add(time.Hour)
	fail("c", false, "c in the next hour")
}

// TestLoginCountStoreFails checks that the policy fails closed: if a
// counter cannot be read or written, Count returns the Store's error and
// admits nothing; a failure when a success is settled is harmless; with
// every limit off, the Store is not used.
func TestLoginCountStoreFails(t *testing.T) {
	ctx := context.Background()
	down := &storeError{"attempts"}
	for name, f := range map[string]failingStore{
		"read":  {get: down},
		"write": {add: down},
	} {
		t.Run(name, func(t *testing.T) {
			f.Store = NewMemoryStore(0)
			succeeded, err := newPolicy(t, f, LoginConfig{}).Count(ctx, t0, "ada@example.com", "a", false)
			if !errors.Is(err, down) || errors.Is(err, ErrThrottled) || succeeded != nil {
				t.Errorf("Count with the store down = %v; want its error, wrapped, and no succeeded", err)
			}
		})
	}
	reset := newPolicy(t, failingStore{Store: NewMemoryStore(0), reset: down}, LoginConfig{})
	succeeded, err := reset.Count(ctx, t0, "ada@example.com", "a", false)
	if err != nil {
		t.Fatal(err)
	}
	succeeded() // must not panic
	off := newPolicy(t, failingStore{get: down, add: down, reset: down}, LoginConfig{BackoffAfter: -1, MaxClientFailures: -1, MaxAccountFailures: -1})
	succeeded, err = off.Count(ctx, t0, "ada@example.com", "a", false)
	if err != nil {
		t.Fatalf("Count with every limit off and the store down = %v; want admission (the store is not used)", err)
	}
	succeeded()
}

// TestLoginHourlyCap plays an attacker who tries one account key from
// one client every 100 ms for three hours, with the default policy and
// with backoff off: at most MaxClientFailures attempts are admitted in
// any hour.
func TestLoginHourlyCap(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cfg     LoginConfig
		maxHour int
	}{
		{"defaults", LoginConfig{}, 20},
		{"no backoff", LoginConfig{BackoffAfter: -1}, 20},
		{"no backoff, cap 10", LoginConfig{BackoffAfter: -1, MaxClientFailures: 10}, 10},
		{"cap 100, no account limit", LoginConfig{MaxClientFailures: 100, MaxAccountFailures: -1}, 70},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(t, NewMemoryStore(0), tt.cfg)
			now := t0
			var admitted []time.Time
			for range 3 * 36000 {
				now = now.Add(100 * time.Millisecond)
				switch _, err := p.Count(context.Background(), now, "victim@example.com", "unknown", false); {
				case err == nil:
					admitted = append(admitted, now)
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
			t.Logf("busiest hour: %d attempts admitted", most)
			if most > tt.maxHour {
				t.Errorf("%d attempts admitted in one hour; want at most %d", most, tt.maxHour)
			}
			if most < tt.maxHour/2 {
				t.Errorf("only %d attempts admitted in the busiest hour; the policy is stricter than configured (want about %d)", most, tt.maxHour)
			}
		})
	}
}

// TestLoginReset checks that Reset forgets the counters of the clients
// it names and the account-wide ones, and only those.
func TestLoginReset(t *testing.T) {
	ctx := context.Background()
	p := newPolicy(t, NewMemoryStore(0), LoginConfig{BackoffAfter: -1, MaxClientFailures: 2, MaxAccountFailures: 5})
	const account = "ada@example.com"
	count := func(client string) error {
		_, err := p.Count(ctx, t0, account, client, false)
		return err
	}
	for _, c := range []string{"a", "a", "b", "b", "c"} {
		if err := count(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{"a", "d"} {
		if err := count(c); !errors.Is(err, ErrThrottled) {
			t.Fatalf("client %s before Reset: %v; want it throttled", c, err)
		}
	}
	if err := p.Reset(ctx, t0, account, "a"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"a", "a", "d"} {
		if err := count(c); err != nil {
			t.Errorf("client %s after Reset: %v; want it counted afresh", c, err)
		}
	}
	if err := count("b"); !errors.Is(err, ErrThrottled) {
		t.Errorf("client b, not named to Reset: %v; want it still at its cap", err)
	}
	down := &storeError{"reset"}
	failing := newPolicy(t, failingStore{Store: NewMemoryStore(0), reset: down}, LoginConfig{})
	if err := failing.Reset(ctx, t0, account, "a"); !errors.Is(err, down) {
		t.Errorf("Reset with the store down = %v; want its error, wrapped", err)
	}
}

// TestLoginPassed checks that an attempt that passed its first factor is
// no failure of the account, but leaves the client's count: its
// client's next failures are judged by a count that includes it.
func TestLoginPassed(t *testing.T) {
	ctx := context.Background()
	const account = "ada@example.com"
	p := newPolicy(t, NewMemoryStore(0), LoginConfig{BackoffAfter: 3, MaxClientFailures: 4, MaxAccountFailures: 5})
	now := t0
	// Four clients each pass a first factor and fail a second once: the
	// account has four failures, not eight.
	for i := range 4 {
		client := fmt.Sprintf("client %d", i)
		if _, err := p.Count(ctx, now, account, client, false); err != nil {
			t.Fatalf("first factor of %s: %v", client, err)
		}
		p.Passed(ctx, now, account)
		if _, err := p.Count(ctx, now, account, client, false); err != nil {
			t.Fatalf("second factor of %s: %v", client, err)
		}
	}
	if _, err := p.Count(ctx, now, account, "client 9", false); err != nil {
		t.Errorf("an attempt after four failures of the account (limit 5): %v", err)
	}
	// The client's count kept the passed attempt: after a pass and a
	// failure, the client's third attempt must wait.
	p = newPolicy(t, NewMemoryStore(0), LoginConfig{BackoffAfter: 2})
	if _, err := p.Count(ctx, now, account, "client", false); err != nil {
		t.Fatal(err)
	}
	p.Passed(ctx, now, account)
	if _, err := p.Count(ctx, now, account, "client", false); err != nil {
		t.Fatal(err)
	}
	_, err := p.Count(ctx, now, account, "client", false)
	wantThrottled(t, err, time.Second, "account backoff", "a client after a pass and a failure")
}
