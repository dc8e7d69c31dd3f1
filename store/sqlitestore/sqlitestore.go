package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
)

// Schema is the SQLite DDL of the users table. It is idempotent: executing
// it on a database that already has the table changes nothing.
// [Store.Migrate] executes it, and adds the columns email_verified,
// disabled and mfa to a table made before they existed.
const Schema = `CREATE TABLE IF NOT EXISTS auth_users (
	id             TEXT NOT NULL PRIMARY KEY,
	email          TEXT NOT NULL UNIQUE,
	name           TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	created_at     INTEGER NOT NULL, -- unix microseconds, UTC
	email_verified INTEGER NOT NULL DEFAULT 0, -- 0 or 1
	disabled       INTEGER NOT NULL DEFAULT 0, -- 0 or 1
	mfa            INTEGER NOT NULL DEFAULT 0  -- 0 or 1
)`

// AttemptsSchema is the SQLite DDL of the attempt counters' table (see
// [throttle.Store]) and of its index on last_at, by which idle counters
// are pruned. Like [Schema], it is idempotent; [Store.Migrate] executes
// it after Schema.
const AttemptsSchema = `CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash TEXT NOT NULL PRIMARY KEY,
	attempts INTEGER NOT NULL,
	last_at  INTEGER NOT NULL -- unix microseconds, UTC
);
CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at)`

// SessionsSchema is the SQLite DDL of the tables of refresh tokens and
// sessions (see [auth.SessionStore]) and of their indexes. Like [Schema],
// it is idempotent; [Store.Migrate] executes it after AttemptsSchema.
//
// auth_sessions has one row per session (a family of refresh tokens),
// whose expires_at is the latest of its tokens' and by which it is
// deleted once it has no token left; auth_revocations has one row per
// user whose sessions were all revoked.
const SessionsSchema = `CREATE TABLE IF NOT EXISTS auth_sessions (
	id         TEXT NOT NULL PRIMARY KEY,
	user_id    TEXT NOT NULL,
	expires_at INTEGER NOT NULL, -- unix microseconds, UTC
	revoked_at INTEGER           -- unix microseconds, UTC; NULL while live
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_id ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
	hash       TEXT NOT NULL PRIMARY KEY, -- SHA-256 of the token, hex
	family_id  TEXT NOT NULL,             -- auth_sessions.id
	user_id    TEXT NOT NULL,
	issued_at  INTEGER NOT NULL,          -- unix microseconds, UTC
	expires_at INTEGER NOT NULL,          -- unix microseconds, UTC
	used_at    INTEGER                    -- unix microseconds, UTC; NULL while unused
);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires_at ON auth_refresh_tokens (expires_at);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_user_id ON auth_refresh_tokens (user_id);
CREATE TABLE IF NOT EXISTS auth_revocations (
	user_id    TEXT NOT NULL PRIMARY KEY,
	revoked_at INTEGER NOT NULL, -- unix microseconds, UTC
	generation INTEGER NOT NULL DEFAULT 1
)`

// AccountsSchema is the SQLite DDL of the table of one-time tokens (see
// [auth.AccountStore]) and of its indexes. Like [Schema], it is
// idempotent; [Store.Migrate] executes it after SessionsSchema.
const AccountsSchema = `CREATE TABLE IF NOT EXISTS auth_one_time_tokens (
	hash       TEXT NOT NULL PRIMARY KEY, -- SHA-256 of the token, hex
	purpose    TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	email      TEXT NOT NULL,
	created_at INTEGER NOT NULL, -- unix microseconds, UTC
	expires_at INTEGER NOT NULL  -- unix microseconds, UTC
);
CREATE INDEX IF NOT EXISTS auth_one_time_tokens_user_id ON auth_one_time_tokens (user_id);
CREATE INDEX IF NOT EXISTS auth_one_time_tokens_expires_at ON auth_one_time_tokens (expires_at)`

