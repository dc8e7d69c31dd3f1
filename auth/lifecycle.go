package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// User returns the account with ID userID, without its password hash,
// or an error wrapping [ErrNotFound]. It works on any [UserStore].
func (s *Service) User(ctx context.Context, userID string) (User, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return User{}, lookupError(err)
	}
	u.PasswordHash = ""
	return u, nil
}

// UpdateName sets the display name of the user with ID userID, normalised
// and checked as at sign-up (a [*FieldError] for "name" if refused), and
// returns the account as it is now, without its hash. Access tokens
// already issued keep the old name until they expire. An unknown user is
// an error wrapping [ErrNotFound].
func (s *Service) UpdateName(ctx context.Context, userID, name string) (User, error) {
	if s.accounts == nil {
		return User{}, errNoAccounts
	}
	name, err := normalizeName(name)
	if err != nil {
		return User{}, err
	}
	if err := s.accounts.UpdateName(ctx, userID, name); err != nil {
		return User{}, fmt.Errorf("auth: updating name: %w", err)
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return User{}, err
	}
	s.record(ctx, Event{Kind: EventProfileUpdated, UserID: u.ID, Email: u.Email})
	return u, nil
}

// VerifyEmail marks the address of an account verified, given the token
// of a verification link (Config.VerifyEmailTTL, 24 hours by default,
// single use): tokens issued for the account from then on carry
// email_verified true. The link works only while the account's email is
// the address it was sent to. A malformed, unknown, spent or expired
// token, or one for another address, is [ErrInvalidLink]; an empty one a
// [*FieldError] for "token". The account's other verification links are
// deleted.
func (s *Service) VerifyEmail(ctx context.Context, token string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	t, u, err := s.useLink(ctx, purposeVerifyEmail, token)
	if err != nil {
		return err
	}
	switch err := s.accounts.UpdateEmail(ctx, u.ID, t.Email, t.Email, true); {
	case errors.Is(err, ErrNotFound):
		return s.rejectStale(ctx, t)
	case err != nil:
		return fmt.Errorf("auth: verifying email: %w", err)
	}
	s.dropLinks(ctx, u.ID, purposeVerifyEmail)
	s.record(ctx, Event{Kind: EventEmailVerified, UserID: u.ID, Email: t.Email})
	return nil
}

// ResendVerification queues a new verification mail to the address of
// the user with ID userID; earlier links keep working until they expire.
// It does nothing, and returns nil, if the address is verified already.
// It is throttled per user: after 3 mails with no pause of an hour
// between them, it returns a [*throttle.ThrottledError] until an hour has
// passed since the latest. Without a Mailer it returns an error wrapping
// errors.ErrUnsupported; an unknown user is an error wrapping
// [ErrNotFound].
func (s *Service) ResendVerification(ctx context.Context, userID string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if s.mail == nil {
		return errNoMailer
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return lookupError(err)
	}
	if u.EmailVerified {
		return nil
	}
	if err := acquire(ctx, s.limits.resend, u.ID); err != nil {
		return err
	}
	if err := s.mailLink(ctx, MailVerifyEmail, purposeVerifyEmail, u, u.Email); err != nil {
		return err
	}
	s.record(ctx, Event{Kind: EventVerificationRequested, UserID: u.ID, Email: u.Email})
	return nil
}

