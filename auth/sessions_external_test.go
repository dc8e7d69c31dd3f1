package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// e2eService returns a Service over a fresh memstore with refresh tokens
// and revocation checks on, the cheapest argon2id parameters New accepts,
// and a clock starting on a whole second.
func e2eService(t *testing.T, cfg auth.Config) (*auth.Service, *memstore.Store, *testclock.Clock) {
	t.Helper()
	store := memstore.New()
	s, clk := e2eServiceOn(t, store, cfg)
	return s, store, clk
}

// e2eServiceOn is e2eService over the given store.
func e2eServiceOn(t *testing.T, store auth.UserStore, cfg auth.Config) (*auth.Service, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC))
	cfg.Secret = []byte("an end-to-end secret, 32 bytes..")
	cfg.RefreshTokens = true
	cfg.CheckRevocation = true
	cfg.Params = password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	cfg.Now = clk.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	s, err := auth.New(store, cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	return s, clk
}

func TestSessionsWithMemstore(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var reused int
	s, _, clk := e2eService(t, auth.Config{OnEvent: func(_ context.Context, ev auth.Event) {
		if ev.Kind == auth.EventRefreshReused {
			mu.Lock()
			reused++
			mu.Unlock()
		}
	}})

	const email, password = "ada@example.com", "analytical engine 1843"
	phone, err := s.Signup(ctx, auth.NewUser{Name: "Ada", Email: email, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	laptop, err := s.Login(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	if len(phone.RefreshToken) != 43 || len(laptop.RefreshToken) != 43 || phone.RefreshToken == laptop.RefreshToken {
		t.Fatalf("refresh tokens %q, %q", phone.RefreshToken, laptop.RefreshToken)
	}

	// Rotation, then a retry within the grace window.
	clk.Add(time.Hour)
	p1, err := s.Refresh(ctx, phone.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	clk.Add(3 * time.Second)
	retry, err := s.Refresh(ctx, phone.RefreshToken)
	if err != nil || retry.RefreshToken != p1.RefreshToken {
		t.Fatalf("retry within the grace window = %v, %v; want the same successor", retry, err)
	}
	if _, err := s.VerifyToken(ctx, p1.Token); err != nil {
		t.Fatalf("VerifyToken(refreshed): %v", err)
	}

	// Theft: the successor is used, then the first token comes back.
	p2, err := s.Refresh(ctx, p1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx, phone.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("reuse = %v, want ErrInvalidToken", err)
	}
	if _, err := s.Refresh(ctx, p2.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("the newest token of a revoked session = %v, want ErrInvalidToken", err)
	}
	mu.Lock()
	if reused != 1 {
		t.Errorf("%d EventRefreshReused events, want 1", reused)
	}
	mu.Unlock()

	// The laptop's session is another family.
	l1, err := s.Refresh(ctx, laptop.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh(laptop): %v", err)
	}
	if err := s.Logout(ctx, l1.RefreshToken); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if err := s.Logout(ctx, l1.RefreshToken); err != nil {
		t.Errorf("Logout twice = %v, want nil", err)
	}
	if _, err := s.Refresh(ctx, l1.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("Refresh after Logout = %v, want ErrInvalidToken", err)
	}

	// A password change ends every other session, access tokens included.
	other, err := s.Login(ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(1500 * time.Millisecond)
	changed, err := s.ChangePassword(ctx, phone.User.ID, password, "a brand new passphrase")
	if err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if _, err := s.VerifyToken(ctx, other.Token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("an access token of before the change = %v, want ErrInvalidToken", err)
	}
	if _, err := s.Refresh(ctx, other.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a refresh token of before the change = %v, want ErrInvalidToken", err)
	}
	if _, err := s.VerifyToken(ctx, changed.Token); err != nil {
		t.Errorf("the new session's access token: %v", err)
	}
	if _, err := s.Refresh(ctx, changed.RefreshToken); err != nil {
		t.Errorf("the new session's refresh token: %v", err)
	}
	if _, err := s.Login(ctx, email, password); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("Login with the old password = %v", err)
	}
	if _, err := s.Login(ctx, email, "a brand new passphrase"); err != nil {
		t.Errorf("Login with the new password: %v", err)
	}

	// Pruning: a month and some minutes later, every token has expired.
	clk.Add(30*24*time.Hour + 5*time.Minute)
	n, err := s.PruneSessions(ctx)
	if err != nil || n == 0 {
		t.Errorf("PruneSessions = %d, %v; want some tokens deleted", n, err)
	}
	if n, err := s.PruneSessions(ctx); err != nil || n != 0 {
		t.Errorf("PruneSessions again = %d, %v; want 0", n, err)
	}
}

func TestRefreshConcurrentWithMemstore(t *testing.T) {
	ctx := context.Background()
	s, _, _ := e2eService(t, auth.Config{RefreshReuseGrace: -1})
	sess, err := s.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: "analytical engine 1843"})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Refresh(ctx, sess.RefreshToken)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, auth.ErrInvalidToken):
				t.Errorf("Refresh: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent refreshes of one token succeeded, want exactly 1", wins, n)
	}
}

