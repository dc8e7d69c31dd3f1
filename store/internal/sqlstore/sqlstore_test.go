package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

// The shared code is tested here on SQLite, which needs no server, with
// both ways of reporting a taken email; the stores' own tests cover each
// real dialect.

const schema = `CREATE TABLE auth_users (
	id            TEXT NOT NULL PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
)`

const attemptsSchema = `CREATE TABLE auth_attempts (
	key_hash TEXT NOT NULL PRIMARY KEY,
	attempts INTEGER NOT NULL,
	last_at  INTEGER NOT NULL
)`

const sessionsSchema = `CREATE TABLE auth_sessions (
	id         TEXT NOT NULL PRIMARY KEY,
	user_id    TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE TABLE auth_refresh_tokens (
	hash       TEXT NOT NULL PRIMARY KEY,
	family_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
);
CREATE TABLE auth_revocations (
	user_id    TEXT NOT NULL PRIMARY KEY,
	revoked_at INTEGER NOT NULL,
	generation INTEGER NOT NULL DEFAULT 1
)`

// The password and session statements, as sqlitestore has them (the
// prunes delete sqlstore.PruneBatch rows at most).
const (
	tokenGet = `SELECT t.hash, t.family_id, t.user_id, t.issued_at, t.expires_at, t.used_at, s.revoked_at
FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.family_id WHERE t.hash = ?`
	passwordUpdate = `UPDATE auth_users SET password_hash = ? WHERE id = ? AND password_hash = ?`
	passwordIs     = `SELECT 1 FROM auth_users WHERE id = ? AND password_hash = ?`
	tokenInsert    = `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`
	familyUpsert = `INSERT INTO auth_sessions (id, user_id, expires_at)
SELECT family_id, user_id, expires_at FROM auth_refresh_tokens WHERE hash = ?
ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`
	tokenUse           = `UPDATE auth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`
	familyRevoke       = `UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`
	userFamiliesRevoke = `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`
	revocationUpsert   = `INSERT INTO auth_revocations (user_id, revoked_at, generation) VALUES (?, ?, 1)
ON CONFLICT (user_id) DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at), generation = generation + 1`
	generationGet = `SELECT generation FROM auth_revocations WHERE user_id = ?`
	userLock      = `UPDATE auth_users SET id = id WHERE id = ? RETURNING 1`
	tokensPrune   = `DELETE FROM auth_refresh_tokens WHERE hash IN
	(SELECT hash FROM auth_refresh_tokens WHERE expires_at <= ? LIMIT 1000)`
	familiesPrune = `DELETE FROM auth_sessions WHERE id IN
	(SELECT id FROM auth_sessions WHERE expires_at <= ? LIMIT 1000)`
)

// withSessions returns d with the password and session statements.
func withSessions(d sqlstore.Dialect) *sqlstore.Dialect {
	d.PasswordUpdate, d.PasswordIs = passwordUpdate, passwordIs
	d.TokenInsert, d.FamilyUpsert, d.TokenUse = tokenInsert, familyUpsert, tokenUse
	d.TokenGet, d.TokenGetUsed = tokenGet, tokenGet
	d.FamilyRevoke, d.UserFamiliesRevoke = familyRevoke, userFamiliesRevoke
	d.RevocationUpsert, d.GenerationGet, d.UserLock = revocationUpsert, generationGet, userLock
	d.TokensPrune, d.FamiliesPrune = tokensPrune, familiesPrune
	return &d
}

// The attempt statements, as sqlitestore has them; upsert is followed by
// RETURNING or, with AttemptsAddInTx, by nothing.
const (
	attemptsGet   = `SELECT attempts, last_at FROM auth_attempts WHERE key_hash = ?`
	attemptsReset = `DELETE FROM auth_attempts WHERE key_hash = ?`
	attemptsPrune = `DELETE FROM auth_attempts WHERE key_hash IN (SELECT key_hash FROM auth_attempts WHERE last_at <= ? LIMIT 1000)`
	upsert        = `INSERT INTO auth_attempts (key_hash, attempts, last_at) VALUES (?, 1, ?)
ON CONFLICT (key_hash) DO UPDATE SET
	attempts = CASE WHEN last_at <= ? THEN 1 ELSE attempts + 1 END,
	last_at  = max(last_at, ?)`
)

