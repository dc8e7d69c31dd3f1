package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Input limits. They are part of the documented contract (see the package
// doc) and apply before any store sees a value.
const (
	maxEmailBytes     = 254 // RFC 5321 path limit
	maxLocalPartBytes = 64
	maxNameRunes      = 100
	minPasswordRunes  = 8
	maxPasswordBytes  = 1024
)

// NormalizeEmail returns the form of email that is stored, looked up and
// compared for uniqueness: surrounding white space trimmed, Unicode NFKC
// normalised and lower-cased. It returns a [*FieldError] for "email" if the
// result is not a plausible address: empty, longer than 254 bytes (64 for
// the local part), not exactly one "@" with text on both sides, a domain
// without a dot inside it, or containing white space, control characters,
// double quotes, angle brackets or other characters that have no place in an
// address a user types.
func NormalizeEmail(email string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &FieldError{Field: "email", Reason: reason}
	}
	if !utf8.ValidString(email) {
		return bad("not valid UTF-8")
	}
	e, ok := foldStable(strings.TrimSpace(email))
	if !ok {
		return bad("contains characters that do not normalise stably")
	}
	if e == "" {
		return bad("required")
	}
	if len(e) > maxEmailBytes {
		return bad("too long")
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return bad("must be an address like name@example.com")
	}
	if len(local) > maxLocalPartBytes {
		return bad("local part too long")
	}
	dot := strings.IndexByte(domain, '.')
	if dot <= 0 || dot == len(domain)-1 || strings.Contains(domain, "..") ||
		domain[0] == '-' || domain[len(domain)-1] == '.' || domain[len(domain)-1] == '-' {
		return bad("must be an address like name@example.com")
	}
	for _, r := range e {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar ||
			strings.ContainsRune(`"<>()[]\,;:`, r) || !unicode.IsPrint(r) {
			return bad("contains a character not allowed in an address")
		}
	}
	return e, nil
}

// foldStable applies NFKC and lower-casing until the result no longer
// changes, so that normalising a normalised email is a no-op (lower-casing
// can produce text NFKC changes again, as with "İ" followed by a combining
// mark). Text that has not settled after a few rounds is refused.
func foldStable(s string) (string, bool) {
	for range 4 {
		f := strings.ToLower(norm.NFKC.String(s))
		if f == s {
			return s, true
		}
		s = f
	}
	return "", false
}

// normalizeName trims and NFC-normalises a user name and checks that it is
// 1 to 100 code points with no control characters.
func normalizeName(name string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &FieldError{Field: "name", Reason: reason}
	}
	if !utf8.ValidString(name) {
		return bad("not valid UTF-8")
	}
	n := norm.NFC.String(strings.TrimSpace(name))
	if n == "" {
		return bad("required")
	}
	if utf8.RuneCountInString(n) > maxNameRunes {
		return bad("longer than 100 characters")
	}
	for _, r := range n {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.In(r, unicode.Zl, unicode.Zp) ||
			unicode.Is(unicode.Cf, r) && r != '\u200d' { // ZWJ appears in emoji sequences
			return bad("contains a control character")
		}
	}
	return n, nil
}

// preparePassword returns the bytes that are hashed for password: its NFKC
// normalisation, so that the same password typed on different keyboards or
// platforms matches. Sign-up applies the policy (policy == true): at least 8
// code points and at most 1024 bytes, never silently truncated, and not on
// the built-in list of common passwords (compared case-insensitively; see
// commonpw.go). Login only rejects what could never have been accepted, so
// an over-long password costs no hash, and applies no policy: a password
// set before the policy tightened (or imported) still logs in.
func preparePassword(password string, policy bool) ([]byte, error) {
	bad := func(reason string) ([]byte, error) {
		return nil, &FieldError{Field: "password", Reason: reason}
	}
	if password == "" {
		return bad("required")
	}
	if !utf8.ValidString(password) {
		return bad("not valid UTF-8")
	}
	if len(password) > maxPasswordBytes {
		return bad("longer than 1024 bytes")
	}
	p := norm.NFKC.String(password)
	if len(p) > maxPasswordBytes {
		return bad("longer than 1024 bytes")
	}
	if policy && utf8.RuneCountInString(p) < minPasswordRunes {
		return bad("shorter than 8 characters")
	}
	if policy && isCommonPassword(p) {
		return bad("is a commonly used password")
	}
	return []byte(p), nil
}
