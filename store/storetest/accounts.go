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

// accountStore is what the subtests of the auth.AccountStore ability
// use: the ability and the users it changes.
type accountStore interface {
	auth.UserStore
	auth.AccountStore
}

// accountTests are the subtests of the auth.AccountStore ability, run by
// Run after the SessionStore ones.
var accountTests = []abilityTest[accountStore]{
	{"AccountsFlags", testAccountsFlags},
	{"AccountsUpdateName", testAccountsUpdateName},
	{"AccountsUpdateEmail", testAccountsUpdateEmail},
	{"AccountsConcurrentUpdateEmail", testAccountsConcurrentUpdateEmail},
	{"AccountsSetDisabled", testAccountsSetDisabled},
	{"AccountsDeleteUser", testAccountsDeleteUser},
	{"AccountsConcurrentDeleteUser", testAccountsConcurrentDeleteUser},
	{"AccountsListUsers", testAccountsListUsers},
	{"AccountsOneTimeUse", testAccountsOneTimeUse},
	{"AccountsOneTimePurpose", testAccountsOneTimePurpose},
	{"AccountsOneTimeCreate", testAccountsOneTimeCreate},
	{"AccountsOneTimeConcurrentUse", testAccountsOneTimeConcurrentUse},
	{"AccountsDeleteOneTimeTokens", testAccountsDeleteOneTimeTokens},
	{"AccountsDeleteExpiredOneTimeTokens", testAccountsDeleteExpiredOneTimeTokens},
	{"AccountsCanceledContext", testAccountsDoneContext(context.Canceled, "context.Canceled", canceledContext)},
	{"AccountsExpiredContext", testAccountsDoneContext(context.DeadlineExceeded, "context.DeadlineExceeded", expiredContext)},
}

// The purposes of the Service's one-time tokens.
const (
	purposeVerify = "verify_email"
	purposeReset  = "reset_password"
	purposeChange = "change_email"
)

// oneTimeLife is how long the one-time tokens of the account tests live.
const oneTimeLife = time.Hour

// oneTimeHash returns a one-time token hash numbered n, of the form the
// Service uses: 64 lower-case hex digits.
func oneTimeHash(n int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "storetest one-time token %d", n))
	return hex.EncodeToString(sum[:])
}

// newOneTime returns the token numbered n of the purpose for u, sent to
// u's email, created n minutes after sessionTime.
func newOneTime(n int, purpose string, u auth.User) auth.OneTimeToken {
	created := sessionTime.Add(time.Duration(n) * time.Minute)
	return auth.OneTimeToken{
		Hash:      oneTimeHash(n),
		Purpose:   purpose,
		UserID:    u.ID,
		Email:     u.Email,
		CreatedAt: created,
		ExpiresAt: created.Add(oneTimeLife),
	}
}

func describeOneTime(tok auth.OneTimeToken) string {
	return fmt.Sprintf("{Hash: %s, Purpose: %s, UserID: %s, Email: %s}", short(tok.Hash), q(tok.Purpose), q(tok.UserID), q(tok.Email))
}

// diffOneTime lists the fields in which got differs from want: strings
// byte for byte, times to within a microsecond.
func diffOneTime(got, want auth.OneTimeToken) []string {
	var d []string
	str := func(field, got, want string) {
		if got != want {
			d = append(d, fmt.Sprintf("%s = %s, want %s", field, q(got), q(want)))
		}
	}
	tm := func(field string, got, want time.Time) {
		if !sameInstant(got, want) {
			d = append(d, fmt.Sprintf("%s = %s, want %s (to within 1µs)", field, fmtTime(got), fmtTime(want)))
		}
	}
	str("Hash", got.Hash, want.Hash)
	str("Purpose", got.Purpose, want.Purpose)
	str("UserID", got.UserID, want.UserID)
	str("Email", got.Email, want.Email)
	tm("CreatedAt", got.CreatedAt, want.CreatedAt)
	tm("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	return d
}

// createOneTime stores tok and fails the test if that fails.
func createOneTime(t *testing.T, s auth.AccountStore, tok auth.OneTimeToken) {
	t.Helper()
	if err := s.CreateOneTimeToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateOneTimeToken(ctx, %s) = %v; want nil", describeOneTime(tok), err)
	}
}

// useOneTime calls UseOneTimeToken with want's hash and purpose and checks
// that it returns want.
func useOneTime(t *testing.T, s auth.AccountStore, want auth.OneTimeToken, why string) {
	t.Helper()
	call := fmt.Sprintf("UseOneTimeToken(ctx, %s, %s) %s", short(want.Hash), q(want.Purpose), why)
	got, err := s.UseOneTimeToken(t.Context(), want.Hash, want.Purpose)
	if err != nil {
		t.Errorf("%s = %v; want %s", call, err, describeOneTime(want))
		return
	}
	if d := diffOneTime(got, want); len(d) > 0 {
		t.Errorf("%s returned a token that differs from the one created:\n\t%s", call, strings.Join(d, "\n\t"))
	}
}

// noOneTime checks that UseOneTimeToken finds no token with this hash and
// purpose (and so deletes none).
func noOneTime(t *testing.T, s auth.AccountStore, hash, purpose, why string) {
	t.Helper()
	got, err := s.UseOneTimeToken(t.Context(), hash, purpose)
	wantNotFound(t, fmt.Sprintf("UseOneTimeToken(ctx, %s, %s) %s", short(hash), q(purpose), why), err,
		"it returned "+describeOneTime(got))
}

