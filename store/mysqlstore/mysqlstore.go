package mysqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
)

// Schema is the MySQL/MariaDB DDL of the users table. It is idempotent:
// executing it on a database that already has the table changes nothing.
// [Store.Migrate] executes it, under [MigrateLockName].
//
// id and email are VARBINARY so that they are compared byte for byte:
// every utf8mb4 collation either folds case or accents, or, like
// utf8mb4_bin, ignores trailing spaces (PAD SPACE), so that
// "a@example.com" and "a@example.com " would collide in the unique index
// (and IDs are ordered byte for byte). created_at holds the UTC date and
// time. [Store.Migrate] adds email_verified, disabled and mfa (BOOLEAN is
// TINYINT(1), 0 or 1) to a table made before they existed.
const Schema = `CREATE TABLE IF NOT EXISTS auth_users (
	id             VARBINARY(255) NOT NULL,
	email          VARBINARY(254) NOT NULL,
	name           TEXT NOT NULL,
	password_hash  TEXT NOT NULL,
	created_at     DATETIME(6) NOT NULL,
	email_verified BOOLEAN NOT NULL DEFAULT FALSE,
	disabled       BOOLEAN NOT NULL DEFAULT FALSE,
	mfa            BOOLEAN NOT NULL DEFAULT FALSE,
	PRIMARY KEY (id),
	UNIQUE KEY auth_users_email (email)
) ENGINE=InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`

// AttemptsSchema is the MySQL/MariaDB DDL of the attempt counters' table
// (see [throttle.Store]), with its index on last_at, by which idle
// counters are pruned. Like [Schema], it is idempotent; [Store.Migrate]
// executes it after Schema. last_at holds the UTC date and time.
const AttemptsSchema = `CREATE TABLE IF NOT EXISTS auth_attempts (
	key_hash VARBINARY(64) NOT NULL,
	attempts BIGINT NOT NULL,
	last_at  DATETIME(6) NOT NULL,
	PRIMARY KEY (key_hash),
	KEY auth_attempts_last_at (last_at)
) ENGINE=InnoDB`

// SessionsSchema is the MySQL/MariaDB DDL of the tables of refresh
// tokens and sessions (see [auth.SessionStore]), with their indexes:
// three statements, separated by semicolons. Like [Schema], it is
// idempotent; [Store.Migrate] executes it after AttemptsSchema, one
// statement at a time (go-sql-driver/mysql runs several in one call only
// with multiStatements=true). Times hold the UTC date and time.
//
// auth_sessions has one row per session (a family of refresh tokens),
// whose expires_at is the latest of its tokens' and by which it is
// deleted once it has no token left; auth_revocations has one row per
// user whose sessions were all revoked.
const SessionsSchema = `CREATE TABLE IF NOT EXISTS auth_sessions (
	id         VARBINARY(64) NOT NULL,
	user_id    VARBINARY(255) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	revoked_at DATETIME(6) NULL,
	PRIMARY KEY (id),
	KEY auth_sessions_user_id (user_id),
	KEY auth_sessions_expires_at (expires_at)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS auth_refresh_tokens (
	hash       VARBINARY(64) NOT NULL,
	family_id  VARBINARY(64) NOT NULL,
	user_id    VARBINARY(255) NOT NULL,
	issued_at  DATETIME(6) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	used_at    DATETIME(6) NULL,
	PRIMARY KEY (hash),
	KEY auth_refresh_tokens_expires_at (expires_at),
	KEY auth_refresh_tokens_user_id (user_id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS auth_revocations (
	user_id    VARBINARY(255) NOT NULL,
	revoked_at DATETIME(6) NOT NULL,
	generation BIGINT NOT NULL DEFAULT 1,
	PRIMARY KEY (user_id)
) ENGINE=InnoDB`

