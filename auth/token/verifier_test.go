package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// validPayload is the payload of a token for user u1 issued at now, valid
// for ten minutes.
func validPayload(now time.Time) string {
	return fmt.Sprintf(`{"userId":"u1","userName":"n","email":"u1@example.com","iat":%d,"exp":%d}`, now.Unix(), now.Unix()+600)
}

// jws returns the compact JWS of header and payload, JSON texts, with the
// signature sign makes of its signing input; no JWT library is involved.
func jws(header, payload string, sign func(input []byte) []byte) string {
	input := seg(header) + "." + seg(payload)
	return input + "." + rawURL(sign([]byte(input)))
}

// signingInput is the part of token a JWS signature covers.
func signingInput(token string) []byte {
	return []byte(token[:strings.LastIndexByte(token, '.')])
}

// tokenSignature is the decoded signature of token.
func tokenSignature(t testing.TB, token string) []byte {
	t.Helper()
	sig, err := base64.RawURLEncoding.Strict().DecodeString(token[strings.LastIndexByte(token, '.')+1:])
	if err != nil {
		t.Fatalf("signature of %q: %v", token, err)
	}
	return sig
}

func signHS256(secret []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

func signEd(k ed25519.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte { return ed25519.Sign(k, in) }
}

// signES256 signs as RFC 7518 section 3.4 asks: r and s, 32 bytes each.
func signES256(t testing.TB, k *ecdsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte { return derToRaw(t, signES256DER(t, k)(in)) }
}

// signES256DER makes the ASN.1 DER signature of crypto/ecdsa and X.509,
// which JWS does not use.
func signES256DER(t testing.TB, k *ecdsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		t.Helper()
		digest := sha256.Sum256(in)
		der, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}

// derToRaw converts an ASN.1 DER ECDSA signature to JWS's r||s.
func derToRaw(t testing.TB, der []byte) []byte {
	t.Helper()
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) > 0 {
		t.Fatalf("DER signature: %v", err)
	}
	raw := make([]byte, 64)
	sig.R.FillBytes(raw[:32])
	sig.S.FillBytes(raw[32:])
	return raw
}

