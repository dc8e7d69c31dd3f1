package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
)

// Schema is the PostgreSQL DDL of the users table. It is idempotent:
// executing it on a database that already has the table changes nothing.
// [Store.Migrate] executes it, under [MigrateLockKey].
//
// id and email use the "C" collation: they are compared, and IDs ordered,
// byte for byte anyway, and their unique indexes then never depend on the
// operating system's collation rules, whose changes can corrupt text
// indexes. A table made before email_verified, disabled and mfa existed
// gets them, false for every existing user. The columns are added only if
// they are missing, rather than by ALTER TABLE ... ADD COLUMN IF NOT
// EXISTS, which takes an ACCESS EXCLUSIVE lock on the table even when it
// has them: on every start it would wait for any transaction reading
// auth_users, and every login would wait behind it.
const Schema = `CREATE TABLE IF NOT EXISTS auth_users (
	id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	email          TEXT COLLATE "C" NOT NULL UNIQUE,
	name           TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	created_at     TIMESTAMPTZ NOT NULL,
	email_verified BOOLEAN NOT NULL DEFAULT false,
	disabled       BOOLEAN NOT NULL DEFAULT false,
	mfa            BOOLEAN NOT NULL DEFAULT false
);
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_users'::regclass AND attname = 'email_verified' AND NOT attisdropped) THEN
		ALTER TABLE auth_users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT false;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_users'::regclass AND attname = 'disabled' AND NOT attisdropped) THEN
		ALTER TABLE auth_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_users'::regclass AND attname = 'mfa' AND NOT attisdropped) THEN
		ALTER TABLE auth_users ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT false;
	END IF;
END $$`

// AttemptsSchema is the PostgreSQL DDL of the attempt counters' table
// (see [throttle.Store]) and of its index on last_at, by which idle
// counters are pruned. Like [Schema], it is idempotent; [Store.Migrate]
// executes it after Schema, in the same transaction.
const AttemptsSchema = `CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	attempts BIGINT NOT NULL,
	last_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at)`

// SessionsSchema is the PostgreSQL DDL of the tables of refresh tokens
// and sessions (see [auth.SessionStore]) and of their indexes. Like
// [Schema], it is idempotent; [Store.Migrate] executes it after
// AttemptsSchema, in the same transaction.
//
// auth_sessions has one row per session (a family of refresh tokens),
// whose expires_at is the latest of its tokens' and by which it is
// deleted once it has no token left; auth_revocations has one row per
// user whose sessions were all revoked, with the user's session
// generation (see [auth.SessionStore]). A table made before generation
// existed gets the column, 1 for every row (each stands for at least one
// revocation), added only if it is missing, as in [Schema].
const SessionsSchema = `CREATE TABLE IF NOT EXISTS auth_sessions (
	id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	user_id    TEXT COLLATE "C" NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS auth_sessions_user_id ON auth_sessions (user_id);
CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
	hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	family_id  TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	issued_at  TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at    TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires_at ON auth_refresh_tokens (expires_at);
CREATE INDEX IF NOT EXISTS auth_refresh_tokens_user_id ON auth_refresh_tokens (user_id);
CREATE TABLE IF NOT EXISTS auth_revocations (
	user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	revoked_at TIMESTAMPTZ NOT NULL,
	generation BIGINT NOT NULL DEFAULT 1
);
DO $$ BEGIN
	IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_revocations'::regclass AND attname = 'generation' AND NOT attisdropped) THEN
		ALTER TABLE auth_revocations ADD COLUMN generation BIGINT NOT NULL DEFAULT 1;
	END IF;
END $$`

// AccountsSchema is the PostgreSQL DDL of the table of one-time tokens
// (see [auth.AccountStore]) and of its indexes. Like [Schema], it is
// idempotent; [Store.Migrate] executes it after SessionsSchema, in the
// same transaction.
const AccountsSchema = `CREATE TABLE IF NOT EXISTS auth_one_time_tokens (
	hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	purpose    TEXT COLLATE "C" NOT NULL,
	user_id    TEXT COLLATE "C" NOT NULL,
	email      TEXT COLLATE "C" NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_one_time_tokens_user_id ON auth_one_time_tokens (user_id);
CREATE INDEX IF NOT EXISTS auth_one_time_tokens_expires_at ON auth_one_time_tokens (expires_at)`

