package token

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// flipPadBit changes the last character of an unpadded base64 segment
// whose length is not a multiple of 4 so that only its unused low bit
// differs: a lax decoder reads the same bytes, a strict one refuses.
func flipPadBit(t *testing.T, s string) string {
	t.Helper()
	if len(s)%4 == 0 {
		t.Fatalf("segment %q has no unused bits", s)
	}
	const url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(url, s[len(s)-1])
	return s[:len(s)-1] + string(url[i^1])
}

func TestVerifyTokenContractShape(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{})
	token := handToken(contractHeader, contractPayload)
	c, err := s.VerifyToken(context.Background(), token)
	if err != nil {
		t.Fatalf("VerifyToken(contract-shaped token): %v", err)
	}
	if c.UserID != "5ef5b4d2b56aad8240db229c" || c.UserName != "admin1" || c.Email != "admin1@user.com" {
		t.Errorf("claims = %+v", c)
	}
	if c.IssuedAt == nil || c.IssuedAt.Unix() != contractIat || c.ExpiresAt == nil || c.ExpiresAt.Unix() != contractExp {
		t.Errorf("iat, exp = %v, %v", c.IssuedAt, c.ExpiresAt)
	}
	if c.Subject != "" || c.ID != "" || c.Issuer != "" || len(c.Audience) != 0 {
		t.Errorf("registered claims not in the token: %+v", c.RegisteredClaims)
	}

	// Other libraries' spellings of the same thing.
	for _, header := range []string{
		`{"typ":"JWT","alg":"HS256"}`,
		`{ "alg" : "HS256" }`,
		`{"alg":"HS256","typ":"JWT","kid":""}`,
	} {
		if _, err := s.VerifyToken(context.Background(), handToken(header, contractPayload)); err != nil {
			t.Errorf("header %s: %v", header, err)
		}
	}
	// A kid names a key; the secret's key has none. (An older issuer that
	// wrote one is matched by naming the key so: NewKey("2020", secret).)
	if _, err := s.VerifyToken(context.Background(), handToken(`{"alg":"HS256","kid":"2020"}`, contractPayload)); !errors.Is(err, ErrInvalid) {
		t.Errorf("token with a kid no key has: %v, want ErrInvalid", err)
	}

	clk.Set(time.Unix(contractExp+1, 0))
	_, err = s.VerifyToken(context.Background(), token)
	if !errors.Is(err, ErrExpired) || !errors.Is(err, ErrInvalid) {
		t.Errorf("example token after exp: %v, want ErrExpired and ErrInvalid", err)
	}
}