func signRSA(t testing.TB, k *rsa.PrivateKey, h crypto.Hash, pss bool) func([]byte) []byte {
	return func(in []byte) []byte {
		t.Helper()
		hh := h.New()
		hh.Write(in)
		var sig []byte
		var err error
		if pss {
			sig, err = rsa.SignPSS(rand.Reader, k, h, hh.Sum(nil), nil)
		} else {
			sig, err = rsa.SignPKCS1v15(nil, k, h, hh.Sum(nil))
		}
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
}

func signRS256(t testing.TB, k *rsa.PrivateKey) func([]byte) []byte {
	return signRSA(t, k, crypto.SHA256, false)
}

// keyFixture is a service whose KeySet holds an EdDSA key "ed" (active),
// an ES256 key "ec", an RS256 key "rsa" and the HS256 key of testSecret
// with ID "" (so that tokens without kid are HS256 tokens, as in the wire
// contract), and a standalone Verifier made from the service's JWKS, which has
// the three public keys only.
type keyFixture struct {
	svc        *service
	clk        *testclock.Clock
	ed         ed25519.PrivateKey
	ec         *ecdsa.PrivateKey
	rsa        *rsa.PrivateKey
	standalone *Verifier
}

func newKeyFixture(t *testing.T, cfg serviceConfig, vcfg Config) *keyFixture {
	t.Helper()
	f := &keyFixture{ed: testEdKey(10), ec: testECKey(t, 10), rsa: testRSAKey(t, 0)}
	cfg.Keys = mustKeySet(t,
		mustKey(t, "ed", f.ed), mustKey(t, "ec", f.ec), mustKey(t, "rsa", f.rsa), mustKey(t, "", testSecret))
	f.svc, f.clk = tokenService(t, cfg)
	pub, err := ParseJWKS(f.svc.Keys().JWKS())
	if err != nil {
		t.Fatalf("ParseJWKS(the service's JWKS): %v", err)
	}
	vcfg.Now = f.clk.Now
	if f.standalone, err = NewVerifier(mustKeySet(t, pub...), vcfg); err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return f
}

// verifiers are the two ways of verifying the fixture's tokens: the
// service's own Verifier and the standalone one.
func (f *keyFixture) verifiers() []struct {
	name string
	v    *Verifier
} {
	return []struct {
		name string
		v    *Verifier
	}{{"service", f.svc.Verifier()}, {"standalone", f.standalone}}
}

func TestVerifierAccepts(t *testing.T) {
	f := newKeyFixture(t, serviceConfig{}, Config{})
	payload := validPayload(f.clk.Now())
	attacker := testEdKey(0xa7)
	srv, hits := countingServer(t)

	tokens := map[string]string{
		"EdDSA":                  jws(`{"alg":"EdDSA","kid":"ed","typ":"JWT"}`, payload, signEd(f.ed)),
		"ES256":                  jws(`{"alg":"ES256","kid":"ec"}`, payload, signES256(t, f.ec)),
		"RS256":                  jws(`{"alg":"RS256","kid":"rsa"}`, payload, signRS256(t, f.rsa)),
		"EdDSA with jku and x5u": jws(`{"alg":"EdDSA","kid":"ed","jku":"`+srv.URL+`/jwks","x5u":"`+srv.URL+`/cert"}`, payload, signEd(f.ed)),
		"EdDSA with another jwk": jws(`{"alg":"EdDSA","kid":"ed","jwk":{"kty":"OKP","crv":"Ed25519","x":"`+rawURL(attacker[32:])+`"}}`, payload, signEd(f.ed)),
	}
	// Tokens the service issues with each of its asymmetric keys active.
	for _, id := range []string{"rsa", "ec", "ed"} {
		if err := f.svc.Keys().Promote(id); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.svc.IssueToken(t.Context(), User{ID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		if h := tokentest.Header(t, tok); h["kid"] != id || h["alg"] != f.svc.Keys().Active().Algorithm() {
			t.Fatalf("token issued with key %q active has header %v", id, h)
		}
		tokens["issued with "+id] = tok
	}
	for _, v := range f.verifiers() {
		for name, tok := range tokens {
			t.Run(v.name+"/"+name, func(t *testing.T) {
				c, err := v.v.VerifyToken(t.Context(), tok)
				if err != nil {
					t.Fatalf("VerifyToken: %v", err)
				}
				if c.UserID != "u1" {
					t.Errorf("UserID = %q, want u1", c.UserID)
				}
			})
		}
	}

	// The HS256 key of the secret is no part of the JWKS: the service
	// accepts its tokens, the standalone Verifier does not.
	hs := jws(contractHeader, payload, signHS256(testSecret))
	if _, err := f.svc.VerifyToken(t.Context(), hs); err != nil {
		t.Errorf("service: HS256 token without kid: %v", err)
	}
	if _, err := f.standalone.VerifyToken(t.Context(), hs); !errors.Is(err, ErrInvalid) {
		t.Errorf("standalone Verifier: HS256 token signed with the service's secret: %v, want ErrInvalid", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the verifiers fetched jku/x5u %d times", n)
	}
}

// countingServer serves an attacker's keys and counts the requests made to
// it, which must be none.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	hits := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// TestVerifierRejects: each token is refused by the service and by the
// standalone Verifier, with ErrInvalid and not ErrExpired.
func TestVerifierRejects(t *testing.T) {
	f := newKeyFixture(t, serviceConfig{}, Config{})
	payload := validPayload(f.clk.Now())
	srv, hits := countingServer(t)
	der := mustDER(t)

	// The attacker's own keys, whose public halves travel in headers.
	attacker := testEdKey(0xa7)
	attackerEC := testECKey(t, 0xa7)
	attackerJWK := `{"kty":"OKP","crv":"Ed25519","x":"` + rawURL(attacker[32:]) + `"}`
	ax, ay := ecXY(t, &attackerEC.PublicKey)
	attackerECJWK := `{"kty":"EC","crv":"P-256","x":"` + ax + `","y":"` + ay + `"}`
	attackerTP := mustKey(t, "", attacker).Thumbprint()
	attackerCert := der(x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(1)},
		&x509.Certificate{SerialNumber: big.NewInt(1)}, attacker.Public(), attacker))
	x5c := `["` + base64.StdEncoding.EncodeToString(attackerCert) + `"]`

	// The RSA public key as an HMAC secret, in the forms an attacker finds
	// it published.
	pkix := der(x509.MarshalPKIXPublicKey(&f.rsa.PublicKey))
	pkcs1 := x509.MarshalPKCS1PublicKey(&f.rsa.PublicKey)
	asSecret := map[string][]byte{
		"PKIX PEM":  pemOf("PUBLIC KEY", pkix),
		"PKIX DER":  pkix,
		"PKCS1 PEM": pemOf("RSA PUBLIC KEY", pkcs1),
		"PKCS1 DER": pkcs1,
		"JWKS":      f.svc.Keys().JWKS(),
	}

	// One ES256 signature in both encodings: the raw one verifies (the
	// control), the DER one must not.
	ecHeader := `{"alg":"ES256","kid":"ec"}`
	derSig := signES256DER(t, f.ec)([]byte(seg(ecHeader) + "." + seg(payload)))
	rawTok := seg(ecHeader) + "." + seg(payload) + "." + rawURL(derToRaw(t, derSig))
	derTok := seg(ecHeader) + "." + seg(payload) + "." + rawURL(derSig)
	for _, v := range f.verifiers() {
		if _, err := v.v.VerifyToken(t.Context(), rawTok); err != nil {
			t.Fatalf("%s: raw r||s form of the ES256 signature: %v", v.name, err)
		}
	}

	edTok := jws(`{"alg":"EdDSA","kid":"ed"}`, payload, signEd(f.ed))

	type tcase struct{ name, token string }
	tests := []tcase{
		{"unknown kid", jws(`{"alg":"EdDSA","kid":"nope"}`, payload, signEd(f.ed))},
		{"kid of another case", jws(`{"alg":"EdDSA","kid":"ED"}`, payload, signEd(f.ed))},
		{"long unknown kid", jws(`{"alg":"EdDSA","kid":"`+strings.Repeat("k", 300)+`"}`, payload, signEd(f.ed))},

		{"ES256 header, kid of the EdDSA key, signed by the ES256 key", jws(`{"alg":"ES256","kid":"ed"}`, payload, signES256(t, f.ec))},
		{"EdDSA header, kid of the ES256 key, signed by the EdDSA key", jws(`{"alg":"EdDSA","kid":"ec"}`, payload, signEd(f.ed))},
		{"RS256 header, kid of the EdDSA key, signed by the RSA key", jws(`{"alg":"RS256","kid":"ed"}`, payload, signRS256(t, f.rsa))},
		{"EdDSA without kid", jws(`{"alg":"EdDSA"}`, payload, signEd(f.ed))},
		{"ES256 without kid", jws(`{"alg":"ES256"}`, payload, signES256(t, f.ec))},
		{"HS256, kid of the EdDSA key, HMAC with the secret", jws(`{"alg":"HS256","kid":"ed"}`, payload, signHS256(testSecret))},
		{"HS256, kid of the EdDSA key, HMAC with its public key", jws(`{"alg":"HS256","kid":"ed"}`, payload, signHS256(f.ed[32:]))},
		{"PS256 with the RSA key", jws(`{"alg":"PS256","kid":"rsa"}`, payload, signRSA(t, f.rsa, crypto.SHA256, true))},
		{"RS384 with the RSA key", jws(`{"alg":"RS384","kid":"rsa"}`, payload, signRSA(t, f.rsa, crypto.SHA384, false))},
		{"RS512 with the RSA key", jws(`{"alg":"RS512","kid":"rsa"}`, payload, signRSA(t, f.rsa, crypto.SHA512, false))},
		{"HS512 with the secret", jws(`{"alg":"HS512"}`, payload, func(in []byte) []byte {
			m := hmac.New(sha512.New, testSecret)
			m.Write(in)
			return m.Sum(nil)
		})},
		{"alg none, kid of the EdDSA key", seg(`{"alg":"none","kid":"ed"}`) + "." + seg(payload) + "."},

		{"ES256 signature in ASN.1 DER", derTok},
		{"ES256 signature of 63 bytes", jws(ecHeader, payload, func(in []byte) []byte { return signES256(t, f.ec)(in)[:63] })},

		{"crit with exp", jws(`{"alg":"EdDSA","kid":"ed","crit":["exp"],"exp":1}`, payload, signEd(f.ed))},
		{"crit with b64", jws(`{"alg":"EdDSA","kid":"ed","crit":["b64"],"b64":true}`, payload, signEd(f.ed))},
		{"crit empty", jws(`{"alg":"EdDSA","kid":"ed","crit":[]}`, payload, signEd(f.ed))},
		{"crit null", jws(`{"alg":"EdDSA","kid":"ed","crit":null}`, payload, signEd(f.ed))},

		{"kid a number", jws(`{"alg":"EdDSA","kid":5}`, payload, signEd(f.ed))},
		{"kid null", jws(`{"alg":"HS256","kid":null}`, payload, signHS256(testSecret))},
		{"kid an array", jws(`{"alg":"EdDSA","kid":["ed"]}`, payload, signEd(f.ed))},
		{"kid an object", jws(`{"alg":"EdDSA","kid":{"id":"ed"}}`, payload, signEd(f.ed))},
		{"kid true", jws(`{"alg":"EdDSA","kid":true}`, payload, signEd(f.ed))},

		{"jwk of the attacker, no kid", jws(`{"alg":"EdDSA","jwk":`+attackerJWK+`}`, payload, signEd(attacker))},
		{"jwk of the attacker, kid of the EdDSA key", jws(`{"alg":"EdDSA","kid":"ed","jwk":`+attackerJWK+`}`, payload, signEd(attacker))},
		{"jwk of the attacker, kid its thumbprint", jws(`{"alg":"EdDSA","kid":"`+attackerTP+`","jwk":`+attackerJWK+`}`, payload, signEd(attacker))},
		{"jwk of the attacker's P-256 key, kid of the ES256 key", jws(`{"alg":"ES256","kid":"ec","jwk":`+attackerECJWK+`}`, payload, signES256(t, attackerEC))},
		{"jku, kid of the EdDSA key", jws(`{"alg":"EdDSA","kid":"ed","jku":"`+srv.URL+`/jwks"}`, payload, signEd(attacker))},
		{"jku, kid of the attacker", jws(`{"alg":"EdDSA","kid":"attacker","jku":"`+srv.URL+`/jwks"}`, payload, signEd(attacker))},
		{"x5u, kid of the EdDSA key", jws(`{"alg":"EdDSA","kid":"ed","x5u":"`+srv.URL+`/cert.pem"}`, payload, signEd(attacker))},
		{"x5u, no kid", jws(`{"alg":"EdDSA","x5u":"`+srv.URL+`/cert.pem"}`, payload, signEd(attacker))},
		{"x5c of the attacker, kid of the EdDSA key", jws(`{"alg":"EdDSA","kid":"ed","x5c":`+x5c+`}`, payload, signEd(attacker))},

		{"tampered payload", edTok[:strings.IndexByte(edTok, '.')+1] + seg(strings.Replace(payload, `"u1"`, `"u2"`, 1)) +
			edTok[strings.LastIndexByte(edTok, '.'):]},
		{"EdDSA signed by another key", jws(`{"alg":"EdDSA","kid":"ed"}`, payload, signEd(attacker))},
		{"ES256 signed by another key", jws(ecHeader, payload, signES256(t, attackerEC))},
		{"RS256 signed by another key", jws(`{"alg":"RS256","kid":"rsa"}`, payload, signRS256(t, testRSAKey(t, 1)))},
	}
	for name, secret := range asSecret {
		tests = append(tests,
			tcase{"HS256, kid of the RSA key, HMAC with the " + name, jws(`{"alg":"HS256","kid":"rsa"}`, payload, signHS256(secret))},
			tcase{"HS256, no kid, HMAC with the RSA " + name, jws(`{"alg":"HS256"}`, payload, signHS256(secret))},
			tcase{"HS256, kid \"\", HMAC with the RSA " + name, jws(`{"alg":"HS256","kid":""}`, payload, signHS256(secret))},
		)
	}
	for _, v := range f.verifiers() {
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				c, err := v.v.VerifyToken(t.Context(), tt.token)
				if c != nil || !errors.Is(err, ErrInvalid) {
					t.Fatalf("VerifyToken = %+v, %v; want nil, ErrInvalid", c, err)
				}
				if errors.Is(err, ErrExpired) {
					t.Errorf("error %v wraps ErrExpired", err)
				}
			})
		}
	}
	// The standalone Verifier holds no HMAC key at all.
	for _, tok := range []string{
		jws(contractHeader, payload, signHS256(testSecret)),
		jws(`{"alg":"HS256","kid":""}`, payload, signHS256(testSecret)),
	} {
		if _, err := f.standalone.VerifyToken(t.Context(), tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("standalone: HS256 token %s signed with the service's secret: %v, want ErrInvalid", tok, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the verifiers fetched jku/x5u %d times", n)
	}
}

// TestKeyFuncPinsAlgorithm checks the key function's own pin on its own,
// as TestKeyFuncRefusesOtherHMACs does for HS256: with a parser that allows
// every algorithm, the key function still refuses a token whose alg is not
// its key's, even where the key's type fits the algorithm (RSA keys for
// PS256, RS384 and RS512; HMAC secrets for HS384 and HS512).
func TestKeyFuncPinsAlgorithm(t *testing.T) {
	f := newKeyFixture(t, serviceConfig{}, Config{})
	payload := validPayload(f.clk.Now())
	hmacWith := func(h func() hash.Hash) func([]byte) []byte {
		return func(in []byte) []byte {
			m := hmac.New(h, testSecret)
			m.Write(in)
			return m.Sum(nil)
		}
	}
	tests := []struct {
		name  string
		token string
		key   any // the key that does verify the token
	}{
		{"PS256 with the RSA key", jws(`{"alg":"PS256","kid":"rsa"}`, payload, signRSA(t, f.rsa, crypto.SHA256, true)), &f.rsa.PublicKey},
		{"RS384 with the RSA key", jws(`{"alg":"RS384","kid":"rsa"}`, payload, signRSA(t, f.rsa, crypto.SHA384, false)), &f.rsa.PublicKey},
		{"RS512 with the RSA key", jws(`{"alg":"RS512","kid":"rsa"}`, payload, signRSA(t, f.rsa, crypto.SHA512, false)), &f.rsa.PublicKey},
		{"HS384 with the secret", jws(`{"alg":"HS384"}`, payload, hmacWith(sha512.New384)), testSecret},
		{"HS512 with the secret", jws(`{"alg":"HS512"}`, payload, hmacWith(sha512.New)), testSecret},
	}
	lax := jwt.NewParser(jwt.WithTimeFunc(f.clk.Now))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := lax.ParseWithClaims(tt.token, new(Claims), func(*jwt.Token) (any, error) { return tt.key, nil }); err != nil {
				t.Fatalf("control: the token does not verify with its key: %v", err)
			}
			if _, err := lax.ParseWithClaims(tt.token, new(Claims), f.svc.Verifier().keys.load().keyfunc()); err == nil {
				t.Errorf("the key function accepts it with a permissive parser")
			}
		})
	}
	// And the key function does accept the tokens of its keys.
	rs := jws(`{"alg":"RS256","kid":"rsa"}`, payload, signRS256(t, f.rsa))
	if _, err := lax.ParseWithClaims(rs, new(Claims), f.svc.Verifier().keys.load().keyfunc()); err != nil {
		t.Errorf("RS256 token of the RSA key: %v", err)
	}
}

