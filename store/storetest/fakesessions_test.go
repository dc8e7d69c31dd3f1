package storetest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// sessions is the state of a fakeStore's auth.SessionStore, guarded by
// its mu.
type sessions struct {
	tokens      map[string]auth.RefreshToken // RevokedAt kept here only with flawRevokeTokens
	families    map[string]*fakeFamily
	generations map[string]int64 // user ID -> session generation, or "" -> everyone's with flawGenerationGlobal
}

type fakeFamily struct {
	userID    string
	revokedAt time.Time
	tokens    int
}

func newSessions() sessions {
	return sessions{tokens: map[string]auth.RefreshToken{}, families: map[string]*fakeFamily{}, generations: map[string]int64{}}
}

func (s *fakeStore) UpdatePasswordHash(ctx context.Context, id, oldHash, newHash string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	u, ok := s.byID[id]
	if s.flaw == flawCASRacy {
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for the others to compare the same hash
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	same := u.PasswordHash == oldHash
	switch s.flaw {
	case flawCASIgnoresOld:
		same = true
	case flawCASPadSpace:
		same = strings.TrimRight(u.PasswordHash, " ") == strings.TrimRight(oldHash, " ")
	case flawCASChanged:
		same = same && oldHash != newHash
	}
	if !ok || !same {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	u.PasswordHash = newHash
	s.byID[id] = u
	return nil
}

func (s *fakeStore) missToken() (auth.RefreshToken, error) {
	if s.flaw == flawNilNotFound {
		return auth.RefreshToken{}, nil
	}
	return auth.RefreshToken{}, fmt.Errorf("fake: %w", auth.ErrNotFound)
}

// out returns t as the store reports it. s.mu must be held.
func (s *fakeStore) out(t auth.RefreshToken) auth.RefreshToken {
	if s.flaw != flawRevokeTokens {
		t.RevokedAt = s.families[t.Family].revokedAt
	}
	return t
}

// revokeFamily revokes the family at now. s.mu must be held.
func (s *fakeStore) revokeFamily(family string, now time.Time) {
	if s.flaw == flawRevokeTokens {
		for h, t := range s.tokens {
			if t.Family == family && t.RevokedAt.IsZero() {
				t.RevokedAt = now
				s.tokens[h] = t
			}
		}
		return
	}
	if f, ok := s.families[family]; ok && (f.revokedAt.IsZero() || s.flaw == flawRevokeMoves) {
		f.revokedAt = now
	}
}

// genKey returns the key of the user's generation in s.generations.
func (s *fakeStore) genKey(userID string) string {
	if s.flaw == flawGenerationGlobal {
		return ""
	}
	return userID
}

func (s *fakeStore) CreateRefreshToken(ctx context.Context, t auth.RefreshToken, gen int64) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, exists := s.tokens[t.Hash]
	if exists && s.flaw == flawCreateExistsFirst {
		return nil
	}
	if _, ok := s.byID[t.UserID]; !ok && s.flaw != flawNoUserCheck {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	if s.generations[s.genKey(t.UserID)] != gen && s.flaw != flawGenerationIgnored {
		return fmt.Errorf("fake: %w", auth.ErrSessionsRevoked)
	}
	if s.flaw == flawGenerationRacy {
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for a RevokeSessions to run between the check and the insert
		s.mu.Lock()
	}
	if old, ok := s.tokens[t.Hash]; ok {
		switch s.flaw {
		case flawCreateDupError:
			return fmt.Errorf("fake: token exists")
		case flawCreateOverwrites:
			s.families[old.Family].tokens--
		default:
			return nil
		}
	}
	s.tokens[t.Hash] = t
	f, ok := s.families[t.Family]
	if !ok {
		f = &fakeFamily{userID: t.UserID}
		s.families[t.Family] = f
	}
	f.tokens++
	return nil
}

func (s *fakeStore) UseRefreshToken(ctx context.Context, hash string, now time.Time) (auth.RefreshToken, error) {
	if err := s.ctxErr(ctx); err != nil {
		return auth.RefreshToken{}, err
	}
	s.mu.Lock()
	t, ok := s.tokens[hash]
	if s.flaw == flawRacyUse {
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for the others to read the token unused
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if !ok {
		return s.missToken()
	}
	if t.UsedAt.IsZero() || s.flaw == flawUseOverwrites {
		u := s.tokens[hash]
		u.UsedAt = now
		s.tokens[hash] = u
	}
	return s.out(t), nil
}

func (s *fakeStore) RefreshToken(ctx context.Context, hash string) (auth.RefreshToken, error) {
	if err := s.ctxErr(ctx); err != nil {
		return auth.RefreshToken{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return s.missToken()
	}
	if s.flaw == flawPeekMarksUsed && t.UsedAt.IsZero() {
		u := t
		u.UsedAt = t.IssuedAt
		s.tokens[hash] = u
	}
	return s.out(t), nil
}

func (s *fakeStore) RevokeFamily(ctx context.Context, family string, now time.Time) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeFamily(family, now)
	return nil
}

func (s *fakeStore) RevokeSessions(ctx context.Context, userID string, now time.Time) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, f := range s.families {
		if f.userID == userID || s.flaw == flawRevokeEveryone {
			s.revokeFamily(id, now)
		}
	}
	if s.flaw != flawRevokeKeepsGeneration {
		s.generations[s.genKey(userID)]++
	}
	return nil
}

func (s *fakeStore) SessionGeneration(ctx context.Context, userID string) (int64, error) {
	if err := s.ctxErr(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[userID]; !ok && s.flaw != flawGenerationUnknownUser {
		return 0, fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	return s.generations[s.genKey(userID)], nil
}

func (s *fakeStore) DeleteExpiredRefreshTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := s.ctxErr(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for h, t := range s.tokens {
		expired := !t.ExpiresAt.After(now)
		if s.flaw == flawDeleteBoundary {
			expired = t.ExpiresAt.Before(now)
		}
		if !expired {
			continue
		}
		delete(s.tokens, h)
		n++
		f := s.families[t.Family]
		if f.tokens--; f.tokens == 0 {
			delete(s.families, t.Family)
		}
	}
	return n, nil
}
