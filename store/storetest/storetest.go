package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/auth"
)

// concurrency is the number of goroutines the concurrent subtests start
// at once.
const concurrency = 50

// Run checks that the stores made by newStore implement the contract of
// [auth.UserStore], and those of [throttle.Store], [auth.PasswordStore],
// [auth.SessionStore], [auth.AccountStore] and [auth.MFAStore] for the
// stores that have these optional abilities. It runs one subtest per rule
// (see the package documentation for the list), each on its own store
// from newStore, and reports every violation through t. The subtests of
// an ability (named Attempts..., Password..., Sessions..., Accounts...
// and MFA...) pass, with a log line, for a store without it. newStore
// must return a fresh, empty store each time it is called; it receives
// the subtest's t, so it may use t.TempDir, t.Cleanup, t.Skip and
// t.Fatal.
func Run(t *testing.T, newStore func(t *testing.T) auth.UserStore) {
	t.Helper()
	tests := []abilityTest[auth.UserStore]{
		{"CreateThenLookup", testCreateThenLookup},
		{"CreatedAtRoundTrip", testCreatedAtRoundTrip},
		{"NotFound", testNotFound},
		{"DuplicateEmail", testDuplicateEmail},
		{"DuplicateID", testDuplicateID},
		{"EmailsComparedByteForByte", testEmailsByteForByte},
		{"ConcurrentDuplicateEmail", testConcurrentDuplicateEmail},
		{"ConcurrentDistinctEmails", testConcurrentDistinctEmails},
		{"UnicodeNames", testUnicodeNames},
		{"UnicodeEmails", testUnicodeEmails},
		{"SQLLookingStrings", testSQLLookingStrings},
		{"CanceledContext", testDoneContext(context.Canceled, "context.Canceled", canceledContext)},
		{"ExpiredContext", testDoneContext(context.DeadlineExceeded, "context.DeadlineExceeded", expiredContext)},
	}
	tests = append(tests, withAbility("throttle.Store", attemptTests)...)
	tests = append(tests, withAbility("auth.PasswordStore", passwordTests)...)
	tests = append(tests, withAbility("auth.SessionStore", sessionTests)...)
	tests = append(tests, withAbility("auth.AccountStore", accountTests)...)
	tests = append(tests, withAbility("auth.MFAStore", mfaTests)...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned a nil auth.UserStore")
			}
			tt.fn(t, s)
		})
	}
}

// abilityTest is a subtest of Run for stores that are an A.
type abilityTest[A any] struct {
	name string
	fn   func(t *testing.T, s A)
}

// withAbility returns tests as subtests of any store: each runs on a
// store that is an A (ability names A in the log), and passes, saying so
// in the log, on one that is not.
func withAbility[A any](ability string, tests []abilityTest[A]) []abilityTest[auth.UserStore] {
	out := make([]abilityTest[auth.UserStore], len(tests))
	for i, tt := range tests {
		out[i] = abilityTest[auth.UserStore]{tt.name, func(t *testing.T, s auth.UserStore) {
			t.Helper()
			a, ok := s.(A)
			if !ok {
				t.Logf("%T does not implement %s: nothing to check", s, ability)
				return
			}
			tt.fn(t, a)
		}}
	}
	return out
}

// samplePHC is a well-formed argon2id hash in PHC form, as the Service
// stores them; its content is never checked, only round-tripped.
const samplePHC = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"

// baseTime has nanoseconds, so a store that keeps only seconds or
// milliseconds is caught; stores need keep only microseconds.
var baseTime = time.Date(2024, time.May, 17, 13, 45, 30, 123456789, time.UTC)

// newUser returns a distinct, valid user numbered n with the given email.
func newUser(n int, email string) auth.User {
	return auth.User{
		ID:           fmt.Sprintf("%032x", 0xa11ce0000+n),
		Email:        email,
		Name:         fmt.Sprintf("User %d", n),
		PasswordHash: fmt.Sprintf("%sa2V5LW51bWJlci0%04d", samplePHC, n),
		CreatedAt:    baseTime.Add(time.Duration(n) * time.Hour),
	}
}

// q quotes s for a message. A string with non-ASCII runes is shown twice,
// as is and with every non-ASCII rune escaped, so that strings differing
// only in invisible ways (NFC vs NFD, a zero-width space) look different.
func q(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return fmt.Sprintf("%q (%+q)", s, s)
		}
	}
	return fmt.Sprintf("%q", s)
}

