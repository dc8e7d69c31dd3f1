package sqlstore_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

// TestMigrateAddsGeneration checks that Migrate upgrades a database whose
// auth_revocations table predates the session generation: every recorded
// revocation becomes generation 1, and the store then works as the
// SessionStore contract says.
func TestMigrateAddsGeneration(t *testing.T) {
	for _, tt := range []struct {
		name string
		// open returns a database holding the users table and the old
		// auth_revocations table, and a store on it.
		open   func(t *testing.T) (*sql.DB, auth.SessionStore, func() error)
		oldDDL string
		insert string
	}{
		{"sqlite", func(t *testing.T) (*sql.DB, auth.SessionStore, func() error) {
			db := dbtest.Open(t, "sqlite", "file:"+filepath.Join(t.TempDir(), "old.db")+"?_pragma=busy_timeout(5000)")
			s := sqlitestore.New(db)
			return db, s, func() error { return s.Migrate(t.Context()) }
		}, `CREATE TABLE auth_revocations (user_id TEXT NOT NULL PRIMARY KEY, revoked_at INTEGER NOT NULL)`,
			`INSERT INTO auth_revocations (user_id, revoked_at) VALUES ('u1', 1700000000000000)`},
		{"postgres", func(t *testing.T) (*sql.DB, auth.SessionStore, func() error) {
			db := dbtest.NewPostgres(t)
			s := pgstore.New(db)
			return db, s, func() error { return s.Migrate(t.Context()) }
		}, `CREATE TABLE auth_revocations (user_id TEXT COLLATE "C" NOT NULL PRIMARY KEY, revoked_at TIMESTAMPTZ NOT NULL)`,
			`INSERT INTO auth_revocations (user_id, revoked_at) VALUES ('u1', now())`},
		{"mysql", func(t *testing.T) (*sql.DB, auth.SessionStore, func() error) {
			db := dbtest.NewMySQL(t)
			s := mysqlstore.New(db)
			return db, s, func() error { return s.Migrate(t.Context()) }
		}, `CREATE TABLE auth_revocations (user_id VARBINARY(255) NOT NULL, revoked_at DATETIME(6) NOT NULL, PRIMARY KEY (user_id)) ENGINE=InnoDB`,
			`INSERT INTO auth_revocations (user_id, revoked_at) VALUES ('u1', '2024-01-02 03:04:05.000000')`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db, s, migrate := tt.open(t)
			for _, stmt := range []string{tt.oldDDL, tt.insert} {
				if _, err := db.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			if err := migrate(); err != nil {
				t.Fatalf("Migrate on the old table: %v", err)
			}
			if err := migrate(); err != nil {
				t.Fatalf("Migrate again: %v", err)
			}
			users := s.(auth.UserStore)
			now := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
			for _, id := range []string{"u1", "u2"} {
				if err := users.CreateUser(ctx, auth.User{ID: id, Email: id + "@example.com", Name: id, PasswordHash: "h", CreatedAt: now}); err != nil {
					t.Fatal(err)
				}
			}
			for id, want := range map[string]int64{"u1": 1, "u2": 0} {
				if gen, err := s.SessionGeneration(ctx, id); err != nil || gen != want {
					t.Errorf("SessionGeneration(%s) after Migrate = %d, %v; want %d", id, gen, err, want)
				}
			}
			tok := auth.RefreshToken{Hash: "a1", Family: "f1", UserID: "u1", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
			if err := s.CreateRefreshToken(ctx, tok, 0); !errors.Is(err, auth.ErrSessionsRevoked) {
				t.Errorf("CreateRefreshToken under generation 0 for a user revoked before Migrate = %v; want ErrSessionsRevoked", err)
			}
			if err := s.CreateRefreshToken(ctx, tok, 1); err != nil {
				t.Errorf("CreateRefreshToken under generation 1: %v", err)
			}
			if err := s.RevokeSessions(ctx, "u1", now); err != nil {
				t.Fatal(err)
			}
			if gen, err := s.SessionGeneration(ctx, "u1"); err != nil || gen != 2 {
				t.Errorf("SessionGeneration after one more RevokeSessions = %d, %v; want 2", gen, err)
			}
		})
	}
}
