package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// bcryptHash returns a $2a$ hash of pw at the minimum cost, as Go makes
// them.
func bcryptHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(h), "$2a$04$") {
		t.Fatalf("bcrypt hash %q is not $2a$04$", h)
	}
	return string(h)
}

// wantUpgradedFromBcrypt fails the test unless the stored hash of email
// is argon2id with sessParams, verifying pw.
func wantUpgradedFromBcrypt(t *testing.T, f *sessFixture, email, pw string) string {
	t.Helper()
	got := f.store.get(t, email).PasswordHash
	if p := phcParams(t, got); p != sessParams {
		t.Fatalf("after login the stored hash %q is not argon2id with Config.Params: %+v", got, p)
	}
	if !verifies(t, pw, got) {
		t.Fatalf("the upgraded hash does not verify the password")
	}
	return got
}

func TestBcryptVariants(t *testing.T) {
	ctx := context.Background()
	for _, pw := range []string{"legacy password 1", "p\u00e4ssw\u00f6rd \u2713 123"} {
		base := bcryptHash(t, pw)
		for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
			t.Run(prefix+pw, func(t *testing.T) {
				f := newSessFixture(t, Config{})
				hash := prefix + base[4:]
				f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: hash})
				if _, err := f.s.Login(ctx, sessEmail, pw+"!"); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatalf("Login with a wrong password = %v, want ErrInvalidCredentials", err)
				}
				if f.store.get(t, sessEmail).PasswordHash != hash {
					t.Fatalf("a failed login replaced the bcrypt hash")
				}
				sess, err := f.s.Login(ctx, sessEmail, pw)
				if err != nil {
					t.Fatalf("Login: %v", err)
				}
				if sess.User.ID != "u1" || sess.User.PasswordHash != "" {
					t.Errorf("Login user = %+v", sess.User)
				}
				upgraded := wantUpgradedFromBcrypt(t, f, sessEmail, pw)
				ev := f.events.of(EventPasswordUpgraded)
				if len(ev) != 1 || ev[0].UserID != "u1" || !strings.Contains(ev[0].Reason, "bcrypt") {
					t.Errorf("EventPasswordUpgraded events = %+v, want one from bcrypt", ev)
				}
				// Now an argon2id user like any other.
				if _, err := f.s.Login(ctx, sessEmail, pw); err != nil {
					t.Errorf("Login after the upgrade: %v", err)
				}
				if _, err := f.s.Login(ctx, sessEmail, pw+"!"); !errors.Is(err, ErrInvalidCredentials) {
					t.Errorf("Login with a wrong password after the upgrade = %v", err)
				}
				if f.store.get(t, sessEmail).PasswordHash != upgraded {
					t.Errorf("the argon2id hash was replaced again")
				}
			})
		}
	}
}

func TestBcryptWithoutPasswordStore(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newTestService(t, store, Config{Params: sessParams, Logger: discardLogger})
	const pw = "legacy password 1"
	hash := "$2y$" + bcryptHash(t, pw)[4:]
	store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: hash})
	for range 2 {
		if _, err := s.Login(ctx, sessEmail, pw); err != nil {
			t.Fatalf("Login: %v", err)
		}
	}
	if store.get(t, sessEmail).PasswordHash != hash {
		t.Errorf("the hash changed without a PasswordStore")
	}
}

func TestBcrypt72Bytes(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	// 100 bytes; a legacy system that truncated silently stored a hash
	// of the first 72.
	full := strings.Repeat("0123456789", 10)
	prefix := full[:72]
	f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: bcryptHash(t, prefix)})

	// Before the upgrade, like every bcrypt: only 72 bytes count (the
	// failed login replaces nothing).
	if _, err := f.s.Login(ctx, sessEmail, full[:71]); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with 71 of the 72 bytes = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.Login(ctx, sessEmail, full); err != nil {
		t.Fatalf("Login with the full 100-byte password: %v", err)
	}
	wantUpgradedFromBcrypt(t, f, sessEmail, full)
	// The argon2id hash covers every byte.
	if _, err := f.s.Login(ctx, sessEmail, prefix); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with the 72-byte prefix after the upgrade = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.Login(ctx, sessEmail, full[:99]); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Login with 99 of the 100 bytes after the upgrade = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.Login(ctx, sessEmail, full); err != nil {
		t.Errorf("Login with the full password after the upgrade: %v", err)
	}
}

func TestBcryptRawPassword(t *testing.T) {
	// bcrypt hashes are checked against the password as typed: the old
	// system did not normalise it.
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	const typed = "\ufb01nancial secret" // "ﬁ" ligature
	const nfkc = "financial secret"
	f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: bcryptHash(t, typed)})

	if _, err := f.s.Login(ctx, sessEmail, nfkc); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("Login with the NFKC form against a bcrypt hash of the typed form = %v, want ErrInvalidCredentials", err)
	}
	if _, err := f.s.Login(ctx, sessEmail, typed); err != nil {
		t.Fatalf("Login as typed: %v", err)
	}
	wantUpgradedFromBcrypt(t, f, sessEmail, typed)
	// Now argon2id of the NFKC form: both spellings log in, as for any
	// account made by Signup.
	for _, pw := range []string{typed, nfkc} {
		if _, err := f.s.Login(ctx, sessEmail, pw); err != nil {
			t.Errorf("Login(%q) after the upgrade: %v", pw, err)
		}
	}

	t.Run("a bcrypt hash of the NFKC form", func(t *testing.T) {
		f := newSessFixture(t, Config{})
		f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: bcryptHash(t, nfkc)})
		if _, err := f.s.Login(ctx, sessEmail, typed); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login with the ligature against a bcrypt hash of its NFKC form = %v, want ErrInvalidCredentials", err)
		}
	})
}

func TestBcryptCost(t *testing.T) {
	const pw = "legacy password 1"
	base := bcryptHash(t, pw)
	// Relabelled: bcrypt would need 2^17 rounds (seconds) and more to
	// check these; they must be refused before any work.
	for _, cost := range []string{"17", "20", "31", "99", "03", "00"} {
		hash := base[:4] + cost + base[6:]
		t.Run(cost, func(t *testing.T) {
			f := newSessFixture(t, Config{})
			f.store.put(User{ID: "u1", Email: sessEmail, Name: "Ada", PasswordHash: hash})
			sess, err := f.s.Login(context.Background(), sessEmail, pw)
			if sess != nil || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Login against a cost-%s hash = %v, %v; want ErrInvalidHash", cost, sess, err)
			}
			if f.store.get(t, sessEmail).PasswordHash != hash {
				t.Errorf("the hash was replaced")
			}
		})
	}
}
