package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"

	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

func TestNewRejects(t *testing.T) {
	secret31 := []byte(strings.Repeat("s", 31))
	tests := []struct {
		name  string
		store UserStore
		cfg   Config
	}{
		{"nil store", nil, Config{Secret: testSecret}},
		{"no secret", newFakeStore(), Config{}},
		{"empty secret", newFakeStore(), Config{Secret: []byte{}}},
		{"31-byte secret", newFakeStore(), Config{Secret: secret31}},
		{"weak params (m=4096,t=2)", newFakeStore(), Config{Secret: testSecret, Params: password.Params{Memory: 4096, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}}},
		{"weak params (m=19456,t=1)", newFakeStore(), Config{Secret: testSecret, Params: password.Params{Memory: 19456, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}}},
		{"8-byte salt", newFakeStore(), Config{Secret: testSecret, Params: password.Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 8, KeyLen: 32}}},
		{"memory above 1 GiB", newFakeStore(), Config{Secret: testSecret, Params: password.Params{Memory: 1<<20 + 1, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}}},
		{"p=0", newFakeStore(), Config{Secret: testSecret, Params: password.Params{Memory: 19456, Iterations: 2, SaltLen: 16, KeyLen: 32}}},
		{"partial params are not filled in", newFakeStore(), Config{Secret: testSecret, Params: password.Params{Memory: 65536}}},
		{"negative TokenTTL", newFakeStore(), Config{Secret: testSecret, TokenTTL: -time.Second}},
		{"negative HashWait", newFakeStore(), Config{Secret: testSecret, HashWait: -1}},
		{"negative MaxTokenBytes", newFakeStore(), Config{Secret: testSecret, MaxTokenBytes: -1}},
		{"negative MaxConcurrentHashes", newFakeStore(), Config{Secret: testSecret, MaxConcurrentHashes: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.store, tt.cfg)
			if s != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v, %v; want nil, error wrapping ErrInvalidConfig", s, err)
			}
			if len(tt.cfg.Secret) > 0 && strings.Contains(err.Error(), string(tt.cfg.Secret)) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	s := newTestService(t, newFakeStore(), Config{})
	if s.ttl != time.Hour {
		t.Errorf("TokenTTL = %v, want 1h", s.ttl)
	}
	if n := maxTokenBytes(t, s); n != 4096 {
		t.Errorf("MaxTokenBytes = %d, want 4096", n)
	}
	// MaxConcurrentHashes and HashWait pass to password.New as they are:
	// its tests check their defaults.
	if s.hasher.Params() != defaultParams {
		t.Errorf("Params = %+v, want %+v", s.hasher.Params(), defaultParams)
	}
	if s.rand != rand.Reader {
		t.Errorf("Rand = %v, want crypto/rand.Reader", s.rand)
	}
	if s.issuer != "" || s.audience != "" {
		t.Errorf("issuer, audience = %q, %q; want empty", s.issuer, s.audience)
	}
	if d := time.Since(s.now()); d < 0 || d > time.Hour {
		t.Errorf("Now() = %v, not the wall clock", s.now())
	}

	// The token's exp - iat is the default TTL.
	tok, exp, err := s.IssueToken(context.Background(), User{ID: "u1", Email: "a@b.co", Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	claims := tokentest.Payload(t, tok)
	if d := claims["exp"].(float64) - claims["iat"].(float64); d != 3600 {
		t.Errorf("exp - iat = %v, want 3600", d)
	}
	if int64(claims["exp"].(float64)) != exp.Unix() {
		t.Errorf("IssueToken expires = %v, token exp = %v", exp.Unix(), claims["exp"])
	}
}

func TestNewCopiesSecret(t *testing.T) {
	secret := []byte(string(testSecret))
	s := newTestService(t, newFakeStore(), Config{Secret: secret})
	tok, _, err := s.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range secret {
		secret[i] = 0
	}
	if _, err := s.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("after the caller changed its Secret slice: VerifyToken = %v", err)
	}
}

func TestSignupLogin(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	clk := testclock.New(time.Date(2024, 2, 29, 12, 0, 0, 500, time.UTC))
	s := newTestService(t, store, Config{Now: clk.Now})

	const password = "correct horse battery staple"
	sess, err := s.Signup(ctx, NewUser{Name: "  Alice Liddell ", Email: " Alice@Example.COM ", Password: password})
	if err != nil {
		t.Fatalf("Signup: %v", err)
	}
	u := sess.User
	if u.Name != "Alice Liddell" || u.Email != "alice@example.com" {
		t.Errorf("Signup user name, email = %q, %q; want normalised", u.Name, u.Email)
	}
	if id, err := hex.DecodeString(u.ID); err != nil || len(id) != 16 || strings.ToLower(u.ID) != u.ID {
		t.Errorf("user ID %q is not 32 lower-case hex digits", u.ID)
	}
	if u.PasswordHash != "" {
		t.Errorf("Signup session carries the password hash %q", u.PasswordHash)
	}
	if !u.CreatedAt.Equal(clk.Now()) {
		t.Errorf("CreatedAt = %v, want %v", u.CreatedAt, clk.Now())
	}
	if want := clk.Now().Truncate(time.Second).Add(time.Hour); !sess.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", sess.ExpiresAt, want)
	}
	if c, err := s.VerifyToken(ctx, sess.Token); err != nil || c.UserID != u.ID || c.Email != u.Email || c.UserName != u.Name {
		t.Errorf("VerifyToken(signup token) = %+v, %v", c, err)
	}

	// What the store keeps: the normalised fields and a default argon2id hash.
	stored := store.get(t, "alice@example.com")
	if stored.ID != u.ID || stored.Name != u.Name || !stored.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("stored %+v, returned %+v", stored, u)
	}
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("stored hash %q is not argon2id with the default parameters", stored.PasswordHash)
	}
	if p := phcParams(t, stored.PasswordHash); p != defaultParams {
		t.Errorf("stored hash params = %+v, want %+v", p, defaultParams)
	}
	if strings.Contains(stored.PasswordHash, password) {
		t.Errorf("stored hash contains the password")
	}

	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", "\talice@example.com\n", "\uff41lice@example.com"} {
		sess, err := s.Login(ctx, email, password)
		if err != nil {
			t.Errorf("Login(%q): %v", email, err)
			continue
		}
		if sess.User.ID != u.ID || sess.User.Email != u.Email || sess.User.Name != u.Name {
			t.Errorf("Login(%q) user = %+v, want %+v", email, sess.User, u)
		}
		if sess.User.PasswordHash != "" {
			t.Errorf("Login session carries the password hash")
		}
		if c, err := s.VerifyToken(ctx, sess.Token); err != nil || c.UserID != u.ID {
			t.Errorf("VerifyToken(login token) = %+v, %v", c, err)
		}
	}
}

