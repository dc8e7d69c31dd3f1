package sqlitestore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/store/internal/sqlstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

// The code the SQL stores share (store/internal/sqlstore) is tested here
// where no store's own tests reach it: the hooks only some Dialects set, a
// driver that fails in its own words, and limits too large for each
// store's suite to reach, on SQLite (which needs no server) through the
// real sqlitestore. (Here, in sqlitestore's module, because the SQLite
// driver is required by this module only.) The stores' tests, with
// store/internal/sqltest, cover each real dialect.

// openEmpty opens a fresh SQLite database, without tables.
func openEmpty(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(t.TempDir(), "t.db"))+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migrated returns a migrated sqlitestore.Store on a fresh database, and
// the database.
func migrated(t *testing.T) (*sqlitestore.Store, *sql.DB) {
	t.Helper()
	db := openEmpty(t)
	s := sqlitestore.New(db)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, db
}

func encodeMicros(t time.Time) any { return t.UnixMicro() }

func decodeMicros(src any) (time.Time, error) {
	v, ok := src.(int64)
	if !ok {
		return time.Time{}, fmt.Errorf("got %T", src)
	}
	return time.UnixMicro(v).UTC(), nil
}

// noStatements is a Dialect without statements, for tests in which none
// should run, or in which the driver ignores them.
var noStatements = sqlstore.Dialect{Name: "test", EncodeTime: encodeMicros, DecodeTime: decodeMicros}

// TestErrorOnAnyConflict checks CreateUser with a plain INSERT (as
// mysqlstore's, in a transaction): a taken email, with or without a taken
// ID, is reported as auth.ErrDuplicateEmail, found by EmailTaken after
// the insert failed; a taken ID alone by the driver's error; and when the
// look-up fails too (no table), the insert's error is what is reported.
func TestErrorOnAnyConflict(t *testing.T) {
	ctx := t.Context()
	d := noStatements
	d.Insert = `INSERT INTO auth_users (id, email, name, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`
	d.Conflicts, d.WriteInTx = sqlstore.ErrorOnAnyConflict, true
	d.EmailTaken = `SELECT 1 FROM auth_users WHERE email = ?`
	s, db := migrated(t)
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: time.Unix(0, 0).UTC()}
	if err := d.CreateUser(ctx, db, u); err != nil {
		t.Fatal(err)
	}
	takenID, takenEmail := u, u
	takenID.Email, takenEmail.ID = "b@example.com", "id2"
	tests := []struct {
		name      string
		err       error
		wantIs    error // nil: must wrap neither sentinel
		wantInMsg string
	}{
		{"taken ID", d.CreateUser(ctx, db, takenID), nil, "UNIQUE constraint failed: auth_users.id"},
		{"taken email", d.CreateUser(ctx, db, takenEmail), auth.ErrDuplicateEmail, ""},
		{"taken ID and email", d.CreateUser(ctx, db, u), auth.ErrDuplicateEmail, ""},
		{"no table", d.CreateUser(ctx, openEmpty(t), u), nil, "no such table"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("err = nil; want an error")
			}
			if tt.wantIs != nil && !errors.Is(tt.err, tt.wantIs) {
				t.Errorf("err = %v; want errors.Is(err, %v)", tt.err, tt.wantIs)
			}
			if tt.wantIs == nil && (errors.Is(tt.err, auth.ErrDuplicateEmail) || errors.Is(tt.err, auth.ErrNotFound)) {
				t.Errorf("err = %v; want an error wrapping neither auth.ErrDuplicateEmail nor auth.ErrNotFound", tt.err)
			}
			if !strings.Contains(tt.err.Error(), tt.wantInMsg) || !strings.HasPrefix(tt.err.Error(), "test: create user: ") {
				t.Errorf("err = %q; want the prefix \"test: create user: \" and %q", tt.err, tt.wantInMsg)
			}
		})
	}
	if got, err := s.UserByID(ctx, u.ID); err != nil || got != u {
		t.Errorf("UserByID after the failed CreateUser calls = %+v, %v; want %+v", got, err, u)
	}
}

