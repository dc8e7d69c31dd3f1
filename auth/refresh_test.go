package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// sessParams are the cheapest argon2id parameters New accepts (m=7168
// KiB, t=5: OWASP's weakest configuration), to keep these tests fast.
var sessParams = password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// sessStore is a fakeStore that is also a PasswordStore and a
// SessionStore, kept as simply as the contracts allow so that the Service
// is what is tested, with hooks to inject failures and races.
type sessStore struct {
	*fakeStore

	smu      sync.Mutex
	tokens   map[string]RefreshToken // by hash; RevokedAt is kept in families
	families map[string]time.Time    // family -> RevokedAt (zero: live)
	gens     map[string]int64        // user ID -> session generation

	sessionCalls atomic.Int64 // calls of SessionStore methods
	updates      atomic.Int64 // UpdatePasswordHash calls that changed a hash

	// Failure injection, set before the calls they affect.
	failUpdate     error  // UpdatePasswordHash fails with it
	failGeneration error  // SessionGeneration fails with it
	beforeUpdate   func() // runs at the start of UpdatePasswordHash
}

var (
	_ PasswordStore = (*sessStore)(nil)
	_ SessionStore  = (*sessStore)(nil)
)

func newSessStore() *sessStore {
	return &sessStore{
		fakeStore: newFakeStore(),
		tokens:    make(map[string]RefreshToken),
		families:  make(map[string]time.Time),
		gens:      make(map[string]int64),
	}
}

func (s *sessStore) UpdatePasswordHash(_ context.Context, id, oldHash, newHash string) error {
	if s.beforeUpdate != nil {
		s.beforeUpdate()
	}
	if s.failUpdate != nil {
		return fmt.Errorf("sessstore: update password hash: %w", s.failUpdate)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.byID[id]
	if !ok || u.PasswordHash != oldHash {
		return fmt.Errorf("sessstore: update password hash of %q: %w", id, ErrNotFound)
	}
	u.PasswordHash = newHash
	s.byID[id] = u
	s.byEmail[u.Email] = u
	s.updates.Add(1)
	return nil
}

func (s *sessStore) CreateRefreshToken(_ context.Context, t RefreshToken, gen int64) error {
	s.sessionCalls.Add(1)
	if _, err := s.UserByID(context.Background(), t.UserID); err != nil {
		return err
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	if s.gens[t.UserID] != gen {
		return fmt.Errorf("sessstore: create refresh token: %w", ErrSessionsRevoked)
	}
	if _, ok := s.tokens[t.Hash]; ok {
		return nil
	}
	t.UsedAt, t.RevokedAt = time.Time{}, time.Time{}
	s.tokens[t.Hash] = t
	if _, ok := s.families[t.Family]; !ok {
		s.families[t.Family] = time.Time{}
	}
	return nil
}

func (s *sessStore) UseRefreshToken(_ context.Context, hash string, now time.Time) (RefreshToken, error) {
	s.sessionCalls.Add(1)
	s.smu.Lock()
	defer s.smu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return RefreshToken{}, fmt.Errorf("sessstore: use refresh token: %w", ErrNotFound)
	}
	if t.UsedAt.IsZero() {
		u := t
		u.UsedAt = now
		s.tokens[hash] = u
	}
	t.RevokedAt = s.families[t.Family]
	return t, nil
}

func (s *sessStore) RefreshToken(_ context.Context, hash string) (RefreshToken, error) {
	s.sessionCalls.Add(1)
	s.smu.Lock()
	defer s.smu.Unlock()
	t, ok := s.tokens[hash]
	if !ok {
		return RefreshToken{}, fmt.Errorf("sessstore: refresh token: %w", ErrNotFound)
	}
	t.RevokedAt = s.families[t.Family]
	return t, nil
}

func (s *sessStore) RevokeFamily(_ context.Context, family string, now time.Time) error {
	s.sessionCalls.Add(1)
	s.smu.Lock()
	defer s.smu.Unlock()
	if at, ok := s.families[family]; ok && at.IsZero() {
		s.families[family] = now
	}
	return nil
}

func (s *sessStore) RevokeSessions(_ context.Context, userID string, now time.Time) error {
	s.sessionCalls.Add(1)
	s.smu.Lock()
	defer s.smu.Unlock()
	for _, t := range s.tokens {
		if t.UserID == userID && s.families[t.Family].IsZero() {
			s.families[t.Family] = now
		}
	}
	s.gens[userID]++
	return nil
}

func (s *sessStore) SessionGeneration(_ context.Context, userID string) (int64, error) {
	s.sessionCalls.Add(1)
	if s.failGeneration != nil {
		return 0, fmt.Errorf("sessstore: session generation: %w", s.failGeneration)
	}
	s.smu.Lock()
	defer s.smu.Unlock()
	return s.gens[userID], nil
}

func (s *sessStore) DeleteExpiredRefreshTokens(_ context.Context, now time.Time) (int64, error) {
	s.sessionCalls.Add(1)
	s.smu.Lock()
	defer s.smu.Unlock()
	var n int64
	for h, t := range s.tokens {
		if !t.ExpiresAt.After(now) {
			delete(s.tokens, h)
			n++
		}
	}
	return n, nil
}

// token returns the stored token whose hash is the SHA-256 of the given
// refresh token, computed here, independently of refreshHash.
func (s *sessStore) token(t *testing.T, refreshToken string) RefreshToken {
	t.Helper()
	sum := sha256.Sum256([]byte(refreshToken))
	s.smu.Lock()
	defer s.smu.Unlock()
	rt, ok := s.tokens[hex.EncodeToString(sum[:])]
	if !ok {
		t.Fatalf("the store has no token with the SHA-256 of %.6s...", refreshToken)
	}
	rt.RevokedAt = s.families[rt.Family]
	return rt
}

// dump returns everything the store keeps about sessions, as text.
func (s *sessStore) dump() string {
	s.smu.Lock()
	defer s.smu.Unlock()
	return fmt.Sprintf("%+v %+v %+v", s.tokens, s.families, s.gens)
}

// sessionsOnly hides the PasswordStore of its SessionStore.
type sessionsOnly struct {
	UserStore
	SessionStore
}

// sessFixture is a Service with refresh tokens on, over a sessStore, with
// a settable clock and an event log.
type sessFixture struct {
	s      *Service
	store  *sessStore
	clk    *testclock.Clock
	events *eventLog
}

// sessStart is when sessFixture clocks start: a whole second.
var sessStart = time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)