const (
	selectByEmail = `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE email = ?`
	selectByID    = `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE id = ?`
	insert        = `INSERT INTO auth_users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`
)

func encodeMicros(t time.Time) any { return t.UnixMicro() }

func decodeMicros(src any) (time.Time, error) {
	v, ok := src.(int64)
	if !ok {
		return time.Time{}, fmt.Errorf("got %T", src)
	}
	return time.UnixMicro(v).UTC(), nil
}

var dialects = map[string]*sqlstore.Dialect{
	// As sqlitestore and pgstore do.
	"NoRowOnEmailConflict": withSessions(sqlstore.Dialect{
		Name:       "test",
		Insert:     insert + ` ON CONFLICT (email) DO NOTHING`,
		Conflicts:  sqlstore.NoRowOnEmailConflict,
		ByEmail:    selectByEmail,
		ByID:       selectByID,
		EncodeTime: encodeMicros,
		DecodeTime: decodeMicros,
		// As sqlitestore and pgstore do: RETURNING.
		AttemptsGet:   attemptsGet,
		AttemptsAdd:   upsert + ` RETURNING attempts, last_at`,
		AttemptsReset: attemptsReset,
		AttemptsPrune: attemptsPrune,
	}),
	// As mysqlstore does.
	"ErrorOnAnyConflict": withSessions(sqlstore.Dialect{
		Name:       "test",
		Insert:     insert,
		Conflicts:  sqlstore.ErrorOnAnyConflict,
		EmailTaken: `SELECT 1 FROM auth_users WHERE email = ?`,
		WriteInTx:  true,
		ByEmail:    selectByEmail,
		ByID:       selectByID,
		EncodeTime: encodeMicros,
		DecodeTime: decodeMicros,
		// As mysqlstore does: the upsert and a select in a transaction.
		AttemptsGet:     attemptsGet,
		AttemptsAdd:     upsert,
		AttemptsAddInTx: true,
		AttemptsReset:   attemptsReset,
		AttemptsPrune:   attemptsPrune,
	}),
}

// store is an auth.UserStore and throttle.Store made of a Dialect and
// a database.
type store struct {
	d     *sqlstore.Dialect
	db    *sql.DB
	prune *sqlstore.Pruner
}

func newStore(d *sqlstore.Dialect, db *sql.DB) store { return store{d, db, new(sqlstore.Pruner)} }

func (s store) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	return s.d.Attempts(ctx, s.db, key)
}

func (s store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	return s.d.AddAttempt(ctx, s.db, s.prune, key, now, expiry)
}

func (s store) ResetAttempts(ctx context.Context, key string) error {
	return s.d.ResetAttempts(ctx, s.db, key)
}

func (s store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	return s.d.UpdatePasswordHash(ctx, s.db, id, oldHash, newHash)
}

func (s store) CreateRefreshToken(ctx context.Context, t auth.RefreshToken, gen int64) error {
	return s.d.CreateRefreshToken(ctx, s.db, t, gen)
}

func (s store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (auth.RefreshToken, error) {
	return s.d.UseRefreshToken(ctx, s.db, hash, now)
}

func (s store) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	return s.d.RefreshToken(ctx, s.db, hash)
}

func (s store) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	return s.d.RevokeFamily(ctx, s.db, family, now)
}

func (s store) RevokeSessions(ctx context.Context, userID string, now time.Time) error {
	return s.d.RevokeSessions(ctx, s.db, userID, now)
}

func (s store) SessionGeneration(ctx context.Context, userID string) (int64, error) {
	return s.d.SessionGeneration(ctx, s.db, userID)
}

func (s store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	return s.d.DeleteExpiredRefreshTokens(ctx, s.db, now)
}

var (
	_ auth.PasswordStore = store{}
	_ auth.SessionStore  = store{}
)

func (s store) CreateUser(ctx context.Context, u auth.User) error {
	return s.d.CreateUser(ctx, s.db, u)
}

