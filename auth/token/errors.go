package token

import "errors"

// Sentinel errors. Every error of this package wraps one of them; test for
// them with [errors.Is], never with ==. Package auth exports ErrInvalid and
// ErrExpired again as auth.ErrInvalidToken and auth.ErrTokenExpired, the
// same values.
var (
	// ErrInvalid is wrapped by every failure of [Verifier.VerifyToken]
	// that is the token's fault: malformed, wrongly signed, of an unknown
	// key or another algorithm, expired, not yet valid, of a revoked
	// session, and so on. The error's text says why, and never holds the
	// token.
	ErrInvalid = errors.New("token: invalid token")

	// ErrExpired is wrapped, together with ErrInvalid, when a token is
	// refused only because its exp has passed.
	ErrExpired = errors.New("token: expired")

	// ErrInvalidConfig is wrapped by the errors of the functions that take
	// keys and settings rather than tokens: [NewKey], [ParseKeyPEM],
	// [ParseJWKS], [NewKeySet], the changes of a [KeySet], [NewVerifier],
	// and [KeySet.Sign] when the active key cannot sign or custom claims
	// are named as it refuses. Their texts never hold key material.
	ErrInvalidConfig = errors.New("token: invalid config")
)