// newSessFixture returns a fixture whose Service has cfg with refresh
// tokens on, sessParams, the fixture's clock, store and event log, and a
// discarding logger, unless cfg sets them.
func newSessFixture(t *testing.T, cfg Config) *sessFixture {
	t.Helper()
	f := &sessFixture{store: newSessStore(), clk: testclock.New(sessStart), events: &eventLog{}}
	cfg.RefreshTokens = true
	if cfg.Params == (password.Params{}) {
		cfg.Params = sessParams
	}
	if cfg.Now == nil {
		cfg.Now = f.clk.Now
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = f.events.add
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger
	}
	f.s = newTestService(t, f.store, cfg)
	return f
}

const (
	sessEmail    = "ada@example.com"
	sessPassword = "analytical engine 1843"
)

// signup signs up the fixture's user and returns the session.
func (f *sessFixture) signup(t *testing.T) *Grant {
	t.Helper()
	sess, err := f.s.Signup(context.Background(), NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatalf("Signup: %v", err)
	}
	return sess
}

// login logs the fixture's user in and returns the session.
func (f *sessFixture) login(t *testing.T) *Grant {
	t.Helper()
	sess, err := f.s.Login(context.Background(), sessEmail, sessPassword)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return sess
}

// refresh calls Refresh and fails the test if it fails.
func (f *sessFixture) refresh(t *testing.T, token string) *Grant {
	t.Helper()
	sess, err := f.s.Refresh(context.Background(), token)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if sess.RefreshToken == "" || sess.Token == "" {
		t.Fatalf("Refresh returned a session without tokens: %+v", sess)
	}
	return sess
}

// wantRefreshRefused fails the test unless Refresh(token) fails with an
// error wrapping ErrInvalidToken and returns no session.
func (f *sessFixture) wantRefreshRefused(t *testing.T, token, what string) error {
	t.Helper()
	sess, err := f.s.Refresh(context.Background(), token)
	if sess != nil || !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("%s: Refresh = %+v, %v; want nil, an error wrapping ErrInvalidToken", what, sess, err)
	}
	return err
}