func TestVerifierExpired(t *testing.T) {
	f := newKeyFixture(t, serviceConfig{TokenTTL: 10 * time.Minute}, Config{})
	issued, exp, err := f.svc.IssueToken(t.Context(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	now := f.clk.Now()
	tokens := map[string]string{
		"issued (EdDSA)": issued,
		"ES256":          jws(`{"alg":"ES256","kid":"ec"}`, validPayload(now), signES256(t, f.ec)),
		"RS256":          jws(`{"alg":"RS256","kid":"rsa"}`, validPayload(now), signRS256(t, f.rsa)),
	}
	f.clk.Set(exp.Add(time.Second))
	for _, v := range f.verifiers() {
		for name, tok := range tokens {
			t.Run(v.name+"/"+name, func(t *testing.T) {
				_, err := v.v.VerifyToken(t.Context(), tok)
				if !errors.Is(err, ErrExpired) || !errors.Is(err, ErrInvalid) {
					t.Errorf("VerifyToken after exp: %v, want ErrExpired and ErrInvalid", err)
				}
			})
		}
	}
	// A second before exp, the same tokens are valid.
	f.clk.Set(exp.Add(-time.Second))
	for _, v := range f.verifiers() {
		for name, tok := range tokens {
			if _, err := v.v.VerifyToken(t.Context(), tok); err != nil {
				t.Errorf("%s/%s a second before exp: %v", v.name, name, err)
			}
		}
	}
}

func TestVerifierIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.example.com", "api"
	f := newKeyFixture(t, serviceConfig{Issuer: iss, Audience: aud}, Config{Issuer: iss, Audience: aud})
	ctx := t.Context()
	now := f.clk.Now().Unix()
	ed := func(extra string) string {
		return jws(`{"alg":"EdDSA","kid":"ed"}`, fmt.Sprintf(`{"userId":"u1","iat":%d,"exp":%d%s}`, now, now+60, extra), signEd(f.ed))
	}
	own, _, err := f.svc.IssueToken(ctx, User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"issued":           own,
		"aud in a list":    ed(`,"iss":"` + iss + `","aud":["web","api"]`),
		"aud as a string":  ed(`,"iss":"` + iss + `","aud":"api"`),
		"extra claims too": ed(`,"iss":"` + iss + `","aud":"api","scope":"x"`),
	} {
		for _, v := range f.verifiers() {
			if _, err := v.v.VerifyToken(ctx, tok); err != nil {
				t.Errorf("%s/%s: %v", v.name, name, err)
			}
		}
	}
	rejects := []struct{ name, token string }{
		{"no iss or aud", ed("")},
		{"missing iss", ed(`,"aud":"api"`)},
		{"wrong iss", ed(`,"iss":"https://evil.example.com","aud":"api"`)},
		{"iss with a trailing slash", ed(`,"iss":"https://auth.example.com/","aud":"api"`)},
		{"missing aud", ed(`,"iss":"` + iss + `"`)},
		{"wrong aud", ed(`,"iss":"` + iss + `","aud":"web"`)},
		{"empty aud list", ed(`,"iss":"` + iss + `","aud":[]`)},
	}
	for _, v := range f.verifiers() {
		for _, tt := range rejects {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				if _, err := v.v.VerifyToken(ctx, tt.token); !errors.Is(err, ErrInvalid) {
					t.Errorf("VerifyToken = %v, want ErrInvalid", err)
				}
			})
		}
	}

	// A Verifier without Issuer and Audience checks neither; one with
	// others refuses the service's tokens.
	keys := mustKeySet(t, mustKey(t, "ed", f.ed.Public()))
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"neither configured", Config{}, true},
		{"other issuer", Config{Issuer: "https://other.example.com"}, false},
		{"other audience", Config{Audience: "web"}, false},
		{"same issuer, other audience", Config{Issuer: iss, Audience: "web"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Now = f.clk.Now
			v, err := NewVerifier(keys, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = v.VerifyToken(ctx, own)
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("VerifyToken(the service's token) = %v, want ok: %v", err, tt.ok)
			}
		})
	}
}

