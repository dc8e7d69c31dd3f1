package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The seed API's example token: iat and exp of its documentation.
const (
	seedIat     = 1594967081
	seedExp     = 1594970681
	seedHeader  = `{"alg":"HS256","typ":"JWT"}`
	seedPayload = `{"userId":"5ef5b4d2b56aad8240db229c","userName":"admin1","email":"admin1@user.com","iat":1594967081,"exp":1594970681}`
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

// tokenService is a Service whose clock stands still at the seed token's
// iat plus ten seconds.
func tokenService(t *testing.T, cfg Config) (*Service, *clock) {
	t.Helper()
	clk := newClock(time.Unix(seedIat+10, 0))
	cfg.Now = clk.Now
	return newTestService(t, newFakeStore(), cfg), clk
}

func TestVerifyTokenSeedShape(t *testing.T) {
	s, clk := tokenService(t, Config{})
	token := handToken(seedHeader, seedPayload)
	c, err := s.VerifyToken(context.Background(), token)
	if err != nil {
		t.Fatalf("VerifyToken(seed-shaped token): %v", err)
	}
	if c.UserID != "5ef5b4d2b56aad8240db229c" || c.UserName != "admin1" || c.Email != "admin1@user.com" {
		t.Errorf("claims = %+v", c)
	}
	if c.IssuedAt == nil || c.IssuedAt.Unix() != seedIat || c.ExpiresAt == nil || c.ExpiresAt.Unix() != seedExp {
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
		if _, err := s.VerifyToken(context.Background(), handToken(header, seedPayload)); err != nil {
			t.Errorf("header %s: %v", header, err)
		}
	}
	// A kid names a key; the secret's key has none. (An older issuer that
	// wrote one is matched by naming the key so: NewKey("2020", secret).)
	if _, err := s.VerifyToken(context.Background(), handToken(`{"alg":"HS256","kid":"2020"}`, seedPayload)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token with a kid no key has: %v, want ErrInvalidToken", err)
	}

	clk.Set(time.Unix(seedExp+1, 0))
	_, err = s.VerifyToken(context.Background(), token)
	if !errors.Is(err, ErrTokenExpired) || !errors.Is(err, ErrInvalidToken) {
		t.Errorf("seed token after exp: %v, want ErrTokenExpired and ErrInvalidToken", err)
	}
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
			if h, _ := base64.RawURLEncoding.DecodeString(parts[0]); string(h) != seedHeader {
				t.Errorf("header = %s, want %s", h, seedHeader)
			}
			m := tokenPayload(t, tok)
			want := []string{"userId", "userName", "email", "iat", "exp", "sub", "jti"}
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
			if m["userId"] != u.ID || m["sub"] != u.ID || m["userName"] != u.Name || m["email"] != u.Email {
				t.Errorf("payload = %v", m)
			}
			if jti, _ := m["jti"].(string); len(jti) != 32 {
				t.Errorf("jti = %v, want 32 hex digits", m["jti"])
			}
			iat, _ := m["iat"].(float64)
			if iat != seedIat+10 {
				t.Errorf("iat = %v, want %v", m["iat"], seedIat+10)
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

func TestVerifyTokenRejects(t *testing.T) {
	s, clk := tokenService(t, Config{})
	now := clk.Now().Unix()
	iat, exp := now-10, now+3590
	payload := fmt.Sprintf(`{"userId":"u1","userName":"n","email":"e@x.co","iat":%d,"exp":%d}`, iat, exp)
	// payloadOdd has a length that is not a multiple of 3, so that its
	// segment has unused bits and could be padded.
	payloadOdd := payload
	for len(payloadOdd)%3 == 0 {
		payloadOdd = " " + payloadOdd
	}
	h256, pOdd := seg(seedHeader), seg(payloadOdd)
	valid := handToken(seedHeader, payload)
	if _, err := s.VerifyToken(context.Background(), valid); err != nil {
		t.Fatalf("control token rejected: %v", err)
	}
	if _, err := s.VerifyToken(context.Background(), signSegments(sha256.New, testSecret, h256, pOdd)); err != nil {
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
		{"HS384 same secret", signSegments(sha512.New384, testSecret, seg(`{"alg":"HS384","typ":"JWT"}`), seg(payload)), false},
		{"HS512 same secret", signSegments(sha512.New, testSecret, seg(`{"alg":"HS512","typ":"JWT"}`), seg(payload)), false},
		{"RS256 header, HMAC with the secret", handToken(`{"alg":"RS256","typ":"JWT"}`, payload), false},
		{"ES256 header", handToken(`{"alg":"ES256","typ":"JWT"}`, payload), false},
		{"EdDSA header", handToken(`{"alg":"EdDSA","typ":"JWT"}`, payload), false},
		{"header not an object", handToken(`"HS256"`, payload), false},
		{"header not JSON", signSegments(sha256.New, testSecret, "bm90IGpzb24", seg(payload)), false},

		{"other secret", signSegments(sha256.New, otherSecret, h256, seg(payload)), false},
		{"secret prefix", signSegments(sha256.New, testSecret[:31], h256, seg(payload)), false},
		{"tampered payload", h256 + "." + seg(strings.Replace(payload, `"u1"`, `"u2"`, 1)) + "." + sig, false},
		{"tampered signature", valid[:dot2+1] + tamperedSig, false},
		{"truncated signature", valid[:len(valid)-4], false},
		{"empty signature", valid[:dot2+1], false},
		{"signature of another payload", h256 + "." + seg(payload+" ") + "." + sig, false},

		{"padded payload", signSegments(sha256.New, testSecret, h256, pOdd+strings.Repeat("=", 4-len(pOdd)%4)), false},
		{"padded signature", valid + "=", false},
		{"signature trailing bits set", valid[:dot2+1] + flipPadBit(t, sig), false},
		{"payload trailing bits set", signSegments(sha256.New, testSecret, h256, flipPadBit(t, pOdd)), false},
		{"standard base64 alphabet", signSegments(sha256.New, testSecret, h256, pStd), false},
		{"newline in payload segment", signSegments(sha256.New, testSecret, h256, pOdd[:10]+"\n"+pOdd[10:]), false},
		{"newline in signature", valid[:dot2+5] + "\n" + valid[dot2+5:], false},
		{"CR in signature", valid[:dot2+5] + "\r" + valid[dot2+5:], false},
		{"trailing newline", valid + "\n", false},
		{"trailing CRLF", valid + "\r\n", false},

		{"payload not JSON", signSegments(sha256.New, testSecret, h256, seg("userId=u1")), false},
		{"payload array", handToken(seedHeader, `["u1"]`), false},
		{"userId as number", handToken(seedHeader, fmt.Sprintf(`{"userId":1,"exp":%d}`, exp)), false},
		{"expired", handToken(seedHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d}`, now-3600, now-1)), true},
		{"expired long ago", handToken(seedHeader, `{"userId":"u1","iat":0,"exp":1}`), true},
		{"nbf in the future", handToken(seedHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d,"nbf":%d}`, iat, exp, now+60)), false},
		{"missing exp", handToken(seedHeader, fmt.Sprintf(`{"userId":"u1","userName":"n","email":"e@x.co","iat":%d}`, iat)), false},
		{"exp null", handToken(seedHeader, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":null}`, iat)), false},
		{"missing userId", handToken(seedHeader, fmt.Sprintf(`{"sub":"u1","userName":"n","iat":%d,"exp":%d}`, iat, exp)), false},
		{"empty userId", handToken(seedHeader, fmt.Sprintf(`{"userId":"","sub":"","iat":%d,"exp":%d}`, iat, exp)), false},
		{"sub differs from userId", handToken(seedHeader, fmt.Sprintf(`{"userId":"u1","sub":"admin","iat":%d,"exp":%d}`, iat, exp)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := s.VerifyToken(context.Background(), tt.token)
			if c != nil || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("VerifyToken(%q) = %+v, %v; want nil, ErrInvalidToken", tt.token, c, err)
			}
			if got := errors.Is(err, ErrTokenExpired); got != tt.expired {
				t.Errorf("errors.Is(%v, ErrTokenExpired) = %v, want %v", err, got, tt.expired)
			}
			if strings.Contains(err.Error(), string(testSecret)) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestVerifyTokenExpiry(t *testing.T) {
	s, clk := tokenService(t, Config{TokenTTL: 10 * time.Minute})
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
	if !errors.Is(err, ErrTokenExpired) || !errors.Is(err, ErrInvalidToken) {
		t.Errorf("a second after exp: %v, want ErrTokenExpired and ErrInvalidToken", err)
	}
	// A token issued in the future (clock skew between replicas) is
	// accepted as long as it carries no nbf; only exp and nbf are checked.
	clk.Set(exp.Add(-time.Hour))
	if _, err := s.VerifyToken(context.Background(), tok); err != nil {
		t.Errorf("before iat: %v", err)
	}
}

func TestVerifyTokenOtherService(t *testing.T) {
	a, _ := tokenService(t, Config{})
	b, _ := tokenService(t, Config{Secret: []byte(strings.Repeat("k", 32))})
	tok, _, err := b.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.VerifyToken(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("token of another secret: %v, want ErrInvalidToken", err)
	}
}

func TestVerifyTokenIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.example.com", "api"
	s, clk := tokenService(t, Config{Issuer: iss, Audience: aud})
	plain, _ := tokenService(t, Config{}) // same secret, no iss/aud
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
		"aud as string":    handToken(seedHeader, claims(`,"iss":"`+iss+`","aud":"api"`)),
		"aud among others": handToken(seedHeader, claims(`,"iss":"`+iss+`","aud":["web","api"]`)),
	}
	for name, tok := range accept {
		if _, err := s.VerifyToken(ctx, tok); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// iss and aud that are not configured are not checked.
	if _, err := plain.VerifyToken(ctx, own); err != nil {
		t.Errorf("a Service without iss/aud rejects a token with them: %v", err)
	}

	plainTok, _, err := plain.IssueToken(context.Background(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	reject := map[string]string{
		"no iss or aud":     plainTok,
		"missing iss":       handToken(seedHeader, claims(`,"aud":"api"`)),
		"wrong iss":         handToken(seedHeader, claims(`,"iss":"https://evil.example.com","aud":"api"`)),
		"iss case":          handToken(seedHeader, claims(`,"iss":"HTTPS://AUTH.EXAMPLE.COM","aud":"api"`)),
		"iss prefix":        handToken(seedHeader, claims(`,"iss":"https://auth.example.com.evil","aud":"api"`)),
		"missing aud":       handToken(seedHeader, claims(`,"iss":"`+iss+`"`)),
		"wrong aud":         handToken(seedHeader, claims(`,"iss":"`+iss+`","aud":"web"`)),
		"empty aud list":    handToken(seedHeader, claims(`,"iss":"`+iss+`","aud":[]`)),
		"seed-shaped token": handToken(seedHeader, claims("")),
	}
	for name, tok := range reject {
		if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: VerifyToken = %v, want ErrInvalidToken", name, err)
		}
	}
}

func TestVerifyTokenSizeCap(t *testing.T) {
	s, clk := tokenService(t, Config{})
	big, _ := tokenService(t, Config{MaxTokenBytes: 1 << 16})
	now := clk.Now().Unix()
	ctx := context.Background()

	// A correctly signed token just over the default cap.
	name := strings.Repeat("n", 4000)
	tok := handToken(seedHeader, fmt.Sprintf(`{"userId":"u1","userName":"%s","iat":%d,"exp":%d}`, name, now, now+60))
	if len(tok) <= 4096 {
		t.Fatalf("token is only %d bytes", len(tok))
	}
	if _, err := s.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("%d-byte token with the default cap: %v, want ErrInvalidToken", len(tok), err)
	}
	if c, err := big.VerifyToken(ctx, tok); err != nil || c.UserName != name {
		t.Errorf("%d-byte token with MaxTokenBytes 65536: %v", len(tok), err)
	}

	// A token at the cap is parsed.
	small, _ := tokenService(t, Config{MaxTokenBytes: len(tok)})
	if _, err := small.VerifyToken(ctx, tok); err != nil {
		t.Errorf("token of exactly MaxTokenBytes: %v", err)
	}

	// A megabyte is refused before any decoding: next to nothing is
	// allocated for it.
	huge := seg(seedHeader) + "." + strings.Repeat("A", 1<<20) + "." + strings.Repeat("A", 43)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const runs = 20
	for range runs {
		if _, err := s.VerifyToken(ctx, huge); !errors.Is(err, ErrInvalidToken) {
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
	s, _ := tokenService(t, Config{})
	payload := `{"userId":"u1","exp":1594970681}`
	others := map[string]string{
		"HS384": signSegments(sha512.New384, testSecret, seg(`{"alg":"HS384"}`), seg(payload)),
		"HS512": signSegments(sha512.New, testSecret, seg(`{"alg":"HS512"}`), seg(payload)),
		"none":  seg(`{"alg":"none"}`) + "." + seg(payload) + ".",
	}
	keyfunc := s.verifier.keys.load().keyfunc(nil)
	laxParser := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return time.Unix(seedIat, 0) }))
	for alg, tok := range others {
		if _, err := laxParser.ParseWithClaims(tok, new(Claims), keyfunc); err == nil {
			t.Errorf("the key function accepts %s with a permissive parser", alg)
		}
	}
	// The control: HS256 passes.
	if _, err := laxParser.ParseWithClaims(handToken(seedHeader, payload), new(Claims), keyfunc); err != nil {
		t.Errorf("HS256: %v", err)
	}
}

// TestVerifyTokenDateRange: exp, nbf and iat must be from 0 to the last
// second of the year 9999. Beyond the int64 range a date would wrap (an
// nbf of 1e19 in the past); every date out of range is refused, as
// invalid and not as expired, and nothing is cached.
func TestVerifyTokenDateRange(t *testing.T) {
	s, clk := tokenService(t, Config{Logger: discardLogger})
	now := clk.Now().Unix()
	exp := now + 600
	for _, claim := range []string{"exp", "nbf", "iat"} {
		for _, date := range []string{"9.3e18", "1e19", "1e300", "-1e300", "-1", "-0.5", "253402300800", "253402300799.5", "9007199254740993"} {
			t.Run(claim+"="+date, func(t *testing.T) {
				payload := fmt.Sprintf(`{"userId":"u1","exp":%d,%q:%s}`, exp, claim, date)
				if claim == "exp" {
					payload = fmt.Sprintf(`{"userId":"u1","exp":%s}`, date)
				}
				c, err := s.VerifyToken(t.Context(), handToken(seedHeader, payload))
				if c != nil || !errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrTokenExpired) {
					t.Fatalf("VerifyToken(%s) = %+v, %v; want nil, ErrInvalidToken (not expired)", payload, c, err)
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
		if _, err := s.VerifyToken(t.Context(), handToken(seedHeader, payload)); err != nil {
			t.Errorf("VerifyToken(%s): %v", payload, err)
		}
	}
	// A token valid until the last second of 9999 is cached, and expires
	// then, cached or not.
	last := handToken(seedHeader, `{"userId":"u1","exp":253402300799}`)
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
	if _, err := s.VerifyToken(t.Context(), last); !errors.Is(err, ErrTokenExpired) {
		t.Errorf("at its exp: %v, want ErrTokenExpired", err)
	}
	// nbf far ahead: never valid, even then.
	far := handToken(seedHeader, `{"userId":"u1","exp":253402300799,"nbf":253402300799}`)
	clk.Set(time.Date(9999, 12, 31, 23, 59, 58, 0, time.UTC))
	if _, err := s.VerifyToken(t.Context(), far); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("nbf a second ahead: %v, want ErrInvalidToken", err)
	}
}