// wantRefreshToken fails the test unless tok has the shape of a refresh
// token: 43 characters of unpadded base64url, 32 bytes.
func wantRefreshToken(t *testing.T, tok, what string) {
	t.Helper()
	if len(tok) != 43 {
		t.Fatalf("%s: refresh token %q has %d characters, want 43", what, tok, len(tok))
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(tok); err != nil || len(b) != 32 {
		t.Fatalf("%s: refresh token %q is not 32 bytes of base64url: %v", what, tok, err)
	}
}

func TestRefreshOff(t *testing.T) {
	ctx := context.Background()
	store := newSessStore() // able to keep sessions, but they are off
	s := newTestService(t, store, Config{Params: sessParams, Logger: discardLogger})
	sess, err := s.Signup(ctx, NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatal(err)
	}
	if sess.RefreshToken != "" {
		t.Errorf("Signup with refresh tokens off returned refresh token %q", sess.RefreshToken)
	}
	if sess, err := s.Login(ctx, sessEmail, sessPassword); err != nil || sess.RefreshToken != "" {
		t.Errorf("Login with refresh tokens off = %+v, %v; want no refresh token", sess, err)
	}
	tok := strings.Repeat("A", 43)
	if sess, err := s.Refresh(ctx, tok); sess != nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Refresh = %v, %v; want an error wrapping errors.ErrUnsupported", sess, err)
	}
	if err := s.Logout(ctx, tok); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Logout = %v; want an error wrapping errors.ErrUnsupported", err)
	}
	if err := s.RevokeSessions(ctx, sess.User.ID); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("RevokeSessions = %v; want an error wrapping errors.ErrUnsupported", err)
	}
	if n, err := s.PruneSessions(ctx); n != 0 || err != nil {
		t.Errorf("PruneSessions = %d, %v; want 0, nil", n, err)
	}
	if n := store.sessionCalls.Load(); n != 0 {
		t.Errorf("the SessionStore was called %d times with sessions off", n)
	}
}

func TestRefreshTokenIssued(t *testing.T) {
	f := newSessFixture(t, Config{})
	signup := f.signup(t)
	f.clk.Add(1500 * time.Millisecond)
	login := f.login(t)

	seen := map[string]bool{}
	for _, c := range []struct {
		what string
		sess *Grant
		at   time.Time
	}{{"Signup", signup, sessStart}, {"Login", login, f.clk.Now()}} {
		tok := c.sess.RefreshToken
		wantRefreshToken(t, tok, c.what)
		if seen[tok] {
			t.Errorf("%s: refresh token repeated", c.what)
		}
		seen[tok] = true
		rt := f.store.token(t, tok)
		if rt.UserID != signup.User.ID {
			t.Errorf("%s: stored UserID = %q, want %q", c.what, rt.UserID, signup.User.ID)
		}
		if b, err := hex.DecodeString(rt.Family); err != nil || len(b) != 16 || strings.ToLower(rt.Family) != rt.Family {
			t.Errorf("%s: family %q is not 32 lower-case hex digits", c.what, rt.Family)
		}
		if !rt.IssuedAt.Equal(c.at) || !rt.ExpiresAt.Equal(c.at.Add(30*24*time.Hour)) {
			t.Errorf("%s: stored IssuedAt, ExpiresAt = %v, %v; want %v and 30 days later", c.what, rt.IssuedAt, rt.ExpiresAt, c.at)
		}
		if !rt.UsedAt.IsZero() || !rt.RevokedAt.IsZero() {
			t.Errorf("%s: a new token is stored used or revoked: %+v", c.what, rt)
		}
		if c.sess.Token == "" || c.sess.User.PasswordHash != "" {
			t.Errorf("%s: session = %+v", c.what, c.sess)
		}
	}
	if f.store.token(t, signup.RefreshToken).Family == f.store.token(t, login.RefreshToken).Family {
		t.Errorf("Signup and Login share a family: each must start a session")
	}
	// The store knows the tokens by their hashes only.
	dump := f.store.dump()
	for tok := range seen {
		if strings.Contains(dump, tok) {
			t.Errorf("the store holds the refresh token's text")
		}
		sum := sha256.Sum256([]byte(tok))
		if !strings.Contains(dump, hex.EncodeToString(sum[:])) {
			t.Errorf("the store does not hold the hex SHA-256 of the refresh token")
		}
	}

	t.Run("RefreshTTL", func(t *testing.T) {
		f := newSessFixture(t, Config{RefreshTTL: 2 * time.Hour})
		rt := f.store.token(t, f.signup(t).RefreshToken)
		if want := sessStart.Add(2 * time.Hour); !rt.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt = %v, want %v", rt.ExpiresAt, want)
		}
	})
}

