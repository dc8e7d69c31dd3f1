package e2e

// The scenarios of internal/httpauthtest on the SQL stores: the attack
// suite, end to end, throttling and key rotation on SQLite and PostgreSQL
// (httpauth's own tests run them on memory); sessions, replicas and the
// password-hash interop on SQL stores only. PostgreSQL's tests skip
// without GATEHOUSE_TEST_POSTGRES_DSN and fail under CI=true.

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// sqlite is a fresh SQLite file.
var sqlite = httpauthtest.Store{Name: "sqlite", Open: func(t *testing.T) (auth.UserStore, *sql.DB, string) {
	dsn := "file:" + filepath.Join(t.TempDir(), "e2e.db") + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)"
	db := dbtest.Open(t, "sqlite", dsn)
	return migrate(t, sqlitestore.New(db)), db, "?"
}}

// postgres is a fresh PostgreSQL schema.
var postgres = httpauthtest.Store{Name: "postgres", Open: func(t *testing.T) (auth.UserStore, *sql.DB, string) {
	db := dbtest.NewPostgres(t) // skips without a DSN, fails under CI=true
	return migrate(t, pgstore.New(db)), db, "$1"
}}

func migrate(t *testing.T, s httpauthtest.SQLStore) auth.UserStore {
	t.Helper()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// sqlStores are the stores of the scenarios that run on every store.
var sqlStores = []httpauthtest.Store{sqlite, postgres}

// pg is pgstore, for the scenarios that run replicas on one PostgreSQL
// schema.
func pg(db *sql.DB) httpauthtest.SQLStore { return pgstore.New(db) }

func TestAttackTokens(t *testing.T)        { httpauthtest.AttackTokens(t, sqlStores) }
func TestAttackRequestBodies(t *testing.T) { httpauthtest.AttackRequestBodies(t, sqlStores) }
func TestAttackInjectionStoredLiterally(t *testing.T) {
	httpauthtest.AttackInjectionStoredLiterally(t, sqlStores)
}
func TestAttackConcurrentDuplicateSignups(t *testing.T) {
	httpauthtest.AttackConcurrentDuplicateSignups(t, sqlStores)
}
func TestAttackLookAlikeEmails(t *testing.T) { httpauthtest.AttackLookAlikeEmails(t, sqlStores) }

func TestEndToEnd(t *testing.T) { httpauthtest.EndToEnd(t, []httpauthtest.Store{sqlite}) }

func TestThrottleCredentialStuffing(t *testing.T) {
	httpauthtest.ThrottleCredentialStuffing(t, sqlStores)
}
func TestThrottleBruteForceRotatingIPs(t *testing.T) {
	httpauthtest.ThrottleBruteForceRotatingIPs(t, sqlStores)
}
func TestThrottleSignups(t *testing.T)  { httpauthtest.ThrottleSignups(t, sqlStores) }
func TestThrottleReplicas(t *testing.T) { httpauthtest.ThrottleReplicas(t, pg) }

func TestRotationReplicas(t *testing.T) { httpauthtest.RotationReplicas(t, sqlStores) }

func TestSessions(t *testing.T) { httpauthtest.Sessions(t, sqlStores) }

// TestLoginsInFlightReplicas logs in on two replicas on one PostgreSQL
// database while the password changes: no session of those logins works
// after the change is answered.
func TestLoginsInFlightReplicas(t *testing.T) { httpauthtest.LoginsInFlightReplicas(t, pg) }

func TestReplicas(t *testing.T)      { httpauthtest.Replicas(t, pg) }
func TestDatabaseFault(t *testing.T) { httpauthtest.DatabaseFault(t, pg) }

func TestBcryptInterop(t *testing.T) { httpauthtest.BcryptInterop(t, sqlite) }
func TestArgon2Upgrade(t *testing.T) { httpauthtest.Argon2Upgrade(t, sqlite) }

// TestMFA runs the two-factor scenario on SQLite and PostgreSQL over
// real HTTP, with the codes computed by oathtool.
func TestMFA(t *testing.T) { httpauthtest.MFA(t, sqlStores) }

// TestMFAReplicas uses one account with two-factor authentication
// through two replicas on one PostgreSQL database: a code, an mfaToken
// or a recovery code used on one is refused on the other.
func TestMFAReplicas(t *testing.T) { httpauthtest.MFAReplicas(t, pg) }