func (s store) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return s.d.UserByEmail(ctx, s.db, email)
}

func (s store) UserByID(ctx context.Context, id string) (auth.User, error) {
	return s.d.UserByID(ctx, s.db, id)
}

// openDB opens a fresh SQLite database, with the table if migrate. It
// has one connection, so that concurrent writers queue rather than meet
// SQLITE_BUSY.
func openDB(t *testing.T, migrate bool) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(t.TempDir(), "t.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if migrate {
		for _, ddl := range []string{schema, attemptsSchema, sessionsSchema} {
			if _, err := db.ExecContext(t.Context(), ddl); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

func TestConformance(t *testing.T) {
	for name, d := range dialects {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) auth.UserStore { return newStore(d, openDB(t, true)) })
		})
	}
}

func TestErrors(t *testing.T) {
	ctx := t.Context()
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: time.Unix(0, 0)}
	for name, d := range dialects {
		t.Run(name, func(t *testing.T) {
			s := newStore(d, openDB(t, true))
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			noTable := newStore(d, openDB(t, false))

			checked := *d
			errCheck := errors.New("value the table cannot hold")
			checked.Check = func(auth.User) error { return errCheck }

			badTime := *d
			badTime.DecodeTime = func(any) (time.Time, error) { return time.Time{}, errors.New("bad time") }

			// CheckString and CheckTime run first: had a statement run,
			// the error would be "no such table".
			var checkedCols []string
			checkedStrings := *d
			checkedStrings.CheckString = func(col, _ string) error {
				checkedCols = append(checkedCols, col)
				return nil
			}
			rejectsStrings := *d
			rejectsStrings.CheckString = func(col, _ string) error { return fmt.Errorf("%s: %w", col, errCheck) }
			rejectsTimes := *d
			rejectsTimes.CheckTime = func(time.Time) error { return errCheck }
			now := time.Now()
			tok := auth.RefreshToken{Hash: "h", Family: "f", UserID: "u", IssuedAt: now, ExpiresAt: now}
			sessionChecks := []struct {
				name string
				err  error
			}{
				{"UpdatePasswordHash", newStore(&rejectsStrings, noTable.db).UpdatePasswordHash(ctx, "u", "old", "new")},
				{"UpdatePasswordHash to the same hash", newStore(&rejectsStrings, noTable.db).UpdatePasswordHash(ctx, "u", "old", "old")},
				{"CreateRefreshToken string", newStore(&rejectsStrings, noTable.db).CreateRefreshToken(ctx, tok, 0)},
				{"CreateRefreshToken time", newStore(&rejectsTimes, noTable.db).CreateRefreshToken(ctx, tok, 0)},
				{"UseRefreshToken", func() error { _, err := newStore(&rejectsTimes, noTable.db).UseRefreshToken(ctx, "h", now); return err }()},
				{"RevokeFamily", newStore(&rejectsTimes, noTable.db).RevokeFamily(ctx, "f", now)},
				{"RevokeSessions string", newStore(&rejectsStrings, noTable.db).RevokeSessions(ctx, "u", now)},
				{"RevokeSessions time", newStore(&rejectsTimes, noTable.db).RevokeSessions(ctx, "u", now)},
				{"DeleteExpiredRefreshTokens", func() error {
					_, err := newStore(&rejectsTimes, noTable.db).DeleteExpiredRefreshTokens(ctx, now)
					return err
				}()},
			}
			for _, c := range sessionChecks {
				if !errors.Is(c.err, errCheck) {
					t.Errorf("%s with a failing check = %v; want the check's error", c.name, c.err)
				}
			}
			cs := newStore(&checkedStrings, s.db)
			_ = cs.UpdatePasswordHash(ctx, u.ID, u.PasswordHash, "new")
			_ = cs.CreateRefreshToken(ctx, tok, 0)
			_ = cs.RevokeSessions(ctx, "u", now)
			if got, want := strings.Join(checkedCols, " "), "auth_users.password_hash auth_refresh_tokens.hash auth_refresh_tokens.family_id auth_refresh_tokens.user_id auth_revocations.user_id"; got != want {
				t.Errorf("CheckString was called for the columns %s; want %s", got, want)
			}

			tests := []struct {
				name      string
				err       error
				wantIs    error // nil: must wrap neither sentinel
				wantInMsg string
			}{
				{"taken ID", s.CreateUser(ctx, auth.User{ID: u.ID, Email: "b@example.com"}), nil, "UNIQUE constraint failed: auth_users.id"},
				{"taken ID and email", s.CreateUser(ctx, u), auth.ErrDuplicateEmail, "test: create user: "},
				// The table is missing, so the look-up that tells a taken
				// email from other failures fails too: the insert's error
				// is what is reported.
				{"no table", noTable.CreateUser(ctx, u), nil, "no such table"},
				// Check runs first: had the insert run, the error would be
				// "no such table".
				{"Check fails", newStore(&checked, noTable.db).CreateUser(ctx, u), errCheck, "test: create user: value the table cannot hold"},
				{"DecodeTime fails", func() error { _, err := newStore(&badTime, s.db).UserByID(ctx, u.ID); return err }(), nil, "created_at: bad time"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if tt.err == nil {
						t.Fatal("err = nil; want an error")
					}
					if tt.wantIs != nil && !errors.Is(tt.err, tt.wantIs) {
						t.Errorf("err = %v; want errors.Is(err, %v)", tt.err, tt.wantIs)
					}
					if tt.wantIs == nil && (errors.Is(tt.err, auth.ErrDuplicateEmail) || errors.Is(tt.err, auth.ErrNotFound)) {
						t.Errorf("err = %v; want an error wrapping neither auth.ErrDuplicateEmail nor auth.ErrNotFound", tt.err)
					}
					if !strings.Contains(tt.err.Error(), tt.wantInMsg) || !strings.HasPrefix(tt.err.Error(), "test: ") {
						t.Errorf("err = %q; want the prefix \"test: \" and %q", tt.err, tt.wantInMsg)
					}
				})
			}
		})
	}
}

