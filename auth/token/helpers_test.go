package token

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// testSecret is a 32-byte HS256 key, the shortest NewKey accepts.
var testSecret = []byte("0123456789abcdef0123456789abcdef")

// The wire contract's example token: iat and exp of its documentation.
const (
	contractIat     = 1594967081
	contractExp     = 1594970681
	contractHeader  = `{"alg":"HS256","typ":"JWT"}`
	contractPayload = `{"userId":"5ef5b4d2b56aad8240db229c","userName":"admin1","email":"admin1@user.com","iat":1594967081,"exp":1594970681}`
)

// seg encodes a token segment the way RFC 7515 says: unpadded base64url.
func seg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signSegments signs already-encoded segments with HMAC, as any JWT library
// would, without golang-jwt.
func signSegments(h func() hash.Hash, secret []byte, header, payload string) string {
	m := hmac.New(h, secret)
	m.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// handToken is an HS256 token of the given JSON header and payload signed
// with testSecret.
func handToken(header, payload string) string {
	return signSegments(sha256.New, testSecret, seg(header), seg(payload))
}

// tokenPayload decodes the payload of token without verifying it.
func tokenPayload(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d segments", token, len(parts))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload segment: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	return m
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