// wantNotFound checks that err, returned by call, wraps auth.ErrNotFound.
func wantNotFound(t *testing.T, call string, err error, hint string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s = nil; want an error wrapping auth.ErrNotFound (%s)", call, hint)
	case !errors.Is(err, auth.ErrNotFound):
		t.Errorf("%s = %v; want an error wrapping auth.ErrNotFound (errors.Is(err, auth.ErrNotFound) is false)", call, err)
	}
}

func testAccountsFlags(t *testing.T, s accountStore) {
	for i, flags := range []struct{ verified, disabled bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
		u := newUser(i+1, fmt.Sprintf("flags%d@example.com", i+1))
		u.EmailVerified, u.Disabled = flags.verified, flags.disabled
		create(t, s, u)
		hasUser(t, s, u, fmt.Sprintf("after CreateUser with EmailVerified %t and Disabled %t (CreateUser must keep them)", flags.verified, flags.disabled))
	}
}

func testAccountsUpdateName(t *testing.T, s accountStore) {
	users := createUsers(t, s, "account", 2)
	alice, bob := users[0], users[1]
	alice.EmailVerified = true
	names := []string{
		"Alice Liddell",
		"👨\u200d👩\u200d👧\u200d👦 Zoe\u0308 مرحبا 山田 𝔊𝔬𝔱𝔥",
		hundredRunes,
		`Robert'); DROP TABLE auth_users;--`,
		"Alice Liddell", // back to an earlier name
	}
	if err := s.UpdateEmail(t.Context(), alice.ID, alice.Email, alice.Email, true); err != nil {
		t.Fatalf("UpdateEmail(ctx, %s, email, email, true) = %v; want nil", q(alice.ID), err)
	}
	for _, name := range names {
		if err := s.UpdateName(t.Context(), alice.ID, name); err != nil {
			t.Fatalf("UpdateName(ctx, %s, %s) = %v; want nil", q(alice.ID), q(name), err)
		}
		alice.Name = name
		hasUser(t, s, alice, "after UpdateName (only the name must change, byte for byte)")
	}
	if err := s.UpdateName(t.Context(), alice.ID, alice.Name); err != nil {
		t.Errorf("UpdateName(ctx, %s, %s) with the user's name = %v; want nil (a store that counts changed rows, as MySQL does without clientFoundRows, must not take 0 rows for no user)",
			q(alice.ID), q(alice.Name), err)
	}
	hasUser(t, s, alice, "after UpdateName to the same name")
	hasUser(t, s, bob, "for another user, after UpdateName of the first")

	held := "on a store holding " + describe(alice) + " and " + describe(bob)
	for _, id := range []string{newUser(9, "").ID, alice.ID[:len(alice.ID)-1], alice.Email, "", "%", `' OR '1'='1`} {
		wantNotFound(t, fmt.Sprintf("UpdateName(ctx, %s, name) %s", q(id), held), s.UpdateName(t.Context(), id, "Mallory"),
			"no user has the ID")
	}
	hasUser(t, s, alice, "after UpdateName calls for IDs no user has (they must change nothing)")
	hasUser(t, s, bob, "after UpdateName calls for IDs no user has (they must change nothing)")
}

