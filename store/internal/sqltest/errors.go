package sqltest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// testErrors checks that every method fails on a database without the
// tables, with an error that is neither of the sentinels and says so,
// and that each sentinel is returned where it is due.
func testErrors(t *testing.T, tg Target) {
	ctx := t.Context()
	u := auth.User{ID: "id1", Email: "a@example.com", Name: "A", PasswordHash: "h", CreatedAt: time.Unix(0, 0)}

	// Without Migrate the tables are missing: every method must fail, and
	// with an error that is neither of the sentinels.
	db, _ := tg.NewDB(t)
	unmigrated := tg.New(db)
	migrated, _ := tg.newStore(t)
	if err := migrated.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sameIDAndEmail := u
	sameIDAndEmail.Name = "B"
	token := auth.RefreshToken{Hash: tokenHash(1), Family: familyID(1), UserID: u.ID, IssuedAt: time.Unix(1e9, 0), ExpiresAt: time.Unix(1e9+3600, 0)}
	oneTime := auth.OneTimeToken{Hash: tokenHash(2), Purpose: "verify_email", UserID: u.ID, Email: u.Email, CreatedAt: token.IssuedAt, ExpiresAt: token.ExpiresAt}
	other := u
	other.ID, other.Email = "id2", "d@example.com"
	if err := migrated.CreateUser(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := migrated.CreateOneTimeToken(ctx, oneTime); err != nil {
		t.Fatal(err)
	}
	// other has a confirmed enrolment, u none.
	if err := migrated.PutTOTP(ctx, other.ID, sampleSealed, token.IssuedAt); err != nil {
		t.Fatal(err)
	}
	if err := migrated.ConfirmTOTP(ctx, other.ID, sampleSealed, 1, []string{recoveryHash(1)}); err != nil {
		t.Fatal(err)
	}
	missing := tg.MissingTable

	tests := []struct {
		name      string
		call      func() error
		wantIs    error // nil: must wrap neither sentinel
		wantInMsg string
	}{
		{"CreateUser without table", func() error { return unmigrated.CreateUser(ctx, u) }, nil, missing},
		{"UserByEmail without table", func() error { _, err := unmigrated.UserByEmail(ctx, u.Email); return err }, nil, missing},
		{"UserByID without table", func() error { _, err := unmigrated.UserByID(ctx, u.ID); return err }, nil, missing},
		{"CreateUser with taken ID", func() error {
			v := u
			v.Email = "b@example.com"
			return migrated.CreateUser(ctx, v)
		}, nil, tg.TakenID},
		// When both are taken, the email is what is reported.
		{"CreateUser with taken ID and email", func() error { return migrated.CreateUser(ctx, sameIDAndEmail) }, auth.ErrDuplicateEmail, ""},
		{"CreateUser with taken email", func() error {
			v := u
			v.ID = "id3"
			return migrated.CreateUser(ctx, v)
		}, auth.ErrDuplicateEmail, ""},
		{"UserByEmail unknown", func() error { _, err := migrated.UserByEmail(ctx, "c@example.com"); return err }, auth.ErrNotFound, ""},
		{"UserByID unknown", func() error { _, err := migrated.UserByID(ctx, "id3"); return err }, auth.ErrNotFound, ""},
		// The session tables are missing too: a failed statement is
		// neither a mismatch nor an unknown token, nor "never revoked".
		{"UpdatePasswordHash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h2") }, nil, missing},
		{"UpdatePasswordHash to the same hash without table", func() error { return unmigrated.UpdatePasswordHash(ctx, u.ID, "h", "h") }, nil, missing},
		{"CreateRefreshToken without table", func() error { return unmigrated.CreateRefreshToken(ctx, token, 0) }, nil, missing},
		{"UseRefreshToken without table", func() error { _, err := unmigrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, nil, missing},
		{"RefreshToken without table", func() error { _, err := unmigrated.RefreshToken(ctx, token.Hash); return err }, nil, missing},
		{"RevokeFamily without table", func() error { return unmigrated.RevokeFamily(ctx, token.Family, token.IssuedAt) }, nil, missing},
		{"RevokeSessions without table", func() error { return unmigrated.RevokeSessions(ctx, u.ID, token.IssuedAt) }, nil, missing},
		{"SessionGeneration without table", func() error { _, err := unmigrated.SessionGeneration(ctx, u.ID); return err }, nil, missing},
		{"DeleteExpiredRefreshTokens without table", func() error { _, err := unmigrated.DeleteExpiredRefreshTokens(ctx, token.IssuedAt); return err }, nil, missing},
		{"UpdatePasswordHash unknown user", func() error { return migrated.UpdatePasswordHash(ctx, "id3", "h", "h2") }, auth.ErrNotFound, ""},
		{"UpdatePasswordHash wrong hash", func() error { return migrated.UpdatePasswordHash(ctx, u.ID, "h2", "h3") }, auth.ErrNotFound, ""},
		{"UseRefreshToken unknown", func() error { _, err := migrated.UseRefreshToken(ctx, token.Hash, token.IssuedAt); return err }, auth.ErrNotFound, ""},
		{"RefreshToken unknown", func() error { _, err := migrated.RefreshToken(ctx, token.Hash); return err }, auth.ErrNotFound, ""},
		{"SessionGeneration unknown user", func() error { _, err := migrated.SessionGeneration(ctx, "id3"); return err }, auth.ErrNotFound, ""},
		// And the table of one-time tokens.
		{"UpdateName without table", func() error { return unmigrated.UpdateName(ctx, u.ID, "B") }, nil, missing},
		{"UpdateEmail without table", func() error { return unmigrated.UpdateEmail(ctx, u.ID, u.Email, "c@example.com", false) }, nil, missing},
		{"UpdateEmail to the same email without table", func() error { return unmigrated.UpdateEmail(ctx, u.ID, u.Email, u.Email, true) }, nil, missing},
		{"SetDisabled without table", func() error { return unmigrated.SetDisabled(ctx, u.ID, true) }, nil, missing},
		{"DeleteUser without table", func() error { return unmigrated.DeleteUser(ctx, u.ID) }, nil, missing},
		{"ListUsers without table", func() error { _, err := unmigrated.ListUsers(ctx, "", 10); return err }, nil, missing},
		{"CreateOneTimeToken without table", func() error { return unmigrated.CreateOneTimeToken(ctx, oneTime) }, nil, missing},
		{"UseOneTimeToken without table", func() error { _, err := unmigrated.UseOneTimeToken(ctx, oneTime.Hash, oneTime.Purpose); return err }, nil, missing},
		{"DeleteOneTimeTokens without table", func() error { return unmigrated.DeleteOneTimeTokens(ctx, u.ID, oneTime.Purpose) }, nil, missing},
		{"DeleteExpiredOneTimeTokens without table", func() error { _, err := unmigrated.DeleteExpiredOneTimeTokens(ctx, token.IssuedAt); return err }, nil, missing},
		{"UpdateName unknown user", func() error { return migrated.UpdateName(ctx, "id3", "B") }, auth.ErrNotFound, ""},
		{"UpdateEmail unknown user", func() error { return migrated.UpdateEmail(ctx, "id3", u.Email, "c@example.com", false) }, auth.ErrNotFound, ""},
		{"UpdateEmail wrong current email", func() error { return migrated.UpdateEmail(ctx, u.ID, other.Email, "c@example.com", false) }, auth.ErrNotFound, ""},
		{"UpdateEmail to a taken email", func() error { return migrated.UpdateEmail(ctx, u.ID, u.Email, other.Email, false) }, auth.ErrDuplicateEmail, ""},
		{"SetDisabled unknown user", func() error { return migrated.SetDisabled(ctx, "id3", true) }, auth.ErrNotFound, ""},
		{"DeleteUser unknown user", func() error { return migrated.DeleteUser(ctx, "id3") }, auth.ErrNotFound, ""},
		{"ListUsers with limit 0", func() error { _, err := migrated.ListUsers(ctx, "", 0); return err }, nil, "limit 0"},
		{"CreateOneTimeToken unknown user", func() error {
			tok := oneTime
			tok.Hash, tok.UserID = tokenHash(3), "id3"
			return migrated.CreateOneTimeToken(ctx, tok)
		}, auth.ErrNotFound, ""},
		{"CreateOneTimeToken with a taken hash", func() error { return migrated.CreateOneTimeToken(ctx, oneTime) }, nil, ""},
		{"UseOneTimeToken unknown", func() error { _, err := migrated.UseOneTimeToken(ctx, tokenHash(3), oneTime.Purpose); return err }, auth.ErrNotFound, ""},
		{"UseOneTimeToken of another purpose", func() error { _, err := migrated.UseOneTimeToken(ctx, oneTime.Hash, "reset_password"); return err }, auth.ErrNotFound, ""},
		// And the tables of enrolments and recovery codes.
		{"PutTOTP without table", func() error { return unmigrated.PutTOTP(ctx, u.ID, sampleSealed, token.IssuedAt) }, nil, missing},
		{"TOTP without table", func() error { _, err := unmigrated.TOTP(ctx, u.ID); return err }, nil, missing},
		{"ConfirmTOTP without table", func() error {
			return unmigrated.ConfirmTOTP(ctx, u.ID, sampleSealed, 1, []string{recoveryHash(1)})
		}, nil, missing},
		{"UseTOTPStep without table", func() error { return unmigrated.UseTOTPStep(ctx, u.ID, 2) }, nil, missing},
		{"UseRecoveryCode without table", func() error { return unmigrated.UseRecoveryCode(ctx, u.ID, recoveryHash(1)) }, nil, missing},
		{"DeleteTOTP without table", func() error { return unmigrated.DeleteTOTP(ctx, u.ID) }, nil, missing},
		{"PutTOTP unknown user", func() error { return migrated.PutTOTP(ctx, "id3", sampleSealed, token.IssuedAt) }, auth.ErrNotFound, ""},
		{"PutTOTP of a confirmed enrolment", func() error { return migrated.PutTOTP(ctx, other.ID, sampleSealed, token.IssuedAt) }, auth.ErrMFAEnabled, ""},
		{"TOTP of a user without one", func() error { _, err := migrated.TOTP(ctx, u.ID); return err }, auth.ErrNotFound, ""},
		{"ConfirmTOTP without an enrolment", func() error {
			return migrated.ConfirmTOTP(ctx, u.ID, sampleSealed, 1, []string{recoveryHash(2)})
		}, auth.ErrNotFound, ""},
		{"ConfirmTOTP of a confirmed enrolment", func() error {
			return migrated.ConfirmTOTP(ctx, other.ID, sampleSealed, 2, []string{recoveryHash(2)})
		}, auth.ErrNotFound, ""},
		{"UseTOTPStep not greater", func() error { return migrated.UseTOTPStep(ctx, other.ID, 1) }, auth.ErrNotFound, ""},
		{"UseTOTPStep without an enrolment", func() error { return migrated.UseTOTPStep(ctx, u.ID, 2) }, auth.ErrNotFound, ""},
		{"UseRecoveryCode unknown", func() error { return migrated.UseRecoveryCode(ctx, other.ID, recoveryHash(2)) }, auth.ErrNotFound, ""},
		{"UseRecoveryCode of another user", func() error { return migrated.UseRecoveryCode(ctx, u.ID, recoveryHash(1)) }, auth.ErrNotFound, ""},
		{"DeleteTOTP unknown user", func() error { return migrated.DeleteTOTP(ctx, "id3") }, auth.ErrNotFound, ""},
		{"Migrate with canceled context", func() error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			return migrated.Migrate(ctx)
		}, context.Canceled, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("err = nil; want an error")
			}
			if !strings.HasPrefix(err.Error(), tg.Name+": ") {
				t.Errorf("err = %q; want the prefix %q", err, tg.Name+": ")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v; want errors.Is(err, %v)", err, tt.wantIs)
			}
			if tt.wantIs == nil && isSentinel(err) {
				t.Errorf("err = %v; want an error wrapping none of auth.ErrDuplicateEmail, auth.ErrNotFound and auth.ErrMFAEnabled", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMsg) {
				t.Errorf("err = %q; want it to mention %q", err, tt.wantInMsg)
			}
		})
	}
}

// isSentinel reports whether err wraps auth.ErrDuplicateEmail,
// auth.ErrNotFound or auth.ErrMFAEnabled.
func isSentinel(err error) bool {
	return errors.Is(err, auth.ErrDuplicateEmail) || errors.Is(err, auth.ErrNotFound) || errors.Is(err, auth.ErrMFAEnabled)
}
