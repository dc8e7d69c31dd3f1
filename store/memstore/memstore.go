package memstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// errDuplicateID is returned, wrapped, by CreateUser for an ID that is
// already taken. It is deliberately not [auth.ErrDuplicateEmail].
var errDuplicateID = errors.New("user ID already taken")

// Store is an in-memory [auth.UserStore], [throttle.Store],
// [auth.PasswordStore], [auth.SessionStore], [auth.AccountStore] and
// [auth.MFAStore]. The zero value is not usable;
// create one with [New]. A Store is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	byID    map[string]auth.User
	byEmail map[string]string // email -> ID
	// tokens holds the refresh tokens by hash, their RevokedAt zero: the
	// family's is in families.
	tokens   map[string]auth.RefreshToken
	families map[string]family
	// generations holds the users' session generations; 0 if absent.
	generations map[string]int64
	// oneTime holds the one-time tokens by hash.
	oneTime map[string]auth.OneTimeToken
	// totp holds the users' TOTP enrolments, recovery their recovery
	// codes' hashes, by user ID.
	totp     map[string]auth.TOTP
	recovery map[string]map[string]bool
	attempts throttle.Store
}

// family is the state of a session: whose it is, when it was revoked
// (zero while live) and how many tokens it has, so that it is deleted
// with its last one.
type family struct {
	userID    string
	revokedAt time.Time
	tokens    int
}

var (
	_ auth.UserStore     = (*Store)(nil)
	_ throttle.Store     = (*Store)(nil)
	_ auth.PasswordStore = (*Store)(nil)
	_ auth.SessionStore  = (*Store)(nil)
	_ auth.AccountStore  = (*Store)(nil)
)

// New returns an empty Store. Its attempt counters are those of
// [throttle.NewMemoryStore](0): at most 100,000.
func New() *Store {
	return &Store{
		byID:        make(map[string]auth.User),
		byEmail:     make(map[string]string),
		tokens:      make(map[string]auth.RefreshToken),
		families:    make(map[string]family),
		generations: make(map[string]int64),
		oneTime:     make(map[string]auth.OneTimeToken),
		totp:        make(map[string]auth.TOTP),
		recovery:    make(map[string]map[string]bool),
		attempts:    throttle.NewMemoryStore(0),
	}
}

// CreateUser stores u. It returns an error wrapping [auth.ErrDuplicateEmail]
// if a user with the same email exists, and a different error if only the
// ID is taken; in both cases nothing is stored.
func (s *Store) CreateUser(ctx context.Context, u auth.User) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: create user: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Email first, as the SQL stores' ON CONFLICT(email) does: when both are
	// taken, the email is reported.
	if _, ok := s.byEmail[u.Email]; ok {
		return fmt.Errorf("memstore: create user: %w", auth.ErrDuplicateEmail)
	}
	if _, ok := s.byID[u.ID]; ok {
		return fmt.Errorf("memstore: create user: %w", errDuplicateID)
	}
	s.byID[u.ID] = u
	s.byEmail[u.Email] = u.ID
	return nil
}

// UserByEmail returns the user whose email is exactly email, or an error
// wrapping [auth.ErrNotFound].
func (s *Store) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	if err := ctx.Err(); err != nil {
		return auth.User{}, fmt.Errorf("memstore: user by email: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.byEmail[email]
	if !ok {
		return auth.User{}, fmt.Errorf("memstore: user by email: %w", auth.ErrNotFound)
	}
	return s.byID[id], nil
}

// UserByID returns the user with the given ID, or an error wrapping
// [auth.ErrNotFound].
func (s *Store) UserByID(ctx context.Context, id string) (auth.User, error) {
	if err := ctx.Err(); err != nil {
		return auth.User{}, fmt.Errorf("memstore: user by id: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.byID[id]
	if !ok {
		return auth.User{}, fmt.Errorf("memstore: user by id: %w", auth.ErrNotFound)
	}
	return u, nil
}

// Attempts returns the attempt counter under key, or the zero
// throttle.Attempts if there is none.
func (s *Store) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	a, err := s.attempts.Attempts(ctx, key)
	if err != nil {
		return throttle.Attempts{}, fmt.Errorf("memstore: attempts: %w", err)
	}
	return a, nil
}

// AddAttempt counts an attempt under key at now, restarting the counter
// if its last attempt is expiry old, and returns the counter.
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	a, err := s.attempts.AddAttempt(ctx, key, now, expiry)
	if err != nil {
		return throttle.Attempts{}, fmt.Errorf("memstore: add attempt: %w", err)
	}
	return a, nil
}

// ResetAttempts deletes the attempt counter under key, if there is one.
func (s *Store) ResetAttempts(ctx context.Context, key string) error {
	if err := s.attempts.ResetAttempts(ctx, key); err != nil {
		return fmt.Errorf("memstore: reset attempts: %w", err)
	}
	return nil
}