func testAccountsUpdateEmail(t *testing.T, s accountStore) {
	users := createUsers(t, s, "account", 2)
	alice, bob := users[0], users[1]
	ctx := t.Context()
	update := func(u auth.User, current, email string, verified bool, why string) auth.User {
		t.Helper()
		if err := s.UpdateEmail(ctx, u.ID, current, email, verified); err != nil {
			t.Fatalf("UpdateEmail(ctx, %s, %s, %s, %t) %s = %v; want nil", q(u.ID), q(current), q(email), verified, why, err)
		}
		u.Email, u.EmailVerified = email, verified
		return u
	}

	old := alice.Email
	alice = update(alice, old, "alice.new@example.com", false, "with the user's email as current")
	hasUser(t, s, alice, "after UpdateEmail (only the email and EmailVerified must change)")
	notFoundByEmail(t, s, old, "after UpdateEmail moved the user to another email")
	hasUser(t, s, bob, "for another user, after UpdateEmail of the first")

	alice = update(alice, alice.Email, alice.Email, true, "with the email as both current and new (it only sets EmailVerified)")
	hasUser(t, s, alice, "after UpdateEmail with email equal to current")
	alice = update(alice, alice.Email, alice.Email, true, "a second time with the same values")
	hasUser(t, s, alice, "after UpdateEmail with the values the user has (a store that counts changed rows, as MySQL does without clientFoundRows, must not take 0 rows for a mismatch)")
	if err := s.SetDisabled(ctx, alice.ID, true); err != nil {
		t.Fatalf("SetDisabled(ctx, %s, true) = %v; want nil", q(alice.ID), err)
	}
	alice.Disabled = true
	alice = update(alice, alice.Email, "Alice.New@example.com", true, "to an address that differs only in case (emails are compared byte for byte)")
	hasUser(t, s, alice, "after UpdateEmail of a disabled user (it must stay disabled)")

	t.Run("current is not the user's email", func(t *testing.T) {
		for _, current := range []string{old, bob.Email, strings.ToLower(alice.Email), alice.Email + " ", alice.Email[:len(alice.Email)-1], "", "%", `' OR '1'='1`} {
			call := fmt.Sprintf("UpdateEmail(ctx, %s, %s, %s, true) when the user's email is %s", q(alice.ID), q(current), q("mallory@example.com"), q(alice.Email))
			wantNotFound(t, call, s.UpdateEmail(ctx, alice.ID, current, "mallory@example.com", true),
				"a compare-and-set: the email must be changed only if it is current, byte for byte, so that a link sent to an old address does nothing")
			wantNotFound(t, strings.Replace(call, q("mallory@example.com"), q(current), 1), s.UpdateEmail(ctx, alice.ID, current, current, true),
				"with email equal to current it only sets EmailVerified, but only if current is the user's email")
		}
		hasUser(t, s, alice, "after UpdateEmail calls with a current that is not the user's email (they must change nothing)")
		notFoundByEmail(t, s, "mallory@example.com", "after UpdateEmail calls to it that failed")
	})
	t.Run("unknown ID", func(t *testing.T) {
		for _, id := range []string{newUser(9, "").ID, alice.ID[:len(alice.ID)-1], "", "%"} {
			wantNotFound(t, fmt.Sprintf("UpdateEmail(ctx, %s, %s, new, false)", q(id), q(alice.Email)),
				s.UpdateEmail(ctx, id, alice.Email, "mallory@example.com", false), "no user has the ID")
		}
		hasUser(t, s, alice, "after UpdateEmail calls for IDs no user has, with its email as current")
	})
	t.Run("taken email", func(t *testing.T) {
		call := fmt.Sprintf("UpdateEmail(ctx, %s, %s, %s, true), the email of %s", q(alice.ID), q(alice.Email), q(bob.Email), describe(bob))
		switch err := s.UpdateEmail(ctx, alice.ID, alice.Email, bob.Email, true); {
		case err == nil:
			t.Errorf("%s = nil; want an error wrapping auth.ErrDuplicateEmail (emails are unique)", call)
		case !errors.Is(err, auth.ErrDuplicateEmail):
			t.Errorf("%s = %v; want an error wrapping auth.ErrDuplicateEmail (errors.Is(err, auth.ErrDuplicateEmail) is false)", call, err)
		}
		hasUser(t, s, alice, "after UpdateEmail to a taken email (it must change nothing)")
		hasUser(t, s, bob, "after UpdateEmail of another user to its email")
	})
	t.Run("old email is free", func(t *testing.T) {
		carol := newUser(3, old)
		create(t, s, carol)
		hasUser(t, s, carol, "created with the email another user had before UpdateEmail")
		hasUser(t, s, alice, "after CreateUser with its former email")
	})
}

func testAccountsConcurrentUpdateEmail(t *testing.T, s accountStore) {
	const rounds = 3
	for r := range rounds {
		// Distinct users move to one address at once: exactly one gets it.
		users := make([]auth.User, concurrency)
		for i := range users {
			users[i] = newUser(1000*(r+1)+i, fmt.Sprintf("mover%d.%d@example.com", r, i))
			create(t, s, users[i])
		}
		contested := fmt.Sprintf("contested%d@example.com", r)
		errs := make([]error, concurrency)
		together(concurrency, func(i int) {
			errs[i] = s.UpdateEmail(t.Context(), users[i].ID, users[i].Email, contested, true)
		})
		winner := oneWinner(t, fmt.Sprintf("UpdateEmail(ctx, ID #i, its email, %s, true) calls of distinct users, whose IDs count up from %s to %s, in round %d",
			q(contested), q(users[0].ID), q(users[concurrency-1].ID), r+1), errs, auth.ErrDuplicateEmail,
			"uniqueness must be enforced by the store itself, atomically: a unique index, not a lookup before the write")
		for i, u := range users {
			if i == winner {
				u.Email, u.EmailVerified = contested, true
			}
			hasUser(t, s, u, fmt.Sprintf("in round %d, after concurrent UpdateEmail calls of %d users to %s", r+1, concurrency, q(contested)))
		}

		// One user moves to distinct addresses at once, from its current
		// one: a compare-and-set, so exactly one wins.
		u := users[(winner+1)%concurrency]
		errs = make([]error, concurrency)
		together(concurrency, func(i int) {
			errs[i] = s.UpdateEmail(t.Context(), u.ID, u.Email, fmt.Sprintf("cas%d.%d@example.com", r, i), false)
		})
		winner = oneWinner(t, fmt.Sprintf("UpdateEmail(ctx, %s, %s, new #i, false) calls of one user from its email to distinct addresses, in round %d", q(u.ID), q(u.Email), r+1),
			errs, auth.ErrNotFound, "a compare-and-set: one statement such as UPDATE ... WHERE id = ? AND email = ?, not a read and then a write")
		u.Email = fmt.Sprintf("cas%d.%d@example.com", r, winner)
		hasUser(t, s, u, fmt.Sprintf("in round %d, after concurrent UpdateEmail calls from its email, of which #%d won", r+1, winner))
	}
}

