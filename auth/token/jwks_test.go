package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"math/big"
	"strings"
	"testing"
)

// jwk is one JWK of a test document.
type jwk map[string]any

// with returns a copy of j with member name set to v, or removed if v is
// nil.
func (j jwk) with(name string, v any) jwk {
	c := maps.Clone(j)
	if v == nil {
		delete(c, name)
	} else {
		c[name] = v
	}
	return c
}

// jwksDoc is the JWK Set document of keys.
func jwksDoc(t testing.TB, keys ...jwk) []byte {
	t.Helper()
	if keys == nil {
		keys = []jwk{}
	}
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// testJWKs are public JWKs of an Ed25519, a P-256 and an RSA key, written
// here rather than by KeySet.JWKS, with the private keys.
type testJWKs struct {
	ed, ec, rsa          jwk
	edPriv               ed25519.PrivateKey
	ecPriv               *ecdsa.PrivateKey
	ecX, ecY, rsaN, rsaE string
}

func newTestJWKs(t testing.TB) testJWKs {
	j := testJWKs{edPriv: testEdKey(20), ecPriv: testECKey(t, 20)}
	rk := testRSAKey(t, 0)
	j.ecX, j.ecY = ecXY(t, &j.ecPriv.PublicKey)
	j.rsaN, j.rsaE = rawURL(rk.N.Bytes()), rawURL(big.NewInt(int64(rk.E)).Bytes())
	j.ed = jwk{"kty": "OKP", "crv": "Ed25519", "x": rawURL(j.edPriv[32:]), "kid": "ed", "alg": "EdDSA", "use": "sig"}
	j.ec = jwk{"kty": "EC", "crv": "P-256", "x": j.ecX, "y": j.ecY, "kid": "ec"}
	j.rsa = jwk{"kty": "RSA", "n": j.rsaN, "e": j.rsaE, "kid": "rsa", "alg": "RS256"}
	return j
}

// TestParseJWKSRoundTrip: the keys ParseJWKS reads from a KeySet's JWKS
// are the public halves of the set's asymmetric keys, under the same IDs,
// and verify the tokens the originals sign.
func TestParseJWKSRoundTrip(t *testing.T) {
	ed, ec, rk := testEdKey(21), testECKey(t, 21), testRSAKey(t, 1)
	originals := []*Key{mustKey(t, "ed", ed), mustKey(t, "", ec), mustKey(t, "rsa", rk)}
	ks := mustKeySet(t, append(originals, mustKey(t, "", testSecret))...)
	s, clk := tokenService(t, serviceConfig{Keys: ks})

	keys, err := ParseJWKS(ks.JWKS())
	if err != nil {
		t.Fatalf("ParseJWKS: %v\n%s", err, ks.JWKS())
	}
	if len(keys) != len(originals) {
		t.Fatalf("ParseJWKS returned %d keys, want %d", len(keys), len(originals))
	}
	for i, k := range keys {
		o := originals[i]
		if k.ID() != o.ID() || k.Algorithm() != o.Algorithm() || k.Thumbprint() != o.Thumbprint() || k.CanSign() {
			t.Errorf("key %d = %q %s %s CanSign %v; want %q %s %s false", i, k.ID(), k.Algorithm(), k.Thumbprint(), k.CanSign(),
				o.ID(), o.Algorithm(), o.Thumbprint())
		}
		if !o.Public().(equalKey).Equal(k.Public()) {
			t.Errorf("key %d: public key differs from the original's", i)
		}
	}
	set := mustKeySet(t, keys...)
	if !bytes.Equal(set.JWKS(), ks.JWKS()) {
		t.Errorf("JWKS of the parsed keys differs:\n got %s\nwant %s", set.JWKS(), ks.JWKS())
	}
	v, err := NewVerifier(set, Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range originals {
		t.Run(o.Algorithm(), func(t *testing.T) {
			if err := ks.Promote(o.ID()); err != nil {
				t.Fatal(err)
			}
			tok := issue(t, s, o.ID())
			if c, err := v.VerifyToken(t.Context(), tok); err != nil || c.UserID != "u1" {
				t.Errorf("VerifyToken(token signed by the original) = %+v, %v", c, err)
			}
		})
	}
}

func TestParseJWKSAccepts(t *testing.T) {
	j := newTestJWKs(t)
	// 32 bytes whose base64 holds '+' and '/' in the standard alphabet.
	odd := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:32]
	tests := []struct {
		name string
		doc  []byte
		ids  []string
	}{
		{"three keys", jwksDoc(t, j.ed, j.ec, j.rsa), []string{"ed", "ec", "rsa"}},
		{"no alg, no use", jwksDoc(t, j.ed.with("alg", nil).with("use", nil)), []string{"ed"}},
		{"unknown members", jwksDoc(t, j.ec.with("key_ops", []string{"verify"}).with("x5t", "abc").with("ext", true)), []string{"ec"}},
		{"x with '-' and '_'", jwksDoc(t, j.ed.with("x", rawURL(odd))), []string{"ed"}},
		{"whitespace around", append(append([]byte(" \n\t"), jwksDoc(t, j.ed)...), " \r\n"...), []string{"ed"}},
		{"other top-level members", []byte(`{"keys":[` + string(mustJSON(t, j.ed)) + `],"issuer":"x"}`), []string{"ed"}},
		{"RFC 7517 A.1 RSA key", jwksDoc(t, jwk{"kty": "RSA", "n": rfc7638N, "e": rfc7638E, "alg": "RS256", "kid": "2011-04-29"}), []string{"2011-04-29"}},
		{"exactly 1 MiB", padTo(jwksDoc(t, j.ed), 1<<20), []string{"ed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseJWKS(tt.doc)
			if err != nil {
				t.Fatalf("ParseJWKS: %v", err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID())
				if k.CanSign() {
					t.Errorf("key %q can sign", k.ID())
				}
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("IDs = %q, want %q", ids, tt.ids)
			}
		})
	}
	keys, err := ParseJWKS(jwksDoc(t, jwk{"kty": "RSA", "n": rfc7638N, "e": rfc7638E, "kid": "2011-04-29"}))
	if err != nil || keys[0].Thumbprint() != rfc7638Thumbprint || keys[0].Algorithm() != "RS256" {
		t.Errorf("RFC 7638 key: %v, %v", keys, err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// padTo appends spaces to doc up to n bytes.
func padTo(doc []byte, n int) []byte {
	return append(doc, bytes.Repeat([]byte(" "), n-len(doc))...)
}

// TestParseJWKSSkips: keys of a type, curve, use or algorithm this package
// does not verify with are skipped, not errors, as long as another key is
// usable; alone, they leave no key, which is an error.
func TestParseJWKSSkips(t *testing.T) {
	j := newTestJWKs(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw384, err := p384.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  jwk
	}{
		{"use enc (RSA)", j.rsa.with("kid", "enc").with("use", "enc").with("alg", nil)},
		{"use enc (EC)", j.ec.with("kid", "enc").with("use", "enc")},
		{"use unknown", j.ec.with("kid", "u").with("use", "tls")},
		{"RSA with alg PS256", j.rsa.with("kid", "ps").with("alg", "PS256")},
		{"RSA with alg RS512", j.rsa.with("kid", "rs512").with("alg", "RS512")},
		{"RSA with alg RSA-OAEP", j.rsa.with("kid", "oaep").with("alg", "RSA-OAEP")},
		{"P-256 with alg ES384", j.ec.with("kid", "es384").with("alg", "ES384")},
		{"curve P-384", jwk{"kty": "EC", "crv": "P-384", "x": rawURL(raw384[1:49]), "y": rawURL(raw384[49:]), "kid": "p384"}},
		{"curve P-384, alg ES384", jwk{"kty": "EC", "crv": "P-384", "x": rawURL(raw384[1:49]), "y": rawURL(raw384[49:]), "kid": "p384", "alg": "ES384"}},
		{"curve P-521, malformed", jwk{"kty": "EC", "crv": "P-521", "x": "!", "kid": "p521"}},
		{"curve secp256k1", j.ec.with("kid", "k1").with("crv", "secp256k1")},
		{"OKP Ed448", j.ed.with("kid", "ed448").with("crv", "Ed448").with("alg", nil)},
		{"OKP X25519", j.ed.with("kid", "x25519").with("crv", "X25519").with("alg", nil)},
		{"unknown kty", jwk{"kty": "PQC", "kid": "pq", "pub": "AAAA"}},
		{"no kty", jwk{"kid": "none", "x": "AAAA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseJWKS(jwksDoc(t, tt.key, j.ed))
			if err != nil || len(keys) != 1 || keys[0].ID() != "ed" {
				t.Errorf("ParseJWKS(skipped key, ed) = %v, %v; want the ed key only", keys, err)
			}
			keys, err = ParseJWKS(jwksDoc(t, tt.key))
			if keys != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("ParseJWKS(skipped key alone) = %v, %v; want nil, ErrInvalidConfig", keys, err)
			}
		})
	}
}

func TestParseJWKSRejects(t *testing.T) {
	j := newTestJWKs(t)
	rk := testRSAKey(t, 0)
	weak := testRSAKey(t, 2)
	edPub := j.edPriv[32:]
	ecD, err := j.ecPriv.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	odd := bytes.Repeat([]byte{0xfb, 0xff, 0xbf}, 11)[:32]
	ecRaw, _ := base64.RawURLEncoding.DecodeString(j.ecY)
	offCurveY := bytes.Clone(ecRaw)
	offCurveY[31] ^= 1
	nRaw := rk.N.Bytes()
	valid := string(jwksDoc(t, j.ed))

	tests := []struct {
		name string
		doc  []byte
	}{
		{"d on an OKP key", jwksDoc(t, j.ed.with("d", rawURL(j.edPriv.Seed())))},
		{"d on an EC key", jwksDoc(t, j.ec.with("d", rawURL(ecD)))},
		{"d on an RSA key", jwksDoc(t, j.rsa.with("d", rawURL(rk.D.Bytes())))},
		{"p on an RSA key", jwksDoc(t, j.rsa.with("p", rawURL(rk.Primes[0].Bytes())))},
		{"qi on an RSA key", jwksDoc(t, j.rsa.with("qi", "AQAB"))},
		{"d on a key for encryption", jwksDoc(t, j.ec.with("use", "enc").with("d", rawURL(ecD)))},
		{"d on a P-384 key", jwksDoc(t, j.ec.with("crv", "P-384").with("d", "AAAA"))},
		{"d as null", jwksDoc(t, j.ed.with("d", json.RawMessage("null")))},
		{"d among good keys", jwksDoc(t, j.ec, j.rsa, j.ed.with("d", rawURL(j.edPriv.Seed())))},
		{"oct key", jwksDoc(t, jwk{"kty": "oct", "kid": "hs", "k": rawURL(testSecret), "alg": "HS256"}, j.ed)},
		{"oct key without k", jwksDoc(t, jwk{"kty": "oct", "kid": "hs", "alg": "HS256"}, j.ed)},
		{"oct key for encryption", jwksDoc(t, jwk{"kty": "oct", "kid": "hs", "use": "enc"}, j.ed)},

		{"no kid", jwksDoc(t, j.ed.with("kid", nil))},
		{"no kid, next to a good key", jwksDoc(t, j.ec, j.ed.with("kid", nil))},
		{"empty kid", jwksDoc(t, j.ed.with("kid", ""))},
		{"kid a number", jwksDoc(t, j.ed.with("kid", 7))},
		{"use an array", jwksDoc(t, j.ed.with("use", []string{"enc"}))},
		{"alg a number", jwksDoc(t, j.ed.with("alg", 5))},
		{"x with a line break", jwksDoc(t, j.ed.with("x", j.ed["x"].(string)[:20]+"\n"+j.ed["x"].(string)[20:]))},
		{"kid with a space", jwksDoc(t, j.ed.with("kid", "my key"))},
		{"kid of 129 bytes", jwksDoc(t, j.ed.with("kid", strings.Repeat("k", 129)))},
		{"duplicate kids", jwksDoc(t, j.ed, j.ec.with("kid", "ed"))},
		{"the same key twice", jwksDoc(t, j.rsa, j.rsa)},

		{"x padded", jwksDoc(t, j.ed.with("x", base64.URLEncoding.EncodeToString(edPub)))},
		{"x in the standard alphabet", jwksDoc(t, j.ed.with("x", base64.RawStdEncoding.EncodeToString(odd)))},
		{"x padded, standard alphabet", jwksDoc(t, j.ed.with("x", base64.StdEncoding.EncodeToString(odd)))},
		{"x with trailing bits set", jwksDoc(t, j.ed.with("x", flipPadBit(t, rawURL(edPub))))},
		{"EC y padded", jwksDoc(t, j.ec.with("y", base64.URLEncoding.EncodeToString(ecRaw)))},
		{"RSA n padded", jwksDoc(t, j.rsa.with("n", base64.URLEncoding.EncodeToString(nRaw)))},
		{"RSA n in the standard alphabet", jwksDoc(t, j.rsa.with("n", base64.RawStdEncoding.EncodeToString(append([]byte{0xfb, 0xff}, nRaw...))))},
		{"x not base64", jwksDoc(t, j.ed.with("x", "not base64!"))},
		{"x empty", jwksDoc(t, j.ed.with("x", ""))},
		{"x missing", jwksDoc(t, j.ed.with("x", nil))},
		{"x a number", jwksDoc(t, j.ed.with("x", 5))},

		{"OKP x of 31 bytes", jwksDoc(t, j.ed.with("x", rawURL(edPub[:31])))},
		{"OKP x of 33 bytes", jwksDoc(t, j.ed.with("x", rawURL(append([]byte{0}, edPub...))))},
		{"EC x of 31 bytes", jwksDoc(t, j.ec.with("x", rawURL(ecRaw[:31])))},
		{"EC y of 33 bytes", jwksDoc(t, j.ec.with("y", rawURL(append([]byte{0}, ecRaw...))))},
		{"EC y missing", jwksDoc(t, j.ec.with("y", nil))},
		{"EC point not on the curve", jwksDoc(t, j.ec.with("y", rawURL(offCurveY)))},
		{"EC point of zeros", jwksDoc(t, j.ec.with("x", rawURL(make([]byte, 32))).with("y", rawURL(make([]byte, 32))))},
		{"EC coordinate above the field", jwksDoc(t, j.ec.with("x", rawURL(bytes.Repeat([]byte{0xff}, 32))))},

		{"RSA of 1024 bits", jwksDoc(t, j.rsa.with("n", rawURL(weak.N.Bytes())))},
		{"RSA of 2047 bits", jwksDoc(t, j.rsa.with("n", rawURL(new(big.Int).Rsh(rk.N, 1).Bytes())))},
		{"RSA n missing", jwksDoc(t, j.rsa.with("n", nil))},
		{"RSA e missing", jwksDoc(t, j.rsa.with("e", nil))},
		{"RSA e of 1", jwksDoc(t, j.rsa.with("e", "AQ"))},
		{"RSA e even", jwksDoc(t, j.rsa.with("e", "AQAA"))},
		{"RSA e zero", jwksDoc(t, j.rsa.with("e", "AA"))},
		{"RSA e of 5 bytes", jwksDoc(t, j.rsa.with("e", rawURL([]byte{1, 0, 0, 0, 1})))},

		{"RSA key with alg HS256", jwksDoc(t, j.rsa.with("alg", "HS256"))},
		{"OKP key with alg ES256", jwksDoc(t, j.ed.with("alg", "ES256"))},
		{"EC key with alg EdDSA", jwksDoc(t, j.ec.with("alg", "EdDSA"))},
		{"EC key with alg RS256", jwksDoc(t, j.ec.with("alg", "RS256"))},
		{"OKP key with alg HS256", jwksDoc(t, j.ed.with("alg", "HS256"))},
		{"contradicting alg next to a good key", jwksDoc(t, j.ec, j.rsa.with("alg", "ES256"))},

		{"trailing garbage", []byte(valid + "x")},
		{"trailing object", []byte(valid + `{}`)},
		{"a second document", []byte(valid + valid)},
		{"trailing brace", []byte(valid + "}")},
		{"trailing bracket", []byte(valid + "]")},
		{"trailing comma", []byte(valid + ",")},
		{"trailing null", []byte(valid + " null")},

		{"empty key list", []byte(`{"keys":[]}`)},
		{"keys null", []byte(`{"keys":null}`)},
		{"no keys member", []byte(`{}`)},
		{"null", []byte(`null`)},
		{"empty document", nil},
		{"blank document", []byte(" \n")},
		{"not JSON", []byte("keys: []")},
		{"truncated", []byte(valid[:len(valid)-3])},
		{"an array", []byte(`[` + string(mustJSON(t, j.ed)) + `]`)},
		{"keys an object", []byte(`{"keys":` + string(mustJSON(t, j.ed)) + `}`)},
		{"a key a string", []byte(`{"keys":["ed"]}`)},
		{"a key a number", []byte(`{"keys":[5,` + string(mustJSON(t, j.ed)) + `]}`)},
		{"over 1 MiB", padTo(jwksDoc(t, j.ed), 1<<20+1)},
		{"several MiB", padTo(jwksDoc(t, j.ed), 4<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseJWKS(tt.doc)
			if keys != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("ParseJWKS = %d keys, %v; want nil, ErrInvalidConfig\n%.300s", len(keys), err, tt.doc)
			}
			for _, secret := range []string{rawURL(j.edPriv.Seed()), rawURL(ecD), rawURL(rk.D.Bytes()), rawURL(testSecret)} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes a private key", err)
				}
			}
		})
	}
}
