package mysqlstore_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
)

func key(n int) string { return fmt.Sprintf("%064x", n) }

// TestAttemptsPrune checks the prune statement: AddAttempt deletes
// counters idle for throttle.Retention and keeps the others.
func TestAttemptsPrune(t *testing.T) {
	ctx := t.Context()
	s, db := newStore(t)
	t0 := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	for i, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if _, err := s.AddAttempt(ctx, key(i), at, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddAttempt(ctx, key(2), t0.Add(throttle.Retention+30*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 1, 1} {
		if a, err := s.Attempts(ctx, key(i)); err != nil || a.Count != want {
			t.Errorf("Attempts(key %d) after a prune = %+v, %v; want Count %d", i, a, err, want)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM auth_attempts`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows (%v) after a prune; want 2", n, err)
	}
}

// TestAttemptsStorageFormat checks the columns of auth_attempts as the
// package documentation shows them, under a session time zone that is
// not UTC, and that over-long keys are refused rather than truncated.
func TestAttemptsStorageFormat(t *testing.T) {
	ctx := t.Context()
	s, db := newStore(t, nonStrict)
	at := time.Date(2024, 5, 17, 12, 0, 0, 123456789, time.FixedZone("IST", 5*3600+1800))
	if _, err := s.AddAttempt(ctx, key(7), at, time.Hour); err != nil {
		t.Fatal(err)
	}
	var k, text string
	var n int64
	if err := db.QueryRowContext(ctx, `SELECT key_hash, attempts, CAST(last_at AS CHAR) FROM auth_attempts`).Scan(&k, &n, &text); err != nil {
		t.Fatal(err)
	}
	if want := at.UTC().Format("2006-01-02 15:04:05.000000"); k != key(7) || n != 1 || text != want {
		t.Errorf("stored (%s, %d, %s); want (%s, 1, %s)", k, n, text, key(7), want)
	}
	if _, err := s.AddAttempt(ctx, key(7)+"0", at, time.Hour); err == nil || !strings.Contains(err.Error(), "65 bytes") {
		t.Errorf("AddAttempt with a 65-byte key = %v; want an error saying so", err)
	}
}

// TestAttemptsReplicas counts attempts for fresh keys through Stores on
// separate pools, as replicas would, all at once, several rounds: none is
// lost and none fails (no deadlock between the upserts).
func TestAttemptsReplicas(t *testing.T) {
	const replicas, each, rounds = 4, 25, 5
	dsn := dbtest.NewMySQLDSN(t)
	stores := make([]*mysqlstore.Store, replicas)
	for i := range stores {
		stores[i] = mysqlstore.New(dbtest.Open(t, dbtest.MySQLDriver, dsn))
		if err := stores[i].Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	for round := range rounds {
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, replicas*each)
		for _, s := range stores {
			for range each {
				wg.Go(func() {
					<-start
					if _, err := s.AddAttempt(t.Context(), key(round), now, time.Hour); err != nil {
						errs <- err
					}
				})
			}
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("round %d: %v", round, err)
		}
		if a, err := stores[0].Attempts(t.Context(), key(round)); err != nil || a.Count != replicas*each {
			t.Errorf("round %d: Attempts after %d concurrent AddAttempt calls through %d Stores = %+v, %v; want Count %d", round, replicas*each, replicas, a, err, replicas*each)
		}
	}
}
