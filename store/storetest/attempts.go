package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// attemptTests are the subtests of the throttle.Store ability, run by
// Run after the UserStore ones.
var attemptTests = []abilityTest[throttle.Store]{
	{"AttemptsCount", testAttemptsCount},
	{"AttemptsExpiry", testAttemptsExpiry},
	{"AttemptsLastNeverGoesBack", testAttemptsLastNeverGoesBack},
	{"AttemptsReset", testAttemptsReset},
	{"AttemptsConcurrent", testAttemptsConcurrent},
	{"AttemptsCanceledContext", testAttemptsDoneContext(context.Canceled, "context.Canceled", canceledContext)},
	{"AttemptsExpiredContext", testAttemptsDoneContext(context.DeadlineExceeded, "context.DeadlineExceeded", expiredContext)},
}

// attemptKey returns a key numbered n, of the form the Service uses: 64
// lower-case hex digits.
func attemptKey(n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "storetest key %d", n))
	return hex.EncodeToString(sum[:])
}

// attemptTime is a whole microsecond, as every time the attempt tests
// pass, so that stores keeping microseconds compare exactly.
var attemptTime = baseTime.Truncate(time.Microsecond)

const attemptExpiry = 15 * time.Minute

func describeAttempts(a throttle.Attempts) string {
	if a.Last.IsZero() {
		return fmt.Sprintf("{Count: %d, Last: zero}", a.Count)
	}
	return fmt.Sprintf("{Count: %d, Last: %s}", a.Count, a.Last.UTC().Format(time.RFC3339Nano))
}

// wantAttempts reports how got, returned by call, differs from want (Last
// to within a microsecond).
func wantAttempts(t *testing.T, call string, got throttle.Attempts, err error, want throttle.Attempts) {
	t.Helper()
	switch {
	case err != nil:
		t.Errorf("%s = %v; want %s", call, err, describeAttempts(want))
	case got.Count != want.Count || got.Last.IsZero() != want.Last.IsZero() || (!want.Last.IsZero() && !sameInstant(got.Last, want.Last)):
		t.Errorf("%s = %s; want %s", call, describeAttempts(got), describeAttempts(want))
	}
}

// add calls AddAttempt and checks its result.
func add(t *testing.T, s throttle.Store, key string, now time.Time, expiry time.Duration, want throttle.Attempts, why string) {
	t.Helper()
	got, err := s.AddAttempt(t.Context(), key, now, expiry)
	call := fmt.Sprintf("AddAttempt(ctx, key, %s, %v) %s", now.Format(time.RFC3339Nano), expiry, why)
	wantAttempts(t, call, got, err, want)
}

// get calls Attempts and checks its result.
func get(t *testing.T, s throttle.Store, key string, want throttle.Attempts, why string) {
	t.Helper()
	got, err := s.Attempts(t.Context(), key)
	wantAttempts(t, "Attempts(ctx, key) "+why, got, err, want)
}

func testAttemptsCount(t *testing.T, s throttle.Store) {
	k1, k2 := attemptKey(1), attemptKey(2)
	get(t, s, k1, throttle.Attempts{}, "on an empty store")
	for i := 1; i <= 3; i++ {
		now := attemptTime.Add(time.Duration(i) * time.Second)
		add(t, s, k1, now, attemptExpiry, throttle.Attempts{Count: i, Last: now}, fmt.Sprintf("#%d, a second after the previous one", i))
		get(t, s, k1, throttle.Attempts{Count: i, Last: now}, fmt.Sprintf("after %d AddAttempt calls", i))
	}
	get(t, s, k2, throttle.Attempts{}, "for another key, after AddAttempt calls for the first (keys are independent)")
	now := attemptTime.Add(10 * time.Second)
	add(t, s, k2, now, attemptExpiry, throttle.Attempts{Count: 1, Last: now}, "for a second key")
	get(t, s, k1, throttle.Attempts{Count: 3, Last: attemptTime.Add(3 * time.Second)}, "for the first key, after an AddAttempt for another")
}

func testAttemptsExpiry(t *testing.T, s throttle.Store) {
	k := attemptKey(1)
	t0 := attemptTime
	add(t, s, k, t0, attemptExpiry, throttle.Attempts{Count: 1, Last: t0}, "on an empty store")
	t1 := t0.Add(attemptExpiry - time.Microsecond)
	add(t, s, k, t1, attemptExpiry, throttle.Attempts{Count: 2, Last: t1}, "a microsecond before the counter expires")
	t2 := t1.Add(attemptExpiry)
	add(t, s, k, t2, attemptExpiry, throttle.Attempts{Count: 1, Last: t2}, "exactly expiry after the previous attempt (the counter must restart)")
	add(t, s, k, t2, attemptExpiry, throttle.Attempts{Count: 2, Last: t2}, "again, at the same time")
	t3 := t2.Add(attemptExpiry + time.Hour)
	add(t, s, k, t3, attemptExpiry, throttle.Attempts{Count: 1, Last: t3}, "long after the previous attempt (the counter must restart)")
	// The expiry is the caller's, call by call.
	t4 := t3.Add(2 * time.Minute)
	add(t, s, k, t4, time.Hour, throttle.Attempts{Count: 2, Last: t4}, "two minutes later, with an hour's expiry")
	t5 := t4.Add(2 * time.Minute)
	add(t, s, k, t5, time.Minute, throttle.Attempts{Count: 1, Last: t5}, "two minutes later, with a minute's expiry (the counter must restart)")
	get(t, s, k, throttle.Attempts{Count: 1, Last: t5}, "after the counter restarted")
}

