package auth

import (
	"errors"
	"time"

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
	// longer than Config.HashWait, or would have (then it is returned at
	// once); the caller should retry later. It is [password.ErrBusy].
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

	// ErrMFARequired is wrapped by the [*MFARequiredError] that
	// [Service.Login] returns, after a correct password, for an account
	// with two-factor authentication on: the login is completed by
	// [Service.LoginTOTP] or [Service.LoginRecoveryCode].
	ErrMFARequired = errors.New("auth: second factor required")

	// ErrInvalidCode is returned for a TOTP code that is wrong, outside
	// the accepted window or already used, and for a recovery code that
	// is wrong or spent, by [Service.ConfirmTOTP], [Service.LoginTOTP],
	// [Service.LoginRecoveryCode] and [Service.DisableTOTP]: one error
	// for all, counted and throttled as a wrong password. The reason is
	// in the audit record ([EventMFAFailed]).
	ErrInvalidCode = errors.New("auth: invalid code")

	// ErrMFAEnabled is returned by [Service.SetupTOTP] and
	// [Service.ConfirmTOTP] for an account whose two-factor
	// authentication is on already, and by MFAStore.PutTOTP.
	ErrMFAEnabled = errors.New("auth: two-factor authentication already on")

	// ErrMFANotEnabled is returned by [Service.ConfirmTOTP] for an
	// account with no TOTP setup in progress, and by
	// [Service.DisableTOTP] for one whose two-factor authentication is
	// off.
	ErrMFANotEnabled = errors.New("auth: two-factor authentication not on")
)

// MFARequiredError is the error [Service.Login] returns, instead of a
// [Grant], after a correct password for an account with two-factor
// authentication on. It wraps [ErrMFARequired]. MFAToken identifies the
// login to [Service.LoginTOTP] or [Service.LoginRecoveryCode]: it is a
// credential (the password was checked), to be given to the client that
// logged in and to no one else, and never logged.
type MFARequiredError struct {
	MFAToken  string    // single use, bound to this login; at most 200 characters
	ExpiresAt time.Time // 5 minutes after the login
}

// Error returns the text of ErrMFARequired; it never holds the mfaToken.
func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }

// Unwrap returns [ErrMFARequired].
func (e *MFARequiredError) Unwrap() error { return ErrMFARequired }

// FieldError reports an input field that failed validation. It wraps
// [ErrInvalidField]; use [errors.As] to learn which field.
type FieldError struct {
	Field  string // the input's name as on the wire: "email", "name" or "password"
	Reason string // a short, human-readable reason, safe to show to the user
}

// Error returns "auth: invalid <field>: <reason>".
func (e *FieldError) Error() string {
	return "auth: invalid " + e.Field + ": " + e.Reason
}

// Unwrap returns [ErrInvalidField].
func (e *FieldError) Unwrap() error { return ErrInvalidField }
