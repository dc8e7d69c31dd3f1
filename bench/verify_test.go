package bench

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// ---- the hand-rolled floor ----

var errFloor = errors.New("invalid token")

// floorClaims is the small struct the floor decodes the payload into.
// Numeric dates are float64: RFC 7519 allows fractions.
type floorClaims struct {
	UserID   string  `json:"userId"`
	UserName string  `json:"userName"`
	Email    string  `json:"email"`
	IssuedAt float64 `json:"iat"`
	Expires  float64 `json:"exp"`
}

var strictB64 = base64.RawURLEncoding.Strict()

// floorVerify is the least a correct HS256 verifier does: size cap,
// exactly three segments, strict unpadded base64url (and no CR/LF, which Go's
// decoder skips even in strict mode), alg pinned to HS256 and no crit or kid
// in the header, HMAC-SHA256 compared in constant time before the payload is
// parsed, JSON into a struct, userId present, exp present and in the future.
func floorVerify(token string, now time.Time) (*floorClaims, error) {
	if len(token) > 4096 || strings.ContainsAny(token, "\r\n") {
		return nil, errFloor
	}
	h, rest, ok1 := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return nil, errFloor
	}
	hdrJSON, err := strictB64.DecodeString(h)
	if err != nil {
		return nil, errFloor
	}
	var hdr struct {
		Alg  string          `json:"alg"`
		Kid  json.RawMessage `json:"kid"`
		Crit json.RawMessage `json:"crit"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil || hdr.Alg != "HS256" || hdr.Kid != nil || hdr.Crit != nil {
		return nil, errFloor
	}
	sig, err := strictB64.DecodeString(s)
	if err != nil {
		return nil, errFloor
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(token[:len(h)+1+len(p)]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, errFloor
	}
	body, err := strictB64.DecodeString(p)
	if err != nil {
		return nil, errFloor
	}
	c := new(floorClaims)
	if json.Unmarshal(body, c) != nil || c.UserID == "" || !(float64(now.Unix()) < c.Expires) {
		return nil, errFloor // a missing exp reads as 0: expired
	}
	return c, nil
}

// ---- the peers, each set up once as an application would ----

type verifyFunc func(token string) (userID string, err error)

func golangJWTVerify() verifyFunc {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	return func(token string) (string, error) {
		c := new(jwtClaims)
		if _, err := p.ParseWithClaims(token, c, hmacKeyfunc); err != nil {
			return "", err
		}
		return c.UserID, nil
	}
}

type joseCustom struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Email    string `json:"email"`
}

func goJoseVerify() verifyFunc {
	algs := []jose.SignatureAlgorithm{jose.HS256}
	return func(token string) (string, error) {
		t, err := josejwt.ParseSigned(token, algs)
		if err != nil {
			return "", err
		}
		var std josejwt.Claims
		var c joseCustom
		if err := t.Claims(secret, &std, &c); err != nil {
			return "", err
		}
		if std.Expiry == nil {
			return "", errors.New("no exp")
		}
		if err := std.ValidateWithLeeway(josejwt.Expected{Time: time.Now()}, 0); err != nil {
			return "", err
		}
		return c.UserID, nil
	}
}

func jwxVerify() verifyFunc {
	key := jwxjwt.WithKey(jwa.HS256(), secret)
	required := jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey)
	return func(token string) (string, error) {
		// Parse verifies the signature and, by default, validates exp/nbf/iat.
		t, err := jwxjwt.ParseString(token, key, jwxjwt.WithValidate(true), required)
		if err != nil {
			return "", err
		}
		// The private claims are read back, as a handler would.
		var id, name, email string
		if err := t.Get("userId", &id); err != nil {
			return "", err
		}
		if err := t.Get("userName", &name); err != nil {
			return "", err
		}
		if err := t.Get("email", &email); err != nil {
			return "", err
		}
		return id, nil
	}
}

func ourVerifierVerify(tb testing.TB, cached bool) verifyFunc {
	v := ourVerifier(tb, cached)
	ctx := context.Background()
	return func(token string) (string, error) {
		c, err := v.VerifyToken(ctx, token)
		if err != nil {
			return "", err
		}
		return c.UserID, nil
	}
}

func ourServiceVerify(tb testing.TB, cached bool) verifyFunc {
	svc := ourService(tb, "", "", cached)
	ctx := context.Background()
	return func(token string) (string, error) {
		c, err := svc.VerifyToken(ctx, token)
		if err != nil {
			return "", err
		}
		return c.UserID, nil
	}
}

func floorVerifyFunc() verifyFunc {
	return func(token string) (string, error) {
		c, err := floorVerify(token, time.Now())
		if err != nil {
			return "", err
		}
		return c.UserID, nil
	}
}

// verifiers lists the contenders in the order they are benchmarked.
func verifiers(tb testing.TB) []struct {
	name string
	fn   verifyFunc
} {
	return []struct {
		name string
		fn   verifyFunc
	}{
		{"floor", floorVerifyFunc()},
		{"golang_jwt", golangJWTVerify()},
		{"go_jose", goJoseVerify()},
		{"jwx", jwxVerify()},
		// Cache off: the full verification, what the peers do every time.
		{"ours_verifier", ourVerifierVerify(tb, false)},
		{"ours_service", ourServiceVerify(tb, false)},
		// The defaults, cache on: after the first iteration every
		// verification of the one token is a cache hit.
		{"ours_verifier_cached", ourVerifierVerify(tb, true)},
		{"ours_service_cached", ourServiceVerify(tb, true)},
	}
}

// TestVerifiersAgree checks the harness itself: every contender accepts the
// contract-shaped token and refuses the same forgeries, so that no benchmark
// measures a verifier that skips work.
func TestVerifiersAgree(t *testing.T) {
	good := contractToken(t)
	now := time.Now().Unix()
	h, rest, _ := strings.Cut(good, ".")
	p, sig, _ := strings.Cut(rest, ".")
	enc := base64.RawURLEncoding
	bad := map[string]string{
		"bad signature": h + "." + p + "." + sig[:len(sig)-2] + "AA",
		"expired": signHS256(t, contractClaims{UserID: contractUserID, UserName: contractUserName, Email: contractEmail,
			IssuedAt: now - 7200, Expires: now - 3600}),
		"no exp":      signHS256(t, map[string]any{"userId": contractUserID, "iat": now}),
		"alg none":    enc.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + p + ".",
		"other key":   strings.Replace(good, sig, enc.EncodeToString(make([]byte, 32)), 1),
		"padded sig":  good + "=",
		"two dots":    h + "." + p + "." + sig + ".",
		"other alg":   enc.EncodeToString([]byte(`{"alg":"HS512","typ":"JWT"}`)) + "." + p + "." + sig,
		"not a token": "abc",
	}
	// jwx decodes base64 leniently: the signature with a trailing "=" pad
	// verifies (the same signature bytes, so no forgery, but one token can
	// be written several ways).
	lenient := map[string]bool{"jwx: padded sig": true}
	for _, v := range verifiers(t) {
		t.Run(v.name, func(t *testing.T) {
			id, err := v.fn(good)
			if err != nil || id != contractUserID {
				t.Fatalf("good token: (%q, %v)", id, err)
			}
			for name, tok := range bad {
				_, err := v.fn(tok)
				switch {
				case err == nil && lenient[v.name+": "+name]:
					t.Logf("%s: accepted (a known leniency of this peer, not a forgery)", name)
				case err == nil:
					t.Errorf("%s: accepted", name)
				case lenient[v.name+": "+name]:
					t.Errorf("%s: refused now; drop it from lenient", name)
				}
			}
		})
	}
}

// BenchmarkVerify verifies the same contract-shaped HS256 token with each
// contender; a valid token every time, so every iteration does the full
// work (signature, JSON, exp), except for ours_*_cached, which measure our
// verified-token cache's hit path.
func BenchmarkVerify(b *testing.B) {
	token := contractToken(b)
	for _, v := range verifiers(b) {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.fn(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// ---- issue ----

// BenchmarkIssue signs a token for the contract's example user: golang-jwt's
// SignedString with typed claims of the wire contract's shape (the
// baseline), golang-jwt with the same claims as ours (plus sub and a
// random 128-bit jti from crypto/rand), and our Service.IssueToken.
func BenchmarkIssue(b *testing.B) {
	b.Run("golang_jwt", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			now := time.Now().Truncate(time.Second)
			c := &jwtClaims{UserID: contractUserID, UserName: contractUserName, Email: contractEmail,
				RegisteredClaims: jwt.RegisteredClaims{
					IssuedAt:  jwt.NewNumericDate(now),
					ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
				}}
			if _, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("golang_jwt_samecl", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := golangJWTIssueLikeOurs(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ours", func(b *testing.B) {
		svc := ourService(b, "", "", false)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := svc.IssueToken(ctx, contractUser); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestIssuedTokensVerify checks that the issue benchmarks produce tokens
// our verifier and the floor accept.
func TestIssuedTokensVerify(t *testing.T) {
	tok, err := golangJWTIssueLikeOurs()
	if err != nil {
		t.Fatal(err)
	}
	svc := ourService(t, "", "", false)
	ours, _, err := svc.IssueToken(context.Background(), contractUser)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tok, ours} {
		if _, err := floorVerify(tok, time.Now()); err != nil {
			t.Errorf("floor refused %s: %v", tok, err)
		}
		if _, err := svc.VerifyToken(context.Background(), tok); err != nil {
			t.Errorf("ours refused %s: %v", tok, err)
		}
	}
	// Same payload members, so the two issue benchmarks do the same work.
	memberNames := func(tok string) []string {
		p := strings.Split(tok, ".")[1]
		body, _ := base64.RawURLEncoding.DecodeString(p)
		var m map[string]any
		json.Unmarshal(body, &m)
		var names []string
		for k := range m {
			names = append(names, k)
		}
		return names
	}
	if a, b := len(memberNames(tok)), len(memberNames(ours)); a != b {
		t.Errorf("golang_jwt_samecl has %d claims, ours %d", a, b)
	}
}

func golangJWTIssueLikeOurs() (string, error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	now := time.Now().Truncate(time.Second)
	c := &jwtClaims{UserID: contractUserID, UserName: contractUserName, Email: contractEmail,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   contractUserID,
			ID:        hex.EncodeToString(jti[:]),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		}}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
}
