package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// refreshTokenLen is the length of a refresh token: 32 random bytes in
// unpadded base64url.
const refreshTokenLen = 43

// refreshPolicy is the refresh-token part of a Service's configuration.
type refreshPolicy struct {
	on           bool
	ttl          time.Duration
	grace        time.Duration // 0: none
	successorKey []byte        // keys the HMAC that derives a token's successor
}

// newRefreshPolicy checks cfg's refresh and revocation fields and returns
// the policy, defaults filled in, and the SessionStore they need (nil if
// they need none).
func newRefreshPolicy(store UserStore, cfg *Config) (refreshPolicy, SessionStore, error) {
	p := refreshPolicy{on: cfg.RefreshTokens, ttl: cfg.RefreshTTL, grace: cfg.RefreshReuseGrace}
	if p.ttl < 0 {
		return p, nil, errors.New("negative RefreshTTL")
	}
	if p.ttl == 0 {
		p.ttl = 30 * 24 * time.Hour
	}
	switch {
	case p.grace == 0:
		p.grace = 10 * time.Second
	case p.grace < 0:
		p.grace = 0
	}
	if p.grace >= p.ttl {
		return p, nil, fmt.Errorf("RefreshReuseGrace %v is not shorter than RefreshTTL %v", p.grace, p.ttl)
	}
	p.successorKey = deriveKey(cfg.Secret, "gatehouse refresh successor v1")
	if !cfg.RefreshTokens && !cfg.CheckRevocation {
		return p, nil, nil
	}
	sessions, ok := store.(SessionStore)
	if !ok {
		return p, nil, fmt.Errorf("RefreshTokens and CheckRevocation need a store that implements auth.SessionStore; %T does not", store)
	}
	return p, sessions, nil
}

// deriveKey derives from the secret the key of one use of it, so that
// replicas, sharing the secret, derive the same keys.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// refreshHash is how a SessionStore knows a refresh token: the hex
// SHA-256 of it. The token has 256 bits of entropy, so a plain hash is
// as good as a slow one, and a leaked table yields no usable token.
func refreshHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// successor returns the refresh token that replaces token when it is
// spent. It is derived, not drawn, so that every use of token within the
// grace window (a retry, on any replica) gets the same successor and a
// session stays one chain: if the token was stolen, whichever of thief
// and owner comes second with the successor is caught as reuse. Without
// the secret nobody can compute it, even knowing token.
func (s *Service) successor(token string) string {
	m := hmac.New(sha256.New, s.refresh.successorKey)
	m.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkRefreshToken refuses a missing refresh token as a *FieldError for
// "refreshToken", and one without the shape of a refresh token with an
// error wrapping ErrInvalidToken.
func checkRefreshToken(token string) error {
	switch {
	case token == "":
		return &FieldError{Field: "refreshToken", Reason: "required"}
	case len(token) != refreshTokenLen || !isTokenText(token) || strings.Contains(token, "."):
		return fmt.Errorf("%w: malformed refresh token", ErrInvalidToken)
	}
	return nil
}

var errRefreshOff = fmt.Errorf("auth: refresh tokens are off (Config.RefreshTokens): %w", errors.ErrUnsupported)

// startSession returns a new session for u, of session generation gen
// (see SessionStore): an access token, and, if refresh tokens are on, the
// first refresh token of a new family, which the store creates only if
// gen is still the user's generation. If it is not, the user's sessions
// were revoked since the caller read gen, and startSession returns an
// error wrapping ErrSessionsRevoked.
func (s *Service) startSession(ctx context.Context, u User, gen int64) (*Grant, error) {
	var refresh string
	if s.refresh.on {
		var err error
		if refresh, err = s.newRefreshToken(ctx, u.ID, gen); err != nil {
			return nil, err
		}
	}
	return s.session(ctx, u, refresh, gen)
}

// newRefreshToken starts a family of refresh tokens for the user with ID
// userID, of session generation gen, and returns its first token.
func (s *Service) newRefreshToken(ctx context.Context, userID string, gen int64) (string, error) {
	var raw [32]byte
	var family [16]byte
	if err := s.random(raw[:]); err != nil {
		return "", err
	}
	if err := s.random(family[:]); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	err := s.sessions.CreateRefreshToken(ctx, RefreshToken{
		Hash:      refreshHash(token),
		Family:    hex.EncodeToString(family[:]),
		UserID:    userID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.refresh.ttl),
	}, gen)
	if err != nil {
		return "", fmt.Errorf("auth: storing refresh token: %w", err)
	}
	return token, nil
}