// stuckDriver is a database/sql driver whose statements wait for their
// context to end and then fail in their own words, as modernc.org/sqlite
// ("interrupted") and lib/pq ("canceling statement due to user request")
// do, without wrapping ctx.Err().
type stuckDriver struct{}

type stuckConn struct{}

var errInterrupted = errors.New("interrupted")

func (stuckDriver) Open(string) (driver.Conn, error) { return stuckConn{}, nil }

// stuckTx is a transaction of a stuckConn, whose statements block as
// the connection's do.
type stuckTx struct{}

func (stuckConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (stuckConn) Close() error                        { return nil }
func (stuckConn) Begin() (driver.Tx, error)           { return stuckTx{}, nil }

func (stuckTx) Commit() error   { return nil }
func (stuckTx) Rollback() error { return nil }

func (stuckConn) ExecContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Result, error) {
	<-ctx.Done()
	return nil, errInterrupted
}

func (stuckConn) QueryContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Rows, error) {
	<-ctx.Done()
	return nil, errInterrupted
}

func init() { sql.Register("stuck", stuckDriver{}) }

// TestContextEndsMidCall checks that when ctx ends while a statement runs,
// the error wraps ctx.Err() even though the driver's own error does not.
func TestContextEndsMidCall(t *testing.T) {
	db, err := sql.Open("stuck", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := dialects["NoRowOnEmailConflict"]
	calls := map[string]func(ctx context.Context) error{
		"CreateUser":  func(ctx context.Context) error { return d.CreateUser(ctx, db, auth.User{ID: "x", Email: "x"}) },
		"UserByEmail": func(ctx context.Context) error { _, err := d.UserByEmail(ctx, db, "x"); return err },
		"UserByID":    func(ctx context.Context) error { _, err := d.UserByID(ctx, db, "x"); return err },
		"Attempts":    func(ctx context.Context) error { _, err := d.Attempts(ctx, db, "x"); return err },
		"AddAttempt": func(ctx context.Context) error {
			_, err := d.AddAttempt(ctx, db, new(sqlstore.Pruner), "x", time.Now(), time.Minute)
			return err
		},
		"ResetAttempts": func(ctx context.Context) error { return d.ResetAttempts(ctx, db, "x") },
		"UpdatePasswordHash": func(ctx context.Context) error {
			return d.UpdatePasswordHash(ctx, db, "x", "old", "new")
		},
		"UpdatePasswordHash to the same hash": func(ctx context.Context) error {
			return d.UpdatePasswordHash(ctx, db, "x", "old", "old")
		},
		"CreateRefreshToken": func(ctx context.Context) error {
			return d.CreateRefreshToken(ctx, db, auth.RefreshToken{Hash: "x", Family: "f", UserID: "u"}, 0)
		},
		"UseRefreshToken": func(ctx context.Context) error {
			_, err := d.UseRefreshToken(ctx, db, "x", time.Now())
			return err
		},
		"RefreshToken":   func(ctx context.Context) error { _, err := d.RefreshToken(ctx, db, "x"); return err },
		"RevokeFamily":   func(ctx context.Context) error { return d.RevokeFamily(ctx, db, "f", time.Now()) },
		"RevokeSessions": func(ctx context.Context) error { return d.RevokeSessions(ctx, db, "u", time.Now()) },
		"SessionGeneration": func(ctx context.Context) error {
			_, err := d.SessionGeneration(ctx, db, "u")
			return err
		},
		"DeleteExpiredRefreshTokens": func(ctx context.Context) error {
			_, err := d.DeleteExpiredRefreshTokens(ctx, db, time.Now())
			return err
		},
	}
	// The same calls in a transaction, where the Dialect has one for a
	// single statement.
	inTx := *dialects["ErrorOnAnyConflict"]
	for _, name := range []string{"CreateUser", "UpdatePasswordHash", "RevokeFamily"} {
		calls[name+" with WriteInTx"] = map[string]func(ctx context.Context) error{
			"CreateUser":         func(ctx context.Context) error { return inTx.CreateUser(ctx, db, auth.User{ID: "x", Email: "x"}) },
			"UpdatePasswordHash": func(ctx context.Context) error { return inTx.UpdatePasswordHash(ctx, db, "x", "old", "new") },
			"RevokeFamily":       func(ctx context.Context) error { return inTx.RevokeFamily(ctx, db, "f", time.Now()) },
		}[name]
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errInterrupted) {
			t.Errorf("%s interrupted by its deadline = %v; want an error wrapping context.DeadlineExceeded and the driver's error", name, err)
		}
	}
}