// AccountsSchema is the MySQL/MariaDB DDL of the table of one-time tokens
// (see [auth.AccountStore]), with its indexes. Like [Schema], it is
// idempotent; [Store.Migrate] executes it after SessionsSchema. Times hold
// the UTC date and time.
const AccountsSchema = `CREATE TABLE IF NOT EXISTS auth_one_time_tokens (
	hash       VARBINARY(64) NOT NULL,
	purpose    VARBINARY(32) NOT NULL,
	user_id    VARBINARY(255) NOT NULL,
	email      VARBINARY(254) NOT NULL,
	created_at DATETIME(6) NOT NULL,
	expires_at DATETIME(6) NOT NULL,
	PRIMARY KEY (hash),
	KEY auth_one_time_tokens_user_id (user_id),
	KEY auth_one_time_tokens_expires_at (expires_at)
) ENGINE=InnoDB`

// MFASchema is the MySQL/MariaDB DDL of the tables of TOTP enrolments and
// recovery codes (see [auth.MFAStore]): two statements, separated by a
// semicolon. Like [Schema], it is idempotent; [Store.Migrate] executes it
// after AccountsSchema, one statement at a time. created_at holds the UTC
// date and time.
//
// auth_totp has one row per user with an enrolment, whose sealed secret
// is VARBINARY (opaque bytes, sealed by the Service, compared byte for
// byte); auth_recovery_codes one row per unused recovery code (its hash,
// never the code).
const MFASchema = `CREATE TABLE IF NOT EXISTS auth_totp (
	user_id    VARBINARY(255) NOT NULL,
	sealed     VARBINARY(64) NOT NULL,
	confirmed  BOOLEAN NOT NULL DEFAULT FALSE,
	last_step  BIGINT NOT NULL DEFAULT 0,
	created_at DATETIME(6) NOT NULL,
	PRIMARY KEY (user_id)
) ENGINE=InnoDB;
CREATE TABLE IF NOT EXISTS auth_recovery_codes (
	user_id VARBINARY(255) NOT NULL,
	hash    VARBINARY(64) NOT NULL,
	PRIMARY KEY (user_id, hash)
) ENGINE=InnoDB`

// upgrades are the columns and indexes that [Store.Migrate] adds to a
// table made before they existed (MySQL, unlike MariaDB, has no ADD
// COLUMN IF NOT EXISTS), each with the DDL that adds it. Every existing
// row gets the default: generation 1, as each row of auth_revocations
// stands for at least one revocation; an email not verified, an account
// not disabled and without two-factor authentication.
var upgrades = []struct{ table, column, index, ddl string }{
	{table: "auth_revocations", column: "generation", ddl: `ALTER TABLE auth_revocations ADD COLUMN generation BIGINT NOT NULL DEFAULT 1`},
	{table: "auth_users", column: "email_verified", ddl: `ALTER TABLE auth_users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE`},
	{table: "auth_users", column: "disabled", ddl: `ALTER TABLE auth_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE`},
	{table: "auth_users", column: "mfa", ddl: `ALTER TABLE auth_users ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT FALSE`},
	{table: "auth_refresh_tokens", index: "auth_refresh_tokens_user_id", ddl: `ALTER TABLE auth_refresh_tokens ADD KEY auth_refresh_tokens_user_id (user_id)`},
}

// userColumns are the columns of auth_users that ByID selects.
const userColumns = `id, email, name, password_hash, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'), email_verified, disabled, mfa`

// oneTimeColumns are the columns of auth_one_time_tokens that
// UseOneTimeToken returns.
const oneTimeColumns = `hash, purpose, user_id, email,
	DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f'),
	DATE_FORMAT(expires_at, '%Y-%m-%d %H:%i:%s.%f')`

