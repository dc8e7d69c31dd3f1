package mysqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // America/New_York for the loc= variant, whatever the system has

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/mysqlstore"
	"github.com/gatehouse-go/gatehouse/store/storetest"
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

// newStore returns a migrated Store on a fresh, empty database.
func newStore(t *testing.T, opts ...func(*mysql.Config)) (*mysqlstore.Store, *sql.DB) {
	t.Helper()
	db := dbtest.Open(t, dbtest.MySQLDriver, freshDSN(t, opts...))
	s := mysqlstore.New(db)
	for i := range 2 { // Migrate is idempotent.
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
	}
	return s, db
}

func TestConformance(t *testing.T) {
	dbtest.MySQLDSN(t) // without a server, skip (or fail in CI) once, here
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) auth.UserStore {
				s, _ := newStore(t, v.opt)
				return s
			})
		})
	}
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

var sampleUser = auth.User{
	ID:           "0123456789abcdef0123456789abcdef",
	Email:        "kept@example.com",
	Name:         "Kept 🗝️",
	PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
	CreatedAt:    time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC),
}

// TestMigrateConcurrent starts replicas at once, each with its own pool and
// Store, on a database without the table: every Migrate must succeed.
func TestMigrateConcurrent(t *testing.T) {
	const replicas = 8
	for round := range 3 {
		dsn := freshDSN(t)
		stores := make([]*mysqlstore.Store, replicas)
		for i := range stores {
			db := dbtest.Open(t, dbtest.MySQLDriver, dsn)
			if err := db.PingContext(t.Context()); err != nil { // connect before the race
				t.Fatal(err)
			}
			stores[i] = mysqlstore.New(db)
		}
		errs := make([]error, replicas)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				<-start
				errs[i] = s.Migrate(t.Context())
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: concurrent Migrate #%d = %v; want nil", round, i, err)
			}
		}
		if t.Failed() {
			return
		}
		if err := stores[0].CreateUser(t.Context(), sampleUser); err != nil {
			t.Fatalf("CreateUser after concurrent Migrate: %v", err)
		}
		if _, err := stores[replicas-1].UserByEmail(t.Context(), sampleUser.Email); err != nil {
			t.Fatalf("UserByEmail through another Store: %v", err)
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

func TestMigrateKeepsData(t *testing.T) {
	ctx := t.Context()
	dsn := freshDSN(t)
	want := sampleUser

	db := dbtest.Open(t, dbtest.MySQLDriver, dsn)
	s := mysqlstore.New(db)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a new database: %v", err)
	}
	if err := s.CreateUser(ctx, want); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s = mysqlstore.New(dbtest.Open(t, dbtest.MySQLDriver, dsn))
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a populated database: %v", err)
	}
	got, err := s.UserByEmail(ctx, want.Email)
	if err != nil {
		t.Fatalf("UserByEmail after reopening and migrating again: %v", err)
	}
	if got != want {
		t.Errorf("UserByEmail after reopening = %+v, want %+v", got, want)
	}
	other := want
	other.ID = "fedcba9876543210fedcba9876543210"
	if err := s.CreateUser(ctx, other); !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("CreateUser with a kept email after migrating again = %v; want auth.ErrDuplicateEmail (the unique index must survive)", err)
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

