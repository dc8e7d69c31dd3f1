package password

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzDecodePHC: decodePHC never panics, every failure wraps
// ErrInvalidHash, and whatever it accepts is within bounds and re-encodes
// to the very same string (the encoding is canonical: one hash, one string).
func FuzzDecodePHC(f *testing.F) {
	for _, kat := range argon2KATs {
		f.Add(kat.phc)
	}
	for _, s := range []string{
		"",
		"$argon2id$v=19$",
		"$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$/////////////////////w",
		"$argon2id$v=19$m=1048576,t=64,p=64$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=19$m=19456,t=2,p=257$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=19$m=4294967296,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA==$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdB$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$ISO7kkvFzh19GM8qB7patN3C3Y9HHsjlVTfEZ9T600Y$",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := decodePHC(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("decodePHC(%q) = %v, not wrapping ErrInvalidHash", s, err)
			}
			return
		}
		if err := p.check(false); err != nil {
			t.Fatalf("decodePHC(%q) accepted out-of-bounds params %+v: %v", s, p, err)
		}
		if int(p.SaltLen) != len(salt) || int(p.KeyLen) != len(key) {
			t.Fatalf("decodePHC(%q): params %+v, salt %d bytes, key %d bytes", s, p, len(salt), len(key))
		}
		if got := encodePHC(p, salt, key); got != s {
			t.Fatalf("decodePHC accepted a non-canonical string:\n in  %q\n out %q", s, got)
		}
	})
}

// FuzzPreparePassword: preparePassword never panics and rejects only with a
// *PolicyError; what sign-up accepts, login accepts too, as
// the same bytes; what it returns is valid NFKC of at most 1024 bytes, and,
// under the sign-up policy, at least 8 code points and not on the list of
// common passwords in any case.
func FuzzPreparePassword(f *testing.F) {
	for _, s := range []string{
		"", "1234567", "12345678", "password", "PassWord1", "correct horse battery staple",
		"\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44", "e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301e\u0301",
		strings.Repeat("a", 1024), strings.Repeat("a", 1000) + "\ufdfa", "password\xff", "\u0130\u0130\u0130\u0130\u0130\u0130\u0130\u0130",
		"\u0131loveyou", "\u017Funshine", "\u212Aillerkiller",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		login, errLogin := preparePassword(in, false)
		signup, errSignup := preparePassword(in, true)
		for _, err := range []error{errLogin, errSignup} {
			var pe *PolicyError
			if err != nil && (!errors.As(err, &pe) || pe.Reason == "") {
				t.Fatalf("preparePassword(%q) = %v, want a *PolicyError with a reason", in, err)
			}
		}
		if errSignup == nil && (errLogin != nil || login != signup) {
			t.Fatalf("preparePassword(%q): sign-up accepts %q, login gives %q, %v", in, signup, login, errLogin)
		}
		if errLogin != nil {
			return
		}
		if !utf8.ValidString(login) || len(login) > maxPasswordBytes || !norm.NFKC.IsNormalString(login) {
			t.Fatalf("preparePassword(%q, false) = %q: invalid UTF-8, too long or not NFKC", in, login)
		}
		if errSignup == nil && (utf8.RuneCountInString(signup) < minPasswordRunes || isCommonPassword(signup) ||
			isCommonPassword(strings.ToUpper(signup)) || isCommonPassword(strings.ToLower(signup))) {
			t.Fatalf("preparePassword(%q, true) accepted %q", in, signup)
		}
	})
}
