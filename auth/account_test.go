package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-go/gatehouse/auth/throttle"

	"github.com/gatehouse-go/gatehouse/auth/password"
)

const newPassword = "a brand new passphrase"

func TestChangePassword(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{CheckRevocation: true})
	a := f.signup(t) // 12:00:00
	b := f.login(t)
	f.clk.Add(2500 * time.Millisecond)
	oldHash := f.store.get(t, sessEmail).PasswordHash

	sess, err := f.s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword) // 12:00:02.5
	if err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if sess.User.ID != a.User.ID || sess.User.Email != sessEmail || sess.User.PasswordHash != "" {
		t.Errorf("ChangePassword user = %+v", sess.User)
	}
	wantRefreshToken(t, sess.RefreshToken, "ChangePassword")

	// The new hash: argon2id of the new password, with Config.Params.
	stored := f.store.get(t, sessEmail).PasswordHash
	if stored == oldHash {
		t.Fatal("the stored hash did not change")
	}
	if p := phcParams(t, stored); p != sessParams {
		t.Errorf("new hash params = %+v; want %+v", p, sessParams)
	}
	if !verifies(t, newPassword, stored) {
		t.Errorf("the new hash does not verify the new password")
	}

	// The returned session works: its access token passes revocation,
	// its refresh token refreshes.
	if _, err := f.s.VerifyToken(ctx, sess.Token); err != nil {
		t.Errorf("VerifyToken(new session) = %v", err)
	}
	// Every other session ended: refresh tokens and, with
	// CheckRevocation, access tokens issued in earlier seconds.
	for _, old := range []*Grant{a, b} {
		if _, err := f.s.VerifyToken(ctx, old.Token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("an older access token after ChangePassword: VerifyToken = %v, want ErrInvalidToken", err)
		}
		f.wantRefreshRefused(t, old.RefreshToken, "an older session's refresh token")
	}
	f.refresh(t, sess.RefreshToken)

	if _, err := f.s.Login(ctx, sessEmail, sessPassword); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with the old password = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.Login(ctx, sessEmail, newPassword); err != nil {
		t.Errorf("Login with the new password: %v", err)
	}
	for _, kind := range []EventKind{EventPasswordChanged, EventSessionsRevoked} {
		if ev := f.events.of(kind); len(ev) != 1 || ev[0].UserID != a.User.ID {
			t.Errorf("%s events = %+v, want one for the user", kind, ev)
		}
	}
}

func TestChangePasswordWithoutSessions(t *testing.T) {
	// A PasswordStore that keeps no sessions: the password changes, and
	// the new session is an access token alone.
	ctx := context.Background()
	store := newSessStore()
	s := newTestService(t, struct {
		UserStore
		PasswordStore
	}{store, store}, Config{Params: sessParams, Logger: discardLogger})
	a, err := s.Signup(ctx, NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword)
	if err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if sess.RefreshToken != "" || sess.Token == "" {
		t.Errorf("session = %+v; want an access token alone", sess)
	}
	if _, err := s.Login(ctx, sessEmail, newPassword); err != nil {
		t.Errorf("Login with the new password: %v", err)
	}
}

func TestChangePasswordWrongCurrent(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 2}})
	a := f.signup(t)
	hash := f.store.get(t, sessEmail).PasswordHash
	for i := range 2 {
		sess, err := f.s.ChangePassword(ctx, a.User.ID, "not the password", newPassword)
		if sess != nil || !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("attempt %d: ChangePassword with a wrong current password = %v, %v; want ErrInvalidCredentials", i+1, sess, err)
		}
		if err.Error() != ErrInvalidCredentials.Error() {
			t.Errorf("Error() = %q, want %q", err, ErrInvalidCredentials)
		}
	}
	if ev := f.events.of(EventLoginFailed); len(ev) != 2 || ev[0].UserID != a.User.ID {
		t.Errorf("EventLoginFailed events = %+v, want 2", ev)
	}
	// In backoff now, for ChangePassword and Login alike, even with the
	// right password: nothing is checked.
	_, err := f.s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword)
	wantThrottled(t, err, time.Second, "ChangePassword after 2 failures")
	_, err = f.s.Login(ctx, sessEmail, sessPassword)
	wantThrottled(t, err, time.Second, "Login after 2 failed password changes")
	if got := f.store.get(t, sessEmail).PasswordHash; got != hash {
		t.Fatal("the password changed")
	}
	f.refresh(t, a.RefreshToken) // nothing was revoked

	f.clk.Add(time.Second)
	if _, err := f.s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword); err != nil {
		t.Fatalf("ChangePassword after the backoff: %v", err)
	}
	// The success cleared the count.
	if _, err := f.s.ChangePassword(ctx, a.User.ID, "not the password", "yet another passphrase"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("a wrong password after a success = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.ChangePassword(ctx, a.User.ID, newPassword, "yet another passphrase"); err != nil {
		t.Errorf("ChangePassword after one failure: %v", err)
	}
}

