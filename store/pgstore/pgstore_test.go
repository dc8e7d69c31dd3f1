package pgstore_test

import (
	"context"
	"database/sql"
	_ "embed"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers dbtest.PostgresDriver

	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/internal/sqltest"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
)

// priorSchema is the DDL of the tables of the release before
// auth.AccountStore.
//
//go:embed testdata/prior-schema.sql
var priorSchema string

// target is PostgreSQL for the shared suite: a fresh schema per database
// (the DSN's search_path names it); times as TIMESTAMPTZ; text that must
// be UTF-8 without NUL bytes; table locks in a transaction, which a
// cancelled statement does not outlive.
var target = sqltest.Target{
	Name: "pgstore",
	New:  func(db *sql.DB) sqltest.Store { return pgstore.New(db) },
	NewDB: func(t *testing.T) (*sql.DB, func(*testing.T) *sql.DB) {
		dsn := dbtest.NewPostgresDSN(t)
		open := func(t *testing.T) *sql.DB { return dbtest.Open(t, dbtest.PostgresDriver, dsn) }
		return open(t), open
	},
	MissingTable: "does not exist",
	TakenID:      "auth_users_pkey",
	Columns: `SELECT column_name || ' ' || data_type || ' ' || is_nullable || COALESCE(' ' || collation_name, '')
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
	WantColumns: map[string][]string{
		"auth_users": {
			"id text NO C", "email text NO C", "name text NO", "password_hash text NO",
			"created_at timestamp with time zone NO", "email_verified boolean NO", "disabled boolean NO", "mfa boolean NO",
		},
		"auth_attempts": {"key_hash text NO C", "attempts bigint NO", "last_at timestamp with time zone NO"},
		"auth_sessions": {
			"id text NO C", "user_id text NO C",
			"expires_at timestamp with time zone NO", "revoked_at timestamp with time zone YES",
		},
		"auth_refresh_tokens": {
			"hash text NO C", "family_id text NO C", "user_id text NO C",
			"issued_at timestamp with time zone NO", "expires_at timestamp with time zone NO", "used_at timestamp with time zone YES",
		},
		"auth_revocations": {"user_id text NO C", "revoked_at timestamp with time zone NO", "generation bigint NO"},
		"auth_one_time_tokens": {
			"hash text NO C", "purpose text NO C", "user_id text NO C", "email text NO C",
			"created_at timestamp with time zone NO", "expires_at timestamp with time zone NO",
		},
		"auth_totp": {
			"user_id text NO C", "sealed bytea NO", "confirmed boolean NO", "last_step bigint NO", "created_at timestamp with time zone NO",
		},
		"auth_recovery_codes": {"user_id text NO C", "hash text NO C"},
	},
	Index:      `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`,
	TimeText:   `to_char(%[1]s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`,
	FormatTime: func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000000") },
	Limits:     sqltest.Limits{UTF8: true, NUL: true},
	OldTables:  []string{pgstore.Schema, pgstore.AttemptsSchema},
	OldRevocations: []string{
		`CREATE TABLE auth_revocations (user_id TEXT COLLATE "C" NOT NULL PRIMARY KEY, revoked_at TIMESTAMPTZ NOT NULL)`,
		`INSERT INTO auth_revocations (user_id, revoked_at) VALUES ('u1', now())`,
	},
	PriorSchema: sqltest.Statements(priorSchema),
	PriorInsertUser: `INSERT INTO auth_users (id, email, name, password_hash, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (email) DO NOTHING`,
	EncodeTime: func(t time.Time) any { return t.Truncate(time.Microsecond).UTC() },
	Lock: []string{
		"BEGIN",
		"LOCK TABLE auth_users, auth_attempts, auth_sessions, auth_refresh_tokens, auth_revocations, auth_one_time_tokens, auth_totp, auth_recovery_codes IN ACCESS EXCLUSIVE MODE",
	},
	Unlock:       "ROLLBACK",
	ConnID:       `SELECT pg_backend_pid()`,
	PruneWaiting: `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND query LIKE 'DELETE FROM auth_sessions%'`,
}

func TestStore(t *testing.T) {
	dbtest.PostgresDSN(t) // without a server, skip (or fail in CI) once, here
	sqltest.Run(t, target)
}

// TestUsesSearchPath checks that the Store works in whatever schema the
// connection's search_path names, as the package documentation says.
func TestUsesSearchPath(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	if err := pgstore.New(db).Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT table_schema FROM information_schema.tables WHERE table_name = 'auth_users' AND table_schema = current_schema()`).Scan(&schema); err != nil {
		t.Fatalf("auth_users not found in current_schema(): %v", err)
	}
	if !strings.HasPrefix(schema.String, "gatehouse_test_") {
		t.Errorf("auth_users created in schema %q; want the test's own schema", schema.String)
	}
}

// TestMigrateLeavesReadersAlone checks that Migrate on a migrated
// database waits for no transaction that reads the tables: it takes no
// lock that conflicts with a reader's (ALTER TABLE takes ACCESS
// EXCLUSIVE, even with ADD COLUMN IF NOT EXISTS and the column there),
// so that replicas starting while a long report runs do not stall every
// login behind it.
func TestMigrateLeavesReadersAlone(t *testing.T) {
	ctx := t.Context()
	db := dbtest.NewPostgres(t)
	s := pgstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM auth_users) + (SELECT count(*) FROM auth_attempts)
		+ (SELECT count(*) FROM auth_sessions) + (SELECT count(*) FROM auth_refresh_tokens)
		+ (SELECT count(*) FROM auth_revocations) + (SELECT count(*) FROM auth_one_time_tokens)
		+ (SELECT count(*) FROM auth_totp) + (SELECT count(*) FROM auth_recovery_codes)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Migrate(mctx); err != nil {
		t.Errorf("Migrate of a migrated database while a transaction reads its tables = %v; want nil, without waiting for the reader", err)
	}
}