// ForgotPassword asks for a password reset link to be mailed to email.
// It returns nil whether or not an account has the address, after the
// same work: it normalises the address (a [*FieldError] for "email" if
// it cannot be valid), counts the request against its limits, records an
// [EventResetRequested] and queues one job; the job, off the request
// path, looks the account up and, if there is one, stores a reset token
// (Config.ResetPasswordTTL, 1 hour by default) and mails the link to the
// account's address; for an unknown address it sends nothing.
//
// Requests are throttled per normalised address, known or not (3), and,
// for calls that carry the client's address ([WithClientIP]), per
// address (20): a key that has had its limit with no pause of an hour
// between requests is refused with a [*throttle.ThrottledError] until an
// hour has passed since its latest. Without a Mailer ForgotPassword
// returns an error wrapping errors.ErrUnsupported.
func (s *Service) ForgotPassword(ctx context.Context, email string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if s.mail == nil {
		return errNoMailer
	}
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.countForgot(ctx, email); err != nil {
		return err
	}
	s.record(ctx, Event{Kind: EventResetRequested, Email: email})
	s.mail.enqueueJob(ctx, MailResetPassword, "", email, func(ctx context.Context, q *mailQueue) {
		s.mailReset(ctx, q, email)
	})
	return nil
}

// countForgot counts a reset request for the normalised email against
// the limits per address and per client, or returns the error that
// refuses it.
func (s *Service) countForgot(ctx context.Context, email string) error {
	releaseEmail, err := s.limits.forgotEmail.Acquire(ctx, email)
	if err != nil {
		return err
	}
	defer releaseEmail(false)
	if addr := clientAddress(ctx); addr != "" {
		if err := acquire(ctx, s.limits.forgotClient, addr); err != nil {
			return err
		}
	}
	return releaseEmail(true)
}

// mailReset is the job of a reset request for the normalised email: it
// mails a reset link to the account with that address, if there is one.
func (s *Service) mailReset(ctx context.Context, q *mailQueue, email string) {
	failed := func(err error) {
		s.record(ctx, Event{Kind: EventMailFailed, Email: email, Reason: string(MailResetPassword) + ": " + err.Error()})
	}
	u, err := s.userByEmail(ctx, email)
	switch {
	case errors.Is(err, ErrNotFound):
		return
	case err != nil:
		failed(lookupError(err))
		return
	}
	d, err := s.linkMail(ctx, MailResetPassword, purposeResetPassword, u, u.Email)
	if err != nil {
		failed(err)
		return
	}
	s.deliver(ctx, q, u.ID, d)
}

// ResetPassword sets a new password, given the token of a reset link
// (see [Service.ForgotPassword]). The password must satisfy the sign-up
// policy (see [Service.Signup]): a refusal is a [*FieldError] for
// "password", and leaves the link usable. A malformed, unknown, spent or
// expired token, or one sent to an address the account no longer has,
// is [ErrInvalidLink]; an empty one a [*FieldError] for "token".
//
// The new password replaces the stored one whatever it is, and then, if
// sessions are tracked (Config.RefreshTokens or Config.CheckRevocation),
// every session of the user ends as with [Service.RevokeSessions],
// logins in flight included, and with Config.CheckRevocation older
// access tokens are refused. The account's other reset links, and its
// pending email changes, are deleted; its address counts as verified
// (the link proved it); and a notice goes to the address
// ([MailPasswordChanged]). The store must implement [PasswordStore];
// otherwise ResetPassword returns an error wrapping errors.ErrUnsupported.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if s.passwords == nil {
		return errNoPasswords
	}
	// What the policy refuses whoever the account is, before the link
	// is spent.
	if err := checkNewPassword(password, "", "", "password"); err != nil {
		return err
	}
	t, u, err := s.useLink(ctx, purposeResetPassword, token)
	if err != nil {
		return err
	}
	if err := checkNewPassword(password, u.Email, u.Name, "password"); err != nil {
		s.restoreLink(ctx, t)
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.restoreLink(ctx, t)
		return err
	}
	if u, err = s.replaceHash(ctx, u, hash); err != nil {
		if errors.Is(err, ErrNotFound) {
			return s.rejectStale(ctx, t) // deleted meanwhile
		}
		return err
	}
	s.record(ctx, Event{Kind: EventPasswordReset, UserID: u.ID, Email: u.Email})
	if err := s.accounts.DeleteOneTimeTokens(ctx, u.ID, purposeResetPassword); err != nil {
		return fmt.Errorf("auth: deleting reset tokens: %w", err)
	}
	s.dropLinks(ctx, u.ID, purposeChangeEmail)
	if !u.EmailVerified {
		if err := s.accounts.UpdateEmail(ctx, u.ID, t.Email, t.Email, true); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "auth: marking an email verified after a reset failed",
				slog.String("user_id", u.ID), slog.String("error", err.Error()))
		}
	}
	s.notify(ctx, MailPasswordChanged, u, "")
	return nil
}