func describe(u auth.User) string {
	return fmt.Sprintf("{ID: %s, Email: %s}", q(u.ID), q(u.Email))
}

// sameInstant reports whether got is want to within a microsecond, whatever
// their locations: stores need keep CreatedAt only to microseconds, and may
// truncate or round.
func sameInstant(got, want time.Time) bool {
	d := got.Sub(want)
	return d > -time.Microsecond && d < time.Microsecond
}

// diffUser lists the fields in which got differs from want.
func diffUser(got, want auth.User) []string {
	var d []string
	str := func(field, got, want string) {
		if got != want {
			d = append(d, fmt.Sprintf("%s = %s (%d bytes), want %s (%d bytes)", field, q(got), len(got), q(want), len(want)))
		}
	}
	str("ID", got.ID, want.ID)
	str("Email", got.Email, want.Email)
	str("Name", got.Name, want.Name)
	str("PasswordHash", got.PasswordHash, want.PasswordHash)
	if !sameInstant(got.CreatedAt, want.CreatedAt) {
		d = append(d, fmt.Sprintf("CreatedAt = %s, want %s (to within 1µs; stores must keep at least microseconds)",
			got.CreatedAt.Format(time.RFC3339Nano), want.CreatedAt.Format(time.RFC3339Nano)))
	}
	if got.EmailVerified != want.EmailVerified {
		d = append(d, fmt.Sprintf("EmailVerified = %t, want %t", got.EmailVerified, want.EmailVerified))
	}
	if got.Disabled != want.Disabled {
		d = append(d, fmt.Sprintf("Disabled = %t, want %t", got.Disabled, want.Disabled))
	}
	if got.MFA != want.MFA {
		d = append(d, fmt.Sprintf("MFA = %t, want %t", got.MFA, want.MFA))
	}
	return d
}

// checkUser reports how got, returned by call, differs from want.
func checkUser(t *testing.T, call string, got, want auth.User) {
	t.Helper()
	if d := diffUser(got, want); len(d) > 0 {
		t.Errorf("%s returned a user that differs from the one created:\n\t%s", call, strings.Join(d, "\n\t"))
	}
}

// create stores u and fails the test if that fails.
func create(t *testing.T, s auth.UserStore, u auth.User) {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(ctx, %s) = %v; want nil", describe(u), err)
	}
}

// byEmail looks up want by its email and checks every field.
func byEmail(t *testing.T, s auth.UserStore, want auth.User) {
	t.Helper()
	call := fmt.Sprintf("UserByEmail(ctx, %s)", q(want.Email))
	got, err := s.UserByEmail(t.Context(), want.Email)
	if err != nil {
		t.Errorf("%s after creating %s = %v; want the user", call, describe(want), err)
		return
	}
	checkUser(t, call, got, want)
}

// byID looks up want by its ID and checks every field.
func byID(t *testing.T, s auth.UserStore, want auth.User) {
	t.Helper()
	call := fmt.Sprintf("UserByID(ctx, %s)", q(want.ID))
	got, err := s.UserByID(t.Context(), want.ID)
	if err != nil {
		t.Errorf("%s after creating %s = %v; want the user", call, describe(want), err)
		return
	}
	checkUser(t, call, got, want)
}

// notFound checks that a lookup returned an error wrapping auth.ErrNotFound.
func notFound(t *testing.T, call, why string, got auth.User, err error) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s = (%s, nil) %s; want an error wrapping auth.ErrNotFound (a lookup that matches nothing must fail, not return a user)", call, describe(got), why)
	case !errors.Is(err, auth.ErrNotFound):
		t.Errorf("%s = %v %s; want an error wrapping auth.ErrNotFound (errors.Is(err, auth.ErrNotFound) is false)", call, err, why)
	}
}

func notFoundByEmail(t *testing.T, s auth.UserStore, email, why string) {
	t.Helper()
	u, err := s.UserByEmail(t.Context(), email)
	notFound(t, fmt.Sprintf("UserByEmail(ctx, %s)", q(email)), why, u, err)
}

func notFoundByID(t *testing.T, s auth.UserStore, id, why string) {
	t.Helper()
	u, err := s.UserByID(t.Context(), id)
	notFound(t, fmt.Sprintf("UserByID(ctx, %s)", q(id)), why, u, err)
}