// tokenByHash selects what TokenGet does, from auth_refresh_tokens t
// joined with auth_sessions s.
const tokenByHash = `SELECT t.hash, t.family_id, t.user_id,
	DATE_FORMAT(t.issued_at, '%Y-%m-%d %H:%i:%s.%f'),
	DATE_FORMAT(t.expires_at, '%Y-%m-%d %H:%i:%s.%f'),
	DATE_FORMAT(t.used_at, '%Y-%m-%d %H:%i:%s.%f'),
	DATE_FORMAT(s.revoked_at, '%Y-%m-%d %H:%i:%s.%f')
FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.family_id
WHERE t.hash = ?`

// Column limits of [Schema], which CreateUser checks before inserting.
const (
	maxIDBytes    = 255
	maxEmailBytes = 254
	maxTextBytes  = 65535 // TEXT
	minYear       = 1000  // DATETIME's supported range
	maxYear       = 9999
)

// MigrateLockName is the name of the user-level lock (GET_LOCK) that
// [Store.Migrate] holds while it executes [Schema], [AttemptsSchema],
// [SessionsSchema], [AccountsSchema] and [MFASchema], so that replicas
// starting at once migrate one after another. Such locks are server-wide:
// Stores on different databases of one server take turns too.
const MigrateLockName = "gatehouse.auth_users.migrate"

// migrateLockWait is how long Migrate waits for [MigrateLockName], in
// seconds, unless its context ends first.
const migrateLockWait = 60

// dateTimeLayout is the form in which created_at is written and read: the
// UTC date and time to the microsecond. Writing and reading it as text,
// rather than as a time.Time, leaves the DSN's parseTime and loc settings
// and the session's time_zone out of it.
const dateTimeLayout = "2006-01-02 15:04:05.000000"

// dialect is what sets MySQL apart for the code shared with the other SQL
// stores: no ON CONFLICT, so a taken email is told from a taken ID by
// looking the email up after a failed insert; single-statement writes in
// a transaction; times as UTC DATETIME(6) text; a locking read where
// REPEATABLE READ would read a snapshot; and checks that keep values the
// tables cannot hold from being silently truncated or replaced under a
// non-strict sql_mode.
var dialect = sqlstore.Dialect{
	Name: "mysqlstore",
	// A plain INSERT: INSERT IGNORE turns truncation and invalid values
	// into warnings, and INSERT ... ON DUPLICATE KEY UPDATE id = id reports
	// a duplicate as one row affected, like an insert, when the DSN has
	// clientFoundRows=true.
	Insert: `INSERT INTO auth_users (id, email, name, password_hash, created_at, email_verified, disabled, mfa)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	Conflicts:  sqlstore.ErrorOnAnyConflict,
	EmailTaken: `SELECT 1 FROM auth_users WHERE email = ?`,
	WriteInTx:  true,
	ByEmail:    `SELECT ` + userColumns + ` FROM auth_users WHERE email = ?`,
	ByID:       `SELECT ` + userColumns + ` FROM auth_users WHERE id = ?`,
	EncodeTime: func(t time.Time) any { return t.UTC().Format(dateTimeLayout) },
	DecodeTime: func(src any) (time.Time, error) {
		var s string
		switch v := src.(type) {
		case []byte:
			s = string(v)
		case string:
			s = v
		default:
			return time.Time{}, fmt.Errorf("got %T, want text", src)
		}
		return time.ParseInLocation(dateTimeLayout, s, time.UTC)
	},
	AttemptsGet: `SELECT attempts, DATE_FORMAT(last_at, '%Y-%m-%d %H:%i:%s.%f') FROM auth_attempts WHERE key_hash = ?`,
	// MySQL evaluates the assignments left to right, each seeing the
	// columns as the previous ones left them: attempts must come first.
	// No RETURNING: AttemptsGet follows in the same transaction.
	AttemptsAdd: `INSERT INTO auth_attempts (key_hash, attempts, last_at) VALUES (?, 1, ?)
ON DUPLICATE KEY UPDATE
	attempts = IF(last_at <= CAST(? AS DATETIME(6)), 1, attempts + 1),
	last_at  = GREATEST(last_at, CAST(? AS DATETIME(6)))`,
	AttemptsAddInTx: true,
	AttemptsReset:   `DELETE FROM auth_attempts WHERE key_hash = ?`,
	AttemptsPrune:   `DELETE FROM auth_attempts WHERE last_at <= CAST(? AS DATETIME(6)) LIMIT ` + strconv.Itoa(sqlstore.PruneBatch),

	// password_hash is utf8mb4_bin text, whose comparisons ignore
	// trailing spaces (PAD SPACE); compared with a binary string, it is
	// compared byte for byte. No RowsAffected is needed of an update that
	// changes nothing: sqlstore reads instead (PasswordIs).
	PasswordUpdate: `UPDATE auth_users SET password_hash = ? WHERE id = ? AND password_hash = CAST(? AS BINARY)`,
	PasswordIs:     `SELECT 1 FROM auth_users WHERE id = ? AND password_hash = CAST(? AS BINARY)`,
	CheckString:    checkString,
	CheckTime:      checkTime,

	// ON DUPLICATE KEY UPDATE of nothing rather than INSERT IGNORE, which
	// would also turn errors other than the duplicate key into warnings.
	TokenInsert: `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at)
