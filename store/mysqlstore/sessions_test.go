package mysqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
)

func tokenHash(n int) string { return fmt.Sprintf("%064x", n) }
func familyID(n int) string  { return fmt.Sprintf("%032x", n) }

// sampleToken is an unused token of sampleUser.
var sampleToken = auth.RefreshToken{
	Hash:      tokenHash(1),
	Family:    familyID(1),
	UserID:    sampleUser.ID,
	IssuedAt:  time.Date(2024, 5, 17, 12, 0, 0, 123456000, time.UTC),
	ExpiresAt: time.Date(2024, 6, 16, 12, 0, 0, 123456000, time.UTC),
}

// TestPasswordSameHash checks the reason UpdatePasswordHash does not
// write a hash over itself: MySQL counts only changed rows as affected,
// unless the DSN sets clientFoundRows. Under both settings, setting the
// user's hash to itself must succeed, and a wrong old hash must not.
func TestPasswordSameHash(t *testing.T) {
	ctx := t.Context()
	for _, foundRows := range []bool{false, true} {
		t.Run(fmt.Sprintf("clientFoundRows=%t", foundRows), func(t *testing.T) {
			s, db := newStore(t, func(cfg *mysql.Config) { cfg.ClientFoundRows = foundRows })
			if err := s.CreateUser(ctx, sampleUser); err != nil {
				t.Fatal(err)
			}
			res, err := db.ExecContext(ctx, `UPDATE auth_users SET password_hash = ? WHERE id = ?`, sampleUser.PasswordHash, sampleUser.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := res.RowsAffected(); err != nil || (n == 1) != foundRows {
				t.Errorf("RowsAffected of an UPDATE to the same value = %d, %v; want %d (the premise of UpdatePasswordHash's SELECT has changed)", n, err, map[bool]int{false: 0, true: 1}[foundRows])
			}
			h := sampleUser.PasswordHash
			if err := s.UpdatePasswordHash(ctx, sampleUser.ID, h, h); err != nil {
				t.Errorf("UpdatePasswordHash(id, h, h) with the user's hash h = %v; want nil", err)
			}
			for _, wrong := range []string{h + " ", h + "  ", "other"} {
				if err := s.UpdatePasswordHash(ctx, sampleUser.ID, wrong, wrong); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("UpdatePasswordHash(id, %q, %[1]q) = %v; want auth.ErrNotFound", wrong, err)
				}
				if err := s.UpdatePasswordHash(ctx, sampleUser.ID, wrong, "new"); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("UpdatePasswordHash(id, %q, new) = %v; want auth.ErrNotFound (compared byte for byte, not PAD SPACE)", wrong, err)
				}
			}
			if got, err := s.UserByID(ctx, sampleUser.ID); err != nil || got != sampleUser {
				t.Errorf("UserByID after UpdatePasswordHash calls that changed nothing = %+v, %v; want %+v", got, err, sampleUser)
			}
		})
	}
}

