package auth

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

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

// FuzzMFAToken: readMFAToken never panics, accepts (as valid or
// expired) only the tokens encodeMFAToken made, in the one spelling it
// made them, and reads back the login they carry; canonicalRecoveryCode
// never panics, and what it accepts is 24 base32 characters that it
// maps to themselves.
func FuzzMFAToken(f *testing.F) {
	// A fixed Rand, so that every fuzzing process makes the same tokens.
	s := newTestService(f, newFakeStore(), Config{Rand: rand.NewChaCha8([32]byte{})})
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	issued := map[string]mfaLogin{}
	for _, l := range []mfaLogin{
		{userID: "5ef5b4d2b56aad8240db229c5ef5b4d2", gen: 0, expires: now.Add(mfaTokenTTL)},
		{userID: "x", gen: 1<<63 - 1, expires: now},
		{userID: strings.Repeat("a", 64), gen: 7, expires: now.Add(-time.Hour)},
	} {
		tok, err := s.encodeMFAToken(l)
		if err != nil {
			f.Fatal(err)
		}
		issued[tok] = l
		f.Add(tok)
		f.Add(tok + "A")
		f.Add(tok[:len(tok)-1])
		f.Add(strings.ToUpper(tok))
	}
	for _, seed := range []string{"", "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "aaaa bbbb cccc dddd eeee ffff", "0189-0189-0189-0189-0189-0189", strings.Repeat("A", 200), "é"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		l, reason := s.readMFAToken(tok, now)
		if reason == "" || reason == "expired" {
			want, ok := issued[tok]
			if !ok {
				t.Fatalf("readMFAToken accepted %q, which encodeMFAToken did not make (reason %q)", tok, reason)
			}
			if l.userID != want.userID || l.gen != want.gen || !l.expires.Equal(want.expires) {
				t.Fatalf("readMFAToken(%q) = %+v; want %+v", tok, l, want)
			}
			if (reason == "expired") != !now.Before(want.expires) {
				t.Fatalf("readMFAToken(%q) reason %q; the token expires at %v, now is %v", tok, reason, want.expires, now)
			}
		} else if reason != "malformed" {
			t.Fatalf("readMFAToken(%q) reason %q", tok, reason)
		}
		if c, ok := canonicalRecoveryCode(tok); ok {
			if len(c) != recoveryCodeChars || strings.Trim(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
				t.Fatalf("canonicalRecoveryCode(%q) = %q: want 24 base32 characters", tok, c)
			}
			if again, ok := canonicalRecoveryCode(c); !ok || again != c {
				t.Fatalf("canonicalRecoveryCode(%q) = %q, but of that, (%q, %v)", tok, c, again, ok)
			}
		}
	})
}