// MFASchema is the SQLite DDL of the tables of TOTP enrolments and
// recovery codes (see [auth.MFAStore]). Like [Schema], it is idempotent;
// [Store.Migrate] executes it after AccountsSchema.
//
// auth_totp has one row per user with an enrolment, whose sealed secret
// is a BLOB (opaque bytes, sealed by the Service); auth_recovery_codes
// one row per unused recovery code (its hash, never the code).
const MFASchema = `CREATE TABLE IF NOT EXISTS auth_totp (
	user_id    TEXT NOT NULL PRIMARY KEY,
	sealed     BLOB NOT NULL,
	confirmed  INTEGER NOT NULL DEFAULT 0, -- 0 or 1
	last_step  INTEGER NOT NULL DEFAULT 0, -- unix time / 30 s of the last code used
	created_at INTEGER NOT NULL            -- unix microseconds, UTC
);
CREATE TABLE IF NOT EXISTS auth_recovery_codes (
	user_id TEXT NOT NULL,
	hash    TEXT NOT NULL, -- HMAC-SHA256 of the code, hex
	PRIMARY KEY (user_id, hash)
)`

// addedColumns are the columns that [Store.Migrate] adds to a table made
// before they existed, with the DDL that adds each. Every existing row
// gets the default: generation 1, as each row of auth_revocations stands
// for at least one revocation; an email not verified, an account not
// disabled and without two-factor authentication.
var addedColumns = []struct{ table, column, ddl string }{
	{"auth_revocations", "generation", `ALTER TABLE auth_revocations ADD COLUMN generation INTEGER NOT NULL DEFAULT 1`},
	{"auth_users", "email_verified", `ALTER TABLE auth_users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0`},
	{"auth_users", "disabled", `ALTER TABLE auth_users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0`},
	{"auth_users", "mfa", `ALTER TABLE auth_users ADD COLUMN mfa INTEGER NOT NULL DEFAULT 0`},
}

// userColumns are the columns of auth_users that ByID selects.
const userColumns = `id, email, name, password_hash, created_at, email_verified, disabled, mfa`

// oneTimeColumns are the columns of auth_one_time_tokens that
// UseOneTimeToken returns.
const oneTimeColumns = `hash, purpose, user_id, email, created_at, expires_at`

// tokenByHash selects what TokenGet does, from auth_refresh_tokens t
// joined with auth_sessions s.
const tokenByHash = `SELECT t.hash, t.family_id, t.user_id, t.issued_at, t.expires_at, t.used_at, s.revoked_at
FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.family_id
WHERE t.hash = ?`

