package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

// newStore returns a migrated Store on a fresh, empty schema.
func newStore(t *testing.T) *pgstore.Store {
	t.Helper()
	s := pgstore.New(dbtest.NewPostgres(t))
	for i := range 2 { // Migrate is idempotent.
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	return s
}

func TestConformance(t *testing.T) {
	dbtest.PostgresDSN(t) // without a server, skip (or fail in CI) once, here
	storetest.Run(t, func(t *testing.T) auth.UserStore { return newStore(t) })
}

var sampleUser = auth.User{
	ID:           "0123456789abcdef0123456789abcdef",
	Email:        "kept@example.com",
	Name:         "Kept",
	PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
	CreatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC),
}

// TestMigrateConcurrent starts replicas at once, each with its own pool and
// Store, on a schema without the table: every Migrate must succeed.
func TestMigrateConcurrent(t *testing.T) {
	const replicas = 8
	for round := range 3 {
		dsn := dbtest.NewPostgresDSN(t)
		stores := make([]*pgstore.Store, replicas)
		for i := range stores {
			db := dbtest.Open(t, dbtest.PostgresDriver, dsn)
			if err := db.PingContext(t.Context()); err != nil { // connect before the race
				t.Fatal(err)
			}
			stores[i] = pgstore.New(db)
		}
		errs := make([]error, replicas)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Migrate(t.Context())
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: concurrent Migrate #%d = %v; want nil", round, i, err)
			}
		}
		if t.Failed() {
			return
		}
		u := sampleUser
		if err := stores[0].CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser after concurrent Migrate: %v", err)
		}
		if _, err := stores[replicas-1].UserByEmail(t.Context(), u.Email); err != nil {
			t.Fatalf("UserByEmail through another Store: %v", err)
		}
	}
}

func TestMigrateKeepsData(t *testing.T) {
	ctx := t.Context()
	dsn := dbtest.NewPostgresDSN(t)
	want := sampleUser

	db := dbtest.Open(t, dbtest.PostgresDriver, dsn)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a new schema: %v", err)
	}
	if err := s.CreateUser(ctx, want); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = pgstore.New(dbtest.Open(t, dbtest.PostgresDriver, dsn))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a populated schema: %v", err)
	}
	got, err := s.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatalf("UserByEmail after reopening and migrating again: %v", err)
	}
	if got != want {
		t.Errorf("UserByEmail after reopening = %+v, want %+v", got, want)
	}
	other := want
	other.ID = "fedcba9876543210fedcba9876543210"
	if err := s.CreateUser(ctx, other); !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("CreateUser with a kept email after migrating again = %v; want auth.ErrDuplicateEmail (the unique index must survive)", err)
	}
}

