package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// UpdatePasswordHash sets the password hash of the user with ID id to
// newHash if it is oldHash (compared byte for byte), atomically. If no
// user has that ID, or its hash is not oldHash, it changes nothing and
// returns an error wrapping [auth.ErrNotFound].
func (s *Store) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: update password hash: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok || u.PasswordHash != oldHash {
		return fmt.Errorf("memstore: update password hash: %w", auth.ErrNotFound)
	}
	u.PasswordHash = newHash
	s.byID[id] = u
	return nil
}

// CreateRefreshToken stores t, unused and with its family's state
// (t.UsedAt and t.RevokedAt are ignored), creating its family if it is
// the first token of it, if the user t.UserID exists and its session
// generation is gen; otherwise it stores nothing and returns an error
// wrapping [auth.ErrNotFound] or [auth.ErrSessionsRevoked]. If a token
// with t.Hash exists already, it changes nothing and returns nil.
func (s *Store) CreateRefreshToken(ctx context.Context, t auth.RefreshToken, gen int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: create refresh token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[t.UserID]; !ok {
		return fmt.Errorf("memstore: create refresh token: %w", auth.ErrNotFound)
	}
	if s.generations[t.UserID] != gen {
		return fmt.Errorf("memstore: create refresh token: %w", auth.ErrSessionsRevoked)
	}
	if _, ok := s.tokens[t.Hash]; ok {
		return nil
	}
	t.UsedAt, t.RevokedAt = time.Time{}, time.Time{}
	s.tokens[t.Hash] = t
	f, ok := s.families[t.Family]
	if !ok {
		f.userID = t.UserID
	}
	f.tokens++
	s.families[t.Family] = f
	return nil
}

// withFamily returns t with its family's RevokedAt. s.mu must be held.
func (s *Store) withFamily(t auth.RefreshToken) auth.RefreshToken {
	t.RevokedAt = s.families[t.Family].revokedAt
	return t
}

// UseRefreshToken marks the token with this hash used at now, if it is
// unused, and returns it as it was before the call, with its family's
// RevokedAt; or an error wrapping [auth.ErrNotFound] if there is no such
// token.
func (s *Store) UseRefreshToken(ctx context.Context, hash string, now time.Time) (auth.RefreshToken, error) {
	if err := ctx.Err(); err != nil {
		return auth.RefreshToken{}, fmt.Errorf("memstore: use refresh token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return auth.RefreshToken{}, fmt.Errorf("memstore: use refresh token: %w", auth.ErrNotFound)
	}
	if t.UsedAt.IsZero() {
		u := t
		u.UsedAt = now
		s.tokens[hash] = u
	}
	return s.withFamily(t), nil
}

// RefreshToken returns the token with this hash, with its family's
// RevokedAt, or an error wrapping [auth.ErrNotFound].
func (s *Store) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	if err := ctx.Err(); err != nil {
		return auth.RefreshToken{}, fmt.Errorf("memstore: refresh token: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tokens[hash]
	if !ok {
		return auth.RefreshToken{}, fmt.Errorf("memstore: refresh token: %w", auth.ErrNotFound)
	}
	return s.withFamily(t), nil
}

// RevokeFamily revokes the family at now, unless it is revoked already.
// A family without tokens is not kept, so revoking one does nothing.
func (s *Store) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: revoke family: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.families[family]; ok && f.revokedAt.IsZero() {
		f.revokedAt = now
		s.families[family] = f
	}
	return nil
}

// RevokeSessions revokes every live family of the user at now and
// increments the user's session generation.
func (s *Store) RevokeSessions(ctx context.Context, userID string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: revoke sessions: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, f := range s.families {
		if f.userID == userID && f.revokedAt.IsZero() {
			f.revokedAt = now
			s.families[id] = f
		}
	}
	s.generations[userID]++
	return nil
}

// SessionGeneration returns the user's session generation: 0 until its
// sessions are first revoked; an error wrapping [auth.ErrNotFound] if the
// user does not exist.
func (s *Store) SessionGeneration(ctx context.Context, userID string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: session generation: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.byID[userID]; !ok {
		return 0, fmt.Errorf("memstore: session generation: %w", auth.ErrNotFound)
	}
	return s.generations[userID], nil
}

// DeleteExpiredRefreshTokens deletes the tokens whose ExpiresAt is not
// after now, and the families left without tokens, and returns how many
// tokens it deleted.
func (s *Store) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: delete expired refresh tokens: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for hash, t := range s.tokens {
		if t.ExpiresAt.After(now) {
			continue
		}
		delete(s.tokens, hash)
		n++
		if f := s.families[t.Family]; f.tokens > 1 {
			f.tokens--
			s.families[t.Family] = f
		} else {
			delete(s.families, t.Family)
		}
	}
	return n, nil
}