VALUES (?, ?, ?, ?, ?)
ON DUPLICATE KEY UPDATE hash = hash`,
	FamilyUpsert: `INSERT INTO auth_sessions (id, user_id, expires_at)
SELECT family_id, user_id, expires_at FROM auth_refresh_tokens WHERE hash = ?
ON DUPLICATE KEY UPDATE expires_at = GREATEST(auth_sessions.expires_at, VALUES(expires_at))`,
	TokenUse: `UPDATE auth_refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`,
	TokenGet: tokenByHash,
	// InnoDB's REPEATABLE READ would read a snapshot; a locking read
	// reads the rows as last committed (after TokenUse waited for a
	// concurrent one's transaction, with that one's used_at).
	TokenGetUsed:       tokenByHash + ` LOCK IN SHARE MODE`,
	FamilyRevoke:       `UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
	UserFamiliesRevoke: `UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
	RevocationUpsert: `INSERT INTO auth_revocations (user_id, revoked_at, generation) VALUES (?, ?, 1)
ON DUPLICATE KEY UPDATE revoked_at = GREATEST(revoked_at, VALUES(revoked_at)), generation = generation + 1`,
	// A locking read: it reads the row as last committed, whatever
	// snapshot REPEATABLE READ holds.
	GenerationGet: `SELECT generation FROM auth_revocations WHERE user_id = ? LOCK IN SHARE MODE`,
	UserLock:      `SELECT 1 FROM auth_users WHERE id = ? FOR UPDATE`,
	TokensPrune:   `DELETE FROM auth_refresh_tokens WHERE expires_at <= CAST(? AS DATETIME(6)) LIMIT ` + strconv.Itoa(sqlstore.PruneBatch),
	FamiliesPrune: `DELETE FROM auth_sessions WHERE expires_at <= CAST(? AS DATETIME(6)) LIMIT ` + strconv.Itoa(sqlstore.PruneBatch),

	// An UPDATE that changes nothing counts no row, unless the DSN sets
	// clientFoundRows: sqlstore then reads (NameIs, EmailIs, DisabledIs).
	// name is utf8mb4_bin text, compared byte for byte with a binary
	// string, as password_hash is.
	NameUpdate:     `UPDATE auth_users SET name = ? WHERE id = ?`,
	NameIs:         `SELECT 1 FROM auth_users WHERE id = ? AND name = CAST(? AS BINARY)`,
	EmailUpdate:    `UPDATE auth_users SET email = ?, email_verified = ? WHERE id = ? AND email = ?`,
	EmailIs:        `SELECT 1 FROM auth_users WHERE id = ? AND email = ? AND email_verified = ?`,
	DisabledUpdate: `UPDATE auth_users SET disabled = ? WHERE id = ?`,
	DisabledIs:     `SELECT 1 FROM auth_users WHERE id = ? AND disabled = ?`,
	UserDelete:     `DELETE FROM auth_users WHERE id = ?`,
	Param:          "?",
	// id is VARBINARY: ORDER BY and > compare bytes.
	UsersList: `SELECT ` + userColumns + ` FROM auth_users WHERE id > ? ORDER BY id LIMIT ?`,
	UserGeneration: `SELECT COALESCE(r.generation, 0)