// dialect is what sets SQLite apart for the code shared with the other SQL
// stores: ON CONFLICT(email) DO NOTHING, and created_at as unix
// microseconds in an INTEGER.
var dialect = sqlstore.Dialect{
	Name: "sqlitestore",
	Insert: `INSERT INTO auth_users (` + userColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(email) DO NOTHING`,
	Conflicts:  sqlstore.NoRowOnEmailConflict,
	EmailTaken: `SELECT 1 FROM auth_users WHERE email = ?`,
	ByEmail:    `SELECT ` + userColumns + ` FROM auth_users WHERE email = ?`,
	ByID:       `SELECT ` + userColumns + ` FROM auth_users WHERE id = ?`,
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

	PasswordUpdate: `UPDATE auth_users SET password_hash = ? WHERE id = ? AND password_hash = ?`,
	PasswordIs:     `SELECT 1 FROM auth_users WHERE id = ? AND password_hash = ?`,

	TokenInsert: `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (hash) DO NOTHING`,
	// The WHERE clause is what lets SQLite parse ON CONFLICT after a
	// SELECT.
	FamilyUpsert: `INSERT INTO auth_sessions (id, user_id, expires_at)
SELECT family_id, user_id, expires_at FROM auth_refresh_tokens WHERE hash = ?
ON CONFLICT (id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
	TokenUse: `UPDATE auth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
	// SQLite has one writer at a time: the transaction that ran TokenUse
	// holds the write lock, and reads the latest state.
	TokenGet:           tokenByHash,
	TokenGetUsed:       tokenByHash,
	FamilyRevoke:       `UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
	UserFamiliesRevoke: `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
	RevocationUpsert: `INSERT INTO auth_revocations (user_id, revoked_at, generation) VALUES (?, ?, 1)
ON CONFLICT (user_id) DO UPDATE SET revoked_at = max(revoked_at, excluded.revoked_at), generation = generation + 1`,
	GenerationGet: `SELECT generation FROM auth_revocations WHERE user_id = ?`,
	// A write that changes nothing: it takes SQLite's write lock, which
	// the transaction then holds, so that nothing is committed between
	// it and the reads after it.
	UserLock: `UPDATE auth_users SET id = id WHERE id = ? RETURNING 1`,
	TokensPrune: `DELETE FROM auth_refresh_tokens WHERE hash IN
	(SELECT hash FROM auth_refresh_tokens WHERE expires_at <= ? LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,
	FamiliesPrune: `DELETE FROM auth_sessions WHERE id IN
	(SELECT id FROM auth_sessions WHERE expires_at <= ? LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,

	NameUpdate:     `UPDATE auth_users SET name = ? WHERE id = ?`,
	NameIs:         `SELECT 1 FROM auth_users WHERE id = ? AND name = ?`,
	EmailUpdate:    `UPDATE auth_users SET email = ?, email_verified = ? WHERE id = ? AND email = ?`,
	EmailIs:        `SELECT 1 FROM auth_users WHERE id = ? AND email = ? AND email_verified = ?`,
	DisabledUpdate: `UPDATE auth_users SET disabled = ? WHERE id = ?`,
	DisabledIs:     `SELECT 1 FROM auth_users WHERE id = ? AND disabled = ?`,
	UserDelete:     `DELETE FROM auth_users WHERE id = ?`,
	Param:          "?",
	UsersList:      `SELECT ` + userColumns + ` FROM auth_users WHERE id > ? ORDER BY id LIMIT ?`,
	UserGeneration: `SELECT COALESCE(r.generation, 0)
FROM auth_users u LEFT JOIN auth_revocations r ON r.user_id = u.id
WHERE u.id = ?`,
	OneTimeInsert: `INSERT INTO auth_one_time_tokens (` + oneTimeColumns + `) VALUES (?, ?, ?, ?, ?, ?)`,
	// One statement, and SQLite has one writer at a time.
	OneTimeUse:        `DELETE FROM auth_one_time_tokens WHERE hash = ? AND purpose = ? RETURNING ` + oneTimeColumns,
	OneTimeUserDelete: `DELETE FROM auth_one_time_tokens WHERE user_id = ? AND purpose = ?`,
	OneTimePrune: `DELETE FROM auth_one_time_tokens WHERE hash IN
	(SELECT hash FROM auth_one_time_tokens WHERE expires_at <= ? LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,

	TOTPGet: `SELECT sealed, confirmed, last_step, created_at FROM auth_totp WHERE user_id = ?`,
	// The transaction holds the write lock (UserLock is a write): this
	// reads the latest state.
	TOTPConfirmed: `SELECT confirmed FROM auth_totp WHERE user_id = ?`,
	TOTPPut: `INSERT INTO auth_totp (user_id, sealed, confirmed, last_step, created_at) VALUES (?, ?, 0, 0, ?)
ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, confirmed = 0, last_step = 0, created_at = excluded.created_at`,
	// BLOBs compare byte for byte (memcmp).
	TOTPConfirm: `UPDATE auth_totp SET confirmed = 1, last_step = ? WHERE user_id = ? AND confirmed = 0 AND sealed = ?`,
	// One statement, and SQLite has one writer at a time.
	TOTPStep:       `UPDATE auth_totp SET last_step = ? WHERE user_id = ? AND last_step < ?`,
	TOTPDelete:     `DELETE FROM auth_totp WHERE user_id = ?`,
	RecoveryDelete: `DELETE FROM auth_recovery_codes WHERE user_id = ?`,
	MFAUpdate:      `UPDATE auth_users SET mfa = ? WHERE id = ?`,
	RecoveryInsert: `INSERT INTO auth_recovery_codes (user_id, hash) VALUES (?, ?)`,
	RecoveryUse:    `DELETE FROM auth_recovery_codes WHERE user_id = ? AND hash = ?`,
}

// Store is an [auth.UserStore], [throttle.Store], [auth.PasswordStore],
// [auth.SessionStore], [auth.AccountStore] and [auth.MFAStore] in the
// tables of a SQLite database (see the package documentation). Create
// one with [New]; it is safe for concurrent use.
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
	_ auth.UserStore     = (*Store)(nil)
	_ throttle.Store     = (*Store)(nil)
	_ auth.PasswordStore = (*Store)(nil)
	_ auth.SessionStore  = (*Store)(nil)
	_ auth.AccountStore  = (*Store)(nil)
	_ auth.MFAStore      = (*Store)(nil)
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

// Migrate creates the auth_users table (see [Schema]), the auth_attempts
// table (see [AttemptsSchema]), the tables of sessions (see
// [SessionsSchema]), of one-time tokens (see [AccountsSchema]) and of
// TOTP enrolments and recovery codes (see [MFASchema]) if they do not
// exist. It keeps existing tables and their rows, so it is safe to call
// on every start, and upgrades a database made by an earlier version in
// place: it adds the tables, indexes and columns that one lacks
// (auth_users.email_verified, disabled and mfa, false for every existing
// user). It does all of this in one transaction (BEGIN IMMEDIATE), so
// that processes starting at once on one file migrate one after another,
// and a failed Migrate changes nothing.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	defer s.unlockWrite()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	if err := migrate(ctx, conn); err != nil {
		// A connection that cannot roll back is not returned to the pool
		// in a transaction: it is discarded.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, rerr := conn.ExecContext(rctx, `ROLLBACK`); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		return fmt.Errorf("sqlitestore: migrate: %w", err)
	}
	return nil
}

// migrate executes the DDL on conn, in the transaction it is in, and
// commits it.
func migrate(ctx context.Context, conn *sql.Conn) error {
	for _, ddl := range []string{Schema, AttemptsSchema, SessionsSchema, AccountsSchema, MFASchema} {
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return err
		}
	}
	for _, c := range addedColumns {
		var n int
		err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, c.table, c.column).Scan(&n)
		if err != nil {
			return err
		}
		if n == 0 {
			if _, err := conn.ExecContext(ctx, c.ddl); err != nil {
				return err
			}
		}
	}
	_, err := conn.ExecContext(ctx, `COMMIT`)
	return err
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
// throttle.Attempts if there is none.
func (s *Store) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	return dialect.Attempts(ctx, s.db, key)
}

