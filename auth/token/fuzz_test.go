package token

import (
	"context"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/tokentest"
)

// FuzzVerifyToken: VerifyToken never panics, every failure wraps
// ErrInvalid, and no string verifies except the tokens the service
// signed itself, byte for byte: a mutation of a valid token (padding,
// stray bits, other algorithms, edited claims) must not verify.
func FuzzVerifyToken(f *testing.F) {
	s, _ := tokenService(f, serviceConfig{}) // jti are a counter: the seeds are stable
	valid := map[string]bool{}
	for _, u := range []User{
		{ID: "0123456789abcdef0123456789abcdef", Name: "Alice", Email: "alice@example.com"},
		{ID: "u", Name: "", Email: ""},
	} {
		tok, _, err := s.IssueToken(context.Background(), u)
		if err != nil {
			f.Fatal(err)
		}
		valid[tok] = true
		f.Add(tok)
	}
	seed := handToken(contractHeader, contractPayload)
	valid[seed] = true
	for _, tok := range []string{
		seed,
		"",
		".",
		"..",
		"a.b.c",
		seg(`{"alg":"none","typ":"JWT"}`) + "." + seg(contractPayload) + ".",
		tokentest.SignSegments(sha512.New384, testSecret, seg(`{"alg":"HS384","typ":"JWT"}`), seg(contractPayload)),
		handToken(`{"alg":"RS256","typ":"JWT"}`, contractPayload),
		handToken(contractHeader, `{"userId":"x","exp":1594970681,"nbf":1594970000}`),
		handToken(contractHeader, `{"userId":"x","sub":"y","exp":1594970681}`),
		handToken(contractHeader, `{"exp":1594970681}`),
		handToken(contractHeader, `{"userId":"x"}`),
		seed + "=",
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.VerifyToken(context.Background(), tok)
		if err != nil {
			if c != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("VerifyToken(%q) = %+v, %v; want nil, ErrInvalid", tok, c, err)
			}
			return
		}
		if !valid[tok] {
			t.Fatalf("VerifyToken accepted %q, which the service never signed", tok)
		}
		if c == nil || c.UserID == "" {
			t.Fatalf("VerifyToken(%q) = %+v, nil", tok, c)
		}
	})
}