func TestLoginInvalidCredentials(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	rnd := &countingReader{r: rand.Reader}
	s := newTestService(t, store, Config{Rand: rnd})
	if _, err := s.Signup(ctx, NewUser{Name: "Bob", Email: "bob@example.com", Password: "open sesame"}); err != nil {
		t.Fatal(err)
	}

	before := rnd.n.Load()
	_, errWrong := s.Login(ctx, "bob@example.com", "open sesame!")
	if n := rnd.n.Load() - before; n != 0 {
		t.Errorf("wrong password read %d random bytes, want 0", n)
	}
	before = rnd.n.Load()
	_, errUnknown := s.Login(ctx, "nobody@example.com", "open sesame")
	// The unknown email must cost a hash with the current parameters: a
	// fresh salt is the visible sign of it.
	if n := rnd.n.Load() - before; n != int64(defaultParams.SaltLen) {
		t.Errorf("unknown email read %d random bytes, want %d (a dummy hash)", n, defaultParams.SaltLen)
	}
	_, errShort := s.Login(ctx, "bob@example.com", "short") // below the sign-up minimum: still just wrong

	for name, err := range map[string]error{"wrong password": errWrong, "unknown email": errUnknown, "short password": errShort} {
		if !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: err = %v, want ErrInvalidCredentials", name, err)
			continue
		}
		if err.Error() != ErrInvalidCredentials.Error() {
			t.Errorf("%s: Error() = %q, want %q", name, err, ErrInvalidCredentials)
		}
		var fe *FieldError
		if errors.As(err, &fe) || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: err = %v also says more than ErrInvalidCredentials", name, err)
		}
	}
}

