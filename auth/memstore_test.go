package auth_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
)

// memStore is the smallest correct auth.UserStore: a map behind a mutex.
// The examples use it so that they depend on nothing but package auth; real
// programs use one of the stores under store/.
type memStore struct {
	mu      sync.Mutex
	byEmail map[string]auth.User
	byID    map[string]auth.User
}

var _ auth.UserStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{byEmail: map[string]auth.User{}, byID: map[string]auth.User{}}
}

func (s *memStore) CreateUser(_ context.Context, u auth.User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byEmail[u.Email]; ok {
		return fmt.Errorf("memstore: %w", auth.ErrDuplicateEmail)
	}
	s.byEmail[u.Email] = u
	s.byID[u.ID] = u
	return nil
}

func (s *memStore) UserByEmail(_ context.Context, email string) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byEmail[email]
	if !ok {
		return auth.User{}, fmt.Errorf("memstore: %w", auth.ErrNotFound)
	}
	return u, nil
}

func (s *memStore) UserByID(_ context.Context, id string) (auth.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return auth.User{}, fmt.Errorf("memstore: %w", auth.ErrNotFound)
	}
	return u, nil
}