// MFASchema is the PostgreSQL DDL of the tables of TOTP enrolments and
// recovery codes (see [auth.MFAStore]). Like [Schema], it is idempotent;
// [Store.Migrate] executes it after AccountsSchema, in the same
// transaction.
//
// auth_totp has one row per user with an enrolment, whose sealed secret
// is BYTEA (opaque bytes, sealed by the Service); auth_recovery_codes
// one row per unused recovery code (its hash, never the code).
const MFASchema = `CREATE TABLE IF NOT EXISTS auth_totp (
	user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	sealed     BYTEA NOT NULL,
	confirmed  BOOLEAN NOT NULL DEFAULT false,
	last_step  BIGINT NOT NULL DEFAULT 0,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_recovery_codes (
	user_id TEXT COLLATE "C" NOT NULL,
	hash    TEXT COLLATE "C" NOT NULL,
	PRIMARY KEY (user_id, hash)
)`

// userColumns are the columns of auth_users that ByID selects.
const userColumns = `id, email, name, password_hash, created_at, email_verified, disabled, mfa`

// oneTimeColumns are the columns of auth_one_time_tokens that
// UseOneTimeToken returns.
const oneTimeColumns = `hash, purpose, user_id, email, created_at, expires_at`

// tokenByHash selects what TokenGet does, from auth_refresh_tokens t
// joined with auth_sessions s.
const tokenByHash = `SELECT t.hash, t.family_id, t.user_id, t.issued_at, t.expires_at, t.used_at, s.revoked_at
FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.family_id
WHERE t.hash = $1`

// MigrateLockKey is the key of the transaction-level advisory lock that
// [Store.Migrate] holds while it executes [Schema], [AttemptsSchema],
// [SessionsSchema], [AccountsSchema] and [MFASchema], so that replicas
// starting at once migrate one after another. It is "gateauth" in ASCII,
// read as a big-endian int64 (0x6761746561757468).
const MigrateLockKey int64 = 7449363237423117416

