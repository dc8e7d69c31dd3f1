package sqltest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// priorStore is a Store on the tables of the prior release (see
// Target.PriorSchema) as that release wrote them: its CreateUser is that
// release's INSERT; the session tables are the same in both.
type priorStore struct {
	Store
	db     *sql.DB
	insert string
	encode func(time.Time) any
}

func (s priorStore) CreateUser(ctx context.Context, u auth.User) error {
	_, err := s.db.ExecContext(ctx, s.insert, u.ID, u.Email, u.Name, u.PasswordHash, s.encode(u.CreatedAt))
	return err
}

// newService returns a Service with refresh tokens on store, whose
// passwords are hashed with the default parameters.
func newService(t *testing.T, store auth.UserStore) *auth.Service {
	t.Helper()
	svc, err := auth.New(store, auth.Config{
		Secret:        []byte("sqltest secret of at least 32 bytes, for HS256"),
		RefreshTokens: true,
		Logger:        slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Shutdown(context.WithoutCancel(t.Context())) })
	return svc
}

// testMigrateUpgradesPriorRelease makes a database with the tables of the
// prior release, and accounts and sessions in it made by a Service over
// that release's tables; then Migrate, from several replicas at once,
// upgrades it in place: the tables get what the store documents, the old
// users log in with their passwords (no second factor asked) and refresh
// with their refresh tokens, their emails are not verified, their
// accounts not disabled and without MFA, and the account and MFA
// abilities work on them.
func testMigrateUpgradesPriorRelease(t *testing.T, tg Target) {
	ctx := t.Context()
	db, reopen := tg.NewDB(t)
	for _, ddl := range tg.PriorSchema {
		if _, err := db.ExecContext(ctx, ddl); err != nil {
			t.Fatalf("the prior release's DDL: %v\n%s", err, ddl)
		}
	}
	prior := newService(t, priorStore{Store: tg.New(db), db: db, insert: tg.PriorInsertUser, encode: tg.EncodeTime})
	type account struct {
		nu      auth.NewUser
		grant   *auth.Grant
		revoked bool // its sessions were revoked before the upgrade
	}
	accounts := []*account{
		{nu: auth.NewUser{Name: "Ada Lovelace", Email: "ada@example.com", Password: "analytical engine 1843"}},
		{nu: auth.NewUser{Name: "Zoë 山田 🗝️", Email: "zoe@example.com", Password: "pässwörd with ünïcode"}},
		{nu: auth.NewUser{Name: "Grace Hopper", Email: "grace@example.com", Password: "cobol and nanoseconds"}, revoked: true},
	}
	for _, a := range accounts {
		g, err := prior.Signup(ctx, a.nu)
		if err != nil {
			t.Fatalf("Signup(%s) on the prior release's tables: %v", a.nu.Email, err)
		}
		a.grant = g
		if a.revoked {
			if err := prior.RevokeSessions(ctx, g.User.ID); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Replicas start at once, each migrating the database.
	const replicas = 4
	stores := make([]Store, replicas)
	for i := range stores {
		stores[i] = tg.New(reopen(t))
	}
	errs := make([]error, replicas)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, s := range stores {
		wg.Go(func() {
			<-start
			errs[i] = s.Migrate(ctx)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate #%d of the prior release's database = %v; want nil", i, err)
		}
	}
	checkColumns(t, tg, db)
	s := stores[0]
	svc := newService(t, s)

	for _, a := range accounts {
		old := a.grant.User
		u, err := s.UserByID(ctx, old.ID)
		if err != nil {
			t.Fatalf("UserByID(%s) after Migrate: %v", old.Email, err)
		}
		hash := u.PasswordHash
		u.PasswordHash = ""
		if !u.CreatedAt.Equal(old.CreatedAt.Truncate(time.Microsecond)) || u.ID != old.ID || u.Email != old.Email || u.Name != old.Name || u.EmailVerified || u.Disabled || u.MFA {
			t.Errorf("UserByID(%s) after Migrate = %+v; want %+v, EmailVerified, Disabled and MFA false", old.Email, u, old)
		}
		if _, err := s.TOTP(ctx, old.ID); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("TOTP(%s) after Migrate = %v; want auth.ErrNotFound", old.Email, err)
		}
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Errorf("the password hash of %s after Migrate is not an argon2id PHC string", old.Email)
		}
		if _, err := svc.Login(ctx, a.nu.Email, a.nu.Password); err != nil {
			t.Errorf("Login(%s) with the password of an account made before Migrate = %v; want a session", a.nu.Email, err)
		}
		g, err := svc.Refresh(ctx, a.grant.RefreshToken)
		switch {
		case a.revoked && !errors.Is(err, auth.ErrInvalidToken):
			t.Errorf("Refresh with a refresh token whose session was revoked before Migrate = %v; want auth.ErrInvalidToken", err)
		case !a.revoked && err != nil:
			t.Errorf("Refresh(%s) with a refresh token made before Migrate = %v; want a new session", a.nu.Email, err)
		case !a.revoked && g.User.ID != old.ID:
			t.Errorf("Refresh(%s) returned user %s; want %s", a.nu.Email, g.User.ID, old.ID)
		}
		want := int64(0)
		if a.revoked {
			want = 1
		}
		if gen, err := s.SessionGeneration(ctx, old.ID); err != nil || gen != want {
			t.Errorf("SessionGeneration(%s) after Migrate = %d, %v; want %d", a.nu.Email, gen, err, want)
		}
	}

	// The account ability works on the upgraded tables, for the old users.
	ada, zoe, grace := accounts[0].grant.User, accounts[1].grant.User, accounts[2].grant.User
	list, err := s.ListUsers(ctx, "", 10)
	var ids []string
	for _, u := range list {
		ids = append(ids, u.ID)
	}
	want := []string{ada.ID, zoe.ID, grace.ID}
	slices.Sort(want)
	if err != nil || !slices.Equal(ids, want) {
		t.Errorf("ListUsers after Migrate = %q, %v; want %q", ids, err, want)
	}
	tok := auth.OneTimeToken{Hash: tokenHash(7), Purpose: "verify_email", UserID: ada.ID, Email: ada.Email, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.CreateOneTimeToken(ctx, tok); err != nil {
		t.Fatalf("CreateOneTimeToken after Migrate: %v", err)
	}
	if _, err := s.UseOneTimeToken(ctx, tok.Hash, tok.Purpose); err != nil {
		t.Errorf("UseOneTimeToken after Migrate: %v", err)
	}
	if err := s.UpdateEmail(ctx, ada.ID, ada.Email, ada.Email, true); err != nil {
		t.Errorf("UpdateEmail after Migrate: %v", err)
	}
	if err := s.SetDisabled(ctx, zoe.ID, true); err != nil {
		t.Errorf("SetDisabled after Migrate: %v", err)
	}
	for _, c := range []struct {
		id                 string
		verified, disabled bool
	}{{ada.ID, true, false}, {zoe.ID, false, true}} {
		if u, err := s.UserByID(ctx, c.id); err != nil || u.EmailVerified != c.verified || u.Disabled != c.disabled {
			t.Errorf("UserByID after UpdateEmail and SetDisabled = %+v, %v; want EmailVerified %t, Disabled %t", u, err, c.verified, c.disabled)
		}
	}
	// And the MFA ability: an old user enrols, and then logs in with a
	// second factor; another enrols and is deleted.
	for _, u := range []auth.User{ada, grace} {
		if err := s.PutTOTP(ctx, u.ID, sampleSealed, time.Now()); err != nil {
			t.Fatalf("PutTOTP after Migrate: %v", err)
		}
		if err := s.ConfirmTOTP(ctx, u.ID, sampleSealed, 1, []string{recoveryHash(1), recoveryHash(2)}); err != nil {
			t.Fatalf("ConfirmTOTP after Migrate: %v", err)
		}
	}
	if u, err := s.UserByID(ctx, ada.ID); err != nil || !u.MFA {
		t.Errorf("UserByID after ConfirmTOTP = %+v, %v; want MFA true", u, err)
	}
	if _, err := svc.Login(ctx, accounts[0].nu.Email, accounts[0].nu.Password); !errors.Is(err, auth.ErrMFARequired) {
		t.Errorf("Login of a user made before Migrate who enrolled after = %v; want auth.ErrMFARequired", err)
	}
	if err := s.UseRecoveryCode(ctx, ada.ID, recoveryHash(1)); err != nil {
		t.Errorf("UseRecoveryCode after Migrate: %v", err)
	}
	if err := s.DeleteUser(ctx, grace.ID); err != nil {
		t.Fatalf("DeleteUser after Migrate: %v", err)
	}
	if _, err := svc.Refresh(ctx, accounts[2].grant.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Refresh with a refresh token made before Migrate, of a user deleted after = %v; want auth.ErrInvalidToken", err)
	}
	for _, table := range []string{"auth_refresh_tokens", "auth_totp", "auth_recovery_codes"} {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table+" WHERE user_id = '"+grace.ID+"'").Scan(&n); err != nil || n != 0 {
			t.Errorf("%d rows (%v) of %s left of a user made before Migrate and deleted after; want 0", n, err, table)
		}
	}
	if _, err := svc.Signup(ctx, accounts[2].nu); err != nil {
		t.Errorf("Signup with the email of a user made before Migrate and deleted after = %v; want a new account", err)
	}
}

// accountCases returns the calls of the AccountStore methods with values
// the columns cannot hold exactly, by l.
func accountCases(t *testing.T, l Limits) []callCase {
	ctx := t.Context()
	base := auth.OneTimeToken{Hash: tokenHash(5), Purpose: "verify_email", UserID: sampleUser.ID, Email: sampleUser.Email,
		CreatedAt: sampleToken.IssuedAt, ExpiresAt: sampleToken.ExpiresAt}
	create := func(name string, f func(tok *auth.OneTimeToken)) callCase {
		tok := base
		f(&tok)
		return callCase{name, func(s Store) error { return s.CreateOneTimeToken(ctx, tok) }}
	}
	name := func(name, value string) callCase {
		return callCase{name, func(s Store) error { return s.UpdateName(ctx, sampleUser.ID, value) }}
	}
	var cases []callCase
	if n := l.TokenBytes; n > 0 {
		cases = append(cases, create(fmt.Sprintf("one-time token hash of %d bytes", n+1), func(tok *auth.OneTimeToken) { tok.Hash = strings.Repeat("0", n+1) }))
	}
	if n := l.IDBytes; n > 0 {
		cases = append(cases, create(fmt.Sprintf("one-time token of a user ID of %d bytes", n+1), func(tok *auth.OneTimeToken) { tok.UserID = strings.Repeat("u", n+1) }))
	}
	if n := l.EmailBytes; n > 0 {
		cases = append(cases,
			create(fmt.Sprintf("one-time token to an email of %d bytes", n+1), func(tok *auth.OneTimeToken) { tok.Email = longEmail(n + 1) }),
			callCase{fmt.Sprintf("email changed to one of %d bytes", n+1), func(s Store) error {
				return s.UpdateEmail(ctx, sampleUser.ID, sampleUser.Email, longEmail(n+1), false)
			}})
	}
	if n := l.PurposeBytes; n > 0 {
		cases = append(cases, create(fmt.Sprintf("one-time token of a purpose of %d bytes", n+1), func(tok *auth.OneTimeToken) { tok.Purpose = strings.Repeat("p", n+1) }))
	}
	if y := l.MinYear; y > 0 {
		before := time.Date(y-1, 12, 31, 23, 59, 59, 0, time.UTC)
		cases = append(cases, create(fmt.Sprintf("one-time token created in the year %d", y-1), func(tok *auth.OneTimeToken) { tok.CreatedAt = before }))
	}
	if y := l.MaxYear; y > 0 {
		after := time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
		cases = append(cases,
			create(fmt.Sprintf("one-time token expiring in the year %d", y+1), func(tok *auth.OneTimeToken) { tok.ExpiresAt = after }),
			callCase{fmt.Sprintf("one-time tokens deleted in the year %d", y+1), func(s Store) error {
				_, err := s.DeleteExpiredOneTimeTokens(ctx, after)
				return err
			}})
	}
	if n := l.TextBytes; n > 0 {
		cases = append(cases,
			name(fmt.Sprintf("name of %d bytes", n+1), strings.Repeat("n", n+1)),
			name(fmt.Sprintf("name of %d four-byte runes", n/4+1), strings.Repeat("😀", n/4+1)))
	}
	if l.UTF8 {
		cases = append(cases,
			name("name not UTF-8", "bad \xff name"),
			name("name with a lone surrogate (CESU)", "\xed\xa0\x80"))
	}
	if l.NUL {
		cases = append(cases,
			name("name with a NUL byte", "nul\x00byte"),
			create("one-time token hash with a NUL byte", func(tok *auth.OneTimeToken) { tok.Hash = "h\x00" }),
			callCase{"email changed to one with a NUL byte", func(s Store) error {
				return s.UpdateEmail(ctx, sampleUser.ID, sampleUser.Email, "nul\x00@example.com", false)
			}})
	}
	return cases
}

// testAccountValuesTheTablesCannotHold checks that values the columns of
// auth_one_time_tokens and auth_users cannot hold exactly fail the
// AccountStore methods, with neither sentinel, and change nothing, and
// that the largest values they can hold round-trip.
func testAccountValuesTheTablesCannotHold(t *testing.T, tg Target) {
	ctx := t.Context()
	s, db := tg.newStoreWithToken(t)
	before := snapshot(t, db)
	for _, tt := range accountCases(t, tg.Limits) {
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

	l := tg.Limits
	biggestUser := sampleUser
	biggestUser.ID, biggestUser.Email = strings.Repeat("u", or(l.IDBytes, anyIDBytes)), longEmail(or(l.EmailBytes, anyEmailBytes))
	if err := s.CreateUser(ctx, biggestUser); err != nil {
		t.Fatalf("CreateUser with a %d-byte ID = %v", len(biggestUser.ID), err)
	}
	text := or(l.TextBytes, anyTextBytes)
	biggestUser.Name = strings.Repeat("😀", text/4) + strings.Repeat("a", text%4)
	if err := s.UpdateName(ctx, biggestUser.ID, biggestUser.Name); err != nil {
		t.Fatalf("UpdateName to a name of %d bytes = %v", len(biggestUser.Name), err)
	}
	email := biggestUser.Email
	biggestUser.Email = "z" + email[1:]
	if err := s.UpdateEmail(ctx, biggestUser.ID, email, biggestUser.Email, true); err != nil {
		t.Fatalf("UpdateEmail to an email of %d bytes = %v", len(biggestUser.Email), err)
	}
	biggestUser.EmailVerified = true
	if got, err := s.UserByID(ctx, biggestUser.ID); err != nil || got != biggestUser {
		t.Errorf("UserByID of the largest values = (lengths: ID %d, email %d, name %d), %v; want lengths %d, %d, %d",
			len(got.ID), len(got.Email), len(got.Name), err, len(biggestUser.ID), len(biggestUser.Email), len(biggestUser.Name))
	}
	biggest := auth.OneTimeToken{
		Hash: strings.Repeat("h", or(l.TokenBytes, anyTokenBytes)), Purpose: strings.Repeat("p", or(l.PurposeBytes, anyPurposeBytes)),
		UserID: biggestUser.ID, Email: biggestUser.Email,
		CreatedAt: time.Date(or(l.MinYear, anyMinYear), 1, 1, 0, 0, 0, 0, time.UTC),
		ExpiresAt: time.Date(or(l.MaxYear, anyMaxYear), 12, 31, 23, 59, 59, 999999000, time.UTC),
	}
	if err := s.CreateOneTimeToken(ctx, biggest); err != nil {
		t.Fatalf("CreateOneTimeToken of the largest values = %v", err)
	}
	if got, err := s.UseOneTimeToken(ctx, biggest.Hash, biggest.Purpose); err != nil || got != biggest {
		t.Errorf("UseOneTimeToken of the largest values = %+v, %v; want %+v", got, err, biggest)
	}
}

// testAccountsReplicas uses one one-time token, and moves users to one
// email, through Stores on separate pools, all at once, several rounds:
// exactly one call gets the token, and exactly one user the email.
func testAccountsReplicas(t *testing.T, tg Target) {
	const n, each, rounds = 4, 10, 5
	stores := tg.replicas(t, n)
	ctx := t.Context()
	if err := stores[0].CreateUser(ctx, sampleUser); err != nil {
		t.Fatal(err)
	}
	for round := range rounds {
		tok := auth.OneTimeToken{Hash: tokenHash(round), Purpose: "reset_password", UserID: sampleUser.ID, Email: sampleUser.Email,
			CreatedAt: sampleToken.IssuedAt, ExpiresAt: sampleToken.ExpiresAt}
		if err := stores[round%n].CreateOneTimeToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		errs := make([]error, n*each)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n * each {
			wg.Go(func() {
				<-start
				_, errs[i] = stores[i%n].UseOneTimeToken(ctx, tok.Hash, tok.Purpose)
			})
		}
		close(start)
		wg.Wait()
		if won := countWinners(t, errs, auth.ErrNotFound, fmt.Sprintf("round %d: UseOneTimeToken", round)); won != 1 {
			t.Errorf("round %d: %d of %d concurrent UseOneTimeToken calls for one token through %d Stores got it; want exactly 1", round, won, n*each, n)
		}

		users := make([]auth.User, n*each)
		for i := range users {
			users[i] = auth.User{ID: fmt.Sprintf("r%d-%d", round, i), Email: fmt.Sprintf("r%d-%d@example.com", round, i), Name: "R", PasswordHash: "h", CreatedAt: sampleUser.CreatedAt}
			if err := stores[i%n].CreateUser(ctx, users[i]); err != nil {
				t.Fatal(err)
			}
		}
		contested := fmt.Sprintf("contested%d@example.com", round)
		start = make(chan struct{})
		for i := range n * each {
			wg.Go(func() {
				<-start
				errs[i] = stores[i%n].UpdateEmail(ctx, users[i].ID, users[i].Email, contested, true)
			})
		}
		close(start)
		wg.Wait()
		if won := countWinners(t, errs, auth.ErrDuplicateEmail, fmt.Sprintf("round %d: UpdateEmail", round)); won != 1 {
			t.Errorf("round %d: %d of %d concurrent UpdateEmail calls of distinct users to one email through %d Stores succeeded; want exactly 1", round, won, n*each, n)
		}
	}
}

// countWinners returns how many of errs are nil, and reports those that
// do not wrap lost, the error of the calls that lost.
func countWinners(t *testing.T, errs []error, lost error, call string) int {
	t.Helper()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, lost):
			t.Errorf("%s #%d = %v; want nil or %v", call, i, err, lost)
		}
	}
	return won
}
