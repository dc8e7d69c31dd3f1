package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

func key(n int) string { return fmt.Sprintf("%064x", n) }

// TestAttemptsPrune checks that AddAttempt deletes counters idle for
// throttle.Retention, in batches of 1000, at most once a minute unless
// the previous batch was full.
func TestAttemptsPrune(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	s := sqlitestore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows := func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM auth_attempts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	idle := func(n int, since time.Time) {
		t.Helper()
		_, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO auth_attempts (key_hash, attempts, last_at) SELECT printf('idle%060d', i + ?), 3, ? FROM n`,
			n, rows(), since.UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	fresh := key(1)
	count := 0
	step := func(d time.Duration, want int, why string) {
		t.Helper()
		now = now.Add(d)
		count++
		if a, err := s.AddAttempt(ctx, fresh, now, time.Hour); err != nil || a.Count != count {
			t.Fatalf("AddAttempt %s = %+v, %v; want Count %d", why, a, err, count)
		}
		if got := rows(); got != want {
			t.Fatalf("after AddAttempt %s: %d rows, want %d", why, got, want)
		}
	}

	idle(2500, now.Add(-throttle.Retention))              // due at now, just
	idle(10, now.Add(-throttle.Retention+45*time.Second)) // due 45 seconds later
	step(0, 2511-1000, "on a store with 2500 counters due for pruning (one batch goes)")
	step(time.Second, 2511-2000, "a second later (the previous batch was full: prune again)")
	step(time.Second, 11, "another second later (the last batch)")
	idle(5, now.Add(-2*throttle.Retention))
	step(30*time.Second, 16, "30 seconds later (the last batch was not full: no prune for a minute)")
	step(30*time.Second, 1, "a minute after the last prune")
	idle(5, now.Add(-2*throttle.Retention))
	step(59*time.Second, 6, "59 seconds after the last prune")
	now = now.Add(-time.Hour) // a clock that went back does not stop pruning
	step(0, 1, "with a clock an hour behind")
}

// TestAttemptsStorageFormat checks the columns of auth_attempts as the
// package documentation shows them.
func TestAttemptsStorageFormat(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	s := sqlitestore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 17, 12, 0, 0, 123456789, time.FixedZone("IST", 5*3600+1800))
	if _, err := s.AddAttempt(ctx, key(7), at, time.Hour); err != nil {
		t.Fatal(err)
	}
	var k, typ string
	var n, micros int64
	if err := db.QueryRowContext(ctx, `SELECT key_hash, attempts, typeof(last_at), last_at FROM auth_attempts`).Scan(&k, &n, &typ, &micros); err != nil {
		t.Fatal(err)
	}
	if k != key(7) || n != 1 || typ != "integer" || micros != at.UnixMicro() {
		t.Errorf("stored (%s, %d, %s %d); want (%s, 1, integer %d)", k, n, typ, micros, key(7), at.UnixMicro())
	}
	if _, err := s.AddAttempt(ctx, key(7)+"0", at, time.Hour); err == nil {
		t.Error("AddAttempt with a 65-byte key = nil; want an error")
	}
}