func testCreateThenLookup(t *testing.T, s auth.UserStore) {
	u := newUser(1, "alice@example.com")
	u.Name = "Alice Liddell"
	create(t, s, u)
	byEmail(t, s, u)
	byID(t, s, u)
}

func testCreatedAtRoundTrip(t *testing.T, s auth.UserStore) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{"nanoseconds", baseTime},
		{"whole second", time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)},
		{"non-UTC location", time.Date(2024, time.May, 17, 19, 15, 30, 654321000, time.FixedZone("IST", 5*3600+1800))},
		{"time.Now with monotonic reading", time.Now()},
		{"local time zone", time.Now().Local()},
		{"just before 1970", time.Date(1969, time.December, 31, 23, 59, 59, 999999000, time.UTC)},
		{"after 2038", time.Date(2040, time.February, 29, 12, 0, 0, 1000, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(i, fmt.Sprintf("created-%d@example.com", i))
			u.CreatedAt = tt.at
			create(t, s, u)
			byID(t, s, u)
			byEmail(t, s, u)
		})
	}
}

func testNotFound(t *testing.T, s auth.UserStore) {
	const why = "on an empty store"
	notFoundByEmail(t, s, "nobody@example.com", why)
	notFoundByID(t, s, newUser(1, "").ID, why)

	alice := newUser(1, "alice@example.com")
	create(t, s, alice)
	held := "on a store holding only " + describe(alice)
	tests := []struct {
		name  string
		email string // looked up with UserByEmail if not empty
		id    string // looked up with UserByID if not empty
	}{
		{name: "unknown email", email: "nobody@example.com"},
		{name: "email prefix", email: "alice@example.co"},
		{name: "email with suffix", email: "alice@example.com.evil"},
		{name: "ID passed as email", email: alice.ID},
		{name: "unknown ID", id: newUser(2, "").ID},
		{name: "ID prefix", id: alice.ID[:len(alice.ID)-1]},
		{name: "email passed as ID", id: alice.Email},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.email != "" {
				notFoundByEmail(t, s, tt.email, held)
			}
			if tt.id != "" {
				notFoundByID(t, s, tt.id, held)
			}
		})
	}
	t.Run("empty string", func(t *testing.T) {
		notFoundByEmail(t, s, "", held)
		notFoundByID(t, s, "", held)
	})
}

func testDuplicateEmail(t *testing.T, s auth.UserStore) {
	first := newUser(1, "taken@example.com")
	create(t, s, first)

	second := newUser(2, first.Email)
	second.Name = "Impostor"
	for attempt := 1; attempt <= 2; attempt++ {
		err := s.CreateUser(t.Context(), second)
		switch {
		case err == nil:
			t.Fatalf("CreateUser(ctx, %s) #%d, with the email of %s already stored, = nil; want an error wrapping auth.ErrDuplicateEmail (emails are unique)",
				describe(second), attempt, describe(first))
		case !errors.Is(err, auth.ErrDuplicateEmail):
			t.Errorf("CreateUser(ctx, %s) #%d, with the email of %s already stored, = %v; want an error wrapping auth.ErrDuplicateEmail (errors.Is(err, auth.ErrDuplicateEmail) is false)",
				describe(second), attempt, describe(first), err)
		}
	}
	byEmail(t, s, first)
	byID(t, s, first)
	notFoundByID(t, s, second.ID, "after its CreateUser failed as a duplicate email")
}

func testDuplicateID(t *testing.T, s auth.UserStore) {
	first := newUser(1, "first@example.com")
	create(t, s, first)

	second := newUser(1, "second@example.com")
	second.Name = "Impostor"
	err := s.CreateUser(t.Context(), second)
	switch {
	case err == nil:
		t.Errorf("CreateUser(ctx, %s), with the ID of %s already stored, = nil; want an error (IDs are unique and a user must never be overwritten)",
			describe(second), describe(first))
	case errors.Is(err, auth.ErrDuplicateEmail):
		t.Errorf("CreateUser(ctx, %s), with the ID of %s already stored, = %v; want an error that does not wrap auth.ErrDuplicateEmail (the email is free; the ID is not)",
			describe(second), describe(first), err)
	}
	byID(t, s, first)
	byEmail(t, s, first)
	notFoundByEmail(t, s, second.Email, "after CreateUser with a taken ID")
}