func TestNewVerifier(t *testing.T) {
	keys := mustKeySet(t, mustKey(t, "ed", testEdKey(1).Public()))
	for _, tt := range []struct {
		name string
		keys *KeySet
		cfg  Config
	}{
		{"nil KeySet", nil, Config{}},
		{"negative MaxTokenBytes", keys, Config{MaxTokenBytes: -1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.keys, tt.cfg)
			if v != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("NewVerifier = %v, %v; want nil, ErrInvalidConfig", v, err)
			}
		})
	}

	// Defaults, and MaxTokenBytes: a token longer than the cap is refused
	// before parsing, one at the cap is verified.
	clk := testclock.New(time.Unix(contractIat, 0))
	tok := jws(`{"alg":"EdDSA","kid":"ed"}`, validPayload(clk.Now()), signEd(testEdKey(1)))
	v, err := NewVerifier(keys, Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if v.maxTokenBytes != 4096 {
		t.Errorf("default MaxTokenBytes = %d, want 4096", v.maxTokenBytes)
	}
	if _, err := v.VerifyToken(t.Context(), tok); err != nil {
		t.Errorf("default config: %v", err)
	}
	for _, tt := range []struct {
		max int
		ok  bool
	}{{len(tok), true}, {len(tok) - 1, false}} {
		v, err := NewVerifier(keys, Config{MaxTokenBytes: tt.max, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.VerifyToken(t.Context(), tok); tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("MaxTokenBytes %d, token of %d bytes: %v", tt.max, len(tok), err)
		}
	}
}

// TestVerifierRejected: Config.Rejected hears of every refused token,
// with the user ID when the token is otherwise valid, and never the token;
// not of accepted tokens, nor of a failure of Config.Revocations.
func TestVerifierRejected(t *testing.T) {
	type report struct {
		userID string
		err    error
	}
	var reports []report
	gens := new(generations)
	clk := testclock.New(time.Unix(contractIat, 0))
	v, err := NewVerifier(mustKeySet(t, mustKey(t, "ed", testEdKey(1).Public())), Config{
		Now:         clk.Now,
		Revocations: gens,
		Rejected: func(ctx context.Context, userID string, err error) {
			if ctx.Value(ctxKey{}) != "req-1" {
				t.Errorf("Rejected got a context without the caller's value")
			}
			reports = append(reports, report{userID, err})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(t.Context(), ctxKey{}, "req-1")
	good := jws(`{"alg":"EdDSA","kid":"ed"}`, validPayload(clk.Now()), signEd(testEdKey(1)))
	bad := jws(`{"alg":"EdDSA","kid":"ed"}`, validPayload(clk.Now()), signEd(testEdKey(2)))
	if _, err := v.VerifyToken(ctx, good); err != nil {
		t.Fatal(err)
	}
	if len(reports) != 0 {
		t.Fatalf("an accepted token was reported: %+v", reports)
	}
	_, err = v.VerifyToken(ctx, bad)
	if !errors.Is(err, ErrInvalid) || len(reports) != 1 || reports[0].err != err || reports[0].userID != "" {
		t.Fatalf("bad signature: VerifyToken = %v; reports %+v, want that error once, without a user ID", err, reports)
	}
	if sig := bad[strings.LastIndexByte(bad, '.')+1:]; strings.Contains(reports[0].err.Error(), sig) {
		t.Errorf("reported error %q holds the token's signature", reports[0].err)
	}
	gens.revoke("u1")
	if _, err := v.VerifyToken(ctx, good); !errors.Is(err, ErrInvalid) || len(reports) != 2 || reports[1].userID != "u1" {
		t.Fatalf("revoked session: VerifyToken = %v; reports %+v, want a second with user ID u1", err, reports)
	}
	gens.err = errors.New("store down")
	if _, err := v.VerifyToken(ctx, good); err == nil || errors.Is(err, ErrInvalid) || len(reports) != 2 {
		t.Errorf("store down: VerifyToken = %v; reports %+v, want the store's error, unreported", err, reports)
	}
	// An error of Revocations that wraps ErrInvalid (package auth's for a
	// deleted user) is a refusal, not a failure to check.
	gens.err = fmt.Errorf("%w: its account no longer exists", ErrInvalid)
	if _, err := v.VerifyToken(ctx, good); !errors.Is(err, ErrInvalid) || len(reports) != 3 || reports[2].userID != "u1" {
		t.Errorf("user gone: VerifyToken = %v; reports %+v, want a refusal reported with user ID u1", err, reports)
	}
}

type ctxKey struct{}

func TestClaimsDecode(t *testing.T) {
	t.Run("not from a token", func(t *testing.T) {
		c := &Claims{UserID: "u1", UserName: "Ada", Email: "ada@example.com"}
		c.Subject = "u1"
		c.ExpiresAt = nil
		var m map[string]any
		if err := c.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m["userId"] != "u1" || m["userName"] != "Ada" || m["email"] != "ada@example.com" || m["sub"] != "u1" {
			t.Errorf("Decode = %v", m)
		}
		var back Claims
		if err := c.Decode(&back); err != nil || back.UserID != "u1" || back.Subject != "u1" {
			t.Errorf("Decode into Claims = %+v, %v", back, err)
		}
		var zero Claims
		if err := zero.Decode(&m); err != nil {
			t.Errorf("Decode of zero Claims: %v", err)
		}
	})
	t.Run("token without custom claims", func(t *testing.T) {
		s, _ := tokenService(t, serviceConfig{})
		tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.VerifyToken(t.Context(), tok)
		if err != nil {
			t.Fatal(err)
		}
		var app struct {
			Roles []string `json:"roles"`
			JTI   string   `json:"jti"`
		}
		if err := c.Decode(&app); err != nil || app.Roles != nil || app.JTI != c.ID || len(app.JTI) != 32 {
			t.Errorf("Decode = %+v, %v; want no roles and the jti", app, err)
		}
	})
}