// AddAttempt counts an attempt under key at now, restarting the counter
// if its last attempt is expiry old, and returns the counter. Now and
// then it also deletes counters idle for longer than
// [throttle.Retention].
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	if err := s.lockWrite(ctx); err != nil {
		return throttle.Attempts{}, fmt.Errorf("sqlitestore: add attempt: %w", err)
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

// UpdatePasswordHash sets the password hash of the user with ID id to
// newHash if it is oldHash, in one UPDATE (when newHash is oldHash, only a
// SELECT checking the hash), and returns an error wrapping
// [auth.ErrNotFound] if no user has that ID and hash.
func (s *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: update password hash: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UpdatePasswordHash(ctx, s.db, id, oldHash, newHash)
}

// CreateRefreshToken stores t, and creates its session (its family) if
// it is the first token of it, provided the user exists and its session
// generation is gen (see [auth.SessionStore]); if a token with t.Hash
// exists, it changes nothing and returns nil.
func (s *Store) CreateRefreshToken(ctx context.Context, t auth.RefreshToken, gen int64) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: create refresh token: %w", err)
	}
	defer s.unlockWrite()
	return dialect.CreateRefreshToken(ctx, s.db, t, gen)
}

// UseRefreshToken marks the token with this hash used at now, if it is
// unused, and returns it as it was before (UsedAt zero only for the call
// that used it), with its family's RevokedAt; or an error wrapping
// [auth.ErrNotFound].
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (auth.RefreshToken, error) {
	if err := s.lockWrite(ctx); err != nil {
		return auth.RefreshToken{}, fmt.Errorf("sqlitestore: use refresh token: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UseRefreshToken(ctx, s.db, hash, now)
}

// RefreshToken returns the token with this hash, with its family's
// RevokedAt, or an error wrapping [auth.ErrNotFound].
func (s *Store) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	return dialect.RefreshToken(ctx, s.db, hash)
}

// RevokeFamily revokes the family at now, unless it is revoked already.
func (s *Store) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: revoke family: %w", err)
	}
	defer s.unlockWrite()
	return dialect.RevokeFamily(ctx, s.db, family, now)
}

