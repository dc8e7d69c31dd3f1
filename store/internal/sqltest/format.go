package sqltest

import (
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// testColumns checks the columns of the eight tables, and the indexes, as
// the store's package documentation shows them.
func testColumns(t *testing.T, tg Target) {
	_, db := tg.newStore(t)
	checkColumns(t, tg, db)
}

// indexes are the indexes, other than primary keys and unique ones, of
// every SQL store.
var indexes = []string{
	"auth_attempts_last_at", "auth_sessions_user_id", "auth_sessions_expires_at",
	"auth_refresh_tokens_expires_at", "auth_refresh_tokens_user_id",
	"auth_one_time_tokens_user_id", "auth_one_time_tokens_expires_at",
}

// checkColumns checks that the tables of db have the columns
// tg.WantColumns lists, in order, and the indexes.
func checkColumns(t *testing.T, tg Target, db *sql.DB) {
	t.Helper()
	ctx := t.Context()
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, tg.Columns, table)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var col string
			if err := rows.Scan(&col); err != nil {
				t.Fatal(err)
			}
			got = append(got, col)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := tg.WantColumns[table]
		if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("columns of %s:\n\t%s\nwant:\n\t%s", table, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
	}
	for _, index := range indexes {
		var n int
		if err := db.QueryRowContext(ctx, tg.Index, index).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s: %d found (%v); want 1", index, n, err)
		}
	}
}

// testStorageFormat checks that created_at holds the time as the package
// documentation says, truncated to microseconds, whatever the location of
// CreatedAt, and that it is read back in UTC.
func testStorageFormat(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	for i, at := range []time.Time{
		time.Date(2024, 5, 17, 19, 15, 30, 654321987, ist),
		time.Date(1969, 5, 17, 19, 15, 30, 654321987, ist), // before the Unix epoch
	} {
		id := []string{"id1", "id2"}[i]
		u := auth.User{ID: id, Email: id + "@example.com", Name: "A", PasswordHash: "h", CreatedAt: at}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		var text string
		if err := db.QueryRowContext(ctx, "SELECT "+tg.timeText("created_at")+" FROM auth_users WHERE id = '"+id+"'").Scan(&text); err != nil {
			t.Fatal(err)
		}
		if want := tg.FormatTime(at); text != want {
			t.Errorf("created_at of %v stored as %s; want %s", at, text, want)
		}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := at.Truncate(time.Microsecond).UTC(); got.CreatedAt != want {
			t.Errorf("CreatedAt = %v, want %v exactly (truncated to microseconds, in UTC)", got.CreatedAt, want)
		}
	}
}

// testAttemptsStorageFormat checks the columns of auth_attempts as the
// package documentation shows them, and that over-long keys are refused
// rather than truncated.
func testAttemptsStorageFormat(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	at := time.Date(2024, 5, 17, 12, 0, 0, 123456789, ist)
	if _, err := s.AddAttempt(ctx, key(7), at, time.Hour); err != nil {
		t.Fatal(err)
	}
	var k, text string
	var n int64
	if err := db.QueryRowContext(ctx, "SELECT key_hash, attempts, "+tg.timeText("last_at")+" FROM auth_attempts").Scan(&k, &n, &text); err != nil {
		t.Fatal(err)
	}
	if want := tg.FormatTime(at); k != key(7) || n != 1 || text != want {
		t.Errorf("stored (%s, %d, %s); want (%s, 1, %s)", k, n, text, key(7), want)
	}
	if _, err := s.AddAttempt(ctx, key(7)+"0", at, time.Hour); err == nil || !strings.Contains(err.Error(), "65 bytes") {
		t.Errorf("AddAttempt with a 65-byte key = %v; want an error saying so", err)
	}
}

