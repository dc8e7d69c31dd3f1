package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth/password"
)

// upgradeHash replaces u's stored hash with upgraded, made with the
// current parameters, unless the hash changed meanwhile (a password
// change wins). A failure costs nothing but the upgrade: it is logged,
// and tried again at the next login.
func (s *Service) upgradeHash(ctx context.Context, u User, upgraded string) {
	err := s.passwords.UpdatePasswordHash(ctx, u.ID, u.PasswordHash, upgraded)
	switch {
	case err == nil:
		from := "argon2id"
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
			from = "bcrypt" // the only other kind password.CheckHash accepts
		}
		s.record(ctx, Event{Kind: EventPasswordUpgraded, UserID: u.ID, Email: u.Email, Reason: "from " + from})
	case !errors.Is(err, ErrNotFound):
		s.log.LogAttrs(ctx, slog.LevelWarn, "auth: upgrading a password hash failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}

// ChangePassword replaces the password of the user with ID userID, given
// the current one, and returns a new session for the caller. Every other
// session of the user ends (see [Service.RevokeSessions]) if sessions are
// tracked (Config.RefreshTokens or Config.CheckRevocation).
//
// The new password must satisfy the sign-up policy (see [Service.Signup])
// and differ from the current one; a rejected one is a [*FieldError] for
// the field "newPassword" ("currentPassword" for a current password that
// could never be valid). A wrong current password is
// [ErrInvalidCredentials], and counts as a failed login of the account,
// throttled as Login is (a [*throttle.ThrottledError]), so that a stolen
// access token cannot be used to guess the password. The store must implement
// [PasswordStore]; otherwise ChangePassword returns an error wrapping
// errors.ErrUnsupported. A password changed concurrently by another call
// makes this one fail with ErrInvalidCredentials. If the user's sessions
// are revoked by another call while this one runs, the password is
// changed but no session is returned: the error wraps [ErrSessionsRevoked].
//
// Once the password is changed, the account's outstanding password reset
// and email change links are deleted (with an [AccountStore]), and a
// notice goes to its address ([MailPasswordChanged]) if a Mailer is
// configured.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next string) (*Grant, error) {
	if s.passwords == nil {
		return nil, errNoPasswords
	}
	if err := checkPassword(current, "currentPassword"); err != nil {
		return nil, err
	}
	// The generation is read before the hash, as in Login: a revocation
	// by anyone else after this read ends the session returned too.
	gen, err := s.generation(ctx, userID)
	if err != nil {
		return nil, err
	}
	u, err := s.store.UserByID(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, ErrInvalidCredentials
	case err != nil:
		return nil, fmt.Errorf("auth: looking up user: %w", err)
	}
	if err := checkNewPassword(next, u.Email, u.Name, "newPassword"); err != nil {
		return nil, err
	}
	n, _ := password.Normalize(next) // both checked above
	if c, _ := password.Normalize(current); n == c {
		return nil, &FieldError{Field: "newPassword", Reason: "must differ from the current password"}
	}
	hctx, release, succeeded, err := s.countPassword(ctx, u.Email, u.ID)
	if err != nil {
		return nil, err
	}
	match, hash, err := s.hasher.VerifyAndHash(hctx, current, u.PasswordHash, next)
	release()
	if err != nil {
		return nil, err
	}
	if !match {
		s.record(ctx, Event{Kind: EventLoginFailed, UserID: u.ID, Email: u.Email, Reason: "wrong current password"})
		return nil, ErrInvalidCredentials
	}
	succeeded()
	switch err := s.passwords.UpdatePasswordHash(ctx, u.ID, u.PasswordHash, hash); {
	case errors.Is(err, ErrNotFound):
		return nil, ErrInvalidCredentials // changed (or deleted) meanwhile
	case err != nil:
		return nil, fmt.Errorf("auth: changing password: %w", err)
	}
	s.record(ctx, Event{Kind: EventPasswordChanged, UserID: u.ID, Email: u.Email})
	if s.accounts != nil {
		s.dropLinks(ctx, u.ID, purposeResetPassword, purposeChangeEmail)
	}
	s.notify(ctx, MailPasswordChanged, u, "")
	if s.sessions != nil {
		if err := s.RevokeSessions(ctx, u.ID); err != nil {
			return nil, err
		}
		// The caller's new session is of the generation this revocation
		// made; if another revocation came between, it is refused.
		gen++
	}
	return s.startSession(ctx, u, gen)
}

// checkPassword returns a [*FieldError] for field if pw could never be a
// password (see [password.Normalize]).
func checkPassword(pw, field string) error {
	_, err := password.Normalize(pw)
	return fieldError(err, field)
}

// checkNewPassword returns a [*FieldError] for field if the password
// policy refuses pw as the new password of the account with the
// normalised email and name (see [password.CheckNew]).
func checkNewPassword(pw, email, name, field string) error {
	return fieldError(password.CheckNew(pw, email, name), field)
}

// fieldError returns err, if it is a *password.PolicyError, as a
// *FieldError for field; otherwise err itself.
func fieldError(err error, field string) error {
	var pe *password.PolicyError
	if errors.As(err, &pe) {
		return &FieldError{Field: field, Reason: pe.Reason}
	}
	return err
}

// ImportUser adds an account carried over from another system, with its
// password hash as that system left it, so that its user logs in with the
// same password; the hash is replaced with argon2id at the first login
// (see [Service.Login]). Like the system that made it, a bcrypt hash
// accepts any password that has the same first 72 bytes; the argon2id hash
// that replaces it is of the password typed at that first login, every
// byte of it, which is the password from then on. The hash must be an argon2id PHC string or a
// bcrypt hash ($2a$, $2b$ or $2y$, cost 4 to 16); anything else is
// refused with a [*FieldError] for "passwordHash", as are a name or an
// email that Signup would refuse. The email is normalised as at sign-up;
// no password policy applies (there is no password to check).
//
// u.ID, if empty, is drawn as for a sign-up; otherwise it must be 1 to 64
// ASCII letters, digits, '-' or '_' (a 24-hex-digit MongoDB ObjectID, a
// UUID...), so that the old IDs, and tokens the old system issued, stay
// valid. u.CreatedAt, if zero, is now. A taken email is
// [ErrDuplicateEmail]. u.MFA is ignored: an imported account starts
// without two-factor authentication. It returns the account as stored,
// without its hash.
func (s *Service) ImportUser(ctx context.Context, u User) (User, error) {
	name, err := normalizeName(u.Name)
	if err != nil {
		return User{}, err
	}
	email, err := NormalizeEmail(u.Email)
	if err != nil {
		return User{}, err
	}
	if err := password.CheckHash(u.PasswordHash); err != nil {
		return User{}, &FieldError{Field: "passwordHash", Reason: "neither argon2id (PHC) nor bcrypt within bounds"}
	}
	if u.ID == "" {
		var id [16]byte
		if err := s.random(id[:]); err != nil {
			return User{}, err
		}
		u.ID = hex.EncodeToString(id[:])
	} else if !isImportID(u.ID) {
		return User{}, &FieldError{Field: "id", Reason: "must be 1 to 64 ASCII letters, digits, '-' or '_'"}
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now()
	}
	u.Name, u.Email = name, email
	u.MFA = false // an authenticator cannot be imported without its secret
	if err := s.createUser(ctx, u); err != nil {
		if errors.Is(err, ErrDuplicateEmail) {
			return User{}, ErrDuplicateEmail
		}
		return User{}, fmt.Errorf("auth: importing user: %w", err)
	}
	u.PasswordHash = ""
	return u, nil
}

func isImportID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}
