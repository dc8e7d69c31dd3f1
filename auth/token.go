package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/golang-jwt/jwt/v5"
)

// The Verifier checks revocations with the Service's SessionStore,
// through revocations.
var _ token.SessionGenerations = revocations{}

// revocations is the Verifier's view of a SessionStore: the generation
// of a user that no longer exists is not a failure to check but a
// refusal, since its tokens are of a deleted account.
type revocations struct{ SessionStore }

func (r revocations) SessionGeneration(ctx context.Context, userID string) (int64, error) {
	gen, err := r.SessionStore.SessionGeneration(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("%w: its account no longer exists", ErrInvalidToken)
	}
	return gen, err
}

// IssueToken signs an access token for u with the active key of the
// Service's [token.KeySet], valid from now for Config.TokenTTL, and
// returns it with its expiry time. The token's header carries the key's
// ID as kid (none for an HMAC key with ID ""); its payload, the claims of
// [token.Claims] and those Config.CustomClaims returns for u. It is what
// Signup and Login call; applications call it directly only for flows of
// their own (say, after verifying an email link). When sessions are
// tracked, the token is of the user's current session generation, read
// from the store.
func (s *Service) IssueToken(ctx context.Context, u User) (tok string, expires time.Time, err error) {
	var gen int64
	if s.sessions != nil {
		if gen, err = s.sessions.SessionGeneration(ctx, u.ID); err != nil {
			return "", time.Time{}, fmt.Errorf("auth: reading session generation: %w", err)
		}
	}
	return s.issueToken(ctx, u, gen)
}

// issueToken is IssueToken for a session of generation gen.
func (s *Service) issueToken(ctx context.Context, u User, gen int64) (tok string, expires time.Time, err error) {
	var custom map[string]any
	if s.customClaims != nil {
		if custom, err = s.customClaims(ctx, u); err != nil {
			return "", time.Time{}, fmt.Errorf("auth: custom claims: %w", err)
		}
	}
	var jti [16]byte
	if err := s.random(jti[:]); err != nil {
		return "", time.Time{}, err
	}
	now := s.now().Truncate(time.Second)
	expires = now.Add(s.ttl)
	c := &token.Claims{
		UserID:        u.ID,
		UserName:      u.Name,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
		Generation:    gen,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.issuer,
			Subject:   u.ID,
			ExpiresAt: jwt.NewNumericDate(expires),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	if s.audience != "" {
		c.Audience = jwt.ClaimStrings{s.audience}
	}
	tok, err = s.keys.Sign(c, custom)
	switch {
	case errors.Is(err, token.ErrInvalidConfig):
		// The active key cannot sign, or CustomClaims named a claim as
		// Sign refuses.
		return "", time.Time{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	case err != nil:
		return "", time.Time{}, fmt.Errorf("auth: %w", err)
	}
	return tok, expires, nil
}

// VerifyToken checks tok with the Service's [token.Verifier]; see
// [token.Verifier.VerifyToken] for what it accepts. Every refusal wraps
// [ErrInvalidToken] (and [ErrTokenExpired] for an expired token) and is
// recorded as an [EventTokenRejected] audit event.
func (s *Service) VerifyToken(ctx context.Context, tok string) (*token.Claims, error) {
	return s.verifier.VerifyToken(ctx, tok)
}

// Verifier returns the Service's Verifier, which accepts the tokens signed
// by the keys of its [token.KeySet] and records every refusal as an
// [EventTokenRejected] audit event.
func (s *Service) Verifier() *token.Verifier { return s.verifier }

// Keys returns the Service's KeySet: Config.Keys, or the set of the one
// HMAC key made of Config.Secret. Changes to it, such as a rotation, take
// effect at once for tokens issued and verified.
func (s *Service) Keys() *token.KeySet { return s.keys }

// isTokenText reports whether s holds only base64url characters and dots,
// as the tokens of this package do. Go's base64 decoders skip CR and LF
// even in strict mode, so without this check one token could be written
// several ways.
func isTokenText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_', b == '.':
		default:
			return false
		}
	}
	return true
}
