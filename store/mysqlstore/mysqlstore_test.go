package mysqlstore_test

import (
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York for the loc= variant, whatever the system has

	"github.com/go-sql-driver/mysql" // registers dbtest.MySQLDriver

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/internal/sqltest"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
)

// freshDSN returns the DSN of a fresh, empty database, changed by each of
// opts, whose default character set is latin1: the table's own utf8mb4
// must be what makes Unicode round-trip, not the database's default.
func freshDSN(t *testing.T, opts ...func(*mysql.Config)) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(dbtest.NewMySQLDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	db := dbtest.Open(t, dbtest.MySQLDriver, cfg.FormatDSN())
	if _, err := db.ExecContext(t.Context(), "ALTER DATABASE CHARACTER SET latin1 COLLATE latin1_swedish_ci"); err != nil {
		t.Fatal(err)
	}
	for _, opt := range opts {
		opt(cfg)
	}
	return cfg.FormatDSN()
}

// DSN variants an application might use.

// textTime: the driver's defaults, created_at read as text.
func textTime(*mysql.Config) {}

// parsedTime: parseTime in a zone with DST, clientFoundRows, client-side
// parameter interpolation, and a strict sql_mode in which backslashes are
// not escapes and double quotes delimit identifiers.
func parsedTime(cfg *mysql.Config) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	cfg.ParseTime, cfg.Loc = true, loc
	cfg.ClientFoundRows = true
	cfg.InterpolateParams = true
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'STRICT_ALL_TABLES,ANSI_QUOTES,NO_BACKSLASH_ESCAPES'"
}

// nonStrict: a session sql_mode without STRICT_*, and a non-UTC time_zone.
func nonStrict(cfg *mysql.Config) {
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'NO_ENGINE_SUBSTITUTION'"
	cfg.Params["time_zone"] = "'-07:00'"
}

var variants = []struct {
	name string
	opt  func(*mysql.Config)
}{
	{"default", textTime},
	{"parseTime,loc,clientFoundRows,interpolateParams,ANSI_QUOTES,NO_BACKSLASH_ESCAPES", parsedTime},
	{"non-strict sql_mode,time_zone", nonStrict},
}

// priorSchema is the DDL of the tables of the release before
// auth.AccountStore.
//
//go:embed testdata/prior-schema.sql
var priorSchema string

