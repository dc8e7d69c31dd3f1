package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// sessionStore is what the subtests of the auth.SessionStore ability
// use: the ability and the users whose sessions it keeps.
type sessionStore interface {
	auth.UserStore
	auth.SessionStore
}

// sessionTests are the subtests of the auth.SessionStore ability, run by
// Run after the PasswordStore ones.
var sessionTests = []abilityTest[sessionStore]{
	{"SessionsCreateThenLookup", testSessionsCreateThenLookup},
	{"SessionsCreateExisting", testSessionsCreateExisting},
	{"SessionsConcurrentCreate", testSessionsConcurrentCreate},
	{"SessionsNotFound", testSessionsNotFound},
	{"SessionsUse", testSessionsUse},
	{"SessionsConcurrentUse", testSessionsConcurrentUse},
	{"SessionsRevokeFamily", testSessionsRevokeFamily},
	{"SessionsRevokeFamilyLaterToken", testSessionsRevokeFamilyLaterToken},
	{"SessionsRevokeSessions", testSessionsRevokeSessions},
	{"SessionsRevokedAt", testSessionsRevokedAt},
	{"SessionsDeleteExpired", testSessionsDeleteExpired},
	{"SessionsCanceledContext", testSessionsDoneContext(context.Canceled, "context.Canceled", canceledContext)},
	{"SessionsExpiredContext", testSessionsDoneContext(context.DeadlineExceeded, "context.DeadlineExceeded", expiredContext)},
}

// sessionTime is a whole microsecond, as are all the times the session
// tests pass (stores need keep only microseconds), so that a boundary
// compares exactly.
var sessionTime = baseTime.Truncate(time.Microsecond)

// tokenLife is how long the tokens of the session tests live.
const tokenLife = 30 * 24 * time.Hour

// tokenHash returns a token hash numbered n, of the form the Service
// uses: 64 lower-case hex digits.
func tokenHash(n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "storetest refresh token %d", n))
	return hex.EncodeToString(sum[:])
}

// family returns a family numbered n, of the form the Service uses: 32
// lower-case hex digits.
func family(n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "storetest family %d", n))
	return hex.EncodeToString(sum[:16])
}

// newToken returns the unused token numbered n of family fam and user u,
// issued n minutes after sessionTime.
func newToken(n int, fam string, u auth.User) auth.RefreshToken {
	issued := sessionTime.Add(time.Duration(n) * time.Minute)
	return auth.RefreshToken{
		Hash:      tokenHash(n),
		Family:    fam,
		UserID:    u.ID,
		IssuedAt:  issued,
		ExpiresAt: issued.Add(tokenLife),
	}
}

// sessionUsers creates n users, numbered 1 to n, and returns them.
func sessionUsers(t *testing.T, s auth.UserStore, n int) []auth.User {
	t.Helper()
	users := make([]auth.User, n)
	for i := range users {
		users[i] = newUser(i+1, fmt.Sprintf("session%d@example.com", i+1))
		create(t, s, users[i])
	}
	return users
}

// used returns tok as used at at.
func used(tok auth.RefreshToken, at time.Time) auth.RefreshToken {
	tok.UsedAt = at
	return tok
}

// revoked returns tok with its family revoked at at.
func revoked(tok auth.RefreshToken, at time.Time) auth.RefreshToken {
	tok.RevokedAt = at
	return tok
}

// fmtTime formats a time of a token for a message.
func fmtTime(tm time.Time) string {
	if tm.IsZero() {
		return "zero"
	}
	return tm.UTC().Format(time.RFC3339Nano)
}

// short abbreviates a hash or family for a message.
func short(s string) string {
	if len(s) > 12 {
		return q(s[:12] + "...")
	}
	return q(s)
}

func describeToken(tok auth.RefreshToken) string {
	return fmt.Sprintf("{Hash: %s, Family: %s, UsedAt: %s, RevokedAt: %s}",
		short(tok.Hash), short(tok.Family), fmtTime(tok.UsedAt), fmtTime(tok.RevokedAt))
}