// TestGrantTimes checks the times a Grant reports: those of its access
// token's iat and exp, and its refresh token's expiry, so that a client
// (httpauth's cookies) can keep each as long as it is valid.
func TestGrantTimes(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{RefreshTTL: 2 * time.Hour})
	f.clk.Set(sessStart.Add(1500 * time.Millisecond))
	signup := f.signup(t)
	f.clk.Add(time.Minute)
	for _, g := range []*Grant{signup, f.login(t), f.refresh(t, signup.RefreshToken)} {
		c, err := f.s.VerifyToken(ctx, g.Token)
		if err != nil {
			t.Fatal(err)
		}
		if !g.IssuedAt.Equal(c.IssuedAt.Time) || !g.ExpiresAt.Equal(c.ExpiresAt.Time) {
			t.Errorf("IssuedAt, ExpiresAt = %v, %v; the token says %v, %v", g.IssuedAt, g.ExpiresAt, c.IssuedAt, c.ExpiresAt)
		}
		if want := g.IssuedAt.Add(2 * time.Hour); !g.RefreshExpiresAt.Equal(want) {
			t.Errorf("RefreshExpiresAt = %v, want %v", g.RefreshExpiresAt, want)
		}
		if rt := f.store.token(t, g.RefreshToken); g.RefreshExpiresAt.After(rt.ExpiresAt) {
			t.Errorf("RefreshExpiresAt %v is after the stored expiry %v", g.RefreshExpiresAt, rt.ExpiresAt)
		}
	}
	plain := newTestService(t, newSessStore(), Config{Params: sessParams, Logger: discardLogger})
	g, err := plain.Signup(ctx, NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatal(err)
	}
	if g.RefreshToken != "" || !g.RefreshExpiresAt.IsZero() || g.ExpiresAt.Sub(g.IssuedAt) != time.Hour {
		t.Errorf("without refresh tokens: RefreshExpiresAt %v, IssuedAt %v, ExpiresAt %v", g.RefreshExpiresAt, g.IssuedAt, g.ExpiresAt)
	}
}

func TestRefreshRotates(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{RefreshReuseGrace: -1})
	first := f.signup(t)
	f.clk.Add(90 * time.Minute) // the access token has expired
	if _, err := f.s.VerifyToken(ctx, first.Token); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("the first access token has not expired: %v", err)
	}

	// The account changed meanwhile: the new access token says so.
	u := f.store.get(t, sessEmail)
	u.Name = "Ada Lovelace"
	f.store.put(u)

	second := f.refresh(t, first.RefreshToken)
	wantRefreshToken(t, second.RefreshToken, "Refresh")
	if second.RefreshToken == first.RefreshToken || second.Token == first.Token {
		t.Fatalf("Refresh returned the tokens it was given")
	}
	if second.User.ID != first.User.ID || second.User.Name != "Ada Lovelace" || second.User.PasswordHash != "" {
		t.Errorf("Refresh user = %+v", second.User)
	}
	if want := f.clk.Now().Truncate(time.Second).Add(time.Hour); !second.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v", second.ExpiresAt, want)
	}
	c, err := f.s.VerifyToken(ctx, second.Token)
	if err != nil {
		t.Fatalf("VerifyToken(refreshed access token): %v", err)
	}
	if c.UserID != first.User.ID || c.UserName != "Ada Lovelace" || c.Email != sessEmail {
		t.Errorf("refreshed claims = %+v", c)
	}

	// The old token is spent, the new one is of the same family, with a
	// life of its own.
	old, next := f.store.token(t, first.RefreshToken), f.store.token(t, second.RefreshToken)
	if !old.UsedAt.Equal(f.clk.Now()) {
		t.Errorf("spent token UsedAt = %v, want %v", old.UsedAt, f.clk.Now())
	}
	if next.Family != old.Family || next.UserID != old.UserID || !next.UsedAt.IsZero() {
		t.Errorf("successor = %+v, spent = %+v", next, old)
	}
	if !next.IssuedAt.Equal(f.clk.Now()) || !next.ExpiresAt.Equal(f.clk.Now().Add(30*24*time.Hour)) {
		t.Errorf("successor IssuedAt, ExpiresAt = %v, %v", next.IssuedAt, next.ExpiresAt)
	}
	if dump := f.store.dump(); strings.Contains(dump, second.RefreshToken) {
		t.Errorf("the store holds the successor's text")
	}
	if ev := f.events.of(EventRefresh); len(ev) != 1 || ev[0].UserID != first.User.ID {
		t.Errorf("EventRefresh events = %+v", ev)
	}

	// A chain: each successor refreshes in turn.
	third := f.refresh(t, second.RefreshToken)
	if third.RefreshToken == second.RefreshToken || third.RefreshToken == first.RefreshToken {
		t.Errorf("the third refresh token repeats an earlier one")
	}
	f.wantRefreshRefused(t, first.RefreshToken, "spent token")
}

func TestRefreshDeletedAccount(t *testing.T) {
	f := newSessFixture(t, Config{})
	sess := f.signup(t)
	f.store.mu.Lock()
	delete(f.store.byID, sess.User.ID)
	delete(f.store.byEmail, sess.User.Email)
	f.store.mu.Unlock()
	f.wantRefreshRefused(t, sess.RefreshToken, "deleted account")
}