// TestSessionValuesTheTablesCannotHold checks, under a strict and a
// non-strict sql_mode, that values the columns cannot hold exactly fail
// and change nothing, rather than being truncated or zeroed, and that the
// largest values they can hold round-trip.
func TestSessionValuesTheTablesCannotHold(t *testing.T) {
	dbtest.MySQLDSN(t) // without a server, skip (or fail in CI) once, here
	ctx := t.Context()
	with := func(f func(tok *auth.RefreshToken)) auth.RefreshToken {
		tok := sampleToken
		f(&tok)
		return tok
	}
	y999 := time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC)
	y10000 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	rejected := []struct {
		name string
		call func(s *mysqlstore.Store) error
	}{
		{"token hash of 65 bytes", func(s *mysqlstore.Store) error {
			return s.CreateRefreshToken(ctx, with(func(tok *auth.RefreshToken) { tok.Hash += "0" }), 0)
		}},
		{"family of 65 bytes", func(s *mysqlstore.Store) error {
			return s.CreateRefreshToken(ctx, with(func(tok *auth.RefreshToken) { tok.Family = strings.Repeat("f", 65) }), 0)
		}},
		{"user ID of 256 bytes", func(s *mysqlstore.Store) error {
			return s.CreateRefreshToken(ctx, with(func(tok *auth.RefreshToken) { tok.UserID = strings.Repeat("u", 256) }), 0)
		}},
		{"issued in the year 999", func(s *mysqlstore.Store) error {
			return s.CreateRefreshToken(ctx, with(func(tok *auth.RefreshToken) { tok.IssuedAt = y999 }), 0)
		}},
		{"expiring in the year 10000", func(s *mysqlstore.Store) error {
			return s.CreateRefreshToken(ctx, with(func(tok *auth.RefreshToken) { tok.ExpiresAt = y10000 }), 0)
		}},
		{"used in the year 10000", func(s *mysqlstore.Store) error {
			_, err := s.UseRefreshToken(ctx, sampleToken.Hash, y10000)
			return err
		}},
		{"family revoked in the year 10000", func(s *mysqlstore.Store) error {
			return s.RevokeFamily(ctx, sampleToken.Family, y10000)
		}},
		{"sessions revoked in the year 999", func(s *mysqlstore.Store) error {
			return s.RevokeSessions(ctx, sampleUser.ID, y999)
		}},
		{"sessions revoked for a user ID of 256 bytes", func(s *mysqlstore.Store) error {
			return s.RevokeSessions(ctx, strings.Repeat("u", 256), sampleToken.IssuedAt)
		}},
		{"tokens deleted in the year 10000", func(s *mysqlstore.Store) error {
			_, err := s.DeleteExpiredRefreshTokens(ctx, y10000)
			return err
		}},
		{"password hash of 65,536 bytes", func(s *mysqlstore.Store) error {
			return s.UpdatePasswordHash(ctx, sampleUser.ID, sampleUser.PasswordHash, strings.Repeat("h", 65536))
		}},
		{"password hash not UTF-8", func(s *mysqlstore.Store) error {
			return s.UpdatePasswordHash(ctx, sampleUser.ID, sampleUser.PasswordHash, "\xc3")
		}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s, db := newStore(t, v.opt)
			if err := s.CreateUser(ctx, sampleUser); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateRefreshToken(ctx, sampleToken, 0); err != nil {
				t.Fatal(err)
			}
			// snapshot returns the contents of every table.
			snapshot := func() string {
				t.Helper()
				var b strings.Builder
				for _, q := range []string{
					`SELECT id, email, name, password_hash, CAST(created_at AS CHAR) FROM auth_users ORDER BY id`,
					`SELECT id, user_id, CAST(expires_at AS CHAR), COALESCE(CAST(revoked_at AS CHAR), 'NULL') FROM auth_sessions ORDER BY id`,
					`SELECT hash, family_id, user_id, CAST(issued_at AS CHAR), CAST(expires_at AS CHAR), COALESCE(CAST(used_at AS CHAR), 'NULL') FROM auth_refresh_tokens ORDER BY hash`,
					`SELECT user_id, CAST(revoked_at AS CHAR) FROM auth_revocations ORDER BY user_id`,
				} {
					rows, err := db.QueryContext(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					cols, _ := rows.Columns()
					vals := make([]any, len(cols))
					for i := range vals {
						vals[i] = new(string)
					}
					for rows.Next() {
						if err := rows.Scan(vals...); err != nil {
							t.Fatal(err)
						}
						for _, v := range vals {
							fmt.Fprintf(&b, "%q ", *v.(*string))
						}
						b.WriteString("\n")
					}
					if err := rows.Err(); err != nil {
						t.Fatal(err)
					}
					b.WriteString("--\n")
				}
				return b.String()
			}
			before := snapshot()
			for _, tt := range rejected {
				t.Run("rejects "+tt.name, func(t *testing.T) {
					err := tt.call(s)
					if err == nil {
						t.Fatal("err = nil; want an error, not a value altered to fit")
					}
					if errors.Is(err, auth.ErrNotFound) || !strings.HasPrefix(err.Error(), "mysqlstore: ") {
						t.Errorf("err = %v; want a mysqlstore error that is not auth.ErrNotFound", err)
					}
					if after := snapshot(); after != before {
						t.Errorf("the tables changed:\n%s\nwant:\n%s", after, before)
					}
				})
			}

			// The largest values round-trip. auth_users.id holds 255 bytes
			// too, so the token's user can be stored.
			biggestUser := sampleUser
			biggestUser.ID, biggestUser.Email = strings.Repeat("u", 255), "biggest@example.com"
			if err := s.CreateUser(ctx, biggestUser); err != nil {
				t.Fatalf("CreateUser with a 255-byte ID = %v", err)
			}
			biggest := auth.RefreshToken{
				Hash: strings.Repeat("h", 64), Family: strings.Repeat("f", 64), UserID: biggestUser.ID,
				IssuedAt:  time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
				ExpiresAt: time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC),
			}
			if err := s.CreateRefreshToken(ctx, biggest, 0); err != nil {
				t.Fatalf("CreateRefreshToken of the largest values = %v", err)
			}
			if err := s.RevokeSessions(ctx, biggest.UserID, biggest.ExpiresAt); err != nil {
				t.Fatalf("RevokeSessions of a 255-byte user ID = %v", err)
			}
			got, err := s.RefreshToken(ctx, biggest.Hash)
			biggest.RevokedAt = biggest.ExpiresAt
			if err != nil || got != biggest {
				t.Errorf("RefreshToken of the largest values = %+v, %v; want %+v", got, err, biggest)
			}
		})
	}
}

