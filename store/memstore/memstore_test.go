package memstore_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/gatehouse-go/gatehouse/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) auth.UserStore { return memstore.New() })
}

// TestSessionFamilies checks what the package documentation says of
// families beyond the auth.SessionStore contract: a family exists from
// its first token to the deletion of its last, so revoking one without
// tokens does nothing; and CreateRefreshToken ignores the UsedAt and
// RevokedAt it is given.
func TestSessionFamilies(t *testing.T) {
	ctx := t.Context()
	at := time.Date(2024, time.May, 17, 13, 45, 30, 123456000, time.UTC)
	const fam = "0123456789abcdef0123456789abcdef"
	user := auth.User{
		ID:           "fedcba9876543210fedcba9876543210",
		Email:        "families@example.com",
		Name:         "Families",
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
		CreatedAt:    at,
	}
	tok := func(n int) auth.RefreshToken {
		return auth.RefreshToken{
			Hash:      fmt.Sprintf("%064x", n),
			Family:    fam,
			UserID:    user.ID,
			IssuedAt:  at,
			ExpiresAt: at.Add(time.Hour),
		}
	}
	s := memstore.New()
	if err := s.CreateUser(ctx, user); err != nil {
		t.Fatalf("CreateUser = %v; want nil", err)
	}
	create := func(tk auth.RefreshToken) {
		t.Helper()
		if err := s.CreateRefreshToken(ctx, tk, 0); err != nil {
			t.Fatalf("CreateRefreshToken(token %s...) = %v; want nil", tk.Hash[60:], err)
		}
	}
	// wantLive checks that tk is stored, unused and live.
	wantLive := func(tk auth.RefreshToken, why string) {
		t.Helper()
		got, err := s.RefreshToken(ctx, tk.Hash)
		if err != nil || !got.UsedAt.IsZero() || !got.RevokedAt.IsZero() {
			t.Errorf("RefreshToken(token ...%s) %s = ({UsedAt: %v, RevokedAt: %v}, %v); want an unused token of a live family",
				tk.Hash[60:], why, got.UsedAt, got.RevokedAt, err)
		}
	}

	if err := s.RevokeFamily(ctx, fam, at); err != nil {
		t.Fatalf("RevokeFamily of a family without tokens = %v; want nil", err)
	}
	create(tok(1))
	wantLive(tok(1), "created after RevokeFamily of its family, which had no token then")

	if err := s.RevokeFamily(ctx, fam, at); err != nil {
		t.Fatalf("RevokeFamily = %v; want nil", err)
	}
	if n, err := s.DeleteExpiredRefreshTokens(ctx, at.Add(time.Hour)); n != 1 || err != nil {
		t.Fatalf("DeleteExpiredRefreshTokens = (%d, %v); want (1, nil)", n, err)
	}
	create(tok(2))
	wantLive(tok(2), "created after the revoked family's last token was deleted")

	given := tok(3)
	given.UsedAt, given.RevokedAt = at, at
	create(given)
	wantLive(given, "created with UsedAt and RevokedAt set")
}

// TestMFA checks memstore's auth.MFAStore beyond what the Service's
// tests reach: the compare-and-sets' refusals, copies of the sealed
// secret, and deletion with the user.
func TestMFA(t *testing.T) {
	ctx := t.Context()
	at := time.Date(2024, time.May, 17, 13, 45, 30, 123456000, time.UTC)
	s := memstore.New()
	const id = "fedcba9876543210fedcba9876543210"
	if err := s.CreateUser(ctx, auth.User{ID: id, Email: "mfa@example.com", Name: "MFA", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	sealed := []byte("sealed secret")
	for _, step := range []struct {
		name string
		err  error
		want error // nil, or the sentinel err must wrap
	}{
		{"TOTP before any", errOf(s.TOTP(ctx, id)), auth.ErrNotFound},
		{"PutTOTP of an unknown user", s.PutTOTP(ctx, "nobody", sealed, at), auth.ErrNotFound},
		{"PutTOTP", s.PutTOTP(ctx, id, sealed, at), nil},
		{"UseTOTPStep unconfirmed", s.UseTOTPStep(ctx, id, 5), nil},
		{"ConfirmTOTP of another secret", s.ConfirmTOTP(ctx, id, []byte("other"), 9, nil), auth.ErrNotFound},
		{"ConfirmTOTP", s.ConfirmTOTP(ctx, id, sealed, 10, []string{"h1", "h2"}), nil},
		{"ConfirmTOTP again", s.ConfirmTOTP(ctx, id, sealed, 11, []string{"h3"}), auth.ErrNotFound},
		{"PutTOTP when confirmed", s.PutTOTP(ctx, id, []byte("new"), at), auth.ErrMFAEnabled},
		{"UseTOTPStep of the last step", s.UseTOTPStep(ctx, id, 10), auth.ErrNotFound},
		{"UseTOTPStep of an earlier step", s.UseTOTPStep(ctx, id, 9), auth.ErrNotFound},
		{"UseTOTPStep of a later step", s.UseTOTPStep(ctx, id, 12), nil},
		{"UseRecoveryCode", s.UseRecoveryCode(ctx, id, "h1"), nil},
		{"UseRecoveryCode again", s.UseRecoveryCode(ctx, id, "h1"), auth.ErrNotFound},
		{"UseRecoveryCode unknown", s.UseRecoveryCode(ctx, id, "h3"), auth.ErrNotFound},
		{"DeleteTOTP of an unknown user", s.DeleteTOTP(ctx, "nobody"), auth.ErrNotFound},
	} {
		if (step.want == nil) != (step.err == nil) || step.want != nil && !errors.Is(step.err, step.want) {
			t.Errorf("%s: %v; want %v", step.name, step.err, step.want)
		}
	}
	sealed[0] = 'X' // the store kept a copy
	got, err := s.TOTP(ctx, id)
	if err != nil || string(got.Sealed) != "sealed secret" || !got.Confirmed || got.LastStep != 12 || !got.CreatedAt.Equal(at) {
		t.Errorf("TOTP = (%+v, %v); want the confirmed enrolment at step 12", got, err)
	}
	got.Sealed[0] = 'Y'
	if again, _ := s.TOTP(ctx, id); string(again.Sealed) != "sealed secret" {
		t.Error("TOTP returned the store's own slice")
	}
	if u, _ := s.UserByID(ctx, id); !u.MFA {
		t.Error("User.MFA is off after ConfirmTOTP")
	}
	if err := s.DeleteTOTP(ctx, id); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.UserByID(ctx, id); u.MFA {
		t.Error("User.MFA is on after DeleteTOTP")
	}
	if err := s.UseRecoveryCode(ctx, id, "h2"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a recovery code after DeleteTOTP: %v", err)
	}
	if err := s.DeleteTOTP(ctx, id); err != nil {
		t.Errorf("DeleteTOTP without an enrolment: %v", err)
	}

	// DeleteUser takes the enrolment and codes with it.
	if err := s.PutTOTP(ctx, id, sealed, at); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTOTP(ctx, id, sealed, 1, []string{"h4"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, auth.User{ID: id, Email: "mfa@example.com", Name: "MFA", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TOTP(ctx, id); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("TOTP of a user deleted and created again: %v", err)
	}
	if err := s.UseRecoveryCode(ctx, id, "h4"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("a recovery code of a user deleted and created again: %v", err)
	}
}

func errOf[T any](_ T, err error) error { return err }