func TestRefreshExpired(t *testing.T) {
	f := newSessFixture(t, Config{RefreshTTL: 48 * time.Hour})
	a, b := f.signup(t), f.login(t)

	// Each token lives RefreshTTL from its own issue: refreshed a day
	// in, a session outlives the first token.
	f.clk.Add(24 * time.Hour)
	a2 := f.refresh(t, a.RefreshToken)
	f.clk.Add(24*time.Hour - time.Nanosecond)
	f.refresh(t, b.RefreshToken) // the last nanosecond of b's life
	f.clk.Add(time.Nanosecond)   // 48h after a and b were issued
	f.clk.Add(12 * time.Hour)
	a3 := f.refresh(t, a2.RefreshToken) // issued 36h ago: fine

	f.clk.Add(48 * time.Hour) // a3 is 48h old
	for _, tc := range []struct{ what, tok string }{
		{"a token at its expiry", a3.RefreshToken},
		{"a spent token past its expiry", a2.RefreshToken},
	} {
		err := f.wantRefreshRefused(t, tc.tok, tc.what)
		if !errors.Is(err, ErrTokenExpired) {
			t.Errorf("%s: err = %v, want it to wrap ErrTokenExpired", tc.what, err)
		}
	}
	if ev := f.events.of(EventRefreshRejected); len(ev) < 2 {
		t.Errorf("EventRefreshRejected events = %+v, want one per refusal", ev)
	}
}

func TestRefreshMalformed(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	good := f.signup(t).RefreshToken
	tests := []struct{ name, tok string }{
		{"42 characters", good[:42]},
		{"44 characters", good + "A"},
		{"dot inside", good[:20] + "." + good[21:]},
		{"dot at the end", good[:42] + "."},
		{"standard base64 '+'", good[:10] + "+" + good[11:]},
		{"standard base64 '/'", good[:10] + "/" + good[11:]},
		{"padding", good[:42] + "="},
		{"space", good[:42] + " "},
		{"newline", good[:42] + "\n"},
		{"non-ASCII", good[:41] + "\u00e9"},
		{"NUL", good[:42] + "\x00"},
		{"an access token", f.login(t).Token},
	}
	before := f.store.sessionCalls.Load()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.wantRefreshRefused(t, tt.tok, tt.name)
			if errors.Is(err, ErrTokenExpired) {
				t.Errorf("err = %v wraps ErrTokenExpired", err)
			}
			if tt.tok != "" && strings.Contains(err.Error(), tt.tok) {
				t.Errorf("error %q repeats the token", err)
			}
			if err := f.s.Logout(ctx, tt.tok); !errors.Is(err, ErrInvalidToken) {
				t.Errorf("Logout = %v, want an error wrapping ErrInvalidToken", err)
			}
		})
	}
	// A missing token is a missing field, as for the other inputs.
	_, err := f.s.Refresh(ctx, "")
	wantFieldError(t, err, "refreshToken", "")
	wantFieldError(t, f.s.Logout(ctx, ""), "refreshToken", "")
	if n := f.store.sessionCalls.Load() - before; n != 0 {
		t.Errorf("malformed tokens made %d SessionStore calls, want 0", n)
	}
	f.refresh(t, good) // untouched by all that
}

func TestRefreshUnknown(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	f.signup(t)
	unknown := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	err := f.wantRefreshRefused(t, unknown, "unknown token")
	if errors.Is(err, ErrTokenExpired) || errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v says more than ErrInvalidToken", err)
	}
	if err := f.s.Logout(ctx, unknown); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("Logout(unknown) = %v, want an error wrapping ErrInvalidToken", err)
	}
	if ev := f.events.of(EventRefreshRejected); len(ev) != 1 {
		t.Errorf("EventRefreshRejected events = %+v, want 1", ev)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	f := newSessFixture(t, Config{RefreshReuseGrace: -1})
	r0 := f.signup(t).RefreshToken
	other := f.login(t).RefreshToken // another session of the same user
	r1 := f.refresh(t, r0).RefreshToken
	r2 := f.refresh(t, r1).RefreshToken

	// Even at once (no grace): a spent token is reuse.
	f.wantRefreshRefused(t, r0, "reused token")
	ev := f.events.of(EventRefreshReused)
	if len(ev) != 1 || ev[0].UserID == "" || !ev[0].Time.Equal(f.clk.Now()) {
		t.Fatalf("EventRefreshReused events = %+v, want one with the user", ev)
	}
	f.wantRefreshRefused(t, r2, "newest token of a revoked family")
	f.wantRefreshRefused(t, r1, "spent token of a revoked family")
	if rt := f.store.token(t, r2); !rt.RevokedAt.Equal(f.clk.Now()) {
		t.Errorf("family RevokedAt = %v, want %v", rt.RevokedAt, f.clk.Now())
	}
	// Only that session ended.
	f.refresh(t, other)
}

