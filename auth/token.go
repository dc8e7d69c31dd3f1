package auth

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is the payload of the tokens the Service issues and accepts.
//
// On the wire it carries the seed API's userId, userName and email next to
// the registered claims: iat and exp always, sub (the user ID) and jti (a
// random token ID) in tokens this package issues, iss and aud when
// configured. Tokens with only userId, userName, email, iat and exp, as
// older implementations of the API issued them, are accepted too.
type Claims struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Email    string `json:"email"`
	jwt.RegisteredClaims
}

// Validate implements jwt.ClaimsValidator; it runs after the time, issuer
// and audience checks and requires a user ID that agrees with sub.
func (c *Claims) Validate() error {
	if c.UserID == "" {
		return errors.New("missing userId")
	}
	if c.Subject != "" && c.Subject != c.UserID {
		return errors.New("sub does not match userId")
	}
	return nil
}

// IssueToken signs an access token for u, valid from now for
// Config.TokenTTL, and returns it with its expiry time. It is what Signup and
// Login call; applications call it directly only for flows of their own
// (say, after verifying an email link).
func (s *Service) IssueToken(u User) (token string, expires time.Time, err error) {
	var jti [16]byte
	if err := s.random(jti[:]); err != nil {
		return "", time.Time{}, err
	}
	now := s.now().Truncate(time.Second)
	expires = now.Add(s.ttl)
	c := &Claims{
		UserID:   u.ID,
		UserName: u.Name,
		Email:    u.Email,
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
	token, err = jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: signing token: %w", err)
	}
	return token, expires, nil
}

// VerifyToken checks token and returns its claims. It accepts only HS256
// tokens signed with Config.Secret, of at most Config.MaxTokenBytes, in
// strict unpadded base64url, with an exp that has not passed, an nbf (if
// present) that has, a userId, and the configured iss and aud when those are
// set. Every failure wraps [ErrInvalidToken]; an expired token also wraps
// [ErrTokenExpired]. Each failure is recorded as an [EventTokenRejected]
// audit event, with the client address ctx carries, if any.
func (s *Service) VerifyToken(ctx context.Context, token string) (*Claims, error) {
	c, err := s.verify(token)
	if err != nil {
		s.record(ctx, Event{Kind: EventTokenRejected, Reason: err.Error()})
		return nil, err
	}
	return c, nil
}

func (s *Service) verify(token string) (*Claims, error) {
	if len(token) > s.maxTokenBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidToken, s.maxTokenBytes)
	}
	if !isTokenText(token) {
		return nil, fmt.Errorf("%w: character outside base64url and '.'", ErrInvalidToken)
	}
	c := new(Claims)
	if _, err := s.parser.ParseWithClaims(token, c, s.key); err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidToken, ErrTokenExpired)
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return c, nil
}

// isTokenText reports whether token holds only base64url characters and
// dots. Go's base64 decoders skip CR and LF even in strict mode, so without
// this check one token could be written several ways.
func isTokenText(token string) bool {
	for i := 0; i < len(token); i++ {
		switch b := token[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '-', b == '_', b == '.':
		default:
			return false
		}
	}
	return true
}

// key is the jwt.Keyfunc. The parser has already pinned the algorithm to
// HS256 (jwt.WithValidMethods); checking the method type again keeps that
// true even if the parser options change.
func (s *Service) key(t *jwt.Token) (any, error) {
	if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok || t.Method.Alg() != "HS256" {
		return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
	}
	return s.secret, nil
}

func newParser(cfg *Config) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"HS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(cfg.Now),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	return jwt.NewParser(opts...)
}