// restoreLink stores again a one-time token that useLink spent, for a
// request refused for a reason of its own (a password the policy
// refuses), so that the link keeps working until it expires.
func (s *Service) restoreLink(ctx context.Context, t OneTimeToken) {
	if err := s.accounts.CreateOneTimeToken(ctx, t); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "auth: restoring a one-time token failed",
			slog.String("user_id", t.UserID), slog.String("error", err.Error()))
	}
}

// replaceHash sets u's password hash to hash whatever the stored one is
// (reading it again if it changed since u was read: a login's upgrade,
// another change), then ends u's sessions if they are tracked. It
// returns the account as stored now, or an error wrapping ErrNotFound if
// it was deleted.
func (s *Service) replaceHash(ctx context.Context, u User, hash string) (User, error) {
	for tries := 1; ; tries++ {
		err := s.passwords.UpdatePasswordHash(ctx, u.ID, u.PasswordHash, hash)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNotFound) || tries == 3 {
			return User{}, fmt.Errorf("auth: setting password: %w", err)
		}
		if u, err = s.store.UserByID(ctx, u.ID); err != nil {
			return User{}, lookupError(err)
		}
	}
	u.PasswordHash = hash
	if s.sessions != nil {
		if err := s.RevokeSessions(ctx, u.ID); err != nil {
			return User{}, err
		}
	}
	return u, nil
}

// RequestEmailChange starts a change of the email of the user with ID
// userID to newEmail: it mails a link to the new address that confirms
// the change ([Service.ConfirmEmailChange]; Config.ChangeEmailTTL, 1 hour
// by default) and a notice to the current one ([MailEmailChanging]). The
// email stays as it is until the link is used.
//
// The current password is required: a wrong one is
// [ErrInvalidCredentials], counted and throttled as a failed login of the
// account (a [*throttle.ThrottledError]), so that a stolen access token
// cannot be used to guess it. newEmail is normalised as at sign-up; a
// refused one, or the current address, is a [*FieldError] for
// "newEmail"; an address another account has is [ErrDuplicateEmail]
// (checked after the password). Without a Mailer it returns an error
// wrapping errors.ErrUnsupported.
func (s *Service) RequestEmailChange(ctx context.Context, userID, password, newEmail string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if s.mail == nil {
		return errNoMailer
	}
	if err := checkPassword(password, "password"); err != nil {
		return err
	}
	email, err := NormalizeEmail(newEmail)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return &FieldError{Field: "newEmail", Reason: fe.Reason}
		}
		return err
	}
	u, err := s.checkAccountPassword(ctx, userID, password)
	if err != nil {
		return err
	}
	if email == u.Email {
		return &FieldError{Field: "newEmail", Reason: "is the current email"}
	}
	if err := s.emailFree(ctx, email); err != nil {
		return err
	}
	if err := s.mailLink(ctx, MailConfirmEmail, purposeChangeEmail, u, email); err != nil {
		return err
	}
	s.notify(ctx, MailEmailChanging, u, email)
	s.record(ctx, Event{Kind: EventEmailChangeRequested, UserID: u.ID, Email: email})
	return nil
}

// checkAccountPassword returns the account with ID userID if password is
// its password, counting the attempt as a login of the account (see
// countLogin); a wrong password, or an unknown user, is
// ErrInvalidCredentials.
func (s *Service) checkAccountPassword(ctx context.Context, userID, password string) (User, error) {
	u, succeeded, err := s.countAccountPassword(ctx, userID, password)
	if err != nil {
		return User{}, err
	}
	succeeded()
	return u, nil
}

