package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// Input limits. They are part of the documented contract (see the package
// doc) and apply before any store sees a value.
const (
	maxEmailBytes     = 254 // RFC 5321 path limit
	maxLocalPartBytes = 64
	maxNameRunes      = 100
)

// NormalizeEmail returns the form of email that is stored, looked up and
// compared for uniqueness: surrounding white space trimmed, Unicode NFKC
// normalised and lower-cased, with the domain in IDNA Unicode form
// (U-labels, UTS #46 nontransitional processing), so that
// "admin1@xn--usr-cma.com" and "admin1@usér.com" are one address.
//
// It returns a [*FieldError] for "email" if the result is not a plausible
// address: empty, longer than 254 bytes (64 for the local part), not
// exactly one "@" with text on both sides, a domain without a dot inside
// it or that IDNA refuses (an invalid A-label, a character other than a
// letter, digit or hyphen, a label starting or ending with a hyphen), or
// containing white space, control characters, double quotes, angle
// brackets or other characters that have no place in an address a user
// types. Characters that display as nothing or as blank space are refused
// anywhere in the address: Unicode's default-ignorable code points (format
// characters such as zero-width spaces, joiners and bidi controls,
// variation selectors, the combining grapheme joiner, the Hangul fillers),
// white space, U+2800 BRAILLE PATTERN BLANK, U+1D159 MUSICAL SYMBOL NULL
// NOTEHEAD and U+16FE4 KHITAN SMALL SCRIPT FILLER. Letters of other
// scripts that look like Latin ones are not refused (see SECURITY.md).
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
	if !domainShape(domain) {
		return bad("must be an address like name@example.com")
	}
	if reason := checkRunes(e); reason != "" {
		return bad(reason)
	}
	// IDNA maps and checks the domain; A-labels become U-labels. The result
	// must be a fixed point of the folding above, or the same address
	// would have two stored forms.
	u, err := emailDomain.ToUnicode(domain)
	if err != nil {
		return bad("the domain is not a valid domain name")
	}
	if f, ok := foldStable(u); !ok || f != u {
		return bad("the domain does not normalise stably")
	}
	if !domainShape(u) {
		return bad("the domain is not a valid domain name")
	}
	if reason := checkRunes(u); reason != "" {
		return bad(reason)
	}
	e = local + "@" + u
	if len(e) > maxEmailBytes {
		return bad("too long")
	}
	return e, nil
}

// asciiDomainEmail returns email, a result of NormalizeEmail, with its
// domain in A-labels, or "" if the domain is ASCII (then both are the
// same).
func asciiDomainEmail(email string) string {
	local, domain, _ := strings.Cut(email, "@")
	a, err := emailDomain.ToASCII(domain)
	if err != nil || a == domain {
		return ""
	}
	return local + "@" + a
}

// domainShape reports whether domain has a dot inside it, no empty label,
// and does not start or end with a hyphen.
func domainShape(domain string) bool {
	dot := strings.IndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1 && !strings.Contains(domain, "..") &&
		domain[0] != '-' && domain[len(domain)-1] != '.' && domain[len(domain)-1] != '-'
}

// emailDomain is the IDNA profile of [NormalizeEmail]: UTS #46 mapping
// with nontransitional processing (ß and ς are kept), the STD3 rules
// (letters, digits and hyphens), the hyphen, joiner and Bidi checks: the
// lookup profile of RFC 5891, pinned here so that the stored form does
// not change with the library's defaults.
var emailDomain = idna.New(idna.MapForLookup(), idna.Transitional(false), idna.BidiRule())

// checkRunes returns why s has no place in an address, or "" if it has.
func checkRunes(s string) string {
	for _, r := range s {
		switch {
		case invisible(r):
			return "contains an invisible or blank character"
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar ||
			strings.ContainsRune(`"<>()[]\,;:`, r) || !unicode.IsPrint(r):
			return "contains a character not allowed in an address"
		}
	}
	return ""
}

// invisible reports whether r displays as nothing or as blank space: a
// Default_Ignorable_Code_Point (its assigned ones are the format
// characters, Other_Default_Ignorable_Code_Point and the variation
// selectors), white space, or one of the blank symbols that NormalizeEmail
// names.
func invisible(r rune) bool {
	switch r {
	case '\u2800', '\U0001d159', '\U00016fe4':
		return true
	}
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point,
		unicode.Variation_Selector, unicode.White_Space)
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
