package token

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// testSecret is a 32-byte HS256 key, the shortest NewKey accepts.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// The wire contract's example token (see package tokentest).
const (
	contractIat     = tokentest.ContractIat
	contractExp     = tokentest.ContractExp
	contractHeader  = tokentest.ContractHeader
	contractPayload = tokentest.ContractPayload
)

func seg(s string) string { return tokentest.Segment(s) }

// handToken is an HS256 token of the given JSON header and payload signed
// with testSecret.
func handToken(header, payload string) string {
	return tokentest.SignSegments(sha256.New, testSecret, seg(header), seg(payload))
}

// User is whom the tests' service issues tokens for.
type User struct{ ID, Name, Email string }

// serviceConfig configures a service: the settings of auth.Config that
// concern tokens, with its defaults.
type serviceConfig struct {
	Secret         []byte        // default testSecret, the key of ID "" unless Keys is set
	Keys           *KeySet       // default: the set of the one HS256 key of Secret
	TokenTTL       time.Duration // default 1 hour
	Issuer         string
	Audience       string
	TokenCacheSize int
	MaxTokenBytes  int
	Revocations    SessionGenerations
	Rejected       func(context.Context, string, error)
	CustomClaims   func(context.Context, User) (map[string]any, error)
	Now            func() time.Time // default: a clock standing at contractIat+10
}

// service stands in for auth.Service in these tests: it issues tokens as
// IssueToken does (the claims of a user, signed by KeySet.Sign) and
// verifies them with its Verifier. Its jti are a counter, so that tokens
// are the same from run to run.
type service struct {
	keys     *KeySet
	verifier *Verifier
	cfg      serviceConfig
	mu       sync.Mutex
	jti      int
}

// tokenService is a service whose clock stands still at the example token's
// iat plus ten seconds, unless cfg.Now is set.
func tokenService(t testing.TB, cfg serviceConfig) (*service, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(time.Unix(contractIat+10, 0))
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.Keys == nil {
		key, err := NewKey("", cfg.Secret)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Keys, _ = NewKeySet(key)
	}
	v, err := NewVerifier(cfg.Keys, Config{
		Issuer:        cfg.Issuer,
		Audience:      cfg.Audience,
		MaxTokenBytes: cfg.MaxTokenBytes,
		CacheSize:     cfg.TokenCacheSize,
		Revocations:   cfg.Revocations,
		Rejected:      cfg.Rejected,
		Now:           cfg.Now,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return &service{keys: cfg.Keys, verifier: v, cfg: cfg}, clk
}

// IssueToken signs a token for u, valid from now for the TokenTTL.
func (s *service) IssueToken(ctx context.Context, u User) (string, time.Time, error) {
	now := s.cfg.Now().Truncate(time.Second)
	expires := now.Add(s.cfg.TokenTTL)
	s.mu.Lock()
	s.jti++
	jti := fmt.Sprintf("%032x", s.jti)
	s.mu.Unlock()
	c := &Claims{
		UserID:   u.ID,
		UserName: u.Name,
		Email:    u.Email,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.Issuer,
			Subject:   u.ID,
			ExpiresAt: jwt.NewNumericDate(expires),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        jti,
		},
	}
	if s.cfg.Audience != "" {
		c.Audience = jwt.ClaimStrings{s.cfg.Audience}
	}
	var custom map[string]any
	if s.cfg.CustomClaims != nil {
		var err error
		if custom, err = s.cfg.CustomClaims(ctx, u); err != nil {
			return "", time.Time{}, err
		}
	}
	tok, err := s.keys.Sign(c, custom)
	if err != nil {
		return "", time.Time{}, err
	}
	return tok, expires, nil
}

func (s *service) VerifyToken(ctx context.Context, token string) (*Claims, error) {
	return s.verifier.VerifyToken(ctx, token)
}

func (s *service) Keys() *KeySet       { return s.keys }
func (s *service) Verifier() *Verifier { return s.verifier }

// generations is a SessionGenerations over a map, which counts its calls
// and fails them while err is set.
type generations struct {
	mu    sync.Mutex
	gen   map[string]int64
	calls int
	err   error
}

func (g *generations) SessionGeneration(_ context.Context, userID string) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if g.err != nil {
		return 0, g.err
	}
	return g.gen[userID], nil
}

// revoke ends every session of userID: its generation goes up by one.
func (g *generations) revoke(userID string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen == nil {
		g.gen = make(map[string]int64)
	}
	g.gen[userID]++
}