// diffToken lists the fields in which got differs from want: strings byte
// for byte, times to within a microsecond and zero exactly when want's
// are.
func diffToken(got, want auth.RefreshToken) []string {
	var d []string
	str := func(field, got, want string) {
		if got != want {
			d = append(d, fmt.Sprintf("%s = %s, want %s", field, q(got), q(want)))
		}
	}
	tm := func(field string, got, want time.Time) {
		if got.IsZero() != want.IsZero() || (!want.IsZero() && !sameInstant(got, want)) {
			d = append(d, fmt.Sprintf("%s = %s, want %s", field, fmtTime(got), fmtTime(want)))
		}
	}
	str("Hash", got.Hash, want.Hash)
	str("Family", got.Family, want.Family)
	str("UserID", got.UserID, want.UserID)
	tm("IssuedAt", got.IssuedAt, want.IssuedAt)
	tm("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	tm("UsedAt", got.UsedAt, want.UsedAt)
	tm("RevokedAt", got.RevokedAt, want.RevokedAt)
	return d
}

// checkToken reports how the result of call differs from want.
func checkToken(t *testing.T, call string, got auth.RefreshToken, err error, want auth.RefreshToken) {
	t.Helper()
	if err != nil {
		t.Errorf("%s = %v; want %s", call, err, describeToken(want))
		return
	}
	if d := diffToken(got, want); len(d) > 0 {
		t.Errorf("%s returned a token that differs from the one expected:\n\t%s", call, strings.Join(d, "\n\t"))
	}
}

// createToken stores tok and fails the test if that fails.
func createToken(t *testing.T, s auth.SessionStore, tok auth.RefreshToken) {
	t.Helper()
	if err := s.CreateRefreshToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateRefreshToken(ctx, %s) = %v; want nil", describeToken(tok), err)
	}
}

// hasToken looks want up with RefreshToken and checks every field.
func hasToken(t *testing.T, s auth.SessionStore, want auth.RefreshToken, why string) {
	t.Helper()
	got, err := s.RefreshToken(t.Context(), want.Hash)
	checkToken(t, fmt.Sprintf("RefreshToken(ctx, %s) %s", short(want.Hash), why), got, err, want)
}

// use calls UseRefreshToken and checks that it returns want.
func use(t *testing.T, s auth.SessionStore, hash string, now time.Time, want auth.RefreshToken, why string) {
	t.Helper()
	got, err := s.UseRefreshToken(t.Context(), hash, now)
	checkToken(t, fmt.Sprintf("UseRefreshToken(ctx, %s, %s) %s", short(hash), fmtTime(now), why), got, err, want)
}

// tokenNotFound checks that a lookup of a token returned an error wrapping
// auth.ErrNotFound.
func tokenNotFound(t *testing.T, call, why string, got auth.RefreshToken, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s = (%s, nil) %s; want an error wrapping auth.ErrNotFound (a lookup that matches nothing must fail, not return a token)", call, describeToken(got), why)
	case !errors.Is(err, auth.ErrNotFound):
		t.Errorf("%s = %v %s; want an error wrapping auth.ErrNotFound (errors.Is(err, auth.ErrNotFound) is false)", call, err, why)
	}
}

// noToken checks that RefreshToken finds no token with this hash.
func noToken(t *testing.T, s auth.SessionStore, hash, why string) {
	t.Helper()
	got, err := s.RefreshToken(t.Context(), hash)
	tokenNotFound(t, fmt.Sprintf("RefreshToken(ctx, %s)", short(hash)), why, got, err)
}

// revokeFamily calls RevokeFamily and fails the test if that fails.
func revokeFamily(t *testing.T, s auth.SessionStore, fam string, now time.Time, why string) {
	t.Helper()
	if err := s.RevokeFamily(t.Context(), fam, now); err != nil {
		t.Fatalf("RevokeFamily(ctx, %s, %s) %s = %v; want nil", short(fam), fmtTime(now), why, err)
	}
}

// revokeSessions calls RevokeSessions and fails the test if that fails.
func revokeSessions(t *testing.T, s auth.SessionStore, userID string, now time.Time, why string) {
	t.Helper()
	if err := s.RevokeSessions(t.Context(), userID, now); err != nil {
		t.Fatalf("RevokeSessions(ctx, %s, %s) %s = %v; want nil", q(userID), fmtTime(now), why, err)
	}
}