FROM auth_users u LEFT JOIN auth_revocations r ON r.user_id = u.id
WHERE u.id = ?`,
	OneTimeInsert: `INSERT INTO auth_one_time_tokens (hash, purpose, user_id, email, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?)`,
	// MySQL has no DELETE ... RETURNING: a locking read, which reads the
	// row as last committed and makes concurrent callers wait for this
	// transaction (and then find the row deleted), then the DELETE.
	OneTimeGet:        `SELECT ` + oneTimeColumns + ` FROM auth_one_time_tokens WHERE hash = ? AND purpose = ? FOR UPDATE`,
	OneTimeDelete:     `DELETE FROM auth_one_time_tokens WHERE hash = ?`,
	OneTimeUserDelete: `DELETE FROM auth_one_time_tokens WHERE user_id = ? AND purpose = ?`,
	OneTimePrune:      `DELETE FROM auth_one_time_tokens WHERE expires_at <= CAST(? AS DATETIME(6)) LIMIT ` + strconv.Itoa(sqlstore.PruneBatch),

	// No gap locks: a locking read or DELETE that finds no row takes
	// none under READ COMMITTED, so that transactions of distinct users
	// inserting into one gap do not deadlock.
	MFAIsolation: sql.LevelReadCommitted,
	TOTPGet:      `SELECT sealed, confirmed, last_step, DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM auth_totp WHERE user_id = ?`,
	// Under READ COMMITTED each statement sees what was committed before
	// it started: after UserLock, the latest enrolment.
	TOTPConfirmed: `SELECT confirmed FROM auth_totp WHERE user_id = ?`,
	TOTPPut: `INSERT INTO auth_totp (user_id, sealed, confirmed, last_step, created_at) VALUES (?, ?, FALSE, 0, ?)