func TestVerifyTokenRejects(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{})
	now := clk.Now().Unix()
	iat, exp := now-10, now+3590
	payload := fmt.Sprintf(`{"userId":"u1","userName":"n","email":"e@x.co","iat":%d,"exp":%d}`, iat, exp)
	// payloadOdd has a length that is not a multiple of 3, so that its
	// segment has unused bits and could be padded.
	payloadOdd := payload
	for len(payloadOdd)%3 == 0 {
		payloadOdd = " " + payloadOdd
	}
	h256, pOdd := seg(contractHeader), seg(payloadOdd)
	valid := handToken(contractHeader, payload)
	if _, err := s.VerifyToken(context.Background(), valid); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	if _, err := s.VerifyToken(context.Background(), tokentest.SignSegments(sha256.New, testSecret, h256, pOdd)); err != nil {
		t.Fatalf("control token (odd payload) rejected: %v", err)
	}
	dot1, dot2 := strings.IndexByte(valid, '.'), strings.LastIndexByte(valid, '.')
	sig := valid[dot2+1:]

	// A payload whose base64url holds '-' or '_' (from "???>>>"), for the
	// standard-alphabet case.
	payloadURL := fmt.Sprintf(`{"userId":"u1","userName":"???>>>~~~","email":"e@x.co","iat":%d,"exp":%d}`, iat, exp)
	pURL := seg(payloadURL)
	if !strings.ContainsAny(pURL, "-_") {
		t.Fatalf("payload segment %q has no url-only characters", pURL)
	}
	pStd := strings.NewReplacer("-", "+", "_", "/").Replace(pURL)

	otherSecret := []byte(strings.Repeat("x", 32))
	tamperedSig := sig[:10] + "A" + sig[11:]
	if sig[10] == 'A' {
		tamperedSig = sig[:10] + "B" + sig[11:]
	}

	tests := []struct {
		name    string
		token   string
		expired bool
	}{
		{"empty", "", false},
		{"one segment", "abc", false},
		{"two segments", valid[:dot2], false},
		{"two segments with dot", valid[:dot2+1], false},
		{"four segments", valid + ".AAAA", false},
		{"trailing dot", valid + ".", false},
		{"empty header", valid[dot1:], false},
		{"Bearer prefix", "Bearer " + valid, false},
		{"leading space", " " + valid, false},

		{"alg none", seg(`{"alg":"none","typ":"JWT"}`) + "." + seg(payload) + ".", false},
		{"alg none, signed", handToken(`{"alg":"none","typ":"JWT"}`, payload), false},
		{"alg None", seg(`{"alg":"None","typ":"JWT"}`) + "." + seg(payload) + ".", false},
		{"alg NONE", seg(`{"alg":"NONE","typ":"JWT"}`) + "." + seg(payload) + ".", false},
		{"alg nOnE", seg(`{"alg":"nOnE","typ":"JWT"}`) + "." + seg(payload) + ".", false},
		{"alg none, no sig segment", seg(`{"alg":"none"}`) + "." + seg(payload), false},
		{"alg missing", handToken(`{"typ":"JWT"}`, payload), false},
		{"alg empty", handToken(`{"alg":"","typ":"JWT"}`, payload), false},
		{"alg hs256", handToken(`{"alg":"hs256","typ":"JWT"}`, payload), false},
		{"HS384 same secret", tokentest.SignSegments(sha512.New384, testSecret, seg(`{"alg":"HS384","typ":"JWT"}`), seg(payload)), false},
		{"HS512 same secret", tokentest.SignSegments(sha512.New, testSecret, seg(`{"alg":"HS512","typ":"JWT"}`), seg(payload)), false},
		{"RS256 header, HMAC with the secret", handToken(`{"alg":"RS256","typ":"JWT"}`, payload), false},
		{"ES256 header", handToken(`{"alg":"ES256","typ":"JWT"}`, payload), false},
		{"EdDSA header", handToken(`{"alg":"EdDSA","typ":"JWT"}`, payload), false},
		{"header not an object", handToken(`"HS256"`, payload), false},
		{"header not JSON", tokentest.SignSegments(sha256.New, testSecret, "bm90IGpzb24", seg(payload)), false},

		{"other secret", tokentest.SignSegments(sha256.New, otherSecret, h256, seg(payload)), false},
		{"secret prefix", tokentest.SignSegments(sha256.New, testSecret[:31], h256, seg(payload)), false},
		{"tampered payload", h256 + "." + seg(strings.Replace(payload, `"u1"`, `"u2"`, 1)) + "." + sig, false},
		{"tampered signature", valid[:dot2+1] + tamperedSig, false},
		{"truncated signature", valid[:len(valid)-4], false},
		{"empty signature", valid[:dot2+1], false},
		{"signature of another payload", h256 + "." + seg(payload+" ") + "." + sig, false},

		{"padded payload", tokentest.SignSegments(sha256.New, testSecret, h256, pOdd+strings.Repeat("=", 4-len(pOdd)%4)), false},
		{"padded signature", valid + "=", false},
		{"signature trailing bits set", valid[:dot2+1] + flipPadBit(t, sig), false},
		{"payload trailing bits set", tokentest.SignSegments(sha256.New, testSecret, h256, flipPadBit(t, pOdd)), false},
		{"standard base64 alphabet", tokentest.SignSegments(sha256.New, testSecret, h256, pStd), false},
		{"newline in payload segment", tokentest.SignSegments(sha256.New, testSecret, h256, pOdd[:10]+"\n"+pOdd[10:]), false},
		{"newline in signature", valid[:dot2+5] + "\n" + valid[dot2+5:], false},
		{"CR in signature", valid[:dot2+5] + "\r" + valid[dot2+5:], false},
		{"trailing newline", valid + "\n", false},
		{"trailing CRLF", valid + "\r\n", false},

		{"payload not JSON", tokentest.SignSegments(sha256.New, testSecret, h256, seg("userId=u1")), false},
		{"payload array", handToken(contractHeader, `["u1"]`), false},
		{"userId as number", handToken(contractHeader, fmt.Sprintf(`{"userId":1,"exp":%d}`, exp)), false},
		{"expired", handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d}`, now-3600, now-1)), true},
		{"expired long ago", handToken(contractHeader, `{"userId":"u1","iat":0,"exp":1}`), true},
		{"nbf in the future", handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d,"nbf":%d}`, iat, exp, now+60)), false},
		{"missing exp", handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","userName":"n","email":"e@x.co","iat":%d}`, iat)), false},
		{"exp null", handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":null}`, iat)), false},
		{"missing userId", handToken(contractHeader, fmt.Sprintf(`{"sub":"u1","userName":"n","iat":%d,"exp":%d}`, iat, exp)), false},
		{"empty userId", handToken(contractHeader, fmt.Sprintf(`{"userId":"","sub":"","iat":%d,"exp":%d}`, iat, exp)), false},
		{"sub differs from userId", handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","sub":"admin","iat":%d,"exp":%d}`, iat, exp)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.VerifyToken(context.Background(), tt.token)
			if c != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("VerifyToken(%q) = %+v, %v; want nil, ErrInvalid", tt.token, c, err)
			}
			if got := errors.Is(err, ErrExpired); got != tt.expired {
				t.Errorf("errors.Is(%v, ErrExpired) = %v, want %v", err, got, tt.expired)
			}
			if strings.Contains(err.Error(), string(testSecret)) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestVerifyTokenExpiry(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{TokenTTL: 10 * time.Minute})
	tok, exp, err := s.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(exp.Add(-time.Second))
	if _, err := s.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("a second before exp: %v", err)
	}
	clk.Set(exp.Add(time.Second))
	_, err = s.VerifyToken(context.Background(), tok)
	if !errors.Is(err, ErrExpired) || !errors.Is(err, ErrInvalid) {
		t.Errorf("a second after exp: %v, want ErrExpired and ErrInvalid", err)
	}
	// A token issued in the future (clock skew between replicas) is
	// accepted as long as it carries no nbf; only exp and nbf are checked.
	clk.Set(exp.Add(-time.Hour))
	if _, err := s.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("before iat: %v", err)
	}
}

