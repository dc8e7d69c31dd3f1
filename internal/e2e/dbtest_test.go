package e2e

// The tests of internal/dbtest that need the drivers, here in the module
// that requires them.

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/go-sql-driver/mysql" // registers "mysql"
)

// TestWithDBName checks WithDBName against the driver's own parser: the
// DSN it returns parses to the same configuration with the new database.
func TestWithDBName(t *testing.T) {
	for _, dsn := range []string{
		"root@tcp(127.0.0.1:3306)/test",
		"root@tcp(127.0.0.1:3306)/",
		"u:p/a?s@tcp(h:3306)/test?parseTime=true&loc=America%2FNew_York",
		"u@unix(/run/mysqld/mysqld.sock)/test?charset=utf8mb4",
		"/test",
		"/",
	} {
		got, err := dbtest.WithDBName(dsn, "db2")
		if err != nil {
			t.Errorf("dbtest.WithDBName(%q) = %v", dsn, err)
			continue
		}
		want, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("ParseDSN(%q): %v", dsn, err)
		}
		want.DBName = "db2"
		cfg, err := mysql.ParseDSN(got)
		if err != nil || cfg.FormatDSN() != want.FormatDSN() {
			t.Errorf("dbtest.WithDBName(%q, \"db2\") = %q, which parses to %v (%v); want %q", dsn, got, cfg, err, want.FormatDSN())
		}
	}
	if got, err := dbtest.WithDBName("root@tcp(h:3306)", "db2"); err == nil {
		t.Errorf("WithDBName of a DSN without '/' = %q; want an error", got)
	}
}

// childEnv names the environment variable that makes TestHelperNoDSN run,
// in a child process, the helper named by its value.
const childEnv = "GATEHOUSE_DBTEST_CHILD"

// TestHelperNoDSN is not a test of its own: TestMissingDSN runs it in a
// child process to watch it skip or fail. Without childEnv it does
// nothing (and passes rather than skips, since CI treats a skipped test as
// a failure).
func TestHelperNoDSN(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Log("helper for TestMissingDSN; does nothing unless " + childEnv + " is set")
	case dbtest.PostgresEnv:
		dbtest.NewPostgres(t)
		t.Log("dbtest.NewPostgres returned")
	case dbtest.MySQLEnv:
		dbtest.NewMySQL(t)
		t.Log("dbtest.NewMySQL returned")
	}
}

// TestMissingDSN checks that, with a DSN variable unset, a test that needs
// it is skipped with a message naming it, or fails under CI=true; and that
// a DSN naming a server that cannot be reached always fails.
func TestMissingDSN(t *testing.T) {
	tests := []struct {
		name         string
		env, dsn, ci string
		wantExit     bool   // the child fails
		wantOut      string // in the child's output
	}{
		{"postgres unset", dbtest.PostgresEnv, "", "", false, "--- SKIP"},
		{"mysql unset", dbtest.MySQLEnv, "", "", false, "--- SKIP"},
		{"postgres unset CI=false", dbtest.PostgresEnv, "", "false", false, "--- SKIP"},
		{"postgres unset CI=true", dbtest.PostgresEnv, "", "true", true, "CI=true"},
		{"mysql unset CI=true", dbtest.MySQLEnv, "", "true", true, "CI=true"},
		{"postgres unreachable", dbtest.PostgresEnv, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5", "", true, "cannot be reached"},
		{"mysql unreachable CI=true", dbtest.MySQLEnv, "nobody@tcp(127.0.0.1:1)/none?timeout=5s", "true", true, "cannot be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperNoDSN$", "-test.v", "-test.count=1")
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, dbtest.PostgresEnv+"=") && !strings.HasPrefix(kv, dbtest.MySQLEnv+"=") && !strings.HasPrefix(kv, "CI=") {
					env = append(env, kv)
				}
			}
			env = append(env, childEnv+"="+tt.env, "CI="+tt.ci)
			if tt.dsn != "" {
				env = append(env, tt.env+"="+tt.dsn)
			}
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("running the child test binary: %v", err)
			}
			if gotExit := err != nil; gotExit != tt.wantExit {
				t.Errorf("child failed: %v; want %v", gotExit, tt.wantExit)
			}
			if !strings.Contains(string(out), tt.wantOut) || !strings.Contains(string(out), tt.env) {
				t.Errorf("child output does not mention %q and %s", tt.wantOut, tt.env)
			}
			if strings.Contains(string(out), "returned") {
				t.Errorf("the helper went on past dbtest.NewPostgres or dbtest.NewMySQL")
			}
			if t.Failed() {
				t.Logf("child output:\n%s", out)
			}
		})
	}
}

// TestIsolation checks that each call gets its own empty schema or
// database, that the *sql.DB uses it, and that it is dropped when the test
// that asked for it ends.
func TestIsolation(t *testing.T) {
	tests := []struct {
		name   string
		open   func(t testing.TB) *sql.DB
		admin  func(t testing.TB) *sql.DB
		exists string // query counting the schema or database named by its one argument
		where  string // query naming the schema or database in use
	}{
		{"postgres", dbtest.NewPostgres,
			func(t testing.TB) *sql.DB { return dbtest.Open(t, dbtest.PostgresDriver, dbtest.PostgresDSN(t)) },
			"SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1", "SELECT current_schema()"},
		{"mysql", dbtest.NewMySQL,
			func(t testing.TB) *sql.DB { return dbtest.Open(t, dbtest.MySQLDriver, dbtest.MySQLDSN(t)) },
			"SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", "SELECT DATABASE()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			admin := tt.admin(t)
			ctx := context.Background()
			var names [2]string
			t.Run("fresh", func(t *testing.T) {
				for i := range names {
					db := tt.open(t)
					if err := db.QueryRowContext(ctx, tt.where).Scan(&names[i]); err != nil {
						t.Fatal(err)
					}
					if !strings.HasPrefix(names[i], "gatehouse_test_") {
						t.Fatalf("connections use %q; want a gatehouse_test_ schema or database", names[i])
					}
					if _, err := db.ExecContext(ctx, "CREATE TABLE auth_users (id INT)"); err != nil {
						t.Fatalf("CREATE TABLE in the fresh %s #%d: %v (is it not empty?)", names[i], i, err)
					}
				}
				if names[0] == names[1] {
					t.Errorf("two calls gave the same %q", names[0])
				}
			})
			for _, name := range names {
				var n int
				if err := admin.QueryRowContext(ctx, tt.exists, name).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%s still exists after the test that made it ended", name)
				}
			}
		})
	}
}
