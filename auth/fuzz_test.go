package auth

import (
	"errors"
	"strings"
	"testing"
	"unicode"
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

// FuzzNormalizeEmail: NormalizeEmail never panics, rejects with a
// *FieldError for "email", and what it accepts is a fixed point: valid
// UTF-8, NFKC, lower case, one "@", no white space, control or invisible
// characters, at most 254 bytes, its domain in U-labels that IDNA leaves
// as they are, and the same address when the domain is typed in A-labels.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"alice@example.com",
		"  Alice@Example.COM \r\n",
		"\uff41\uff4c\uff49\uff43\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
		"E\u0301lodie@exemple.fr",
		"\u212aelvin@example.com",
		"\u0130stanbul@\u00f6rnek.com.tr",
		"\u03a3\u0399\u03a3@\u03b5\u03bb.gr",
		"\u1e9e@example.de",
		"Bob <b@x.com>",
		"a@b@x.com",
		"a\uff20b@x.com",
		"a@localhost",
		"a\x00@x.com",
		"a\xff@x.com",
		"a\u200b@x.com",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com",
		"\u3300@\u3300.jp",
		"admin1\ufe0f@user.com",
		"admin1\u034f@user.com",
		"admin1\u3164@user.com",
		"admin1\u2800@user.com",
		"admin1@xn--usr-cma.com",
		"Admin1@US\u00c9R.com",
		"a@xn--fsqu00a.xn--4rr70v",
		"a@stra\u00dfe.de",
		"a@xn--abc.com",
		"a@\u05d0a.com",
		"a@\uab70.com",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeEmail(in)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "email" || !errors.Is(err, ErrInvalidField) {
				t.Fatalf("NormalizeEmail(%q) = %v, want a *FieldError for email", in, err)
			}
			if out != "" {
				t.Fatalf("NormalizeEmail(%q) = %q with an error", in, out)
			}
			return
		}
		again, err := NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: NormalizeEmail(%q) = %q, then %q, %v", in, out, again, err)
		}
		if !utf8.ValidString(out) || len(out) > 254 || len(out) == 0 {
			t.Fatalf("NormalizeEmail(%q) = %q: invalid UTF-8 or bad length %d", in, out, len(out))
		}
		if strings.Count(out, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q: want exactly one @", in, out)
		}
		if local, _, _ := strings.Cut(out, "@"); len(local) > 64 || local == "" {
			t.Fatalf("NormalizeEmail(%q) = %q: local part of %d bytes", in, out, len(local))
		}
		if !norm.NFKC.IsNormalString(out) {
			t.Fatalf("NormalizeEmail(%q) = %q: not NFKC", in, out)
		}
		if strings.ToLower(out) != out {
			t.Fatalf("NormalizeEmail(%q) = %q: not lower case", in, out)
		}
		for _, r := range out {
			if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) || r == utf8.RuneError || invisible(r) {
				t.Fatalf("NormalizeEmail(%q) = %q: contains %U", in, out, r)
			}
		}
		local, domain, _ := strings.Cut(out, "@")
		if u, err := emailDomain.ToUnicode(domain); err != nil || u != domain {
			t.Fatalf("NormalizeEmail(%q) = %q: IDNA maps the domain to %q, %v", in, out, u, err)
		}
		a, err := emailDomain.ToASCII(domain)
		if err != nil {
			t.Fatalf("NormalizeEmail(%q) = %q: no A-label form: %v", in, out, err)
		}
		if got, err := NormalizeEmail(local + "@" + a); err != nil || got != out {
			t.Fatalf("NormalizeEmail(%q) = %q, but with the domain in A-labels, %q, %v", in, out, got, err)
		}
	})
}

// FuzzPreparePassword: preparePassword never panics and rejects only with a
// *FieldError for "password"; what sign-up accepts, login accepts too, as
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
			var fe *FieldError
			if err != nil && (!errors.As(err, &fe) || fe.Field != "password") {
				t.Fatalf("preparePassword(%q) = %v, want a *FieldError for password", in, err)
			}
		}
		if errSignup == nil && (errLogin != nil || string(login) != string(signup)) {
			t.Fatalf("preparePassword(%q): sign-up accepts %q, login gives %q, %v", in, signup, login, errLogin)
		}
		if errLogin != nil {
			return
		}
		if !utf8.Valid(login) || len(login) > maxPasswordBytes || !norm.NFKC.IsNormal(login) {
			t.Fatalf("preparePassword(%q, false) = %q: invalid UTF-8, too long or not NFKC", in, login)
		}
		if errSignup == nil && (utf8.RuneCount(signup) < minPasswordRunes || isCommonPassword(string(signup)) ||
			isCommonPassword(strings.ToUpper(string(signup))) || isCommonPassword(strings.ToLower(string(signup)))) {
			t.Fatalf("preparePassword(%q, true) accepted %q", in, signup)
		}
	})
}