// dialect is what sets PostgreSQL apart for the code shared with the other
// SQL stores: $n placeholders, ON CONFLICT DO NOTHING and DO UPDATE, and
// times as TIMESTAMPTZ.
var dialect = sqlstore.Dialect{
	Name: "pgstore",
	Insert: `INSERT INTO auth_users (` + userColumns + `)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (email) DO NOTHING`,
	Conflicts:  sqlstore.NoRowOnEmailConflict,
	EmailTaken: `SELECT 1 FROM auth_users WHERE email = $1`,
	ByEmail:    `SELECT ` + userColumns + ` FROM auth_users WHERE email = $1`,
	ByID:       `SELECT ` + userColumns + ` FROM auth_users WHERE id = $1`,
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

	PasswordUpdate: `UPDATE auth_users SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
	PasswordIs:     `SELECT 1 FROM auth_users WHERE id = $1 AND password_hash = $2`,

	TokenInsert: `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (hash) DO NOTHING`,
	FamilyUpsert: `INSERT INTO auth_sessions AS s (id, user_id, expires_at)
SELECT family_id, user_id, expires_at FROM auth_refresh_tokens WHERE hash = $1
ON CONFLICT (id) DO UPDATE SET expires_at = GREATEST(s.expires_at, EXCLUDED.expires_at)`,
	TokenUse: `UPDATE auth_refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL`,
	// Under READ COMMITTED, PostgreSQL's default, each statement of a
	// transaction sees what was committed before it started: after
	// TokenUse waited for a concurrent one's transaction, TokenGet sees
	// that one's used_at.
	TokenGet:           tokenByHash,
	TokenGetUsed:       tokenByHash,
	FamilyRevoke:       `UPDATE auth_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`,
	UserFamiliesRevoke: `UPDATE auth_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`,
	RevocationUpsert: `INSERT INTO auth_revocations AS r (user_id, revoked_at, generation) VALUES ($1, $2, 1)
ON CONFLICT (user_id) DO UPDATE SET revoked_at = GREATEST(r.revoked_at, EXCLUDED.revoked_at), generation = r.generation + 1`,
	// Under READ COMMITTED each statement sees what was committed before
	// it started: after UserLock waited for a RevokeSessions, its
	// generation.
	GenerationGet: `SELECT generation FROM auth_revocations WHERE user_id = $1`,
	UserLock:      `SELECT 1 FROM auth_users WHERE id = $1 FOR UPDATE`,
	TokensPrune: `DELETE FROM auth_refresh_tokens WHERE hash IN
	(SELECT hash FROM auth_refresh_tokens WHERE expires_at <= $1 LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,
	// expires_at is tested again outside the subquery: a concurrent
	// CreateRefreshToken may move it forward after the subquery's
	// snapshot, and the DELETE then rechecks the row as committed.
	FamiliesPrune: `DELETE FROM auth_sessions WHERE expires_at <= $1 AND id IN
	(SELECT id FROM auth_sessions WHERE expires_at <= $1 LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,

	NameUpdate:     `UPDATE auth_users SET name = $1 WHERE id = $2`,
	NameIs:         `SELECT 1 FROM auth_users WHERE id = $1 AND name = $2`,
	EmailUpdate:    `UPDATE auth_users SET email = $1, email_verified = $2 WHERE id = $3 AND email = $4`,
	EmailIs:        `SELECT 1 FROM auth_users WHERE id = $1 AND email = $2 AND email_verified = $3`,
	DisabledUpdate: `UPDATE auth_users SET disabled = $1 WHERE id = $2`,
	DisabledIs:     `SELECT 1 FROM auth_users WHERE id = $1 AND disabled = $2`,
	UserDelete:     `DELETE FROM auth_users WHERE id = $1`,
	Param:          "$1",
	// id is COLLATE "C": ORDER BY and > compare bytes.
	UsersList: `SELECT ` + userColumns + ` FROM auth_users WHERE id > $1 ORDER BY id LIMIT $2`,
	UserGeneration: `SELECT COALESCE(r.generation, 0)
FROM auth_users u LEFT JOIN auth_revocations r ON r.user_id = u.id
WHERE u.id = $1`,
	OneTimeInsert: `INSERT INTO auth_one_time_tokens (` + oneTimeColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`,
	// Of concurrent deletes of one row, the others wait for the first
	// one's transaction, recheck the row, find it deleted, and return
	// nothing.
	OneTimeUse:        `DELETE FROM auth_one_time_tokens WHERE hash = $1 AND purpose = $2 RETURNING ` + oneTimeColumns,
	OneTimeUserDelete: `DELETE FROM auth_one_time_tokens WHERE user_id = $1 AND purpose = $2`,
	OneTimePrune: `DELETE FROM auth_one_time_tokens WHERE hash IN
	(SELECT hash FROM auth_one_time_tokens WHERE expires_at <= $1 LIMIT ` + strconv.Itoa(sqlstore.PruneBatch) + `)`,

	TOTPGet: `SELECT sealed, confirmed, last_step, created_at FROM auth_totp WHERE user_id = $1`,
	// Under READ COMMITTED each statement sees what was committed before
	// it started: after UserLock, the latest enrolment.
	TOTPConfirmed: `SELECT confirmed FROM auth_totp WHERE user_id = $1`,
	TOTPPut: `INSERT INTO auth_totp (user_id, sealed, confirmed, last_step, created_at) VALUES ($1, $2, false, 0, $3)
ON CONFLICT (user_id) DO UPDATE SET sealed = EXCLUDED.sealed, confirmed = false, last_step = 0, created_at = EXCLUDED.created_at`,
	// Of concurrent updates of one row, the others wait for the first
	// one's transaction, recheck the WHERE clause on the row as it
	// committed it, and match nothing. BYTEA compares byte for byte.
	TOTPConfirm:    `UPDATE auth_totp SET confirmed = true, last_step = $1 WHERE user_id = $2 AND NOT confirmed AND sealed = $3`,
	TOTPStep:       `UPDATE auth_totp SET last_step = $1 WHERE user_id = $2 AND last_step < $3`,
	TOTPDelete:     `DELETE FROM auth_totp WHERE user_id = $1`,
	RecoveryDelete: `DELETE FROM auth_recovery_codes WHERE user_id = $1`,
	MFAUpdate:      `UPDATE auth_users SET mfa = $1 WHERE id = $2`,
	RecoveryInsert: `INSERT INTO auth_recovery_codes (user_id, hash) VALUES ($1, $2)`,
	RecoveryUse:    `DELETE FROM auth_recovery_codes WHERE user_id = $1 AND hash = $2`,
}

// Store is an [auth.UserStore], [throttle.Store], [auth.PasswordStore],
// [auth.SessionStore], [auth.AccountStore] and [auth.MFAStore] in the
// tables of a PostgreSQL database (see the package documentation).
// Create one with [New]; it is safe for concurrent use, and any number
// of Stores, in any number of processes, may share one database.
type Store struct {
	db    *sql.DB
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
// a PostgreSQL driver and still owns (the Store never closes it). New runs
// nothing; call [Store.Migrate] before first use if the table may not
// exist.
func New(db *sql.DB) *Store {
	return &Store{db: db}
}

// Migrate creates the auth_users table (see [Schema]), the auth_attempts
// table (see [AttemptsSchema]), the tables of sessions (see
// [SessionsSchema]), of one-time tokens (see [AccountsSchema]) and of
// TOTP enrolments and recovery codes (see [MFASchema]) if they do not
// exist. It keeps existing tables and their rows, so it is safe to call
// on every start, and upgrades a database made by an earlier version in
// place: it adds the tables, indexes and columns that one lacks
// (auth_users.email_verified, disabled and mfa, false for every existing
// user). It is safe from several replicas at once: it executes the DDL in
// a transaction that first takes the advisory lock [MigrateLockKey],
// because concurrent CREATE TABLE IF NOT EXISTS statements for one table
// can fail in PostgreSQL (a unique violation in pg_type) instead of
// waiting; a failed Migrate changes nothing.
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
	for _, ddl := range []string{Schema, AttemptsSchema, SessionsSchema, AccountsSchema, MFASchema} {
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
// throttle.Attempts if there is none.
func (s *Store) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	return dialect.Attempts(ctx, s.db, key)
}

// AddAttempt counts an attempt under key at now, restarting the counter
// if its last attempt is expiry old, and returns the counter, in one
// INSERT ... ON CONFLICT DO UPDATE. Now and then it also deletes counters
// idle for longer than [throttle.Retention].
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	return dialect.AddAttempt(ctx, s.db, &s.prune, key, now, expiry)
}

// ResetAttempts deletes the attempt counter under key, if there is one.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	return dialect.ResetAttempts(ctx, s.db, key)
}

// UpdatePasswordHash sets the password hash of the user with ID id to
// newHash if it is oldHash, in one UPDATE (when newHash is oldHash, only a
// SELECT checking the hash), and returns an error wrapping
// [auth.ErrNotFound] if no user has that ID and hash.
func (s *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	return dialect.UpdatePasswordHash(ctx, s.db, id, oldHash, newHash)
}

// CreateRefreshToken stores t, and creates its session (its family) if
// it is the first token of it, provided the user exists and its session
// generation is gen (see [auth.SessionStore]); if a token with t.Hash
// exists, it changes nothing and returns nil.
func (s *Store) CreateRefreshToken(ctx context.Context, t auth.RefreshToken, gen int64) error {
	return dialect.CreateRefreshToken(ctx, s.db, t, gen)
}

// UseRefreshToken marks the token with this hash used at now, if it is
// unused, and returns it as it was before (UsedAt zero only for the call
// that used it, whichever replica made it), with its family's RevokedAt;
// or an error wrapping [auth.ErrNotFound].
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (auth.RefreshToken, error) {
	return dialect.UseRefreshToken(ctx, s.db, hash, now)
}

// RefreshToken returns the token with this hash, with its family's
// RevokedAt, or an error wrapping [auth.ErrNotFound].
func (s *Store) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	return dialect.RefreshToken(ctx, s.db, hash)
}