// FuzzParseJWKS: ParseJWKS never panics; it either fails with an error
// wrapping ErrInvalidConfig and no keys, or the document was one JSON
// value and it returns verify-only EdDSA, ES256 or RS256 keys with
// unique, valid IDs, which a KeySet takes and whose JWKS reads back as
// the same keys.
func FuzzParseJWKS(f *testing.F) {
	ed := mustKey(f, "ed", testEdKey(1).Public())
	ec := mustKey(f, "", &testECKey(f, 1).PublicKey)
	rsa := mustKey(f, "2011-04-29", rfc7638Key(f))
	f.Add(mustKeySet(f, ed, ec, rsa).JWKS())
	f.Add(mustKeySet(f, ed).JWKS())
	const x = `"x":"` + rfc8037X + `"`
	for _, s := range []string{
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `}]}` + " \n",
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `,"alg":"EdDSA","use":"sig"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `,"d":"` + rfc8037D + `"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a","x":"` + rfc8037X + `="}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519",` + x + `}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `,"alg":"ES256"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `},{"kty":"OKP","crv":"Ed25519","kid":"a",` + x + `}]}`,
		`{"keys":[{"kty":"RSA","kid":"r","n":"` + rfc7638N + `","e":"AQAB","alg":"HS256"}]}`,
		`{"keys":[{"kty":"RSA","kid":"r","n":"` + rfc7638N + `","e":"AQAB","alg":"PS256"}]}`,
		`{"keys":[{"kty":"RSA","kid":"r","n":"` + rfc7638N + `","e":"AQAB","use":"enc"}]}`,
		`{"keys":[{"kty":"RSA","kid":"r","n":"` + rfc7638N[:170] + `","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-384","kid":"p","x":"AAAA","y":"AAAA"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","kid":"p","x":"` + rfc8037X + `","y":"` + rfc8037X + `"}]}`,
		`{"keys":[{"kty":"oct","kid":"h","k":"AAAA"}]}`,
		`{"keys":[]}`,
		`{"keys":null}`,
		`{}`,
		`null`,
		``,
		`[{}]`,
		`{"keys":[1]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		keys, err := ParseJWKS(doc)
		if err != nil {
			if keys != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("ParseJWKS = %d keys, %v; want nil, an error wrapping ErrInvalidConfig", len(keys), err)
			}
			return
		}
		if !json.Valid(doc) {
			t.Fatalf("ParseJWKS accepted a document that is not one JSON value: %q", doc)
		}
		if len(keys) == 0 {
			t.Fatalf("ParseJWKS returned no keys and no error")
		}
		ids := make(map[string]bool)
		for _, k := range keys {
			if k == nil || k.CanSign() || k.Public() == nil || k.Thumbprint() == "" {
				t.Fatalf("ParseJWKS returned %+v: want a public key only, with a thumbprint", k)
			}
			if checkKeyID(k.ID()) != nil || k.ID() == "" || ids[k.ID()] {
				t.Fatalf("ParseJWKS returned a key with ID %q: empty, invalid or repeated", k.ID())
			}
			ids[k.ID()] = true
			if alg := k.Algorithm(); alg != "EdDSA" && alg != "ES256" && alg != "RS256" {
				t.Fatalf("ParseJWKS returned a key for %s", alg)
			}
		}
		set, err := NewKeySet(keys...)
		if err != nil {
			t.Fatalf("NewKeySet(ParseJWKS keys): %v", err)
		}
		again, err := ParseJWKS(set.JWKS())
		if err != nil || len(again) != len(keys) {
			t.Fatalf("ParseJWKS(KeySet.JWKS()) = %d keys, %v; want %d", len(again), err, len(keys))
		}
		for i, k := range again {
			if k.ID() != keys[i].ID() || k.Algorithm() != keys[i].Algorithm() || k.Thumbprint() != keys[i].Thumbprint() {
				t.Fatalf("key %d does not survive KeySet.JWKS: %q %s %s, then %q %s %s", i,
					keys[i].ID(), keys[i].Algorithm(), keys[i].Thumbprint(), k.ID(), k.Algorithm(), k.Thumbprint())
			}
		}
	})
}

// FuzzVerifySigned: for any header and payload, signed with one of two
// HS256 keys (kid "" and "k"), rightly or with a bit flipped, by a
// Verifier with its issuer and audience configured or not, VerifyToken
// never panics, and a token it accepts (or calls expired) satisfies every
// rule (see checkRules): the fuzzer's inputs reach past the signature.
func FuzzVerifySigned(f *testing.F) {
	vs := rulesVerifiers(f)
	now := jwsNow.Unix()
	for _, s := range []struct {
		header, payload string
		key, flags      uint8
	}{
		{contractHeader, contractPayload, 0, 0},
		{contractHeader, contractPayload, 0, 1},
		{contractHeader, contractPayload, 1, 0},
		{`{"alg":"HS256","kid":"k","typ":"JWT"}`, contractPayload, 1, 0},
		{`{"alg":"HS256","kid":"k"}`, contractPayload, 0, 0},
		{`{"alg":"HS256","kid":""}`, contractPayload, 0, 0},
		{`{"alg":"HS256","kid":null}`, contractPayload, 0, 0},
		{`{"alg":"HS256","kid":5,"kid":"k"}`, contractPayload, 1, 0},
		{`{"alg":"HS256","crit":null}`, contractPayload, 0, 0},
		{`{"alg":"HS256","CRIT":["b64"],"KID":"k","ALG":"none"}`, contractPayload, 0, 0},
		{`{"alg":"none","alg":"HS256"}`, contractPayload, 0, 0},
		{`{"\u0061lg":"HS\u0032\u0035\u0036","k\u0069d":"\u006b"}`, contractPayload, 1, 0},
		{`{"x":{"alg":"none"},"y":["}","\"alg\""],"alg":"HS256"}`, contractPayload, 0, 0},
		{`{"alg":"HS384"}`, contractPayload, 0, 0},
		{`{"alg":"none"}`, contractPayload, 0, 0},
		{`"HS256"`, contractPayload, 0, 0},
		{`{"alg":"HS256"} `, contractPayload + ` {}`, 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":"%d"}`, now+60), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d.75,"nbf":%d.5,"iat":-1.5}`, now, now), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","EXP":%d,"exp":null,"Exp":1e300}`, now+60), 0, 0},
		{contractHeader, `{"userId":"u1","exp":9223372036854775808}`, 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":1e19,"iat":-1e300}`, now+60), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":253402300799,"iat":253402300800}`, now+60), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","UserId":"u2","\u0073ub":"u1","\u017fub":"u2","exp":%d}`, now+60), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"role":"user","ROLE":"admin","\u212aid":1,"kid":2}`, now+60), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","sub":"u1","jti":"j","gen":2,"exp":%d,"iss":"%s","aud":["web","%s"]}`, now+60, jwsIssuer, jwsAudience), 0, 6},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"iss":"%s","aud":"%s"}`, now+60, jwsIssuer, jwsAudience), 0, 6},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"iss":"%s","aud":[1]}`, now+60, jwsIssuer), 0, 2},
		{contractHeader, `{"userId":"u1","exp":1,"nbf":9e9,"iss":"x"}`, 0, 2},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d.1}`, now), 0, 0},
		{contractHeader, fmt.Sprintf(`{"userId":"u1","exp":%d.1,"nbf":%d.9}`, now+1, now), 0, 0},
	} {
		f.Add(s.header, s.payload, s.key, s.flags)
	}
	f.Fuzz(func(t *testing.T, header, payload string, key, flags uint8) {
		checkRules(t, vs, header, payload, key, flags)
	})
}