func TestLoginFieldErrors(t *testing.T) {
	// A failing store shows that none of these reach it.
	s := newTestService(t, failingStore{&storeError{"all"}}, Config{})
	ctx := context.Background()
	tests := []struct{ name, email, password, field string }{
		{"empty email", "", "password", "email"},
		{"bad email", "Bob <bob@example.com>", "password", "email"},
		{"empty password", "bob@example.com", "", "password"},
		{"password over 1024 bytes", "bob@example.com", strings.Repeat("p", 1025), "password"},
		{"invalid UTF-8 password", "bob@example.com", "pass\xffword", "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := s.Login(ctx, tt.email, tt.password)
			if sess != nil {
				t.Errorf("Login returned a session")
			}
			wantFieldError(t, err, tt.field, tt.password)
		})
	}
}

func TestSignupFieldErrors(t *testing.T) {
	s := newTestService(t, failingStore{&storeError{"all"}}, Config{})
	ctx := context.Background()
	tests := []struct {
		name  string
		nu    NewUser
		field string
	}{
		{"empty name", NewUser{Name: " ", Email: "a@example.com", Password: "password1"}, "name"},
		{"control in name", NewUser{Name: "A\nB", Email: "a@example.com", Password: "password1"}, "name"},
		{"long name", NewUser{Name: strings.Repeat("n", 101), Email: "a@example.com", Password: "password1"}, "name"},
		{"bad email", NewUser{Name: "A", Email: "a@localhost", Password: "password1"}, "email"},
		{"display-name email", NewUser{Name: "A", Email: "A <a@example.com>", Password: "password1"}, "email"},
		{"7-character password", NewUser{Name: "A", Email: "a@example.com", Password: "pass\u00e9d1"}, "password"},
		{"1025-byte password", NewUser{Name: "A", Email: "a@example.com", Password: strings.Repeat("p", 1025)}, "password"},
		{"password is the email", NewUser{Name: "A", Email: "alice@example.com", Password: "alice@example.com"}, "password"},
		{"password is the email, cased", NewUser{Name: "A", Email: "alice@example.com", Password: "Alice@Example.COM"}, "password"},
		{"password is the email as typed", NewUser{Name: "A", Email: " ALICE@example.com ", Password: "alice@EXAMPLE.com"}, "password"},
		{"password is the name", NewUser{Name: "Bob the Builder", Email: "b@example.com", Password: "Bob the Builder"}, "password"},
		{"password is the name, cased", NewUser{Name: "  Bob the Builder ", Email: "b@example.com", Password: "bob THE builder"}, "password"},
		{"password is the name, fullwidth", NewUser{Name: "Bob the Builder", Email: "b@example.com", Password: "\uff42\uff4f\uff42 the builder"}, "password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := s.Signup(ctx, tt.nu)
			if sess != nil {
				t.Errorf("Signup returned a session")
			}
			secret := tt.nu.Password
			if tt.field != "password" {
				secret = ""
			}
			wantFieldError(t, err, tt.field, secret)
		})
	}
}

