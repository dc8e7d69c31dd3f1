package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
)

// passwordStore is what the subtests of the auth.PasswordStore ability
// use: the ability and the users it changes.
type passwordStore interface {
	auth.UserStore
	auth.PasswordStore
}

// passwordTests are the subtests of the auth.PasswordStore ability, run
// by Run after the throttle.Store ones.
var passwordTests = []abilityTest[passwordStore]{
	{"PasswordUpdate", testPasswordUpdate},
	{"PasswordUpdateToSameHash", testPasswordUpdateToSameHash},
	{"PasswordWrongOldHash", testPasswordWrongOldHash},
	{"PasswordUnknownID", testPasswordUnknownID},
	{"PasswordConcurrentUpdate", testPasswordConcurrentUpdate},
	{"PasswordCanceledContext", testPasswordDoneContext(context.Canceled, "context.Canceled", canceledContext)},
	{"PasswordExpiredContext", testPasswordDoneContext(context.DeadlineExceeded, "context.DeadlineExceeded", expiredContext)},
}

// newHash returns a well-formed PHC hash numbered n, distinct from the
// hashes of newUser.
func newHash(n int) string {
	return fmt.Sprintf("%sbmV3LWhhc2gt%04d", samplePHC, n)
}

// hasUser looks want up by ID and by email and reports, with why, every
// field in which a result differs.
func hasUser(t *testing.T, s auth.UserStore, want auth.User, why string) {
	t.Helper()
	check := func(call string, got auth.User, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s %s = %v; want the user", call, why, err)
			return
		}
		if d := diffUser(got, want); len(d) > 0 {
			t.Errorf("%s %s returned a user that differs from the one expected:\n\t%s", call, why, strings.Join(d, "\n\t"))
		}
	}
	got, err := s.UserByID(t.Context(), want.ID)
	check(fmt.Sprintf("UserByID(ctx, %s)", q(want.ID)), got, err)
	got, err = s.UserByEmail(t.Context(), want.Email)
	check(fmt.Sprintf("UserByEmail(ctx, %s)", q(want.Email)), got, err)
}

// update calls UpdatePasswordHash and fails the test unless it succeeds.
func update(t *testing.T, s auth.PasswordStore, id, oldHash, newHash, why string) {
	t.Helper()
	if err := s.UpdatePasswordHash(t.Context(), id, oldHash, newHash); err != nil {
		t.Fatalf("UpdatePasswordHash(ctx, %s, %s, %s) %s = %v; want nil", q(id), q(oldHash), q(newHash), why, err)
	}
}

// updateNotFound calls UpdatePasswordHash and checks that it fails with
// an error wrapping auth.ErrNotFound.
func updateNotFound(t *testing.T, s auth.PasswordStore, id, oldHash, newHash, why string) {
	t.Helper()
	call := fmt.Sprintf("UpdatePasswordHash(ctx, %s, %s, %s) %s", q(id), q(oldHash), q(newHash), why)
	switch err := s.UpdatePasswordHash(t.Context(), id, oldHash, newHash); {
	case err == nil:
		t.Errorf("%s = nil; want an error wrapping auth.ErrNotFound (the hash must be set only if it is oldHash, byte for byte)", call)
	case !errors.Is(err, auth.ErrNotFound):
		t.Errorf("%s = %v; want an error wrapping auth.ErrNotFound (errors.Is(err, auth.ErrNotFound) is false)", call, err)
	}
}

func testPasswordUpdate(t *testing.T, s passwordStore) {
	alice, bob := newUser(1, "alice@example.com"), newUser(2, "bob@example.com")
	create(t, s, alice)
	create(t, s, bob)

	h1 := newHash(1)
	update(t, s, alice.ID, alice.PasswordHash, h1, "with the user's hash")
	want := alice
	want.PasswordHash = h1
	hasUser(t, s, want, "after UpdatePasswordHash (only the hash must change)")
	hasUser(t, s, bob, "for another user, after UpdatePasswordHash for the first")

	h2 := newHash(2)
	update(t, s, alice.ID, h1, h2, "a second time, from the hash the first call set")
	want.PasswordHash = h2
	hasUser(t, s, want, "after a second UpdatePasswordHash")
	updateNotFound(t, s, alice.ID, alice.PasswordHash, newHash(3), "with the hash that was replaced")
	hasUser(t, s, want, "after UpdatePasswordHash with the hash that was replaced")
}