func TestVerifyTokenOtherService(t *testing.T) {
	a, _ := tokenService(t, serviceConfig{})
	b, _ := tokenService(t, serviceConfig{Secret: []byte(strings.Repeat("k", 32))})
	tok, _, err := b.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifyToken(context.Background(), tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("token of another secret: %v, want ErrInvalid", err)
	}
}

func TestVerifyTokenIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.example.com", "api"
	s, clk := tokenService(t, serviceConfig{Issuer: iss, Audience: aud})
	plain, _ := tokenService(t, serviceConfig{}) // same secret, no iss/aud
	now := clk.Now().Unix()
	claims := func(extra string) string {
		return fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d%s}`, now, now+60, extra)
	}
	ctx := context.Background()

	own, _, err := s.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	accept := map[string]string{
		"own token":        own,
		"aud as string":    handToken(contractHeader, claims(`,"iss":"`+iss+`","aud":"api"`)),
		"aud among others": handToken(contractHeader, claims(`,"iss":"`+iss+`","aud":["web","api"]`)),
	}
	for name, tok := range accept {
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// iss and aud that are not configured are not checked.
	if _, err := plain.VerifyToken(ctx, own); err != nil {
		t.Errorf("a service without iss/aud rejects a token with them: %v", err)
	}

	plainTok, _, err := plain.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	reject := map[string]string{
		"no iss or aud":         plainTok,
		"missing iss":           handToken(contractHeader, claims(`,"aud":"api"`)),
		"wrong iss":             handToken(contractHeader, claims(`,"iss":"https://evil.example.com","aud":"api"`)),
		"iss case":              handToken(contractHeader, claims(`,"iss":"HTTPS://AUTH.EXAMPLE.COM","aud":"api"`)),
		"iss prefix":            handToken(contractHeader, claims(`,"iss":"https://auth.example.com.evil","aud":"api"`)),
		"missing aud":           handToken(contractHeader, claims(`,"iss":"`+iss+`"`)),
		"wrong aud":             handToken(contractHeader, claims(`,"iss":"`+iss+`","aud":"web"`)),
		"empty aud list":        handToken(contractHeader, claims(`,"iss":"`+iss+`","aud":[]`)),
		"contract-shaped token": handToken(contractHeader, claims("")),
	}
	for name, tok := range reject {
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: VerifyToken = %v, want ErrInvalid", name, err)
		}
	}
}

func TestVerifyTokenSizeCap(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{})
	big, _ := tokenService(t, serviceConfig{MaxTokenBytes: 1 << 16})
	now := clk.Now().Unix()
	ctx := context.Background()

	// A correctly signed token just over the default cap.
	name := strings.Repeat("n", 4000)
	tok := handToken(contractHeader, fmt.Sprintf(`{"userId":"u1","userName":"%s","iat":%d,"exp":%d}`, name, now, now+60))
	if len(tok) <= 4096 {
		t.Fatalf("token is only %d bytes", len(tok))
	}
	if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalid) {
		t.Errorf("%d-byte token with the default cap: %v, want ErrInvalid", len(tok), err)
	}
	if c, err := big.VerifyToken(ctx, tok); err != nil || c.UserName != name {
		t.Errorf("%d-byte token with MaxTokenBytes 65536: %v", len(tok), err)
	}

	// A token at the cap is parsed.
	small, _ := tokenService(t, serviceConfig{MaxTokenBytes: len(tok)})
	if _, err := small.VerifyToken(ctx, tok); err != nil {
		t.Errorf("token of exactly MaxTokenBytes: %v", err)
	}

	// A megabyte is refused before any decoding: next to nothing is
	// allocated for it.
	huge := seg(contractHeader) + "." + strings.Repeat("A", 1<<20) + "." + strings.Repeat("A", 43)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const runs = 20
	for range runs {
		if _, err := s.VerifyToken(ctx, huge); !errors.Is(err, ErrInvalid) {
			t.Fatalf("1 MiB token: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 16<<10 {
		t.Errorf("rejecting a 1 MiB token allocated %d bytes per call; it should not be decoded", per)
	}
}

// TestKeyFuncRefusesOtherHMACs checks the key choice's own pin (keyFor)
// through a golang-jwt parser that allows every algorithm, so that only
// the pin can refuse: HS384, HS512 and "none" are refused for the HS256
// secret's key, and HS256 passes.
func TestKeyFuncRefusesOtherHMACs(t *testing.T) {
	s, _ := tokenService(t, serviceConfig{})
	payload := `{"userId":"u1","exp":1594970681}`
	others := map[string]string{
		"HS384": tokentest.SignSegments(sha512.New384, testSecret, seg(`{"alg":"HS384"}`), seg(payload)),
		"HS512": tokentest.SignSegments(sha512.New, testSecret, seg(`{"alg":"HS512"}`), seg(payload)),
		"none":  seg(`{"alg":"none"}`) + "." + seg(payload) + ".",
	}
	keyfunc := s.verifier.keys.load().keyfunc()
	laxParser := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return time.Unix(contractIat, 0) }))
	for alg, tok := range others {
		if _, err := laxParser.ParseWithClaims(tok, new(Claims), keyfunc); err == nil {
			t.Errorf("the key function accepts %s with a permissive parser", alg)
		}
	}
	// The control: HS256 passes.
	if _, err := laxParser.ParseWithClaims(handToken(contractHeader, payload), new(Claims), keyfunc); err != nil {
		t.Errorf("HS256: %v", err)
	}
}

// TestVerifyTokenDateRange: exp, nbf and iat must be from 0 to the last
// second of the year 9999. Beyond the int64 range a date would wrap (an
// nbf of 1e19 in the past); every date out of range is refused, as
// invalid and not as expired, and nothing is cached.
func TestVerifyTokenDateRange(t *testing.T) {
	s, clk := tokenService(t, serviceConfig{})
	now := clk.Now().Unix()
	exp := now + 600
	for _, claim := range []string{"exp", "nbf", "iat"} {
		for _, date := range []string{"9.3e18", "1e19", "1e300", "-1e300", "-1", "-0.5", "253402300800", "253402300799.5", "9007199254740993"} {
			t.Run(claim+"="+date, func(t *testing.T) {
				payload := fmt.Sprintf(`{"userId":"u1","exp":%d,%q:%s}`, exp, claim, date)
				if claim == "exp" {
					payload = fmt.Sprintf(`{"userId":"u1","exp":%s}`, date)
				}
				c, err := s.VerifyToken(t.Context(), handToken(contractHeader, payload))
				if c != nil || !errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
					t.Fatalf("VerifyToken(%s) = %+v, %v; want nil, ErrInvalid (not expired)", payload, c, err)
				}
			})
		}
	}
	if n := cacheEntries(s); n != 0 {
		t.Errorf("%d tokens cached, want none", n)
	}

	// The bounds themselves are dates.
	for _, payload := range []string{
		fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":0,"iat":0}`, exp),
		fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":-0,"iat":253402300799}`, exp),
		fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":%d.5,"iat":1e9}`, exp, now-1),
	} {
		if _, err := s.VerifyToken(t.Context(), handToken(contractHeader, payload)); err != nil {
			t.Errorf("VerifyToken(%s): %v", payload, err)
		}
	}
	// A token valid until the last second of 9999 is cached, and expires
	// then, cached or not.
	last := handToken(contractHeader, `{"userId":"u1","exp":253402300799}`)
	c, err := s.VerifyToken(t.Context(), last)
	if err != nil || !c.ExpiresAt.Equal(time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("VerifyToken(exp 253402300799) = %+v, %v", c, err)
	}
	n := cacheEntries(s)
	clk.Set(time.Date(9999, 12, 31, 23, 59, 58, 0, time.UTC))
	if _, err := s.VerifyToken(t.Context(), last); err != nil || cacheEntries(s) != n {
		t.Errorf("a second before its exp: %v, %d cache entries, %d before", err, cacheEntries(s), n)
	}
	clk.Add(time.Second)
	if _, err := s.VerifyToken(t.Context(), last); !errors.Is(err, ErrExpired) {
		t.Errorf("at its exp: %v, want ErrExpired", err)
	}
	// nbf far ahead: never valid, even then.
	far := handToken(contractHeader, `{"userId":"u1","exp":253402300799,"nbf":253402300799}`)
	clk.Set(time.Date(9999, 12, 31, 23, 59, 58, 0, time.UTC))
	if _, err := s.VerifyToken(t.Context(), far); !errors.Is(err, ErrInvalid) {
		t.Errorf("nbf a second ahead: %v, want ErrInvalid", err)
	}
}