// TestChecksRunFirst checks that CheckString and CheckTime run before
// any statement, and that their errors are returned, wrapped:
// every statement fails ("no such table"), so had one run first, its
// error would be what is returned.
func TestChecksRunFirst(t *testing.T) {
	ctx := t.Context()
	db := openEmpty(t)
	failing := everyStatement(noStatements, "SELECT 1 FROM no_such_table")
	errCheck := errors.New("value the table cannot hold")
	rejectsStrings, rejectsTimes := failing, failing
	rejectsStrings.CheckString = func(col, _ string) error { return fmt.Errorf("%s: %w", col, errCheck) }
	rejectsTimes.CheckTime = func(time.Time) error { return errCheck }
	now := time.Now()
	tok := auth.RefreshToken{Hash: "h", Family: "f", UserID: "u", IssuedAt: now, ExpiresAt: now}
	oneTime := auth.OneTimeToken{Hash: "h", Purpose: "p", UserID: "u", Email: "e", CreatedAt: now, ExpiresAt: now}
	tests := []struct {
		name string
		err  error
	}{
		{"CreateUser time", rejectsTimes.CreateUser(ctx, db, auth.User{ID: "u"})},
		{"CreateUser string", rejectsStrings.CreateUser(ctx, db, auth.User{ID: "u"})},
		{"UpdatePasswordHash", rejectsStrings.UpdatePasswordHash(ctx, db, "u", "old", "new")},
		{"UpdatePasswordHash to the same hash", rejectsStrings.UpdatePasswordHash(ctx, db, "u", "old", "old")},
		{"CreateRefreshToken string", rejectsStrings.CreateRefreshToken(ctx, db, tok, 0)},
		{"CreateRefreshToken time", rejectsTimes.CreateRefreshToken(ctx, db, tok, 0)},
		{"UseRefreshToken", func() error { _, err := rejectsTimes.UseRefreshToken(ctx, db, "h", now); return err }()},
		{"RevokeFamily", rejectsTimes.RevokeFamily(ctx, db, "f", now)},
		{"RevokeSessions string", rejectsStrings.RevokeSessions(ctx, db, "u", now)},
		{"RevokeSessions time", rejectsTimes.RevokeSessions(ctx, db, "u", now)},
		{"DeleteExpiredRefreshTokens", func() error { _, err := rejectsTimes.DeleteExpiredRefreshTokens(ctx, db, now); return err }()},
		{"UpdateName", rejectsStrings.UpdateName(ctx, db, "u", "name")},
		{"UpdateEmail", rejectsStrings.UpdateEmail(ctx, db, "u", "a@example.com", "b@example.com", false)},
		{"CreateOneTimeToken string", rejectsStrings.CreateOneTimeToken(ctx, db, oneTime)},
		{"CreateOneTimeToken time", rejectsTimes.CreateOneTimeToken(ctx, db, oneTime)},
		{"DeleteExpiredOneTimeTokens", func() error { _, err := rejectsTimes.DeleteExpiredOneTimeTokens(ctx, db, now); return err }()},
		{"PutTOTP string", rejectsStrings.PutTOTP(ctx, db, "u", []byte("sealed"), now)},
		{"PutTOTP time", rejectsTimes.PutTOTP(ctx, db, "u", []byte("sealed"), now)},
		{"ConfirmTOTP", rejectsStrings.ConfirmTOTP(ctx, db, "u", []byte("sealed"), 1, []string{"h"})},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, errCheck) || !strings.HasPrefix(fmt.Sprint(tt.err), "test: ") {
			t.Errorf("%s with a failing check = %v; want the check's error, with the prefix \"test: \"", tt.name, tt.err)
		}
	}
	if err := tests[0].err; err == nil || err.Error() != "test: create user: value the table cannot hold" {
		t.Errorf("CreateUser with a failing CheckTime = %v; want \"test: create user: value the table cannot hold\"", err)
	}

	// CheckString is given the column of each string.
	var cols []string
	checkedStrings := failing
	checkedStrings.CheckString = func(col, _ string) error {
		cols = append(cols, col)
		return nil
	}
	_ = checkedStrings.CreateUser(ctx, db, auth.User{ID: "u"})
	_ = checkedStrings.UpdatePasswordHash(ctx, db, "u", "old", "new")
	_ = checkedStrings.CreateRefreshToken(ctx, db, tok, 0)
	_ = checkedStrings.RevokeSessions(ctx, db, "u", now)
	_ = checkedStrings.UpdateName(ctx, db, "u", "name")
	_ = checkedStrings.UpdateEmail(ctx, db, "u", "a@example.com", "b@example.com", false)
	_ = checkedStrings.CreateOneTimeToken(ctx, db, oneTime)
	_ = checkedStrings.PutTOTP(ctx, db, "u", []byte("sealed"), now)
	_ = checkedStrings.ConfirmTOTP(ctx, db, "u", []byte("sealed"), 1, []string{"h1", "h2"})
	if got, want := strings.Join(cols, " "), "auth_users.id auth_users.email auth_users.name auth_users.password_hash "+
		"auth_users.password_hash auth_refresh_tokens.hash auth_refresh_tokens.family_id auth_refresh_tokens.user_id auth_revocations.user_id "+
		"auth_users.name auth_users.email auth_one_time_tokens.hash auth_one_time_tokens.purpose auth_one_time_tokens.user_id auth_one_time_tokens.email "+
		"auth_totp.sealed auth_recovery_codes.hash auth_recovery_codes.hash"; got != want {
		t.Errorf("CheckString was called for the columns %s; want %s", got, want)
	}
}