func TestRefreshConcurrent(t *testing.T) {
	const n = 20
	run := func(t *testing.T, f *sessFixture, tok string) (sessions []*Grant, errs []error) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sess, err := f.s.Refresh(context.Background(), tok)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else {
					sessions = append(sessions, sess)
				}
			}()
		}
		close(start)
		wg.Wait()
		return sessions, errs
	}

	t.Run("no grace: one wins", func(t *testing.T) {
		f := newSessFixture(t, Config{RefreshReuseGrace: -1})
		r0 := f.signup(t).RefreshToken
		sessions, errs := run(t, f, r0)
		if len(sessions) != 1 {
			t.Fatalf("%d of %d concurrent refreshes succeeded, want exactly 1", len(sessions), n)
		}
		for _, err := range errs {
			if !errors.Is(err, ErrInvalidToken) {
				t.Errorf("a losing refresh failed with %v, want ErrInvalidToken", err)
			}
		}
		// The losers are reuse: the session is revoked, the winner's
		// successor included.
		f.wantRefreshRefused(t, sessions[0].RefreshToken, "the winner's successor")
		if len(f.events.of(EventRefreshReused)) == 0 {
			t.Errorf("no EventRefreshReused")
		}
	})

	t.Run("grace: all retries get the same successor", func(t *testing.T) {
		f := newSessFixture(t, Config{})
		r0 := f.signup(t).RefreshToken
		sessions, errs := run(t, f, r0)
		if len(errs) != 0 {
			t.Fatalf("%d of %d concurrent refreshes failed, first: %v", len(errs), n, errs[0])
		}
		for _, s := range sessions[1:] {
			if s.RefreshToken != sessions[0].RefreshToken {
				t.Fatalf("concurrent refreshes got different refresh tokens: the session forked")
			}
		}
		f.refresh(t, sessions[0].RefreshToken)
	})
}

func TestRefreshGrace(t *testing.T) {
	ctx := context.Background()
	t.Run("retry within the window", func(t *testing.T) {
		f := newSessFixture(t, Config{})
		r0 := f.signup(t).RefreshToken
		first := f.refresh(t, r0)
		for _, d := range []time.Duration{0, 4 * time.Second, 5*time.Second + 999*time.Millisecond} {
			f.clk.Set(sessStart.Add(d))
			retry := f.refresh(t, r0)
			if retry.RefreshToken != first.RefreshToken {
				t.Fatalf("retry after %v got another refresh token than the first use", d)
			}
			if _, err := f.s.VerifyToken(ctx, retry.Token); err != nil {
				t.Errorf("retry after %v: access token: %v", d, err)
			}
		}
		if ev := f.events.of(EventRefreshReused); len(ev) != 0 {
			t.Fatalf("a retry was taken for reuse: %+v", ev)
		}
		// The chain goes on from the successor...
		f.clk.Set(sessStart.Add(9 * time.Second))
		r2 := f.refresh(t, first.RefreshToken).RefreshToken
		// ...and now that the successor is spent, the first token is
		// reuse, although within its window.
		f.wantRefreshRefused(t, r0, "reuse after the successor was used")
		if len(f.events.of(EventRefreshReused)) != 1 {
			t.Errorf("no EventRefreshReused")
		}
		f.wantRefreshRefused(t, r2, "the newest token of a revoked family")
	})

	t.Run("after the window", func(t *testing.T) {
		f := newSessFixture(t, Config{})
		r0 := f.signup(t).RefreshToken
		r1 := f.refresh(t, r0).RefreshToken
		f.clk.Add(10*time.Second + time.Millisecond)
		f.wantRefreshRefused(t, r0, "reuse after the window")
		if len(f.events.of(EventRefreshReused)) != 1 {
			t.Errorf("no EventRefreshReused")
		}
		f.wantRefreshRefused(t, r1, "the unused successor of a revoked family")
	})

	t.Run("configured window", func(t *testing.T) {
		f := newSessFixture(t, Config{RefreshReuseGrace: 2 * time.Second})
		r0 := f.signup(t).RefreshToken
		r1 := f.refresh(t, r0).RefreshToken
		f.clk.Add(time.Second)
		if got := f.refresh(t, r0).RefreshToken; got != r1 {
			t.Fatalf("retry within 2s got another refresh token")
		}
		f.clk.Add(1001 * time.Millisecond)
		f.wantRefreshRefused(t, r0, "reuse after 2s")
		f.wantRefreshRefused(t, r1, "successor after reuse")
	})
}

