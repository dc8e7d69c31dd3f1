package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"slices"
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
	{"SessionsGeneration", testSessionsGeneration},
	{"SessionsGenerationGuard", testSessionsGenerationGuard},
	{"SessionsConcurrentRevoke", testSessionsConcurrentRevoke},
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

// createUsers creates n users, numbered 1 to n, with the emails
// prefix1@example.com to prefixn@example.com, and returns them.
func createUsers(t *testing.T, s auth.UserStore, prefix string, n int) []auth.User {
	t.Helper()
	users := make([]auth.User, n)
	for i := range users {
		users[i] = newUser(i+1, fmt.Sprintf("%s%d@example.com", prefix, i+1))
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

// generation returns the user's session generation, and fails the test
// if SessionGeneration fails.
func generation(t *testing.T, s auth.SessionStore, userID string) int64 {
	t.Helper()
	g, err := s.SessionGeneration(t.Context(), userID)
	if err != nil {
		t.Fatalf("SessionGeneration(ctx, %s) = %v; want the user's generation", q(userID), err)
	}
	return g
}

// checkGeneration checks that SessionGeneration returns want, and
// reports whether it did.
func checkGeneration(t *testing.T, s auth.SessionStore, userID string, want int64, why string) bool {
	t.Helper()
	got, err := s.SessionGeneration(t.Context(), userID)
	call := fmt.Sprintf("SessionGeneration(ctx, %s) %s", q(userID), why)
	switch {
	case err != nil:
		t.Errorf("%s = %v; want (%d, nil)", call, err, want)
	case got != want:
		t.Errorf("%s = %d; want %d (it starts at 0, and each RevokeSessions of the user, and only that, adds 1)", call, got, want)
	default:
		return true
	}
	return false
}

// createToken stores tok under its user's current generation and fails
// the test if that fails.
func createToken(t *testing.T, s auth.SessionStore, tok auth.RefreshToken) {
	t.Helper()
	gen := generation(t, s, tok.UserID)
	if err := s.CreateRefreshToken(t.Context(), tok, gen); err != nil {
		t.Fatalf("CreateRefreshToken(ctx, %s, %d), with the user's generation, = %v; want nil", describeToken(tok), gen, err)
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

// oneWinner checks the errors of concurrent calls of which exactly one
// must succeed, each other failing with an error wrapping loser, as when
// they contend for one row. It reports the first few errors that are
// neither nil nor loser (a busy or locked database must be waited for,
// not reported), fails the test now unless exactly one call returned nil
// (hint says how a store makes sure), and returns the index of the one
// that did. call describes the calls, in terms of #i, their index in errs.
func oneWinner(t *testing.T, call string, errs []error, loser error, hint string) int {
	t.Helper()
	const show = 5
	var winners []int
	wrong := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners = append(winners, i)
		case !errors.Is(err, loser):
			if wrong++; wrong <= show {
				t.Errorf("concurrent %s: #%d = %v; want nil or an error wrapping %s (%d calls ran at once; %s)",
					call, i, err, errName(loser), len(errs), busyHint)
			}
		}
	}
	if wrong > show {
		t.Errorf("concurrent %s: %d more calls returned an error that does not wrap %s", call, wrong-show, errName(loser))
	}
	switch len(winners) {
	case 0:
		t.Fatalf("%d concurrent %s: none returned nil; want exactly 1 (%s)", len(errs), call, hint)
	case 1:
		return winners[0]
	}
	t.Fatalf("%d concurrent %s: %d returned nil (#%v); want exactly 1 (%s)", len(errs), call, len(winners), winners, hint)
	return -1
}

// errName names err, one of the auth sentinels the kit expects, for a
// message.
func errName(err error) string {
	switch err {
	case auth.ErrNotFound:
		return "auth.ErrNotFound"
	case auth.ErrDuplicateEmail:
		return "auth.ErrDuplicateEmail"
	}
	return fmt.Sprintf("%q", err)
}

func testSessionsCreateThenLookup(t *testing.T, s sessionStore) {
	u := createUsers(t, s, "session", 1)[0]
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
	users := createUsers(t, s, "session", 2)
	tok := newToken(1, family(1), users[0])
	createToken(t, s, tok)

	other := newToken(2, family(2), users[1])
	other.Hash = tok.Hash
	gen := generation(t, s, other.UserID)
	if err := s.CreateRefreshToken(t.Context(), other, gen); err != nil {
		t.Errorf("CreateRefreshToken(ctx, %s, %d) with the hash of a stored token and other fields, and its user's generation, = %v; want nil (the Service may create a token more than once)",
			describeToken(other), gen, err)
	}
	hasToken(t, s, tok, "after CreateRefreshToken with its hash and other fields (it must change nothing)")

	t1, t2 := sessionTime.Add(time.Hour), sessionTime.Add(2*time.Hour)
	use(t, s, tok.Hash, t1, tok, "for the first time")
	revokeFamily(t, s, tok.Family, t2, "")
	for _, again := range []auth.RefreshToken{tok, other} {
		gen := generation(t, s, again.UserID)
		if err := s.CreateRefreshToken(t.Context(), again, gen); err != nil {
			t.Errorf("CreateRefreshToken(ctx, %s, %d) with the hash of a stored token that is used and revoked, and its user's generation, = %v; want nil",
				describeToken(again), gen, err)
		}
	}
	hasToken(t, s, revoked(used(tok, t1), t2), "after CreateRefreshToken with its hash, once used and revoked (it must change nothing)")
}

func testSessionsConcurrentCreate(t *testing.T, s sessionStore) {
	u := createUsers(t, s, "session", 1)[0]
	gen := generation(t, s, u.ID)

	t.Run("one token", func(t *testing.T) {
		tok := newToken(1, family(1), u)
		errs := make([]error, concurrency)
		together(concurrency, func(i int) { errs[i] = s.CreateRefreshToken(t.Context(), tok, gen) })
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
		together(concurrency, func(i int) { errs[i] = s.CreateRefreshToken(t.Context(), toks[i], gen) })
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
	u := createUsers(t, s, "session", 1)[0]
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
	u := createUsers(t, s, "session", 1)[0]
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
	u := createUsers(t, s, "session", 1)[0]
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
	users := createUsers(t, s, "session", 2)
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
	u := createUsers(t, s, "session", 1)[0]
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
	users := createUsers(t, s, "session", 3)
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
	checkGeneration(t, s, alice.ID, 1, "after RevokeSessions")
	checkGeneration(t, s, bob.ID, 0, "after RevokeSessions of another user")

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
	checkGeneration(t, s, alice.ID, 2, "after a second RevokeSessions")

	revokeSessions(t, s, carol.ID, t1, "for a user without tokens")
	checkGeneration(t, s, carol.ID, 1, "after RevokeSessions of a user without tokens (it must be incremented all the same)")
	checkGeneration(t, s, bob.ID, 0, "after RevokeSessions of other users")
}

func testSessionsGeneration(t *testing.T, s sessionStore) {
	users := createUsers(t, s, "session", 2)
	alice, bob := users[0], users[1]
	checkGeneration(t, s, alice.ID, 0, "for a user never revoked")
	checkGeneration(t, s, bob.ID, 0, "for a user never revoked")
	for _, id := range []string{newUser(9, "").ID, alice.ID[:len(alice.ID)-1], alice.Email, "", "%"} {
		got, err := s.SessionGeneration(t.Context(), id)
		wantNotFound(t, fmt.Sprintf("SessionGeneration(ctx, %s) for a user ID no user has", q(id)), err,
			fmt.Sprintf("got %d; a user that does not exist has no generation", got))
	}
	createToken(t, s, newToken(1, family(1), alice))

	t1 := sessionTime.Add(time.Hour)
	revokeSessions(t, s, alice.ID, t1, "")
	checkGeneration(t, s, alice.ID, 1, "after RevokeSessions")
	checkGeneration(t, s, bob.ID, 0, "for another user, after RevokeSessions of the first (each user has a generation of its own)")
	revokeSessions(t, s, bob.ID, t1, "for a user without tokens")
	checkGeneration(t, s, bob.ID, 1, "after RevokeSessions of a user without tokens (it must be incremented all the same)")
	checkGeneration(t, s, alice.ID, 1, "after RevokeSessions of another user")

	// Every call adds 1, whatever its now: RevokeSessions records no time
	// to compare with.
	steps := []struct {
		at  time.Time
		why string
	}{
		{t1.Add(time.Hour), "a later RevokeSessions"},
		{t1, "an earlier RevokeSessions (as a replica with a slow clock would call it)"},
		{t1, "RevokeSessions at the same time"},
		{t1.Add(time.Microsecond), "RevokeSessions a microsecond later"},
	}
	want := int64(1)
	for _, st := range steps {
		revokeSessions(t, s, alice.ID, st.at, "")
		want++
		checkGeneration(t, s, alice.ID, want, fmt.Sprintf("after %s at %s, with no live family left", st.why, fmtTime(st.at)))
	}
	checkGeneration(t, s, bob.ID, 1, "after RevokeSessions of another user")

	createToken(t, s, newToken(2, family(2), alice))
	revokeFamily(t, s, family(2), t1, "")
	checkGeneration(t, s, alice.ID, want, "after RevokeFamily of one of the user's families (only RevokeSessions changes the generation)")
	if _, err := s.UseRefreshToken(t.Context(), tokenHash(2), t1); err != nil {
		t.Fatalf("UseRefreshToken(ctx, %s, %s) = %v; want the token", short(tokenHash(2)), fmtTime(t1), err)
	}
	if _, err := s.DeleteExpiredRefreshTokens(t.Context(), t1.Add(2*tokenLife)); err != nil {
		t.Fatalf("DeleteExpiredRefreshTokens(ctx, now) = %v; want nil", err)
	}
	checkGeneration(t, s, alice.ID, want, "after UseRefreshToken and DeleteExpiredRefreshTokens of every token of the user (only RevokeSessions changes the generation)")
}

// guardHint says how a store makes CreateRefreshToken's check atomic
// with RevokeSessions.
const guardHint = "check the user and its generation in the transaction that inserts the token, and lock the user's row (SELECT ... FOR UPDATE/FOR SHARE) in both CreateRefreshToken and RevokeSessions, so that a RevokeSessions cannot run between the check and the insert"

func testSessionsGenerationGuard(t *testing.T, s sessionStore) {
	users := createUsers(t, s, "session", 2)
	alice, bob := users[0], users[1]
	// refused checks that CreateRefreshToken(tok, gen) fails with an
	// error wrapping want (named wantName).
	refused := func(t *testing.T, tok auth.RefreshToken, gen int64, want error, wantName, why, hint string) string {
		t.Helper()
		err := s.CreateRefreshToken(t.Context(), tok, gen)
		call := fmt.Sprintf("CreateRefreshToken(ctx, %s, %d) %s", describeToken(tok), gen, why)
		switch {
		case err == nil:
			t.Errorf("%s = nil; want an error wrapping %s (%s)", call, wantName, hint)
		case !errors.Is(err, want):
			t.Errorf("%s = %v; want an error wrapping %s (errors.Is(err, %s) is false)", call, err, wantName, wantName)
		}
		return call
	}
	// revokedGen checks that CreateRefreshToken(tok, gen), with a generation
	// that is not the user's, fails with an error wrapping
	// auth.ErrSessionsRevoked and stores nothing.
	revokedGen := func(t *testing.T, tok auth.RefreshToken, gen int64, why, hint string) {
		t.Helper()
		call := refused(t, tok, gen, auth.ErrSessionsRevoked, "auth.ErrSessionsRevoked", why, hint)
		noToken(t, s, tok.Hash, "after "+call+" (it must store nothing)")
	}
	const equalHint = "the generation passed must be the user's: compare with =, and " + guardHint

	a1 := newToken(1, family(1), alice)
	revokedGen(t, a1, 1, "for a user whose generation is 0 (a larger generation than the user's)", equalHint)

	for i, id := range []string{newUser(9, "").ID, alice.ID[:len(alice.ID)-1], "", "%"} {
		tok := newToken(10+i, family(10+i), alice)
		tok.UserID = id
		call := refused(t, tok, 0, auth.ErrNotFound, "auth.ErrNotFound", fmt.Sprintf("for user ID %s, which no user has", q(id)),
			"the user must exist: "+guardHint)
		noToken(t, s, tok.Hash, "after "+call+" (it must store nothing)")
	}

	if err := s.CreateRefreshToken(t.Context(), a1, 0); err != nil {
		t.Fatalf("CreateRefreshToken(ctx, %s, 0) for a user never revoked = %v; want nil (a user's generation starts at 0)", describeToken(a1), err)
	}
	hasToken(t, s, a1, "after CreateRefreshToken with the user's generation")

	t1 := sessionTime.Add(time.Hour)
	revokeSessions(t, s, alice.ID, t1, "")
	if !checkGeneration(t, s, alice.ID, 1, "after RevokeSessions") {
		t.FailNow()
	}
	const staleHint = "a login that read the account before RevokeSessions must get no session: " + guardHint

	// The Service may create a token again; after RevokeSessions that must
	// fail too.
	refused(t, a1, 0, auth.ErrSessionsRevoked, "auth.ErrSessionsRevoked",
		"with the hash of a stored token, after RevokeSessions took the user's generation to 1",
		"the generation is checked before the check for an existing token: "+guardHint)
	hasToken(t, s, revoked(a1, t1), "after a refused CreateRefreshToken with its hash (it must change nothing)")

	a2 := newToken(2, family(1), alice)
	revokedGen(t, a2, 0, "for the successor of a stored token, after RevokeSessions took the user's generation to 1", staleHint)
	c1 := newToken(3, family(3), alice)
	revokedGen(t, c1, 0, "for a new family, after RevokeSessions took the user's generation to 1", staleHint)
	revokedGen(t, c1, 2, "for a new family, after RevokeSessions took the user's generation to 1 (a larger generation than the user's)", equalHint)
	if err := s.CreateRefreshToken(t.Context(), c1, 1); err != nil {
		t.Errorf("CreateRefreshToken(ctx, %s, 1), after RevokeSessions took the user's generation to 1, = %v; want nil (a login after RevokeSessions gets a session)", describeToken(c1), err)
	} else {
		hasToken(t, s, c1, "for a token created under the generation RevokeSessions moved to (it must be live)")
	}

	b1 := newToken(4, family(4), bob)
	revokedGen(t, b1, 1, "for a user never revoked, with the generation of another user (each user has a generation of its own)", equalHint)
	if err := s.CreateRefreshToken(t.Context(), b1, 0); err != nil {
		t.Errorf("CreateRefreshToken(ctx, %s, 0) for a user never revoked, after RevokeSessions of another user, = %v; want nil (each user has a generation of its own)", describeToken(b1), err)
	} else {
		hasToken(t, s, b1, "after CreateRefreshToken with the user's generation")
	}
}

// revokeRounds is the number of rounds of SessionsConcurrentRevoke.
const revokeRounds = 10

func testSessionsConcurrentRevoke(t *testing.T, s sessionStore) {
	u := createUsers(t, s, "session", 1)[0]
	var before, refusedN, after int // outcomes, for the log
	for r := range revokeRounds {
		// In each round concurrency logins read the generation and then
		// create the first token of a session with it (yielding in
		// between, where the Service checks the password), while a
		// password change calls RevokeSessions. The logins come in three
		// groups, so that every round has calls of each kind meet in the
		// store: RevokeSessions starts once the early half are calling
		// CreateRefreshToken, with the old generation; the late logins,
		// which also read it, call CreateRefreshToken as RevokeSessions
		// starts; and the last fifth read the generation only then.
		const early, last = concurrency / 2, concurrency - concurrency/5
		now := sessionTime.Add(time.Duration(r+1) * time.Hour)
		toks := make([]auth.RefreshToken, concurrency)
		for i := range toks {
			n := 1000*(r+1) + i
			toks[i] = newToken(n, family(n), u)
		}
		gens := make([]int64, concurrency)
		genErrs, errs := make([]error, concurrency), make([]error, concurrency)
		var revokeErr error
		creating, revoking := make(chan struct{}, early), make(chan struct{})
		together(concurrency+1, func(i int) {
			switch {
			case i == concurrency:
				for range early {
					<-creating
				}
				close(revoking)
				revokeErr = s.RevokeSessions(t.Context(), u.ID, now)
				return
			case i >= last:
				<-revoking
			}
			gens[i], genErrs[i] = s.SessionGeneration(t.Context(), u.ID)
			runtime.Gosched()
			switch {
			case i < early:
				creating <- struct{}{}
			case i < last:
				<-revoking
			}
			if genErrs[i] == nil {
				errs[i] = s.CreateRefreshToken(t.Context(), toks[i], gens[i])
			}
		})

		setup := fmt.Sprintf("In round %d of %d, %d goroutines each called SessionGeneration(ctx, %s) and then CreateRefreshToken with the generation it returned, while RevokeSessions(ctx, %s, %s) ran, from when %d of them were calling CreateRefreshToken.",
			r+1, revokeRounds, concurrency, q(u.ID), q(u.ID), fmtTime(now), early)
		round := fmt.Sprintf("in round %d", r+1)
		if revokeErr != nil || slices.ContainsFunc(genErrs, func(err error) bool { return err != nil }) {
			t.Log(setup)
		}
		if revokeErr != nil {
			t.Fatalf("RevokeSessions %s = %v; want nil (%s)", round, revokeErr, busyHint)
		}
		if failures(t, "SessionGeneration "+round+",", genErrs, busyHint) > 0 {
			return
		}
		g := generation(t, s, u.ID)
		if g != int64(r+1) {
			t.Fatalf("SessionGeneration(ctx, %s) after round %d of %d, each with one RevokeSessions, = %d; want %d (RevokeSessions must increment it atomically, also while CreateRefreshToken calls run)",
				q(u.ID), r+1, revokeRounds, g, r+1)
		}

		shown := 0
		report := func(format string, args ...any) {
			t.Helper()
			if shown == 0 {
				t.Log(setup)
			}
			if shown++; shown <= 5 {
				t.Errorf(format, args...)
			}
		}
		for i, tok := range toks {
			call := fmt.Sprintf("CreateRefreshToken(ctx, %s, %d)", describeToken(tok), gens[i])
			if gens[i] != g && gens[i] != g-1 {
				report("SessionGeneration(ctx, %s) %s = %d; want %d or %d (the generation before or after RevokeSessions)", q(u.ID), round, gens[i], g-1, g)
				continue
			}
			if err := errs[i]; err != nil {
				switch {
				case !errors.Is(err, auth.ErrSessionsRevoked):
					report("%s %s = %v; want nil or an error wrapping auth.ErrSessionsRevoked (%s)", call, round, err, busyHint)
				case gens[i] == g:
					report("%s %s = %v; want nil: %d is the generation RevokeSessions took the user to, and only a generation it moved past may be refused", call, round, err, g)
				default:
					refusedN++
				}
				// A lookup that wrongly returns no error is SessionsNotFound's
				// to report: here only a token stored matters.
				got, lerr := s.RefreshToken(t.Context(), tok.Hash)
				switch {
				case lerr == nil && got.Hash == tok.Hash:
					report("%s %s = %v, and then RefreshToken(ctx, %s) = %s; want an error wrapping auth.ErrNotFound (a refused token must not be stored)",
						call, round, err, short(tok.Hash), describeToken(got))
				case lerr != nil && !errors.Is(lerr, auth.ErrNotFound):
					report("%s %s = %v, and then RefreshToken(ctx, %s) = %v; want an error wrapping auth.ErrNotFound", call, round, err, short(tok.Hash), lerr)
				}
				continue
			}
			want := tok
			if gens[i] < g {
				want = revoked(tok, now)
				before++
			} else {
				after++
			}
			got, err := s.RefreshToken(t.Context(), tok.Hash)
			switch {
			case err != nil:
				report("%s %s returned nil, and then RefreshToken(ctx, %s) = %v; want %s", call, round, short(tok.Hash), err, describeToken(want))
			case gens[i] < g && got.RevokedAt.IsZero():
				report("%s %s returned nil, and then RefreshToken(ctx, %s) = %s; want RevokedAt %s: the token was stored under generation %d, so RevokeSessions, which took the generation to %d, came after and must have revoked its family; or else the token must be refused with auth.ErrSessionsRevoked (the check and the insert must be atomic with respect to RevokeSessions: %s)",
					call, round, short(tok.Hash), describeToken(got), fmtTime(now), gens[i], g, guardHint)
			default:
				if d := diffToken(got, want); len(d) > 0 {
					report("%s %s returned nil, and then RefreshToken(ctx, %s) returned a token that differs from the one expected:\n\t%s",
						call, round, short(tok.Hash), strings.Join(d, "\n\t"))
				}
			}
		}
		if shown > 5 {
			t.Errorf("... and %d more failures %s", shown-5, round)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d rounds of %d CreateRefreshToken calls, each concurrent with a RevokeSessions: %d created before the RevokeSessions (and then revoked), %d refused, %d created after it",
		revokeRounds, concurrency, before, refusedN, after)
}

func testSessionsDeleteExpired(t *testing.T, s sessionStore) {
	users := createUsers(t, s, "session", 2)
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
		check := doneCheck(want, wantName)
		u := createUsers(t, s, "session", 1)[0]
		tok := newToken(1, family(1), u)
		createToken(t, s, tok)
		gen := generation(t, s, u.ID)
		now := sessionTime.Add(time.Hour)
		unchanged := func(t *testing.T, method string) {
			t.Helper()
			hasToken(t, s, tok, "after "+method+" with a done context (it must change nothing)")
		}

		t.Run("CreateRefreshToken", func(t *testing.T) {
			other := newToken(2, family(2), u)
			check(t, fmt.Sprintf("CreateRefreshToken(ctx, %s, %d), with the user's generation,", describeToken(other), gen), s.CreateRefreshToken(done(t), other, gen))
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
			checkGeneration(t, s, u.ID, gen, "after RevokeSessions with a done context (it must not be incremented)")
		})
		t.Run("SessionGeneration", func(t *testing.T) {
			_, err := s.SessionGeneration(done(t), u.ID)
			check(t, fmt.Sprintf("SessionGeneration(ctx, %s)", q(u.ID)), err)
		})
		t.Run("DeleteExpiredRefreshTokens", func(t *testing.T) {
			_, err := s.DeleteExpiredRefreshTokens(done(t), tok.ExpiresAt.Add(time.Hour))
			check(t, "DeleteExpiredRefreshTokens(ctx, now) with every token expired", err)
			unchanged(t, "DeleteExpiredRefreshTokens")
		})
	}
}
