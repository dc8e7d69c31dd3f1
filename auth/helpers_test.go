package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// testSecret is a 32-byte HS256 key, the shortest New accepts.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// fakeStore is a map-based UserStore for this package's tests. It reports
// misses and duplicates the way the UserStore contract asks: wrapped
// sentinels, not the sentinels themselves, so that the Service is tested
// with errors.Is rather than ==.
type fakeStore struct {
	mu      sync.Mutex
	byEmail map[string]User
	byID    map[string]User
}

var _ UserStore = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{byEmail: make(map[string]User), byID: make(map[string]User)}
}

func (s *fakeStore) CreateUser(_ context.Context, u User) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byEmail[u.Email]; ok {
		return fmt.Errorf("fakestore: create %q: %w", u.Email, ErrDuplicateEmail)
	}
	if _, ok := s.byID[u.ID]; ok {
		return fmt.Errorf("fakestore: create: id %q taken", u.ID)
	}
	s.byEmail[u.Email] = u
	s.byID[u.ID] = u
	return nil
}

func (s *fakeStore) UserByEmail(_ context.Context, email string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byEmail[email]
	if !ok {
		return User{}, fmt.Errorf("fakestore: email %q: %w", email, ErrNotFound)
	}
	return u, nil
}

func (s *fakeStore) UserByID(_ context.Context, id string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok {
		return User{}, fmt.Errorf("fakestore: id %q: %w", id, ErrNotFound)
	}
	return u, nil
}

// put stores u as is, bypassing the Service (to plant odd hashes).
func (s *fakeStore) put(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byEmail[u.Email] = u
	s.byID[u.ID] = u
}

// get returns the stored user with the given email, hash included.
func (s *fakeStore) get(t *testing.T, email string) User {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byEmail[email]
	if !ok {
		t.Fatalf("store has no user %q", email)
	}
	return u
}

// storeError is a store failure of a type of the store's own, as a driver
// would return.
type storeError struct{ op string }

func (e *storeError) Error() string { return "fakestore: " + e.op + ": connection refused" }

// failingStore fails every call with err, wrapped.
type failingStore struct{ err error }

var _ UserStore = failingStore{}

func (s failingStore) CreateUser(context.Context, User) error {
	return fmt.Errorf("insert: %w", s.err)
}

func (s failingStore) UserByEmail(context.Context, string) (User, error) {
	return User{}, fmt.Errorf("select by email: %w", s.err)
}

func (s failingStore) UserByID(context.Context, string) (User, error) {
	return User{}, fmt.Errorf("select by id: %w", s.err)
}

// newTestService returns New(store, cfg) with testSecret unless cfg has a
// secret, failing the test if New fails.
func newTestService(t testing.TB, store UserStore, cfg Config) *Service {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	s, err := New(store, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// errReader fails every read.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

var errNoEntropy = errors.New("test: entropy source failed")

// wantFieldError fails the test unless err is a *FieldError for field that
// wraps ErrInvalidField and does not repeat secret.
func wantFieldError(t *testing.T, err error, field, secret string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want *FieldError for %q", field)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("FieldError.Field = %q, want %q (err: %v)", fe.Field, field, err)
	}
	if fe.Reason == "" {
		t.Errorf("FieldError.Reason is empty")
	}
	if !errors.Is(err, ErrInvalidField) {
		t.Errorf("errors.Is(%v, ErrInvalidField) = false", err)
	}
	if len(secret) >= 4 && strings.Contains(err.Error(), secret) {
		t.Errorf("error %q repeats the input %q", err, secret)
	}
}