func testEmailsByteForByte(t *testing.T, s auth.UserStore) {
	// Every pair of these differs in bytes, though many would compare equal
	// under case folding, trimming, Unicode normalisation or a
	// case-insensitive or accent-insensitive collation.
	emails := []string{
		"user@example.com",
		"User@example.com",
		"USER@EXAMPLE.COM",
		"user@example.com ",
		" user@example.com",
		"user@example.com\t",
		"ｕｓｅｒ@example.com", // fullwidth
		"jose\u0301@example.com",
		"jos\u00e9@example.com",
		"jose@example.com",
		"strasse@example.com",
		"straße@example.com",
		"user@exa\u200bmple.com", // zero-width space
	}
	users := make([]auth.User, len(emails))
	for i, e := range emails {
		users[i] = newUser(i, e)
		if err := s.CreateUser(t.Context(), users[i]); err != nil {
			t.Fatalf("CreateUser(ctx, %s) = %v; want nil: the stored emails %s differ from it in bytes, and stores must compare emails byte for byte (the Service normalises them before the store sees them)",
				describe(users[i]), err, strings.Join(quoteAll(emails[:i]), ", "))
		}
	}
	for _, u := range users {
		byEmail(t, s, u)
		byID(t, s, u)
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = q(s)
	}
	return out
}

// together calls fn(i) for each i from 0 to n-1, each in its own
// goroutine, all released at once, and waits for them.
func together(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// race calls CreateUser concurrently for every user, all goroutines
// released at once, and returns the errors in order.
func race(t *testing.T, s auth.UserStore, users []auth.User) []error {
	t.Helper()
	errs := make([]error, len(users))
	together(len(users), func(i int) { errs[i] = s.CreateUser(t.Context(), users[i]) })
	return errs
}

func testConcurrentDuplicateEmail(t *testing.T, s auth.UserStore) {
	const email = "popular@example.com"
	users := make([]auth.User, concurrency)
	for i := range users {
		users[i] = newUser(i, email)
	}
	errs := race(t, s, users)
	for i, err := range errs {
		if err != nil {
			notFoundByID(t, s, users[i].ID, fmt.Sprintf("after its CreateUser returned %v", err))
		}
	}
	winner := oneWinner(t, fmt.Sprintf("CreateUser(ctx, user #i) calls for %s with distinct IDs, which count up from %s to %s", q(email), q(users[0].ID), q(users[concurrency-1].ID)),
		errs, auth.ErrDuplicateEmail, "uniqueness must be enforced by the store itself, atomically: a unique index, not a lookup before the write")
	byEmail(t, s, users[winner])
	byID(t, s, users[winner])
}

func testConcurrentDistinctEmails(t *testing.T, s auth.UserStore) {
	users := make([]auth.User, concurrency)
	for i := range users {
		users[i] = newUser(i, fmt.Sprintf("user%d@example.com", i))
	}
	errs := race(t, s, users)
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			t.Errorf("concurrent CreateUser(ctx, %s) with a unique email and ID = %v; want nil (%d calls ran at once; a busy or locked database must be waited for, not reported)",
				describe(users[i]), err, concurrency)
		}
	}
	if failed > 0 {
		return
	}
	for _, u := range users {
		byEmail(t, s, u)
		byID(t, s, u)
	}
}

// hundredRunes is exactly 100 code points of 1 to 4 bytes each: the
// longest name the Service accepts, in 250 bytes.
var hundredRunes = strings.Repeat("aé山𝄞", 25)

func testUnicodeNames(t *testing.T, s auth.UserStore) {
	if n := utf8.RuneCountInString(hundredRunes); n != 100 {
		t.Fatalf("storetest bug: hundredRunes has %d code points", n)
	}
	tests := []struct {
		name, value string
	}{
		{"emoji ZWJ sequence", "👨\u200d👩\u200d👧\u200d👦 family"},
		{"emoji flag and skin tone", "🇯🇵 👋🏽 🏳️\u200d🌈"},
		{"combining marks (NFD)", "Zoe\u0308 Ame\u0301lie"},
		{"precomposed (NFC)", "Zo\u00eb Am\u00e9lie"},
		{"stacked combining marks", "Z\u0351\u0367\u0311a\u0361l\u0334g\u0335o"},
		{"right-to-left Arabic", "مرحبا بالعالم"},
		{"right-to-left Hebrew mixed with Latin", "Anna שלום 123"},
		{"CJK", "山田太郎"},
		{"Hangul", "김민준"},
		{"Devanagari", "देवनागरी"},
		{"astral plane", "𝔊𝔬𝔱𝔥𝔦𝔠 𓀀 𠜎 🂡"},
		{"100 code points", hundredRunes},
		{"quotes, backslash and wildcards", `O'Brien "Bob" \ 100% _x_`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(i, fmt.Sprintf("name%d@example.com", i))
			u.Name = tt.value
			create(t, s, u)
			byID(t, s, u)
			byEmail(t, s, u)
		})
	}
}