func TestChangePasswordFieldErrors(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	const ligature = "\ufb01nancial secret 42" // NFKC: "financial secret 42"
	a := f.signup(t)
	u, err := f.s.Signup(ctx, NewUser{Name: "Zed Zebra", Email: "zed@example.com", Password: ligature})
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[string]string{sessEmail: f.store.get(t, sessEmail).PasswordHash, "zed@example.com": f.store.get(t, "zed@example.com").PasswordHash}
	tests := []struct {
		name, id, current, next, field string
	}{
		{"empty current", a.User.ID, "", newPassword, "currentPassword"},
		{"current over 1024 bytes", a.User.ID, strings.Repeat("p", 1025), newPassword, "currentPassword"},
		{"current not UTF-8", a.User.ID, "pass\xffword", newPassword, "currentPassword"},
		{"empty new", a.User.ID, sessPassword, "", "newPassword"},
		{"new too short", a.User.ID, sessPassword, "short1!", "newPassword"},
		{"new over 1024 bytes", a.User.ID, sessPassword, strings.Repeat("n", 1025), "newPassword"},
		{"new not UTF-8", a.User.ID, sessPassword, "new pass\xffword", "newPassword"},
		{"new is common", a.User.ID, sessPassword, "Password1", "newPassword"},
		{"new is the email", a.User.ID, sessPassword, "ADA@example.com", "newPassword"},
		{"new is the name", u.User.ID, ligature, "zed zebra", "newPassword"},
		{"new is the current", a.User.ID, sessPassword, sessPassword, "newPassword"},
		{"new is the current, NFKC", u.User.ID, ligature, "financial secret 42", "newPassword"},
		// The new password is judged before the current one is checked.
		{"new is common, current wrong", a.User.ID, "wrong current", "iloveyou", "newPassword"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := f.s.ChangePassword(ctx, tt.id, tt.current, tt.next)
			if sess != nil {
				t.Errorf("ChangePassword returned a session")
			}
			secret := tt.next
			if tt.field == "currentPassword" {
				secret = tt.current
			}
			wantFieldError(t, err, tt.field, secret)
		})
	}
	for email, hash := range hashes {
		if f.store.get(t, email).PasswordHash != hash {
			t.Errorf("the password of %s changed", email)
		}
	}
	if ev := f.events.of(EventLoginFailed); len(ev) != 0 {
		t.Errorf("refused inputs counted as failed logins: %+v", ev)
	}
}

func TestChangePasswordUnsupported(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore() // no PasswordStore
	s := newTestService(t, store, Config{Params: sessParams, Logger: discardLogger})
	a, err := s.Signup(ctx, NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword)
	if sess != nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ChangePassword = %v, %v; want an error wrapping errors.ErrUnsupported", sess, err)
	}
	// The same with sessions but no PasswordStore.
	sessions := newSessStore()
	s = newTestService(t, sessionsOnly{sessions, sessions}, Config{RefreshTokens: true, Params: sessParams, Logger: discardLogger})
	a, err = s.Signup(ctx, NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ChangePassword without PasswordStore = %v; want errors.ErrUnsupported", err)
	}
}

func TestChangePasswordUnknownUser(t *testing.T) {
	f := newSessFixture(t, Config{})
	f.signup(t)
	sess, err := f.s.ChangePassword(context.Background(), "no-such-user", sessPassword, newPassword)
	if sess != nil || !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("ChangePassword(unknown user) = %v, %v; want ErrInvalidCredentials", sess, err)
	}
}

