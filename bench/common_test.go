package bench

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/golang-jwt/jwt/v5"
)

// secret is the 32-byte HS256 key every library under test is given.
var secret = func() []byte {
	s := sha256.Sum256([]byte("gatehouse comparison harness secret"))
	return s[:]
}()

// The wire contract's user, as in SPEC.md's example token.
const (
	contractUserID   = "5ef5b4d2b56aad8240db229c"
	contractUserName = "admin1"
	contractEmail    = "admin1@user.com"
)

var contractUser = auth.User{ID: contractUserID, Name: contractUserName, Email: contractEmail}

// discard is the logger given to our Service, so that no benchmark pays
// for logging.
var discard = slog.New(slog.DiscardHandler)

// contractClaims is the payload of the wire contract's tokens, plus optional iss and
// aud (for auth0's validator, which requires both).
type contractClaims struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Email    string `json:"email"`
	Issuer   string `json:"iss,omitempty"`
	Audience string `json:"aud,omitempty"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp"`
}

// signHS256 signs payload by hand, with the header {"alg":"HS256","typ":"JWT"}
// that the original implementation wrote, so that no library under test made the
// token it is measured on.
func signHS256(tb testing.TB, payload any) string {
	tb.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, secret)
	io.WriteString(mac, input)
	return input + "." + enc.EncodeToString(mac.Sum(nil))
}

// contractToken returns a token of exactly the wire contract's shape:
// {userId, userName, email, iat, exp}, exp - iat = 3600, issued now.
func contractToken(tb testing.TB) string {
	now := time.Now().Unix()
	return signHS256(tb, contractClaims{UserID: contractUserID, UserName: contractUserName, Email: contractEmail,
		IssuedAt: now, Expires: now + 3600})
}

// Issuer and audience of the iss/aud variant of the token.
const (
	benchIssuer   = "https://issuer.example/"
	benchAudience = "bench-api"
)

// contractTokenIssAud is contractToken plus iss and aud (a single string).
func contractTokenIssAud(tb testing.TB) string {
	now := time.Now().Unix()
	return signHS256(tb, contractClaims{UserID: contractUserID, UserName: contractUserName, Email: contractEmail,
		Issuer: benchIssuer, Audience: benchAudience, IssuedAt: now, Expires: now + 3600})
}

// cacheSize returns the cache size to configure: 0 (the library's default,
// a verified-token cache) or -1 (no cache, so that every verification does
// the full work, as every peer does).
func cacheSize(cached bool) int {
	if cached {
		return 0
	}
	return -1
}

// ourService returns an auth.Service on the memory store with the harness
// secret and a discarded logger; iss and aud are checked if set; with
// cached false, its verified-token cache is off.
func ourService(tb testing.TB, issuer, audience string, cached bool) *auth.Service {
	tb.Helper()
	svc, err := auth.New(memstore.New(), auth.Config{Secret: secret, Issuer: issuer, Audience: audience,
		TokenCacheSize: cacheSize(cached), Logger: discard})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// ourVerifier returns a standalone token.Verifier over a KeySet of the one
// HMAC key with ID "" (tokens without kid), which reports nothing; with
// cached false, its verified-token cache is off.
func ourVerifier(tb testing.TB, cached bool) *token.Verifier {
	tb.Helper()
	key, err := token.NewKey("", secret)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := token.NewVerifier(keys, token.Config{CacheSize: cacheSize(cached)})
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// jwtClaims is the typed claims struct given to golang-jwt: the wire contract's
// fields next to the registered claims, as our token.Claims has them.
type jwtClaims struct {
	UserID        string `json:"userId"`
	UserName      string `json:"userName"`
	Email         string `json:"email"`
	EmailVerified bool   `json:"email_verified"` // written always, as ours
	jwt.RegisteredClaims
}

func hmacKeyfunc(*jwt.Token) (any, error) { return secret, nil }
