package sqlitestore_test

import (
	"database/sql"
	_ "embed"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-go/gatehouse/store/internal/sqltest"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

// pragmas is the DSN query the package documentation recommends.
const pragmas = "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"

// openDB opens (creating if need be) the SQLite file at path with the
// recommended pragmas and closes it when the test ends.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+pragmas)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("closing %s: %v", path, err)
		}
	})
	return db
}

// priorSchema is the DDL of the tables of the release before
// auth.AccountStore.
//
//go:embed testdata/prior-schema.sql
var priorSchema string

// target is SQLite for the shared suite: a fresh file per database, whose
// replicas are pools of their own on the file (as processes would be,
// taking turns by SQLite's lock and busy timeout, not by a Store's write
// queue); times as INTEGER unix microseconds.
var target = sqltest.Target{
	Name: "sqlitestore",
	New:  func(db *sql.DB) sqltest.Store { return sqlitestore.New(db) },
	NewDB: func(t *testing.T) (*sql.DB, func(*testing.T) *sql.DB) {
		path := filepath.Join(t.TempDir(), "auth.db")
		return openDB(t, path), func(t *testing.T) *sql.DB { return openDB(t, path) }
	},
	MissingTable: "no such table",
	TakenID:      "auth_users.id",
	Columns:      `SELECT name || ' ' || type || CASE "notnull" WHEN 1 THEN ' NO' ELSE ' YES' END FROM pragma_table_info(?) ORDER BY cid`,
	WantColumns: map[string][]string{
		"auth_users": {
			"id TEXT NO", "email TEXT NO", "name TEXT NO", "password_hash TEXT NO", "created_at INTEGER NO",
			"email_verified INTEGER NO", "disabled INTEGER NO", "mfa INTEGER NO",
		},
		"auth_attempts":       {"key_hash TEXT NO", "attempts INTEGER NO", "last_at INTEGER NO"},
		"auth_sessions":       {"id TEXT NO", "user_id TEXT NO", "expires_at INTEGER NO", "revoked_at INTEGER YES"},
		"auth_refresh_tokens": {"hash TEXT NO", "family_id TEXT NO", "user_id TEXT NO", "issued_at INTEGER NO", "expires_at INTEGER NO", "used_at INTEGER YES"},
		"auth_revocations":    {"user_id TEXT NO", "revoked_at INTEGER NO", "generation INTEGER NO"},
		"auth_one_time_tokens": {
			"hash TEXT NO", "purpose TEXT NO", "user_id TEXT NO", "email TEXT NO", "created_at INTEGER NO", "expires_at INTEGER NO",
		},
		"auth_totp":           {"user_id TEXT NO", "sealed BLOB NO", "confirmed INTEGER NO", "last_step INTEGER NO", "created_at INTEGER NO"},
		"auth_recovery_codes": {"user_id TEXT NO", "hash TEXT NO"},
	},
	Index:      `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`,
	TimeText:   `typeof(%[1]s) || ' ' || %[1]s`,
	FormatTime: func(t time.Time) string { return "integer " + strconv.FormatInt(t.UnixMicro(), 10) },
	OldTables:  []string{sqlitestore.Schema, sqlitestore.AttemptsSchema},
	OldRevocations: []string{
		`CREATE TABLE auth_revocations (user_id TEXT NOT NULL PRIMARY KEY, revoked_at INTEGER NOT NULL)`,
		`INSERT INTO auth_revocations (user_id, revoked_at) VALUES ('u1', 1700000000000000)`,
	},
	PriorSchema: sqltest.Statements(priorSchema),
	PriorInsertUser: `INSERT INTO auth_users (id, email, name, password_hash, created_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT(email) DO NOTHING`,
	EncodeTime: func(t time.Time) any { return t.UnixMicro() },
}

func TestStore(t *testing.T) {
	sqltest.Run(t, target)
}

func TestDSNPragmas(t *testing.T) {
	ctx := t.Context()
	db := openDB(t, filepath.Join(t.TempDir(), "auth.db"))
	// Hold two connections at once so that the pragmas are seen to apply to
	// every connection of the pool, not only the first.
	for i := range 2 {
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var mode string
		var timeout int
		if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || timeout != 5000 {
			t.Errorf("connection %d: journal_mode = %q, busy_timeout = %d; want \"wal\", 5000", i, mode, timeout)
		}
	}
}
