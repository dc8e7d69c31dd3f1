package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testenv"
)

// TestLoginTimingUnknownEmail checks the enumeration defence end to end:
// with the default argon2id parameters, the median time Login takes to
// reject an unknown email is within 20% of the median time it takes to
// reject a wrong password for an existing account. A Login that skipped
// the dummy hash for unknown emails answers them hundreds of times faster.
//
// To hold on a noisy shared machine, the two kinds of attempt alternate
// (in both orders, so that drift and caches hurt both alike), a warm-up
// is discarded, medians rather than means are compared, and a failing
// round is run once more before the test fails. Every attempt uses an
// email of its own, so that per-account throttling never comes into it.
func TestLoginTimingUnknownEmail(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test takes several seconds; skipped with -short")
	}
	if testenv.RaceEnabled() {
		t.Skip("timing test: the race detector distorts timings")
	}
	const (
		warmUp    = 5
		samples   = 60
		tolerance = 0.20
		rounds    = 3
	)
	ctx := context.Background()
	store := newFakeStore()
	s := newTestService(t, store, Config{}) // DefaultParams, like production
	hash := phcHash(t, "the right password", s.hasher.Params())
	next := 0
	existing := func() string { // a fresh account, with a real hash of the default cost
		next++
		email := fmt.Sprintf("user%04d@example.com", next)
		store.put(User{ID: fmt.Sprintf("id%04d", next), Email: email, Name: "User", PasswordHash: hash})
		return email
	}
	unknown := func() string {
		next++
		return fmt.Sprintf("nobody%04d@example.com", next)
	}
	login := func(email string) time.Duration {
		start := time.Now()
		_, err := s.Login(ctx, email, "a wrong password")
		d := time.Since(start)
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("Login(%q, wrong password) = %v, want ErrInvalidCredentials", email, err)
		}
		return d
	}

	for range warmUp {
		login(existing())
		login(unknown())
	}
	for round := 1; round <= rounds; round++ {
		var known, missing []time.Duration
		for i := range samples {
			if i%2 == 0 {
				known = append(known, login(existing()))
				missing = append(missing, login(unknown()))
			} else {
				missing = append(missing, login(unknown()))
				known = append(known, login(existing()))
			}
		}
		mk, mm := median(known), median(missing)
		diff := float64(max(mk, mm)-min(mk, mm)) / float64(min(mk, mm))
		t.Logf("round %d: median Login over %d samples each: wrong password %v, unknown email %v; difference %.1f%% (limit %.0f%%)",
			round, samples, mk, mm, 100*diff, 100*tolerance)
		if diff <= tolerance {
			return
		}
	}
	t.Errorf("Login takes measurably different times for unknown emails and wrong passwords in %d rounds out of %d: "+
		"response time tells whether an account exists", rounds, rounds)
}

func median(d []time.Duration) time.Duration {
	d = slices.Clone(d)
	slices.Sort(d)
	if n := len(d); n%2 == 0 {
		return (d[n/2-1] + d[n/2]) / 2
	}
	return d[len(d)/2]
}
