package httpauth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/golang-jwt/jwt/v5"
)

// contractPayload is the wire contract's token payload, valid from now for an hour.
func contractPayload(now time.Time) string {
	return `{"userId":"5ef5b4d2b56aad8240db229c","userName":"admin1","email":"admin1@user.com","iat":` +
		itoa(now.Unix()) + `,"exp":` + itoa(now.Add(time.Hour).Unix()) + `}`
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestMiddlewareFailures sends every kind of bad credential to a protected
// route: each gets 401 with the same body and a Bearer challenge, and the
// protected handler never runs.
func TestMiddlewareFailures(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})
	now := time.Now()
	good := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)["token"]
	parts := strings.Split(good, ".")
	valid := jwt.MapClaims{"userId": "u1", "userName": "n", "email": "e@x.co", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string { // change the first character, keeping valid base64url
		if s[0] == 'A' {
			return "B" + s[1:]
		}
		return "A" + s[1:]
	}
	payload := contractPayload(now)
	none := func(alg string) string {
		return httpauthtest.B64URL.EncodeToString([]byte(`{"alg":"`+alg+`","typ":"JWT"}`)) + "." + httpauthtest.B64URL.EncodeToString([]byte(payload)) + "."
	}

	tests := []struct {
		name   string
		header []string // name, value pairs
		path   string   // default httpauthtest.ProtectedPath
		sent   bool     // expect error="invalid_token" in the challenge
	}{
		{name: "no header"},
		{name: "empty header", header: []string{"Authorization", ""}, sent: true},
		{name: "wrong scheme", header: []string{"Authorization", "Basic " + good}, sent: true},
		{name: "scheme only", header: []string{"Authorization", "Bearer"}, sent: true},
		{name: "scheme no token", header: []string{"Authorization", "Bearer "}, sent: true},
		{name: "token without scheme", header: []string{"Authorization", good}, sent: true},
		{name: "two headers", header: []string{"Authorization", "Bearer " + good, "Authorization", "Bearer " + good}, sent: true},
		{name: "alg none", header: []string{"Authorization", "Bearer " + none("none")}, sent: true},
		{name: "alg None", header: []string{"Authorization", "Bearer " + none("None")}, sent: true},
		{name: "alg NONE", header: []string{"Authorization", "Bearer " + none("NONE")}, sent: true},
		{name: "HS384 same secret", header: []string{"Authorization", "Bearer " + httpauthtest.SignWith(t, jwt.SigningMethodHS384, httpauthtest.Secret, valid)}, sent: true},
		{name: "HS512 same secret", header: []string{"Authorization", "Bearer " + httpauthtest.SignWith(t, jwt.SigningMethodHS512, httpauthtest.Secret, valid)}, sent: true},
		{name: "RS256", header: []string{"Authorization", "Bearer " + httpauthtest.SignWith(t, jwt.SigningMethodRS256, rsaKey, valid)}, sent: true},
		{name: "ES256", header: []string{"Authorization", "Bearer " + httpauthtest.SignWith(t, jwt.SigningMethodES256, ecKey, valid)}, sent: true},
		{name: "EdDSA", header: []string{"Authorization", "Bearer " + httpauthtest.SignWith(t, jwt.SigningMethodEdDSA, edKey, valid)}, sent: true},
		{name: "other secret", header: []string{"Authorization", "Bearer " + httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, payload, []byte("another secret of at least 32 bytes!!"))}, sent: true},
		{name: "expired", header: []string{"Authorization", "Bearer " + httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`,
			`{"userId":"u1","userName":"n","email":"e@x.co","iat":`+itoa(now.Add(-2*time.Hour).Unix())+`,"exp":`+itoa(now.Add(-time.Hour).Unix())+`}`, httpauthtest.Secret)}, sent: true},
		{name: "not yet valid", header: []string{"Authorization", "Bearer " + httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`,
			`{"userId":"u1","userName":"n","email":"e@x.co","nbf":`+itoa(now.Add(time.Hour).Unix())+`,"exp":`+itoa(now.Add(2*time.Hour).Unix())+`}`, httpauthtest.Secret)}, sent: true},
		{name: "missing exp", header: []string{"Authorization", "Bearer " + httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`,
			`{"userId":"u1","userName":"n","email":"e@x.co","iat":`+itoa(now.Unix())+`}`, httpauthtest.Secret)}, sent: true},
		{name: "tampered payload", header: []string{"Authorization", "Bearer " + parts[0] + "." + flip(parts[1]) + "." + parts[2]}, sent: true},
		{name: "tampered signature", header: []string{"Authorization", "Bearer " + parts[0] + "." + parts[1] + "." + flip(parts[2])}, sent: true},
		{name: "padded base64", header: []string{"Authorization", "Bearer " + parts[0] + "." + parts[1] + "." + parts[2] + "="}, sent: true},
		{name: "two segments", header: []string{"Authorization", "Bearer " + parts[0] + "." + parts[1]}, sent: true},
		{name: "four segments", header: []string{"Authorization", "Bearer " + good + ".x"}, sent: true},
		{name: "garbage", header: []string{"Authorization", "Bearer not-a-jwt"}, sent: true},
		{name: "huge token", header: []string{"Authorization", "Bearer " + strings.Repeat(".", 1<<16)}, sent: true},
		{name: "token in query string", path: httpauthtest.ProtectedPath + "?access_token=" + good + "&token=" + good},
		{name: "token in cookie", header: []string{"Cookie", "jwt=" + good + "; token=" + good}},
	}
	var body string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = httpauthtest.ProtectedPath
			}
			before := s.Protected
			r := s.Do(t, "GET", path, "", "", tt.header...)
			if r.Status != 401 {
				t.Fatalf("status %d, want 401; body %s", r.Status, r.Body)
			}
			if s.Protected != before {
				t.Error("protected handler ran")
			}
			httpauthtest.CheckRefusal(t, r, tt.sent, &body)
		})
	}
}

// TestMiddlewareAccepts checks the tokens that must pass: ours (with any
// case of the scheme) and a contract-shaped token signed by hand.
func TestMiddlewareAccepts(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})
	sess := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)
	contract := httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, contractPayload(time.Now()), httpauthtest.Secret)
	for _, tt := range []struct{ name, auth, wantID string }{
		{"ours", "Bearer " + sess["token"], sess["userId"]},
		{"lower-case scheme", "bearer " + sess["token"], sess["userId"]},
		{"upper-case scheme", "BEARER " + sess["token"], sess["userId"]},
		{"contract-shaped token", "Bearer " + contract, "5ef5b4d2b56aad8240db229c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, "GET", httpauthtest.ProtectedPath, "", "", "Authorization", tt.auth)
			if r.Status != 200 {
				t.Fatalf("status %d; body %s", r.Status, r.Body)
			}
			var got map[string]string
			if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got["userId"] != tt.wantID {
				t.Errorf("identity %s (%v), want userId %s", r.Body, err, tt.wantID)
			}
		})
	}
}
