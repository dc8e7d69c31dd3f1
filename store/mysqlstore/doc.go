// Package mysqlstore is an [auth.UserStore] kept in a MySQL or MariaDB
// database, reached through the application's [*sql.DB]. It imports no
// driver: the application chooses one and opens the database. This
// package's own tests use github.com/go-sql-driver/mysql (driver name
// "mysql") and run on MariaDB 10.11; the schema needs InnoDB and
// fractional-second DATETIME (MySQL 5.6.4, MariaDB 5.3 or later).
//
// # Usage
//
//	import _ "github.com/go-sql-driver/mysql"
//
//	db, err := sql.Open("mysql", "app:secret@tcp(db.internal:3306)/app")
//	if err != nil { ... }
//	store := mysqlstore.New(db)
//	if err := store.Migrate(ctx); err != nil { ... } // on every start, on every replica
//	svc, err := auth.New(store, auth.Config{Secret: secret})
//
// The Store works whatever the DSN says about parseTime, loc,
// clientFoundRows and interpolateParams, and whatever the session's
// time_zone and sql_mode (strict or not, ANSI_QUOTES,
// NO_BACKSLASH_ESCAPES). The connection's character set must be utf8mb4,
// the driver's default: leave charset out of the DSN or set
// charset=utf8mb4. [Store.Migrate] checks it.
//
// # Schema
//
// [Store.Migrate] executes [Schema], [AttemptsSchema], [SessionsSchema],
// [AccountsSchema] and [MFASchema], which create eight tables in the
// DSN's database if they do not exist yet and leave existing ones, and
// their rows, alone:
//
//	CREATE TABLE IF NOT EXISTS auth_users (
//		id             VARBINARY(255) NOT NULL,
//		email          VARBINARY(254) NOT NULL,
//		name           TEXT NOT NULL,
//		password_hash  TEXT NOT NULL,
//		created_at     DATETIME(6) NOT NULL,
//		email_verified BOOLEAN NOT NULL DEFAULT FALSE,
//		disabled       BOOLEAN NOT NULL DEFAULT FALSE,
//		mfa            BOOLEAN NOT NULL DEFAULT FALSE,
//		PRIMARY KEY (id),
//		UNIQUE KEY auth_users_email (email)
//	) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
//	CREATE TABLE IF NOT EXISTS auth_attempts (
//		key_hash VARBINARY(64) NOT NULL,
//		attempts BIGINT NOT NULL,
//		last_at  DATETIME(6) NOT NULL,
//		PRIMARY KEY (key_hash),
//		KEY auth_attempts_last_at (last_at)
//	) ENGINE=InnoDB;
//	CREATE TABLE IF NOT EXISTS auth_sessions (
//		id         VARBINARY(64) NOT NULL,
//		user_id    VARBINARY(255) NOT NULL,
//		expires_at DATETIME(6) NOT NULL,
//		revoked_at DATETIME(6) NULL,
//		PRIMARY KEY (id),
//		KEY auth_sessions_user_id (user_id),
//		KEY auth_sessions_expires_at (expires_at)
//	) ENGINE=InnoDB;
//	CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
//		hash       VARBINARY(64) NOT NULL,
//		family_id  VARBINARY(64) NOT NULL,
//		user_id    VARBINARY(255) NOT NULL,
//		issued_at  DATETIME(6) NOT NULL,
//		expires_at DATETIME(6) NOT NULL,
//		used_at    DATETIME(6) NULL,
//		PRIMARY KEY (hash),
//		KEY auth_refresh_tokens_expires_at (expires_at),
//		KEY auth_refresh_tokens_user_id (user_id)
//	) ENGINE=InnoDB;
//	CREATE TABLE IF NOT EXISTS auth_revocations (
//		user_id    VARBINARY(255) NOT NULL,
//		revoked_at DATETIME(6) NOT NULL,
//		generation BIGINT NOT NULL DEFAULT 1,
//		PRIMARY KEY (user_id)
//	) ENGINE=InnoDB;
//	CREATE TABLE IF NOT EXISTS auth_one_time_tokens (
//		hash       VARBINARY(64) NOT NULL,
//		purpose    VARBINARY(32) NOT NULL,
//		user_id    VARBINARY(255) NOT NULL,
//		email      VARBINARY(254) NOT NULL,
//		created_at DATETIME(6) NOT NULL,
//		expires_at DATETIME(6) NOT NULL,
//		PRIMARY KEY (hash),
//		KEY auth_one_time_tokens_user_id (user_id),
//		KEY auth_one_time_tokens_expires_at (expires_at)
//	) ENGINE=InnoDB;
//	CREATE TABLE IF NOT EXISTS auth_totp (
//		user_id    VARBINARY(255) NOT NULL,
//		sealed     VARBINARY(64) NOT NULL,
//		confirmed  BOOLEAN NOT NULL DEFAULT FALSE,
//		last_step  BIGINT NOT NULL DEFAULT 0,
//		created_at DATETIME(6) NOT NULL,
//		PRIMARY KEY (user_id)
//	) ENGINE=InnoDB;
//	CREATE TABLE IF NOT EXISTS auth_recovery_codes (
//		user_id VARBINARY(255) NOT NULL,
//		hash    VARBINARY(64) NOT NULL,
//		PRIMARY KEY (user_id, hash)
//	) ENGINE=InnoDB
//
// Migrate upgrades a database made by an earlier release in place: it
// adds the tables it lacks, and the columns and indexes, each with ALTER
// TABLE once information_schema shows it missing (MySQL, unlike MariaDB,
// has no ADD COLUMN IF NOT EXISTS): auth_revocations.generation (1 for
// every existing row), auth_users.email_verified, disabled and mfa (false
// for every existing user) and the index auth_refresh_tokens_user_id.
// Users, password hashes and sessions are kept. MySQL commits each DDL
// statement on its own, so a Migrate that fails midway leaves what it
// did, and the next one does the rest. Applications that manage their
// schema with a migration tool can copy Schema, AttemptsSchema,
// SessionsSchema (three statements), AccountsSchema and MFASchema (two)
// into it and never call Migrate.
//
// Strings are stored as given and compared byte for byte, and sealed TOTP
// secrets are VARBINARY, compared byte for byte. id and email are
// binary strings because no utf8mb4 collation both MySQL and MariaDB have
// compares byte for byte: the _ci and _ai ones fold case or accents, and
// utf8mb4_bin ignores trailing spaces, so "a@example.com" and
// "a@example.com " would collide in the unique index. Names and hashes are
// utf8mb4 text, so that any Unicode, emoji and other characters outside
// the Basic Multilingual Plane included, round-trips, and reads as text in
// SQL clients. Times are kept to the microsecond (truncated), as the UTC
// date and time, and returned in UTC.
//
// # Values the table cannot hold
//
// Under a non-strict sql_mode MySQL stores an over-long value truncated,
// invalid UTF-8 with '?' in its place and an out-of-range date as zero,
// with only a warning. So that no sql_mode can make it store something
// other than what it was given, CreateUser checks first, and fails
// without storing anything, when the ID is longer than 255 bytes, the
// email longer than 254 bytes (the longest the [auth.Service] accepts),
// the name or password hash longer than 65,535 bytes or not valid UTF-8,
// or CreatedAt outside the years 1000 to 9999 (in UTC). Likewise
// UpdatePasswordHash checks the new hash, UpdateName the name and
// UpdateEmail the email; the session and one-time token methods check
// that token hashes and families are at most 64 bytes (the Service's are
// 64 and 32 hex digits), purposes at most 32, user IDs at most 255,
// emails at most 254, and every time they write or compare within those
// years; PutTOTP that the sealed secret is at most 64 bytes (the
// Service's are 49) and ConfirmTOTP that recovery-code hashes are at
// most 64.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores, in any
// number of processes, may share one database. Uniqueness of emails is
// enforced by the unique index, so of any number of concurrent sign-ups
// for one email exactly one succeeds. Migrate may be called by every
// replica at start-up at the same time: it runs the DDL while holding the
// server-wide lock [MigrateLockName] (GET_LOCK on one connection), so the
// replicas create the tables one after another.
//
// CreateUser inserts in a transaction that it commits only if its context
// is still live: when a context ends mid-statement the driver abandons the
// connection but the server still finishes the statement, and an
// uncommitted insert is then rolled back, so a cancelled CreateUser
// stores nothing. Every other write (each batch of the prunes
// included) is a transaction committed the same way, so that a cancelled
// call changes nothing.
//
// # Attempt counters
//
// A Store is also a [throttle.Store], so an [auth.Service] on it keeps
// the counters of login throttling, and of the per-IP limits of package
// httpauth, in auth_attempts, where every replica sees them. There is one
// row per key (a 64-digit hex HMAC, never an email or address; a longer
// key is refused, not truncated). MySQL has no RETURNING on upserts:
// AddAttempt runs INSERT ... ON DUPLICATE KEY UPDATE and a SELECT of the
// row in one transaction, which holds the row's lock, so concurrent
// attempts are each counted once; like CreateUser, it commits only if its
// context is still live. last_at only ever moves forward, so a replica
// with a slow clock cannot shorten a wait. So that the table does not
// grow without bound, AddAttempt also deletes, at most once a minute per
// Store and 1,000 rows at a time, counters idle for
// [throttle.Retention] (a day); counters are never needed for longer.
//
// # Passwords and sessions
//
// A Store is also an [auth.PasswordStore]: UpdatePasswordHash is one
// UPDATE ... WHERE id = ? AND password_hash = CAST(? AS BINARY), a
// compare-and-set (byte for byte: the column's utf8mb4_bin collation
// would ignore trailing spaces). MySQL reports as affected only the rows
// an UPDATE changed, unless the DSN sets clientFoundRows, so a hash set
// to itself would look like a mismatch; when the new hash is the old one,
// UpdatePasswordHash therefore writes nothing and only checks, with a
// SELECT, that the user has it. It works with either setting.
//
// And it is an [auth.SessionStore], which keeps refresh tokens (their
// SHA-256, never the tokens) in auth_refresh_tokens, one row per session
// (a family of tokens, with its revocation time) in auth_sessions, and
// the time every session of a user was revoked in auth_revocations. Every
// transaction runs at the server's default isolation, InnoDB's REPEATABLE
// READ. UseRefreshToken runs, in one transaction, UPDATE ... SET used_at
// = ? WHERE hash = ? AND used_at IS NULL (which changes a NULL, so
// clientFoundRows does not matter) and then a locking read (LOCK IN SHARE
// MODE) of the token and its session, which, unlike a plain SELECT,
// reads the rows as last committed: of concurrent uses of one token, on
// any replicas, one update changes the row and the others wait for its
// transaction, match nothing, and read the winner's used_at. So exactly
// one caller sees the token unused. CreateRefreshToken inserts the token
// with INSERT ... ON DUPLICATE KEY UPDATE hash = hash (INSERT IGNORE would
// also hide errors other than the duplicate) and creates or extends its
// session in one transaction. A session's expires_at is the latest of its
// tokens', so that DeleteExpiredRefreshTokens deletes the expired tokens
// and then the sessions with none left by their own rows, 1,000 rows per
// statement; a session that a concurrent CreateRefreshToken extends is
// locked by it, and reread once it commits.
//
// # Accounts
//
// A Store is also an [auth.AccountStore], behind email verification,
// password reset, email change, deletion and the operators' listing. It
// keeps one-time tokens (their SHA-256, never the tokens) in
// auth_one_time_tokens. MySQL has no DELETE ... RETURNING: UseOneTimeToken
// runs, in one transaction, a SELECT ... FOR UPDATE of the token, a
// locking read that reads the row as last committed and makes concurrent
// uses, on any replicas, wait for this transaction and then find no row,
// and a DELETE. UpdateEmail is one UPDATE ... WHERE id = ? AND email = ?,
// a compare-and-set whose new email the unique index checks. As with
// UpdatePasswordHash, an update that changes nothing counts no row unless
// the DSN sets clientFoundRows: UpdateName, SetDisabled, and UpdateEmail
// of email_verified alone then check with a SELECT that the user has the
// values already. DeleteUser deletes the user row first, which
// CreateRefreshToken, CreateOneTimeToken and the MFA methods lock too, and
// then its refresh tokens, sessions, revocation, one-time tokens, TOTP
// enrolment and recovery codes, in one transaction.
// ListUsers pages through the users in the byte order of their IDs
// (VARBINARY). SessionGeneration is one SELECT by primary key
// (auth_users LEFT JOIN auth_revocations). DeleteExpiredOneTimeTokens
// deletes 1,000 rows per statement.
//
// # Two-factor authentication
//
// A Store is also an [auth.MFAStore]: it keeps each user's TOTP enrolment
// (its sealed secret, never the secret) in auth_totp, the hashes of its
// recovery codes in auth_recovery_codes, and User.MFA in auth_users.mfa,
// which every lookup of a user reads. UseTOTPStep is one UPDATE ... SET
// last_step = ? WHERE user_id = ? AND last_step < ?, and UseRecoveryCode
// one DELETE ... WHERE user_id = ? AND hash = ?: an UPDATE or DELETE
// reads the row as last committed and waits for a concurrent one's
// transaction, so of concurrent uses of one step or code, on any
// replicas, exactly one matches the row and the others match nothing,
// and a replayed code is refused. ConfirmTOTP runs, in one transaction
// that first locks the user's row (SELECT ... FOR UPDATE), UPDATE ... SET
// confirmed = TRUE WHERE user_id = ? AND NOT confirmed AND sealed = ? (a
// compare-and-set on the sealed bytes), sets auth_users.mfa and replaces
// the recovery codes. Each of these statements changes every row it
// matches, so RowsAffected counts it whether or not the DSN sets
// clientFoundRows. PutTOTP and DeleteTOTP lock the user's row first too,
// as DeleteUser does, which also deletes the enrolment and codes: they
// take turns per user. Their transactions, and ConfirmTOTP's, run at
// READ COMMITTED, where InnoDB locks no gaps: under REPEATABLE READ, a
// read or DELETE that finds no row locks the gap where it would be, and
// two users enrolling at once, each then inserting into that gap,
// deadlock.
//
// # Errors
//
// CreateUser returns an error wrapping [auth.ErrDuplicateEmail] when the
// email is taken (whether or not the ID is taken too): MySQL has no ON
// CONFLICT (email), so after a failed insert the Store looks the email up
// to tell a taken email from a taken ID; UpdateEmail does the same. A
// taken ID with a free email is a different error (the driver's
// duplicate-entry error). UserByEmail, UserByID, RefreshToken,
// UseRefreshToken, SessionGeneration, UseOneTimeToken, the account
// updates and the MFA methods return an error wrapping [auth.ErrNotFound]
// when no row matches, UpdatePasswordHash when no user has the ID and old
// hash, UpdateEmail when none has the ID and current email, ConfirmTOTP
// when the user has no unconfirmed enrolment with that sealed secret, and
// UseTOTPStep when the step is not greater than the last one; PutTOTP
// returns one wrapping [auth.ErrMFAEnabled] when the user's enrolment is
// confirmed. Every other error
// comes from database/sql or the driver, or is one of the checks above,
// and is returned wrapped, prefixed "mysqlstore:"; a call whose context
// is done returns an error wrapping ctx.Err().
package mysqlstore
