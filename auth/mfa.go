package auth

import (
	"context"
	"errors"
	"fmt"
)

// TOTPSetup is what [Service.SetupTOTP] returns for the user to load
// into an authenticator app: the same secret three ways. It is shown
// once; the Service keeps the secret sealed.
type TOTPSetup struct {
	// Secret is the shared secret, 160 bits in base32 without padding
	// (32 characters), for typing in.
	Secret string
	// URI is the otpauth://totp/ URI of the secret (SHA1, 6 digits, 30
	// seconds), labelled with Config.TOTPIssuer and the account's email.
	URI string
	// QRCode is a PNG image, 256 × 256 pixels, of a QR code of URI.
	QRCode []byte
}

var errNoMFA = fmt.Errorf("auth: the store has no two-factor authentication (auth.MFAStore and auth.AccountStore): %w", errors.ErrUnsupported)

// SetupTOTP starts TOTP two-factor authentication for the user with ID
// userID, given their password, and returns the new secret. Two-factor
// authentication is not on until [Service.ConfirmTOTP] gets a first code
// of it; a later SetupTOTP replaces a setup not yet confirmed.
//
// A wrong password is [ErrInvalidCredentials], counted and throttled as
// a failed login of the account (a [*throttle.ThrottledError]), and an
// empty or over-long one a [*FieldError] for "password"; an account
// whose two-factor authentication is on already is [ErrMFAEnabled]
// (after the password). The store must implement [MFAStore] and
// [AccountStore]; otherwise SetupTOTP returns an error wrapping
// errors.ErrUnsupported.
func (s *Service) SetupTOTP(ctx context.Context, userID, password string) (TOTPSetup, error) {
	return TOTPSetup{}, errNoMFA
}

// ConfirmTOTP turns two-factor authentication on for the user with ID
// userID, given a code of the secret of their setup ([Service.SetupTOTP]),
// and returns ten recovery codes: each logs in once in place of a code
// ([Service.LoginRecoveryCode]). They are shown once: the store keeps
// only their HMACs.
//
// A wrong code, or one of a setup that another replaced meanwhile, is
// [ErrInvalidCode], counted and throttled as a failed login; an empty
// one a [*FieldError] for "code". An account with no setup in progress
// is [ErrMFANotEnabled]; one whose two-factor authentication is on
// already, [ErrMFAEnabled].
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) (recoveryCodes []string, err error) {
	return nil, errNoMFA
}

// LoginTOTP completes a login that [Service.Login] answered with an
// [*MFARequiredError], given its MFAToken and a current code of the
// account's authenticator, and returns the Grant that Login would have
// returned: an access token, a refresh token if they are on, and a
// device token. It hashes no password.
//
// A code is accepted within one time step (30 seconds) either side of
// the Service's clock, and only once: a code of a step no later than
// the last one accepted for the account, on any replica, is refused. A
// wrong, replayed or out-of-window code is [ErrInvalidCode], counted and
// throttled as a wrong password of the account (a
// [*throttle.ThrottledError] once too many), and leaves the mfaToken
// usable until it expires. The successful exchange spends it: of
// concurrent calls with one mfaToken, on any replicas, at most one gets
// a Grant.
//
// An mfaToken that is malformed, forged, expired (5 minutes after the
// login), spent, or of a login that a revocation of the account's
// sessions ([Service.RevokeSessions], a password change or reset) ended
// is refused with an error wrapping [ErrInvalidToken] (and
// [ErrTokenExpired] if expired): the client must log in again. An empty
// mfaToken or code is a [*FieldError] for "mfaToken" or "code"; a
// disabled account is [ErrAccountDisabled].
func (s *Service) LoginTOTP(ctx context.Context, mfaToken, code string) (*Grant, error) {
	return nil, errNoMFA
}

// LoginRecoveryCode completes a login as [Service.LoginTOTP] does, with
// one of the account's recovery codes ([Service.ConfirmTOTP]) in place
// of a code, and spends it. Case, spaces and hyphens in recoveryCode do
// not matter. A wrong or spent recovery code is [ErrInvalidCode],
// counted and throttled as a wrong password, and leaves the mfaToken
// usable; an empty one is a [*FieldError] for "recoveryCode".
func (s *Service) LoginRecoveryCode(ctx context.Context, mfaToken, recoveryCode string) (*Grant, error) {
	return nil, errNoMFA
}

// DisableTOTP turns two-factor authentication off for the user with ID
// userID, given their password and a current code of their authenticator
// or one of their recovery codes (which is spent): the secret and the
// recovery codes are deleted. A wrong password is
// [ErrInvalidCredentials], a wrong code [ErrInvalidCode], both counted
// and throttled as a failed login; an empty password or code is a
// [*FieldError] for "password" or "code". An account whose two-factor
// authentication is off is [ErrMFANotEnabled].
func (s *Service) DisableTOTP(ctx context.Context, userID, password, code string) error {
	return errNoMFA
}

// ResetTOTP turns two-factor authentication off for the user with ID
// userID without asking for a password or code, for an operator helping
// a user who lost both their authenticator and their recovery codes,
// once they have proved who they are by other means. See the operator
// API ([Service.DisableUser]). Resetting an account without two-factor
// authentication is not an error.
func (s *Service) ResetTOTP(ctx context.Context, userID string) error {
	return errNoMFA
}
