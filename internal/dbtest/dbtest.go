// Package dbtest gives tests a fresh, empty PostgreSQL schema or MySQL
// (MariaDB) database on a server named by an environment variable, and
// drops it when the test ends.
//
// # Environment
//
// The servers are named by DSNs in [PostgresEnv] and [MySQLEnv]:
//
//	GATEHOUSE_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	GATEHOUSE_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test'
//
// The role or user needs the right to create and drop schemas (PostgreSQL)
// or databases (MySQL). When a variable is unset, the tests that need it
// are skipped with a message naming it, except under CI=true, where every
// test must run: there a missing DSN fails the test. A DSN that is set but
// names a server that cannot be reached always fails the test.
//
// # Isolation
//
// [NewPostgresDSN] creates a schema with a unique name and returns the DSN
// with search_path set to it, so that unqualified table names on its
// connections resolve there; [NewMySQLDSN] creates a database with a
// unique name and returns the DSN naming it. Either is dropped, with
// everything in it, when the test and its subtests have finished (after
// the *sql.DB from [NewPostgres], [NewMySQL] or [Open] is closed). Tests,
// and packages tested in parallel, never see one another's tables.
//
// # Drivers
//
// The package imports no driver: a test that opens PostgreSQL imports
// github.com/jackc/pgx/v5/stdlib, which registers [PostgresDriver], and
// one that opens MySQL imports github.com/go-sql-driver/mysql, which
// registers [MySQLDriver]. Those tests live in the modules that require
// the drivers (the SQL stores', internal/e2e), so that the root module
// requires none.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testenv"
)

// The environment variables that hold the servers' DSNs.
const (
	PostgresEnv = "GATEHOUSE_TEST_POSTGRES_DSN"
	MySQLEnv    = "GATEHOUSE_TEST_MYSQL_DSN"
)

// The database/sql driver names for the DSNs this package returns.
const (
	PostgresDriver = "pgx"   // github.com/jackc/pgx/v5/stdlib
	MySQLDriver    = "mysql" // github.com/go-sql-driver/mysql
)

// Examples of the DSNs, for messages.
const (
	postgresExample = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	mysqlExample    = "root@tcp(127.0.0.1:3306)/test"
)

// timeout bounds each administrative step: reaching the server, creating
// and dropping a schema or database.
const timeout = 30 * time.Second

// PostgresDSN returns the DSN in [PostgresEnv]. If it is unset, it skips
// t, or fails it under CI=true.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	return dsn(t, PostgresEnv, postgresExample)
}

// MySQLDSN returns the DSN in [MySQLEnv]. If it is unset, it skips t, or
// fails it under CI=true.
func MySQLDSN(t testing.TB) string {
	t.Helper()
	return dsn(t, MySQLEnv, mysqlExample)
}

func dsn(t testing.TB, env, example string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	if testenv.InCI() {
		t.Fatalf("%s is not set, and CI=true: database tests must run in CI, not skip. Set it to a DSN such as %s.", env, example)
	}
	t.Skipf("skipping: %s is not set; set it to a DSN such as %s to run this test.", env, example)
	return ""
}

// NewPostgresDSN creates a schema with a unique name on the server named
// by [PostgresEnv] and returns a DSN whose connections use it (search_path
// set to it, as a runtime parameter). The schema is dropped, with its
// tables, when t's test ends. It skips or fails t as [PostgresDSN] does,
// and fails it if the server cannot be reached.
func NewPostgresDSN(t testing.TB) string {
	t.Helper()
	base := PostgresDSN(t)
	name := uniqueName(t)
	admin := openAdmin(t, PostgresEnv, PostgresDriver, base)
	if err := execAdmin(admin, `CREATE SCHEMA "`+name+`"`); err != nil {
		t.Fatalf("on the server of %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if err := execAdmin(admin, `DROP SCHEMA IF EXISTS "`+name+`" CASCADE`); err != nil {
			t.Errorf("on the server of %s: %v", PostgresEnv, err)
		}
	})
	dsn, err := withSearchPath(base, name)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	return dsn
}

