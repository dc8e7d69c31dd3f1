package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
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

const (
	insertUser = `INSERT INTO auth_users (id, email, name, password_hash, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT(email) DO NOTHING`
	selectByEmail = `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE email = ?`
	selectByID    = `SELECT id, email, name, password_hash, created_at FROM auth_users WHERE id = ?`
)

// Store is an [auth.UserStore] in the auth_users table of a SQLite
// database. Create one with [New]; it is safe for concurrent use.
type Store struct {
	db *sql.DB
	// write holds a token while this Store writes. SQLite allows one
	// writer at a time; queueing this Store's writers here, rather than
	// leaving them to poll in SQLite's busy handler, keeps a burst of
	// sign-ups from starving one another into SQLITE_BUSY.
	write chan struct{}
}

var _ auth.UserStore = (*Store)(nil)

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

// Migrate creates the auth_users table (see [Schema]) if it does not exist.
// It keeps an existing table and its rows, so it is safe to call on every
// start.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	defer s.unlockWrite()
	if _, err := s.db.ExecContext(ctx, Schema); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
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
	res, err := s.db.ExecContext(ctx, insertUser,
		u.ID, u.Email, u.Name, u.PasswordHash, u.CreatedAt.UnixMicro())
	if err != nil {
		return fmt.Errorf("sqlitestore: create user: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlitestore: create user: rows affected: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlitestore: create user: %w", auth.ErrDuplicateEmail)
	}
	return nil
}

// UserByEmail returns the user whose email is exactly email, or an error
// wrapping [auth.ErrNotFound].
func (s *Store) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	return s.get(ctx, "user by email", selectByEmail, email)
}

// UserByID returns the user with the given ID, or an error wrapping
// [auth.ErrNotFound].
func (s *Store) UserByID(ctx context.Context, id string) (auth.User, error) {
	return s.get(ctx, "user by id", selectByID, id)
}

func (s *Store) get(ctx context.Context, op, query, arg string) (auth.User, error) {
	if err := ctx.Err(); err != nil {
		return auth.User{}, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	var (
		u         auth.User
		createdAt int64
	)
	err := s.db.QueryRowContext(ctx, query, arg).Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &createdAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return auth.User{}, fmt.Errorf("sqlitestore: %s: %w", op, auth.ErrNotFound)
	case err != nil:
		return auth.User{}, fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	u.CreatedAt = time.UnixMicro(createdAt).UTC()
	return u, nil
}
