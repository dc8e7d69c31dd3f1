package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
)

// Schema is the SQLite DDL of the users table. It is idempotent: executing
// it on a database that already has the table changes nothing.
// [Store.Migrate] executes it.
const Schema = `CREATE TABLE IF NOT EXISTS auth_users (
	id            TEXT NOT NULL PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL -- unix microseconds, UTC
)`

// AttemptsSchema is the SQLite DDL of the attempt counters' table (see
// [auth.AttemptStore]) and of its index on last_at, by which idle counters
// are pruned. Like [Schema], it is idempotent; [Store.Migrate] executes
// it after Schema.
const AttemptsSchema = `CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash TEXT NOT NULL PRIMARY KEY,
	attempts INTEGER NOT NULL,
	last_at  INTEGER NOT NULL -- unix microseconds, UTC
);
CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at)`

// dialect is what sets SQLite apart for the code shared with the other SQL
// stores: ON CONFLICT(email) DO NOTHING, and created_at as unix
// microseconds in an INTEGER.
var dialect = sqlstore.Dialect{
	Name: "sqlitestore",
	Insert: `INSERT INTO auth_users (id, email, name, password_hash, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT(email) DO NOTHING`,
	Conflicts:  sqlstore.NoRowOnEmailConflict,
	ByEmail:    `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE email = ?`,
	ByID:       `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE id = ?`,
	EncodeTime: func(t time.Time) any { return t.UnixMicro() },
	DecodeTime: func(src any) (time.Time, error) {
		micros, ok := src.(int64)
		if !ok {
			return time.Time{}, fmt.Errorf("got %T, want an INTEGER of unix microseconds", src)
		}
		return time.UnixMicro(micros).UTC(), nil
	},
	AttemptsGet: `SELECT attempts, last_at FROM auth_attempts WHERE key_hash = ?`,
	AttemptsAdd: `INSERT INTO auth_attempts (key_hash, attempts, last_at) VALUES (?, 1, ?)
ON CONFLICT (key_hash) DO UPDATE SET
	attempts = CASE WHEN last_at <= ? THEN 1 ELSE attempts + 1 END,
	last_at  = max(last_at, ?)
RETURNING attempts, last_at`,
	AttemptsReset: `DELETE FROM auth_attempts WHERE key_hash = ?`,
	AttemptsPrune: `DELETE FROM auth_attempts WHERE key_hash IN
	(SELECT key_hash FROM auth_attempts WHERE last_at <= ? LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,
}

// Store is an [auth.UserStore] in the auth_users table of a SQLite
// database. Create one with [New]; it is safe for concurrent use.
type Store struct {
	db *sql.DB
	// write holds a token while this Store writes. SQLite allows one
	// writer at a time; queueing this Store's writers here, rather than
	// leaving them to poll in SQLite's busy handler, keeps a burst of
	// sign-ups from starving one another into SQLITE_BUSY.
	write chan struct{}
	prune sqlstore.Pruner
}

var (
	_ auth.UserStore    = (*Store)(nil)
	_ auth.AttemptStore = (*Store)(nil)
)

// New returns a Store that keeps users in db, which the caller opened with
// a SQLite driver and still owns (the Store never closes it). New runs
// nothing; call [Store.Migrate] before first use if the table may not
// exist.
func New(db *sql.DB) *Store {
	return &Store{db: db, write: make(chan struct{}, 1)}
}

// lockWrite waits for this Store's write token, or for ctx to be done.
// The caller must call unlockWrite if it returns nil.
func (s *Store) lockWrite(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.write <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) unlockWrite() { <-s.write }

// Migrate creates the auth_users table (see [Schema]) and the
// auth_attempts table (see [AttemptsSchema]) if they do not exist. It
// keeps existing tables and their rows, so it is safe to call on every
// start.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	defer s.unlockWrite()
	for _, ddl := range []string{Schema, AttemptsSchema} {
		if _, err := s.db.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("sqlitestore: migrate: %w", err)
		}
	}
	return nil
}

// CreateUser inserts u. It returns an error wrapping [auth.ErrDuplicateEmail]
// if the email is taken, and a different error (the driver's constraint
// failure, wrapped) if only the ID is; in both cases nothing is stored.
func (s *Store) CreateUser(ctx context.Context, u auth.User) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: create user: %w", err)
	}
	defer s.unlockWrite()
	return dialect.CreateUser(ctx, s.db, u)
}

// UserByEmail returns the user whose email is exactly email, or an error
// wrapping [auth.ErrNotFound].
func (s *Store) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return dialect.UserByEmail(ctx, s.db, email)
}

// UserByID returns the user with the given ID, or an error wrapping
// [auth.ErrNotFound].
func (s *Store) UserByID(ctx context.Context, id string) (auth.User, error) {
	return dialect.UserByID(ctx, s.db, id)
}

// Attempts returns the attempt counter under key, or the zero
// auth.Attempts if there is none.
func (s *Store) Attempts(ctx context.Context, key string) (auth.Attempts, error) {
	return dialect.Attempts(ctx, s.db, key)
}

// AddAttempt counts an attempt under key at now, restarting the counter
// if its last attempt is expiry old, and returns the counter. Now and
// then it also deletes counters idle for longer than
// [auth.AttemptRetention].
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (auth.Attempts, error) {
	if err := s.lockWrite(ctx); err != nil {
		return auth.Attempts{}, fmt.Errorf("sqlitestore: add attempt: %w", err)
	}
	defer s.unlockWrite()
	return dialect.AddAttempt(ctx, s.db, &s.prune, key, now, expiry)
}

// ResetAttempts deletes the attempt counter under key, if there is one.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: reset attempts: %w", err)
	}
	defer s.unlockWrite()
	return dialect.ResetAttempts(ctx, s.db, key)
}