func testUnicodeEmails(t *testing.T, s auth.UserStore) {
	tests := []struct {
		name, value string
	}{
		{"CJK", "用户@例子.广告"},
		{"Greek", "δοκιμή@παράδειγμα.δοκιμή"},
		{"Devanagari", "उपयोगकर्ता@उदाहरण.कॉम"},
		{"Arabic", "مستخدم@مثال.موقع"},
		{"emoji", "😀\u200d@example.com"},
		{"astral plane", "𠜎𠜱@example.com"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUser(i, tt.value)
			create(t, s, u)
			byEmail(t, s, u)
			byID(t, s, u)
		})
	}
}

func testSQLLookingStrings(t *testing.T, s auth.UserStore) {
	u := newUser(1, `o'brien"; DROP TABLE x;--@example.com`)
	u.Name = `Robert'); DROP TABLE auth_users;--`
	u.PasswordHash = samplePHC + `' OR '1'='1`
	create(t, s, u)
	byEmail(t, s, u)
	byID(t, s, u)

	why := "on a store holding only " + describe(u) + " (strings must be passed as parameters, never spliced into a query, and compared with =, not LIKE)"
	for _, e := range []string{`' OR '1'='1`, `x" OR "1"="1`, "%", "_%", "o_brien%", `o'brien"; DROP TABLE x;--@example.co_`} {
		notFoundByEmail(t, s, e, why)
	}
	for _, id := range []string{`' OR '1'='1`, "%", strings.Repeat("_", len(u.ID))} {
		notFoundByID(t, s, id, why)
	}

	// The store still works.
	v := newUser(2, "after@example.com")
	create(t, s, v)
	byEmail(t, s, v)
	byID(t, s, u)
}

func canceledContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}

func expiredContext(t *testing.T) context.Context {
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Hour))
	t.Cleanup(cancel)
	return ctx
}

// doneCheck returns a check that err, returned by call with a context
// whose Err() is want (called wantName), wraps want.
func doneCheck(want error, wantName string) func(t *testing.T, call string, err error) {
	return func(t *testing.T, call string, err error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s with a context whose Err() is %s = %v; want an error wrapping %s (check ctx.Err() first, or pass ctx to every call that can block)",
				call, wantName, err, wantName)
		}
	}
}

// testDoneContext returns a test that every method fails with an error
// wrapping want (called wantName) when called with a context from done,
// whose Err is want.
func testDoneContext(want error, wantName string, done func(t *testing.T) context.Context) func(t *testing.T, s auth.UserStore) {
	return func(t *testing.T, s auth.UserStore) {
		check := doneCheck(want, wantName)

		alice := newUser(1, "alice@example.com")
		create(t, s, alice)

		t.Run("CreateUser", func(t *testing.T) {
			bob := newUser(2, "bob@example.com")
			err := s.CreateUser(done(t), bob)
			check(t, fmt.Sprintf("CreateUser(ctx, %s)", describe(bob)), err)
			const why = "after CreateUser with a done context (it must not store the user)"
			notFoundByEmail(t, s, bob.Email, why)
			notFoundByID(t, s, bob.ID, why)
		})
		t.Run("UserByEmail", func(t *testing.T) {
			_, err := s.UserByEmail(done(t), alice.Email)
			check(t, fmt.Sprintf("UserByEmail(ctx, %s) for a stored user", q(alice.Email)), err)
		})
		t.Run("UserByID", func(t *testing.T) {
			_, err := s.UserByID(done(t), alice.ID)
			check(t, fmt.Sprintf("UserByID(ctx, %s) for a stored user", q(alice.ID)), err)
		})
	}
}
