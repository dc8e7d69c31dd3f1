package pgstore_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
)

func tokenHash(n int) string { return fmt.Sprintf("%064x", n) }
func familyID(n int) string  { return fmt.Sprintf("%032x", n) }

// replicas returns n migrated Stores on one fresh schema, each with its
// own pool, as the replicas of a service would have.
func replicas(t *testing.T, n int) []*pgstore.Store {
	t.Helper()
	dsn := dbtest.NewPostgresDSN(t)
	stores := make([]*pgstore.Store, n)
	for i := range stores {
		stores[i] = pgstore.New(dbtest.Open(t, dbtest.PostgresDriver, dsn))
		if err := stores[i].Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return stores
}

// TestSessionsReplicas uses one token through Stores on separate pools,
// all at once, several rounds: exactly one call sees it unused, and every
// other sees the winner's UsedAt. Creating the tokens of one new family
// through all of them at once must succeed too.
func TestSessionsReplicas(t *testing.T) {
	const n, each, rounds = 4, 10, 5
	stores := replicas(t, n)
	if err := stores[0].CreateUser(t.Context(), sampleUser); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	for round := range rounds {
		fam := familyID(round)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n*each)
		for i := range n * each {
			wg.Go(func() {
				<-start
				errs[i] = stores[i%n].CreateRefreshToken(t.Context(), auth.RefreshToken{
					Hash: tokenHash(round*1000 + i), Family: fam, UserID: sampleUser.ID,
					IssuedAt: base, ExpiresAt: base.Add(time.Hour),
				}, 0)
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: concurrent CreateRefreshToken #%d of one new family = %v", round, i, err)
			}
		}

		hash := tokenHash(round * 1000)
		got := make([]auth.RefreshToken, n*each)
		start = make(chan struct{})
		for i := range n * each {
			wg.Go(func() {
				<-start
				got[i], errs[i] = stores[i%n].UseRefreshToken(t.Context(), hash, base.Add(time.Duration(i+1)*time.Second))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err != nil:
				t.Fatalf("round %d: concurrent UseRefreshToken #%d = %v", round, i, err)
			case got[i].UsedAt.IsZero() && winner >= 0:
				t.Fatalf("round %d: UseRefreshToken #%d and #%d both saw the token unused", round, winner, i)
			case got[i].UsedAt.IsZero():
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no UseRefreshToken saw the token unused", round)
		}
		wantUsed := base.Add(time.Duration(winner+1) * time.Second)
		for i, tok := range got {
			if i != winner && !tok.UsedAt.Equal(wantUsed) {
				t.Errorf("round %d: UseRefreshToken #%d, which lost to #%d, saw UsedAt %v; want the winner's %v", round, i, winner, tok.UsedAt, wantUsed)
			}
		}
	}
}

// TestSessionsPruneWhileCreating holds, in an open transaction, what a
// CreateRefreshToken does to a family whose tokens have all expired (a
// new token, and the family's expires_at moved forward), while
// DeleteExpiredRefreshTokens runs: the prune must wait for the row and
// then keep the family, which has a live token once the transaction
// commits.
func TestSessionsPruneWhileCreating(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	old := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: sampleUser.ID, IssuedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, old, 0); err != nil {
		t.Fatal(err)
	}
	now := old.ExpiresAt
	next := auth.RefreshToken{Hash: tokenHash(2), Family: old.Family, UserID: old.UserID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	var pid int
	if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		next.Hash, next.Family, next.UserID, next.IssuedAt, next.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET expires_at = $1 WHERE id = $2`, next.ExpiresAt, next.Family); err != nil {
		t.Fatal(err)
	}

	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.DeleteExpiredRefreshTokens(ctx, now)
		done <- result{n, err}
	}()
	// Wait until the prune waits for the row the transaction holds.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("DeleteExpiredRefreshTokens never waited for the family the open transaction holds")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.n != 1 {
		t.Errorf("DeleteExpiredRefreshTokens = %d, %v; want 1 (the expired token), nil", r.n, r.err)
	}
	if got, err := s.RefreshToken(ctx, next.Hash); err != nil {
		t.Errorf("RefreshToken of the token created while DeleteExpiredRefreshTokens ran = %v; want the token (its family must be kept)", err)
	} else if got.Family != next.Family || !got.RevokedAt.IsZero() {
		t.Errorf("RefreshToken of the token created while DeleteExpiredRefreshTokens ran = %+v; want family %s, live", got, next.Family)
	}
	if _, err := s.RefreshToken(ctx, old.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RefreshToken of the expired token = %v; want auth.ErrNotFound", err)
	}
}

// TestMigrateAddsSessionTables migrates a schema that has only the tables
// of an earlier version, with a user in it: Migrate adds the session
// tables and keeps the user.
func TestMigrateAddsSessionTables(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	for _, ddl := range []string{pgstore.Schema, pgstore.AttemptsSchema} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	s := pgstore.New(db)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	tok := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: sampleUser.ID, IssuedAt: sampleUser.CreatedAt, ExpiresAt: sampleUser.CreatedAt.Add(time.Hour)}
	if err := s.CreateRefreshToken(ctx, tok, 0); err == nil {
		t.Fatal("CreateRefreshToken before Migrate = nil; want an error (no table)")
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, tok, 0); err != nil {
		t.Errorf("CreateRefreshToken after Migrate = %v", err)
	}
	if got, err := s.UserByID(ctx, sampleUser.ID); err != nil || got != sampleUser {
		t.Errorf("UserByID after Migrate = %+v, %v; want %+v", got, err, sampleUser)
	}
}

// TestSessionsStorageFormat checks the columns and indexes of the session
// tables as the package documentation shows them.
func TestSessionsStorageFormat(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name, column_name, data_type, is_nullable, COALESCE(collation_name, '')
		FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name IN ('auth_sessions', 'auth_refresh_tokens', 'auth_revocations')
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var table, col, typ, null, coll string
		if err := rows.Scan(&table, &col, &typ, &null, &coll); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s.%s %s %s %s", table, col, typ, null, coll))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"auth_refresh_tokens.hash text NO C",
		"auth_refresh_tokens.family_id text NO C",
		"auth_refresh_tokens.user_id text NO C",
		"auth_refresh_tokens.issued_at timestamp with time zone NO ",
		"auth_refresh_tokens.expires_at timestamp with time zone NO ",
		"auth_refresh_tokens.used_at timestamp with time zone YES ",
		"auth_revocations.user_id text NO C",
		"auth_revocations.revoked_at timestamp with time zone NO ",
		"auth_revocations.generation bigint NO ",
		"auth_sessions.id text NO C",
		"auth_sessions.user_id text NO C",
		"auth_sessions.expires_at timestamp with time zone NO ",
		"auth_sessions.revoked_at timestamp with time zone YES ",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("columns:\n\t%q\nwant:\n\t%q", got, want)
	}
	var idx int
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN
		('auth_sessions_user_id', 'auth_sessions_expires_at', 'auth_refresh_tokens_expires_at')`).Scan(&idx)
	if err != nil || idx != 3 {
		t.Errorf("%d of the 3 session indexes found (%v)", idx, err)
	}
}
