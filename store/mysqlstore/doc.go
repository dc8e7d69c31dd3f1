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
// [Store.Migrate] executes [Schema] and [AttemptsSchema], which create two
// tables in the DSN's database if they do not exist yet and leave existing
// ones, and their rows, alone:
//
//	CREATE TABLE IF NOT EXISTS auth_users (
//		id            VARBINARY(255) NOT NULL,
//		email         VARBINARY(254) NOT NULL,
//		name          TEXT NOT NULL,
//		password_hash TEXT NOT NULL,
//		created_at    DATETIME(6) NOT NULL,
//		PRIMARY KEY (id),
//		UNIQUE KEY auth_users_email (email)
//	) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
//	CREATE TABLE IF NOT EXISTS auth_attempts (
//		key_hash VARBINARY(64) NOT NULL,
//		attempts BIGINT NOT NULL,
//		last_at  DATETIME(6) NOT NULL,
//		PRIMARY KEY (key_hash),
//		KEY auth_attempts_last_at (last_at)
//	) ENGINE=InnoDB
//
// Applications that manage their schema with a migration tool can copy
// Schema and AttemptsSchema into it and never call Migrate.
//
// Strings are stored as given and compared byte for byte. id and email are
// binary strings because no utf8mb4 collation both MySQL and MariaDB have
// compares byte for byte: the _ci and _ai ones fold case or accents, and
// utf8mb4_bin ignores trailing spaces, so "a@example.com" and
// "a@example.com " would collide in the unique index. Names and hashes are
// utf8mb4 text, so that any Unicode, emoji and other characters outside
// the Basic Multilingual Plane included, round-trips, and reads as text in
// SQL clients. CreatedAt is kept to the microsecond (truncated), as the
// UTC date and time, and returned in UTC.
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
// or CreatedAt outside the years 1000 to 9999 (in UTC).
//
// # Concurrency
//
// A Store is safe for concurrent use, and any number of Stores, in any
// number of processes, may share one database. Uniqueness of emails is
// enforced by the unique index, so of any number of concurrent sign-ups
// for one email exactly one succeeds. Migrate may be called by every
// replica at start-up at the same time: it runs Schema while holding the
// server-wide lock [MigrateLockName] (GET_LOCK on one connection), so the
// replicas create the table one after another.
//
// CreateUser inserts in a transaction that it commits only if its context
// is still live: when a context ends mid-statement the driver abandons the
// connection but the server still finishes the statement, and an
// uncommitted insert is then rolled back, so a cancelled CreateUser
// stores nothing.
//
// # Attempt counters
//
// A Store is also an [auth.AttemptStore], so an [auth.Service] on it keeps
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
// [auth.AttemptRetention] (a day); counters are never needed for longer.
//
// # Errors
//
// CreateUser returns an error wrapping [auth.ErrDuplicateEmail] when the
// email is taken (whether or not the ID is taken too): MySQL has no ON
// CONFLICT (email), so after a failed insert the Store looks the email up
// to tell a taken email from a taken ID. A taken ID with a free email is
// a different error (the driver's duplicate-entry error). UserByEmail and
// UserByID return an error wrapping [auth.ErrNotFound] when no row
// matches. Every other error comes from database/sql or the driver, or is
// one of the checks above, and is returned wrapped, prefixed
// "mysqlstore:"; a call whose context is done returns an error wrapping
// ctx.Err().
package mysqlstore
