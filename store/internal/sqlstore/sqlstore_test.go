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
	"NoRowOnEmailConflict": {
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
	},
	// As mysqlstore does.
	"ErrorOnAnyConflict": {
		Name:       "test",
		Insert:     insert,
		Conflicts:  sqlstore.ErrorOnAnyConflict,
		EmailTaken: `SELECT 1 FROM auth_users WHERE email = ?`,
		InsertInTx: true,
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
	},
}

// store is an auth.UserStore and auth.AttemptStore made of a Dialect and
// a database.
type store struct {
	d     *sqlstore.Dialect
	db    *sql.DB
	prune *sqlstore.Pruner
}

func newStore(d *sqlstore.Dialect, db *sql.DB) store { return store{d, db, new(sqlstore.Pruner)} }

func (s store) Attempts(ctx context.Context, key string) (auth.Attempts, error) {
	return s.d.Attempts(ctx, s.db, key)
}

func (s store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (auth.Attempts, error) {
	return s.d.AddAttempt(ctx, s.db, s.prune, key, now, expiry)
}

func (s store) ResetAttempts(ctx context.Context, key string) error {
	return s.d.ResetAttempts(ctx, s.db, key)
}

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
		for _, ddl := range []string{schema, attemptsSchema} {
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

func (stuckConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (stuckConn) Close() error                        { return nil }
func (stuckConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }

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
