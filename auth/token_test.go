package auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"

	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

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

// tokenService is a Service whose clock stands still at the example token's
// iat plus ten seconds.
func tokenService(t *testing.T, cfg Config) (*Service, *testclock.Clock) {
	t.Helper()
	clk := testclock.New(time.Unix(contractIat+10, 0))
	cfg.Now = clk.Now
	return newTestService(t, newFakeStore(), cfg), clk
}

func TestIssueTokenPayload(t *testing.T) {
	u := User{ID: "0123456789abcdef0123456789abcdef", Email: "alice@example.com", Name: "Alice \u00e9"}
	tests := []struct {
		name     string
		cfg      Config
		ttl      float64
		iss, aud string
	}{
		{"defaults", Config{}, 3600, "", ""},
		{"issuer and audience", Config{Issuer: "https://auth.example.com", Audience: "api", TokenTTL: 15 * time.Minute}, 900, "https://auth.example.com", "api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := tokenService(t, tt.cfg)
			clk.Add(700 * time.Millisecond) // iat is whole seconds
			tok, exp, err := s.IssueToken(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(tok, ".")
			if h, _ := base64.RawURLEncoding.DecodeString(parts[0]); string(h) != contractHeader {
				t.Errorf("header = %s, want %s", h, contractHeader)
			}
			m := tokentest.Payload(t, tok)
			want := []string{"userId", "userName", "email", "email_verified", "iat", "exp", "sub", "jti"}
			if tt.iss != "" {
				want = append(want, "iss")
			}
			if tt.aud != "" {
				want = append(want, "aud")
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Sort(want)
			if !slices.Equal(keys, want) {
				t.Errorf("payload keys = %v, want %v", keys, want)
			}
			if m["userId"] != u.ID || m["sub"] != u.ID || m["userName"] != u.Name || m["email"] != u.Email || m["email_verified"] != u.EmailVerified {
				t.Errorf("payload = %v", m)
			}
			if jti, _ := m["jti"].(string); len(jti) != 32 {
				t.Errorf("jti = %v, want 32 hex digits", m["jti"])
			}
			iat, _ := m["iat"].(float64)
			if iat != contractIat+10 {
				t.Errorf("iat = %v, want %v", m["iat"], contractIat+10)
			}
			if e, _ := m["exp"].(float64); e-iat != tt.ttl || int64(e) != exp.Unix() {
				t.Errorf("exp = %v, iat = %v, expires = %v; want exp - iat = %v", e, iat, exp.Unix(), tt.ttl)
			}
			if tt.iss != "" && m["iss"] != tt.iss {
				t.Errorf("iss = %v, want %q", m["iss"], tt.iss)
			}
			if tt.aud != "" && m["aud"] != tt.aud && fmt.Sprint(m["aud"]) != "["+tt.aud+"]" {
				t.Errorf("aud = %v, want %q", m["aud"], tt.aud)
			}

			c, err := s.VerifyToken(context.Background(), tok)
			if err != nil {
				t.Fatalf("VerifyToken(own token): %v", err)
			}
			if c.UserID != u.ID || c.Subject != u.ID || c.UserName != u.Name || c.Email != u.Email || c.Issuer != tt.iss {
				t.Errorf("claims = %+v", c)
			}

			// Two tokens for the same user differ by jti.
			tok2, _, _ := s.IssueToken(context.Background(), u)
			if tok2 == tok {
				t.Errorf("two tokens are identical")
			}
		})
	}
}

// discardLogger keeps the audit records of rejected tokens out of the test
// output.
var discardLogger = slog.New(slog.DiscardHandler)

// validPayload is the payload of a token for user u1 issued at now, valid
// for ten minutes.
func validPayload(now time.Time) string {
	return fmt.Sprintf(`{"userId":"u1","userName":"n","email":"u1@example.com","iat":%d,"exp":%d}`, now.Unix(), now.Unix()+600)
}

// testEdKey is the Ed25519 private key whose seed is 32 copies of b.
func testEdKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// mustKey is token.NewKey(id, material), failing the test on error.
func mustKey(t testing.TB, id string, material any) *token.Key {
	t.Helper()
	k, err := token.NewKey(id, material)
	if err != nil {
		t.Fatalf("NewKey(%q, %T): %v", id, material, err)
	}
	return k
}

// mustKeySet is token.NewKeySet(keys...), failing the test on error.
func mustKeySet(t testing.TB, keys ...*token.Key) *token.KeySet {
	t.Helper()
	ks, err := token.NewKeySet(keys...)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	return ks
}

func TestNewWithPublicActiveKey(t *testing.T) {
	keys := mustKeySet(t, mustKey(t, "ed", testEdKey(1).Public()))
	s, err := New(newFakeStore(), Config{Secret: testSecret, Keys: keys})
	if s != nil || !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with a public active key = %v, %v; want nil, ErrInvalidConfig", s, err)
	}
}