// RevokeSessions revokes every family of the user at now and increments
// its session generation, in one transaction.
func (s *Store) RevokeSessions(ctx context.Context, userID string, now time.Time) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: revoke sessions: %w", err)
	}
	defer s.unlockWrite()
	return dialect.RevokeSessions(ctx, s.db, userID, now)
}

// SessionGeneration returns the user's session generation, 0 if its
// sessions were never revoked, or an error wrapping [auth.ErrNotFound] if
// the user does not exist.
func (s *Store) SessionGeneration(ctx context.Context, userID string) (int64, error) {
	return dialect.SessionGeneration(ctx, s.db, userID)
}

// DeleteExpiredRefreshTokens deletes the tokens whose ExpiresAt is not
// after now and the sessions left without tokens, 1,000 rows per
// statement, and returns how many tokens it deleted.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := s.lockWrite(ctx); err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired refresh tokens: %w", err)
	}
	defer s.unlockWrite()
	return dialect.DeleteExpiredRefreshTokens(ctx, s.db, now)
}

// UpdateName sets the name of the user with ID id, or returns an error
// wrapping [auth.ErrNotFound] if there is no such user.
func (s *Store) UpdateName(ctx context.Context, id, name string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: update name: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UpdateName(ctx, s.db, id, name)
}

// UpdateEmail sets the email and EmailVerified of the user with ID id if
// its email is current, in one UPDATE (a compare-and-set), and returns an
// error wrapping [auth.ErrNotFound] if no user has that ID and email, or
// [auth.ErrDuplicateEmail] if another user has email.
func (s *Store) UpdateEmail(ctx context.Context, id, current, email string, verified bool) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: update email: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UpdateEmail(ctx, s.db, id, current, email, verified)
}

// SetDisabled sets the Disabled flag of the user with ID id, or returns
// an error wrapping [auth.ErrNotFound] if there is no such user.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: set disabled: %w", err)
	}
	defer s.unlockWrite()
	return dialect.SetDisabled(ctx, s.db, id, disabled)
}

// DeleteUser deletes the user with ID id, its refresh tokens and
// sessions, its session generation, its one-time tokens, and its TOTP
// enrolment and recovery codes, in one transaction; or returns an error
// wrapping [auth.ErrNotFound] if there is no such user.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: delete user: %w", err)
	}
	defer s.unlockWrite()
	return dialect.DeleteUser(ctx, s.db, id)
}

// ListUsers returns at most limit users whose IDs are greater than
// after, byte for byte, in increasing order of ID.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]auth.User, error) {
	return dialect.ListUsers(ctx, s.db, after, limit)
}