// TestDeleteExpiredBatches checks that DeleteExpiredRefreshTokens deletes
// every expired token and emptied family, more than a batch of each, and
// counts the tokens.
func TestDeleteExpiredBatches(t *testing.T) {
	ctx := t.Context()
	const expired, live = 2*sqlstore.PruneBatch + 500, 3
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	for name, d := range dialects {
		t.Run(name, func(t *testing.T) {
			s := newStore(d, openDB(t, true))
			// Fill the tables directly, in one transaction: a token and a
			// family each.
			tx, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range expired + live {
				exp := now.Add(-time.Duration(i) * time.Second)
				if i < live {
					exp = now.Add(time.Second)
				}
				h, f := fmt.Sprintf("h%d", i), fmt.Sprintf("f%d", i)
				if _, err := tx.ExecContext(ctx, tokenInsert, h, f, "u", encodeMicros(exp.Add(-time.Hour)), encodeMicros(exp)); err != nil {
					t.Fatal(err)
				}
				if _, err := tx.ExecContext(ctx, familyUpsert, h); err != nil {
					t.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			n, err := s.DeleteExpiredRefreshTokens(ctx, now)
			if err != nil || n != expired {
				t.Errorf("DeleteExpiredRefreshTokens = %d, %v; want %d, nil", n, err, expired)
			}
			for table, want := range map[string]int{"auth_refresh_tokens": live, "auth_sessions": live} {
				var rows int
				if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&rows); err != nil || rows != want {
					t.Errorf("%s holds %d rows (%v) after DeleteExpiredRefreshTokens; want %d", table, rows, err, want)
				}
			}
		})
	}
}