// RevokeFamily revokes the family at now, unless it is revoked already.
func (s *Store) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	return dialect.RevokeFamily(ctx, s.db, family, now)
}

// RevokeSessions revokes every family of the user at now and increments
// its session generation, in one transaction.
func (s *Store) RevokeSessions(ctx context.Context, userID string, now time.Time) error {
	return dialect.RevokeSessions(ctx, s.db, userID, now)
}

// SessionGeneration returns the user's session generation, 0 if its
// sessions were never revoked, or an error wrapping [auth.ErrNotFound] if
// the user does not exist: one SELECT by primary key.
func (s *Store) SessionGeneration(ctx context.Context, userID string) (int64, error) {
	return dialect.SessionGeneration(ctx, s.db, userID)
}

// DeleteExpiredRefreshTokens deletes the tokens whose ExpiresAt is not
// after now and the sessions left without tokens, 1,000 rows per
// statement, and returns how many tokens it deleted.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	return dialect.DeleteExpiredRefreshTokens(ctx, s.db, now)
}

// UpdateName sets the name of the user with ID id, or returns an error
// wrapping [auth.ErrNotFound] if there is no such user.
func (s *Store) UpdateName(ctx context.Context, id, name string) error {
	return dialect.UpdateName(ctx, s.db, id, name)
}