func testAccountsSetDisabled(t *testing.T, s accountStore) {
	users := createUsers(t, s, "account", 2)
	alice, bob := users[0], users[1]
	for _, step := range []struct {
		disabled bool
		why      string
	}{
		{true, ""},
		{true, "again (a store that counts changed rows, as MySQL does without clientFoundRows, must not take 0 rows for no user)"},
		{false, ""},
		{false, "again"},
		{true, "once more"},
	} {
		if err := s.SetDisabled(t.Context(), alice.ID, step.disabled); err != nil {
			t.Fatalf("SetDisabled(ctx, %s, %t) %s = %v; want nil", q(alice.ID), step.disabled, step.why, err)
		}
		alice.Disabled = step.disabled
		hasUser(t, s, alice, fmt.Sprintf("after SetDisabled(ctx, id, %t) %s (only Disabled must change)", step.disabled, step.why))
	}
	hasUser(t, s, bob, "for another user, after SetDisabled of the first")
	for _, id := range []string{newUser(9, "").ID, alice.ID[:len(alice.ID)-1], alice.Email, "", "%"} {
		wantNotFound(t, fmt.Sprintf("SetDisabled(ctx, %s, true)", q(id)), s.SetDisabled(t.Context(), id, true), "no user has the ID")
	}
	hasUser(t, s, bob, "after SetDisabled calls for IDs no user has")
}

func testAccountsDeleteUser(t *testing.T, s accountStore) {
	ctx := t.Context()
	users := createUsers(t, s, "account", 2)
	alice, bob := users[0], users[1]
	sessions, _ := s.(auth.SessionStore)

	// Each user has refresh tokens in two families, one revoked, and a
	// session generation of 1; and one-time tokens.
	var aliceTokens, bobTokens []auth.RefreshToken
	if sessions != nil {
		for i, u := range users {
			toks := []auth.RefreshToken{newToken(10*i+1, family(10*i+1), u), newToken(10*i+2, family(10*i+1), u), newToken(10*i+3, family(10*i+2), u)}
			for _, tok := range toks {
				createToken(t, sessions, tok)
			}
			t1, t2 := sessionTime.Add(time.Hour), sessionTime.Add(2*time.Hour)
			revokeFamily(t, sessions, toks[2].Family, t1, "")
			revokeSessions(t, sessions, u.ID, t2, "")
			toks[0], toks[1], toks[2] = revoked(toks[0], t2), revoked(toks[1], t2), revoked(toks[2], t1)
			if i == 0 {
				aliceTokens = toks
			} else {
				bobTokens = toks
			}
		}
	}
	aliceOne := []auth.OneTimeToken{newOneTime(1, purposeVerify, alice), newOneTime(2, purposeReset, alice)}
	bobOne := newOneTime(3, purposeVerify, bob)
	for _, tok := range append(aliceOne, bobOne) {
		createOneTime(t, s, tok)
	}

	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatalf("DeleteUser(ctx, %s) = %v; want nil", q(alice.ID), err)
	}
	const why = "after DeleteUser of the user"
	notFoundByID(t, s, alice.ID, why)
	notFoundByEmail(t, s, alice.Email, why)
	if sessions != nil {
		for _, tok := range aliceTokens {
			noToken(t, sessions, tok.Hash, why+" (its refresh tokens must be deleted with it)")
		}
		got, err := sessions.SessionGeneration(ctx, alice.ID)
		wantNotFound(t, fmt.Sprintf("SessionGeneration(ctx, %s) %s", q(alice.ID), why), err,
			fmt.Sprintf("got %d; a user that does not exist has no generation", got))
	}
	for _, tok := range aliceOne {
		noOneTime(t, s, tok.Hash, tok.Purpose, why+" (its one-time tokens must be deleted with it)")
	}
	wantNotFound(t, fmt.Sprintf("DeleteUser(ctx, %s) a second time", q(alice.ID)), s.DeleteUser(ctx, alice.ID), "the user no longer exists")
	for _, id := range []string{newUser(9, "").ID, bob.ID[:len(bob.ID)-1], bob.Email, "", "%"} {
		wantNotFound(t, fmt.Sprintf("DeleteUser(ctx, %s)", q(id)), s.DeleteUser(ctx, id), "no user has the ID")
	}

	const whyBob = "for another user, after DeleteUser of the first (it must be kept as it was)"
	hasUser(t, s, bob, whyBob)
	if sessions != nil {
		for _, tok := range bobTokens {
			hasToken(t, sessions, tok, whyBob)
		}
		checkGeneration(t, sessions, bob.ID, 1, whyBob)
	}
	useOneTime(t, s, bobOne, whyBob)

	// The email is free, and so is the ID: a new account with either
	// starts afresh, with nothing of the deleted one's.
	again := alice
	again.Name = "Alice Again"
	create(t, s, again)
	hasUser(t, s, again, "created with the ID and email of a deleted user")
	if sessions != nil {
		checkGeneration(t, sessions, again.ID, 0, "for a user created with the ID of a deleted user (the deleted one's generation must be gone with it)")
		for _, tok := range aliceTokens {
			noToken(t, sessions, tok.Hash, "after DeleteUser of its user and CreateUser with the same ID")
		}
		// A token in a family of the deleted user's is of a new, live
		// family: the old one's revocation is gone.
		tok := newToken(7, aliceTokens[2].Family, again)
		createToken(t, sessions, tok)
		hasToken(t, sessions, tok, "in a family of a deleted user, created for a new user with its ID (the family must be deleted with the user, not kept revoked)")
	}
	for _, tok := range aliceOne {
		noOneTime(t, s, tok.Hash, tok.Purpose, "after DeleteUser of its user and CreateUser with the same ID")
	}
	other := newUser(5, alice.Email)
	if err := s.DeleteUser(ctx, again.ID); err != nil {
		t.Fatalf("DeleteUser(ctx, %s) = %v; want nil", q(again.ID), err)
	}
	create(t, s, other)
	hasUser(t, s, other, "created with the email of a deleted user, and another ID")
}