// everyStatement returns d with query as every one of its statements.
func everyStatement(d sqlstore.Dialect, query string) sqlstore.Dialect {
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.String && v.Type().Field(i).Name != "Name" {
			f.SetString(query)
		}
	}
	return d
}

// TestDecodeTimeFails checks that a time the Dialect cannot decode fails
// the look-up with an error naming the column, and neither sentinel.
func TestDecodeTimeFails(t *testing.T) {
	d := noStatements
	d.ByID = `SELECT ?, 'e', 'n', 'h', 0, 0, 0, 0`
	d.DecodeTime = func(any) (time.Time, error) { return time.Time{}, errors.New("bad time") }
	_, err := d.UserByID(t.Context(), openEmpty(t), "u")
	if err == nil || !strings.HasPrefix(err.Error(), "test: user by id: ") || !strings.Contains(err.Error(), "created_at: bad time") || errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UserByID with a created_at DecodeTime fails on = %v; want a \"test: user by id: \" error saying \"created_at: bad time\"", err)
	}
	d.TOTPGet = `SELECT x'00', 0, length(?), 0`
	_, err = d.TOTP(t.Context(), openEmpty(t), "u")
	if err == nil || !strings.HasPrefix(err.Error(), "test: totp: ") || !strings.Contains(err.Error(), "created_at: bad time") || errors.Is(err, auth.ErrNotFound) {
		t.Errorf("TOTP with a created_at DecodeTime fails on = %v; want a \"test: totp: \" error saying \"created_at: bad time\"", err)
	}
}

// stuckDriver is a database/sql driver whose statements wait for their
// context to end and then fail in their own words, as modernc.org/sqlite
// ("interrupted") and lib/pq ("canceling statement due to user request")
// do, without wrapping ctx.Err().
type stuckDriver struct{}

type stuckConn struct{}

var errInterrupted = errors.New("interrupted")

func (stuckDriver) Open(string) (driver.Conn, error) { return stuckConn{}, nil }

// stuckTx is a transaction of a stuckConn, whose statements block as
// the connection's do.
type stuckTx struct{}

func (stuckConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (stuckConn) Close() error                        { return nil }
func (stuckConn) Begin() (driver.Tx, error)           { return stuckTx{}, nil }

func (stuckTx) Commit() error   { return nil }
func (stuckTx) Rollback() error { return nil }

func (stuckConn) ExecContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Result, error) {
	<-ctx.Done()
	return nil, errInterrupted
}

func (stuckConn) QueryContext(ctx context.Context, _ string, _ []driver.NamedValue) (driver.Rows, error) {
	<-ctx.Done()
	return nil, errInterrupted
}

func init() { sql.Register("stuck", stuckDriver{}) }