// revokedAt checks that SessionsRevokedAt returns want (zero for none).
func revokedAt(t *testing.T, s auth.SessionStore, userID string, want time.Time, why string) {
	t.Helper()
	got, err := s.SessionsRevokedAt(t.Context(), userID)
	call := fmt.Sprintf("SessionsRevokedAt(ctx, %s) %s", q(userID), why)
	switch {
	case err != nil:
		t.Errorf("%s = %v; want (%s, nil)", call, err, fmtTime(want))
	case got.IsZero() != want.IsZero() || (!want.IsZero() && !sameInstant(got, want)):
		t.Errorf("%s = %s; want %s", call, fmtTime(got), fmtTime(want))
	}
}

// busyHint explains the failure of a concurrent call that should have
// succeeded.
const busyHint = "a busy or locked database must be waited for, not reported"

// failures reports the first few of errs that are not nil, as failures
// of concurrent calls that should all have succeeded (hint says why), and
// returns how many there were.
func failures(t *testing.T, call string, errs []error, hint string) int {
	t.Helper()
	n := 0
	for i, err := range errs {
		if err != nil {
			if n++; n <= 5 {
				t.Errorf("concurrent %s #%d = %v; want nil (%d calls ran at once; %s)", call, i, err, len(errs), hint)
			}
		}
	}
	return n
}

func testSessionsCreateThenLookup(t *testing.T, s sessionStore) {
	u := sessionUsers(t, s, 1)[0]
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name     string
		issuedAt time.Time
	}{
		{"2024", sessionTime},
		{"whole second", time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)},
		{"non-UTC location", sessionTime.In(ist)},
		{"time.Now", time.Now().Truncate(time.Microsecond)},
		{"local time zone", time.Now().Local().Truncate(time.Microsecond)},
		{"before 1970", time.Date(1969, time.November, 30, 23, 59, 59, 999999000, time.UTC)},
		{"after 2038", time.Date(2040, time.February, 29, 12, 0, 0, 1000, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := newToken(i, family(i), u)
			tok.IssuedAt, tok.ExpiresAt = tt.issuedAt, tt.issuedAt.Add(tokenLife)
			createToken(t, s, tok)
			hasToken(t, s, tok, "after CreateRefreshToken")
			hasToken(t, s, tok, "a second time (RefreshToken must change nothing)")
		})
	}
}

func testSessionsCreateExisting(t *testing.T, s sessionStore) {
	users := sessionUsers(t, s, 2)
	tok := newToken(1, family(1), users[0])
	createToken(t, s, tok)

	other := newToken(2, family(2), users[1])
	other.Hash = tok.Hash
	if err := s.CreateRefreshToken(t.Context(), other); err != nil {
		t.Errorf("CreateRefreshToken(ctx, %s) with the hash of a stored token and other fields = %v; want nil (the Service may create a token more than once)",
			describeToken(other), err)
	}
	hasToken(t, s, tok, "after CreateRefreshToken with its hash and other fields (it must change nothing)")

	t1, t2 := sessionTime.Add(time.Hour), sessionTime.Add(2*time.Hour)
	use(t, s, tok.Hash, t1, tok, "for the first time")
	revokeFamily(t, s, tok.Family, t2, "")
	for _, again := range []auth.RefreshToken{tok, other} {
		if err := s.CreateRefreshToken(t.Context(), again); err != nil {
			t.Errorf("CreateRefreshToken(ctx, %s) with the hash of a stored token that is used and revoked = %v; want nil",
				describeToken(again), err)
		}
	}
	hasToken(t, s, revoked(used(tok, t1), t2), "after CreateRefreshToken with its hash, once used and revoked (it must change nothing)")
}