func testAccountsConcurrentDeleteUser(t *testing.T, s accountStore) {
	ctx := t.Context()
	sessions, _ := s.(auth.SessionStore)
	// The goroutines come in three groups, so that every round has calls
	// of each kind meet DeleteUser: the early ones finish before it
	// starts, the next ones are calling the store as it starts, and the
	// others start with it.
	const rounds, early, calling = 10, concurrency / 4, concurrency / 2
	for r := range rounds {
		// Goroutines create one-time tokens and (if the store is a
		// SessionStore) refresh tokens of a user, alternately, while
		// DeleteUser deletes the user. Each token must be created before,
		// and deleted with the user, or refused, never left behind.
		u := newUser(100+r, fmt.Sprintf("deleted%d@example.com", r))
		create(t, s, u)
		var gen int64
		if sessions != nil {
			gen = generation(t, sessions, u.ID)
		}
		oneTime, refresh := make([]auth.OneTimeToken, concurrency), make([]auth.RefreshToken, concurrency)
		for i := range concurrency {
			n := 1000*(r+1) + i
			oneTime[i], refresh[i] = newOneTime(n, purposeVerify, u), newToken(n, family(n), u)
		}
		errs := make([]error, concurrency)
		var deleteErr error
		ready, deleting := make(chan struct{}, calling), make(chan struct{})
		together(concurrency+1, func(i int) {
			switch {
			case i == concurrency:
				for range calling {
					<-ready
				}
				close(deleting)
				runtime.Gosched() // let the calls under way reach the store
				deleteErr = s.DeleteUser(ctx, u.ID)
				return
			case i >= calling:
				<-deleting
			case i >= early:
				ready <- struct{}{}
			}
			switch {
			case i%2 == 0:
				errs[i] = s.CreateOneTimeToken(ctx, oneTime[i])
			case sessions != nil:
				errs[i] = sessions.CreateRefreshToken(ctx, refresh[i], gen)
			}
			if i < early {
				ready <- struct{}{}
			}
		})
		round := fmt.Sprintf("in round %d, where DeleteUser(ctx, %s) ran after %d goroutines created tokens of the user and while %d others did",
			r+1, q(u.ID), early, concurrency-early)
		if deleteErr != nil {
			t.Fatalf("DeleteUser %s = %v; want nil", round, deleteErr)
		}
		wrong := 0
		for i, err := range errs {
			switch {
			case i < early && err != nil:
				t.Fatalf("the creation of token #%d, before DeleteUser, %s = %v; want nil", i, round, err)
			case err != nil && !errors.Is(err, auth.ErrNotFound):
				if wrong++; wrong <= 5 {
					t.Errorf("the creation of token #%d %s = %v; want nil, or an error wrapping auth.ErrNotFound once the user is deleted (%s)", i, round, err, busyHint)
				}
			}
		}
		const hint = "(a token created before DeleteUser must be deleted with the user, and one created while it runs refused, or created before and deleted: check the user in the transaction that inserts the token, and lock its row, as deleting it does)"
		for i := range concurrency {
			switch {
			case i%2 == 0:
				noOneTime(t, s, oneTime[i].Hash, oneTime[i].Purpose, round+" "+hint)
			case sessions != nil:
				noToken(t, sessions, refresh[i].Hash, round+" "+hint)
			}
		}
		if t.Failed() {
			return
		}
	}
}

// listIDs are the IDs of the users of AccountsListUsers, in increasing
// byte order, which collations, case folding, UTF-16 order or PAD SPACE
// would change: "A" before "Z" before "_" before "a"; "a" before "a "
// before "aa"; and "\uff61" (EF BD A1) before "😀" (F0 9F 98 80), which
// UTF-16 puts first.
var listIDs = []string{"0", "A", "Z", "_", "a", "a ", "aa", "b", "é", "\uff61", "😀", "😀😀"}