func TestSignupDuplicate(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, newFakeStore(), Config{})
	if _, err := s.Signup(ctx, NewUser{Name: "Carol", Email: "carol@example.com", Password: "first password"}); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"carol@example.com", "  CAROL@Example.Com"} {
		sess, err := s.Signup(ctx, NewUser{Name: "Other Carol", Email: email, Password: "second password"})
		if sess != nil || !errors.Is(err, ErrDuplicateEmail) {
			t.Errorf("Signup(%q) again = %v, %v; want ErrDuplicateEmail", email, sess, err)
		}
	}
	// The first account is untouched.
	if _, err := s.Login(ctx, "carol@example.com", "first password"); err != nil {
		t.Errorf("Login with the first password: %v", err)
	}
}

// TestStoredASCIIDomain: an account stored with its domain in A-labels,
// as NormalizeEmail no longer returns it, logs in under either spelling of
// the domain, and neither spelling can be registered again.
func TestStoredASCIIDomain(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newTestService(t, store, Config{})
	const password = "first password"
	h := phcHash(t, password, defaultParams)
	store.put(User{ID: "stored", Email: "admin1@xn--usr-cma.com", Name: "Admin", PasswordHash: h})

	spellings := []string{"admin1@us\u00e9r.com", "admin1@xn--usr-cma.com", "ADMIN1@US\u00c9R.COM", "admin1@use\u0301r.com"}
	for _, email := range spellings {
		if sess, err := s.Login(ctx, email, password); err != nil || sess.User.ID != "stored" {
			t.Errorf("Login(%+q) = %v, %v; want the stored account", email, sess, err)
		}
		if sess, err := s.Signup(ctx, NewUser{Name: "Other", Email: email, Password: "second password"}); !errors.Is(err, ErrDuplicateEmail) {
			t.Errorf("Signup(%+q) = %v, %v; want ErrDuplicateEmail", email, sess, err)
		}
		if u, err := s.ImportUser(ctx, User{Name: "Other", Email: email, PasswordHash: h}); !errors.Is(err, ErrDuplicateEmail) {
			t.Errorf("ImportUser(%+q) = %+v, %v; want ErrDuplicateEmail", email, u, err)
		}
	}
	if _, err := s.Login(ctx, "admin2@us\u00e9r.com", password); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login of an unknown address at the same domain: %v, want ErrInvalidCredentials", err)
	}
	if _, err := s.Signup(ctx, NewUser{Name: "Two", Email: "admin2@xn--usr-cma.com", Password: "second password"}); err != nil {
		t.Fatalf("Signup of another address at the same domain: %v", err)
	}
	store.get(t, "admin2@us\u00e9r.com") // stored in U-labels
}

func TestStoreFailureWrapped(t *testing.T) {
	ctx := context.Background()
	down := &storeError{"all"}
	s := newTestService(t, failingStore{down}, Config{})

	_, errSignup := s.Signup(ctx, NewUser{Name: "Dan", Email: "dan@example.com", Password: "password 123"})
	_, errLogin := s.Login(ctx, "dan@example.com", "password 123")
	for name, err := range map[string]error{"Signup": errSignup, "Login": errLogin} {
		if !errors.Is(err, down) {
			t.Errorf("%s: err = %v, want it to wrap the store's error", name, err)
		}
		var se *storeError
		if !errors.As(err, &se) {
			t.Errorf("%s: errors.As(*storeError) = false", name)
		}
		for _, sentinel := range []error{ErrInvalidCredentials, ErrNotFound, ErrDuplicateEmail, ErrInvalidField, ErrBusy} {
			if errors.Is(err, sentinel) {
				t.Errorf("%s: store failure %v reads as %v", name, err, sentinel)
			}
		}
	}
}

func TestRandFailure(t *testing.T) {
	s := newTestService(t, newFakeStore(), Config{Rand: errReader{errNoEntropy}})
	ctx := context.Background()
	if _, err := s.Signup(ctx, NewUser{Name: "E", Email: "e@example.com", Password: "password 123"}); !errors.Is(err, errNoEntropy) {
		t.Errorf("Signup with failing Rand: %v", err)
	}
	if _, _, err := s.IssueToken(context.Background(), User{ID: "x"}); !errors.Is(err, errNoEntropy) {
		t.Errorf("IssueToken with failing Rand: %v", err)
	}
}