func TestChangePasswordConcurrentChange(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	a := f.signup(t)
	// Another change lands between the Service's read and its write.
	other := phcHash(t, "changed elsewhere", password.Params{Memory: 8, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	f.store.beforeUpdate = func() {
		u := f.store.get(t, sessEmail)
		u.PasswordHash = other
		f.store.put(u)
	}
	sess, err := f.s.ChangePassword(ctx, a.User.ID, sessPassword, newPassword)
	if sess != nil || !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("ChangePassword racing another change = %v, %v; want ErrInvalidCredentials", sess, err)
	}
	if got := f.store.get(t, sessEmail).PasswordHash; got != other {
		t.Errorf("the concurrent change was overwritten")
	}
	if len(f.events.of(EventPasswordChanged)) != 0 {
		t.Errorf("EventPasswordChanged recorded for a change that did not happen")
	}
}

func TestChangePasswordStoreFailure(t *testing.T) {
	f := newSessFixture(t, Config{})
	a := f.signup(t)
	down := &storeError{"update"}
	f.store.failUpdate = down
	sess, err := f.s.ChangePassword(context.Background(), a.User.ID, sessPassword, newPassword)
	if sess != nil || !errors.Is(err, down) || errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("ChangePassword with the store down = %v, %v; want the store's error, wrapped", sess, err)
	}
	f.refresh(t, a.RefreshToken) // nothing was revoked
}

// upgradeCase is a stored argon2id hash and whether Login must replace it.
type upgradeCase struct {
	name    string
	stored  password.Params // the stored hash's parameters
	cfg     password.Params // Config.Params
	upgrade bool
}

func TestLoginUpgradesHash(t *testing.T) {
	// sessParams: m=7168, t=5 (m×t = 35840).
	tests := []upgradeCase{
		{"fewer passes", password.Params{Memory: 7168, Iterations: 4, Parallelism: 1, SaltLen: 16, KeyLen: 32}, sessParams, true},
		{"more memory, smaller product", password.Params{Memory: 12288, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}, sessParams, true},
		{"shorter salt", password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 8, KeyLen: 32}, sessParams, true},
		{"shorter key", password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 16}, sessParams, true},
		{"the brief's m=12288,t=3 under the defaults", password.Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32}, password.DefaultParams(), true},
		{"the same", sessParams, sessParams, false},
		{"more passes", password.Params{Memory: 7168, Iterations: 6, Parallelism: 1, SaltLen: 16, KeyLen: 32}, sessParams, false},
		{"fewer passes, larger product", password.Params{Memory: 36864, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, sessParams, false},
		{"m=12288,t=3 under sessParams", password.Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32}, sessParams, false},
		{"longer salt and key", password.Params{Memory: 7168, Iterations: 5, Parallelism: 2, SaltLen: 32, KeyLen: 64}, sessParams, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testUpgrade(t, tt)
		})
	}
}

func testUpgrade(t *testing.T, tt upgradeCase) {
	ctx := context.Background()
	rnd := &countingReader{r: rand.Reader}
	f := newSessFixture(t, Config{Params: tt.cfg, Rand: rnd})
	const pw = "\ufb01ne old passphrase" // the hash is of its NFKC form
	old := phcHash(t, pw, tt.stored)
	f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: old})

	before := rnd.n.Load()
	if _, err := f.s.Login(ctx, sessEmail, "fine old passphrase?"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login with a wrong password = %v", err)
	}
	if f.store.get(t, sessEmail).PasswordHash != old {
		t.Fatal("a failed login changed the hash")
	}
	// No new hash (no salt drawn) for a wrong password.
	if n := rnd.n.Load() - before; n != 0 {
		t.Errorf("a wrong password read %d random bytes: a hash was made for nothing", n)
	}
	if _, err := f.s.Login(ctx, sessEmail, pw); err != nil {
		t.Fatalf("Login: %v", err)
	}
	got := f.store.get(t, sessEmail).PasswordHash
	events := f.events.of(EventPasswordUpgraded)
	if !tt.upgrade {
		if got != old {
			t.Errorf("a hash at least as strong as Config.Params was replaced")
		}
		if len(events) != 0 {
			t.Errorf("EventPasswordUpgraded without an upgrade: %+v", events)
		}
		return
	}
	if got == old {
		t.Fatalf("the weaker hash was not replaced")
	}
	if p := phcParams(t, got); p != tt.cfg {
		t.Errorf("upgraded hash params = %+v; want %+v", p, tt.cfg)
	}
	if !verifies(t, pw, got) {
		t.Errorf("the upgraded hash does not verify the password")
	}
	if len(events) != 1 || events[0].UserID != "u1" || !strings.Contains(events[0].Reason, "argon2id") {
		t.Errorf("EventPasswordUpgraded events = %+v, want one for u1", events)
	}
	// Both spellings still log in (argon2id hashes NFKC), the wrong
	// password still fails, and nothing more is upgraded.
	for _, p := range []string{pw, "fine old passphrase"} {
		if _, err := f.s.Login(ctx, sessEmail, p); err != nil {
			t.Errorf("Login(%q) after the upgrade: %v", p, err)
		}
	}
	if _, err := f.s.Login(ctx, sessEmail, "fine old passphrase?"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with a wrong password after the upgrade = %v", err)
	}
	if f.store.get(t, sessEmail).PasswordHash != got || f.store.updates.Load() != 1 {
		t.Errorf("the hash was replaced again: %d updates", f.store.updates.Load())
	}
}