// TestByteForByte adds to the kit's EmailsComparedByteForByte strings that
// utf8mb4 collations (PAD SPACE utf8mb4_bin, utf8mb4_general_ci's single
// weight for every character outside the BMP, ...) would take as equal,
// for IDs as well as emails.
func TestByteForByte(t *testing.T) {
	dbtest.MySQLDSN(t) // without a server, skip (or fail in CI) once, here
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s, _ := newStore(t, v.opt)
			keys := []string{
				"k@example.com", "k@example.com ", "k@example.com  ", "K@example.com",
				"k@example.com\x00", "k@example.com\t",
				"😀@example.com", "😁@example.com", "🂡@example.com",
				"𠜎@example.com", "𠜱@example.com",
				"ss@example.com", "ß@example.com",
				"e\u0301@example.com", "é@example.com", "e@example.com", "E@example.com",
			}
			var users []auth.User
			for i, k := range keys {
				u := auth.User{ID: k, Email: k, Name: fmt.Sprintf("user %d %q", i, k), PasswordHash: "h", CreatedAt: sampleUser.CreatedAt}
				if err := s.CreateUser(t.Context(), u); err != nil {
					t.Fatalf("CreateUser with ID and email %q = %v; want nil (it differs in bytes from %q)", k, err, keys[:i])
				}
				users = append(users, u)
			}
			for _, want := range users {
				if got, err := s.UserByEmail(t.Context(), want.Email); err != nil || got != want {
					t.Errorf("UserByEmail(%q) = %+v, %v; want %+v", want.Email, got, err, want)
				}
				if got, err := s.UserByID(t.Context(), want.ID); err != nil || got != want {
					t.Errorf("UserByID(%q) = %+v, %v; want %+v", want.ID, got, err, want)
				}
			}
			for _, k := range []string{"k@example.com   ", "😂@example.com", "𠜏@example.com", "k@EXAMPLE.com"} {
				if _, err := s.UserByEmail(t.Context(), k); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("UserByEmail(%q) = %v; want auth.ErrNotFound", k, err)
				}
				if _, err := s.UserByID(t.Context(), k); !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("UserByID(%q) = %v; want auth.ErrNotFound", k, err)
				}
			}
		})
	}
}