func TestLoginStoredHash(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newTestService(t, store, Config{})
	const password = "hunter2hunter2"

	// A hash made with other (valid) parameters still logs in: changing
	// Config.Params locks nobody out.
	old := phcHash(t, password, m12288t3)
	store.put(User{ID: "old", Email: "old@example.com", Name: "Old", PasswordHash: old})
	if sess, err := s.Login(ctx, "old@example.com", password); err != nil || sess.User.ID != "old" {
		t.Errorf("Login with an m=12288,t=3 hash: %v", err)
	}

	bad := map[string]string{
		"garbage":        "not a hash",
		"empty":          "",
		"bcrypt cost 31": "$2a$31$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", // hours per check
		"bcrypt $2x$":    "$2x$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"bcrypt short":   "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhW",
		"4 GiB":          "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"t=1000":         "$argon2id$v=19$m=19456,t=1000,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"argon2i":        "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"truncated":      "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh",
		"padded salt":    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA==$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
	}
	for name, h := range bad {
		email := strings.ReplaceAll(strings.ToLower(name), " ", "-") + "@example.com"
		store.put(User{ID: "id-" + name, Email: email, Name: name, PasswordHash: h})
		sess, err := s.Login(ctx, email, password)
		if sess != nil || !errors.Is(err, ErrInvalidHash) {
			t.Errorf("%s: Login = %v, %v; want ErrInvalidHash", name, sess, err)
		}
		if errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("%s: an undecodable hash reads as ErrInvalidCredentials", name)
		}
		if err != nil && h != "" && strings.Contains(err.Error(), h) {
			t.Errorf("%s: error %q contains the stored hash", name, err)
		}
	}
}

func TestSignupParams(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	p := password.Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 24, KeyLen: 48}
	s := newTestService(t, store, Config{Params: p})
	if _, err := s.Signup(ctx, NewUser{Name: "F", Email: "f@example.com", Password: "password 123"}); err != nil {
		t.Fatal(err)
	}
	h := store.get(t, "f@example.com").PasswordHash
	if got := phcParams(t, h); got != p {
		t.Errorf("stored hash %q: params %+v; want %+v", h, got, p)
	}
	// Another Service with the defaults, on the same store, logs the user in.
	s2 := newTestService(t, store, Config{})
	if _, err := s2.Login(ctx, "f@example.com", "password 123"); err != nil {
		t.Errorf("Login with default params: %v", err)
	}
}

// TestLoginUnicodeEquivalence: a password signed up with a composed é logs
// in when typed with a decomposed one, and the reverse.
func TestLoginUnicodeEquivalence(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, newFakeStore(), Config{})
	composed, decomposed := "cr\u00e8me br\u00fbl\u00e9e", "cre\u0300me bru\u0302le\u0301e"
	if _, err := s.Signup(ctx, NewUser{Name: "G", Email: "g@example.com", Password: composed}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "g@example.com", decomposed); err != nil {
		t.Errorf("Login with the decomposed password: %v", err)
	}
	if _, err := s.Signup(ctx, NewUser{Name: "H", Email: "h@example.com", Password: decomposed}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "h@example.com", composed); err != nil {
		t.Errorf("Login with the composed password: %v", err)
	}
}

