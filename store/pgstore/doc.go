// Package pgstore is an [auth.UserStore] kept in a PostgreSQL database,
// reached through the application's [*sql.DB]. It is the store for
// production deployments where several replicas of a service share one
// database. It imports no driver: the application chooses one and opens
// the database. This package's own tests use github.com/jackc/pgx/v5/stdlib
// (driver name "pgx"); github.com/lib/pq works as well.
//
// # Usage
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	db, err := sql.Open("pgx", "postgres://app@db.internal:5432/app?sslmode=verify-full")
//	if err != nil { ... }
//	store := pgstore.New(db)
//	if err := store.Migrate(ctx); err != nil { ... } // on every start, on every replica
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
//		id             TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		email          TEXT COLLATE "C" NOT NULL UNIQUE,
//		name           TEXT NOT NULL,
//		password_hash  TEXT NOT NULL,
//		created_at     TIMESTAMPTZ NOT NULL,
//		email_verified BOOLEAN NOT NULL DEFAULT false,
//		disabled       BOOLEAN NOT NULL DEFAULT false,
//		mfa            BOOLEAN NOT NULL DEFAULT false
//	);
//	DO $$ BEGIN
//		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_users'::regclass AND attname = 'email_verified' AND NOT attisdropped) THEN
//			ALTER TABLE auth_users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT false;
//		END IF;
//		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_users'::regclass AND attname = 'disabled' AND NOT attisdropped) THEN
//			ALTER TABLE auth_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT false;
//		END IF;
//		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_users'::regclass AND attname = 'mfa' AND NOT attisdropped) THEN
//			ALTER TABLE auth_users ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT false;
//		END IF;
//	END $$;
//	CREATE TABLE IF NOT EXISTS auth_attempts (
//		key_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		attempts BIGINT NOT NULL,
//		last_at  TIMESTAMPTZ NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at);
//	CREATE TABLE IF NOT EXISTS auth_sessions (
//		id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		user_id    TEXT COLLATE "C" NOT NULL,
//		expires_at TIMESTAMPTZ NOT NULL,
//		revoked_at TIMESTAMPTZ
//	);
//	CREATE INDEX IF NOT EXISTS auth_sessions_user_id ON auth_sessions (user_id);
//	CREATE INDEX IF NOT EXISTS auth_sessions_expires_at ON auth_sessions (expires_at);
//	CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
//		hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		family_id  TEXT COLLATE "C" NOT NULL,
//		user_id    TEXT COLLATE "C" NOT NULL,
//		issued_at  TIMESTAMPTZ NOT NULL,
//		expires_at TIMESTAMPTZ NOT NULL,
//		used_at    TIMESTAMPTZ
//	);
//	CREATE INDEX IF NOT EXISTS auth_refresh_tokens_expires_at ON auth_refresh_tokens (expires_at);
//	CREATE INDEX IF NOT EXISTS auth_refresh_tokens_user_id ON auth_refresh_tokens (user_id);
//	CREATE TABLE IF NOT EXISTS auth_revocations (
//		user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		revoked_at TIMESTAMPTZ NOT NULL,
//		generation BIGINT NOT NULL DEFAULT 1
//	);
//	DO $$ BEGIN
//		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'auth_revocations'::regclass AND attname = 'generation' AND NOT attisdropped) THEN
//			ALTER TABLE auth_revocations ADD COLUMN generation BIGINT NOT NULL DEFAULT 1;
//		END IF;
//	END $$;
//	CREATE TABLE IF NOT EXISTS auth_one_time_tokens (
//		hash       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		purpose    TEXT COLLATE "C" NOT NULL,
//		user_id    TEXT COLLATE "C" NOT NULL,
//		email      TEXT COLLATE "C" NOT NULL,
//		created_at TIMESTAMPTZ NOT NULL,
//		expires_at TIMESTAMPTZ NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS auth_one_time_tokens_user_id ON auth_one_time_tokens (user_id);
//	CREATE INDEX IF NOT EXISTS auth_one_time_tokens_expires_at ON auth_one_time_tokens (expires_at);
//	CREATE TABLE IF NOT EXISTS auth_totp (
//		user_id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		sealed     BYTEA NOT NULL,
//		confirmed  BOOLEAN NOT NULL DEFAULT false,
//		last_step  BIGINT NOT NULL DEFAULT 0,
//		created_at TIMESTAMPTZ NOT NULL
//	);
//	CREATE TABLE IF NOT EXISTS auth_recovery_codes (
//		user_id TEXT COLLATE "C" NOT NULL,
//		hash    TEXT COLLATE "C" NOT NULL,
//		PRIMARY KEY (user_id, hash)
//	)
//
// Migrate upgrades a database made by an earlier release in place, in one
// transaction: it adds the tables and indexes it lacks, and the columns
// auth_revocations.generation (1 for every existing row) and
// auth_users.email_verified, disabled and mfa (false for every existing
// user). Users, password hashes and sessions are kept. The columns are
// added only where they are missing (a DO block reads pg_attribute),
// because ALTER TABLE takes an ACCESS EXCLUSIVE lock, even with ADD
// COLUMN IF NOT EXISTS and the column there: on every start it would
// wait for any transaction reading the table, and every query behind it.
//
// The tables are created, and later found, in the first schema of the
// connection's search_path (usually public); to keep them elsewhere, set
// search_path for the application's connections, for example with
// search_path=myschema in a pgx DSN. Applications that manage their schema
// with a migration tool can copy Schema, AttemptsSchema, SessionsSchema,
// AccountsSchema and MFASchema into it and never call Migrate.
//
// Strings are stored as given and compared byte for byte: equality of
// TEXT under PostgreSQL's deterministic collations (every database default
// is one) is byte equality, and the [auth.Service] normalises emails before
// they reach the store. Times are kept to the microsecond (truncated) and
// returned in UTC.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores, in any
// number of processes, may share one database. Uniqueness of emails is
// enforced by the UNIQUE index through INSERT ... ON CONFLICT (email) DO
// NOTHING, so of any number of concurrent sign-ups for one email exactly
// one succeeds. Migrate may be called by every replica at start-up at the
// same time: it runs the DDL in a transaction holding the advisory lock
// [MigrateLockKey], so the replicas create the tables one after another.
//
// # Attempt counters
//
// A Store is also a [throttle.Store], so an [auth.Service] on it keeps
// the counters of login throttling, and of the per-IP limits of package
// httpauth, in auth_attempts, where every replica sees them. There is one
// row per key (a 64-digit hex HMAC, never an email or address), counted
// atomically by one INSERT ... ON CONFLICT (key_hash) DO UPDATE ...
// RETURNING statement; last_at only ever moves forward, so a replica with
// a slow clock cannot shorten a wait. So that the table does not grow
// without bound, AddAttempt also deletes, at most once a minute per Store
// and 1,000 rows at a time, counters idle for [throttle.Retention] (a
// day); counters are never needed for longer.
//
// # Passwords and sessions
//
// A Store is also an [auth.PasswordStore]: UpdatePasswordHash is one
// UPDATE ... WHERE id = $2 AND password_hash = $3, a compare-and-set, so
// that of concurrent changes from one hash exactly one wins, whichever
// replicas make them. (Setting a hash to itself is only a SELECT that
// checks it.)
//
// And it is an [auth.SessionStore], which keeps refresh tokens (their
// SHA-256, never the tokens) in auth_refresh_tokens, one row per session
// (a family of tokens, with its revocation time) in auth_sessions, and
// the time every session of a user was revoked in auth_revocations. Every
// statement runs at the database's default isolation, READ COMMITTED.
// UseRefreshToken runs, in one transaction, UPDATE ... SET used_at = $1
// WHERE hash = $2 AND used_at IS NULL and then a SELECT of the token and
// its session: of concurrent uses of one token, on any replicas, one
// update changes the row and the others wait for its transaction and then
// match nothing; the SELECT, a new statement, sees the winner's used_at.
// So exactly one caller sees the token unused. CreateRefreshToken inserts
// the token (ON CONFLICT DO NOTHING) and creates or extends its session in
// one transaction. A session's expires_at is the latest of its tokens', so
// that DeleteExpiredRefreshTokens deletes the expired tokens and then the
// sessions with none left by their own rows, 1,000 rows per statement,
// rechecking expires_at when a concurrent CreateRefreshToken has just
// moved it forward.
//
// # Accounts
//
// A Store is also an [auth.AccountStore], behind email verification,
// password reset, email change, deletion and the operators' listing. It
// keeps one-time tokens (their SHA-256, never the tokens) in
// auth_one_time_tokens. UseOneTimeToken is one DELETE ... RETURNING: of
// concurrent uses of a token, on any replicas, one deletes the row and
// the others wait for its transaction and then match nothing. UpdateEmail
// is one UPDATE ... WHERE id = $3 AND email = $4, a compare-and-set whose
// new email the UNIQUE index checks, so that of concurrent moves to one
// address exactly one wins. DeleteUser deletes the user row first, which
// CreateRefreshToken, CreateOneTimeToken and the MFA methods lock too, and
// then its refresh tokens, sessions, revocation, one-time tokens, TOTP
// enrolment and recovery codes, in one transaction.
// ListUsers pages through the users in the byte order of their IDs (the
// "C" collation). SessionGeneration is one SELECT by primary key
// (auth_users LEFT JOIN auth_revocations). DeleteExpiredOneTimeTokens
// deletes 1,000 rows per statement.
//
// # Two-factor authentication
//
// A Store is also an [auth.MFAStore]: it keeps each user's TOTP enrolment
// (its sealed secret, never the secret, as BYTEA) in auth_totp, the
// hashes of its recovery codes in auth_recovery_codes, and User.MFA in
// auth_users.mfa, which every lookup of a user reads. UseTOTPStep is one
// UPDATE ... SET last_step = $1 WHERE user_id = $2 AND last_step < $3,
// and UseRecoveryCode one DELETE ... WHERE user_id = $1 AND hash = $2: of
// concurrent uses of one step or code, on any replicas, one changes the
// row and the others wait for its transaction, recheck the row, and match
// nothing, so a replayed code is refused. ConfirmTOTP runs, in one
// transaction that first locks the user's row (SELECT ... FOR UPDATE),
// UPDATE ... SET confirmed = true WHERE user_id = $2 AND NOT confirmed AND
// sealed = $3 (a compare-and-set on the sealed bytes), sets
// auth_users.mfa and replaces the recovery codes. PutTOTP and DeleteTOTP
// lock the user's row first too, as DeleteUser does, which also deletes
// the enrolment and codes: they take turns per user, and never deadlock.
//
// # Errors
//
// CreateUser returns an error wrapping [auth.ErrDuplicateEmail] when the
// email is taken (whether or not the ID is taken too), and so does
// UpdateEmail; a taken ID with a free email is a different error (the
// driver's unique violation). UserByEmail, UserByID, RefreshToken,
// UseRefreshToken, SessionGeneration, UseOneTimeToken, the account
// updates and the MFA methods return an error wrapping [auth.ErrNotFound]
// when no row matches, UpdatePasswordHash when no user has the ID and old
// hash, UpdateEmail when none has the ID and current email, ConfirmTOTP
// when the user has no unconfirmed enrolment with that sealed secret, and
// UseTOTPStep when the step is not greater than the last one; PutTOTP
// returns one wrapping [auth.ErrMFAEnabled] when the user's enrolment is
// confirmed. Every other error comes from
// database/sql or the driver and is returned wrapped, prefixed "pgstore:";
// a call whose context is done returns an error wrapping ctx.Err().
package pgstore