func TestStorageFormat(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	at := time.Date(1969, 5, 17, 19, 15, 30, 654321987, time.FixedZone("IST", 5*3600+1800))
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: at}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	var typ, text string
	err := db.QueryRowContext(ctx, `SELECT pg_typeof(created_at)::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM auth_users`).Scan(&typ, &text)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.UTC().Format("2006-01-02 15:04:05.000000"); typ != "timestamp with time zone" || text != want {
		t.Errorf("created_at stored as %s %s; want timestamp with time zone %s (truncated to microseconds)", typ, text, want)
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
	unmigrated := pgstore.New(dbtest.NewPostgres(t))
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
		{"CreateUser without table", func() error { return unmigrated.CreateUser(ctx, u) }, nil, "does not exist"},
		{"UserByEmail without table", func() error { _, err := unmigrated.UserByEmail(ctx, u.Email); return err }, nil, "does not exist"},
		{"UserByID without table", func() error { _, err := unmigrated.UserByID(ctx, u.ID); return err }, nil, "does not exist"},
		{"CreateUser with taken ID", func() error {
			v := u
			v.Email = "b@example.com"
			return migrated.CreateUser(ctx, v)
		}, nil, "auth_users_pkey"},
		// ON CONFLICT (email) checks the email first: when both are taken,
		// the email is what is reported.
		{"CreateUser with taken ID and email", func() error { return migrated.CreateUser(ctx, sameIDAndEmail) }, auth.ErrDuplicateEmail, ""},
		{"CreateUser with taken email", func() error {
			v := u
			v.ID = "id2"
			return migrated.CreateUser(ctx, v)
		}, auth.ErrDuplicateEmail, ""},
		{"CreateUser with NUL byte", func() error {
			v := u
			v.ID, v.Email, v.Name = "id3", "c@example.com", "nul\x00byte"
			return migrated.CreateUser(ctx, v)
		}, nil, ""},
		{"UserByEmail unknown", func() error { _, err := migrated.UserByEmail(ctx, "b@example.com"); return err }, auth.ErrNotFound, ""},
		{"UserByID unknown", func() error { _, err := migrated.UserByID(ctx, "id2"); return err }, auth.ErrNotFound, ""},
		// The session tables are missing too: a failed statement is
		// neither a mismatch nor an unknown token, nor "never revoked".
		{"UpdatePasswordHash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h2") }, nil, "does not exist"},
		{"UpdatePasswordHash to the same hash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h") }, nil, "does not exist"},
		{"CreateRefreshToken without table", func() error { return unmigrated.CreateRefreshToken(ctx, token, 0) }, nil, "does not exist"},
		{"UseRefreshToken without table", func() error { _, err := unmigrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, nil, "does not exist"},
		{"RefreshToken without table", func() error { _, err := unmigrated.RefreshToken(ctx, token.Hash); return err }, nil, "does not exist"},
		{"RevokeFamily without table", func() error { return unmigrated.RevokeFamily(ctx, token.Family, token.IssuedAt) }, nil, "does not exist"},
		{"RevokeSessions without table", func() error { return unmigrated.RevokeSessions(ctx, u.ID, token.IssuedAt) }, nil, "does not exist"},
		{"SessionGeneration without table", func() error { _, err := unmigrated.SessionGeneration(ctx, u.ID); return err }, nil, "does not exist"},
		{"DeleteExpiredRefreshTokens without table", func() error { _, err := unmigrated.DeleteExpiredRefreshTokens(ctx, token.IssuedAt); return err }, nil, "does not exist"},
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
			if !strings.HasPrefix(err.Error(), "pgstore: ") {
				t.Errorf("err = %q; want the prefix \"pgstore: \"", err)
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

// TestDeadlineWhileBlocked runs every method while another transaction
// holds an exclusive lock on the table, so that each call is still waiting
// in the database when its context's deadline passes: the error must wrap
// context.DeadlineExceeded, and the CreateUser must have stored nothing.
func TestDeadlineWhileBlocked(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `LOCK TABLE auth_users IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	blocked := auth.User{ID: "blocked", Email: "blocked@example.com", Name: "B", PasswordHash: "h", CreatedAt: time.Now()}
	calls := map[string]func(context.Context) error{
		"CreateUser":  func(ctx context.Context) error { return s.CreateUser(ctx, blocked) },
		"UserByEmail": func(ctx context.Context) error { _, err := s.UserByEmail(ctx, sampleUser.Email); return err },
		"UserByID":    func(ctx context.Context) error { _, err := s.UserByID(ctx, sampleUser.ID); return err },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s blocked by a lock past its deadline = %v; want an error wrapping context.DeadlineExceeded", name, err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByID(ctx, blocked.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UserByID for the user of the CreateUser that timed out = %v; want auth.ErrNotFound", err)
	}
}

// TestUsesSearchPath checks that the Store works in whatever schema the
// connection's search_path names, as the package documentation says.
func TestUsesSearchPath(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	if err := pgstore.New(db).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'auth_users' AND table_schema = current_schema()`).Scan(&schema); err != nil {
		t.Fatalf("auth_users not found in current_schema(): %v", err)
	}
	if !strings.HasPrefix(schema.String, "gatehouse_test_") {
		t.Errorf("auth_users created in schema %q; want the test's own schema", schema.String)
	}
}