// testSessionsStorageFormat checks the times of the session tables as the
// package documentation shows them, NULL while a token is unused or its
// family live, and a session's expires_at that of its token.
func testSessionsStorageFormat(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	if err := s.CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2024, 5, 17, 19, 15, 30, 654321987, ist)
	tok := sampleToken
	tok.IssuedAt, tok.ExpiresAt = issued, issued.Add(time.Hour)
	if err := s.CreateRefreshToken(ctx, tok, 0); err != nil {
		t.Fatal(err)
	}
	stored := func(why string, want ...string) {
		t.Helper()
		var got [5]string
		err := db.QueryRowContext(ctx, "SELECT "+strings.Join([]string{
			tg.timeText("t.issued_at"), tg.timeText("t.expires_at"), tg.timeText("t.used_at"),
			tg.timeText("s.expires_at"), tg.timeText("s.revoked_at"),
		}, ", ")+" FROM auth_refresh_tokens t JOIN auth_sessions s ON s.id = t.family_id").Scan(&got[0], &got[1], &got[2], &got[3], &got[4])
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got[:], ", ") != strings.Join(want, ", ") {
			t.Errorf("%s: issued_at, expires_at, used_at, session expires_at, revoked_at stored as\n\t%s\nwant\n\t%s",
				why, strings.Join(got[:], ", "), strings.Join(want, ", "))
		}
	}
	f := tg.FormatTime
	stored("an unused token of a live family", f(tok.IssuedAt), f(tok.ExpiresAt), "NULL", f(tok.ExpiresAt), "NULL")

	used, revoked, all := issued.Add(time.Minute+1), issued.Add(2*time.Minute+1), issued.Add(3*time.Minute+1)
	if _, err := s.UseRefreshToken(ctx, tok.Hash, used); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeFamily(ctx, tok.Family, revoked); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSessions(ctx, tok.UserID, all); err != nil {
		t.Fatal(err)
	}
	stored("a used token of a revoked family", f(tok.IssuedAt), f(tok.ExpiresAt), f(used), f(tok.ExpiresAt), f(revoked))
	var userID, text string
	var gen int64
	if err := db.QueryRowContext(ctx, "SELECT user_id, "+tg.timeText("revoked_at")+", generation FROM auth_revocations").Scan(&userID, &text, &gen); err != nil {
		t.Fatal(err)
	}
	if userID != tok.UserID || text != f(all) || gen != 1 {
		t.Errorf("auth_revocations holds (%s, %s, %d); want (%s, %s, 1)", userID, text, gen, tok.UserID, f(all))
	}
}

// testAccountsStorageFormat checks the columns of auth_one_time_tokens
// and the flags of auth_users as the package documentation shows them:
// times as for the other tables, and the flags as the database's false
// and true, which Columns reads as text.
func testAccountsStorageFormat(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStore(t)
	u := sampleUser
	u.EmailVerified = true
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	flags := func(why string, verified, disabled bool) {
		t.Helper()
		var v, d bool
		if err := db.QueryRowContext(ctx, "SELECT email_verified, disabled FROM auth_users").Scan(&v, &d); err != nil {
			t.Fatal(err)
		}
		if v != verified || d != disabled {
			t.Errorf("%s: email_verified, disabled = %t, %t; want %t, %t", why, v, d, verified, disabled)
		}
	}
	flags("after CreateUser", true, false)
	if err := s.SetDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateEmail(ctx, u.ID, u.Email, u.Email, false); err != nil {
		t.Fatal(err)
	}
	flags("after SetDisabled and UpdateEmail", false, true)

	created := time.Date(2024, 5, 17, 19, 15, 30, 654321987, ist)
	tok := auth.OneTimeToken{Hash: tokenHash(9), Purpose: "verify_email", UserID: u.ID, Email: u.Email, CreatedAt: created, ExpiresAt: created.Add(time.Hour)}
	if err := s.CreateOneTimeToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	var hash, purpose, userID, email, createdAt, expiresAt string
	err := db.QueryRowContext(ctx, "SELECT hash, purpose, user_id, email, "+tg.timeText("created_at")+", "+tg.timeText("expires_at")+" FROM auth_one_time_tokens").
		Scan(&hash, &purpose, &userID, &email, &createdAt, &expiresAt)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{hash, purpose, userID, email, createdAt, expiresAt}
	want := []string{tok.Hash, tok.Purpose, tok.UserID, tok.Email, tg.FormatTime(tok.CreatedAt), tg.FormatTime(tok.ExpiresAt)}
	if !slices.Equal(got, want) {
		t.Errorf("auth_one_time_tokens holds\n\t%q\nwant\n\t%q", got, want)
	}
	used, err := s.UseOneTimeToken(ctx, tok.Hash, tok.Purpose)
	if err != nil {
		t.Fatal(err)
	}
	if want := created.Truncate(time.Microsecond).UTC(); used.CreatedAt != want || used.ExpiresAt != want.Add(time.Hour) {
		t.Errorf("UseOneTimeToken returned CreatedAt %v, ExpiresAt %v; want %v and an hour later exactly (truncated to microseconds, in UTC)", used.CreatedAt, used.ExpiresAt, want)
	}
}