func TestServiceKeys(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		s, _ := tokenService(t, Config{})
		keys := s.Keys().Keys()
		if len(keys) != 1 || keys[0].ID() != "" || keys[0].Algorithm() != "HS256" || !keys[0].CanSign() {
			t.Fatalf("default Keys = %v, want one HS256 key with ID \"\"", keys)
		}
		if string(s.Keys().JWKS()) != `{"keys":[]}` {
			t.Errorf("JWKS of the default set = %s", s.Keys().JWKS())
		}
		// Even the default set rotates.
		tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Keys().Rotate(mustKey(t, "ed", testEdKey(1))); err != nil {
			t.Fatal(err)
		}
		next, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if h := tokentest.Header(t, next); h["alg"] != "EdDSA" || h["kid"] != "ed" {
			t.Errorf("after Rotate, header = %v", h)
		}
		for _, tok := range []string{tok, next} {
			if _, err := s.Verifier().VerifyToken(t.Context(), tok); err != nil {
				t.Errorf("Service.Verifier: %v", err)
			}
		}
	})
	t.Run("configured", func(t *testing.T) {
		keys := mustKeySet(t, mustKey(t, "ed", testEdKey(1)))
		s, _ := tokenService(t, Config{Keys: keys})
		if s.Keys() != keys {
			t.Errorf("Service.Keys() is not Config.Keys")
		}
		tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		// The secret signs nothing and verifies nothing when Keys is set.
		if h := tokentest.Header(t, tok); h["alg"] != "EdDSA" || h["kid"] != "ed" {
			t.Errorf("header = %v", h)
		}
		hs := handToken(contractHeader, validPayload(time.Unix(contractIat+10, 0)))
		if _, err := s.VerifyToken(t.Context(), hs); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("HS256 token of the Secret, with Keys set: %v, want ErrInvalidToken", err)
		}
	})
}

type ctxKey struct{}

