package auth

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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
//
// Claims added by Config.CustomClaims are read back with [Claims.Decode].
type Claims struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Email    string `json:"email"`
	// Generation is the user's session generation (see [SessionStore])
	// as the login that started the session read it, written as "gen"
	// when sessions are tracked (Config.RefreshTokens or
	// Config.CheckRevocation) and not 0. A verifier with
	// VerifierConfig.Revocations refuses a token whose generation is
	// older than its user's; a token without gen is of generation 0.
	Generation int64 `json:"gen,omitempty"`
	jwt.RegisteredClaims

	payload string // the token's payload segment, base64url, for Decode
}

// Decode unmarshals the whole JSON payload of the verified token into v,
// with encoding/json's rules: this is how handlers read, typed, the claims
// that Config.CustomClaims added. For example:
//
//	var app struct {
//		Roles []string `json:"roles"`
//	}
//	if err := claims.Decode(&app); err != nil { ... }
//
// encoding/json matches member names to fields case-insensitively, the
// last match winning; but no two members of a verified token's payload
// have names that differ only in case, and none is a claim of Claims
// (userId, exp, ...) in another case: the Verifier refuses such tokens,
// and IssueToken such custom claims. So each field reads the members of
// one name: a field tagged `json:"userId"` the token's userId, one tagged
// `json:"role"` the member role, or, if the token has none, its one
// member of that name in another case ("Role").
//
// On Claims that were not decoded from a token, it decodes their JSON
// encoding.
func (c *Claims) Decode(v any) error {
	if c.payload == "" {
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, v)
	}
	// The verifier decoded this segment already, strictly; Decode is rare
	// enough that keeping the text rather than the bytes pays.
	data, err := base64.RawURLEncoding.DecodeString(c.payload)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// userID returns c's UserID, or "" for nil Claims.
func (c *Claims) userID() string {
	if c == nil {
		return ""
	}
	return c.UserID
}

// reservedClaims are the claim names Config.CustomClaims cannot set, in
// this case or any other (see checkCustomNames).
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"userId": true, "userName": true, "email": true, "gen": true,
}

// payload is what IssueToken signs: the claims and the custom ones.
type payload struct {
	*Claims
	custom map[string]any
}

func (p payload) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(p.Claims)
	if err != nil || len(p.custom) == 0 {
		return b, err
	}
	custom, err := json.Marshal(p.custom)
	if err != nil {
		return nil, err
	}
	// Both are JSON objects: join {...} and {...} into {...,...}.
	return append(append(b[:len(b)-1], ','), custom[1:]...), nil
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

// IssueToken signs an access token for u with the active key of the
// Service's [KeySet], valid from now for Config.TokenTTL, and returns it
// with its expiry time. The token's header carries the key's ID as kid
// (none for an HMAC key with ID ""); its payload, the claims of [Claims]
// and those Config.CustomClaims returns for u. It is what Signup and Login
// call; applications call it directly only for flows of their own (say,
// after verifying an email link). When sessions are tracked, the token is
// of the user's current session generation, read from the store.
func (s *Service) IssueToken(ctx context.Context, u User) (token string, expires time.Time, err error) {
	var gen int64
	if s.sessions != nil {
		if gen, err = s.sessions.SessionGeneration(ctx, u.ID); err != nil {
			return "", time.Time{}, fmt.Errorf("auth: reading session generation: %w", err)
		}
	}
	return s.issueToken(ctx, u, gen)
}

// issueToken is IssueToken for a session of generation gen.
func (s *Service) issueToken(ctx context.Context, u User, gen int64) (token string, expires time.Time, err error) {
	key := s.keys.Active()
	if !key.CanSign() {
		return "", time.Time{}, fmt.Errorf("%w: the active key %q cannot sign", ErrInvalidConfig, key.id)
	}
	var custom map[string]any
	if s.customClaims != nil {
		if custom, err = s.customClaims(ctx, u); err != nil {
			return "", time.Time{}, fmt.Errorf("auth: custom claims: %w", err)
		}
		for name := range custom {
			if reservedClaims[name] {
				return "", time.Time{}, fmt.Errorf("%w: custom claim %q is reserved", ErrInvalidConfig, name)
			}
		}
		if err := checkCustomNames(custom); err != nil {
			return "", time.Time{}, fmt.Errorf("%w: custom claims: %v", ErrInvalidConfig, err)
		}
	}
	var jti [16]byte
	if err := s.random(jti[:]); err != nil {
		return "", time.Time{}, err
	}
	now := s.now().Truncate(time.Second)
	expires = now.Add(s.ttl)
	c := &Claims{
		UserID:     u.ID,
		UserName:   u.Name,
		Email:      u.Email,
		Generation: gen,
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
	var body any = c
	if len(custom) > 0 {
		body = payload{c, custom}
	}
	if token, err = key.signToken(body); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: signing token: %w", err)
	}
	return token, expires, nil
}

// signToken returns the compact JWS of claims signed with k: its header
// (made once, by setID), the claims' JSON, and the signature of the two
// by golang-jwt's signing method, each in unpadded base64url.
func (k *Key) signToken(claims any) (string, error) {
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(k.header)+1+enc.EncodedLen(len(body)))
	buf = append(buf, k.header...)
	buf = append(buf, '.')
	signing := string(enc.AppendEncode(buf, body))
	sig, err := k.method.Sign(signing, k.sign)
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// VerifyToken checks token with the Service's [Verifier]; see
// [Verifier.VerifyToken] for what it accepts.
func (s *Service) VerifyToken(ctx context.Context, token string) (*Claims, error) {
	return s.verifier.VerifyToken(ctx, token)
}

// Verifier returns the Service's Verifier, which accepts the tokens signed
// by the keys of its [KeySet].
func (s *Service) Verifier() *Verifier { return s.verifier }

// Keys returns the Service's KeySet: Config.Keys, or the set of the one
// HMAC key made of Config.Secret. Changes to it, such as a rotation, take
// effect at once for tokens issued and verified.
func (s *Service) Keys() *KeySet { return s.keys }