// session issues an access token of generation gen for u and returns it
// with the refresh token, if any.
func (s *Service) session(ctx context.Context, u User, refresh string, gen int64) (*Grant, error) {
	token, exp, err := s.issueToken(ctx, u, gen)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	g := &Grant{User: u, Token: token, IssuedAt: exp.Add(-s.ttl), ExpiresAt: exp, RefreshToken: refresh}
	if refresh != "" {
		g.RefreshExpiresAt = g.IssuedAt.Add(s.refresh.ttl)
	}
	return g, nil
}

// generation returns the session generation of the user with ID userID,
// or 0 if sessions are not tracked.
func (s *Service) generation(ctx context.Context, userID string) (int64, error) {
	if s.sessions == nil {
		return 0, nil
	}
	gen, err := s.sessions.SessionGeneration(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("auth: reading session generation: %w", err)
	}
	return gen, nil
}

// Refresh trades a refresh token for a new session of the same account:
// a fresh access token (with the account's current name and email) and
// the refresh token that replaces the one given, which is spent.
//
// The trade is atomic: of concurrent uses of one token, on any number of
// replicas, one spends it. A spent token that comes back within
// Config.RefreshReuseGrace of being spent, while its successor is unused,
// is taken as a retry and gets the same successor again; any other use of
// a spent token is taken as theft and revokes the whole session (the
// token's family: the successor stops working too), recorded as an
// [EventRefreshReused].
//
// An unknown, malformed, spent, expired or revoked token, or one whose
// account no longer exists, is refused with an error wrapping
// [ErrInvalidToken] (and [ErrTokenExpired] if expired); one of a disabled
// account ([Service.DisableUser]) with [ErrAccountDisabled] (the token is
// spent); an empty one is a
// [*FieldError] for "refreshToken". With refresh tokens off, Refresh
// returns an error wrapping errors.ErrUnsupported. Store failures are
// returned wrapped.
func (s *Service) Refresh(ctx context.Context, refreshToken string) (*Grant, error) {
	if !s.refresh.on {
		return nil, errRefreshOff
	}
	reject := func(reason, userID string) (*Grant, error) {
		s.record(ctx, Event{Kind: EventRefreshRejected, UserID: userID, Reason: "refresh token " + reason})
		if reason == "expired" {
			return nil, fmt.Errorf("%w: refresh token: %w", ErrInvalidToken, ErrTokenExpired)
		}
		return nil, fmt.Errorf("%w: refresh token %s", ErrInvalidToken, reason)
	}
	if err := checkRefreshToken(refreshToken); err != nil {
		if errors.Is(err, ErrInvalidToken) {
			return reject("malformed", "")
		}
		return nil, err
	}
	// The generation is read before the token is spent: a revocation
	// after this read makes the new tokens of an older generation than
	// the user's, and one before it has revoked the token's family.
	hash := refreshHash(refreshToken)
	peek, err := s.sessions.RefreshToken(ctx, hash)
	switch {
	case errors.Is(err, ErrNotFound):
		return reject("unknown", "")
	case err != nil:
		return nil, fmt.Errorf("auth: looking up refresh token: %w", err)
	}
	gen, err := s.generation(ctx, peek.UserID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	rt, err := s.sessions.UseRefreshToken(ctx, hash, now)
	switch {
	case errors.Is(err, ErrNotFound):
		return reject("unknown", "")
	case err != nil:
		return nil, fmt.Errorf("auth: using refresh token: %w", err)
	case !rt.RevokedAt.IsZero():
		return reject("revoked", rt.UserID)
	case !now.Before(rt.ExpiresAt):
		return reject("expired", rt.UserID)
	}
	next := s.successor(refreshToken)
	if !rt.UsedAt.IsZero() {
		retry, err := s.isRetry(ctx, rt, next, now)
		if err != nil {
			return nil, err
		}
		if !retry {
			if err := s.sessions.RevokeFamily(ctx, rt.Family, now); err != nil {
				return nil, fmt.Errorf("auth: revoking a reused session: %w", err)
			}
			s.record(ctx, Event{Kind: EventRefreshReused, UserID: rt.UserID, Reason: "spent refresh token used again: session revoked"})
			return nil, fmt.Errorf("%w: refresh token already used; its session is revoked", ErrInvalidToken)
		}
	}
	u, err := s.store.UserByID(ctx, rt.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		return reject("of a deleted account", rt.UserID)
	case err != nil:
		return nil, fmt.Errorf("auth: looking up user: %w", err)
	case u.Disabled:
		s.record(ctx, Event{Kind: EventRefreshRejected, UserID: u.ID, Reason: "account disabled"})
		return nil, ErrAccountDisabled
	}
	// On a retry the successor exists already and this changes nothing.
	err = s.sessions.CreateRefreshToken(ctx, RefreshToken{
		Hash:      refreshHash(next),
		Family:    rt.Family,
		UserID:    rt.UserID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.refresh.ttl),
	}, gen)
	switch {
	case errors.Is(err, ErrSessionsRevoked), errors.Is(err, ErrNotFound):
		return reject("revoked", rt.UserID)
	case err != nil:
		return nil, fmt.Errorf("auth: storing refresh token: %w", err)
	}
	s.record(ctx, Event{Kind: EventRefresh, UserID: u.ID, Email: u.Email})
	return s.session(ctx, u, next, gen)
}

