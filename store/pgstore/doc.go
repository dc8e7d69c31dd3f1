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
// [Store.Migrate] executes [Schema] and [AttemptsSchema], which create two
// tables and an index if they do not exist yet and leave existing ones,
// and their rows, alone:
//
//	CREATE TABLE IF NOT EXISTS auth_users (
//		id            TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		email         TEXT COLLATE "C" NOT NULL UNIQUE,
//		name          TEXT NOT NULL,
//		password_hash TEXT NOT NULL,
//		created_at    TIMESTAMPTZ NOT NULL
//	);
//	CREATE TABLE IF NOT EXISTS auth_attempts (
//		key_hash TEXT COLLATE "C" NOT NULL PRIMARY KEY,
//		attempts BIGINT NOT NULL,
//		last_at  TIMESTAMPTZ NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS auth_attempts_last_at ON auth_attempts (last_at)
//
// The tables are created, and later found, in the first schema of the
// connection's search_path (usually public); to keep them elsewhere, set
// search_path for the application's connections, for example with
// search_path=myschema in a pgx DSN. Applications that manage their schema
// with a migration tool can copy Schema and AttemptsSchema into it and
// never call Migrate.
//
// Strings are stored as given and compared byte for byte: equality of
// TEXT under PostgreSQL's deterministic collations (every database default
// is one) is byte equality, and the [auth.Service] normalises emails before
// they reach the store. CreatedAt is kept to the microsecond (truncated)
// and returned in UTC.
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores, in any
// number of processes, may share one database. Uniqueness of emails is
// enforced by the UNIQUE index through INSERT ... ON CONFLICT (email) DO
// NOTHING, so of any number of concurrent sign-ups for one email exactly
// one succeeds. Migrate may be called by every replica at start-up at the
// same time: it runs Schema in a transaction holding the advisory lock
// [MigrateLockKey], so the replicas create the table one after another.
//
// # Attempt counters
//
// A Store is also an [auth.AttemptStore], so an [auth.Service] on it keeps
// the counters of login throttling, and of the per-IP limits of package
// httpauth, in auth_attempts, where every replica sees them. There is one
// row per key (a 64-digit hex HMAC, never an email or address), counted
// atomically by one INSERT ... ON CONFLICT (key_hash) DO UPDATE ...
// RETURNING statement; last_at only ever moves forward, so a replica with
// a slow clock cannot shorten a wait. So that the table does not grow
// without bound, AddAttempt also deletes, at most once a minute per Store
// and 1,000 rows at a time, counters idle for [auth.AttemptRetention] (a
// day); counters are never needed for longer.
//
// # Errors
//
// CreateUser returns an error wrapping [auth.ErrDuplicateEmail] when the
// email is taken (whether or not the ID is taken too); a taken ID with a
// free email is a different error (the driver's unique violation).
// UserByEmail and UserByID return an error wrapping [auth.ErrNotFound] when
// no row matches. Every other error comes from database/sql or the driver
// and is returned wrapped, prefixed "pgstore:"; a call whose context is
// done returns an error wrapping ctx.Err().
package pgstore
