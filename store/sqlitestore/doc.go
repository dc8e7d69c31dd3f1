// Package sqlitestore is an [auth.UserStore] kept in a SQLite database,
// reached through the application's [*sql.DB]. It imports no driver: the
// application chooses one and opens the database. This package's own tests
// and examples use modernc.org/sqlite, a pure-Go driver that needs no cgo
// (driver name "sqlite"); github.com/mattn/go-sqlite3 works as well.
//
// # Usage
//
//	import _ "modernc.org/sqlite"
//
//	db, err := sql.Open("sqlite", "file:app.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
//	if err != nil { ... }
//	store := sqlitestore.New(db)
//	if err := store.Migrate(ctx); err != nil { ... } // on every start
//	svc, err := auth.New(store, auth.Config{Secret: secret})
//
// # Schema
//
// [Store.Migrate] executes [Schema], [AttemptsSchema], [SessionsSchema],
// [AccountsSchema] and [MFASchema], which create eight tables and their
// indexes if they do not exist yet and leave existing ones, and their
// rows, alone:
//
//	CREATE TABLE IF NOT EXISTS auth_users (
//		id             TEXT NOT NULL PRIMARY KEY,
//		email          TEXT NOT NULL UNIQUE,
//		name           TEXT NOT NULL,
//		password_hash  TEXT NOT NULL,
//		created_at     INTEGER NOT NULL, -- unix microseconds, UTC
//		email_verified INTEGER NOT NULL DEFAULT 0, -- 0 or 1
//		disabled       INTEGER NOT NULL DEFAULT 0, -- 0 or 1
//		mfa            INTEGER NOT NULL DEFAULT 0  -- 0 or 1
//	);
//	CREATE TABLE IF NOT EXISTS auth_attempts (
//		key_hash TEXT NOT NULL PRIMARY KEY,
//		attempts INTEGER NOT NULL,
//		last_at  INTEGER NOT NULL -- unix microseconds, UTC
//	);
//	CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at);
//	CREATE TABLE IF NOT EXISTS auth_sessions (
//		id         TEXT NOT NULL PRIMARY KEY,
//		user_id    TEXT NOT NULL,
//		expires_at INTEGER NOT NULL, -- unix microseconds, UTC
//		revoked_at INTEGER           -- unix microseconds, UTC; NULL while live
//	);
//	CREATE INDEX IF NOT EXISTS auth_sessions_user_id ON auth_sessions (user_id);
//	CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
//	CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
//		hash       TEXT NOT NULL PRIMARY KEY, -- SHA-256 of the token, hex
//		family_id  TEXT NOT NULL,             -- auth_sessions.id
//		user_id    TEXT NOT NULL,
//		issued_at  INTEGER NOT NULL,          -- unix microseconds, UTC
//		expires_at INTEGER NOT NULL,          -- unix microseconds, UTC
//		used_at    INTEGER                    -- unix microseconds, UTC; NULL while unused
//	);
//	CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires_at ON auth_refresh_tokens (expires_at);
//	CREATE INDEX IF NOT EXISTS auth_refresh_tokens_user_id ON auth_refresh_tokens (user_id);
//	CREATE TABLE IF NOT EXISTS auth_revocations (
//		user_id    TEXT NOT NULL PRIMARY KEY,
//		revoked_at INTEGER NOT NULL, -- unix microseconds, UTC
//		generation INTEGER NOT NULL DEFAULT 1
//	);
//	CREATE TABLE IF NOT EXISTS auth_one_time_tokens (
//		hash       TEXT NOT NULL PRIMARY KEY, -- SHA-256 of the token, hex
//		purpose    TEXT NOT NULL,
//		user_id    TEXT NOT NULL,
//		email      TEXT NOT NULL,
//		created_at INTEGER NOT NULL, -- unix microseconds, UTC
//		expires_at INTEGER NOT NULL  -- unix microseconds, UTC
//	);
//	CREATE INDEX IF NOT EXISTS auth_one_time_tokens_user_id ON auth_one_time_tokens (user_id);
//	CREATE INDEX IF NOT EXISTS auth_one_time_tokens_expires_at ON auth_one_time_tokens (expires_at);
//	CREATE TABLE IF NOT EXISTS auth_totp (
//		user_id    TEXT NOT NULL PRIMARY KEY,
//		sealed     BLOB NOT NULL,
//		confirmed  INTEGER NOT NULL DEFAULT 0, -- 0 or 1
//		last_step  INTEGER NOT NULL DEFAULT 0, -- unix time / 30 s of the last code used
//		created_at INTEGER NOT NULL            -- unix microseconds, UTC
//	);
//	CREATE TABLE IF NOT EXISTS auth_recovery_codes (
//		user_id TEXT NOT NULL,
//		hash    TEXT NOT NULL, -- HMAC-SHA256 of the code, hex
//		PRIMARY KEY (user_id, hash)
//	)
//
// Migrate upgrades a database made by an earlier release in place, in
// one transaction (BEGIN IMMEDIATE, so that processes starting at once
// take turns): it adds the tables and indexes it lacks, and the columns,
// with ALTER TABLE ... ADD COLUMN: auth_revocations.generation (1 for
// every existing row), auth_users.email_verified, disabled and mfa (0 for
// every existing user). Users, password hashes and sessions are kept.
// Applications that manage their schema with a migration tool can copy
// Schema, AttemptsSchema, SessionsSchema, AccountsSchema and MFASchema
// into it and never call Migrate. Strings are stored as given and
// compared byte for byte (SQLite's default BINARY collation), and sealed
// TOTP secrets as BLOBs, compared byte for byte too; the [auth.Service]
// normalises emails before they reach the store. Times are kept to the microsecond
// and returned in UTC.
//
// # Concurrency
//
// A Store is safe for concurrent use; uniqueness of emails is enforced by
// the UNIQUE index, so of any number of concurrent sign-ups for one email
// exactly one succeeds. SQLite allows one writer at a time: a Store queues
// its own writes (honouring each call's context), but other writers to the
// same file (other Stores, the application's own tables, other processes)
// still contend for the lock, and by default a connection that finds the
// database locked fails at once with SQLITE_BUSY, which this package
// reports as an ordinary error (a 500, not a 409). Open the database with
// a busy timeout, so that writers wait their turn, and in WAL mode, so that
// readers and the writer do not block one another. With
// modernc.org/sqlite, whose DSN runs each _pragma parameter on every new
// connection:
//
//	file:app.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)
//
// With github.com/mattn/go-sqlite3 (also accepted by modernc.org/sqlite):
//
//	file:app.db?_busy_timeout=5000&_journal_mode=WAL
//
// # Attempt counters
//
// A Store is also a [throttle.Store], so an [auth.Service] on it keeps
// the counters of login throttling in auth_attempts, one row per key (a
// 64-digit hex HMAC, never an email or address). AddAttempt is one INSERT
// ... ON CONFLICT (key_hash) DO UPDATE ... RETURNING statement, queued with
// the Store's other writes. So that the table does not grow without bound,
// AddAttempt also deletes, at most once a minute and 1,000 rows at a time,
// counters idle for [throttle.Retention] (a day); counters are never
// needed for longer.
//
// # Passwords and sessions
//
// A Store is also an [auth.PasswordStore]: UpdatePasswordHash is one
// UPDATE ... WHERE id = ? AND password_hash = ?, a compare-and-set.
// (Setting a hash to itself is only a SELECT that checks it.)
//
// And it is an [auth.SessionStore], which keeps refresh tokens (their
// SHA-256, never the tokens) in auth_refresh_tokens, one row per session
// (a family of tokens, with its revocation time) in auth_sessions, and
// the time every session of a user was revoked in auth_revocations.
// UseRefreshToken marks a token used in a transaction (UPDATE ... WHERE
// used_at IS NULL, then a read of the row), queued with the Store's other
// writes, so that of concurrent uses exactly one sees the token unused,
// also across processes, which SQLite's lock serialises. A session's
// expires_at is the latest of its tokens', so that
// DeleteExpiredRefreshTokens deletes the expired tokens and then the
// sessions with none left, 1,000 rows per statement.
//
// # Accounts
//
// A Store is also an [auth.AccountStore], behind email verification,
// password reset, email change, deletion and the operators' listing. It
// keeps one-time tokens (their SHA-256, never the tokens) in
// auth_one_time_tokens. UseOneTimeToken is one DELETE ... RETURNING, so
// that exactly one of concurrent uses of a token gets it. UpdateEmail is
// one UPDATE ... WHERE id = ? AND email = ?, a compare-and-set whose new
// email the UNIQUE index checks. DeleteUser deletes the user, its refresh
// tokens, sessions, revocation, one-time tokens, TOTP enrolment and
// recovery codes in one transaction.
// ListUsers pages through the users in the byte order of their IDs
// (SQLite's BINARY collation). DeleteExpiredOneTimeTokens deletes 1,000
// rows per statement.
//
// # Two-factor authentication
//
// A Store is also an [auth.MFAStore]: it keeps each user's TOTP enrolment
// (its sealed secret, never the secret) in auth_totp, the hashes of its
// recovery codes in auth_recovery_codes, and User.MFA in auth_users.mfa,
// which every lookup of a user reads. UseTOTPStep is one UPDATE ... SET
// last_step = ? WHERE user_id = ? AND last_step < ?, and UseRecoveryCode
// one DELETE ... WHERE user_id = ? AND hash = ?, so that of concurrent
// uses of one step or code, also across processes, which SQLite's lock
// serialises, exactly one succeeds and a replayed code is refused.
// ConfirmTOTP runs, in one transaction, UPDATE ... SET confirmed = 1 WHERE
// user_id = ? AND confirmed = 0 AND sealed = ? (a compare-and-set on the
// sealed bytes), sets auth_users.mfa and replaces the recovery codes.
// PutTOTP, ConfirmTOTP and DeleteTOTP start with a write to the user's
// row, so that their transactions hold the write lock from their first
// statement. DeleteUser deletes the enrolment and codes too.
//
// # Errors
//
// CreateUser returns an error wrapping [auth.ErrDuplicateEmail] when the
// email is taken (whether or not the ID is taken too), and so does
// UpdateEmail; a taken ID with a free email is a different error (a
// constraint failure). UserByEmail, UserByID, RefreshToken,
// UseRefreshToken, SessionGeneration, UseOneTimeToken, the account
// updates and the MFA methods return an error wrapping [auth.ErrNotFound]
// when no row matches, UpdatePasswordHash when no user has the ID and old
// hash, UpdateEmail when none has the ID and current email, ConfirmTOTP
// when the user has no unconfirmed enrolment with that sealed secret, and
// UseTOTPStep when the step is not greater than the last one; PutTOTP
// returns one wrapping [auth.ErrMFAEnabled] when the user's enrolment is
// confirmed. Every other error comes from
// database/sql or the driver and is returned wrapped, prefixed
// "sqlitestore:"; a context that is already done yields an error wrapping
// ctx.Err().
package sqlitestore