// isRetry reports whether the spent token rt may be used again: within
// the grace window after it was spent, while its successor, next, is not
// spent yet (or not even stored yet, its first use still in flight).
func (s *Service) isRetry(ctx context.Context, rt RefreshToken, next string, now time.Time) (bool, error) {
	if s.refresh.grace <= 0 || now.Sub(rt.UsedAt) > s.refresh.grace {
		return false, nil
	}
	succ, err := s.sessions.RefreshToken(ctx, refreshHash(next))
	switch {
	case errors.Is(err, ErrNotFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("auth: looking up refresh token: %w", err)
	}
	return succ.UsedAt.IsZero() && succ.RevokedAt.IsZero(), nil
}

// Logout ends the session of refreshToken: it revokes the token's family,
// so neither it nor any token of the same session can be refreshed again.
// Access tokens already issued stay valid until they expire, unless
// Config.CheckRevocation is on and the user's sessions are revoked
// ([Service.RevokeSessions]). Logging out of a session already ended is
// not an error. An unknown or malformed token is refused with an error
// wrapping [ErrInvalidToken], an empty one with a [*FieldError] for
// "refreshToken"; with refresh tokens off, Logout returns an error
// wrapping errors.ErrUnsupported.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	if !s.refresh.on {
		return errRefreshOff
	}
	if err := checkRefreshToken(refreshToken); err != nil {
		return err
	}
	rt, err := s.sessions.RefreshToken(ctx, refreshHash(refreshToken))
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: unknown refresh token", ErrInvalidToken)
	case err != nil:
		return fmt.Errorf("auth: looking up refresh token: %w", err)
	}
	if err := s.sessions.RevokeFamily(ctx, rt.Family, s.now()); err != nil {
		return fmt.Errorf("auth: revoking session: %w", err)
	}
	s.record(ctx, Event{Kind: EventLogout, UserID: rt.UserID})
	return nil
}

// RevokeSessions ends every session of the user, including those of
// logins in flight that read the account before it (see [SessionStore]):
// all its refresh tokens stop working at once, and, with
// Config.CheckRevocation, so do its access tokens. The store must
// implement [SessionStore]; if refresh tokens and CheckRevocation are both
// off, RevokeSessions returns an error wrapping errors.ErrUnsupported.
func (s *Service) RevokeSessions(ctx context.Context, userID string) error {
	if s.sessions == nil {
		return fmt.Errorf("auth: sessions are not tracked (Config.RefreshTokens, Config.CheckRevocation): %w", errors.ErrUnsupported)
	}
	if err := s.sessions.RevokeSessions(ctx, userID, s.now()); err != nil {
		return fmt.Errorf("auth: revoking sessions: %w", err)
	}
	s.record(ctx, Event{Kind: EventSessionsRevoked, UserID: userID})
	return nil
}

// pruneMargin is how long after expiring a refresh token is pruned: longer
// than any Refresh takes, so that no Refresh that spent a token just
// before it expired can store the successor into a family that pruning
// deleted (and so forgot the revocation of) meanwhile.
const pruneMargin = time.Minute

// PruneSessions deletes the refresh tokens expired for more than a
// minute, and the sessions left without any, and, if the store
// implements [AccountStore], the expired one-time tokens (of mailed
// links and of mfaTokens); it returns how many tokens it deleted in all. Spent refresh
// tokens are kept until they expire, to catch their reuse, so without
// pruning the store grows by one row per refresh: call it periodically
// (hourly, say) from one replica. With neither sessions tracked nor an
// AccountStore it does nothing.
func (s *Service) PruneSessions(ctx context.Context) (int64, error) {
	var n int64
	if s.sessions != nil {
		var err error
		n, err = s.sessions.DeleteExpiredRefreshTokens(ctx, s.now().Add(-pruneMargin))
		if err != nil {
			return n, fmt.Errorf("auth: pruning refresh tokens: %w", err)
		}
	}
	if s.accounts != nil {
		m, err := s.accounts.DeleteExpiredOneTimeTokens(ctx, s.now())
		n += m
		if err != nil {
			return n, fmt.Errorf("auth: pruning one-time tokens: %w", err)
		}
	}
	return n, nil
}