func TestImportBcryptWithMemstore(t *testing.T) {
	ctx := context.Background()
	s, store, _ := e2eService(t, auth.Config{})
	const password = "legacy password from node"
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := "$2b$" + string(h[4:]) // as Node's bcrypt writes them
	u, err := s.ImportUser(ctx, auth.User{ID: "5ef5b4d2b56aad8240db229c", Email: "Admin1@User.com", Name: "admin1", PasswordHash: hash})
	if err != nil {
		t.Fatalf("ImportUser: %v", err)
	}
	if u.ID != "5ef5b4d2b56aad8240db229c" || u.Email != "admin1@user.com" || u.PasswordHash != "" {
		t.Errorf("ImportUser = %+v", u)
	}
	if _, err := s.ImportUser(ctx, auth.User{Email: "admin1@USER.com", Name: "x", PasswordHash: hash}); !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("ImportUser of a taken email = %v, want ErrDuplicateEmail", err)
	}
	sess, err := s.Login(ctx, "admin1@user.com", password)
	if err != nil {
		t.Fatalf("Login of the imported user: %v", err)
	}
	if c, err := s.VerifyToken(ctx, sess.Token); err != nil || c.UserID != "5ef5b4d2b56aad8240db229c" {
		t.Errorf("VerifyToken = %+v, %v", c, err)
	}
	stored, err := store.UserByEmail(ctx, "admin1@user.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Errorf("after login the stored hash is %.30q..., want argon2id with Config.Params", stored.PasswordHash)
	}
	if _, err := s.Login(ctx, "admin1@user.com", password); err != nil {
		t.Errorf("Login after the upgrade: %v", err)
	}
}

// clientLeavesStore is a memstore whose CreateRefreshToken stands for a
// client that goes away while its sign-up stores the session: it cancels
// the caller's context and fails with its error.
type clientLeavesStore struct {
	*memstore.Store
	cancel context.CancelFunc
}

func (s *clientLeavesStore) CreateRefreshToken(ctx context.Context, tok auth.RefreshToken, gen int64) error {
	s.cancel()
	return ctx.Err()
}

// TestSignupUndoneWhenClientLeaves checks that a sign-up whose client
// goes away after the account is stored, while its session is, leaves no
// account behind: the deletion that undoes it does not use the cancelled
// context.
func TestSignupUndoneWhenClientLeaves(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	store := &clientLeavesStore{Store: memstore.New(), cancel: cancel}
	s, _ := e2eServiceOn(t, store, auth.Config{})
	_, err := s.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: "correct horse battery"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Signup whose client left = %v; want context.Canceled", err)
	}
	if u, err := store.UserByEmail(t.Context(), "ada@example.com"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("after the failed sign-up, the store has %+v, %v; want ErrNotFound", u, err)
	}
}
