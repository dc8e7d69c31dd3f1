package sqlitestore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

// pragmas is the DSN query the package documentation recommends.
const pragmas = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"

// openDB opens (creating if need be) the SQLite file at path with the
// recommended pragmas and closes it when the test ends.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+pragmas)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("closing %s: %v", path, err)
		}
	})
	return db
}

// newStore returns a migrated Store on a fresh database file.
func newStore(t *testing.T) *sqlitestore.Store {
	t.Helper()
	s := sqlitestore.New(openDB(t, filepath.Join(t.TempDir(), "auth.db")))
	for i := range 2 { // Migrate is idempotent.
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) auth.UserStore { return newStore(t) })
}

func TestMigrateKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "auth.db")
	want := auth.User{
		ID:           "0123456789abcdef0123456789abcdef",
		Email:        "kept@example.com",
		Name:         "Kept",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC),
	}

	db := openDB(t, path)
	s := sqlitestore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a new database: %v", err)
	}
	if err := s.CreateUser(ctx, want); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = sqlitestore.New(openDB(t, path))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a populated database: %v", err)
	}
	got, err := s.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatalf("UserByEmail after reopening and migrating again: %v", err)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if got != want {
		t.Errorf("UserByEmail after reopening = %+v, want %+v", got, want)
	}
	other := want
	other.ID = "fedcba9876543210fedcba9876543210"
	if err := s.CreateUser(ctx, other); !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("CreateUser with a kept email after migrating again = %v; want auth.ErrDuplicateEmail (the unique index must survive)", err)
	}
}

func TestDSNPragmas(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	// Hold two connections at once so that the pragmas are seen to apply to
	// every connection of the pool, not only the first.
	for i := range 2 {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var timeout int
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || timeout != 5000 {
			t.Errorf("connection %d: journal_mode = %q, busy_timeout = %d; want \"wal\", 5000", i, mode, timeout)
		}
	}
}

func TestStorageFormat(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	s := sqlitestore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 17, 19, 15, 30, 654321987, time.FixedZone("IST", 5*3600+1800))
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: at}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	var typ string
	var micros int64
	if err := db.QueryRowContext(ctx, "SELECT typeof(created_at), created_at FROM auth_users").Scan(&typ, &micros); err != nil {
		t.Fatal(err)
	}
	if typ != "integer" || micros != at.UnixMicro() {
		t.Errorf("created_at stored as %s %d; want integer %d (unix microseconds)", typ, micros, at.UnixMicro())
	}

	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond).UTC(); got.CreatedAt != want {
		t.Errorf("CreatedAt = %v, want %v exactly (truncated to microseconds, in UTC)", got.CreatedAt, want)
	}
}

func TestErrors(t *testing.T) {
	ctx := t.Context()
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: time.Unix(0, 0)}

	// Without Migrate the table is missing: every method must fail, and
	// with an error that is neither of the sentinels.
	unmigrated := sqlitestore.New(openDB(t, filepath.Join(t.TempDir(), "auth.db")))
	migrated := newStore(t)
	if err := migrated.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sameIDAndEmail := u
	sameIDAndEmail.Name = "B"
	token := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: u.ID, IssuedAt: time.Unix(1e9, 0), ExpiresAt: time.Unix(1e9+3600, 0)}

	tests := []struct {
		name      string
		call      func() error
		wantIs    error // nil: must wrap neither sentinel
		wantInMsg string
	}{
		{"CreateUser without table", func() error { return unmigrated.CreateUser(ctx, u) }, nil, "no such table"},
		{"UserByEmail without table", func() error { _, err := unmigrated.UserByEmail(ctx, u.Email); return err }, nil, "no such table"},
		{"UserByID without table", func() error { _, err := unmigrated.UserByID(ctx, u.ID); return err }, nil, "no such table"},
		{"CreateUser with taken ID", func() error {
			v := u
			v.Email = "b@example.com"
			return migrated.CreateUser(ctx, v)
		}, nil, "auth_users.id"},
		// ON CONFLICT(email) checks the email first: when both are taken,
		// the email is what is reported.
		{"CreateUser with taken ID and email", func() error { return migrated.CreateUser(ctx, sameIDAndEmail) }, auth.ErrDuplicateEmail, ""},
		{"CreateUser with taken email", func() error {
			v := u
			v.ID = "id2"
			return migrated.CreateUser(ctx, v)
		}, auth.ErrDuplicateEmail, ""},
		{"UserByEmail unknown", func() error { _, err := migrated.UserByEmail(ctx, "b@example.com"); return err }, auth.ErrNotFound, ""},
		{"UserByID unknown", func() error { _, err := migrated.UserByID(ctx, "id2"); return err }, auth.ErrNotFound, ""},
		// The session tables are missing too: a failed statement is
		// neither a mismatch nor an unknown token, nor "never revoked".
		{"UpdatePasswordHash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h2") }, nil, "no such table"},
		{"UpdatePasswordHash to the same hash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h") }, nil, "no such table"},
		{"CreateRefreshToken without table", func() error { return unmigrated.CreateRefreshToken(ctx, token, 0) }, nil, "no such table"},
		{"UseRefreshToken without table", func() error { _, err := unmigrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, nil, "no such table"},
		{"RefreshToken without table", func() error { _, err := unmigrated.RefreshToken(ctx, token.Hash); return err }, nil, "no such table"},
		{"RevokeFamily without table", func() error { return unmigrated.RevokeFamily(ctx, token.Family, token.IssuedAt) }, nil, "no such table"},
		{"RevokeSessions without table", func() error { return unmigrated.RevokeSessions(ctx, u.ID, token.IssuedAt) }, nil, "no such table"},
		{"SessionGeneration without table", func() error { _, err := unmigrated.SessionGeneration(ctx, u.ID); return err }, nil, "no such table"},
		{"DeleteExpiredRefreshTokens without table", func() error { _, err := unmigrated.DeleteExpiredRefreshTokens(ctx, token.IssuedAt); return err }, nil, "no such table"},
		{"UpdatePasswordHash unknown user", func() error { return migrated.UpdatePasswordHash(ctx, "id2", "h", "h2") }, auth.ErrNotFound, ""},
		{"UpdatePasswordHash wrong hash", func() error { return migrated.UpdatePasswordHash(ctx, u.ID, "h2", "h3") }, auth.ErrNotFound, ""},
		{"UseRefreshToken unknown", func() error { _, err := migrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, auth.ErrNotFound, ""},
		{"RefreshToken unknown", func() error { _, err := migrated.RefreshToken(ctx, token.Hash); return err }, auth.ErrNotFound, ""},
		{"Migrate with canceled context", func() error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return migrated.Migrate(ctx)
		}, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("err = nil; want an error")
			}
			if !strings.HasPrefix(err.Error(), "sqlitestore: ") {
				t.Errorf("err = %q; want the prefix \"sqlitestore: \"", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want errors.Is(err, %v)", err, tt.wantIs)
			}
			if tt.wantIs == nil && (errors.Is(err, auth.ErrDuplicateEmail) || errors.Is(err, auth.ErrNotFound)) {
				t.Errorf("err = %v; want an error wrapping neither auth.ErrDuplicateEmail nor auth.ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("err = %q; want it to mention %q", err, tt.wantInMsg)
			}
		})
	}
}