// TestSessionsStorageFormat checks the columns of the session tables as
// the package documentation shows them, and that times are stored as the
// UTC date and time under a session time zone that is not UTC.
func TestSessionsStorageFormat(t *testing.T) {
	displayWidth := regexp.MustCompile(`^((?:tiny|small|medium|big)?int)\(\d+\)`)
	ctx := t.Context()
	s, db := newStore(t, nonStrict)
	rows, err := db.QueryContext(ctx, `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('auth_sessions', 'auth_refresh_tokens', 'auth_revocations')
		ORDER BY TABLE_NAME, ORDINAL_POSITION`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var table, col, typ, null string
		if err := rows.Scan(&table, &col, &typ, &null); err != nil {
			t.Fatal(err)
		}
		// MariaDB and MySQL before 8.0.19 show a display width
		// (bigint(20)); later MySQL versions do not.
		typ = displayWidth.ReplaceAllString(typ, "$1")
		got = append(got, fmt.Sprintf("%s.%s %s %s", table, col, typ, null))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"auth_refresh_tokens.hash varbinary(64) NO",
		"auth_refresh_tokens.family_id varbinary(64) NO",
		"auth_refresh_tokens.user_id varbinary(255) NO",
		"auth_refresh_tokens.issued_at datetime(6) NO",
		"auth_refresh_tokens.expires_at datetime(6) NO",
		"auth_refresh_tokens.used_at datetime(6) YES",
		"auth_revocations.user_id varbinary(255) NO",
		"auth_revocations.revoked_at datetime(6) NO",
		"auth_revocations.generation bigint NO",
		"auth_sessions.id varbinary(64) NO",
		"auth_sessions.user_id varbinary(255) NO",
		"auth_sessions.expires_at datetime(6) NO",
		"auth_sessions.revoked_at datetime(6) YES",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("columns:\n\t%q\nwant:\n\t%q", got, want)
	}

	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	ist := time.FixedZone("IST", 5*3600+1800)
	tok := sampleToken
	tok.IssuedAt = time.Date(2024, 5, 17, 19, 15, 30, 654321987, ist)
	if err := s.CreateRefreshToken(ctx, tok, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseRefreshToken(ctx, tok.Hash, tok.IssuedAt); err != nil {
		t.Fatal(err)
	}
	var issued, used string
	if err := db.QueryRowContext(ctx, `SELECT CAST(issued_at AS CHAR), CAST(used_at AS CHAR) FROM auth_refresh_tokens`).Scan(&issued, &used); err != nil {
		t.Fatal(err)
	}
	if want := "2024-05-17 13:45:30.654321"; issued != want || used != want {
		t.Errorf("issued_at, used_at stored as %s, %s; want %s (the UTC time, truncated to microseconds)", issued, used, want)
	}
}

// TestMigrateAddsSessionTables migrates a database that has only the
// tables of an earlier version, with a user in it: Migrate adds the
// session tables and keeps the user.
func TestMigrateAddsSessionTables(t *testing.T) {
	ctx := t.Context()
	db := dbtest.Open(t, dbtest.MySQLDriver, freshDSN(t))
	for _, ddl := range []string{mysqlstore.Schema, mysqlstore.AttemptsSchema} {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	s := mysqlstore.New(db)
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

// TestSessionsReplicas uses one token through Stores on separate pools,
// all at once, several rounds: exactly one call sees it unused, and every
// other sees the winner's UsedAt. Creating the tokens of one new family
// through all of them at once must succeed too (no deadlock between the
// upserts of the family).
func TestSessionsReplicas(t *testing.T) {
	const n, each, rounds = 4, 10, 5
	dsn := freshDSN(t)
	stores := make([]*mysqlstore.Store, n)
	for i := range stores {
		stores[i] = mysqlstore.New(dbtest.Open(t, dbtest.MySQLDriver, dsn))
		if err := stores[i].Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
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
					IssuedAt: base, ExpiresAt: base.Add(time.Duration(i+1) * time.Minute),
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
	s, db := newStore(t)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	old := sampleToken
	if err := s.CreateRefreshToken(ctx, old, 0); err != nil {
		t.Fatal(err)
	}
	now := old.ExpiresAt
	next := auth.RefreshToken{Hash: tokenHash(2), Family: old.Family, UserID: old.UserID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	const layout = "2006-01-02 15:04:05.000000"

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit, a no-op
	// CreateRefreshToken inserts the token first; here it comes last, as
	// under REPEATABLE READ the prune of the tokens would wait for it (a
	// next-key lock on the index of expires_at), and never reach the
	// families while the transaction is open.
	if _, err := tx.ExecContext(ctx, `UPDATE auth_sessions SET expires_at = ? WHERE id = ?`, next.ExpiresAt.Format(layout), next.Family); err != nil {
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
	// Wait until the prune of the families is running: it cannot finish
	// while the transaction holds the family's row. (INNODB_TRX does not
	// reliably list an autocommit DELETE waiting for a lock on MariaDB.)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var waiting int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND INFO LIKE 'DELETE FROM auth_sessions%'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("DeleteExpiredRefreshTokens never reached the families")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		next.Hash, next.Family, next.UserID, next.IssuedAt.Format(layout), next.ExpiresAt.Format(layout)); err != nil {
		t.Fatal(err)
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

// TestSessionsDeadlineWhileBlocked runs every writing method while
// another session holds write locks on the tables, so that each call is
// still waiting in the server when its context's deadline passes. The
// error must wrap context.DeadlineExceeded, and nothing must change, even
// though the driver only drops the connection and the server runs the
// abandoned statements once the locks are released.
func TestSessionsDeadlineWhileBlocked(t *testing.T) {
	ctx := t.Context()
	s, db := newStore(t)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, sampleToken, 0); err != nil {
		t.Fatal(err)
	}

	locker, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	if _, err := locker.ExecContext(ctx, "LOCK TABLES auth_users WRITE, auth_sessions WRITE, auth_refresh_tokens WRITE, auth_revocations WRITE"); err != nil {
		t.Fatal(err)
	}
	now := sampleToken.IssuedAt.Add(time.Hour)
	other := sampleToken
	other.Hash, other.Family = tokenHash(2), familyID(2)
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"UpdatePasswordHash", func(ctx context.Context) error {
			return s.UpdatePasswordHash(ctx, sampleUser.ID, sampleUser.PasswordHash, "new")
		}},
		{"CreateRefreshToken", func(ctx context.Context) error { return s.CreateRefreshToken(ctx, other, 0) }},
		{"UseRefreshToken", func(ctx context.Context) error { _, err := s.UseRefreshToken(ctx, sampleToken.Hash, now); return err }},
		{"RevokeFamily", func(ctx context.Context) error { return s.RevokeFamily(ctx, sampleToken.Family, now) }},
		{"RevokeSessions", func(ctx context.Context) error { return s.RevokeSessions(ctx, sampleUser.ID, now) }},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s blocked by a lock past its deadline = %v; want an error wrapping context.DeadlineExceeded", c.name, err)
		}
	}
	if _, err := locker.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
		t.Fatal(err)
	}

	// Wait until the server has finished the abandoned statements.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		err := locker.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d abandoned statements still running on the server", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, err := s.UserByID(ctx, sampleUser.ID); err != nil || got != sampleUser {
		t.Errorf("UserByID after an UpdatePasswordHash that timed out = %+v, %v; want %+v, unchanged", got, err, sampleUser)
	}
	if got, err := s.RefreshToken(ctx, sampleToken.Hash); err != nil || got != sampleToken {
		t.Errorf("RefreshToken after UseRefreshToken, RevokeFamily and RevokeSessions calls that timed out = %+v, %v; want %+v, unused and live", got, err, sampleToken)
	}
	if _, err := s.RefreshToken(ctx, other.Hash); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("RefreshToken of the token of a CreateRefreshToken that timed out = %v; want auth.ErrNotFound", err)
	}
	if gen, err := s.SessionGeneration(ctx, sampleUser.ID); err != nil || gen != 0 {
		t.Errorf("SessionGeneration after a RevokeSessions that timed out = %v, %v; want 0", gen, err)
	}
}