// openStuck opens a database of the stuck driver.
func openStuck(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("stuck", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestContextEndsMidCall checks that when ctx ends while a statement runs,
// the error wraps ctx.Err() even though the driver's own error does not.
func TestContextEndsMidCall(t *testing.T) {
	db := openStuck(t)
	d := noStatements
	withUse := noStatements
	withUse.OneTimeUse = "DELETE"
	calls := map[string]func(ctx context.Context) error{
		"CreateUser":  func(ctx context.Context) error { return d.CreateUser(ctx, db, auth.User{ID: "x", Email: "x"}) },
		"UserByEmail": func(ctx context.Context) error { _, err := d.UserByEmail(ctx, db, "x"); return err },
		"UserByID":    func(ctx context.Context) error { _, err := d.UserByID(ctx, db, "x"); return err },
		"Attempts":    func(ctx context.Context) error { _, err := d.Attempts(ctx, db, "x"); return err },
		"AddAttempt": func(ctx context.Context) error {
			_, err := d.AddAttempt(ctx, db, new(sqlstore.Pruner), "x", time.Now(), time.Minute)
			return err
		},
		"ResetAttempts": func(ctx context.Context) error { return d.ResetAttempts(ctx, db, "x") },
		"UpdatePasswordHash": func(ctx context.Context) error {
			return d.UpdatePasswordHash(ctx, db, "x", "old", "new")
		},
		"UpdatePasswordHash to the same hash": func(ctx context.Context) error {
			return d.UpdatePasswordHash(ctx, db, "x", "old", "old")
		},
		"CreateRefreshToken": func(ctx context.Context) error {
			return d.CreateRefreshToken(ctx, db, auth.RefreshToken{Hash: "x", Family: "f", UserID: "u"}, 0)
		},
		"UseRefreshToken": func(ctx context.Context) error {
			_, err := d.UseRefreshToken(ctx, db, "x", time.Now())
			return err
		},
		"RefreshToken":   func(ctx context.Context) error { _, err := d.RefreshToken(ctx, db, "x"); return err },
		"RevokeFamily":   func(ctx context.Context) error { return d.RevokeFamily(ctx, db, "f", time.Now()) },
		"RevokeSessions": func(ctx context.Context) error { return d.RevokeSessions(ctx, db, "u", time.Now()) },
		"SessionGeneration": func(ctx context.Context) error {
			_, err := d.SessionGeneration(ctx, db, "u")
			return err
		},
		"DeleteExpiredRefreshTokens": func(ctx context.Context) error {
			_, err := d.DeleteExpiredRefreshTokens(ctx, db, time.Now())
			return err
		},
		"UpdateName":  func(ctx context.Context) error { return d.UpdateName(ctx, db, "u", "name") },
		"UpdateEmail": func(ctx context.Context) error { return d.UpdateEmail(ctx, db, "u", "a", "b", false) },
		"UpdateEmail to the same email": func(ctx context.Context) error {
			return d.UpdateEmail(ctx, db, "u", "a", "a", true)
		},
		"SetDisabled": func(ctx context.Context) error { return d.SetDisabled(ctx, db, "u", true) },
		"DeleteUser":  func(ctx context.Context) error { return d.DeleteUser(ctx, db, "u") },
		"ListUsers":   func(ctx context.Context) error { _, err := d.ListUsers(ctx, db, "", 10); return err },
		"CreateOneTimeToken": func(ctx context.Context) error {
			return d.CreateOneTimeToken(ctx, db, auth.OneTimeToken{Hash: "h", UserID: "u"})
		},
		"UseOneTimeToken with OneTimeUse": func(ctx context.Context) error {
			_, err := withUse.UseOneTimeToken(ctx, db, "h", "p")
			return err
		},
		"UseOneTimeToken in a transaction": func(ctx context.Context) error {
			_, err := d.UseOneTimeToken(ctx, db, "h", "p")
			return err
		},
		"DeleteOneTimeTokens": func(ctx context.Context) error { return d.DeleteOneTimeTokens(ctx, db, "u", "p") },
		"DeleteExpiredOneTimeTokens": func(ctx context.Context) error {
			_, err := d.DeleteExpiredOneTimeTokens(ctx, db, time.Now())
			return err
		},
		"PutTOTP":     func(ctx context.Context) error { return d.PutTOTP(ctx, db, "u", []byte("s"), time.Now()) },
		"TOTP":        func(ctx context.Context) error { _, err := d.TOTP(ctx, db, "u"); return err },
		"ConfirmTOTP": func(ctx context.Context) error { return d.ConfirmTOTP(ctx, db, "u", []byte("s"), 1, []string{"h"}) },
		"UseTOTPStep": func(ctx context.Context) error { return d.UseTOTPStep(ctx, db, "u", 1) },
		"UseRecoveryCode": func(ctx context.Context) error {
			return d.UseRecoveryCode(ctx, db, "u", "h")
		},
		"DeleteTOTP": func(ctx context.Context) error { return d.DeleteTOTP(ctx, db, "u") },
	}
	// The same calls in a transaction, where the Dialect has one for a
	// single statement, and the attempt counted in one.
	inTx := noStatements
	inTx.Conflicts, inTx.WriteInTx, inTx.AttemptsAddInTx = sqlstore.ErrorOnAnyConflict, true, true
	calls["CreateUser with WriteInTx"] = func(ctx context.Context) error {
		return inTx.CreateUser(ctx, db, auth.User{ID: "x", Email: "x"})
	}
	calls["UpdatePasswordHash with WriteInTx"] = func(ctx context.Context) error {
		return inTx.UpdatePasswordHash(ctx, db, "x", "old", "new")
	}
	calls["RevokeFamily with WriteInTx"] = func(ctx context.Context) error { return inTx.RevokeFamily(ctx, db, "f", time.Now()) }
	calls["UpdateName with WriteInTx"] = func(ctx context.Context) error { return inTx.UpdateName(ctx, db, "u", "name") }
	calls["DeleteOneTimeTokens with WriteInTx"] = func(ctx context.Context) error { return inTx.DeleteOneTimeTokens(ctx, db, "u", "p") }
	calls["UseTOTPStep with WriteInTx"] = func(ctx context.Context) error { return inTx.UseTOTPStep(ctx, db, "u", 1) }
	calls["UseRecoveryCode with WriteInTx"] = func(ctx context.Context) error { return inTx.UseRecoveryCode(ctx, db, "u", "h") }
	calls["AddAttempt with AttemptsAddInTx"] = func(ctx context.Context) error {
		_, err := inTx.AddAttempt(ctx, db, new(sqlstore.Pruner), "x", time.Now(), time.Minute)
		return err
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errInterrupted) {
			t.Errorf("%s interrupted by its deadline = %v; want an error wrapping context.DeadlineExceeded and the driver's error", name, err)
		}
	}
}

// TestDeleteExpiredBatches checks that DeleteExpiredRefreshTokens deletes
// every expired token and emptied family, more than a batch of each, and
// counts the tokens.
func TestDeleteExpiredBatches(t *testing.T) {
	ctx := t.Context()
	const expired, live = 2*sqlstore.PruneBatch + 500, 3
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	s, db := migrated(t)
	// Fill the tables directly, in one transaction: a token and a family
	// each.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range expired + live {
		exp := now.Add(-time.Duration(i) * time.Second)
		if i < live {
			exp = now.Add(time.Second)
		}
		h, f := fmt.Sprintf("h%d", i), fmt.Sprintf("f%d", i)
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_refresh_tokens (hash, family_id, user_id, issued_at, expires_at) VALUES (?, ?, 'u', ?, ?)`,
			h, f, exp.Add(-time.Hour).UnixMicro(), exp.UnixMicro()); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO auth_sessions (id, user_id, expires_at) VALUES (?, 'u', ?)`, f, exp.UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteExpiredRefreshTokens(ctx, now)
	if err != nil || n != expired {
		t.Errorf("DeleteExpiredRefreshTokens = %d, %v; want %d, nil", n, err, expired)
	}
	for table, want := range map[string]int{"auth_refresh_tokens": live, "auth_sessions": live} {
		var rows int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&rows); err != nil || rows != want {
			t.Errorf("%s holds %d rows (%v) after DeleteExpiredRefreshTokens; want %d", table, rows, err, want)
		}
	}
}

