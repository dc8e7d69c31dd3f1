package auth_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// interleavingStore is a memstore whose user reads run a hook after
// reading, once armed: the hook stands for a revocation (a password
// change, logout-all) landing while a login is between reading the
// account and starting its session, hashing.
type interleavingStore struct {
	*memstore.Store
	mu   sync.Mutex
	hook func()
}

func (s *interleavingStore) arm(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

func (s *interleavingStore) fire() {
	s.mu.Lock()
	f := s.hook
	s.mu.Unlock()
	if f != nil {
		f()
	}
}

func (s *interleavingStore) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	u, err := s.Store.UserByEmail(ctx, email)
	s.fire()
	return u, err
}

func (s *interleavingStore) UserByID(ctx context.Context, id string) (auth.User, error) {
	u, err := s.Store.UserByID(ctx, id)
	s.fire()
	return u, err
}

// TestRevocationEndsLoginsInFlight checks that a revocation ends every
// login in flight. The revocation (logout-all, a password change, an
// operator disabling or deleting the account) lands after the login's
// first read of the account, or after its second, the read of the hash it
// checks (which then matches, and the login hashes while the revocation
// lands); a logout-all lands after each later read. The login then either
// fails, or returns a session of which neither the refresh token nor the
// access token works once the revocations are done.
func TestRevocationEndsLoginsInFlight(t *testing.T) {
	const email, password = "owner@example.com", "correct horse battery"
	type revocation func(s *auth.Service, ctx context.Context, userID string) error
	for _, r := range []struct {
		name   string
		revoke revocation
	}{
		{"logout-all", (*auth.Service).RevokeSessions},
		{"password change", func(s *auth.Service, ctx context.Context, userID string) error {
			_, err := s.ChangePassword(ctx, userID, password, "a new passphrase, long")
			return err
		}},
		{"disable", (*auth.Service).DisableUser},
		{"delete", (*auth.Service).DeleteUser},
	} {
		for _, at := range []struct {
			name  string
			reads int // reads of the account before the revocation lands
		}{
			{"after the account is found", 0},
			{"after the hash is read", 1},
		} {
			t.Run(r.name+" "+at.name, func(t *testing.T) {
				ctx := context.Background()
				store := &interleavingStore{Store: memstore.New()}
				s, clk := e2eServiceOn(t, store, auth.Config{})
				signup, err := s.Signup(ctx, auth.NewUser{Name: "Owner", Email: email, Password: password})
				if err != nil {
					t.Fatal(err)
				}
				userID := signup.User.ID
				reads := armAtRead(store, at.reads, func() {
					if err := r.revoke(s, ctx, userID); err != nil {
						t.Errorf("%s: %v", r.name, err)
					}
				}, func() {
					if err := s.RevokeSessions(ctx, userID); err != nil && !errors.Is(err, auth.ErrNotFound) {
						t.Errorf("RevokeSessions: %v", err)
					}
				})
				login, err := s.Login(ctx, email, password)
				store.arm(nil)
				if *reads <= at.reads {
					t.Fatalf("the login read the account %d times; the %s did not land", *reads, r.name)
				}
				clk.Add(1) // any later instant
				if err != nil {
					if !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, auth.ErrAccountDisabled) {
						t.Fatalf("Login in flight: %v; want success, ErrInvalidCredentials or ErrAccountDisabled", err)
					}
					return // refused: nothing survives
				}
				if _, err := s.Refresh(ctx, login.RefreshToken); err == nil {
					t.Error("the refresh token of a login in flight during a revocation still works after it")
				}
				if _, err := s.VerifyToken(ctx, login.Token); err == nil {
					t.Error("the access token of a login in flight during a revocation is still accepted after it")
				}
			})
		}
	}
}

// armAtRead arms store to run first after its read of a user number n
// (from 0), and later after each read after that, except the reads they
// make themselves. It returns the count of reads.
func armAtRead(store *interleavingStore, n int, first, later func()) (reads *int) {
	reads = new(int)
	store.arm(hookEveryRead(store, func() {
		i := *reads
		*reads++
		switch {
		case i == n:
			first()
		case i > n:
			later()
		}
	}))
	return reads
}

// hookEveryRead returns a hook for store that runs f after every read of
// a user, except the reads f itself makes.
func hookEveryRead(store *interleavingStore, f func()) func() {
	var hook func()
	hook = func() {
		store.arm(nil)
		f()
		store.arm(hook)
	}
	return hook
}

// TestChangePasswordDuringRevocation checks that a revocation landing
// while a password change runs ends the session the change returns: the
// password is changed, and the caller gets ErrSessionsRevoked instead of a
// session.
func TestChangePasswordDuringRevocation(t *testing.T) {
	ctx := context.Background()
	store := &interleavingStore{Store: memstore.New()}
	s, _ := e2eServiceOn(t, store, auth.Config{})
	const email, password, next = "owner@example.com", "correct horse battery", "a new passphrase, long"
	signup, err := s.Signup(ctx, auth.NewUser{Name: "Owner", Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	store.arm(func() {
		once.Do(func() {
			store.arm(nil)
			if err := s.RevokeSessions(ctx, signup.User.ID); err != nil {
				t.Error(err)
			}
		})
	})
	sess, err := s.ChangePassword(ctx, signup.User.ID, password, next)
	store.arm(nil)
	if !errors.Is(err, auth.ErrSessionsRevoked) {
		t.Fatalf("ChangePassword during a revocation = %+v, %v; want ErrSessionsRevoked", sess, err)
	}
	if _, err := s.Login(ctx, email, next); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
}
