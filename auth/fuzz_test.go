package auth

import (
	"context"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzNormalizeEmail: NormalizeEmail never panics, rejects with a
// *FieldError for "email", and what it accepts is a fixed point: valid
// UTF-8, NFKC, lower case, one "@", no white space, control or invisible
// characters, at most 254 bytes, its domain in U-labels that IDNA leaves
// as they are, and the same address when the domain is typed in A-labels.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"alice@example.com",
		"  Alice@Example.COM \r\n",
		"\uff41\uff4c\uff49\uff43\uff45\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
		"E\u0301lodie@exemple.fr",
		"\u212aelvin@example.com",
		"\u0130stanbul@\u00f6rnek.com.tr",
		"\u03a3\u0399\u03a3@\u03b5\u03bb.gr",
		"\u1e9e@example.de",
		"Bob <b@x.com>",
		"a@b@x.com",
		"a\uff20b@x.com",
		"a@localhost",
		"a\x00@x.com",
		"a\xff@x.com",
		"a\u200b@x.com",
		strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com",
		"\u3300@\u3300.jp",
		"admin1\ufe0f@user.com",
		"admin1\u034f@user.com",
		"admin1\u3164@user.com",
		"admin1\u2800@user.com",
		"admin1@xn--usr-cma.com",
		"Admin1@US\u00c9R.com",
		"a@xn--fsqu00a.xn--4rr70v",
		"a@stra\u00dfe.de",
		"a@xn--abc.com",
		"a@\u05d0a.com",
		"a@\uab70.com",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeEmail(in)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "email" || !errors.Is(err, ErrInvalidField) {
				t.Fatalf("NormalizeEmail(%q) = %v, want a *FieldError for email", in, err)
			}
			if out != "" {
				t.Fatalf("NormalizeEmail(%q) = %q with an error", in, out)
			}
			return
		}
		again, err := NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("not idempotent: NormalizeEmail(%q) = %q, then %q, %v", in, out, again, err)
		}
		if !utf8.ValidString(out) || len(out) > 254 || len(out) == 0 {
			t.Fatalf("NormalizeEmail(%q) = %q: invalid UTF-8 or bad length %d", in, out, len(out))
		}
		if strings.Count(out, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q: want exactly one @", in, out)
		}
		if local, _, _ := strings.Cut(out, "@"); len(local) > 64 || local == "" {
			t.Fatalf("NormalizeEmail(%q) = %q: local part of %d bytes", in, out, len(local))
		}
		if !norm.NFKC.IsNormalString(out) {
			t.Fatalf("NormalizeEmail(%q) = %q: not NFKC", in, out)
		}
		if strings.ToLower(out) != out {
			t.Fatalf("NormalizeEmail(%q) = %q: not lower case", in, out)
		}
		for _, r := range out {
			if unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r) || r == utf8.RuneError || invisible(r) {
				t.Fatalf("NormalizeEmail(%q) = %q: contains %U", in, out, r)
			}
		}
		local, domain, _ := strings.Cut(out, "@")
		if u, err := emailDomain.ToUnicode(domain); err != nil || u != domain {
			t.Fatalf("NormalizeEmail(%q) = %q: IDNA maps the domain to %q, %v", in, out, u, err)
		}
		a, err := emailDomain.ToASCII(domain)
		if err != nil {
			t.Fatalf("NormalizeEmail(%q) = %q: no A-label form: %v", in, out, err)
		}
		if got, err := NormalizeEmail(local + "@" + a); err != nil || got != out {
			t.Fatalf("NormalizeEmail(%q) = %q, but with the domain in A-labels, %q, %v", in, out, got, err)
		}
	})
}