func TestCustomClaims(t *testing.T) {
	var calls []string
	s, _ := tokenService(t, Config{
		CustomClaims: func(ctx context.Context, u User) (map[string]any, error) {
			calls = append(calls, fmt.Sprint(ctx.Value(ctxKey{}), "/", u.ID))
			roles := []string{"reader"}
			if u.Name == "Ada" {
				roles = append(roles, "admin")
			}
			return map[string]any{"roles": roles, "tenant": "acme", "level": 3, "https://example.com/claim": true}, nil
		},
	})
	ctx := context.WithValue(t.Context(), ctxKey{}, "req-1")
	tok, _, err := s.IssueToken(ctx, User{ID: "u1", Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(calls, []string{"req-1/u1"}) {
		t.Errorf("CustomClaims calls = %q, want the caller's ctx and user once", calls)
	}
	if m := tokentest.Payload(t, tok); fmt.Sprint(m["roles"]) != "[reader admin]" || m["tenant"] != "acme" || m["userId"] != "u1" {
		t.Errorf("payload = %v", m)
	}
	c, err := s.VerifyToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		Roles  []string `json:"roles"`
		Tenant string   `json:"tenant"`
		Level  int      `json:"level"`
		URI    bool     `json:"https://example.com/claim"`
		UserID string   `json:"userId"`
	}
	if err := c.Decode(&app); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(app.Roles, []string{"reader", "admin"}) || app.Tenant != "acme" || app.Level != 3 || !app.URI || app.UserID != "u1" {
		t.Errorf("Decode = %+v", app)
	}
	if c.UserID != "u1" || c.UserName != "Ada" || c.Email != "ada@example.com" || c.Subject != "u1" {
		t.Errorf("claims = %+v", c)
	}
	// A type that does not fit is an error of Decode, not a panic.
	var wrong struct {
		Roles int `json:"roles"`
	}
	if err := c.Decode(&wrong); err == nil {
		t.Errorf("Decode of roles into an int: no error")
	}

	// Sign-up and login issue tokens through the same hook.
	sess, err := s.Signup(ctx, NewUser{Name: "Bob", Email: "bob@example.com", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	if m := tokentest.Payload(t, sess.Token); fmt.Sprint(m["roles"]) != "[reader]" {
		t.Errorf("sign-up token payload = %v", m)
	}
	sess, err = s.Login(ctx, "bob@example.com", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if m := tokentest.Payload(t, sess.Token); fmt.Sprint(m["roles"]) != "[reader]" {
		t.Errorf("login token payload = %v", m)
	}
}

func TestCustomClaimsReserved(t *testing.T) {
	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "userId", "userName", "email"} {
		t.Run(name, func(t *testing.T) {
			s, _ := tokenService(t, Config{
				CustomClaims: func(context.Context, User) (map[string]any, error) {
					return map[string]any{"roles": []string{"admin"}, name: "attacker"}, nil
				},
			})
			tok, exp, err := s.IssueToken(t.Context(), User{ID: "u1"})
			if tok != "" || !exp.IsZero() || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("IssueToken = %q, %v, %v; want no token, ErrInvalidConfig", tok, exp, err)
			}
		})
	}
	// The names of header parameters are not reserved. (Reserved names in
	// other cases are: TestCustomClaimsCase.)
	s, _ := tokenService(t, Config{
		CustomClaims: func(context.Context, User) (map[string]any, error) {
			return map[string]any{"kid": "x", "alg": "x", "typ": "x"}, nil
		},
	})
	if _, _, err := s.IssueToken(t.Context(), User{ID: "u1"}); err != nil {
		t.Errorf("IssueToken with header parameter names: %v", err)
	}
}

func TestCustomClaimsError(t *testing.T) {
	errHook := errors.New("roles: database down")
	s, _ := tokenService(t, Config{
		CustomClaims: func(context.Context, User) (map[string]any, error) { return nil, errHook },
	})
	tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
	if tok != "" || !errors.Is(err, errHook) {
		t.Errorf("IssueToken = %q, %v; want no token, an error wrapping the hook's", tok, err)
	}
	// A hook returning no claims adds none.
	s, _ = tokenService(t, Config{
		CustomClaims: func(context.Context, User) (map[string]any, error) { return nil, nil },
	})
	tok, _, err = s.IssueToken(t.Context(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if m := tokentest.Payload(t, tok); len(m) != 8 {
		t.Errorf("payload with a hook returning nil = %v, want the 8 standard claims", m)
	}
}

// maxTokenBytes finds the longest token s verifies: tokens of a valid
// signature whose userName pads them to each length around the
// candidates.
func maxTokenBytes(t *testing.T, s *Service) int {
	t.Helper()
	exp := s.now().Unix() + 60
	ok := func(n int) bool {
		for pad := 0; pad < n; pad++ {
			tok := handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","userName":"%s","exp":%d}`, strings.Repeat("n", pad), exp))
			switch {
			case len(tok) < n:
				continue
			case len(tok) > n:
				t.Fatalf("no token of exactly %d bytes", n)
			}
			_, err := s.VerifyToken(t.Context(), tok)
			return err == nil
		}
		return false
	}
	for _, n := range []int{1024, 4096, 8192, 1 << 16} {
		if ok(n) && !ok(n+1) {
			return n
		}
	}
	return -1
}

// TestServiceMaxTokenBytes: Config.MaxTokenBytes reaches the Verifier.
func TestServiceMaxTokenBytes(t *testing.T) {
	s, _ := tokenService(t, Config{MaxTokenBytes: 8192})
	if n := maxTokenBytes(t, s); n != 8192 {
		t.Errorf("MaxTokenBytes 8192: tokens are refused from %d bytes on", n+1)
	}
}