// TestAttemptsPrune checks that AddAttempt deletes counters idle for
// throttle.Retention, in batches of PruneBatch, at most once every
// PruneEvery unless the previous batch was full.
func TestAttemptsPrune(t *testing.T) {
	ctx := t.Context()
	s, db := migrated(t)
	rows := func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM auth_attempts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	idle := func(n int, since time.Time) {
		t.Helper()
		_, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			INSERT INTO auth_attempts (key_hash, attempts, last_at) SELECT printf('idle%060d', i + ?), 3, ? FROM n`,
			n, rows(), since.UnixMicro())
		if err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	fresh := fmt.Sprintf("%064x", 1)
	count := 0
	step := func(d time.Duration, want int, why string) {
		t.Helper()
		now = now.Add(d)
		count++
		if a, err := s.AddAttempt(ctx, fresh, now, time.Hour); err != nil || a.Count != count {
			t.Fatalf("AddAttempt %s = %+v, %v; want Count %d", why, a, err, count)
		}
		if got := rows(); got != want {
			t.Fatalf("after AddAttempt %s: %d rows, want %d", why, got, want)
		}
	}

	batch := sqlstore.PruneBatch
	idle(2*batch+500, now.Add(-throttle.Retention))       // due at now, just
	idle(10, now.Add(-throttle.Retention+45*time.Second)) // due 45 seconds later
	step(0, 2*batch+511-batch, "on a store with 2.5 batches of counters due for pruning (one batch goes)")
	step(time.Second, 2*batch+511-2*batch, "a second later (the previous batch was full: prune again)")
	step(time.Second, 11, "another second later (the last batch)")
	idle(5, now.Add(-2*throttle.Retention))
	step(sqlstore.PruneEvery/2, 16, "half a PruneEvery later (the last batch was not full: no prune)")
	step(sqlstore.PruneEvery/2, 1, "a PruneEvery after the last prune")
	idle(5, now.Add(-2*throttle.Retention))
	step(sqlstore.PruneEvery-time.Second, 6, "a second short of a PruneEvery after the last prune")
	now = now.Add(-time.Hour) // a clock that went back does not stop pruning
	step(0, 1, "with a clock an hour behind")
}