// FuzzVerifyToken: VerifyToken never panics, every failure wraps
// ErrInvalidToken, and no string verifies except the tokens the Service
// signed itself, byte for byte: a mutation of a valid token (padding,
// stray bits, other algorithms, edited claims) must not verify.
func FuzzVerifyToken(f *testing.F) {
	now := time.Unix(seedIat+10, 0)
	s, err := New(newFakeStore(), Config{
		Secret: testSecret,
		Now:    func() time.Time { return now },
		Rand:   newASCIIRand(7), // deterministic jti, so that the seeds are stable
	})
	if err != nil {
		f.Fatal(err)
	}
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
	seed := handToken(seedHeader, seedPayload)
	valid[seed] = true
	for _, tok := range []string{
		seed,
		"",
		".",
		"..",
		"a.b.c",
		seg(`{"alg":"none","typ":"JWT"}`) + "." + seg(seedPayload) + ".",
		signSegments(sha512.New384, testSecret, seg(`{"alg":"HS384","typ":"JWT"}`), seg(seedPayload)),
		handToken(`{"alg":"RS256","typ":"JWT"}`, seedPayload),
		handToken(seedHeader, `{"userId":"x","exp":1594970681,"nbf":1594970000}`),
		handToken(seedHeader, `{"userId":"x","sub":"y","exp":1594970681}`),
		handToken(seedHeader, `{"exp":1594970681}`),
		handToken(seedHeader, `{"userId":"x"}`),
		seed + "=",
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.VerifyToken(context.Background(), tok)
		if err != nil {
			if c != nil || !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("VerifyToken(%q) = %+v, %v; want nil, ErrInvalidToken", tok, c, err)
			}
			return
		}
		if !valid[tok] {
			t.Fatalf("VerifyToken accepted %q, which the Service never signed", tok)
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

// FuzzVerifyMatchesGolangJWT: the Verifier's own JWS parser agrees with
// golang-jwt's Parser as the Verifier configured it before. For any header
// and payload, signed with one of two HS256 keys (kid "" and "k"), rightly
// or with a bit flipped, with the Verifier's issuer and audience
// configured or not, jwsOracle.check compares the two: whatever the
// Verifier accepts, golang-jwt accepts, with the same claims; whatever
// golang-jwt accepts, the Verifier accepts too if the header and payload
// are each one JSON object and the payload is read alike by readers that
// match names exactly (no claim of Claims in another case, no two names
// differing only in case) with dates that are numbers from 0 to the year
// 9999 (see readAlike); and both call the same tokens expired.
func FuzzVerifyMatchesGolangJWT(f *testing.F) {
	o := newJWSOracle(f)
	now := jwsNow.Unix()
	for _, s := range []struct {
		header, payload string
		key, flags      uint8
	}{
		{seedHeader, seedPayload, 0, 0},
		{seedHeader, seedPayload, 0, 1},
		{seedHeader, seedPayload, 1, 0},
		{`{"alg":"HS256","kid":"k","typ":"JWT"}`, seedPayload, 1, 0},
		{`{"alg":"HS256","kid":"k"}`, seedPayload, 0, 0},
		{`{"alg":"HS256","kid":""}`, seedPayload, 0, 0},
		{`{"alg":"HS256","kid":null}`, seedPayload, 0, 0},
		{`{"alg":"HS256","kid":5,"kid":"k"}`, seedPayload, 1, 0},
		{`{"alg":"HS256","crit":null}`, seedPayload, 0, 0},
		{`{"alg":"HS256","CRIT":["b64"],"KID":"k","ALG":"none"}`, seedPayload, 0, 0},
		{`{"alg":"none","alg":"HS256"}`, seedPayload, 0, 0},
		{`{"\u0061lg":"HS\u0032\u0035\u0036","k\u0069d":"\u006b"}`, seedPayload, 1, 0},
		{`{"x":{"alg":"none"},"y":["}","\"alg\""],"alg":"HS256"}`, seedPayload, 0, 0},
		{`{"alg":"HS384"}`, seedPayload, 0, 0},
		{`{"alg":"none"}`, seedPayload, 0, 0},
		{`"HS256"`, seedPayload, 0, 0},
		{`{"alg":"HS256"} `, seedPayload + ` {}`, 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":"%d"}`, now+60), 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d.75,"nbf":%d.5,"iat":-1.5}`, now, now), 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","EXP":%d,"exp":null,"Exp":1e300}`, now+60), 0, 0},
		{seedHeader, `{"userId":"u1","exp":9223372036854775808}`, 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":1e19,"iat":-1e300}`, now+60), 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"nbf":253402300799,"iat":253402300800}`, now+60), 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","UserId":"u2","\u0073ub":"u1","\u017fub":"u2","exp":%d}`, now+60), 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"role":"user","ROLE":"admin","\u212aid":1,"kid":2}`, now+60), 0, 0},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","sub":"u1","jti":"j","exp":%d,"iss":"%s","aud":["web","%s"]}`, now+60, jwsIssuer, jwsAudience), 0, 6},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"iss":"%s","aud":"%s"}`, now+60, jwsIssuer, jwsAudience), 0, 6},
		{seedHeader, fmt.Sprintf(`{"userId":"u1","exp":%d,"iss":"%s","aud":[1]}`, now+60, jwsIssuer), 0, 2},
		{seedHeader, `{"userId":"u1","exp":1,"nbf":9e9,"iss":"x"}`, 0, 2},
	} {
		f.Add(s.header, s.payload, s.key, s.flags)
	}
	f.Fuzz(func(t *testing.T, header, payload string, key, flags uint8) {
		o.check(t, header, payload, key, flags)
	})
}
