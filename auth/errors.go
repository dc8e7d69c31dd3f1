package auth

import (
	"errors"

	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/auth/token"
)

// Sentinel errors. Every error returned by this package and by conforming
// stores wraps at most a few of these; test for them with [errors.Is], never
// with ==.
var (
	// ErrInvalidConfig is returned by [New] for a Config it cannot use
	// (for example a secret shorter than 32 bytes).
	ErrInvalidConfig = errors.New("auth: invalid config")

	// ErrInvalidField is wrapped by every [*FieldError]: the input named by
	// the error's Field is missing or not acceptable.
	ErrInvalidField = errors.New("auth: invalid field")

	// ErrDuplicateEmail means a user with the same normalised email
	// already exists. Stores return it from CreateUser.
	ErrDuplicateEmail = errors.New("auth: email already registered")

	// ErrNotFound means no user matches. Stores return it from lookups.
	ErrNotFound = errors.New("auth: user not found")

	// ErrInvalidCredentials is returned by [Service.Login] for an unknown
	// email and for a wrong password alike, so callers cannot tell the two
	// apart.
	ErrInvalidCredentials = errors.New("auth: invalid email or password")

	// ErrInvalidToken is wrapped by every token verification failure and
	// by every refusal of a refresh token. It is [token.ErrInvalid], so
	// that errors.Is finds it in errors of package token too.
	ErrInvalidToken = token.ErrInvalid

	// ErrTokenExpired is wrapped, together with ErrInvalidToken, when a
	// token's exp has passed. It is [token.ErrExpired].
	ErrTokenExpired = token.ErrExpired

	// ErrBusy means the password hashing capacity stayed exhausted for
	// longer than Config.HashWait; the caller should retry later. It is
	// [password.ErrBusy].
	ErrBusy = password.ErrBusy

	// ErrInvalidHash means a stored password hash could not be decoded or
	// its parameters are outside the accepted bounds. It is
	// [password.ErrInvalidHash].
	ErrInvalidHash = password.ErrInvalidHash

	// ErrSessionsRevoked means the user's sessions were revoked after
	// the operation read the account: a login in flight during a password
	// change or logout-all. Stores return it from
	// SessionStore.CreateRefreshToken; [Service.Login] reports it as
	// [ErrInvalidCredentials].
	ErrSessionsRevoked = errors.New("auth: sessions revoked")

	// ErrThrottled is wrapped by every [*throttle.ThrottledError]: too
	// many attempts were made for an account or by a client, and this one
	// was refused without being checked. It is [throttle.ErrThrottled].
	ErrThrottled = throttle.ErrThrottled

	// ErrInvalidLink is returned by the flows that take a one-time token
	// from a mailed link ([Service.VerifyEmail], [Service.ResetPassword],
	// [Service.ConfirmEmailChange]) for a token that is malformed,
	// unknown, spent, expired, or no longer for the account's address:
	// one error for all, so that callers answer them alike. The reason
	// is in the audit record ([EventOneTimeTokenRejected]).
	ErrInvalidLink = errors.New("auth: invalid or expired link")

	// ErrEmailNotVerified is returned by [Service.Login] with
	// Config.RequireVerifiedEmail for an account whose email is not
	// verified, and only after a correct password.
	ErrEmailNotVerified = errors.New("auth: email not verified")

	// ErrAccountDisabled is returned by [Service.Login], after a correct
	// password, and by [Service.Refresh] for an account an operator
	// disabled ([Service.DisableUser]).
	ErrAccountDisabled = errors.New("auth: account disabled")
)

// FieldError reports an input field that failed validation. It wraps
// [ErrInvalidField]; use [errors.As] to learn which field.
type FieldError struct {
	Field  string // the input's name as on the wire: "email", "name" or "password"
	Reason string // a short, human-readable reason, safe to show to the user
}

func (e *FieldError) Error() string {
	return "auth: invalid " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidField].
func (e *FieldError) Unwrap() error { return ErrInvalidField }
