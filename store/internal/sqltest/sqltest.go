// Package sqltest is the test suite the SQL stores (sqlitestore, pgstore,
// mysqlstore) share. A store's tests describe it with a [Target] (how to
// get a fresh database, and what sets the database apart, as data) and
// call [Run]:
//
//	func TestStore(t *testing.T) {
//		sqltest.Run(t, target)
//	}
//
// Run runs storetest's conformance kit and the tests of what every SQL
// store promises beyond it: errors that say what failed, migrations that
// keep data and add what an earlier version lacks (a database of the prior
// release, with accounts a Service made in it, upgraded in place by
// several replicas at once), the storage format its package documents,
// values its columns cannot hold refused rather than altered, emails and
// IDs compared byte for byte, and correct results when several pools (the
// replicas of a service) use one database at once. Tests that only one
// database can run stay in its store's package.
//
// The package imports no database driver: each store's tests import the
// one they use.
package sqltest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

// Store is what every SQL store implements.
type Store interface {
	auth.UserStore
	throttle.Store
	auth.PasswordStore
	auth.SessionStore
	auth.AccountStore
	auth.MFAStore
	// Migrate creates the tables that do not exist, and adds what those
	// of an earlier version lack.
	Migrate(ctx context.Context) error
}

// Target describes one SQL store for [Run]. Queries in it are in the
// database's own dialect (placeholders included). The fields marked
// optional may be left zero; every other one is needed.
type Target struct {
	// Name is the store's package name, the prefix of its errors.
	Name string
	// New returns a Store on db, not migrated (pgstore.New, for one).
	New func(db *sql.DB) Store
	// NewDB returns a fresh, empty database for t, and a function that
	// opens another *sql.DB on the same database, with a pool of its own,
	// as another replica of a service would. Every *sql.DB they return is
	// closed when the test given to them ends.
	NewDB func(t *testing.T) (db *sql.DB, reopen func(t *testing.T) *sql.DB)

	// MissingTable is in the error of a statement on a table that does not
	// exist; TakenID in the error of CreateUser with an ID that another
	// user has (and a free email).
	MissingTable, TakenID string

	// Columns selects, for the table named by its one argument, one row
	// per column in order, each a single string; WantColumns lists them
	// for each of the eight tables.
	Columns     string
	WantColumns map[string][]string
	// Index counts the indexes named by its one argument.
	Index string
	// TimeText is an SQL expression, in which %[1]s stands for a time
	// column, whose value is the text FormatTime returns for the time
	// the column holds (and NULL for NULL).
	TimeText   string
	FormatTime func(time.Time) string

	// Limits are the limits of the columns.
	Limits Limits

	// OldTables is the DDL of the tables of a version without sessions:
	// auth_users and auth_attempts.
	OldTables []string
	// OldRevocations creates auth_revocations as it was before it had the
	// generation column, and records in it a revocation of the user "u1".
	OldRevocations []string
	// PriorSchema is the DDL of every table as the release before
	// [auth.AccountStore] made them, one statement per element, and
	// PriorInsertUser that release's INSERT of a user: its arguments are
	// id, email, name, password_hash and created_at, as EncodeTime, which
	// returns what the store passes for a time column, encodes it.
	PriorSchema     []string
	PriorInsertUser string
	EncodeTime      func(time.Time) any

	// Lock (optional) takes, on a connection of its own, locks that make
	// every statement of the store on the eight tables wait, until
	// Unlock, on the same connection, releases them.
	Lock   []string
	Unlock string
	// Settled (optional) counts the statements still running on the
	// database, other than on the caller's connection. It is needed where
	// a driver, when a statement's context ends, drops the connection and
	// leaves the statement running on the server.
	Settled string
	// ConnID (optional) selects the ID of the caller's connection, and
	// PruneWaiting counts the DELETE statements on auth_sessions that are
	// running on another connection than the one whose ID is its one
	// argument, while that one holds a row they need.
	ConnID, PruneWaiting string
}

// Limits are the limits of a store's columns. A zero field is no limit.
type Limits struct {
	// IDBytes is the longest user ID (in auth_users and in the session
	// tables) and EmailBytes the longest email, in bytes.
	IDBytes, EmailBytes int
	// TextBytes is the longest name and password hash, in bytes.
	TextBytes int
	// TokenBytes is the longest token hash, family ID and recovery-code
	// hash, and PurposeBytes the longest purpose of a one-time token, in
	// bytes.
	TokenBytes, PurposeBytes int
	// SealedBytes is the longest sealed TOTP secret, in bytes.
	SealedBytes int
	// MinYear and MaxYear bound the years of the times stored, in UTC.
	MinYear, MaxYear int
	// UTF8: names and password hashes must be valid UTF-8.
	UTF8 bool
	// NUL: strings must not hold a NUL byte.
	NUL bool
}