func testAccountsListUsers(t *testing.T, s accountStore) {
	ctx := t.Context()
	if got, err := s.ListUsers(ctx, "", 10); err != nil || len(got) != 0 {
		t.Errorf("ListUsers(ctx, \"\", 10) on an empty store = (%d users, %v); want (0 users, nil)", len(got), err)
	}
	names := []string{"👨\u200d👩\u200d👧\u200d👦 family", "Zoe\u0308 Ame\u0301lie", "مرحبا بالعالم", "山田太郎", "𝔊𝔬𝔱𝔥𝔦𝔠 𓀀 𠜎 🂡", hundredRunes}
	want := make([]auth.User, len(listIDs))
	for i, id := range listIDs {
		u := newUser(i, fmt.Sprintf("list%d@example.com", i))
		u.ID, u.Name = id, names[i%len(names)]
		u.EmailVerified, u.Disabled = i%2 == 1, i%3 == 2
		want[i] = u
	}
	// Created out of order, so that the order of insertion is not what
	// is returned.
	for _, i := range []int{7, 2, 11, 0, 9, 4, 1, 10, 5, 3, 8, 6} {
		create(t, s, want[i])
	}

	// list checks that ListUsers(after, limit) returns want.
	list := func(after string, limit int, want []auth.User, why string) bool {
		t.Helper()
		call := fmt.Sprintf("ListUsers(ctx, %s, %d) %s", q(after), limit, why)
		got, err := s.ListUsers(ctx, after, limit)
		if err != nil {
			t.Errorf("%s = %v; want %d users", call, err, len(want))
			return false
		}
		gotIDs, wantIDs := make([]string, len(got)), make([]string, len(want))
		for i := range got {
			gotIDs[i] = q(got[i].ID)
		}
		for i := range want {
			wantIDs[i] = q(want[i].ID)
		}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s returned the IDs\n\t%s\nwant\n\t%s\n(IDs compared and ordered byte for byte, greater than after, at most limit)",
				call, strings.Join(gotIDs, " "), strings.Join(wantIDs, " "))
			return false
		}
		for i := range got {
			checkUser(t, call, got[i], want[i])
		}
		return true
	}
	list("", len(want), want, "of every user")
	list("", len(want)+5, want, "with a limit larger than the number of users")
	list("", len(want), want, "again (the order must be stable)")
	for _, limit := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("pages of %d", limit), func(t *testing.T) {
			after, rest := "", want
			for page := 1; ; page++ {
				n := min(limit, len(rest))
				if !list(after, limit, rest[:n], fmt.Sprintf("for page %d, after the last ID of the page before", page)) {
					return
				}
				if n < limit {
					return // the last page, shorter than limit
				}
				after, rest = rest[n-1].ID, rest[n:]
			}
		})
	}
	t.Run("after an ID no user has", func(t *testing.T) {
		for _, tt := range []struct {
			after string
			from  int // index in want of the first user listed
		}{
			{"00", 1}, {"a\t", 5}, {"ab", 7}, {"c", 8}, {"\U0010ffff", len(want)}, {"~", 8},
		} {
			list(tt.after, len(want), want[tt.from:], "")
		}
	})
}

func testAccountsOneTimeUse(t *testing.T, s accountStore) {
	u := createUsers(t, s, "account", 1)[0]
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name    string
		created time.Time
	}{
		{"2024", sessionTime},
		{"non-UTC location", sessionTime.In(ist)},
		{"time.Now", time.Now().Truncate(time.Microsecond)},
		{"before 1970", time.Date(1969, time.November, 30, 23, 59, 59, 999999000, time.UTC)},
		{"after 2038", time.Date(2040, time.February, 29, 12, 0, 0, 1000, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := newOneTime(i, []string{purposeVerify, purposeReset, purposeChange}[i%3], u)
			tok.CreatedAt, tok.ExpiresAt = tt.created, tt.created.Add(oneTimeLife)
			if i == 2 {
				tok.Email = "new.address+tag@example.com" // an email change's token is sent to the new address
			}
			createOneTime(t, s, tok)
			useOneTime(t, s, tok, "the first time (it must return the token as it was created)")
			noOneTime(t, s, tok.Hash, tok.Purpose, "a second time (a token is used once)")
		})
	}

	t.Run("expired", func(t *testing.T) {
		tok := newOneTime(10, purposeReset, u)
		tok.CreatedAt, tok.ExpiresAt = sessionTime.Add(-48*time.Hour), sessionTime.Add(-47*time.Hour)
		createOneTime(t, s, tok)
		useOneTime(t, s, tok, "for a token that expired long ago (the store returns it whether or not it has expired; the Service checks)")
	})

	t.Run("unknown hash", func(t *testing.T) {
		tok := newOneTime(20, purposeVerify, u)
		createOneTime(t, s, tok)
		held := "on a store holding " + describeOneTime(tok)
		for _, hash := range []string{oneTimeHash(21), tok.Hash[:len(tok.Hash)-1], tok.Hash + "0", strings.ToUpper(tok.Hash), u.ID, "", "%", strings.Repeat("_", len(tok.Hash)), `' OR '1'='1`} {
			noOneTime(t, s, hash, tok.Purpose, held)
		}
		useOneTime(t, s, tok, "after UseOneTimeToken calls with other hashes (they must delete nothing)")
	})
}

func testAccountsOneTimePurpose(t *testing.T, s accountStore) {
	u := createUsers(t, s, "account", 1)[0]
	tok := newOneTime(1, purposeReset, u)
	createOneTime(t, s, tok)
	for _, purpose := range []string{purposeVerify, purposeChange, "reset_passwor", "reset_password ", "RESET_PASSWORD", "", "%", `' OR '1'='1`} {
		noOneTime(t, s, tok.Hash, purpose, fmt.Sprintf("for a token of purpose %s", q(tok.Purpose)))
	}
	useOneTime(t, s, tok, "with its purpose, after UseOneTimeToken calls with other purposes (a token of another purpose must stay)")
	noOneTime(t, s, tok.Hash, tok.Purpose, "a second time")
}