func testAttemptsLastNeverGoesBack(t *testing.T, s throttle.Store) {
	k := attemptKey(1)
	later := attemptTime.Add(time.Hour)
	add(t, s, k, later, 2*time.Hour, throttle.Attempts{Count: 1, Last: later}, "on an empty store")
	add(t, s, k, attemptTime, 2*time.Hour, throttle.Attempts{Count: 2, Last: later},
		"an hour before the previous attempt, as a replica with a slow clock would (Last must stay the later time)")
}

func testAttemptsReset(t *testing.T, s throttle.Store) {
	k1, k2 := attemptKey(1), attemptKey(2)
	if err := s.ResetAttempts(t.Context(), k1); err != nil {
		t.Errorf("ResetAttempts(ctx, key) on an empty store = %v; want nil", err)
	}
	for i := 1; i <= 3; i++ {
		add(t, s, k1, attemptTime, attemptExpiry, throttle.Attempts{Count: i, Last: attemptTime}, fmt.Sprintf("#%d", i))
	}
	add(t, s, k2, attemptTime, attemptExpiry, throttle.Attempts{Count: 1, Last: attemptTime}, "for a second key")
	if err := s.ResetAttempts(t.Context(), k1); err != nil {
		t.Fatalf("ResetAttempts(ctx, key) after 3 attempts = %v; want nil", err)
	}
	get(t, s, k1, throttle.Attempts{}, "after ResetAttempts")
	get(t, s, k2, throttle.Attempts{Count: 1, Last: attemptTime}, "for a second key, after ResetAttempts for the first")
	if err := s.ResetAttempts(t.Context(), k1); err != nil {
		t.Errorf("ResetAttempts(ctx, key) twice = %v; want nil", err)
	}
	now := attemptTime.Add(time.Second)
	add(t, s, k1, now, attemptExpiry, throttle.Attempts{Count: 1, Last: now}, "after ResetAttempts (the count must start again)")
}

func testAttemptsConcurrent(t *testing.T, s throttle.Store) {
	k := attemptKey(1)
	counts := make([]int, concurrency)
	errs := make([]error, concurrency)
	together(concurrency, func(i int) {
		var a throttle.Attempts
		a, errs[i] = s.AddAttempt(t.Context(), k, attemptTime, attemptExpiry)
		counts[i] = a.Count
	})
	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Errorf("concurrent AddAttempt #%d = %v; want nil (%d calls ran at once; a busy or locked database must be waited for, not reported)", i, err, concurrency)
			}
		}
	}
	if failed > 0 {
		return
	}
	slices.Sort(counts)
	for i, c := range counts {
		if c != i+1 {
			t.Errorf("%d concurrent AddAttempt calls for one key returned the counts %v; want each of 1 to %d exactly once (the count must go up atomically, as one statement or in a transaction, not read and then written)",
				concurrency, counts, concurrency)
			break
		}
	}
	get(t, s, k, throttle.Attempts{Count: concurrency, Last: attemptTime}, fmt.Sprintf("after %d concurrent AddAttempt calls", concurrency))
}

// testAttemptsDoneContext returns a test that every method of the
// ability fails with an error wrapping want when called with a context
// from done, and that such an AddAttempt counts nothing.
func testAttemptsDoneContext(want error, wantName string, done func(t *testing.T) context.Context) func(t *testing.T, s throttle.Store) {
	return func(t *testing.T, s throttle.Store) {
		check := doneCheck(want, wantName)
		k := attemptKey(1)
		add(t, s, k, attemptTime, attemptExpiry, throttle.Attempts{Count: 1, Last: attemptTime}, "with a live context")

		t.Run("AddAttempt", func(t *testing.T) {
			_, err := s.AddAttempt(done(t), k, attemptTime, attemptExpiry)
			check(t, "AddAttempt(ctx, key, now, expiry)", err)
			get(t, s, k, throttle.Attempts{Count: 1, Last: attemptTime}, "after AddAttempt with a done context (it must count nothing)")
		})
		t.Run("Attempts", func(t *testing.T) {
			_, err := s.Attempts(done(t), k)
			check(t, "Attempts(ctx, key)", err)
		})
		t.Run("ResetAttempts", func(t *testing.T) {
			err := s.ResetAttempts(done(t), k)
			check(t, "ResetAttempts(ctx, key)", err)
			get(t, s, k, throttle.Attempts{Count: 1, Last: attemptTime}, "after ResetAttempts with a done context (it must delete nothing)")
		})
	}
}
