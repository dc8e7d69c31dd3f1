package sqltest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// testMigrateKeepsData migrates a database, stores a user, and migrates
// it again through a new pool: the user, and the unique index on email,
// are kept.
func testMigrateKeepsData(t *testing.T, tg Target) {
	ctx := t.Context()
	want := sampleUser

	db, reopen := tg.NewDB(t)
	s := tg.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a new database: %v", err)
	}
	if err := s.CreateUser(ctx, want); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = tg.New(reopen(t))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a populated database: %v", err)
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

// testMigrateConcurrent starts replicas at once, each with its own pool
// and Store, on a database without the tables: every Migrate must
// succeed.
func testMigrateConcurrent(t *testing.T, tg Target) {
	const replicas = 8
	for round := range 3 {
		_, reopen := tg.NewDB(t)
		stores := make([]Store, replicas)
		for i := range stores {
			db := reopen(t)
			if err := db.PingContext(t.Context()); err != nil { // connect before the race
				t.Fatal(err)
			}
			stores[i] = tg.New(db)
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
		if err := stores[0].CreateUser(t.Context(), sampleUser); err != nil {
			t.Fatalf("CreateUser after concurrent Migrate: %v", err)
		}
		if _, err := stores[replicas-1].UserByEmail(t.Context(), sampleUser.Email); err != nil {
			t.Fatalf("UserByEmail through another Store: %v", err)
		}
	}
}

// testMigrateAddsSessionTables migrates a database that has only the
// tables of an earlier version, with a user in it: Migrate adds the
// session tables and keeps the user.
func testMigrateAddsSessionTables(t *testing.T, tg Target) {
	ctx := t.Context()
	db, _ := tg.NewDB(t)
	for _, ddl := range tg.OldTables {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	s := tg.New(db)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, sampleToken, 0); err == nil {
		t.Fatal("CreateRefreshToken before Migrate = nil; want an error (no table)")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, sampleToken, 0); err != nil {
		t.Errorf("CreateRefreshToken after Migrate = %v", err)
	}
	if got, err := s.UserByID(ctx, sampleUser.ID); err != nil || got != sampleUser {
		t.Errorf("UserByID after Migrate = %+v, %v; want %+v", got, err, sampleUser)
	}
}

// testMigrateAddsGeneration checks that Migrate upgrades a database whose
// auth_revocations table predates the session generation: every recorded
// revocation becomes generation 1, and the store then works as the
// SessionStore contract says.
func testMigrateAddsGeneration(t *testing.T, tg Target) {
	ctx := t.Context()
	db, _ := tg.NewDB(t)
	for _, stmt := range tg.OldRevocations {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	s := tg.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on the old table: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, id := range []string{"u1", "u2"} {
		if err := s.CreateUser(ctx, auth.User{ID: id, Email: id + "@example.com", Name: id, PasswordHash: "h", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]int64{"u1": 1, "u2": 0} {
		if gen, err := s.SessionGeneration(ctx, id); err != nil || gen != want {
			t.Errorf("SessionGeneration(%s) after Migrate = %d, %v; want %d", id, gen, err, want)
		}
	}
	tok := auth.RefreshToken{Hash: "a1", Family: "f1", UserID: "u1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, tok, 0); !errors.Is(err, auth.ErrSessionsRevoked) {
		t.Errorf("CreateRefreshToken under generation 0 for a user revoked before Migrate = %v; want ErrSessionsRevoked", err)
	}
	if err := s.CreateRefreshToken(ctx, tok, 1); err != nil {
		t.Errorf("CreateRefreshToken under generation 1: %v", err)
	}
	if err := s.RevokeSessions(ctx, "u1", now); err != nil {
		t.Fatal(err)
	}
	if gen, err := s.SessionGeneration(ctx, "u1"); err != nil || gen != 2 {
		t.Errorf("SessionGeneration after one more RevokeSessions = %d, %v; want 2", gen, err)
	}
}