// CreateOneTimeToken stores t, or returns an error wrapping
// [auth.ErrNotFound] if its user does not exist.
func (s *Store) CreateOneTimeToken(ctx context.Context, t auth.OneTimeToken) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: create one-time token: %w", err)
	}
	defer s.unlockWrite()
	return dialect.CreateOneTimeToken(ctx, s.db, t)
}

// UseOneTimeToken deletes the token with this hash, if its purpose is
// purpose, and returns it, expired or not, in one DELETE ... RETURNING;
// or returns an error wrapping [auth.ErrNotFound].
func (s *Store) UseOneTimeToken(ctx context.Context, hash, purpose string) (auth.OneTimeToken, error) {
	if err := s.lockWrite(ctx); err != nil {
		return auth.OneTimeToken{}, fmt.Errorf("sqlitestore: use one-time token: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UseOneTimeToken(ctx, s.db, hash, purpose)
}

// DeleteOneTimeTokens deletes every token of the user with ID userID of
// the purpose.
func (s *Store) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: delete one-time tokens: %w", err)
	}
	defer s.unlockWrite()
	return dialect.DeleteOneTimeTokens(ctx, s.db, userID, purpose)
}

// DeleteExpiredOneTimeTokens deletes the tokens whose ExpiresAt is not
// after now, 1,000 rows per statement, and returns how many it deleted.
func (s *Store) DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := s.lockWrite(ctx); err != nil {
		return 0, fmt.Errorf("sqlitestore: delete expired one-time tokens: %w", err)
	}
	defer s.unlockWrite()
	return dialect.DeleteExpiredOneTimeTokens(ctx, s.db, now)
}

// PutTOTP stores an unconfirmed enrolment of the user with the sealed
// secret, replacing an unconfirmed one, in one transaction. It returns an
// error wrapping [auth.ErrMFAEnabled] if the user's enrolment is
// confirmed, and one wrapping [auth.ErrNotFound] if there is no such
// user.
func (s *Store) PutTOTP(ctx context.Context, userID string, sealed []byte, now time.Time) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: put totp: %w", err)
	}
	defer s.unlockWrite()
	return dialect.PutTOTP(ctx, s.db, userID, sealed, now)
}

// TOTP returns the user's enrolment, or an error wrapping
// [auth.ErrNotFound] if it has none.
func (s *Store) TOTP(ctx context.Context, userID string) (auth.TOTP, error) {
	return dialect.TOTP(ctx, s.db, userID)
}

// ConfirmTOTP confirms the user's enrolment if it is unconfirmed and its
// sealed secret is sealed, byte for byte, and sets its LastStep to step,
// User.MFA and the user's recovery codes to recoveryHashes, in one
// transaction; otherwise it changes nothing and returns an error
// wrapping [auth.ErrNotFound].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, sealed []byte, step int64, recoveryHashes []string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: confirm totp: %w", err)
	}
	defer s.unlockWrite()
	return dialect.ConfirmTOTP(ctx, s.db, userID, sealed, step, recoveryHashes)
}

// UseTOTPStep sets the LastStep of the user's enrolment to step if step
// is greater, in one UPDATE (a compare-and-set), and returns an error
// wrapping [auth.ErrNotFound] otherwise.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: use totp step: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UseTOTPStep(ctx, s.db, userID, step)
}

// UseRecoveryCode deletes the user's recovery code with this hash, in one
// DELETE, or returns an error wrapping [auth.ErrNotFound] if the user
// has no such code.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: use recovery code: %w", err)
	}
	defer s.unlockWrite()
	return dialect.UseRecoveryCode(ctx, s.db, userID, hash)
}

// DeleteTOTP deletes the user's enrolment and recovery codes and clears
// User.MFA, in one transaction; or returns an error wrapping
// [auth.ErrNotFound] if there is no such user.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	if err := s.lockWrite(ctx); err != nil {
		return fmt.Errorf("sqlitestore: delete totp: %w", err)
	}
	defer s.unlockWrite()
	return dialect.DeleteTOTP(ctx, s.db, userID)
}