func testSessionsConcurrentCreate(t *testing.T, s sessionStore) {
	u := sessionUsers(t, s, 1)[0]

	t.Run("one token", func(t *testing.T) {
		tok := newToken(1, family(1), u)
		errs := make([]error, concurrency)
		together(concurrency, func(i int) { errs[i] = s.CreateRefreshToken(t.Context(), tok) })
		failures(t, "CreateRefreshToken of one token, the first of its family,", errs,
			"CreateRefreshToken of a token that exists must return nil, also while another call is creating it: INSERT ... ON CONFLICT DO NOTHING, not a lookup and then an insert; and "+busyHint)
		hasToken(t, s, tok, fmt.Sprintf("after %d concurrent CreateRefreshToken calls for it", concurrency))
	})

	t.Run("one new family", func(t *testing.T) {
		fam := family(2)
		toks := make([]auth.RefreshToken, concurrency)
		for i := range toks {
			toks[i] = newToken(100+i, fam, u)
		}
		errs := make([]error, concurrency)
		together(concurrency, func(i int) { errs[i] = s.CreateRefreshToken(t.Context(), toks[i]) })
		if failures(t, "CreateRefreshToken of distinct tokens of one new family", errs,
			"the first of them creates the family, and the others must find it created, not fail: INSERT ... ON CONFLICT DO NOTHING; and "+busyHint) > 0 {
			return
		}
		for _, tok := range toks {
			hasToken(t, s, tok, "after concurrent CreateRefreshToken calls for its family")
		}
		at := sessionTime.Add(time.Hour)
		revokeFamily(t, s, fam, at, "")
		for _, tok := range toks {
			hasToken(t, s, revoked(tok, at), "after RevokeFamily of the family its concurrent CreateRefreshToken calls created")
		}
	})
}