func TestHashSlotBusy(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	g := &gateRand{}
	s := newTestService(t, store, Config{MaxConcurrentHashes: 1, HashWait: time.Millisecond, Rand: g})
	if _, err := s.Signup(ctx, NewUser{Name: "I", Email: "i@example.com", Password: "password 123"}); err != nil {
		t.Fatal(err)
	}

	release := occupySlot(t, s, g)
	if _, err := s.Login(ctx, "i@example.com", "password 123"); !errors.Is(err, ErrBusy) {
		t.Errorf("Login with the slot taken: %v, want ErrBusy", err)
	}
	if _, err := s.Login(ctx, "unknown@example.com", "password 123"); !errors.Is(err, ErrBusy) {
		t.Errorf("Login of an unknown email with the slot taken: %v, want ErrBusy (the dummy hash needs a slot too)", err)
	}
	if _, err := s.Signup(ctx, NewUser{Name: "J", Email: "j@example.com", Password: "password 123"}); !errors.Is(err, ErrBusy) {
		t.Errorf("Signup with the slot taken: %v, want ErrBusy", err)
	}
	if _, err := store.UserByEmail(ctx, "j@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a busy Signup created the user")
	}

	release()
	if _, err := s.Login(ctx, "i@example.com", "password 123"); err != nil {
		t.Errorf("Login after the slot was released: %v", err)
	}
}

func TestHashSlotContextCanceled(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore() // ignores ctx, so Login gets as far as the slot
	g := &gateRand{}
	s := newTestService(t, store, Config{MaxConcurrentHashes: 1, HashWait: time.Hour, Rand: g})
	occupySlot(t, s, g)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Login(canceled, "k@example.com", "password 123"); !errors.Is(err, context.Canceled) {
		t.Errorf("Login with a canceled ctx while waiting: %v, want context.Canceled", err)
	}
	if _, err := s.Signup(canceled, NewUser{Name: "K", Email: "k@example.com", Password: "password 123"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Signup with a canceled ctx while waiting: %v, want context.Canceled", err)
	}
}

// TestSignupDuplicateEquivalentEmail: two spellings of one address that
// normalise alike (capital W plus combining ring, and the precomposed small
// ẘ) must not make two accounts.
func TestSignupDuplicateEquivalentEmail(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, newFakeStore(), Config{})
	if _, err := s.Signup(ctx, NewUser{Name: "W", Email: "\u1e98@example.com", Password: "first password"}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Signup(ctx, NewUser{Name: "W", Email: "W\u030a@Example.com", Password: "second password"})
	if !errors.Is(err, ErrDuplicateEmail) {
		t.Errorf("Signup of an equivalent address: %v, want ErrDuplicateEmail", err)
	}
}

// TestTOTPIssuer checks the issuer name of otpauth URIs: TOTPIssuer if
// set and valid (New refuses an invalid one), else the host of Issuer if
// it is a URL, else Issuer if it is a valid name, else "Gatehouse".
func TestTOTPIssuer(t *testing.T) {
	long := strings.Repeat("a", 101)
	for _, tt := range []struct{ issuer, totpIssuer, want string }{
		{"", "", "Gatehouse"},
		{"https://auth.example.com/v1", "", "auth.example.com"},
		{"Example Co", "", "Example Co"},
		{"urn:example:auth", "", "Gatehouse"},
		{"https://" + long + ".example.com", "", "Gatehouse"},
		{long, "", "Gatehouse"},
		{"https://auth.example.com", "Example Co", "Example Co"},
	} {
		s, err := New(newFakeStore(), Config{Secret: testSecret, Issuer: tt.issuer, TOTPIssuer: tt.totpIssuer})
		if err != nil {
			t.Errorf("New with Issuer %q, TOTPIssuer %q: %v", tt.issuer, tt.totpIssuer, err)
			continue
		}
		if s.mfa.issuer != tt.want {
			t.Errorf("Issuer %q, TOTPIssuer %q: otpauth issuer %q, want %q", tt.issuer, tt.totpIssuer, s.mfa.issuer, tt.want)
		}
	}
	for _, bad := range []string{long, "Example: Co", "Example\nCo"} {
		if _, err := New(newFakeStore(), Config{Secret: testSecret, TOTPIssuer: bad}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New with TOTPIssuer %q: %v, want ErrInvalidConfig", bad, err)
		}
	}
}