ON DUPLICATE KEY UPDATE sealed = VALUES(sealed), confirmed = FALSE, last_step = 0, created_at = VALUES(created_at)`,
	// An UPDATE reads the row as last committed, and waits for a
	// concurrent one's transaction. sealed is VARBINARY: compared byte
	// for byte, without padding. Each of these changes the row it
	// matches, so RowsAffected counts it with or without
	// clientFoundRows.
	TOTPConfirm:    `UPDATE auth_totp SET confirmed = TRUE, last_step = ? WHERE user_id = ? AND NOT confirmed AND sealed = ?`,
	TOTPStep:       `UPDATE auth_totp SET last_step = ? WHERE user_id = ? AND last_step < ?`,
	TOTPDelete:     `DELETE FROM auth_totp WHERE user_id = ?`,
	RecoveryDelete: `DELETE FROM auth_recovery_codes WHERE user_id = ?`,
	MFAUpdate:      `UPDATE auth_users SET mfa = ? WHERE id = ?`,
	RecoveryInsert: `INSERT INTO auth_recovery_codes (user_id, hash) VALUES (?, ?)`,
	RecoveryUse:    `DELETE FROM auth_recovery_codes WHERE user_id = ? AND hash = ?`,
}

// maxHashBytes is the column limit of auth_refresh_tokens.hash and
// family_id, auth_sessions.id (see [SessionsSchema]),
// auth_one_time_tokens.hash (see [AccountsSchema]) and
// auth_recovery_codes.hash (see [MFASchema]), maxPurposeBytes that of
// auth_one_time_tokens.purpose, and maxSealedBytes that of
// auth_totp.sealed; user IDs and emails have maxIDBytes and
// maxEmailBytes, as in auth_users.
const (
	maxHashBytes    = 64
	maxPurposeBytes = 32
	maxSealedBytes  = 64
)

// checkString rejects a string the column (see
// [sqlstore.Dialect.CheckString]) cannot hold as it is: under a non-strict
// sql_mode MySQL would truncate an over-long value or replace invalid
// UTF-8, with only a warning. The errors name the column, never the
// value.
func checkString(column, s string) error {
	limit, text := 0, false
	switch column {
	case "auth_users.password_hash", "auth_users.name":
		limit, text = maxTextBytes, true
	case "auth_refresh_tokens.hash", "auth_refresh_tokens.family_id", "auth_one_time_tokens.hash", "auth_recovery_codes.hash":
		limit = maxHashBytes
	case "auth_totp.sealed":
		limit = maxSealedBytes
	case "auth_one_time_tokens.purpose":
		limit = maxPurposeBytes
	case "auth_users.id", "auth_refresh_tokens.user_id", "auth_revocations.user_id", "auth_one_time_tokens.user_id":
		limit = maxIDBytes
	case "auth_users.email", "auth_one_time_tokens.email":
		limit = maxEmailBytes
	default:
		return fmt.Errorf("no limits known for the column %s", column)
	}
	switch {
	case len(s) > limit:
		return fmt.Errorf("%s: the value is %d bytes long; the column holds %d", column, len(s), limit)
	case text && !utf8.ValidString(s):
		return fmt.Errorf("%s: the value is not valid UTF-8", column)
	}
	return nil
}

// checkTime rejects a time outside DATETIME's range, which MySQL would
// store as a zero date under a non-strict sql_mode.
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < minYear || y > maxYear {
		return fmt.Errorf("time %s is outside the years %d to %d that DATETIME holds",
			t.UTC().Format(time.RFC3339), minYear, maxYear)
	}
	return nil
}

// Store is an [auth.UserStore], [throttle.Store], [auth.PasswordStore],
// [auth.SessionStore], [auth.AccountStore] and [auth.MFAStore] in the
// tables of a MySQL or MariaDB database (see the package documentation).
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
// a MySQL driver and still owns (the Store never closes it). New runs
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
// user). It is safe from several replicas at once: it executes the DDL
// while holding the lock [MigrateLockName] (GET_LOCK), waiting up to a
// minute for it. MySQL commits each DDL statement on its own: a Migrate
// that fails midway leaves what it did, and the next one does the rest.
//
// It first checks that the connection's character set is utf8mb4 (the
// default of github.com/go-sql-driver/mysql), without which names outside
// the Basic Multilingual Plane, emoji for example, could not be stored,
// and fails if it is not.
func (s *Store) Migrate(ctx context.Context) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("mysqlstore: migrate: %w", err)
	}
	defer conn.Close()
	if err := checkCharset(ctx, conn); err != nil {
		return fmt.Errorf("mysqlstore: migrate: %w", err)
	}

	var locked sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT GET_LOCK(?, ?)`, MigrateLockName, migrateLockWait).Scan(&locked); err != nil {
		return fmt.Errorf("mysqlstore: migrate: taking the lock %s: %w", MigrateLockName, err)
	}
	switch {
	case !locked.Valid:
		return fmt.Errorf("mysqlstore: migrate: taking the lock %s: GET_LOCK returned NULL", MigrateLockName)
	case locked.Int64 != 1:
		return fmt.Errorf("mysqlstore: migrate: the lock %s was not free within %d seconds", MigrateLockName, migrateLockWait)
	}
	defer release(ctx, conn)

	ddls := append([]string{Schema, AttemptsSchema}, strings.Split(SessionsSchema, ";\n")...)
	ddls = append(append(ddls, AccountsSchema), strings.Split(MFASchema, ";\n")...)
	for _, ddl := range ddls {
		if _, err := conn.ExecContext(ctx, ddl); err != nil {
			return fmt.Errorf("mysqlstore: migrate: %w", err)
		}
	}
	for _, u := range upgrades {
		var n int
		if u.column != "" {
			err = conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?`, u.table, u.column).Scan(&n)
		} else {
			err = conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?`, u.table, u.index).Scan(&n)
		}
		if err != nil {
			return fmt.Errorf("mysqlstore: migrate: %w", err)
		}
		if n == 0 {
			if _, err := conn.ExecContext(ctx, u.ddl); err != nil {
				return fmt.Errorf("mysqlstore: migrate: %w", err)
			}
		}
	}
	return nil
}