func testAccountsOneTimeCreate(t *testing.T, s accountStore) {
	u := createUsers(t, s, "account", 1)[0]
	for i, id := range []string{newUser(9, "").ID, u.ID[:len(u.ID)-1], u.Email, "", "%"} {
		tok := newOneTime(10+i, purposeVerify, u)
		tok.UserID = id
		call := fmt.Sprintf("CreateOneTimeToken(ctx, %s) for a user ID no user has", describeOneTime(tok))
		wantNotFound(t, call, s.CreateOneTimeToken(t.Context(), tok), "the user must exist")
		noOneTime(t, s, tok.Hash, tok.Purpose, "after "+call+" (it must store nothing)")
	}

	tok := newOneTime(1, purposeVerify, u)
	createOneTime(t, s, tok)
	other := newOneTime(2, purposeReset, u)
	other.Hash = tok.Hash
	if err := s.CreateOneTimeToken(t.Context(), other); err == nil {
		t.Errorf("CreateOneTimeToken(ctx, %s) with the hash of a stored token = nil; want an error", describeOneTime(other))
	}
	noOneTime(t, s, tok.Hash, other.Purpose, "after CreateOneTimeToken failed for its hash with another purpose (it must not replace the stored token)")
	useOneTime(t, s, tok, "after CreateOneTimeToken failed for its hash (it must be kept as it was)")

	// A user may hold several tokens, of one purpose or several.
	toks := []auth.OneTimeToken{newOneTime(3, purposeVerify, u), newOneTime(4, purposeVerify, u), newOneTime(5, purposeChange, u)}
	for _, tok := range toks {
		createOneTime(t, s, tok)
	}
	for _, tok := range toks {
		useOneTime(t, s, tok, "for one of several tokens of one user")
	}
}

func testAccountsOneTimeConcurrentUse(t *testing.T, s accountStore) {
	u := createUsers(t, s, "account", 1)[0]
	const rounds = 10
	for r := range rounds {
		tok := newOneTime(r, purposeReset, u)
		createOneTime(t, s, tok)
		got := make([]auth.OneTimeToken, concurrency)
		errs := make([]error, concurrency)
		together(concurrency, func(i int) { got[i], errs[i] = s.UseOneTimeToken(t.Context(), tok.Hash, tok.Purpose) })
		winner := oneWinner(t, fmt.Sprintf("UseOneTimeToken(ctx, %s, %s) calls for one token, in round %d (nil: it returned the token)", short(tok.Hash), q(tok.Purpose), r+1),
			errs, auth.ErrNotFound, "the token must be deleted and returned atomically, e.g. DELETE ... RETURNING, or SELECT ... FOR UPDATE and DELETE in a transaction, not read and then deleted")
		if d := diffOneTime(got[winner], tok); len(d) > 0 {
			t.Errorf("round %d: the winning concurrent UseOneTimeToken returned a token that differs from the one created:\n\t%s", r+1, strings.Join(d, "\n\t"))
		}
		noOneTime(t, s, tok.Hash, tok.Purpose, fmt.Sprintf("in round %d, after %d concurrent calls for it", r+1, concurrency))
	}
}

func testAccountsDeleteOneTimeTokens(t *testing.T, s accountStore) {
	users := createUsers(t, s, "account", 2)
	alice, bob := users[0], users[1]
	deleted := []auth.OneTimeToken{newOneTime(1, purposeReset, alice), newOneTime(2, purposeReset, alice)}
	kept := []auth.OneTimeToken{newOneTime(3, purposeVerify, alice), newOneTime(4, purposeChange, alice), newOneTime(5, purposeReset, bob)}
	for _, tok := range append(append([]auth.OneTimeToken(nil), deleted...), kept...) {
		createOneTime(t, s, tok)
	}
	call := fmt.Sprintf("DeleteOneTimeTokens(ctx, %s, %s)", q(alice.ID), q(purposeReset))
	if err := s.DeleteOneTimeTokens(t.Context(), alice.ID, purposeReset); err != nil {
		t.Fatalf("%s = %v; want nil", call, err)
	}
	for _, tok := range deleted {
		noOneTime(t, s, tok.Hash, tok.Purpose, "after "+call)
	}
	for _, tok := range []struct{ id, purpose string }{{alice.ID, purposeReset}, {bob.ID[:len(bob.ID)-1], purposeReset}, {bob.ID, "reset_passwor"}, {bob.ID, "%"}, {newUser(9, "").ID, purposeReset}, {"", ""}} {
		if err := s.DeleteOneTimeTokens(t.Context(), tok.id, tok.purpose); err != nil {
			t.Errorf("DeleteOneTimeTokens(ctx, %s, %s), which matches no token, = %v; want nil", q(tok.id), q(tok.purpose), err)
		}
	}
	for _, tok := range kept {
		useOneTime(t, s, tok, "after "+call+" (it must delete only the user's tokens of the purpose)")
	}
}

