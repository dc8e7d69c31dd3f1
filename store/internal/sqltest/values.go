package sqltest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// The sizes and years whose values testValuesTheTablesCannotHold stores
// when a store has no limit of its own: every store holds them.
const (
	anyIDBytes      = 255
	anyEmailBytes   = 254
	anyTextBytes    = 65535
	anyTokenBytes   = 64
	anyPurposeBytes = 32
	anySealedBytes  = 64
	anyMinYear      = 1000
	anyMaxYear      = 9999
)

// or returns n, or def if n is zero.
func or(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func longEmail(n int) string { return strings.Repeat("x", n-len("@example.com")) + "@example.com" }

type userCase struct {
	name string
	u    auth.User
}

// userCases returns the users whose values the columns cannot hold
// exactly, by l, and users with the largest values they hold.
func userCases(l Limits) (rejected, accepted []userCase) {
	base := auth.User{ID: "id", Email: "e@example.com", Name: "N", PasswordHash: "h", CreatedAt: sampleUser.CreatedAt}
	with := func(name string, f func(u *auth.User)) userCase {
		u := base
		f(&u)
		return userCase{name, u}
	}
	if n := l.IDBytes; n > 0 {
		rejected = append(rejected, with(fmt.Sprintf("ID of %d bytes", n+1), func(u *auth.User) { u.ID = strings.Repeat("i", n+1) }))
	}
	if n := l.EmailBytes; n > 0 {
		rejected = append(rejected,
			with(fmt.Sprintf("email of %d bytes", n+1), func(u *auth.User) { u.Email = longEmail(n + 1) }),
			with(fmt.Sprintf("email of %d four-byte runes", n/4+1), func(u *auth.User) { u.Email = strings.Repeat("𝄞", n/4+1) }))
	}
	if n := l.TextBytes; n > 0 {
		rejected = append(rejected,
			with(fmt.Sprintf("name of %d bytes", n+1), func(u *auth.User) { u.Name = strings.Repeat("n", n+1) }),
			with(fmt.Sprintf("name of %d four-byte runes", n/4+1), func(u *auth.User) { u.Name = strings.Repeat("😀", n/4+1) }),
			with(fmt.Sprintf("password hash of %d bytes", n+1), func(u *auth.User) { u.PasswordHash = strings.Repeat("h", n+1) }))
	}
	if l.UTF8 {
		rejected = append(rejected,
			with("name not UTF-8", func(u *auth.User) { u.Name = "bad \xff name" }),
			with("name with a lone surrogate (CESU)", func(u *auth.User) { u.Name = "\xed\xa0\x80" }),
			with("password hash not UTF-8", func(u *auth.User) { u.PasswordHash = "\xc3" }))
	}
	if l.NUL {
		rejected = append(rejected, with("name with a NUL byte", func(u *auth.User) { u.Name = "nul\x00byte" }))
	}
	if y := l.MinYear; y > 0 {
		rejected = append(rejected,
			with(fmt.Sprintf("created in the year %d", y-1), func(u *auth.User) { u.CreatedAt = time.Date(y-1, 12, 31, 23, 59, 59, 0, time.UTC) }),
			with(fmt.Sprintf("created before %d in UTC, not locally", y), func(u *auth.User) {
				u.CreatedAt = time.Date(y, 1, 1, 0, 30, 0, 0, time.FixedZone("+01", 3600))
			}))
	}
	if y := l.MaxYear; y > 0 {
		rejected = append(rejected, with(fmt.Sprintf("created in the year %d", y+1), func(u *auth.User) { u.CreatedAt = time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC) }))
	}

	id, email, text := or(l.IDBytes, anyIDBytes), or(l.EmailBytes, anyEmailBytes), or(l.TextBytes, anyTextBytes)
	minYear, maxYear := or(l.MinYear, anyMinYear), or(l.MaxYear, anyMaxYear)
	accepted = []userCase{
		with(fmt.Sprintf("ID of %d bytes", id), func(u *auth.User) { u.ID = strings.Repeat("i", id) }),
		with(fmt.Sprintf("email of %d bytes", email), func(u *auth.User) { u.Email = longEmail(email) }),
		with(fmt.Sprintf("name of %d bytes", text), func(u *auth.User) { u.Name = strings.Repeat("n", text) }),
		with(fmt.Sprintf("name of %d four-byte runes and %d bytes", text/4, text%4), func(u *auth.User) {
			u.Name = strings.Repeat("😀", text/4) + strings.Repeat("a", text%4)
		}),
		with(fmt.Sprintf("password hash of %d bytes", text), func(u *auth.User) { u.PasswordHash = strings.Repeat("h", text) }),
		with("name with an invisible and a private-use character", func(u *auth.User) { u.Name = "\u200b\U000F0000\uFEFF" }),
		with(fmt.Sprintf("created at the start of the year %d", minYear), func(u *auth.User) { u.CreatedAt = time.Date(minYear, 1, 1, 0, 0, 0, 0, time.UTC) }),
		with(fmt.Sprintf("created at the end of the year %d", maxYear), func(u *auth.User) {
			u.CreatedAt = time.Date(maxYear, 12, 31, 23, 59, 59, 999999000, time.UTC)
		}),
		with("created in a New York DST gap, UTC wall clock", func(u *auth.User) { u.CreatedAt = time.Date(2024, 3, 10, 2, 30, 0, 0, time.UTC) }),
	}
	return rejected, accepted
}

