package password

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The policy's limits on a password's length.
const (
	minPasswordRunes = 8
	maxPasswordBytes = 1024
)

// PolicyError reports a password that [Normalize] or [CheckNew] refuses.
type PolicyError struct {
	// Reason is a short, human-readable reason, safe to show to the
	// user: it never repeats the password.
	Reason string
}

// Error returns "password: " and the reason.
func (e *PolicyError) Error() string { return "password: " + e.Reason }

// Normalize returns the form of password that is hashed and compared: its
// NFKC normalisation, so that the same password typed on different
// keyboards or platforms matches. It refuses, with a [*PolicyError], only
// what could never have been accepted: an empty password, invalid UTF-8,
// or more than 1024 bytes before or after NFKC (a password is never
// truncated). It applies no other rule, so that a password set before the
// policy tightened, or imported, is still checked: use it for logins, and
// [CheckNew] for new passwords.
func Normalize(password string) (string, error) {
	return preparePassword(password, false)
}

// CheckNew applies the policy for a new password, returning a
// [*PolicyError] that says why it refuses it, or nil. After [Normalize]'s
// checks, the password must be at least 8 characters (code points) long
// after NFKC, must not be on the built-in list of common passwords
// (compared ignoring case; see commonpw.go), and must not be, ignoring
// case, the account's email or name. Pass them as they are stored
// (normalised); an empty one is not compared.
func CheckNew(password, email, name string) error {
	p, err := preparePassword(password, true)
	if err != nil {
		return err
	}
	if isIdentity(p, email, name) {
		return &PolicyError{Reason: "must not be the same as the email or name"}
	}
	return nil
}

// preparePassword returns the NFKC normalisation of password, or a
// *PolicyError: for what could never be valid and, with policy, for what
// the sign-up policy refuses (length and the common-password list).
func preparePassword(password string, policy bool) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &PolicyError{Reason: reason}
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
	return p, nil
}

// isIdentity reports whether a prepared password is, ignoring case, the
// email or the name (NFKC-normalised as the password is).
func isIdentity(p, email, name string) bool {
	p = strings.ToLower(p)
	for _, id := range []string{email, name} {
		if id != "" && p == strings.ToLower(norm.NFKC.String(id)) {
			return true
		}
	}
	return false
}