// weakHash returns a hash of pw weaker than sessParams (m=7168, t=4).
func weakHash(t *testing.T, pw string) string {
	t.Helper()
	return phcHash(t, pw, password.Params{Memory: 7168, Iterations: 4, Parallelism: 1, SaltLen: 16, KeyLen: 32})
}

func TestLoginUpgradeNeedsPasswordStore(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	events := &eventLog{}
	rnd := &countingReader{r: rand.Reader}
	s := newTestService(t, store, Config{Params: sessParams, Logger: discardLogger, OnEvent: events.add, Rand: rnd})
	// The random bytes a login reads without an upgrade: a user with a
	// hash of the current parameters.
	if _, err := s.Signup(ctx, NewUser{Name: "Bob", Email: "bob@example.com", Password: sessPassword}); err != nil {
		t.Fatal(err)
	}
	before := rnd.n.Load()
	if _, err := s.Login(ctx, "bob@example.com", sessPassword); err != nil {
		t.Fatal(err)
	}
	baseline := rnd.n.Load() - before

	old := weakHash(t, sessPassword)
	store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: old})
	before = rnd.n.Load()
	if _, err := s.Login(ctx, sessEmail, sessPassword); err != nil {
		t.Fatalf("Login: %v", err)
	}
	if got := store.get(t, sessEmail).PasswordHash; got != old {
		t.Errorf("the hash changed without a PasswordStore")
	}
	if ev := events.of(EventPasswordUpgraded); len(ev) != 0 {
		t.Errorf("EventPasswordUpgraded without a PasswordStore: %+v", ev)
	}
	// No salt was drawn: no hash was made that could not be stored.
	if n := rnd.n.Load() - before; n != baseline {
		t.Errorf("Login read %d random bytes, %d more than a login without an upgrade: a hash was computed for nothing", n, n-baseline)
	}
}

func TestLoginUpgradeFailure(t *testing.T) {
	ctx := context.Background()
	var logs bytes.Buffer
	f := newSessFixture(t, Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	old := weakHash(t, sessPassword)
	f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: old})

	t.Run("store failure", func(t *testing.T) {
		f.store.failUpdate = &storeError{"update"}
		defer func() { f.store.failUpdate = nil }()
		sess, err := f.s.Login(ctx, sessEmail, sessPassword)
		if err != nil || sess == nil {
			t.Fatalf("Login with UpdatePasswordHash failing = %v, %v; want a session", sess, err)
		}
		if f.store.get(t, sessEmail).PasswordHash != old {
			t.Errorf("the hash changed")
		}
		if ev := f.events.of(EventPasswordUpgraded); len(ev) != 0 {
			t.Errorf("EventPasswordUpgraded after a failed upgrade: %+v", ev)
		}
		out := logs.String()
		if !strings.Contains(out, "upgrading a password hash failed") {
			t.Errorf("the failure was not logged: %s", out)
		}
		if strings.Contains(out, sessPassword) || strings.Contains(out, old[len(old)-20:]) {
			t.Errorf("the log holds the password or the hash: %s", out)
		}
	})

	t.Run("concurrent change", func(t *testing.T) {
		other := weakHash(t, "changed elsewhere")
		f.store.beforeUpdate = func() {
			u := f.store.get(t, sessEmail)
			u.PasswordHash = other
			f.store.put(u)
		}
		defer func() { f.store.beforeUpdate = nil }()
		if _, err := f.s.Login(ctx, sessEmail, sessPassword); err != nil {
			t.Fatalf("Login: %v", err)
		}
		if f.store.get(t, sessEmail).PasswordHash != other {
			t.Errorf("the upgrade overwrote a concurrent change")
		}
		if ev := f.events.of(EventPasswordUpgraded); len(ev) != 0 {
			t.Errorf("EventPasswordUpgraded after a lost compare-and-set: %+v", ev)
		}
	})

	t.Run("next login upgrades", func(t *testing.T) {
		f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: old})
		if _, err := f.s.Login(ctx, sessEmail, sessPassword); err != nil {
			t.Fatalf("Login: %v", err)
		}
		if f.store.get(t, sessEmail).PasswordHash == old {
			t.Errorf("the hash was not upgraded once the store worked")
		}
	})
}

