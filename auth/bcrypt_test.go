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
// is argon2id with params, verifying password (prepared).
func wantUpgradedFromBcrypt(t *testing.T, f *sessFixture, email, password string) string {
	t.Helper()
	got := f.store.get(t, email).PasswordHash
	p, _, _, err := decodePHC(got)
	if err != nil || p != sessParams {
		t.Fatalf("after login the stored hash %q is not argon2id with Config.Params: %+v, %v", got, p, err)
	}
	prepared, err := preparePassword(password, false)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := verifyPassword(nil, prepared, got); !ok || err != nil {
		t.Fatalf("the upgraded hash does not verify the password: %v, %v", ok, err)
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
				if ok, err := verifyBcrypt(pw, hash); !ok || err != nil {
					t.Fatalf("verifyBcrypt(right password) = %v, %v", ok, err)
				}
				for _, wrong := range []string{pw + " ", pw[:len(pw)-1], strings.ToUpper(pw), ""} {
					if ok, err := verifyBcrypt(wrong, hash); ok || err != nil {
						t.Errorf("verifyBcrypt(%q) = %v, %v; want false, nil", wrong, ok, err)
					}
				}
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

	// Before the upgrade, like every bcrypt: only 72 bytes count.
	hash := f.store.get(t, sessEmail).PasswordHash
	for _, pw := range []string{full, prefix, prefix + "anything"} {
		if ok, err := verifyBcrypt(pw, hash); !ok || err != nil {
			t.Errorf("verifyBcrypt(%d bytes) = %v, %v; want true", len(pw), ok, err)
		}
	}
	if ok, err := verifyBcrypt(full[:71], hash); ok || err != nil {
		t.Errorf("verifyBcrypt(71 bytes) = %v, %v; want false, nil", ok, err)
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
			ok, err := verifyBcrypt(pw, hash)
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("verifyBcrypt(cost %s) = %v, %v; want false, ErrInvalidHash", cost, ok, err)
			}
			if err := checkStoredHash(hash); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("checkStoredHash(cost %s) = %v, want ErrInvalidHash", cost, err)
			}
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
	// Costs 4 to 16 are accepted (4 checked for real; 16 by form only).
	if ok, err := verifyBcrypt(pw, base); !ok || err != nil {
		t.Errorf("verifyBcrypt(cost 4) = %v, %v", ok, err)
	}
	if !isBcrypt(base[:4]+"16"+base[6:]) || !isBcrypt(base) {
		t.Errorf("isBcrypt refuses costs 4 or 16")
	}
}

func TestBcryptMalformed(t *testing.T) {
	const pw = "legacy password 1"
	base := bcryptHash(t, pw)
	tests := []struct{ name, hash string }{
		{"59 characters", base[:59]},
		{"61 characters", base + "a"},
		{"trailing newline", base + "\n"},
		{"leading space", " " + base[:59]},
		{"$2x$", "$2x$" + base[4:]},
		{"$2$", "$2$" + base[4:]},
		{"$2c$", "$2c$" + base[4:]},
		{"$3a$", "$3a$" + base[4:]},
		{"$2A$", "$2A$" + base[4:]},
		{"cost with a letter", base[:4] + "0a" + base[6:]},
		{"cost with a space", base[:4] + " 4" + base[6:]},
		{"no $ after the cost", base[:6] + "x" + base[7:]},
		{"'+' in the salt", base[:10] + "+" + base[11:]},
		{"'-' in the hash", base[:50] + "-" + base[51:]},
		{"'=' at the end", base[:59] + "="},
		{"'$' inside", base[:40] + "$" + base[41:]},
		{"non-ASCII", base[:57] + "\u00e9" + base[58:59]},
		{"NUL", base[:30] + "\x00" + base[31:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if isBcrypt(tt.hash) {
				t.Errorf("isBcrypt(%q) = true", tt.hash)
			}
			ok, err := verifyBcrypt(pw, tt.hash)
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("verifyBcrypt = %v, %v; want false, ErrInvalidHash", ok, err)
			}
			if err := checkStoredHash(tt.hash); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("checkStoredHash = %v, want ErrInvalidHash", err)
			}
			if ok, err := checkPassword(nil, []byte(pw), pw, tt.hash); ok || err == nil {
				t.Errorf("checkPassword = %v, %v; want false and an error", ok, err)
			}
			if err != nil && strings.Contains(err.Error(), base[7:]) {
				t.Errorf("error %q repeats the hash", err)
			}
		})
	}
}
