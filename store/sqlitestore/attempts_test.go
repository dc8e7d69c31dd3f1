package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

func key(n int) string { return fmt.Sprintf("%064x", n) }

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