func TestLogout(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	a := f.signup(t)
	b := f.login(t) // another session of the same user
	a1 := f.refresh(t, a.RefreshToken)

	// Logging out with a spent token of the session ends it all the same.
	if err := f.s.Logout(ctx, a.RefreshToken); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if ev := f.events.of(EventLogout); len(ev) != 1 || ev[0].UserID != a.User.ID {
		t.Errorf("EventLogout events = %+v", ev)
	}
	f.wantRefreshRefused(t, a1.RefreshToken, "the newest token of a logged-out session")
	f.wantRefreshRefused(t, a.RefreshToken, "a retry after logout") // within grace, but revoked
	// Without CheckRevocation, access tokens live on until they expire.
	if _, err := f.s.VerifyToken(ctx, a1.Token); err != nil {
		t.Errorf("access token after logout: %v", err)
	}
	if err := f.s.Logout(ctx, a1.RefreshToken); err != nil {
		t.Errorf("Logout twice = %v, want nil", err)
	}
	// The other session goes on.
	b1 := f.refresh(t, b.RefreshToken)
	if err := f.s.Logout(ctx, b1.RefreshToken); err != nil {
		t.Fatalf("Logout(b1): %v", err)
	}
	f.wantRefreshRefused(t, b1.RefreshToken, "the token logged out with")
}

func TestRevokeSessions(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{CheckRevocation: true})
	a := f.signup(t) // iat 12:00:00
	b := f.login(t)
	f.clk.Add(1500 * time.Millisecond)
	if err := f.s.RevokeSessions(ctx, a.User.ID); err != nil { // at 12:00:01.5
		t.Fatal(err)
	}
	if ev := f.events.of(EventSessionsRevoked); len(ev) != 1 || ev[0].UserID != a.User.ID {
		t.Errorf("EventSessionsRevoked events = %+v", ev)
	}
	for _, sess := range []*Grant{a, b} {
		_, err := f.s.VerifyToken(ctx, sess.Token)
		if !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrTokenExpired) {
			t.Errorf("access token issued a second earlier: VerifyToken = %v, want ErrInvalidToken", err)
		}
		f.wantRefreshRefused(t, sess.RefreshToken, "refresh token of a revoked session")
	}
	if ev := f.events.of(EventTokenRejected); len(ev) != 2 {
		t.Errorf("EventTokenRejected events = %+v, want 2", ev)
	}

	// A token issued later in the second of the revocation passes (as
	// ChangePassword's must), and so does one of the next second.
	f.clk.Add(200 * time.Millisecond)
	c := f.login(t)
	f.clk.Add(time.Second)
	d := f.login(t)
	for _, sess := range []*Grant{c, d} {
		if _, err := f.s.VerifyToken(ctx, sess.Token); err != nil {
			t.Errorf("access token issued after the revocation: %v", err)
		}
		f.refresh(t, sess.RefreshToken)
	}

	// Another user is not concerned.
	other, err := f.s.Signup(ctx, NewUser{Name: "Babbage", Email: "charles@example.com", Password: "difference engine 1822"})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Add(time.Second)
	if err := f.s.RevokeSessions(ctx, a.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.VerifyToken(ctx, other.Token); err != nil {
		t.Errorf("another user's token after RevokeSessions: %v", err)
	}
	f.refresh(t, other.RefreshToken)
}

func TestRevokeSessionsWithoutCheckRevocation(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{})
	a := f.signup(t)
	f.clk.Add(2 * time.Second)
	if err := f.s.RevokeSessions(ctx, a.User.ID); err != nil {
		t.Fatal(err)
	}
	f.wantRefreshRefused(t, a.RefreshToken, "refresh token of a revoked session")
	before := f.store.sessionCalls.Load()
	if _, err := f.s.VerifyToken(ctx, a.Token); err != nil {
		t.Errorf("without CheckRevocation, VerifyToken = %v, want the token to pass", err)
	}
	if n := f.store.sessionCalls.Load() - before; n != 0 {
		t.Errorf("VerifyToken made %d SessionStore calls without CheckRevocation", n)
	}
}

func TestCheckRevocationWithoutRefresh(t *testing.T) {
	ctx := context.Background()
	store := newSessStore()
	clk := testclock.New(sessStart)
	s := newTestService(t, sessionsOnly{store, store}, Config{CheckRevocation: true, Params: sessParams, Now: clk.Now, Logger: discardLogger})
	sess, err := s.Signup(ctx, NewUser{Name: "Ada", Email: sessEmail, Password: sessPassword})
	if err != nil {
		t.Fatal(err)
	}
	if sess.RefreshToken != "" {
		t.Errorf("refresh token %q with RefreshTokens off", sess.RefreshToken)
	}
	if _, err := s.VerifyToken(ctx, sess.Token); err != nil {
		t.Fatalf("VerifyToken before revocation: %v", err)
	}
	clk.Add(time.Second)
	if err := s.RevokeSessions(ctx, sess.User.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyToken(ctx, sess.Token); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyToken after revocation = %v, want ErrInvalidToken", err)
	}
	if _, err := s.Refresh(ctx, strings.Repeat("A", 43)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Refresh with RefreshTokens off = %v, want errors.ErrUnsupported", err)
	}
}

