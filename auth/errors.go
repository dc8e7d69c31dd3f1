package auth

import (
	"errors"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/password"
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

	// ErrInvalidToken is wrapped by every token verification failure.
	ErrInvalidToken = errors.New("auth: invalid token")

	// ErrTokenExpired is wrapped, together with ErrInvalidToken, when a
	// token's exp has passed.
	ErrTokenExpired = errors.New("auth: token expired")

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

	// ErrThrottled is wrapped by every [*ThrottledError]: too many
	// attempts were made for an account or by a client, and this one was
	// refused without being checked.
	ErrThrottled = errors.New("auth: too many attempts")
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

// ThrottledError reports an attempt refused because of earlier ones: by
// [Service.Login] when the client is in backoff or at its cap for the
// account key (Config.LoginBackoffAfter, Config.MaxClientLoginFailures)
// or the account key has reached Config.MaxAccountLoginFailures, and by a
// [Limiter]. It wraps [ErrThrottled]; use [errors.As] to learn how long to
// wait. Its text is the same for every account, existing or not.
type ThrottledError struct {
	// RetryAfter is how long from now the same attempt will not be
	// refused for the same reason. It is always positive.
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return "auth: too many attempts; retry after " + e.RetryAfter.String()
}

// Unwrap returns [ErrThrottled].
func (e *ThrottledError) Unwrap() error { return ErrThrottled }