// target is MySQL (MariaDB) for the shared suite, on connections set up by
// opt: a fresh database per database; times as UTC DATETIME(6); the limits
// that mysqlstore checks, as a non-strict sql_mode would otherwise
// truncate or zero the values; LOCK TABLES, and a driver that leaves a
// cancelled statement running on the server.
func target(opt func(*mysql.Config)) sqltest.Target {
	return sqltest.Target{
		Name: "mysqlstore",
		New:  func(db *sql.DB) sqltest.Store { return mysqlstore.New(db) },
		NewDB: func(t *testing.T) (*sql.DB, func(*testing.T) *sql.DB) {
			dsn := freshDSN(t, opt)
			open := func(t *testing.T) *sql.DB { return dbtest.Open(t, dbtest.MySQLDriver, dsn) }
			return open(t), open
		},
		MissingTable: "doesn't exist",
		TakenID:      "PRIMARY",
		// MariaDB and MySQL before 8.0.19 show a display width
		// (bigint(20)); later MySQL versions do not.
		Columns: `SELECT CONCAT_WS(' ', COLUMN_NAME, REPLACE(COLUMN_TYPE, 'bigint(20)', 'bigint'), IS_NULLABLE, CHARACTER_SET_NAME, COLLATION_NAME)
			FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
		WantColumns: map[string][]string{
			"auth_users": {
				"id varbinary(255) NO", "email varbinary(254) NO",
				"name text NO utf8mb4 utf8mb4_bin", "password_hash text NO utf8mb4 utf8mb4_bin",
				"created_at datetime(6) NO", "email_verified tinyint(1) NO", "disabled tinyint(1) NO", "mfa tinyint(1) NO",
			},
			"auth_attempts": {"key_hash varbinary(64) NO", "attempts bigint NO", "last_at datetime(6) NO"},
			"auth_sessions": {"id varbinary(64) NO", "user_id varbinary(255) NO", "expires_at datetime(6) NO", "revoked_at datetime(6) YES"},
			"auth_refresh_tokens": {
				"hash varbinary(64) NO", "family_id varbinary(64) NO", "user_id varbinary(255) NO",
				"issued_at datetime(6) NO", "expires_at datetime(6) NO", "used_at datetime(6) YES",
			},
			"auth_revocations": {"user_id varbinary(255) NO", "revoked_at datetime(6) NO", "generation bigint NO"},
			"auth_one_time_tokens": {
				"hash varbinary(64) NO", "purpose varbinary(32) NO", "user_id varbinary(255) NO", "email varbinary(254) NO",
				"created_at datetime(6) NO", "expires_at datetime(6) NO",
			},
			"auth_totp": {
				"user_id varbinary(255) NO", "sealed varbinary(64) NO", "confirmed tinyint(1) NO", "last_step bigint NO", "created_at datetime(6) NO",
			},
			"auth_recovery_codes": {"user_id varbinary(255) NO", "hash varbinary(64) NO"},
		},
		Index:      `SELECT COUNT(DISTINCT INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = ?`,
		TimeText:   `CAST(%[1]s AS CHAR)`,
		FormatTime: func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000") },
		Limits: sqltest.Limits{
			IDBytes: 255, EmailBytes: 254, TextBytes: 65535, TokenBytes: 64, PurposeBytes: 32, SealedBytes: 64,
			MinYear: 1000, MaxYear: 9999, UTF8: true,
		},
		OldTables: []string{mysqlstore.Schema, mysqlstore.AttemptsSchema},
		OldRevocations: []string{
			`CREATE TABLE auth_revocations (user_id VARBINARY(255) NOT NULL, revoked_at DATETIME(6) NOT NULL, PRIMARY KEY (user_id)) ENGINE=InnoDB`,
			`INSERT INTO auth_revocations (user_id, revoked_at) VALUES ('u1', '2024-01-02 03:04:05.000000')`,
		},
		PriorSchema:     sqltest.Statements(priorSchema),
		PriorInsertUser: `INSERT INTO auth_users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		EncodeTime:      func(t time.Time) any { return t.UTC().Format("2006-01-02 15:04:05.000000") },
		Lock:            []string{"LOCK TABLES auth_users WRITE, auth_attempts WRITE, auth_sessions WRITE, auth_refresh_tokens WRITE, auth_revocations WRITE, auth_one_time_tokens WRITE, auth_totp WRITE, auth_recovery_codes WRITE"},
		Unlock:          "UNLOCK TABLES",
		Settled: `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'`,
		ConnID: `SELECT CONNECTION_ID()`,
		// INNODB_TRX does not reliably list an autocommit DELETE waiting
		// for a lock on MariaDB: a running one is waiting.
		PruneWaiting: `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND ID <> ? AND INFO LIKE 'DELETE FROM auth_sessions%'`,
	}
}

func TestStore(t *testing.T) {
	dbtest.MySQLDSN(t) // without a server, skip (or fail in CI) once, here
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) { sqltest.Run(t, target(v.opt)) })
	}
}