// countAccountPassword is checkAccountPassword for an attempt that needs
// more than the password: the caller calls succeeded once all of it
// succeeded.
func (s *Service) countAccountPassword(ctx context.Context, userID, password string) (User, func(), error) {
	u, err := s.store.UserByID(ctx, userID)
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, nil, ErrInvalidCredentials
	case err != nil:
		return User{}, nil, lookupError(err)
	}
	ctx, release, succeeded, err := s.countPassword(ctx, u.Email, u.ID)
	if err != nil {
		return User{}, nil, err
	}
	defer release()
	match, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return User{}, nil, err
	}
	if !match {
		s.record(ctx, Event{Kind: EventLoginFailed, UserID: u.ID, Email: u.Email, Reason: "wrong password"})
		return User{}, nil, ErrInvalidCredentials
	}
	return u, succeeded, nil
}

// emailFree returns ErrDuplicateEmail if an account has the normalised
// email, in either spelling of a non-ASCII domain (see userByEmail).
func (s *Service) emailFree(ctx context.Context, email string) error {
	_, err := s.userByEmail(ctx, email)
	switch {
	case err == nil:
		return ErrDuplicateEmail
	case !errors.Is(err, ErrNotFound):
		return lookupError(err)
	}
	return nil
}

// ConfirmEmailChange makes the new address of an email change the
// account's email, verified, given the token of the link mailed to it
// (see [Service.RequestEmailChange]). A malformed, unknown, spent or
// expired token is [ErrInvalidLink], as is one whose account changed its
// email since the link was read; an empty one is a [*FieldError] for
// "token"; an address another account took meanwhile is
// [ErrDuplicateEmail] (the link is spent). The account's other change,
// verification and reset links are deleted. Access tokens already issued
// keep the old email until they expire.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	t, u, err := s.useLink(ctx, purposeChangeEmail, token)
	if err != nil {
		return err
	}
	if err := s.emailFree(ctx, t.Email); err != nil {
		return err
	}
	switch err := s.accounts.UpdateEmail(ctx, u.ID, u.Email, t.Email, true); {
	case errors.Is(err, ErrDuplicateEmail):
		return ErrDuplicateEmail
	case errors.Is(err, ErrNotFound):
		return s.rejectStale(ctx, t)
	case err != nil:
		return fmt.Errorf("auth: changing email: %w", err)
	}
	s.dropLinks(ctx, u.ID, purposeChangeEmail, purposeVerifyEmail, purposeResetPassword)
	s.record(ctx, Event{Kind: EventEmailChanged, UserID: u.ID, Email: t.Email})
	return nil
}

// DeleteAccount deletes the account with ID userID, given its password:
// the user, their sessions and one-time tokens go at once (see
// [AccountStore.DeleteUser]), the email is free for a new sign-up, and
// access tokens of the account are refused where revocation is checked
// (Config.CheckRevocation). A wrong password is [ErrInvalidCredentials],
// counted and throttled as a failed login of the account (a
// [*throttle.ThrottledError]). The account's throttling state that can
// be named goes too: its login counters for the calling client (its
// address and device token) and for calls without an address, its
// account-wide login counters, and the counters of its verification and
// reset requests.
func (s *Service) DeleteAccount(ctx context.Context, userID, password string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if err := checkPassword(password, "password"); err != nil {
		return err
	}
	u, err := s.checkAccountPassword(ctx, userID, password)
	if err != nil {
		return err
	}
	return s.deleteUser(ctx, u, "by its user")
}

// deleteUser deletes u and its throttling state, and records it with the
// reason.
func (s *Service) deleteUser(ctx context.Context, u User, reason string) error {
	if err := s.accounts.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("auth: deleting user: %w", err)
	}
	s.forgetThrottling(ctx, u)
	s.record(ctx, Event{Kind: EventUserDeleted, UserID: u.ID, Email: u.Email, Reason: reason})
	return nil
}