// TestValuesTheTableCannotHold checks, under a strict and a non-strict
// sql_mode, that values the columns cannot hold exactly fail CreateUser
// and store nothing (rather than being truncated, replaced or zeroed),
// and that the largest values they can hold round-trip.
func TestValuesTheTableCannotHold(t *testing.T) {
	dbtest.MySQLDSN(t) // without a server, skip (or fail in CI) once, here
	base := auth.User{ID: "id", Email: "e@example.com", Name: "N", PasswordHash: "h", CreatedAt: sampleUser.CreatedAt}
	with := func(f func(u *auth.User)) auth.User {
		u := base
		f(&u)
		return u
	}
	longEmail := func(n int) string { return strings.Repeat("x", n-len("@example.com")) + "@example.com" }
	rejected := []struct {
		name string
		u    auth.User
	}{
		{"ID of 256 bytes", with(func(u *auth.User) { u.ID = strings.Repeat("i", 256) })},
		{"email of 255 bytes", with(func(u *auth.User) { u.Email = longEmail(255) })},
		{"email of 64 four-byte runes (256 bytes)", with(func(u *auth.User) { u.Email = strings.Repeat("𝄞", 64) })},
		{"name of 65,536 bytes", with(func(u *auth.User) { u.Name = strings.Repeat("n", 65536) })},
		{"name of 16,385 four-byte runes", with(func(u *auth.User) { u.Name = strings.Repeat("😀", 16385) })},
		{"password hash of 65,536 bytes", with(func(u *auth.User) { u.PasswordHash = strings.Repeat("h", 65536) })},
		{"name not UTF-8", with(func(u *auth.User) { u.Name = "bad \xff name" })},
		{"name with a lone surrogate (CESU)", with(func(u *auth.User) { u.Name = "\xed\xa0\x80" })},
		{"password hash not UTF-8", with(func(u *auth.User) { u.PasswordHash = "\xc3" })},
		{"created in the year 999", with(func(u *auth.User) { u.CreatedAt = time.Date(999, 12, 31, 23, 59, 59, 0, time.UTC) })},
		{"created in the year 10000", with(func(u *auth.User) { u.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"created before 1000 in UTC, not locally", with(func(u *auth.User) {
			u.CreatedAt = time.Date(1000, 1, 1, 0, 30, 0, 0, time.FixedZone("+01", 3600))
		})},
	}
	accepted := []struct {
		name string
		u    auth.User
	}{
		{"ID of 255 bytes", with(func(u *auth.User) { u.ID = strings.Repeat("i", 255) })},
		{"email of 254 bytes", with(func(u *auth.User) { u.Email = longEmail(254) })},
		{"name of 65,535 bytes", with(func(u *auth.User) { u.Name = strings.Repeat("n", 65535) })},
		{"name of 16,383 four-byte runes and 3 bytes", with(func(u *auth.User) { u.Name = strings.Repeat("😀", 16383) + "abc" })},
		{"password hash of 65,535 bytes", with(func(u *auth.User) { u.PasswordHash = strings.Repeat("h", 65535) })},
		{"name with an invisible and a private-use character", with(func(u *auth.User) { u.Name = "\u200b\U000F0000\uFEFF" })},
		{"created at the start of the year 1000", with(func(u *auth.User) { u.CreatedAt = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"created at the end of the year 9999", with(func(u *auth.User) {
			u.CreatedAt = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
		})},
		{"created in a New York DST gap, UTC wall clock", with(func(u *auth.User) {
			u.CreatedAt = time.Date(2024, 3, 10, 2, 30, 0, 0, time.UTC)
		})},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			s, db := newStore(t, v.opt)
			for _, tt := range rejected {
				t.Run("rejects "+tt.name, func(t *testing.T) {
					err := s.CreateUser(t.Context(), tt.u)
					if err == nil {
						t.Fatal("CreateUser = nil; want an error, not a value altered to fit")
					}
					if errors.Is(err, auth.ErrDuplicateEmail) || !strings.HasPrefix(err.Error(), "mysqlstore: create user: ") {
						t.Errorf("CreateUser = %v; want a mysqlstore error that is not auth.ErrDuplicateEmail", err)
					}
					var n int
					if err := db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM auth_users").Scan(&n); err != nil {
						t.Fatal(err)
					}
					if n != 0 {
						t.Errorf("after the failed CreateUser the table holds %d rows; want 0", n)
					}
				})
			}
			for i, tt := range accepted {
				t.Run("accepts "+tt.name, func(t *testing.T) {
					u := tt.u // distinct from the other cases' users
					if u.ID == base.ID {
						u.ID = fmt.Sprintf("id%d", i)
					}
					if u.Email == base.Email {
						u.Email = fmt.Sprintf("e%d@example.com", i)
					}
					if err := s.CreateUser(t.Context(), u); err != nil {
						t.Fatalf("CreateUser = %v; want nil", err)
					}
					for call, lookup := range map[string]func() (auth.User, error){
						"UserByID":    func() (auth.User, error) { return s.UserByID(t.Context(), u.ID) },
						"UserByEmail": func() (auth.User, error) { return s.UserByEmail(t.Context(), u.Email) },
					} {
						got, err := lookup()
						if err != nil {
							t.Fatalf("%s = %v", call, err)
						}
						if !got.CreatedAt.Equal(u.CreatedAt.Truncate(time.Microsecond)) || got.CreatedAt.Location() != time.UTC {
							t.Errorf("%s: CreatedAt = %v; want %v in UTC", call, got.CreatedAt, u.CreatedAt)
						}
						got.CreatedAt = u.CreatedAt
						if got != u {
							t.Errorf("%s returned a user that differs from the one created (lengths: ID %d/%d, email %d/%d, name %d/%d, hash %d/%d)",
								call, len(got.ID), len(u.ID), len(got.Email), len(u.Email), len(got.Name), len(u.Name), len(got.PasswordHash), len(u.PasswordHash))
						}
					}
				})
			}
		})
	}
}

func TestStorageFormat(t *testing.T) {
	ctx := t.Context()
	_, db := newStore(t)

	// Column types.
	rows, err := db.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'auth_users' ORDER BY ORDINAL_POSITION`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, typ, cs, coll string
		if err := rows.Scan(&name, &typ, &cs, &coll); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimSpace(strings.Join([]string{name, typ, cs, coll}, " ")))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"id varbinary(255)",
		"email varbinary(254)",
		"name text utf8mb4 utf8mb4_bin",
		"password_hash text utf8mb4 utf8mb4_bin",
		"created_at datetime(6)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("columns:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}

	// created_at holds the UTC wall clock, truncated to microseconds,
	// whatever the location of CreatedAt and the session's time_zone.
	s, db := newStore(t, nonStrict)
	at := time.Date(2024, 5, 17, 19, 15, 30, 654321987, time.FixedZone("IST", 5*3600+1800))
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: at}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	var text string
	if err := db.QueryRowContext(ctx, "SELECT CAST(created_at AS CHAR) FROM auth_users").Scan(&text); err != nil {
		t.Fatal(err)
	}
	if want := "2024-05-17 13:45:30.654321"; text != want {
		t.Errorf("created_at stored as %s; want %s (the UTC time, truncated to microseconds)", text, want)
	}
	gotU, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := at.Truncate(time.Microsecond).UTC(); gotU.CreatedAt != want {
		t.Errorf("CreatedAt = %v, want %v exactly (truncated to microseconds, in UTC)", gotU.CreatedAt, want)
	}
}

func TestErrors(t *testing.T) {
	ctx := t.Context()
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: time.Unix(0, 0)}

	// Without Migrate the table is missing: every method must fail, and
	// with an error that is neither of the sentinels.
	unmigrated := mysqlstore.New(dbtest.Open(t, dbtest.MySQLDriver, freshDSN(t)))
	migrated, _ := newStore(t)
	if err := migrated.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sameIDAndEmail := u
	sameIDAndEmail.Name = "B"
	token := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: u.ID, IssuedAt: time.Unix(1e9, 0), ExpiresAt: time.Unix(1e9+3600, 0)}

	tests := []struct {
		name      string
		call      func() error
		wantIs    error // nil: must wrap neither sentinel
		wantInMsg string
	}{
		{"CreateUser without table", func() error { return unmigrated.CreateUser(ctx, u) }, nil, "doesn't exist"},
		{"UserByEmail without table", func() error { _, err := unmigrated.UserByEmail(ctx, u.Email); return err }, nil, "doesn't exist"},
		{"UserByID without table", func() error { _, err := unmigrated.UserByID(ctx, u.ID); return err }, nil, "doesn't exist"},
		{"CreateUser with taken ID", func() error {
			v := u
			v.Email = "b@example.com"
			return migrated.CreateUser(ctx, v)
		}, nil, "PRIMARY"},
		{"CreateUser with taken ID and email", func() error { return migrated.CreateUser(ctx, sameIDAndEmail) }, auth.ErrDuplicateEmail, ""},
		{"CreateUser with taken email", func() error {
			v := u
			v.ID = "id2"
			return migrated.CreateUser(ctx, v)
		}, auth.ErrDuplicateEmail, ""},
		{"UserByEmail unknown", func() error { _, err := migrated.UserByEmail(ctx, "b@example.com"); return err }, auth.ErrNotFound, ""},
		{"UserByID unknown", func() error { _, err := migrated.UserByID(ctx, "id2"); return err }, auth.ErrNotFound, ""},
		// The session tables are missing too: a failed statement is
		// neither a mismatch nor an unknown token, nor "never revoked".
		{"UpdatePasswordHash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h2") }, nil, "doesn't exist"},
		{"UpdatePasswordHash to the same hash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h") }, nil, "doesn't exist"},
		{"CreateRefreshToken without table", func() error { return unmigrated.CreateRefreshToken(ctx, token, 0) }, nil, "doesn't exist"},
		{"UseRefreshToken without table", func() error { _, err := unmigrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, nil, "doesn't exist"},
		{"RefreshToken without table", func() error { _, err := unmigrated.RefreshToken(ctx, token.Hash); return err }, nil, "doesn't exist"},
		{"RevokeFamily without table", func() error { return unmigrated.RevokeFamily(ctx, token.Family, token.IssuedAt) }, nil, "doesn't exist"},
		{"RevokeSessions without table", func() error { return unmigrated.RevokeSessions(ctx, u.ID, token.IssuedAt) }, nil, "doesn't exist"},
		{"SessionGeneration without table", func() error { _, err := unmigrated.SessionGeneration(ctx, u.ID); return err }, nil, "doesn't exist"},
		{"DeleteExpiredRefreshTokens without table", func() error { _, err := unmigrated.DeleteExpiredRefreshTokens(ctx, token.IssuedAt); return err }, nil, "doesn't exist"},
		{"UpdatePasswordHash unknown user", func() error { return migrated.UpdatePasswordHash(ctx, "id2", "h", "h2") }, auth.ErrNotFound, ""},
		{"UpdatePasswordHash wrong hash", func() error { return migrated.UpdatePasswordHash(ctx, u.ID, "h2", "h3") }, auth.ErrNotFound, ""},
		{"UseRefreshToken unknown", func() error { _, err := migrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, auth.ErrNotFound, ""},
		{"RefreshToken unknown", func() error { _, err := migrated.RefreshToken(ctx, token.Hash); return err }, auth.ErrNotFound, ""},
		{"Migrate with canceled context", func() error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return migrated.Migrate(ctx)
		}, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("err = nil; want an error")
			}
			if !strings.HasPrefix(err.Error(), "mysqlstore: ") {
				t.Errorf("err = %q; want the prefix \"mysqlstore: \"", err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want errors.Is(err, %v)", err, tt.wantIs)
			}
			if tt.wantIs == nil && (errors.Is(err, auth.ErrDuplicateEmail) || errors.Is(err, auth.ErrNotFound)) {
				t.Errorf("err = %v; want an error wrapping neither auth.ErrDuplicateEmail nor auth.ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("err = %q; want it to mention %q", err, tt.wantInMsg)
			}
		})
	}
}

// TestDeadlineWhileBlocked runs every method while another session holds a
// write lock on the table, so that each call is still waiting in the
// server when its context's deadline passes. The error must wrap
// context.DeadlineExceeded; and the CreateUser must store nothing, even
// though the driver only drops the connection and the server runs the
// abandoned INSERT once the lock is released.
func TestDeadlineWhileBlocked(t *testing.T) {
	ctx := t.Context()
	s, db := newStore(t)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}

	locker, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer locker.Close()
	if _, err := locker.ExecContext(ctx, "LOCK TABLES auth_users WRITE"); err != nil {
		t.Fatal(err)
	}
	blocked := auth.User{ID: "blocked", Email: "blocked@example.com", Name: "B", PasswordHash: "h", CreatedAt: time.Now()}
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"CreateUser", func(ctx context.Context) error { return s.CreateUser(ctx, blocked) }},
		{"UserByEmail", func(ctx context.Context) error { _, err := s.UserByEmail(ctx, sampleUser.Email); return err }},
		{"UserByID", func(ctx context.Context) error { _, err := s.UserByID(ctx, sampleUser.ID); return err }},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s blocked by a lock past its deadline = %v; want an error wrapping context.DeadlineExceeded", c.name, err)
		}
	}
	if _, err := locker.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
		t.Fatal(err)
	}

	// Wait until the server has finished the abandoned statements.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		err := locker.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.PROCESSLIST
			WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'`).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d abandoned statements still running on the server", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var n int
	if err := locker.QueryRowContext(ctx, "SELECT COUNT(*) FROM auth_users WHERE id = ?", blocked.ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the CreateUser that timed out stored its user once the lock was released; want nothing stored")
	}
}