// testValuesTheTablesCannotHold checks that users whose values the
// columns cannot hold exactly fail CreateUser and store nothing (rather
// than being truncated, replaced or zeroed), and that the largest values
// they can hold round-trip.
func testValuesTheTablesCannotHold(t *testing.T, tg Target) {
	s, db := tg.newStore(t)
	rejected, accepted := userCases(tg.Limits)
	for _, tt := range rejected {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			err := s.CreateUser(t.Context(), tt.u)
			if err == nil {
				t.Fatal("CreateUser = nil; want an error, not a value altered to fit")
			}
			if isSentinel(err) || !strings.HasPrefix(err.Error(), tg.Name+": create user: ") {
				t.Errorf("CreateUser = %v; want a %s error that is neither auth.ErrDuplicateEmail nor auth.ErrNotFound", err, tg.Name)
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
			if u.ID == "id" {
				u.ID = fmt.Sprintf("id%d", i)
			}
			if u.Email == "e@example.com" {
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
}

type callCase struct {
	name string
	call func(s Store) error
}

// sessionCases returns the calls of the PasswordStore and SessionStore
// methods with values the columns cannot hold exactly, by l.
func sessionCases(t *testing.T, l Limits) []callCase {
	ctx := t.Context()
	create := func(name string, f func(tok *auth.RefreshToken)) callCase {
		tok := sampleToken
		f(&tok)
		return callCase{name, func(s Store) error { return s.CreateRefreshToken(ctx, tok, 0) }}
	}
	password := func(name, hash string) callCase {
		return callCase{name, func(s Store) error {
			return s.UpdatePasswordHash(ctx, sampleUser.ID, sampleUser.PasswordHash, hash)
		}}
	}
	var cases []callCase
	if n := l.TokenBytes; n > 0 {
		cases = append(cases,
			create(fmt.Sprintf("token hash of %d bytes", n+1), func(tok *auth.RefreshToken) { tok.Hash = strings.Repeat("0", n+1) }),
			create(fmt.Sprintf("family of %d bytes", n+1), func(tok *auth.RefreshToken) { tok.Family = strings.Repeat("f", n+1) }))
	}
	if n := l.IDBytes; n > 0 {
		long := strings.Repeat("u", n+1)
		cases = append(cases,
			create(fmt.Sprintf("user ID of %d bytes", n+1), func(tok *auth.RefreshToken) { tok.UserID = long }),
			callCase{fmt.Sprintf("sessions revoked for a user ID of %d bytes", n+1), func(s Store) error {
				return s.RevokeSessions(ctx, long, sampleToken.IssuedAt)
			}})
	}
	if y := l.MinYear; y > 0 {
		before := time.Date(y-1, 12, 31, 23, 59, 59, 0, time.UTC)
		cases = append(cases,
			create(fmt.Sprintf("issued in the year %d", y-1), func(tok *auth.RefreshToken) { tok.IssuedAt = before }),
			callCase{fmt.Sprintf("sessions revoked in the year %d", y-1), func(s Store) error {
				return s.RevokeSessions(ctx, sampleUser.ID, before)
			}})
	}
	if y := l.MaxYear; y > 0 {
		after := time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
		cases = append(cases,
			create(fmt.Sprintf("expiring in the year %d", y+1), func(tok *auth.RefreshToken) { tok.ExpiresAt = after }),
			callCase{fmt.Sprintf("used in the year %d", y+1), func(s Store) error {
				_, err := s.UseRefreshToken(ctx, sampleToken.Hash, after)
				return err
			}},
			callCase{fmt.Sprintf("family revoked in the year %d", y+1), func(s Store) error {
				return s.RevokeFamily(ctx, sampleToken.Family, after)
			}},
			callCase{fmt.Sprintf("tokens deleted in the year %d", y+1), func(s Store) error {
				_, err := s.DeleteExpiredRefreshTokens(ctx, after)
				return err
			}})
	}
	if n := l.TextBytes; n > 0 {
		cases = append(cases, password(fmt.Sprintf("password hash of %d bytes", n+1), strings.Repeat("h", n+1)))
	}
	if l.UTF8 {
		cases = append(cases, password("password hash not UTF-8", "\xc3"))
	}
	if l.NUL {
		cases = append(cases,
			password("password hash with a NUL byte", "h\x00"),
			create("token hash with a NUL byte", func(tok *auth.RefreshToken) { tok.Hash = "h\x00" }))
	}
	return cases
}

// testSessionValuesTheTablesCannotHold checks that values the columns of
// the session tables (and password_hash) cannot hold exactly fail and
// change nothing, rather than being truncated or zeroed, and that the
// largest values they can hold round-trip.
func testSessionValuesTheTablesCannotHold(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStoreWithToken(t)
	before := snapshot(t, db)
	for _, tt := range sessionCases(t, tg.Limits) {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			err := tt.call(s)
			if err == nil {
				t.Fatal("err = nil; want an error, not a value altered to fit")
			}
			if isSentinel(err) || !strings.HasPrefix(err.Error(), tg.Name+": ") {
				t.Errorf("err = %v; want a %s error that is neither auth.ErrNotFound nor auth.ErrDuplicateEmail", err, tg.Name)
			}
			if after := snapshot(t, db); after != before {
				t.Errorf("the tables changed:\n%s\nwant:\n%s", after, before)
			}
		})
	}

	// The largest values round-trip. auth_users.id holds as many bytes as
	// the user IDs of the session tables, so the token's user can be
	// stored.
	l := tg.Limits
	biggestUser := sampleUser
	biggestUser.ID, biggestUser.Email = strings.Repeat("u", or(l.IDBytes, anyIDBytes)), "biggest@example.com"
	if err := s.CreateUser(ctx, biggestUser); err != nil {
		t.Fatalf("CreateUser with a %d-byte ID = %v", len(biggestUser.ID), err)
	}
	n := or(l.TokenBytes, anyTokenBytes)
	biggest := auth.RefreshToken{
		Hash: strings.Repeat("h", n), Family: strings.Repeat("f", n), UserID: biggestUser.ID,
		IssuedAt:  time.Date(or(l.MinYear, anyMinYear), 1, 1, 0, 0, 0, 0, time.UTC),
		ExpiresAt: time.Date(or(l.MaxYear, anyMaxYear), 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	if err := s.CreateRefreshToken(ctx, biggest, 0); err != nil {
		t.Fatalf("CreateRefreshToken of the largest values = %v", err)
	}
	if err := s.RevokeSessions(ctx, biggest.UserID, biggest.ExpiresAt); err != nil {
		t.Fatalf("RevokeSessions of a %d-byte user ID = %v", len(biggest.UserID), err)
	}
	got, err := s.RefreshToken(ctx, biggest.Hash)
	biggest.RevokedAt = biggest.ExpiresAt
	if err != nil || got != biggest {
		t.Errorf("RefreshToken of the largest values = %+v, %v; want %+v", got, err, biggest)
	}
}

// testByteForByte adds to the kit's EmailsComparedByteForByte strings that
// collations (PAD SPACE, case or accent folding, a single weight for every
// character outside the BMP, ...) would take as equal, for IDs as well as
// emails.
func testByteForByte(t *testing.T, tg Target) {
	s, _ := tg.newStore(t)
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
		if tg.Limits.NUL && strings.Contains(k, "\x00") {
			continue
		}
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
	// ListUsers orders the IDs byte for byte, and pages by them.
	sorted := slices.Clone(users)
	slices.SortFunc(sorted, func(a, b auth.User) int { return strings.Compare(a.ID, b.ID) })
	if got, err := s.ListUsers(t.Context(), "", len(users)+1); err != nil || !slices.Equal(got, sorted) {
		t.Errorf("ListUsers of every user = %q, %v; want the users in the byte order of their IDs, %q", userIDs(got), err, userIDs(sorted))
	}
	after := ""
	for i, want := range sorted {
		got, err := s.ListUsers(t.Context(), after, 1)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("ListUsers(ctx, %q, 1) = %q, %v; want user #%d in byte order, %q", after, userIDs(got), err, i, want.ID)
			break
		}
		after = want.ID
	}
	for _, k := range []string{"k@example.com   ", "😂@example.com", "𠜏@example.com", "k@EXAMPLE.com"} {
		if _, err := s.UserByEmail(t.Context(), k); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByEmail(%q) = %v; want auth.ErrNotFound", k, err)
		}
		if _, err := s.UserByID(t.Context(), k); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("UserByID(%q) = %v; want auth.ErrNotFound", k, err)
		}
	}
}

func userIDs(users []auth.User) []string {
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids
}
