package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
)

// Schema is the PostgreSQL DDL of the users table. It is idempotent:
// executing it on a database that already has the table changes nothing.
// [Store.Migrate] executes it, under [MigrateLockKey].
//
// id and email use the "C" collation: they are compared byte for byte
// anyway, and their unique indexes then never depend on the operating
// system's collation rules, whose changes can corrupt text indexes.
const Schema = `CREATE TABLE IF NOT EXISTS auth_users (
	id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	email         TEXT COLLATE "C" NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    TIMESTAMPTZ NOT NULL
)`

// AttemptsSchema is the PostgreSQL DDL of the attempt counters' table
// (see [auth.AttemptStore]) and of its index on last_at, by which idle
// counters are pruned. Like [Schema], it is idempotent; [Store.Migrate]
// executes it after Schema, in the same transaction.
const AttemptsSchema = `CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	attempts BIGINT NOT NULL,
	last_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at)`

// MigrateLockKey is the key of the transaction-level advisory lock that
// [Store.Migrate] holds while it executes [Schema], so that replicas
// starting at once migrate one after another. It is "gateauth" in ASCII,
// read as a big-endian int64 (0x6761746561757468).
const MigrateLockKey int64 = 7449363237423117416

// dialect is what sets PostgreSQL apart for the code shared with the other
// SQL stores: $n placeholders, ON CONFLICT (email) DO NOTHING, and
// created_at as a TIMESTAMPTZ.
var dialect = sqlstore.Dialect{
	Name: "pgstore",
	Insert: `INSERT INTO auth_users (id, email, name, password_hash, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (email) DO NOTHING`,
	Conflicts: sqlstore.NoRowOnEmailConflict,
	ByEmail:   `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE email = $1`,
	ByID:      `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE id = $1`,
	// TIMESTAMPTZ keeps microseconds. Truncating here, rather than leaving
	// it to the driver (pgx truncates, lib/pq's text form is rounded by
	// the server), stores the same instant whichever driver is used.
	EncodeTime: func(t time.Time) any { return t.Truncate(time.Microsecond).UTC() },
	DecodeTime: func(src any) (time.Time, error) {
		t, ok := src.(time.Time)
		if !ok {
			return time.Time{}, fmt.Errorf("got %T, want a time.Time (is the column a TIMESTAMPTZ?)", src)
		}
		return t.UTC(), nil
	},
	AttemptsGet: `SELECT attempts, last_at FROM auth_attempts WHERE key_hash = $1`,
	AttemptsAdd: `INSERT INTO auth_attempts AS a (key_hash, attempts, last_at) VALUES ($1, 1, $2)
ON CONFLICT (key_hash) DO UPDATE SET
	attempts = CASE WHEN a.last_at <= $3 THEN 1 ELSE a.attempts + 1 END,
	last_at  = GREATEST(a.last_at, $4)
RETURNING attempts, last_at`,
	AttemptsReset: `DELETE FROM auth_attempts WHERE key_hash = $1`,
	AttemptsPrune: `DELETE FROM auth_attempts WHERE key_hash IN
	(SELECT key_hash FROM auth_attempts WHERE last_at <= $1 LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,
}

// Store is an [auth.UserStore] in the auth_users table of a PostgreSQL
// database. Create one with [New]; it is safe for concurrent use, and any
// number of Stores, in any number of processes, may share one database.
type Store struct {
	db    *sql.DB
	prune sqlstore.Pruner
}

var (
	_ auth.UserStore    = (*Store)(nil)
	_ auth.AttemptStore = (*Store)(nil)
)

// New returns a Store that keeps users in db, which the caller opened with
// a PostgreSQL driver and still owns (the Store never closes it). New runs
// nothing; call [Store.Migrate] before first use if the table may not
// exist.
func New(db *sql.DB) *Store {
	return &Store{db: db}
}

// Migrate creates the auth_users table (see [Schema]) and the
// auth_attempts table (see [AttemptsSchema]) if they do not exist. It
// keeps existing tables and their rows, so it is safe to call on every
// start, and from several replicas at once: it executes the DDL in a
// transaction that first takes the advisory lock [MigrateLockKey], because
// concurrent CREATE TABLE IF NOT EXISTS statements for one table can fail
// in PostgreSQL (a unique violation in pg_type) instead of waiting.
func (s *Store) Migrate(ctx context.Context) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error that made us roll back says more
		}
	}()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, MigrateLockKey); err != nil {
		return fmt.Errorf("pgstore: migrate: taking the advisory lock: %w", err)
	}
	for _, ddl := range []string{Schema, AttemptsSchema} {
		if _, err := tx.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("pgstore: migrate: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("pgstore: migrate: commit: %w", err)
	}
	return nil
}

// CreateUser inserts u. It returns an error wrapping [auth.ErrDuplicateEmail]
// if the email is taken (whether or not the ID is taken too), and a
// different error (the driver's unique violation on auth_users_pkey,
// wrapped) if only the ID is; in both cases nothing is stored.
func (s *Store) CreateUser(ctx context.Context, u auth.User) error {
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
// if its last attempt is expiry old, and returns the counter, in one
// INSERT ... ON CONFLICT DO UPDATE. Now and then it also deletes counters
// idle for longer than [auth.AttemptRetention].
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (auth.Attempts, error) {
	return dialect.AddAttempt(ctx, s.db, &s.prune, key, now, expiry)
}

// ResetAttempts deletes the attempt counter under key, if there is one.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	return dialect.ResetAttempts(ctx, s.db, key)
}