func testSessionsNotFound(t *testing.T, s sessionStore) {
	u := sessionUsers(t, s, 1)[0]
	now := sessionTime.Add(time.Hour)
	lookups := func(t *testing.T, hash, why string) {
		t.Helper()
		noToken(t, s, hash, why)
		got, err := s.UseRefreshToken(t.Context(), hash, now)
		tokenNotFound(t, fmt.Sprintf("UseRefreshToken(ctx, %s, now)", short(hash)), why, got, err)
	}
	lookups(t, tokenHash(1), "on an empty store")
	noToken(t, s, tokenHash(1), "after UseRefreshToken for it on an empty store (it must create nothing)")

	tok := newToken(1, family(1), u)
	createToken(t, s, tok)
	held := "on a store holding only " + describeToken(tok)
	tests := []struct{ name, hash string }{
		{"unknown hash", tokenHash(2)},
		{"hash prefix", tok.Hash[:len(tok.Hash)-1]},
		{"hash with suffix", tok.Hash + "0"},
		{"family passed as hash", tok.Family},
		{"user ID passed as hash", tok.UserID},
		{"empty", ""},
		{"SQL wildcard", "%"},
		{"SQL wildcards as long as a hash", strings.Repeat("_", len(tok.Hash))},
		{"SQL injection", `' OR '1'='1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { lookups(t, tt.hash, held) })
	}
	hasToken(t, s, tok, "after lookups of other hashes (they must change nothing)")
}

func testSessionsUse(t *testing.T, s sessionStore) {
	u := sessionUsers(t, s, 1)[0]
	tok, sibling := newToken(1, family(1), u), newToken(2, family(1), u)
	createToken(t, s, tok)
	createToken(t, s, sibling)
	hasToken(t, s, tok, "before it is used")
	hasToken(t, s, tok, "a second time (RefreshToken must not mark the token used)")

	t1 := sessionTime.Add(time.Hour)
	use(t, s, tok.Hash, t1, tok, "the first time (it must return the token as it was, unused)")
	hasToken(t, s, used(tok, t1), "after UseRefreshToken")
	use(t, s, tok.Hash, t1.Add(time.Hour), used(tok, t1), "a second time, an hour later (UsedAt must be the first use's time)")
	use(t, s, tok.Hash, t1.Add(-time.Hour), used(tok, t1), "a third time, with an earlier now (UsedAt must never change)")
	use(t, s, tok.Hash, t1, used(tok, t1), "a fourth time, at the first use's time")
	hasToken(t, s, used(tok, t1), "after four UseRefreshToken calls")
	hasToken(t, s, sibling, "for another token of the family, after UseRefreshToken of the first (a token is used, not its family)")

	t2 := t1.Add(time.Microsecond)
	use(t, s, sibling.Hash, t2, sibling, "for another token of the family, the first time")
	hasToken(t, s, used(sibling, t2), "after UseRefreshToken")
}

func testSessionsConcurrentUse(t *testing.T, s sessionStore) {
	u := sessionUsers(t, s, 1)[0]
	tok := newToken(1, family(1), u)
	createToken(t, s, tok)
	// Each call has its own now, a second apart, so that the UsedAt the
	// losers see tells which call won.
	nows := make([]time.Time, concurrency)
	for i := range nows {
		nows[i] = sessionTime.Add(time.Hour + time.Duration(i)*time.Second)
	}
	got := make([]auth.RefreshToken, concurrency)
	errs := make([]error, concurrency)
	together(concurrency, func(i int) { got[i], errs[i] = s.UseRefreshToken(t.Context(), tok.Hash, nows[i]) })
	if failures(t, "UseRefreshToken of one token", errs, busyHint) > 0 {
		return
	}

	var winners []int
	for i, r := range got {
		if r.UsedAt.IsZero() {
			winners = append(winners, i)
		}
	}
	switch {
	case len(winners) == 0:
		t.Fatalf("%d concurrent UseRefreshToken calls for one unused token: none returned UsedAt zero; want exactly 1", concurrency)
	case len(winners) > 1:
		t.Fatalf("%d concurrent UseRefreshToken calls for one unused token: %d returned UsedAt zero; want exactly 1 (the token must be marked used atomically, e.g. UPDATE ... WHERE hash = ? AND used_at IS NULL in a transaction, not read and then written)",
			concurrency, len(winners))
	}
	w := winners[0]
	checkToken(t, fmt.Sprintf("the winning concurrent UseRefreshToken(ctx, hash, %s)", fmtTime(nows[w])), got[w], nil, tok)
	wrong := 0
	for i, r := range got {
		if i == w {
			continue
		}
		if d := diffToken(r, used(tok, nows[w])); len(d) > 0 {
			if wrong++; wrong <= 5 {
				t.Errorf("concurrent UseRefreshToken(ctx, hash, %s), which lost to the call with now %s, returned a token that differs from the one expected (UsedAt must be the winner's now):\n\t%s",
					fmtTime(nows[i]), fmtTime(nows[w]), strings.Join(d, "\n\t"))
			}
		}
	}
	hasToken(t, s, used(tok, nows[w]), fmt.Sprintf("after %d concurrent UseRefreshToken calls", concurrency))
}

func testSessionsRevokeFamily(t *testing.T, s sessionStore) {
	users := sessionUsers(t, s, 2)
	famA, famB, famC := family(1), family(2), family(3)
	a1, a2, a3 := newToken(1, famA, users[0]), newToken(2, famA, users[0]), newToken(3, famA, users[0])
	b1 := newToken(4, famB, users[0])
	c1 := newToken(5, famC, users[1])
	for _, tok := range []auth.RefreshToken{a1, a2, a3, b1, c1} {
		createToken(t, s, tok)
	}
	tUse := sessionTime.Add(time.Hour)
	use(t, s, a2.Hash, tUse, a2, "before its family is revoked")
	a2 = used(a2, tUse)

	tRev := sessionTime.Add(2 * time.Hour)
	revokeFamily(t, s, famA, tRev, "")
	const why = "after RevokeFamily of its family"
	hasToken(t, s, revoked(a1, tRev), why)
	hasToken(t, s, revoked(a2, tRev), why+" (UsedAt must stay)")
	hasToken(t, s, revoked(a3, tRev), why)
	const whyOther = "after RevokeFamily of another family (it must stay live)"
	hasToken(t, s, b1, whyOther)
	hasToken(t, s, c1, whyOther)

	tUse2 := tRev.Add(time.Minute)
	use(t, s, a1.Hash, tUse2, revoked(a1, tRev), why+" (a revoked token is still marked used, and returned with its family's RevokedAt)")
	a1 = used(a1, tUse2)
	use(t, s, a2.Hash, tUse2, revoked(a2, tRev), why+", once used before")
	hasToken(t, s, revoked(a1, tRev), "after UseRefreshToken once its family was revoked")

	for _, at := range []time.Time{tRev.Add(time.Hour), tRev.Add(-time.Hour), tRev} {
		revokeFamily(t, s, famA, at, "again")
		for _, tok := range []auth.RefreshToken{a1, a2, a3} {
			hasToken(t, s, revoked(tok, tRev), fmt.Sprintf("after RevokeFamily of its family at %s and again at %s (RevokedAt must stay the first)", fmtTime(tRev), fmtTime(at)))
		}
	}

	t.Run("unknown family", func(t *testing.T) {
		for _, fam := range []string{family(9), famB[:len(famB)-1], b1.Hash, users[0].ID, "", "%", strings.Repeat("_", len(famB)), `' OR '1'='1`} {
			if err := s.RevokeFamily(t.Context(), fam, tRev); err != nil {
				t.Errorf("RevokeFamily(ctx, %s, now) of a family without tokens = %v; want nil", q(fam), err)
			}
		}
		const why = "after RevokeFamily of families that have no token (it must revoke nothing)"
		hasToken(t, s, b1, why)
		hasToken(t, s, c1, why)
	})
}

func testSessionsRevokeFamilyLaterToken(t *testing.T, s sessionStore) {
	u := sessionUsers(t, s, 1)[0]
	fam := family(1)
	first := newToken(1, fam, u)
	createToken(t, s, first)
	tUse, tRev := sessionTime.Add(time.Hour), sessionTime.Add(2*time.Hour)
	use(t, s, first.Hash, tUse, first, "")
	revokeFamily(t, s, fam, tRev, "")

	// The Service creates the successor of a token after using it; a
	// replay of the token may revoke the family in between.
	next := newToken(2, fam, u)
	createToken(t, s, next)
	const why = "for a token created in its family after RevokeFamily (RevokedAt is the family's, whenever its tokens were created)"
	hasToken(t, s, revoked(next, tRev), why)
	use(t, s, next.Hash, tRev.Add(time.Minute), revoked(next, tRev), why)
	hasToken(t, s, revoked(used(first, tUse), tRev), "for the token used before its family was revoked")
}

func testSessionsRevokeSessions(t *testing.T, s sessionStore) {
	users := sessionUsers(t, s, 3)
	alice, bob, carol := users[0], users[1], users[2]
	a1, a2 := newToken(1, family(1), alice), newToken(2, family(1), alice)
	b1 := newToken(3, family(2), alice) // alice's second session
	c1 := newToken(4, family(3), bob)
	for _, tok := range []auth.RefreshToken{a1, a2, b1, c1} {
		createToken(t, s, tok)
	}
	t0, t1 := sessionTime.Add(time.Hour), sessionTime.Add(2*time.Hour)
	revokeFamily(t, s, b1.Family, t0, "")

	revokeSessions(t, s, alice.ID, t1, "")
	const why = "after RevokeSessions of its user"
	hasToken(t, s, revoked(a1, t1), why)
	hasToken(t, s, revoked(a2, t1), why)
	hasToken(t, s, revoked(b1, t0), why+", its family revoked earlier (RevokedAt must stay, as with RevokeFamily)")
	hasToken(t, s, c1, "after RevokeSessions of another user (it must stay live)")
	revokedAt(t, s, alice.ID, t1, "after RevokeSessions")
	revokedAt(t, s, bob.ID, time.Time{}, "after RevokeSessions of another user")

	// A session started after RevokeSessions is live, until the next.
	d1 := newToken(5, family(4), alice)
	d1.IssuedAt = t1.Add(time.Minute)
	createToken(t, s, d1)
	hasToken(t, s, d1, "for a token of a family created after RevokeSessions of its user (a new session is live)")
	tEarly := t1.Add(-time.Hour)
	revokeSessions(t, s, alice.ID, tEarly, "again, an hour before the first (as a replica with a slow clock would)")
	hasToken(t, s, revoked(d1, tEarly), "after a second RevokeSessions of its user, at an earlier time (every live family of the user is revoked at now, whatever the user's revocation time)")
	hasToken(t, s, revoked(a1, t1), "after a second RevokeSessions of its user (RevokedAt must stay the first)")
	hasToken(t, s, c1, "after RevokeSessions of another user, twice")

	revokeSessions(t, s, carol.ID, t1, "for a user without tokens")
	revokedAt(t, s, carol.ID, t1, "after RevokeSessions of a user without tokens (the time must be recorded all the same)")
	revokedAt(t, s, bob.ID, time.Time{}, "after RevokeSessions of other users")
}

func testSessionsRevokedAt(t *testing.T, s sessionStore) {
	users := sessionUsers(t, s, 2)
	alice, bob := users[0], users[1]
	revokedAt(t, s, alice.ID, time.Time{}, "for a user never revoked")
	t1 := sessionTime.Add(time.Hour)
	revokeSessions(t, s, alice.ID, t1, "")
	revokedAt(t, s, alice.ID, t1, "after RevokeSessions")
	revokedAt(t, s, bob.ID, time.Time{}, "for another user, after RevokeSessions of the first")

	steps := []struct {
		at, want time.Time
		why      string
	}{
		{t1.Add(time.Hour), t1.Add(time.Hour), "a later RevokeSessions (the time must move forward)"},
		{t1, t1.Add(time.Hour), "an earlier RevokeSessions (the time must not move back)"},
		{t1.Add(time.Hour), t1.Add(time.Hour), "RevokeSessions at the recorded time"},
		{t1.Add(time.Hour + time.Microsecond), t1.Add(time.Hour + time.Microsecond), "RevokeSessions a microsecond later"},
		{t1.Add(time.Hour), t1.Add(time.Hour + time.Microsecond), "RevokeSessions a microsecond earlier"},
	}
	for _, st := range steps {
		revokeSessions(t, s, alice.ID, st.at, "")
		revokedAt(t, s, alice.ID, st.want, fmt.Sprintf("after %s at %s", st.why, fmtTime(st.at)))
	}
}

func testSessionsDeleteExpired(t *testing.T, s sessionStore) {
	users := sessionUsers(t, s, 2)
	alice, bob := users[0], users[1]
	now := sessionTime.Add(tokenLife)
	tz := time.FixedZone("UTC-7", -7*3600)
	// expiring returns the token numbered n of family fam and user u,
	// expiring at exp.
	expiring := func(n int, fam int, u auth.User, exp time.Time) auth.RefreshToken {
		tok := newToken(n, family(fam), u)
		tok.IssuedAt, tok.ExpiresAt = exp.Add(-tokenLife), exp
		return tok
	}
	expired := []auth.RefreshToken{
		expiring(1, 1, alice, now.Add(-time.Hour)),
		expiring(2, 2, alice, now.Add(-time.Microsecond)),
		expiring(3, 2, alice, now),
		expiring(4, 3, bob, now.In(time.FixedZone("IST", 5*3600+1800))),
		expiring(5, 4, bob, time.Date(1969, time.December, 31, 23, 59, 59, 999999000, time.UTC)),
	}
	kept := []auth.RefreshToken{
		expiring(6, 1, alice, now.Add(time.Microsecond)),
		expiring(7, 3, bob, now.Add(time.Hour).In(tz)),
		expiring(8, 5, alice, time.Date(2040, time.February, 29, 12, 0, 0, 1000, time.UTC)),
	}
	for _, tok := range append(append([]auth.RefreshToken(nil), expired...), kept...) {
		createToken(t, s, tok)
	}
	tUse, tRev := now.Add(-2*time.Hour), now.Add(-time.Hour)
	use(t, s, expired[0].Hash, tUse, expired[0], "")
	use(t, s, kept[0].Hash, tUse, kept[0], "")
	kept[0] = used(kept[0], tUse)
	revokeFamily(t, s, kept[1].Family, tRev, "")
	kept[1] = revoked(kept[1], tRev)

	n, err := s.DeleteExpiredRefreshTokens(t.Context(), now.In(tz))
	call := fmt.Sprintf("DeleteExpiredRefreshTokens(ctx, %s)", fmtTime(now))
	switch {
	case err != nil:
		t.Fatalf("%s = %v; want (%d, nil)", call, err, len(expired))
	case n != int64(len(expired)):
		t.Errorf("%s = %d; want %d, the number of tokens whose ExpiresAt is not after now (ExpiresAt equal to now included)", call, n, len(expired))
	}
	for _, tok := range expired {
		noToken(t, s, tok.Hash, fmt.Sprintf("after %s, for a token that expired at %s (it must be deleted)", call, fmtTime(tok.ExpiresAt)))
	}
	for _, tok := range kept {
		hasToken(t, s, tok, fmt.Sprintf("after %s, for a token that expires at %s (it must be kept as it was)", call, fmtTime(tok.ExpiresAt)))
	}

	if n, err := s.DeleteExpiredRefreshTokens(t.Context(), now); err != nil || n != 0 {
		t.Errorf("%s a second time = (%d, %v); want (0, nil)", call, n, err)
	}
	// The family of a deleted token that has tokens left is still there.
	tRev2 := now.Add(time.Minute)
	revokeFamily(t, s, kept[0].Family, tRev2, "after DeleteExpiredRefreshTokens deleted another token of the family")
	hasToken(t, s, revoked(kept[0], tRev2), "after RevokeFamily of its family, one of whose tokens was deleted")

	later := time.Date(2041, time.January, 1, 0, 0, 0, 0, time.UTC)
	if n, err := s.DeleteExpiredRefreshTokens(t.Context(), later); err != nil || n != int64(len(kept)) {
		t.Errorf("DeleteExpiredRefreshTokens(ctx, %s), after every token expired = (%d, %v); want (%d, nil)", fmtTime(later), n, err, len(kept))
	}
	for _, tok := range kept {
		noToken(t, s, tok.Hash, fmt.Sprintf("after DeleteExpiredRefreshTokens(ctx, %s)", fmtTime(later)))
	}
}

// testSessionsDoneContext returns a test that every method of the
// ability fails with an error wrapping want when called with a context
// from done, and changes nothing.
func testSessionsDoneContext(want error, wantName string, done func(t *testing.T) context.Context) func(t *testing.T, s sessionStore) {
	return func(t *testing.T, s sessionStore) {
		check := func(t *testing.T, call string, err error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Errorf("%s with a context whose Err() is %s = %v; want an error wrapping %s (check ctx.Err() first, or pass ctx to every call that can block)",
					call, wantName, err, wantName)
			}
		}
		u := sessionUsers(t, s, 1)[0]
		tok := newToken(1, family(1), u)
		createToken(t, s, tok)
		now := sessionTime.Add(time.Hour)
		unchanged := func(t *testing.T, method string) {
			t.Helper()
			hasToken(t, s, tok, "after "+method+" with a done context (it must change nothing)")
		}

		t.Run("CreateRefreshToken", func(t *testing.T) {
			other := newToken(2, family(2), u)
			check(t, fmt.Sprintf("CreateRefreshToken(ctx, %s)", describeToken(other)), s.CreateRefreshToken(done(t), other))
			noToken(t, s, other.Hash, "after CreateRefreshToken with a done context (it must store nothing)")
		})
		t.Run("UseRefreshToken", func(t *testing.T) {
			_, err := s.UseRefreshToken(done(t), tok.Hash, now)
			check(t, fmt.Sprintf("UseRefreshToken(ctx, %s, now) for a stored token", short(tok.Hash)), err)
			unchanged(t, "UseRefreshToken")
		})
		t.Run("RefreshToken", func(t *testing.T) {
			_, err := s.RefreshToken(done(t), tok.Hash)
			check(t, fmt.Sprintf("RefreshToken(ctx, %s) for a stored token", short(tok.Hash)), err)
		})
		t.Run("RevokeFamily", func(t *testing.T) {
			check(t, fmt.Sprintf("RevokeFamily(ctx, %s, now)", short(tok.Family)), s.RevokeFamily(done(t), tok.Family, now))
			unchanged(t, "RevokeFamily")
		})
		t.Run("RevokeSessions", func(t *testing.T) {
			check(t, fmt.Sprintf("RevokeSessions(ctx, %s, now)", q(u.ID)), s.RevokeSessions(done(t), u.ID, now))
			unchanged(t, "RevokeSessions")
			revokedAt(t, s, u.ID, time.Time{}, "after RevokeSessions with a done context (it must record nothing)")
		})
		t.Run("SessionsRevokedAt", func(t *testing.T) {
			_, err := s.SessionsRevokedAt(done(t), u.ID)
			check(t, fmt.Sprintf("SessionsRevokedAt(ctx, %s)", q(u.ID)), err)
		})
		t.Run("DeleteExpiredRefreshTokens", func(t *testing.T) {
			_, err := s.DeleteExpiredRefreshTokens(done(t), tok.ExpiresAt.Add(time.Hour))
			check(t, "DeleteExpiredRefreshTokens(ctx, now) with every token expired", err)
			unchanged(t, "DeleteExpiredRefreshTokens")
		})
	}
}
