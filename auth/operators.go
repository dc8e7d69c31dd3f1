package auth

import (
	"context"
	"fmt"
)

// The operator API: calls for an administrator's tools, which take a
// user ID and check no password. Each is recorded as an audit event. The
// store must implement [AccountStore]; otherwise they return an error
// wrapping errors.ErrUnsupported. An unknown user is an error wrapping
// [ErrNotFound].

// maxListUsers is the largest page ListUsers returns.
const maxListUsers = 1000

// DisableUser disables the account with ID userID: Login and Refresh
// refuse it with [ErrAccountDisabled], and if sessions are tracked
// (Config.RefreshTokens or Config.CheckRevocation) every session ends
// as with [Service.RevokeSessions], so that with Config.CheckRevocation
// its access tokens are refused at once.
func (s *Service) DisableUser(ctx context.Context, userID string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if err := s.accounts.SetDisabled(ctx, userID, true); err != nil {
		return fmt.Errorf("auth: disabling user: %w", err)
	}
	if s.sessions != nil {
		if err := s.RevokeSessions(ctx, userID); err != nil {
			return err
		}
	}
	s.record(ctx, Event{Kind: EventUserDisabled, UserID: userID})
	return nil
}

// EnableUser enables the account with ID userID again: it can log in.
// Enabling an account that is not disabled is not an error.
func (s *Service) EnableUser(ctx context.Context, userID string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if err := s.accounts.SetDisabled(ctx, userID, false); err != nil {
		return fmt.Errorf("auth: enabling user: %w", err)
	}
	s.record(ctx, Event{Kind: EventUserEnabled, UserID: userID})
	return nil
}

// DeleteUser deletes the account with ID userID as [Service.DeleteAccount]
// does, without asking for its password.
func (s *Service) DeleteUser(ctx context.Context, userID string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return lookupError(err)
	}
	return s.deleteUser(ctx, u, "by an operator")
}

// SetPassword sets the password of the account with ID userID, which
// must satisfy the sign-up policy (a [*FieldError] for "password"),
// whatever the current one is. Then, as after a reset
// ([Service.ResetPassword]), every session of the user ends if sessions
// are tracked, the account's reset and email change links are deleted,
// and a notice goes to its address if a Mailer is configured. The store
// must implement [PasswordStore] too.
func (s *Service) SetPassword(ctx context.Context, userID, password string) error {
	if s.accounts == nil {
		return errNoAccounts
	}
	if s.passwords == nil {
		return errNoPasswords
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return lookupError(err)
	}
	if err := checkNewPassword(password, u.Email, u.Name, "password"); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if u, err = s.replaceHash(ctx, u, hash); err != nil {
		return err
	}
	s.record(ctx, Event{Kind: EventPasswordSet, UserID: u.ID, Email: u.Email})
	s.dropLinks(ctx, u.ID, purposeResetPassword, purposeChangeEmail)
	s.notify(ctx, MailPasswordChanged, u, "")
	return nil
}

// ListUsers returns a page of at most limit accounts (1 to 1000; outside
// that, a [*FieldError] for "limit"), without their hashes, in increasing
// order of ID, starting after the ID after ("" for the first page), and
// the cursor of the next page: the after of the next call, "" if this
// page is the last.
func (s *Service) ListUsers(ctx context.Context, after string, limit int) (users []User, next string, err error) {
	if s.accounts == nil {
		return nil, "", errNoAccounts
	}
	if limit < 1 || limit > maxListUsers {
		return nil, "", &FieldError{Field: "limit", Reason: "must be 1 to 1000"}
	}
	// One more than asked for tells whether another page follows.
	users, err = s.accounts.ListUsers(ctx, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("auth: listing users: %w", err)
	}
	if len(users) > limit {
		users = users[:limit]
		next = users[limit-1].ID
	}
	for i := range users {
		users[i].PasswordHash = ""
	}
	return users, next, nil
}
