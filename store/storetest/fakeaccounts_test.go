package storetest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// accounts is the state of a fakeStore's auth.AccountStore beyond its
// users, guarded by its mu.
type accounts struct {
	oneTime map[string]auth.OneTimeToken
}

func newAccounts() accounts {
	return accounts{oneTime: map[string]auth.OneTimeToken{}}
}

// updateUser applies change to the user with ID id.
func (s *fakeStore) updateUser(ctx context.Context, id string, change func(u *auth.User)) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	change(&u)
	s.byID[id] = u
	return nil
}

func (s *fakeStore) UpdateName(ctx context.Context, id, name string) error {
	return s.updateUser(ctx, id, func(u *auth.User) { u.Name = name })
}

func (s *fakeStore) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return s.updateUser(ctx, id, func(u *auth.User) { u.Disabled = disabled })
}

func (s *fakeStore) UpdateEmail(ctx context.Context, id, current, email string, verified bool) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok || (u.Email != current && s.flaw != flawEmailIgnoresCurrent) {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	if email != u.Email {
		_, taken := s.byEmail[s.key(email)]
		if s.flaw == flawEmailRacy {
			s.mu.Unlock()
			time.Sleep(time.Millisecond) // long enough for the others to find the email free
			s.mu.Lock()
		}
		if taken {
			return fmt.Errorf("fake: %w", auth.ErrDuplicateEmail)
		}
		delete(s.byEmail, s.key(u.Email))
		s.byEmail[s.key(email)] = id
	}
	u.Email, u.EmailVerified = email, verified
	s.byID[id] = u
	return nil
}

func (s *fakeStore) DeleteUser(ctx context.Context, id string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	delete(s.byID, id)
	delete(s.byEmail, s.key(u.Email))
	if s.flaw != flawDeleteKeepsGeneration {
		delete(s.generations, s.genKey(id))
	}
	if s.flaw != flawDeleteKeepsTokens {
		for h, t := range s.tokens {
			if t.UserID == id {
				delete(s.tokens, h)
			}
		}
		for fam, f := range s.families {
			if f.userID == id {
				delete(s.families, fam)
			}
		}
	}
	if s.flaw != flawDeleteKeepsOneTime {
		for h, t := range s.oneTime {
			if t.UserID == id {
				delete(s.oneTime, h)
			}
		}
	}
	s.deleteMFA(id)
	return nil
}

func (s *fakeStore) ListUsers(ctx context.Context, after string, limit int) ([]auth.User, error) {
	if err := s.ctxErr(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id := range s.byID {
		if id > after || (id == after && s.flaw == flawListInclusive) {
			ids = append(ids, id)
		}
	}
	if s.flaw == flawListFoldCase {
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	} else {
		slices.Sort(ids)
	}
	users := make([]auth.User, 0, limit)
	for _, id := range ids[:min(limit, len(ids))] {
		users = append(users, s.byID[id])
	}
	return users, nil
}

func (s *fakeStore) CreateOneTimeToken(ctx context.Context, t auth.OneTimeToken) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[t.UserID]; !ok && s.flaw != flawOneTimeNoUserCheck {
		return fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	if s.flaw == flawOneTimeUserRacy {
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for a DeleteUser to run between the check and the insert
		s.mu.Lock()
	}
	if _, ok := s.oneTime[t.Hash]; ok {
		return errors.New("fake: one-time token exists")
	}
	s.oneTime[t.Hash] = t
	return nil
}

func (s *fakeStore) UseOneTimeToken(ctx context.Context, hash, purpose string) (auth.OneTimeToken, error) {
	if err := s.ctxErr(ctx); err != nil {
		return auth.OneTimeToken{}, err
	}
	s.mu.Lock()
	t, ok := s.oneTime[hash]
	if s.flaw == flawOneTimeRacy {
		s.mu.Unlock()
		time.Sleep(time.Millisecond) // long enough for the others to read the token
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	switch {
	case !ok:
		return auth.OneTimeToken{}, fmt.Errorf("fake: %w", auth.ErrNotFound)
	case t.Purpose != purpose && s.flaw != flawOneTimeIgnoresPurpose:
		if s.flaw == flawOneTimeMismatchDeletes {
			delete(s.oneTime, hash)
		}
		return auth.OneTimeToken{}, fmt.Errorf("fake: %w", auth.ErrNotFound)
	case s.flaw == flawOneTimeSkipsExpired && !t.ExpiresAt.After(time.Now()):
		return auth.OneTimeToken{}, fmt.Errorf("fake: %w", auth.ErrNotFound)
	}
	delete(s.oneTime, hash)
	return t, nil
}

func (s *fakeStore) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	if err := s.ctxErr(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, t := range s.oneTime {
		if t.UserID == userID && (t.Purpose == purpose || s.flaw == flawDeleteOneTimeEveryPurpose) {
			delete(s.oneTime, h)
		}
	}
	return nil
}

func (s *fakeStore) DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := s.ctxErr(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for h, t := range s.oneTime {
		expired := !t.ExpiresAt.After(now)
		if s.flaw == flawDeleteBoundary {
			expired = t.ExpiresAt.Before(now)
		}
		if expired {
			delete(s.oneTime, h)
			n++
		}
	}
	return n, nil
}