// UpdateEmail sets the email and EmailVerified of the user with ID id if
// its email is current, in one UPDATE (a compare-and-set), and returns an
// error wrapping [auth.ErrNotFound] if no user has that ID and email, or
// [auth.ErrDuplicateEmail] if another user has email.
func (s *Store) UpdateEmail(ctx context.Context, id, current, email string, verified bool) error {
	return dialect.UpdateEmail(ctx, s.db, id, current, email, verified)
}

// SetDisabled sets the Disabled flag of the user with ID id, or returns
// an error wrapping [auth.ErrNotFound] if there is no such user.
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return dialect.SetDisabled(ctx, s.db, id, disabled)
}

// DeleteUser deletes the user with ID id, its refresh tokens and
// sessions, its session generation, its one-time tokens, and its TOTP
// enrolment and recovery codes, in one transaction; or returns an error
// wrapping [auth.ErrNotFound] if there is no such user.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
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
	return dialect.CreateOneTimeToken(ctx, s.db, t)
}

// UseOneTimeToken deletes the token with this hash, if its purpose is
// purpose, and returns it, expired or not, in one DELETE ... RETURNING
// (so that of concurrent calls, on any replicas, one gets it); or
// returns an error wrapping [auth.ErrNotFound].
func (s *Store) UseOneTimeToken(ctx context.Context, hash, purpose string) (auth.OneTimeToken, error) {
	return dialect.UseOneTimeToken(ctx, s.db, hash, purpose)
}

// DeleteOneTimeTokens deletes every token of the user with ID userID of
// the purpose.
func (s *Store) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	return dialect.DeleteOneTimeTokens(ctx, s.db, userID, purpose)
}

// DeleteExpiredOneTimeTokens deletes the tokens whose ExpiresAt is not
// after now, 1,000 rows per statement, and returns how many it deleted.
func (s *Store) DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int64, error) {
	return dialect.DeleteExpiredOneTimeTokens(ctx, s.db, now)
}

// PutTOTP stores an unconfirmed enrolment of the user with the sealed
// secret, replacing an unconfirmed one, in one transaction that locks
// the user's row. It returns an error wrapping [auth.ErrMFAEnabled] if
// the user's enrolment is confirmed, and one wrapping [auth.ErrNotFound]
// if there is no such user.
func (s *Store) PutTOTP(ctx context.Context, userID string, sealed []byte, now time.Time) error {
	return dialect.PutTOTP(ctx, s.db, userID, sealed, now)
}

// TOTP returns the user's enrolment, or an error wrapping
// [auth.ErrNotFound] if it has none.
func (s *Store) TOTP(ctx context.Context, userID string) (auth.TOTP, error) {
	return dialect.TOTP(ctx, s.db, userID)
}

// ConfirmTOTP confirms the user's enrolment if it is unconfirmed and its
// sealed secret is sealed, byte for byte (an UPDATE whose WHERE clause
// compares them, so that of concurrent calls, on any replicas, at most
// one succeeds), and sets its LastStep to step, User.MFA and the user's
// recovery codes to recoveryHashes, in one transaction; otherwise it
// changes nothing and returns an error wrapping [auth.ErrNotFound].
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, sealed []byte, step int64, recoveryHashes []string) error {
	return dialect.ConfirmTOTP(ctx, s.db, userID, sealed, step, recoveryHashes)
}

// UseTOTPStep sets the LastStep of the user's enrolment to step if step
// is greater, in one UPDATE ... WHERE last_step < step (a compare-and-set:
// of concurrent calls for one step, on any replicas, one succeeds), and
// returns an error wrapping [auth.ErrNotFound] otherwise.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return dialect.UseTOTPStep(ctx, s.db, userID, step)
}

// UseRecoveryCode deletes the user's recovery code with this hash, in one
// DELETE (of concurrent calls, on any replicas, one deletes it), or
// returns an error wrapping [auth.ErrNotFound] if the user has no such
// code.
func (s *Store) UseRecoveryCode(ctx context.Context, userID, hash string) error {
	return dialect.UseRecoveryCode(ctx, s.db, userID, hash)
}

// DeleteTOTP deletes the user's enrolment and recovery codes and clears
// User.MFA, in one transaction; or returns an error wrapping
// [auth.ErrNotFound] if there is no such user.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return dialect.DeleteTOTP(ctx, s.db, userID)
}