func TestImportUser(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	argonHash := weakHash(t, "imported argon2id password")
	bc, err := bcrypt.GenerateFromPassword([]byte("imported bcrypt password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	bcryptHash := string(bc)

	t.Run("argon2id, ID kept, email normalised", func(t *testing.T) {
		created := time.Date(2020, 7, 17, 6, 24, 41, 0, time.UTC)
		u, err := f.s.ImportUser(ctx, User{ID: "5ef5b4d2b56aad8240db229c", Email: "  Admin1@User.COM ", Name: " admin1 ", PasswordHash: argonHash, CreatedAt: created})
		if err != nil {
			t.Fatalf("ImportUser: %v", err)
		}
		want := User{ID: "5ef5b4d2b56aad8240db229c", Email: "admin1@user.com", Name: "admin1", CreatedAt: created}
		if u != want {
			t.Errorf("ImportUser = %+v, want %+v (no hash)", u, want)
		}
		stored := f.store.get(t, "admin1@user.com")
		if stored.PasswordHash != argonHash || stored.ID != want.ID || !stored.CreatedAt.Equal(created) {
			t.Errorf("stored %+v", stored)
		}
		sess, err := f.s.Login(ctx, "ADMIN1@user.com", "imported argon2id password")
		if err != nil {
			t.Fatalf("Login of the imported user: %v", err)
		}
		if c, err := f.s.VerifyToken(ctx, sess.Token); err != nil || c.UserID != "5ef5b4d2b56aad8240db229c" {
			t.Errorf("VerifyToken = %+v, %v; want userId 5ef5b4d2b56aad8240db229c", c, err)
		}
	})

	t.Run("bcrypt, ID drawn, CreatedAt now", func(t *testing.T) {
		u, err := f.s.ImportUser(ctx, User{Email: "bob@example.com", Name: "Bob", PasswordHash: bcryptHash})
		if err != nil {
			t.Fatalf("ImportUser: %v", err)
		}
		if id, err := hex.DecodeString(u.ID); err != nil || len(id) != 16 {
			t.Errorf("drawn ID %q is not 32 hex digits", u.ID)
		}
		if u.PasswordHash != "" || !u.CreatedAt.Equal(f.clk.Now()) {
			t.Errorf("ImportUser = %+v", u)
		}
		if f.store.get(t, "bob@example.com").PasswordHash != bcryptHash {
			t.Errorf("the bcrypt hash was not stored as given")
		}
		if _, err := f.s.Login(ctx, "bob@example.com", "imported bcrypt password"); err != nil {
			t.Fatalf("Login of the imported user: %v", err)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		for _, email := range []string{"bob@example.com", " BOB@Example.com"} {
			u, err := f.s.ImportUser(ctx, User{Email: email, Name: "Other Bob", PasswordHash: bcryptHash})
			if !errors.Is(err, ErrDuplicateEmail) || u != (User{}) {
				t.Errorf("ImportUser(%q) = %+v, %v; want ErrDuplicateEmail", email, u, err)
			}
		}
	})

	// A cost-31 hash, of the right shape: only the cost is wrong.
	cost31 := bcryptHash[:4] + "31" + bcryptHash[6:]
	badHashes := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "imported bcrypt password"},
		{"md5 hex", "5f4dcc3b5aa765d61d8327deb882cf99"},
		{"bcrypt cost 31", cost31},
		{"bcrypt cost 03", bcryptHash[:4] + "03" + bcryptHash[6:]},
		{"bcrypt $2x$", "$2x$" + bcryptHash[4:]},
		{"bcrypt truncated", bcryptHash[:59]},
		{"bcrypt bad alphabet", bcryptHash[:40] + "+" + bcryptHash[41:]},
		{"argon2i", strings.Replace(argonHash, "$argon2id$", "$argon2i$", 1)},
		{"argon2id v=16", strings.Replace(argonHash, "v=19", "v=16", 1)},
		{"argon2id m over 1 GiB", strings.Replace(argonHash, "m=7168", "m=1048577", 1)},
		{"argon2id truncated", argonHash[:len(argonHash)-10]},
		{"argon2id newline", argonHash + "\n"},
	}
	for _, tt := range badHashes {
		t.Run("hash "+tt.name, func(t *testing.T) {
			u, err := f.s.ImportUser(ctx, User{Email: "carol@example.com", Name: "Carol", PasswordHash: tt.hash})
			if u != (User{}) {
				t.Errorf("ImportUser returned %+v", u)
			}
			wantFieldError(t, err, "passwordHash", tt.hash)
		})
	}

	for _, id := range []string{"has space", "a/b", "a.b", "caf\u00e9", strings.Repeat("x", 65), "id\n", "id;drop"} {
		t.Run("id "+id, func(t *testing.T) {
			_, err := f.s.ImportUser(ctx, User{ID: id, Email: "carol@example.com", Name: "Carol", PasswordHash: bcryptHash})
			wantFieldError(t, err, "id", "")
		})
	}
	for i, id := range []string{"x", strings.Repeat("x", 64), "550e8400-e29b-41d4-a716-446655440000", "A_b-9"} {
		u, err := f.s.ImportUser(ctx, User{ID: id, Email: fmt.Sprintf("id%d@example.com", i), Name: "Carol", PasswordHash: bcryptHash})
		if err != nil || u.ID != id {
			t.Errorf("ImportUser(ID %q) = %+v, %v", id, u, err)
		}
	}

	t.Run("ID taken", func(t *testing.T) {
		u, err := f.s.ImportUser(ctx, User{ID: "5ef5b4d2b56aad8240db229c", Email: "carol@example.com", Name: "Carol", PasswordHash: bcryptHash})
		if err == nil || errors.Is(err, ErrDuplicateEmail) || u != (User{}) {
			t.Errorf("ImportUser with a taken ID = %+v, %v; want a store error, not ErrDuplicateEmail", u, err)
		}
		if got, err := f.store.UserByID(ctx, "5ef5b4d2b56aad8240db229c"); err != nil || got.Email != "admin1@user.com" {
			t.Errorf("the account with that ID is now %+v, %v", got, err)
		}
	})

	t.Run("name and email", func(t *testing.T) {
		_, err := f.s.ImportUser(ctx, User{Email: "carol@example.com", Name: "", PasswordHash: bcryptHash})
		wantFieldError(t, err, "name", "")
		_, err = f.s.ImportUser(ctx, User{Email: "Carol <carol@example.com>", Name: "Carol", PasswordHash: bcryptHash})
		wantFieldError(t, err, "email", "")
	})

	if _, err := f.s.Login(ctx, "carol@example.com", "imported bcrypt password"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("a refused import created an account: Login = %v", err)
	}
}

// TestImportUserDoesNotRunBcrypt checks that ImportUser validates a
// bcrypt hash by its form, without running bcrypt: an import is not a
// login, costs no hashing slot, and a bulk import of cost-12 hashes (a
// second each, several under load) would otherwise take days. The hash
// is a cost-4 hash relabelled cost 12: valid in form, and bcrypt would
// run its 2^12 rounds before finding it matches nothing.
func TestImportUserDoesNotRunBcrypt(t *testing.T) {
	f := newSessFixture(t, Config{})
	bc, err := bcrypt.GenerateFromPassword([]byte("imported bcrypt password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(bc[:4]) + "12" + string(bc[6:])
	start := time.Now()
	if _, err := f.s.ImportUser(context.Background(), User{Email: "dave@example.com", Name: "Dave", PasswordHash: hash}); err != nil {
		t.Fatalf("ImportUser: %v", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("ImportUser of a cost-12 bcrypt hash took %v: it ran bcrypt to validate the hash", d)
	}
}
