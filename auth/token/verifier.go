package token

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionGenerations reports users' session generations: per user, a
// counter that starts at 0 and that each revocation of all the user's
// sessions increments (auth.SessionStore implements it). A token of an
// older generation than its user's belongs to a session that was revoked.
type SessionGenerations interface {
	SessionGeneration(ctx context.Context, userID string) (int64, error)
}

// Config configures a [Verifier]. Every zero field takes the default stated
// beside it.
type Config struct {
	// Issuer, if set, is required as the iss of every token. Default:
	// empty (iss not checked).
	Issuer string

	// Audience, if set, must be among the aud of every token. Default:
	// empty (aud not checked).
	Audience string

	// MaxTokenBytes caps the length of a token accepted for verification;
	// longer ones are rejected before any parsing. Default: 4096.
	MaxTokenBytes int

	// CacheSize is how many verified tokens the Verifier remembers, so
	// that a token seen again is accepted without checking its signature
	// again: it must be the very same token, unexpired, and the key that
	// verified it must still be in the key set (a removed key's tokens
	// are refused at once). The revocation check, if any, still runs every
	// time. Each entry holds the token and its claims: at most
	// MaxTokenBytes and a few hundred bytes. Default: 4096. Negative: no
	// cache.
	CacheSize int

	// Revocations, if set, makes verification stateful: a token whose
	// session generation (Claims.Generation) is older than its user's, as
	// Revocations.SessionGeneration reports, is refused: its session was
	// revoked, or began before a revocation ended it. That costs one
	// store read per verification. An error of SessionGeneration that
	// wraps [ErrInvalid] refuses the token like any refusal (package
	// auth returns one for a user that no longer exists); any other is
	// a failure to check, which VerifyToken returns wrapped, and which
	// wraps neither ErrInvalid nor [ErrExpired]. Default: nil, no such
	// check.
	Revocations SessionGenerations

	// Rejected, if set, is called, synchronously, with every error of
	// VerifyToken that wraps [ErrInvalid], and the user ID of the token
	// when it is known (a valid token of a revoked session), "" otherwise:
	// the place for an audit record (package auth records an
	// auth.EventTokenRejected there). Default: nil, nothing is reported.
	Rejected func(ctx context.Context, userID string, err error)

	// Now returns the current time. Default: time.Now.
	Now func() time.Time
}

// A Verifier checks access tokens against a [KeySet]. Every auth.Service
// has one (auth.Service.Verifier); a service that only verifies tokens,
// and holds no signing key, makes its own from public keys, for instance
// those of the issuer's published JWKS ([ParseJWKS]). It is safe for
// concurrent use.
type Verifier struct {
	keys          *KeySet
	issuer        string
	audience      string
	maxTokenBytes int
	revocations   SessionGenerations
	rejected      func(context.Context, string, error)
	now           func() time.Time
	parser        *jwt.Parser
	cache         *tokenCache // nil: none
}

// NewVerifier returns a Verifier that accepts tokens signed by keys (see
// [KeySet] for how a token's key is chosen), which may change while it is
// in use. It returns an error wrapping [ErrInvalidConfig] for a nil key
// set or a negative MaxTokenBytes.
func NewVerifier(keys *KeySet, cfg Config) (*Verifier, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil KeySet", ErrInvalidConfig)
	}
	switch {
	case cfg.MaxTokenBytes < 0:
		return nil, fmt.Errorf("%w: negative MaxTokenBytes", ErrInvalidConfig)
	case cfg.MaxTokenBytes == 0:
		cfg.MaxTokenBytes = 4096
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Verifier{
		keys:          keys,
		issuer:        cfg.Issuer,
		audience:      cfg.Audience,
		maxTokenBytes: cfg.MaxTokenBytes,
		revocations:   cfg.Revocations,
		rejected:      cfg.Rejected,
		now:           cfg.Now,
		parser:        parser(cfg),
		cache:         newTokenCache(cfg.CacheSize),
	}, nil
}

// VerifyToken checks token and returns its claims. It accepts only tokens
// of at most MaxTokenBytes, in strict unpadded base64url, signed by the key
// of the verifier's KeySet that their kid names (the key with ID "" for
// tokens without one) under that key's own algorithm, without a crit
// header, with an exp that has not passed, an nbf (if present) that has
// (exp, nbf and iat must be JSON numbers, as RFC 7519 says, not strings,
// from 0 to 253402300799, the last second of the year 9999, read to the
// whole second with any fraction dropped, as golang-jwt reads them), a userId
// (and a sub, if any, equal to it), and the configured iss and aud when
// those are set. Claims are read by their exact names: a payload in which
// a claim of [Claims] appears under another case ("UserId", "EXP"), or
// two member names differ only in case, is refused, since readers that
// match names case-insensitively (encoding/json) and exactly (most JWT
// libraries) would read it differently. With Config.Revocations, a token
// of a revoked session is refused too.
//
// Every refusal wraps [ErrInvalid] and is reported to Config.Rejected; an
// expired token's error also wraps [ErrExpired]. A failure of
// Config.Revocations is returned wrapped (see Config.Revocations).
func (v *Verifier) VerifyToken(ctx context.Context, token string) (*Claims, error) {
	c, err := v.verify(token)
	if err == nil && v.revocations != nil {
		err = v.checkRevocation(ctx, c)
	}
	if err != nil {
		if v.rejected != nil && errors.Is(err, ErrInvalid) {
			v.rejected(ctx, c.userID(), err)
		}
		return nil, err
	}
	return c, nil
}

// checkRevocation refuses c if it is of an older session generation
// than its user's: its session was revoked.
func (v *Verifier) checkRevocation(ctx context.Context, c *Claims) error {
	gen, err := v.revocations.SessionGeneration(ctx, c.UserID)
	if errors.Is(err, ErrInvalid) {
		return err
	}
	if err != nil {
		return fmt.Errorf("token: checking revocation: %w", err)
	}
	if c.Generation < gen {
		return fmt.Errorf("%w: its session was revoked", ErrInvalid)
	}
	return nil
}

func (v *Verifier) verify(token string) (*Claims, error) {
	if len(token) > v.maxTokenBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, v.maxTokenBytes)
	}
	st := v.keys.load()
	now := v.now()
	if v.cache != nil {
		if c, ok := v.cache.get(token, now, st); ok {
			return c, nil
		}
	}
	if !isTokenText(token) {
		return nil, fmt.Errorf("%w: character outside base64url and '.'", ErrInvalid)
	}
	c, key, err := v.parse(token, st)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(token, c, key)
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
