package throttle

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore(0)
	now := t0
	clock := func() time.Time { return now }
	var refused []*ThrottledError
	newLimiter := func(store Store, name string) *Limiter {
		t.Helper()
		l, err := NewLimiter(store, testKey, LimiterConfig{Name: name, Limit: 3, Window: 15 * time.Minute, Now: clock,
			OnThrottled: func(_ context.Context, err *ThrottledError) { refused = append(refused, err) }})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := newLimiter(store, "test")
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
		now = now.Add(time.Minute)
	}
	_, err := l.Acquire(ctx, "a")
	wantThrottled(t, err, 14*time.Minute, "limit test", "a fourth attempt a minute after the third event")
	if len(refused) != 1 || refused[0] != err {
		t.Errorf("OnThrottled got %v; want the one refusal, %v", refused, err)
	}
	acquire("b")(true) // other keys are counted apart
	now = now.Add(14 * time.Minute)
	acquire("a")(true) // the window has passed: counting starts again

	// Attempts in flight count while they run.
	r1, r2 := acquire("c"), acquire("c")
	r3 := acquire("c")
	_, err = l.Acquire(ctx, "c")
	wantThrottled(t, err, time.Second, "limit test", "a fourth attempt while three run")
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
	if a, _ := store.Attempts(ctx, l.keys.key(limiterKind+"test", "d")); a.Count != 1 {
		t.Errorf("count after a release with an ended context = %d; want 1", a.Count)
	}

	// Limiters of one name share counters, given the same HMAC key and
	// store, as replicas do; others do not.
	same := newLimiter(store, "test")
	for range 2 {
		acquire("e")(true)
	}
	r, err := same.Acquire(ctx, "e")
	if err != nil {
		t.Fatal(err)
	}
	r(true)
	_, err = l.Acquire(ctx, "e")
	wantThrottled(t, err, 15*time.Minute, "limit test", "after three events through two Limiters of one name")
	if r, err := newLimiter(store, "other").Acquire(ctx, "e"); err != nil {
		t.Errorf("a Limiter of another name: %v; want admission", err)
	} else {
		r(false)
	}

	// A failing store: refused (fail closed), and the release reports it.
	down := &storeError{"attempts"}
	bl := newLimiter(failingStore{Store: NewMemoryStore(0), get: down}, "test")
	if _, err := bl.Acquire(ctx, "a"); !errors.Is(err, down) {
		t.Errorf("Acquire with the store down = %v; want its error", err)
	}
	bl = newLimiter(failingStore{Store: NewMemoryStore(0), add: down}, "test")
	release, err = bl.Acquire(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := release(true); !errors.Is(err, down) {
		t.Errorf("release(true) with AddAttempt failing = %v; want its error", err)
	}
}

func TestLimiterConfigRejects(t *testing.T) {
	store := NewMemoryStore(0)
	for _, bad := range []struct {
		what  string
		store Store
		key   []byte
		cfg   LimiterConfig
	}{
		{"empty name", store, testKey, LimiterConfig{Name: "", Limit: 1, Window: time.Minute}},
		{"name with ':'", store, testKey, LimiterConfig{Name: "a:b", Limit: 1, Window: time.Minute}},
		{"limit 0", store, testKey, LimiterConfig{Name: "x", Limit: 0, Window: time.Minute}},
		{"no window", store, testKey, LimiterConfig{Name: "x", Limit: 1}},
		{"window over Retention", store, testKey, LimiterConfig{Name: "x", Limit: 1, Window: Retention + 1}},
		{"short HMAC key", store, testKey[:31], LimiterConfig{Name: "x", Limit: 1, Window: time.Minute}},
		{"nil Store", nil, testKey, LimiterConfig{Name: "x", Limit: 1, Window: time.Minute}},
	} {
		if l, err := NewLimiter(bad.store, bad.key, bad.cfg); l != nil || err == nil {
			t.Errorf("NewLimiter with %s = %v, %v; want an error", bad.what, l, err)
		}
	}
	if _, err := NewLimiter(store, testKey, LimiterConfig{Name: "x", Limit: 1, Window: Retention}); err != nil {
		t.Errorf("NewLimiter with a window of Retention: %v", err)
	}
}

func TestLimiterReset(t *testing.T) {
	ctx := context.Background()
	l, err := NewLimiter(NewMemoryStore(0), testKey, LimiterConfig{Name: "test", Limit: 1, Window: time.Hour, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"a", "b"} {
		release, err := l.Acquire(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if err := release(true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx, "a"); err != nil {
		t.Errorf("Acquire after Reset: %v; want admission", err)
	}
	if _, err := l.Acquire(ctx, "b"); !errors.Is(err, ErrThrottled) {
		t.Errorf("Acquire of another key: %v; want it still throttled", err)
	}
}
