package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// UpdateName sets the name of the user with ID id. If no user has that
// ID, it returns an error wrapping [auth.ErrNotFound].
func (s *Store) UpdateName(ctx context.Context, id, name string) error {
	return s.updateUser(ctx, "update name", id, func(u *auth.User) { u.Name = name })
}

// UpdateEmail sets the email and EmailVerified of the user with ID id, if
// its email is current; see [auth.AccountStore].
func (s *Store) UpdateEmail(ctx context.Context, id, current, email string, verified bool) error {
	const op = "update email"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok || u.Email != current {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	if email != current {
		if _, taken := s.byEmail[email]; taken {
			return fmt.Errorf("memstore: %s: %w", op, auth.ErrDuplicateEmail)
		}
		delete(s.byEmail, current)
		s.byEmail[email] = id
	}
	u.Email, u.EmailVerified = email, verified
	s.byID[id] = u
	return nil
}

// SetDisabled sets the Disabled flag of the user with ID id. If no user
// has that ID, it returns an error wrapping [auth.ErrNotFound].
func (s *Store) SetDisabled(ctx context.Context, id string, disabled bool) error {
	return s.updateUser(ctx, "set disabled", id, func(u *auth.User) { u.Disabled = disabled })
}

// updateUser applies change to the user with ID id, under the lock; a
// user that does not exist is an error wrapping [auth.ErrNotFound].
func (s *Store) updateUser(ctx context.Context, op, id string, change func(*auth.User)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("memstore: %s: %w", op, auth.ErrNotFound)
	}
	change(&u)
	s.byID[id] = u
	return nil
}

// DeleteUser deletes the user with ID id, with its refresh tokens,
// session generation, one-time tokens, TOTP enrolment and recovery codes.
// If no user has that ID, it returns an error wrapping [auth.ErrNotFound].
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return fmt.Errorf("memstore: delete user: %w", auth.ErrNotFound)
	}
	delete(s.byID, id)
	delete(s.byEmail, u.Email)
	delete(s.generations, id)
	for hash, t := range s.tokens {
		if t.UserID == id {
			delete(s.tokens, hash)
		}
	}
	for fam, f := range s.families {
		if f.userID == id {
			delete(s.families, fam)
		}
	}
	for hash, t := range s.oneTime {
		if t.UserID == id {
			delete(s.oneTime, hash)
		}
	}
	delete(s.totp, id)
	delete(s.recovery, id)
	return nil
}

// ListUsers returns at most limit users whose IDs are greater than after,
// in increasing order of ID.
func (s *Store) ListUsers(ctx context.Context, after string, limit int) ([]auth.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list users: %w", err)
	}
	if limit < 1 {
		return nil, fmt.Errorf("memstore: list users: limit %d is less than 1", limit)
	}
	s.mu.RLock()
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = ids[:min(limit, len(ids))]
	users := make([]auth.User, len(ids))
	for i, id := range ids {
		users[i] = s.byID[id]
	}
	s.mu.RUnlock()
	return users, nil
}

// CreateOneTimeToken stores t, for an existing user: if no user has
// t.UserID, it returns an error wrapping [auth.ErrNotFound]. If a token
// with t.Hash is stored already, it returns an error and keeps that token
// as it was.
func (s *Store) CreateOneTimeToken(ctx context.Context, t auth.OneTimeToken) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: create one-time token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[t.UserID]; !ok {
		return fmt.Errorf("memstore: create one-time token: %w", auth.ErrNotFound)
	}
	if _, ok := s.oneTime[t.Hash]; ok {
		return fmt.Errorf("memstore: create one-time token: hash already stored")
	}
	s.oneTime[t.Hash] = t
	return nil
}

// UseOneTimeToken deletes the token with this hash, if it is of the
// purpose, and returns it, expired or not; otherwise an error wrapping
// [auth.ErrNotFound].
func (s *Store) UseOneTimeToken(ctx context.Context, hash, purpose string) (auth.OneTimeToken, error) {
	if err := ctx.Err(); err != nil {
		return auth.OneTimeToken{}, fmt.Errorf("memstore: use one-time token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.oneTime[hash]
	if !ok || t.Purpose != purpose {
		return auth.OneTimeToken{}, fmt.Errorf("memstore: use one-time token: %w", auth.ErrNotFound)
	}
	delete(s.oneTime, hash)
	return t, nil
}

// DeleteOneTimeTokens deletes every token of the user of the purpose.
func (s *Store) DeleteOneTimeTokens(ctx context.Context, userID, purpose string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete one-time tokens: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for hash, t := range s.oneTime {
		if t.UserID == userID && t.Purpose == purpose {
			delete(s.oneTime, hash)
		}
	}
	return nil
}

// DeleteExpiredOneTimeTokens deletes the tokens whose ExpiresAt is not
// after now and returns how many it deleted.
func (s *Store) DeleteExpiredOneTimeTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("memstore: delete expired one-time tokens: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for hash, t := range s.oneTime {
		if !t.ExpiresAt.After(now) {
			delete(s.oneTime, hash)
			n++
		}
	}
	return n, nil
}