func testPasswordUpdateToSameHash(t *testing.T, s passwordStore) {
	alice := newUser(1, "alice@example.com")
	create(t, s, alice)
	if err := s.UpdatePasswordHash(t.Context(), alice.ID, alice.PasswordHash, alice.PasswordHash); err != nil {
		t.Errorf("UpdatePasswordHash(ctx, %s, h, h) with the user's hash h = %v; want nil (the hash is oldHash, so the compare-and-set succeeds even though nothing changes; a store that counts changed rows, as MySQL does without clientFoundRows, must not take 0 rows for a mismatch)",
			q(alice.ID), err)
	}
	hasUser(t, s, alice, "after UpdatePasswordHash to the same hash")
}

func testPasswordWrongOldHash(t *testing.T, s passwordStore) {
	bob := newUser(1, "bob@example.com")
	create(t, s, bob)
	tests := []struct {
		name  string
		wrong func(hash string) string // the wrong old hash for a user's hash
	}{
		{"another hash", func(string) string { return newHash(999) }},
		{"another user's hash", func(string) string { return bob.PasswordHash }},
		{"empty", func(string) string { return "" }},
		{"prefix", func(h string) string { return h[:len(h)-1] }},
		{"with a suffix", func(h string) string { return h + "x" }},
		{"with a trailing space", func(h string) string { return h + " " }},
		{"upper case", strings.ToUpper},
		{"SQL wildcard", func(string) string { return "%" }},
		{"SQL wildcards as long as the hash", func(h string) string { return strings.Repeat("_", len(h)) }},
		{"SQL injection", func(string) string { return `' OR '1'='1` }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(10+i, fmt.Sprintf("wrong%d@example.com", i))
			create(t, s, u)
			updateNotFound(t, s, u.ID, tt.wrong(u.PasswordHash), newHash(i), "when the user's hash is "+q(u.PasswordHash))
			hasUser(t, s, u, "after UpdatePasswordHash with a wrong old hash (it must change nothing)")
		})
	}
	hasUser(t, s, bob, "for another user, after UpdatePasswordHash calls with wrong old hashes, one of them this user's hash")
}

func testPasswordUnknownID(t *testing.T, s passwordStore) {
	alice := newUser(1, "alice@example.com")
	updateNotFound(t, s, alice.ID, alice.PasswordHash, newHash(1), "on an empty store")
	create(t, s, alice)
	held := "on a store holding only " + describe(alice)
	for _, id := range []string{newUser(2, "").ID, alice.ID[:len(alice.ID)-1], alice.Email, "", "%", `' OR '1'='1`} {
		updateNotFound(t, s, id, alice.PasswordHash, newHash(2), held)
	}
	hasUser(t, s, alice, "after UpdatePasswordHash calls for other IDs with the user's hash (they must change nothing)")
}

func testPasswordConcurrentUpdate(t *testing.T, s passwordStore) {
	alice := newUser(1, "alice@example.com")
	create(t, s, alice)
	errs := make([]error, concurrency)
	together(concurrency, func(i int) {
		errs[i] = s.UpdatePasswordHash(t.Context(), alice.ID, alice.PasswordHash, newHash(i))
	})
	winner := oneWinner(t, fmt.Sprintf("UpdatePasswordHash(ctx, %s, old, new #i) calls from the user's hash to distinct new hashes", q(alice.ID)), errs, auth.ErrNotFound,
		"a compare-and-set: one statement such as UPDATE ... WHERE id = ? AND password_hash = ?, not a read and then a write")
	want := alice
	want.PasswordHash = newHash(winner)
	hasUser(t, s, want, fmt.Sprintf("after %d concurrent UpdatePasswordHash calls, of which new hash #%d won", concurrency, winner))
}

// testPasswordDoneContext returns a test that UpdatePasswordHash fails
// with an error wrapping want when called with a context from done, and
// changes nothing.
func testPasswordDoneContext(want error, wantName string, done func(t *testing.T) context.Context) func(t *testing.T, s passwordStore) {
	return func(t *testing.T, s passwordStore) {
		alice := newUser(1, "alice@example.com")
		create(t, s, alice)
		doneCheck(want, wantName)(t, fmt.Sprintf("UpdatePasswordHash(ctx, %s, old, new)", q(alice.ID)),
			s.UpdatePasswordHash(done(t), alice.ID, alice.PasswordHash, newHash(1)))
		hasUser(t, s, alice, "after UpdatePasswordHash with a done context (it must change nothing)")
	}
}
