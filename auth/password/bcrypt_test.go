package password

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

func TestBcryptVariants(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
	for _, pw := range []string{"legacy password 1", "p\u00e4ssw\u00f6rd \u2713 123"} {
		base := bcryptHash(t, pw)
		for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
			t.Run(prefix+pw, func(t *testing.T) {
				hash := prefix + base[4:]
				if err := CheckHash(hash); err != nil {
					t.Errorf("CheckHash = %v", err)
				}
				if !h.NeedsRehash(hash) {
					t.Errorf("NeedsRehash(bcrypt) = false")
				}
				if ok, err := verifyBcrypt(pw, hash); !ok || err != nil {
					t.Fatalf("verifyBcrypt(right password) = %v, %v", ok, err)
				}
				if ok, err := h.Verify(ctx, pw, hash); !ok || err != nil {
					t.Fatalf("Verify(right password) = %v, %v", ok, err)
				}
				for _, wrong := range []string{pw + " ", pw[:len(pw)-1], strings.ToUpper(pw), ""} {
					if ok, err := verifyBcrypt(wrong, hash); ok || err != nil {
						t.Errorf("verifyBcrypt(%q) = %v, %v; want false, nil", wrong, ok, err)
					}
				}
				ok, upgraded, err := h.VerifyAndHash(ctx, pw, hash, pw)
				if !ok || err != nil {
					t.Fatalf("VerifyAndHash(right password) = %v, %q, %v", ok, upgraded, err)
				}
				if p, _, _, err := decodePHC(upgraded); err != nil || p != testParams {
					t.Errorf("the upgraded hash %q: %+v, %v; want argon2id with %+v", upgraded, p, err, testParams)
				}
				if ok, err := h.Verify(ctx, pw, upgraded); !ok || err != nil {
					t.Errorf("Verify(right password, upgraded hash) = %v, %v", ok, err)
				}
				if h.NeedsRehash(upgraded) {
					t.Errorf("NeedsRehash(upgraded) = true")
				}
			})
		}
	}
}

// TestBcrypt72Bytes: like every bcrypt, only the first 72 bytes of the
// password count; the argon2id hash that replaces a bcrypt one covers
// every byte.
func TestBcrypt72Bytes(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
	// 100 bytes; a legacy system that truncated silently stored a hash
	// of the first 72.
	full := strings.Repeat("0123456789", 10)
	prefix := full[:72]
	hash := bcryptHash(t, prefix)
	for _, pw := range []string{full, prefix, prefix + "anything"} {
		if ok, err := verifyBcrypt(pw, hash); !ok || err != nil {
			t.Errorf("verifyBcrypt(%d bytes) = %v, %v; want true", len(pw), ok, err)
		}
	}
	if ok, err := verifyBcrypt(full[:71], hash); ok || err != nil {
		t.Errorf("verifyBcrypt(71 bytes) = %v, %v; want false, nil", ok, err)
	}
	ok, upgraded, err := h.VerifyAndHash(ctx, full, hash, full)
	if !ok || err != nil {
		t.Fatalf("VerifyAndHash(the full 100 bytes) = %v, %v", ok, err)
	}
	for _, wrong := range []string{prefix, full[:99]} {
		if ok, err := h.Verify(ctx, wrong, upgraded); ok || err != nil {
			t.Errorf("Verify(%d of the 100 bytes, upgraded hash) = %v, %v; want false, nil", len(wrong), ok, err)
		}
	}
	if ok, err := h.Verify(ctx, full, upgraded); !ok || err != nil {
		t.Errorf("Verify(the full password, upgraded hash) = %v, %v", ok, err)
	}
}

// TestBcryptRawPassword: bcrypt hashes are checked against the password
// as typed (the old system did not normalise it), argon2id ones against
// its NFKC form.
func TestBcryptRawPassword(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
	const typed = "\ufb01nancial secret" // "ﬁ" ligature
	const nfkc = "financial secret"
	hash := bcryptHash(t, typed)
	if ok, err := h.Verify(ctx, nfkc, hash); ok || err != nil {
		t.Errorf("Verify(NFKC form, bcrypt of the typed form) = %v, %v; want false, nil", ok, err)
	}
	ok, upgraded, err := h.VerifyAndHash(ctx, typed, hash, typed)
	if !ok || err != nil {
		t.Fatalf("VerifyAndHash(as typed) = %v, %v", ok, err)
	}
	for _, pw := range []string{typed, nfkc} {
		if ok, err := h.Verify(ctx, pw, upgraded); !ok || err != nil {
			t.Errorf("Verify(%q, upgraded hash) = %v, %v", pw, ok, err)
		}
	}
	if ok, err := h.Verify(ctx, typed, bcryptHash(t, nfkc)); ok || err != nil {
		t.Errorf("Verify(ligature, bcrypt of its NFKC form) = %v, %v; want false, nil", ok, err)
	}
}

func TestBcryptCost(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
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
			if err := CheckHash(hash); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("CheckHash(cost %s) = %v, want ErrInvalidHash", cost, err)
			}
			if ok, err := h.Verify(ctx, pw, hash); ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Verify(cost %s) = %v, %v; want false, ErrInvalidHash", cost, ok, err)
			}
			if h.NeedsRehash(hash) {
				t.Errorf("NeedsRehash(cost %s) = true for a hash that never matches", cost)
			}
		})
	}
	// Costs 4 to 16 are accepted (4 checked for real; 16 by form only).
	if ok, err := verifyBcrypt(pw, base); !ok || err != nil {
		t.Errorf("verifyBcrypt(cost 4) = %v, %v", ok, err)
	}
	if !isBcrypt(base[:4]+"16"+base[6:]) || !isBcrypt(base) || CheckHash(base[:4]+"16"+base[6:]) != nil {
		t.Errorf("isBcrypt or CheckHash refuses costs 4 or 16")
	}
}

func TestBcryptMalformed(t *testing.T) {
	ctx := context.Background()
	h := newHasher(t, Config{})
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
			if err := CheckHash(tt.hash); !errors.Is(err, ErrInvalidHash) {
				t.Errorf("CheckHash = %v, want ErrInvalidHash", err)
			}
			ok, err = h.Verify(ctx, pw, tt.hash)
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Errorf("Verify = %v, %v; want false, ErrInvalidHash", ok, err)
			}
			if err != nil && strings.Contains(err.Error(), base[7:]) {
				t.Errorf("error %q repeats the hash", err)
			}
		})
	}
}