// release releases [MigrateLockName], held by conn. If it cannot, it
// discards conn rather than let it go back to the pool holding the lock:
// the server releases a session's locks when the session ends.
func release(ctx context.Context, conn *sql.Conn) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var released sql.NullInt64
	err := conn.QueryRowContext(ctx, `SELECT RELEASE_LOCK(?)`, MigrateLockName).Scan(&released)
	if err != nil || released.Int64 != 1 {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// checkCharset returns an error unless conn exchanges text with the server
// in utf8mb4.
func checkCharset(ctx context.Context, conn *sql.Conn) error {
	var client, connection, results sql.NullString
	err := conn.QueryRowContext(ctx, `SELECT @@character_set_client, @@character_set_connection, @@character_set_results`).
		Scan(&client, &connection, &results)
	if err != nil {
		return fmt.Errorf("reading the connection's character set: %w", err)
	}
	if client.String != "utf8mb4" || connection.String != "utf8mb4" || (results.Valid && results.String != "utf8mb4") {
		return fmt.Errorf("the connection's character sets are %s (client), %s (connection) and %s (results); want utf8mb4 (remove charset= from the DSN, or set charset=utf8mb4)",
			client.String, connection.String, results.String)
	}
	return nil
}

// CreateUser inserts u. It returns an error wrapping [auth.ErrDuplicateEmail]
// if the email is taken (whether or not the ID is taken too), and a
// different error (the driver's duplicate-entry error for PRIMARY,
// wrapped) if only the ID is; in both cases nothing is stored. It also
// fails, storing nothing, for a value the table cannot hold exactly (see
// the package documentation).
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
// if its last attempt is expiry old, and returns the counter: an INSERT
// ... ON DUPLICATE KEY UPDATE and a SELECT in one transaction, committed
// only if ctx is still live. Now and then it also deletes counters idle
// for longer than [throttle.Retention]. A key longer than 64 bytes is
// an error.
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	return dialect.AddAttempt(ctx, s.db, &s.prune, key, now, expiry)
}

// ResetAttempts deletes the attempt counter under key, if there is one.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	return dialect.ResetAttempts(ctx, s.db, key)
}

// UpdatePasswordHash sets the password hash of the user with ID id to
// newHash if it is oldHash (compared byte for byte), in one UPDATE, and
// returns an error wrapping [auth.ErrNotFound] if no user has that ID and
// hash. It works whether or not the DSN sets clientFoundRows: when
// newHash is oldHash, which an UPDATE would not count as a changed row,
// it only checks, with a SELECT, that the user has that hash.
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
// wrapping [auth.ErrNotFound] if there is no such user. A name the
// column cannot hold exactly is an error, and changes nothing.
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
// purpose, and returns it, expired or not: a SELECT ... FOR UPDATE and a
// DELETE in one transaction, so that of concurrent calls, on any
// replicas, one gets it. Otherwise it returns an error wrapping
// [auth.ErrNotFound].
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
// if there is no such user. A sealed secret of more than 64 bytes is an
// error, and stores nothing.
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
// returns an error wrapping [auth.ErrNotFound] otherwise. It works
// whether or not the DSN sets clientFoundRows: the UPDATE changes every
// row it matches.
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