// TestSign: KeySet.Sign writes the claims and the custom ones into the
// payload, under the active key's kid and algorithm; it refuses reserved
// custom claim names and an active key that cannot sign with
// ErrInvalidConfig, and custom claims JSON cannot encode with another
// error.
func TestSign(t *testing.T) {
	ks := mustKeySet(t, mustKey(t, "ed", testEdKey(1)), mustKey(t, "", testSecret))
	clk := testclock.New(time.Unix(contractIat+10, 0))
	c := &Claims{UserID: "u1", UserName: "Ada", Generation: 3,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Minute))}}
	tok, err := ks.Sign(c, map[string]any{"roles": []string{"admin"}, "kid": "x", "Role": "user"})
	if err != nil {
		t.Fatal(err)
	}
	if h := tokentest.Header(t, tok); len(h) != 3 || h["alg"] != "EdDSA" || h["kid"] != "ed" || h["typ"] != "JWT" {
		t.Errorf("header = %v", h)
	}
	m := tokentest.Payload(t, tok)
	if m["userId"] != "u1" || m["gen"] != 3.0 || fmt.Sprint(m["roles"]) != "[admin]" || m["kid"] != "x" || m["Role"] != "user" {
		t.Errorf("payload = %v", m)
	}
	v, err := NewVerifier(ks, Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.VerifyToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var app struct {
		Roles []string `json:"roles"`
		Role  string   `json:"role"`
	}
	if err := got.Decode(&app); err != nil || len(app.Roles) != 1 || app.Roles[0] != "admin" || app.Role != "user" || got.Generation != 3 {
		t.Errorf("Decode = %+v, %v; Generation %d", app, err, got.Generation)
	}

	for _, name := range []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "userId", "userName", "email", "email_verified", "Email_Verified", "gen", "GEN"} {
		if tok, err := ks.Sign(c, map[string]any{name: "x"}); tok != "" || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("custom claim %q: Sign = %q, %v; want ErrInvalidConfig", name, tok, err)
		}
	}
	if tok, err := ks.Sign(c, map[string]any{"ch": make(chan int)}); tok != "" || err == nil || errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a custom claim JSON cannot encode: Sign = %q, %v; want an error other than ErrInvalidConfig", tok, err)
	}
	if err := ks.Reset(mustKey(t, "pub", testEdKey(2).Public())); err != nil {
		t.Fatal(err)
	}
	if tok, err := ks.Sign(c, nil); tok != "" || !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a public active key: Sign = %q, %v; want ErrInvalidConfig", tok, err)
	}
}