// withSearchPath returns the PostgreSQL DSN dsn, in URL or keyword/value
// form, with its search_path set to schema.
func withSearchPath(dsn, schema string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	// Keyword/value form: a later keyword overrides an earlier one.
	return dsn + " search_path=" + schema, nil
}

// NewPostgres opens a fresh schema from [NewPostgresDSN] and returns a
// *sql.DB whose connections use it, closed when t's test ends.
func NewPostgres(t testing.TB) *sql.DB {
	t.Helper()
	return Open(t, PostgresDriver, NewPostgresDSN(t))
}

// NewMySQLDSN creates a database with a unique name on the server named by
// [MySQLEnv] and returns the DSN with that database in place of the one it
// named. The database is dropped, with its tables, when t's test ends. It
// skips or fails t as [MySQLDSN] does, and fails it if the server cannot
// be reached.
func NewMySQLDSN(t testing.TB) string {
	t.Helper()
	base := MySQLDSN(t)
	name := uniqueName(t)
	dsn, err := WithDBName(base, name)
	if err != nil {
		t.Fatalf("%s: %v", MySQLEnv, err)
	}
	admin := openAdmin(t, MySQLEnv, MySQLDriver, base)
	if err := execAdmin(admin, "CREATE DATABASE `"+name+"`"); err != nil {
		t.Fatalf("on the server of %s: %v", MySQLEnv, err)
	}
	t.Cleanup(func() {
		if err := execAdmin(admin, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("on the server of %s: %v", MySQLEnv, err)
		}
	})
	return dsn
}

// WithDBName returns the github.com/go-sql-driver/mysql DSN dsn,
// [user[:password]@][net[(addr)]]/dbname[?params], with name in place of
// its dbname. As the driver does, it takes the last '/' for the one before
// dbname (a password or address may hold one; the params, escaped, do
// not).
func WithDBName(dsn, name string) (string, error) {
	i := strings.LastIndexByte(dsn, '/')
	if i < 0 {
		return "", errors.New("the DSN has no '/' before a database name")
	}
	rest := dsn[i+1:]
	params := ""
	if j := strings.IndexByte(rest, '?'); j >= 0 {
		params = rest[j:]
	}
	return dsn[:i+1] + name + params, nil
}

// NewMySQL opens a fresh database from [NewMySQLDSN] and returns a *sql.DB
// on it, closed when t's test ends.
func NewMySQL(t testing.TB) *sql.DB {
	t.Helper()
	return Open(t, MySQLDriver, NewMySQLDSN(t))
}

// MaxOpenConns caps each *sql.DB that [Open] returns. Test packages run in
// parallel against one server (PostgreSQL's default max_connections is
// 100), and tests that open several pools, each hammered by dozens of
// goroutines, would otherwise exhaust it and fail for reasons that are
// not theirs.
const MaxOpenConns = 8

// Open opens dsn with the named driver, caps its pool at [MaxOpenConns],
// and closes the *sql.DB when t's test ends. Like sql.Open, it does not
// connect.
func Open(t testing.TB, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("sql.Open(%q, ...): %v", driver, err)
	}
	db.SetMaxOpenConns(MaxOpenConns)
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("closing the %s database: %v", driver, err)
		}
	})
	return db
}

// openAdmin opens the database named by the DSN in env, checks that it
// can be reached, and closes it when t's test ends (after the cleanups
// registered later, which drop what was created through it).
func openAdmin(t testing.TB, env, driver, dsn string) *sql.DB {
	t.Helper()
	db := Open(t, driver, dsn)
	db.SetMaxIdleConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("%s is set, but its server cannot be reached: %v", env, err)
	}
	return db
}

// execAdmin executes the administrative statement stmt on db.
func execAdmin(db *sql.DB, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// uniqueName returns a schema or database name no other test uses:
// gatehouse_test_ and 16 random hex digits.
func uniqueName(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "gatehouse_test_" + hex.EncodeToString(b[:])
}
