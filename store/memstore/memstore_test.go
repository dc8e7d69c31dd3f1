package memstore_test

import (
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
