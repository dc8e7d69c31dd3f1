package pgstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
)

func key(n int) string { return fmt.Sprintf("%064x", n) }

// TestAttemptsPrune checks the prune statement: AddAttempt deletes
// counters idle for throttle.Retention and keeps the others.
func TestAttemptsPrune(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
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
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM auth_attempts`).Scan(&n); err != nil || n != 2 {
		t.Errorf("%d rows (%v) after a prune; want 2", n, err)
	}
}

// TestAttemptsStorageFormat checks the columns of auth_attempts as the
// package documentation shows them.
func TestAttemptsStorageFormat(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 17, 12, 0, 0, 123456789, time.FixedZone("IST", 5*3600+1800))
	if _, err := s.AddAttempt(ctx, key(7), at, time.Hour); err != nil {
		t.Fatal(err)
	}
	var k, typ, text string
	var n int64
	err := db.QueryRowContext(ctx, `SELECT key_hash, attempts, pg_typeof(last_at)::text,
		to_char(last_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM auth_attempts`).Scan(&k, &n, &typ, &text)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.UTC().Format("2006-01-02 15:04:05.000000"); k != key(7) || n != 1 || typ != "timestamp with time zone" || text != want {
		t.Errorf("stored (%s, %d, %s %s); want (%s, 1, timestamp with time zone %s)", k, n, typ, text, key(7), want)
	}
	var idx int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'auth_attempts' AND indexname = 'auth_attempts_last_at' AND schemaname = current_schema()`).Scan(&idx); err != nil || idx != 1 {
		t.Errorf("index auth_attempts_last_at: %d found (%v); want 1", idx, err)
	}
}

// TestAttemptsReplicas counts attempts for one key through Stores on
// separate pools, as replicas would, all at once: none is lost.
func TestAttemptsReplicas(t *testing.T) {
	const replicas, each = 4, 25
	dsn := dbtest.NewPostgresDSN(t)
	stores := make([]*pgstore.Store, replicas)
	for i := range stores {
		stores[i] = pgstore.New(dbtest.Open(t, dbtest.PostgresDriver, dsn))
		if err := stores[i].Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, replicas*each)
	for _, s := range stores {
		for range each {
			wg.Go(func() {
				<-start
				if _, err := s.AddAttempt(t.Context(), key(1), now, time.Hour); err != nil {
					errs <- err
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if a, err := stores[0].Attempts(t.Context(), key(1)); err != nil || a.Count != replicas*each {
		t.Errorf("Attempts after %d concurrent AddAttempt calls through %d Stores = %+v, %v; want Count %d", replicas*each, replicas, a, err, replicas*each)
	}
}