func testAccountsDeleteExpiredOneTimeTokens(t *testing.T, s accountStore) {
	u := createUsers(t, s, "account", 1)[0]
	now := sessionTime.Add(24 * time.Hour)
	expiring := func(n int, purpose string, exp time.Time) auth.OneTimeToken {
		tok := newOneTime(n, purpose, u)
		tok.CreatedAt, tok.ExpiresAt = exp.Add(-oneTimeLife), exp
		return tok
	}
	expired := []auth.OneTimeToken{
		expiring(1, purposeVerify, now.Add(-time.Hour)),
		expiring(2, purposeReset, now.Add(-time.Microsecond)),
		expiring(3, purposeChange, now),
		expiring(4, purposeReset, now.In(time.FixedZone("IST", 5*3600+1800))),
		expiring(5, purposeVerify, time.Date(1969, time.December, 31, 23, 59, 59, 999999000, time.UTC)),
	}
	kept := []auth.OneTimeToken{
		expiring(6, purposeVerify, now.Add(time.Microsecond)),
		expiring(7, purposeReset, now.Add(time.Hour).In(time.FixedZone("UTC-7", -7*3600))),
		expiring(8, purposeChange, time.Date(2040, time.February, 29, 12, 0, 0, 1000, time.UTC)),
	}
	for _, tok := range append(append([]auth.OneTimeToken(nil), expired...), kept...) {
		createOneTime(t, s, tok)
	}
	call := fmt.Sprintf("DeleteExpiredOneTimeTokens(ctx, %s)", fmtTime(now))
	n, err := s.DeleteExpiredOneTimeTokens(t.Context(), now)
	switch {
	case err != nil:
		t.Fatalf("%s = %v; want (%d, nil)", call, err, len(expired))
	case n != int64(len(expired)):
		t.Errorf("%s = %d; want %d, the number of tokens whose ExpiresAt is not after now (ExpiresAt equal to now included)", call, n, len(expired))
	}
	if n, err := s.DeleteExpiredOneTimeTokens(t.Context(), now); err != nil || n != 0 {
		t.Errorf("%s a second time = (%d, %v); want (0, nil)", call, n, err)
	}
	for _, tok := range expired {
		noOneTime(t, s, tok.Hash, tok.Purpose, fmt.Sprintf("after %s, for a token that expired at %s (it must be deleted)", call, fmtTime(tok.ExpiresAt)))
	}
	for _, tok := range kept {
		useOneTime(t, s, tok, fmt.Sprintf("after %s, for a token that expires at %s (it must be kept as it was)", call, fmtTime(tok.ExpiresAt)))
	}
}

// testAccountsDoneContext returns a test that every method of the
// ability fails with an error wrapping want when called with a context
// from done, and changes nothing.
func testAccountsDoneContext(want error, wantName string, done func(t *testing.T) context.Context) func(t *testing.T, s accountStore) {
	return func(t *testing.T, s accountStore) {
		check := doneCheck(want, wantName)
		u := createUsers(t, s, "account", 1)[0]
		tok := newOneTime(1, purposeReset, u)
		createOneTime(t, s, tok)
		unchanged := func(t *testing.T, method string) {
			t.Helper()
			hasUser(t, s, u, "after "+method+" with a done context (it must change nothing)")
		}

		t.Run("UpdateName", func(t *testing.T) {
			check(t, fmt.Sprintf("UpdateName(ctx, %s, name)", q(u.ID)), s.UpdateName(done(t), u.ID, "Renamed"))
			unchanged(t, "UpdateName")
		})
		t.Run("UpdateEmail", func(t *testing.T) {
			check(t, fmt.Sprintf("UpdateEmail(ctx, %s, %s, new, true)", q(u.ID), q(u.Email)), s.UpdateEmail(done(t), u.ID, u.Email, "moved@example.com", true))
			unchanged(t, "UpdateEmail")
		})
		t.Run("SetDisabled", func(t *testing.T) {
			check(t, fmt.Sprintf("SetDisabled(ctx, %s, true)", q(u.ID)), s.SetDisabled(done(t), u.ID, true))
			unchanged(t, "SetDisabled")
		})
		t.Run("DeleteUser", func(t *testing.T) {
			check(t, fmt.Sprintf("DeleteUser(ctx, %s)", q(u.ID)), s.DeleteUser(done(t), u.ID))
			unchanged(t, "DeleteUser")
		})
		t.Run("ListUsers", func(t *testing.T) {
			_, err := s.ListUsers(done(t), "", 10)
			check(t, `ListUsers(ctx, "", 10)`, err)
		})
		t.Run("CreateOneTimeToken", func(t *testing.T) {
			other := newOneTime(2, purposeVerify, u)
			check(t, fmt.Sprintf("CreateOneTimeToken(ctx, %s)", describeOneTime(other)), s.CreateOneTimeToken(done(t), other))
			noOneTime(t, s, other.Hash, other.Purpose, "after CreateOneTimeToken with a done context (it must store nothing)")
		})
		t.Run("UseOneTimeToken", func(t *testing.T) {
			_, err := s.UseOneTimeToken(done(t), tok.Hash, tok.Purpose)
			check(t, fmt.Sprintf("UseOneTimeToken(ctx, %s, %s) for a stored token", short(tok.Hash), q(tok.Purpose)), err)
		})
		t.Run("DeleteOneTimeTokens", func(t *testing.T) {
			check(t, fmt.Sprintf("DeleteOneTimeTokens(ctx, %s, %s)", q(u.ID), q(tok.Purpose)), s.DeleteOneTimeTokens(done(t), u.ID, tok.Purpose))
		})
		t.Run("DeleteExpiredOneTimeTokens", func(t *testing.T) {
			_, err := s.DeleteExpiredOneTimeTokens(done(t), tok.ExpiresAt.Add(time.Hour))
			check(t, "DeleteExpiredOneTimeTokens(ctx, now) with every token expired", err)
		})
		useOneTime(t, s, tok, "after UseOneTimeToken, DeleteOneTimeTokens, DeleteExpiredOneTimeTokens and DeleteUser with a done context (they must delete nothing)")
	}
}