func TestCheckRevocationStoreFailure(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{CheckRevocation: true})
	sess := f.signup(t)
	// Verified once, so that a cache of verified tokens, if any, holds it.
	if _, err := f.s.VerifyToken(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	down := &storeError{"session generation"}
	f.store.failGeneration = down
	c, err := f.s.VerifyToken(ctx, sess.Token)
	switch {
	case c != nil || err == nil:
		t.Fatalf("VerifyToken with the store down = %+v, %v; want an error", c, err)
	case errors.Is(err, ErrInvalidToken):
		t.Errorf("VerifyToken with the store down = %v, which wraps ErrInvalidToken: a store failure is not a bad token", err)
	case !errors.Is(err, down):
		t.Errorf("VerifyToken = %v, want it to wrap the store's error", err)
	}
	if ev := f.events.of(EventTokenRejected); len(ev) != 0 {
		t.Errorf("a store failure was recorded as a rejected token: %+v", ev)
	}
	// The Verifier of the Service is the one that checks.
	if _, err := f.s.Verifier().VerifyToken(ctx, sess.Token); err == nil || errors.Is(err, ErrInvalidToken) {
		t.Errorf("Verifier().VerifyToken = %v, want the store's error", err)
	}
	f.store.failGeneration = nil
	if _, err := f.s.VerifyToken(ctx, sess.Token); err != nil {
		t.Errorf("VerifyToken with the store back: %v", err)
	}
}

func TestNewSessionConfig(t *testing.T) {
	sessions := newSessStore()
	rejects := []struct {
		name  string
		store UserStore
		cfg   Config
	}{
		{"RefreshTokens without a SessionStore", newFakeStore(), Config{RefreshTokens: true}},
		{"CheckRevocation without a SessionStore", newFakeStore(), Config{CheckRevocation: true}},
		{"RefreshTokens with a PasswordStore only", struct {
			UserStore
			PasswordStore
		}{sessions, sessions}, Config{RefreshTokens: true}},
		{"grace equal to RefreshTTL", sessions, Config{RefreshTokens: true, RefreshTTL: time.Minute, RefreshReuseGrace: time.Minute}},
		{"grace longer than RefreshTTL", sessions, Config{RefreshTokens: true, RefreshTTL: time.Minute, RefreshReuseGrace: 2 * time.Minute}},
		{"RefreshTTL under the default grace", sessions, Config{RefreshTokens: true, RefreshTTL: 5 * time.Second}},
		{"negative RefreshTTL", sessions, Config{RefreshTokens: true, RefreshTTL: -time.Hour}},
	}
	for _, tt := range rejects {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Secret = testSecret
			s, err := New(tt.store, tt.cfg)
			if s != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("New = %v, %v; want nil, an error wrapping ErrInvalidConfig", s, err)
			}
		})
	}
	accepts := []struct {
		name  string
		store UserStore
		cfg   Config
	}{
		{"RefreshTokens", sessions, Config{RefreshTokens: true}},
		{"CheckRevocation", sessionsOnly{sessions, sessions}, Config{CheckRevocation: true}},
		{"short TTL without grace", sessions, Config{RefreshTokens: true, RefreshTTL: time.Second, RefreshReuseGrace: -1}},
		{"grace just under TTL", sessions, Config{RefreshTokens: true, RefreshTTL: time.Minute, RefreshReuseGrace: time.Minute - 1}},
		{"neither, without a SessionStore", newFakeStore(), Config{}},
	}
	for _, tt := range accepts {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Secret = testSecret
			if _, err := New(tt.store, tt.cfg); err != nil {
				t.Fatalf("New: %v", err)
			}
		})
	}
	s := newTestService(t, sessions, Config{RefreshTokens: true})
	if s.refresh.ttl != 30*24*time.Hour || s.refresh.grace != 10*time.Second {
		t.Errorf("default RefreshTTL, RefreshReuseGrace = %v, %v; want 720h, 10s", s.refresh.ttl, s.refresh.grace)
	}
}

func TestPruneSessions(t *testing.T) {
	ctx := context.Background()
	f := newSessFixture(t, Config{RefreshTTL: time.Hour})
	a := f.signup(t)
	f.clk.Add(30 * time.Minute)
	a1 := f.refresh(t, a.RefreshToken)
	f.clk.Add(30 * time.Minute) // a expires now, a1 in 30 minutes
	// A minute's margin, so that a refresh racing the pruner finds its
	// family.
	if n, err := f.s.PruneSessions(ctx); n != 0 || err != nil {
		t.Fatalf("PruneSessions at the expiry = %d, %v; want 0, nil", n, err)
	}
	f.clk.Add(time.Minute)
	if n, err := f.s.PruneSessions(ctx); n != 1 || err != nil {
		t.Fatalf("PruneSessions a minute after the expiry = %d, %v; want 1, nil", n, err)
	}
	f.refresh(t, a1.RefreshToken)
}