// Run runs the shared suite on the store tg describes, each test in a
// subtest of t named after it.
func Run(t *testing.T, tg Target) {
	tests := []struct {
		name string
		test func(*testing.T, Target)
		run  bool
	}{
		{"Conformance", testConformance, true},
		{"Errors", testErrors, true},
		{"MigrateKeepsData", testMigrateKeepsData, true},
		{"MigrateConcurrent", testMigrateConcurrent, true},
		{"MigrateAddsSessionTables", testMigrateAddsSessionTables, true},
		{"MigrateAddsGeneration", testMigrateAddsGeneration, true},
		{"MigrateUpgradesPriorRelease", testMigrateUpgradesPriorRelease, true},
		{"Columns", testColumns, true},
		{"StorageFormat", testStorageFormat, true},
		{"AttemptsStorageFormat", testAttemptsStorageFormat, true},
		{"SessionsStorageFormat", testSessionsStorageFormat, true},
		{"AccountsStorageFormat", testAccountsStorageFormat, true},
		{"MFAStorageFormat", testMFAStorageFormat, true},
		{"ValuesTheTablesCannotHold", testValuesTheTablesCannotHold, true},
		{"SessionValuesTheTablesCannotHold", testSessionValuesTheTablesCannotHold, true},
		{"AccountValuesTheTablesCannotHold", testAccountValuesTheTablesCannotHold, true},
		{"MFAValuesTheTablesCannotHold", testMFAValuesTheTablesCannotHold, true},
		{"ByteForByte", testByteForByte, true},
		{"AttemptsPrune", testAttemptsPrune, true},
		{"AttemptsReplicas", testAttemptsReplicas, true},
		{"SessionsReplicas", testSessionsReplicas, true},
		{"SessionsGenerationReplicas", testSessionsGenerationReplicas, true},
		{"AccountsReplicas", testAccountsReplicas, true},
		{"MFAReplicas", testMFAReplicas, true},
		{"SessionsPruneWhileCreating", testSessionsPruneWhileCreating, tg.PruneWaiting != ""},
		{"DeadlineWhileBlocked", testDeadlineWhileBlocked, len(tg.Lock) > 0},
	}
	for _, tt := range tests {
		if tt.run {
			t.Run(tt.name, func(t *testing.T) { tt.test(t, tg) })
		}
	}
}

func testConformance(t *testing.T, tg Target) {
	storetest.Run(t, func(t *testing.T) auth.UserStore {
		s, _ := tg.newStore(t)
		return s
	})
}

// newStore returns a migrated Store on a fresh database, and the database.
func (tg Target) newStore(t *testing.T) (Store, *sql.DB) {
	t.Helper()
	db, _ := tg.NewDB(t)
	s := tg.New(db)
	for i := range 2 { // Migrate is idempotent.
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	return s, db
}

// newStoreWithToken returns a migrated Store on a fresh database holding
// sampleUser and sampleToken, and the database.
func (tg Target) newStoreWithToken(t *testing.T) (Store, *sql.DB) {
	t.Helper()
	s, db := tg.newStore(t)
	if err := s.CreateUser(t.Context(), sampleUser); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(t.Context(), sampleToken, 0); err != nil {
		t.Fatal(err)
	}
	return s, db
}

// replicas returns n migrated Stores on one fresh database, each with its
// own pool, as the replicas of a service would have.
func (tg Target) replicas(t *testing.T, n int) []Store {
	t.Helper()
	_, reopen := tg.NewDB(t)
	stores := make([]Store, n)
	for i := range stores {
		stores[i] = tg.New(reopen(t))
		if err := stores[i].Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	return stores
}

// timeText returns the SQL expression of the text of the time column col,
// 'NULL' for NULL.
func (tg Target) timeText(col string) string {
	return "COALESCE(" + fmt.Sprintf(tg.TimeText, col) + ", 'NULL')"
}

// snapshot returns the contents of every table of db.
func snapshot(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range tables {
		rows, err := db.QueryContext(t.Context(), "SELECT * FROM "+table+" ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if raw, ok := v.([]byte); ok {
					v = string(raw)
				}
				fmt.Fprintf(&b, "%q ", fmt.Sprint(v))
			}
			b.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "-- %s\n", table)
	}
	return b.String()
}

// tables are the tables of every SQL store.
var tables = []string{"auth_users", "auth_attempts", "auth_sessions", "auth_refresh_tokens", "auth_revocations", "auth_one_time_tokens",
	"auth_totp", "auth_recovery_codes"}

func tokenHash(n int) string { return fmt.Sprintf("%064x", n) }
func familyID(n int) string  { return fmt.Sprintf("%032x", n) }
func key(n int) string       { return fmt.Sprintf("%064x", n) }

// sampleUser is the user of the tests that need one.
var sampleUser = auth.User{
	ID:           "0123456789abcdef0123456789abcdef",
	Email:        "kept@example.com",
	Name:         "Kept 🗝️",
	PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
	CreatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC),
}

// sampleToken is an unused token of sampleUser.
var sampleToken = auth.RefreshToken{
	Hash:      tokenHash(1),
	Family:    familyID(1),
	UserID:    sampleUser.ID,
	IssuedAt:  time.Date(2024, 5, 17, 12, 0, 0, 123456000, time.UTC),
	ExpiresAt: time.Date(2024, 6, 16, 12, 0, 0, 123456000, time.UTC),
}

// ist is a zone that is not UTC, at a half hour.
var ist = time.FixedZone("IST", 5*3600+1800)

// Statements splits a file of SQL statements, each ended by a ";" at the
// end of a line, into the statements, for [Target.PriorSchema].
func Statements(file string) []string {
	var stmts []string
	for stmt := range strings.SplitSeq(file, ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			stmts = append(stmts, stmt)
		}
	}
	return stmts
}