// newStore returns a migrated Store on a fresh, empty database.
func newStore(t *testing.T, opts ...func(*mysql.Config)) (*mysqlstore.Store, *sql.DB) {
	t.Helper()
	db := dbtest.Open(t, dbtest.MySQLDriver, freshDSN(t, opts...))
	s := mysqlstore.New(db)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

// TestSessionVariants checks that the DSN variants above really set what
// they claim, so that the tests run under them mean something.
func TestSessionVariants(t *testing.T) {
	_, db := newStore(t, nonStrict)
	var mode, zone string
	if err := db.QueryRowContext(t.Context(), "SELECT @@SESSION.sql_mode, @@SESSION.time_zone").Scan(&mode, &zone); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(mode, "STRICT") || zone != "-07:00" {
		t.Errorf("nonStrict: session sql_mode = %q, time_zone = %q; want no STRICT_* mode and -07:00", mode, zone)
	}

	_, db = newStore(t, parsedTime)
	if err := db.QueryRowContext(t.Context(), "SELECT @@SESSION.sql_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ANSI_QUOTES", "NO_BACKSLASH_ESCAPES"} {
		if !strings.Contains(mode, want) {
			t.Errorf("parsedTime: session sql_mode = %q; want it to include %s", mode, want)
		}
	}
}

// TestMigrateReleasesLock checks that the lock is free after Migrate, on
// every connection of the pool: another session can take it at once.
func TestMigrateReleasesLock(t *testing.T) {
	s, db := newStore(t)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	var free int
	if err := db.QueryRowContext(t.Context(), "SELECT IS_FREE_LOCK(?)", mysqlstore.MigrateLockName).Scan(&free); err != nil {
		t.Fatal(err)
	}
	if free != 1 {
		t.Errorf("IS_FREE_LOCK(%q) after Migrate = %d; want 1", mysqlstore.MigrateLockName, free)
	}
}

func TestMigrateRejectsCharset(t *testing.T) {
	for _, charset := range []string{"latin1", "utf8"} {
		t.Run(charset, func(t *testing.T) {
			dsn := freshDSN(t, func(cfg *mysql.Config) {
				if cfg.Params == nil {
					cfg.Params = map[string]string{}
				}
				cfg.Params["charset"] = charset
			})
			err := mysqlstore.New(dbtest.Open(t, dbtest.MySQLDriver, dsn)).Migrate(t.Context())
			if err == nil || !strings.Contains(err.Error(), "utf8mb4") {
				t.Errorf("Migrate on a connection with charset=%s = %v; want an error asking for utf8mb4", charset, err)
			}
		})
	}
}

// TestPasswordSameHash checks the reason UpdatePasswordHash does not
// write a hash over itself: MySQL counts only changed rows as affected,
// unless the DSN sets clientFoundRows. Under both settings, setting the
// user's hash to itself must succeed, and a wrong old hash must not.
func TestPasswordSameHash(t *testing.T) {
	ctx := t.Context()
	user := auth.User{
		ID: "0123456789abcdef0123456789abcdef", Email: "kept@example.com", Name: "Kept 🗝️",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC),
	}
	for _, foundRows := range []bool{false, true} {
		t.Run(fmt.Sprintf("clientFoundRows=%t", foundRows), func(t *testing.T) {
			s, db := newStore(t, func(cfg *mysql.Config) { cfg.ClientFoundRows = foundRows })
			if err := s.CreateUser(ctx, user); err != nil {
				t.Fatal(err)
			}
			res, err := db.ExecContext(ctx, `UPDATE auth_users SET password_hash = ? WHERE id = ?`, user.PasswordHash, user.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := res.RowsAffected(); err != nil || (n == 1) != foundRows {
				t.Errorf("RowsAffected of an UPDATE to the same value = %d, %v; want %d (the premise of UpdatePasswordHash's SELECT has changed)", n, err, map[bool]int{false: 0, true: 1}[foundRows])
			}
			h := user.PasswordHash
			if err := s.UpdatePasswordHash(ctx, user.ID, h, h); err != nil {
				t.Errorf("UpdatePasswordHash(id, h, h) with the user's hash h = %v; want nil", err)
			}
			for _, wrong := range []string{h + " ", h + "  ", "other"} {
				if err := s.UpdatePasswordHash(ctx, user.ID, wrong, wrong); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("UpdatePasswordHash(id, %q, %[1]q) = %v; want auth.ErrNotFound", wrong, err)
				}
				if err := s.UpdatePasswordHash(ctx, user.ID, wrong, "new"); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("UpdatePasswordHash(id, %q, new) = %v; want auth.ErrNotFound (compared byte for byte, not PAD SPACE)", wrong, err)
				}
			}
			if got, err := s.UserByID(ctx, user.ID); err != nil || got != user {
				t.Errorf("UserByID after UpdatePasswordHash calls that changed nothing = %+v, %v; want %+v", got, err, user)
			}
		})
	}
}
