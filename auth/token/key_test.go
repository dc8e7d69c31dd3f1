package token

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
)

// Keys for the tests of Key, KeySet, ParseJWKS and Verifier. The Ed25519
// and P-256 keys are derived from fixed seeds; RSA keys are generated once
// per test binary, RSA key generation being slow.

// testEdKey is the Ed25519 private key whose seed is 32 copies of b.
func testEdKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// testECKey is the P-256 private key whose scalar is SHA-256 of b.
func testECKey(t testing.TB, b byte) *ecdsa.PrivateKey {
	t.Helper()
	d := sha256.Sum256([]byte{b})
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		t.Fatalf("P-256 key %d: %v", b, err)
	}
	return k
}

// testRSAKeys are two 2048-bit keys and one 1024-bit key (too weak for
// NewKey), generated on first use.
var testRSAKeys = sync.OnceValues(func() ([3]*rsa.PrivateKey, error) {
	var keys [3]*rsa.PrivateKey
	for i, bits := range []int{2048, 2048, 1024} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			return keys, err
		}
		keys[i] = k
	}
	return keys, nil
})

// testRSAKey returns the i-th RSA key of testRSAKeys: 0 and 1 are 2048
// bits, 2 is 1024.
func testRSAKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keys, err := testRSAKeys()
	if err != nil {
		t.Fatalf("generating RSA keys: %v", err)
	}
	return keys[i]
}

// mustKey is NewKey(id, material), failing the test on error.
func mustKey(t testing.TB, id string, material any) *Key {
	t.Helper()
	k, err := NewKey(id, material)
	if err != nil {
		t.Fatalf("NewKey(%q, %T): %v", id, material, err)
	}
	return k
}

// rawURL is unpadded base64url, as JWKs and JWSs write binary values.
func rawURL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// sha256b64 is the base64url SHA-256 of s: the RFC 7638 thumbprint of a
// JWK whose canonical JSON is s.
func sha256b64(s string) string {
	sum := sha256.Sum256([]byte(s))
	return rawURL(sum[:])
}

// ecXY returns the base64url coordinates of a P-256 public key.
func ecXY(t testing.TB, pub *ecdsa.PublicKey) (x, y string) {
	t.Helper()
	raw, err := pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return rawURL(raw[1:33]), rawURL(raw[33:])
}

// equalKey is what the standard library's public keys implement.
type equalKey interface {
	Equal(crypto.PublicKey) bool
}

// The RFC 7638 section 3.1 example: an RSA public key and its thumbprint.
// (The same key is the RFC 7517 appendix A.1 example.)
const (
	rfc7638N          = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	rfc7638E          = "AQAB"
	rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

// The RFC 8037 appendix A.1 Ed25519 key (d is the seed) and the thumbprint
// appendix A.3 gives for it.
const (
	rfc8037D          = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfc8037X          = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	rfc8037Thumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
)

// rfc7638Key is the RSA public key of the RFC 7638 example.
func rfc7638Key(t testing.TB) *rsa.PublicKey {
	t.Helper()
	n, err := base64.RawURLEncoding.Strict().DecodeString(rfc7638N)
	if err != nil {
		t.Fatal(err)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
}

func TestNewKey(t *testing.T) {
	secret := bytes.Repeat([]byte{0xa5}, 32)
	ed := testEdKey(1)
	ec := testECKey(t, 1)
	rk := testRSAKey(t, 0)
	edPub := ed.Public().(ed25519.PublicKey)
	ecX, ecY := ecXY(t, &ec.PublicKey)
	// The thumbprints, computed here from canonical JSON written by hand.
	edTP := sha256b64(`{"crv":"Ed25519","kty":"OKP","x":"` + rawURL(edPub) + `"}`)
	ecTP := sha256b64(`{"crv":"P-256","kty":"EC","x":"` + ecX + `","y":"` + ecY + `"}`)
	rsaTP := sha256b64(`{"e":"AQAB","kty":"RSA","n":"` + rawURL(rk.N.Bytes()) + `"}`)

	tests := []struct {
		name     string
		id       string
		material any
		alg      string
		canSign  bool
		public   crypto.PublicKey // nil for HMAC
		wantID   string
		wantTP   string
	}{
		{"HMAC, no id", "", secret, "HS256", true, nil, "", ""},
		{"HMAC, id", "hs-1", secret, "HS256", true, nil, "hs-1", ""},
		{"HMAC, 64 bytes", "h", bytes.Repeat([]byte{1}, 64), "HS256", true, nil, "h", ""},
		{"Ed25519 private, no id", "", ed, "EdDSA", true, edPub, edTP, edTP},
		{"Ed25519 private, id", "ed", ed, "EdDSA", true, edPub, "ed", edTP},
		{"Ed25519 public, no id", "", edPub, "EdDSA", false, edPub, edTP, edTP},
		{"ECDSA private, no id", "", ec, "ES256", true, &ec.PublicKey, ecTP, ecTP},
		{"ECDSA public, id", "ec", &ec.PublicKey, "ES256", false, &ec.PublicKey, "ec", ecTP},
		{"ECDSA public, no id", "", &ec.PublicKey, "ES256", false, &ec.PublicKey, ecTP, ecTP},
		{"RSA private, no id", "", rk, "RS256", true, &rk.PublicKey, rsaTP, rsaTP},
		{"RSA public, id", "rsa", &rk.PublicKey, "RS256", false, &rk.PublicKey, "rsa", rsaTP},
		{"id of 128 bytes", strings.Repeat("k", 128), ed, "EdDSA", true, edPub, strings.Repeat("k", 128), edTP},
		{"id of punctuation", `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~`, ed, "EdDSA", true, edPub, `!"#$%&'()*+,-./:;<=>?@[\]^_{|}~`, edTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKey(tt.id, tt.material)
			if err != nil {
				t.Fatalf("NewKey: %v", err)
			}
			if k.Algorithm() != tt.alg || k.CanSign() != tt.canSign {
				t.Errorf("Algorithm, CanSign = %q, %v; want %q, %v", k.Algorithm(), k.CanSign(), tt.alg, tt.canSign)
			}
			if k.ID() != tt.wantID {
				t.Errorf("ID = %q, want %q", k.ID(), tt.wantID)
			}
			if k.Thumbprint() != tt.wantTP {
				t.Errorf("Thumbprint = %q, want %q", k.Thumbprint(), tt.wantTP)
			}
			switch pub := k.Public(); {
			case tt.public == nil && pub != nil:
				t.Errorf("Public = %T, want nil for an HMAC key", pub)
			case tt.public != nil && (pub == nil || !tt.public.(equalKey).Equal(pub)):
				t.Errorf("Public = %#v, want %#v", pub, tt.public)
			}
		})
	}
}

func TestNewKeyRejects(t *testing.T) {
	ed := testEdKey(1)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	weak := testRSAKey(t, 2)
	rk := testRSAKey(t, 0)
	ec := testECKey(t, 1)
	raw, err := ec.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	x, y := new(big.Int).SetBytes(raw[1:33]), new(big.Int).SetBytes(raw[33:])
	//lint:ignore SA1019 X and Y are deprecated, but the only way to make a key off the curve.
	offCurve := &ecdsa.PublicKey{Curve: elliptic.P256(), X: x, Y: y.Add(y, big.NewInt(1))}
	//lint:ignore SA1019 as above.
	origin := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int), Y: new(big.Int)}
	brokenRSA := *rk
	brokenRSA.D = new(big.Int).Add(rk.D, big.NewInt(2))

	tests := []struct {
		name     string
		id       string
		material any
	}{
		{"HMAC of 31 bytes", "", bytes.Repeat([]byte{1}, 31)},
		{"HMAC of 31 bytes with an id", "k", bytes.Repeat([]byte{1}, 31)},
		{"empty HMAC secret", "", []byte{}},
		{"nil HMAC secret", "", []byte(nil)},
		{"secret as a string", "", string(testSecret)},
		{"RSA private key of 1024 bits", "", weak},
		{"RSA public key of 1024 bits", "", &weak.PublicKey},
		{"RSA public key with exponent 1", "", &rsa.PublicKey{N: rk.N, E: 1}},
		{"RSA public key with an even exponent", "", &rsa.PublicKey{N: rk.N, E: 65536}},
		{"RSA private key failing Validate", "", &brokenRSA},
		{"RSA public key by value", "", rk.PublicKey},
		{"nil *rsa.PrivateKey", "", (*rsa.PrivateKey)(nil)},
		{"nil *rsa.PublicKey", "", (*rsa.PublicKey)(nil)},
		{"ECDSA P-384 private key", "", p384},
		{"ECDSA P-384 public key", "", &p384.PublicKey},
		{"ECDSA public key off the curve", "", offCurve},
		{"ECDSA public key at the origin", "", origin},
		{"nil *ecdsa.PublicKey", "", (*ecdsa.PublicKey)(nil)},
		{"nil *ecdsa.PrivateKey", "", (*ecdsa.PrivateKey)(nil)},
		{"Ed25519 private key too short", "", ed[:63]},
		{"Ed25519 public key too short", "", ed25519.PublicKey(ed[32:63])},
		{"Ed25519 seed as the key", "", ed25519.PrivateKey(ed.Seed())},
		{"X25519 (ecdh) key", "", x25519},
		{"nil material", "", nil},
		{"an int", "", 42},
		{"id with a space", "key 1", ed},
		{"id with a tab", "key\t1", ed},
		{"id with DEL", "key\x7f", ed},
		{"id with a NUL", "key\x00", ed},
		{"id not ASCII", "clé", ed},
		{"id of 129 bytes", strings.Repeat("k", 129), ed},
		{"HMAC with an id of 129 bytes", strings.Repeat("k", 129), testSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKey(tt.id, tt.material)
			if k != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("NewKey returned a key: %v, error %v; want nil, error wrapping ErrInvalidConfig", k != nil, err)
			}
			if b, ok := tt.material.([]byte); ok && len(b) > 4 && strings.Contains(err.Error(), string(b)) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

// TestNewKeyCopiesSecret: a caller who clears or reuses its slice after
// NewKey changes nothing of the key.
func TestNewKeyCopiesSecret(t *testing.T) {
	secret := bytes.Clone(testSecret)
	k := mustKey(t, "", secret)
	s, clk := tokenService(t, serviceConfig{Keys: mustKeySet(t, k)})
	payload := validPayload(clk.Now())
	before := jws(contractHeader, payload, signHS256(testSecret))

	for i := range secret {
		secret[i] = 0
	}
	if _, err := s.VerifyToken(t.Context(), before); err != nil {
		t.Errorf("token of the original secret, after the caller cleared its copy: %v", err)
	}
	if _, err := s.VerifyToken(t.Context(), jws(contractHeader, payload, signHS256(secret))); !errors.Is(err, ErrInvalid) {
		t.Errorf("token HMAC'd with the cleared slice: %v, want ErrInvalid", err)
	}
	tok := issue(t, s, "") // an HMAC key with ID "" writes no kid
	if !bytes.Equal(tokenSignature(t, tok), signHS256(testSecret)(signingInput(tok))) {
		t.Errorf("token issued after the caller cleared its slice is not signed with the original secret")
	}
}

// TestNewKeyCopiesEd25519: a Key "is immutable", so an application that
// wipes its copy of a private key once loaded must not change the key.
func TestNewKeyCopiesEd25519(t *testing.T) {
	priv := bytes.Clone(testEdKey(2))
	pub := bytes.Clone(priv[32:])
	signer := mustKey(t, "ed", ed25519.PrivateKey(priv))
	verifier := mustKey(t, "ed", ed25519.PublicKey(pub))
	clear(priv)
	clear(pub)

	s, clk := tokenService(t, serviceConfig{Keys: mustKeySet(t, signer)})
	tok, _, err := s.IssueToken(t.Context(), User{ID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(testEdKey(2).Public().(ed25519.PublicKey), signingInput(tok), tokenSignature(t, tok)) {
		t.Errorf("after the caller cleared its private key, the key signs with another")
	}
	v, err := NewVerifier(mustKeySet(t, verifier), Config{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	good := jws(`{"alg":"EdDSA","kid":"ed"}`, validPayload(clk.Now()), signEd(testEdKey(2)))
	if _, err := v.VerifyToken(t.Context(), good); err != nil {
		t.Errorf("after the caller cleared its public key, a token of that key: %v", err)
	}
}

// TestThumbprint checks Key.Thumbprint, and the kid NewKey derives from
// it, against the published examples of RFC 7638 (RSA) and RFC 8037
// (Ed25519).
func TestThumbprint(t *testing.T) {
	// The expected values are also recomputed here from the canonical JSON
	// of each RFC, so that a typo in a constant shows up as such.
	if got := sha256b64(`{"e":"` + rfc7638E + `","kty":"RSA","n":"` + rfc7638N + `"}`); got != rfc7638Thumbprint {
		t.Fatalf("RFC 7638 constants: thumbprint of the canonical JSON is %s, want %s", got, rfc7638Thumbprint)
	}
	if got := sha256b64(`{"crv":"Ed25519","kty":"OKP","x":"` + rfc8037X + `"}`); got != rfc8037Thumbprint {
		t.Fatalf("RFC 8037 constants: thumbprint of the canonical JSON is %s, want %s", got, rfc8037Thumbprint)
	}
	seed, err := base64.RawURLEncoding.DecodeString(rfc8037D)
	if err != nil {
		t.Fatal(err)
	}
	ed := ed25519.NewKeyFromSeed(seed)

	tests := []struct {
		name     string
		material any
		want     string
	}{
		{"RFC 7638 RSA public key", rfc7638Key(t), rfc7638Thumbprint},
		{"RFC 8037 Ed25519 private key", ed, rfc8037Thumbprint},
		{"RFC 8037 Ed25519 public key", ed.Public(), rfc8037Thumbprint},
		{"HMAC secret", testSecret, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := mustKey(t, "", tt.material)
			if k.Thumbprint() != tt.want || k.ID() != tt.want {
				t.Errorf("Thumbprint, ID = %q, %q; want %q", k.Thumbprint(), k.ID(), tt.want)
			}
			// An explicit ID does not change the thumbprint.
			if k := mustKey(t, "named", tt.material); k.Thumbprint() != tt.want || k.ID() != "named" {
				t.Errorf("with ID %q: Thumbprint, ID = %q, %q", "named", k.Thumbprint(), k.ID())
			}
		})
	}
}

// pemOf encodes der as a PEM block of the given type.
func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustDER(t testing.TB) func(der []byte, err error) []byte {
	return func(der []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
}

func TestParseKeyPEM(t *testing.T) {
	der := mustDER(t)
	ed := testEdKey(3)
	ec := testECKey(t, 3)
	rk := testRSAKey(t, 0)
	tests := []struct {
		name     string
		pem      []byte
		material any // what NewKey should see
		canSign  bool
	}{
		{"PKCS #8 Ed25519", pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(ed))), ed, true},
		{"PKCS #8 ECDSA", pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(ec))), ec, true},
		{"PKCS #8 RSA", pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(rk))), rk, true},
		{"SEC 1 EC", pemOf("EC PRIVATE KEY", der(x509.MarshalECPrivateKey(ec))), ec, true},
		{"PKCS #1 RSA", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), rk, true},
		{"PKIX Ed25519", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(ed.Public()))), ed.Public(), false},
		{"PKIX ECDSA", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&ec.PublicKey))), &ec.PublicKey, false},
		{"PKIX RSA", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(&rk.PublicKey))), &rk.PublicKey, false},
		{"text around the block", append(append([]byte("a key:\n"), pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(ed.Public())))...), "and more\n"...), ed.Public(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := mustKey(t, "", tt.material)
			for _, id := range []string{"", "pem-key"} {
				k, err := ParseKeyPEM(id, tt.pem)
				if err != nil {
					t.Fatalf("ParseKeyPEM(%q): %v", id, err)
				}
				wantID := id
				if id == "" {
					wantID = want.Thumbprint()
				}
				if k.ID() != wantID || k.Algorithm() != want.Algorithm() || k.CanSign() != tt.canSign || k.Thumbprint() != want.Thumbprint() {
					t.Errorf("ParseKeyPEM(%q) = ID %q, %s, CanSign %v, thumbprint %s; want %q, %s, %v, %s",
						id, k.ID(), k.Algorithm(), k.CanSign(), k.Thumbprint(), wantID, want.Algorithm(), tt.canSign, want.Thumbprint())
				}
				if !want.Public().(equalKey).Equal(k.Public()) {
					t.Errorf("ParseKeyPEM(%q): public key differs from the material's", id)
				}
			}
		})
	}
}

func TestParseKeyPEMRejects(t *testing.T) {
	der := mustDER(t)
	ed := testEdKey(3)
	rk := testRSAKey(t, 0)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert := der(x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(1)},
		&x509.Certificate{SerialNumber: big.NewInt(1)}, ed.Public(), ed))
	pkcs8 := der(x509.MarshalPKCS8PrivateKey(ed))
	corrupt := bytes.Clone(pkcs8)
	corrupt[0] ^= 0xff // no longer an ASN.1 SEQUENCE

	tests := []struct {
		name string
		id   string
		data []byte
	}{
		{"empty", "", nil},
		{"garbage", "", []byte("zqxvwk garbage jjqqzzkk 0011223344 wwvvuu")},
		{"DER without PEM", "", pkcs8},
		{"truncated PEM", "", pemOf("PRIVATE KEY", pkcs8)[:60]},
		{"CERTIFICATE block", "", pemOf("CERTIFICATE", cert)},
		{"PKCS #1 RSA public key", "", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey))},
		{"OPENSSH PRIVATE KEY block", "", pemOf("OPENSSH PRIVATE KEY", pkcs8)},
		{"PKCS #8 in an EC PRIVATE KEY block", "", pemOf("EC PRIVATE KEY", pkcs8)},
		{"PKCS #8 not a SEQUENCE", "", pemOf("PRIVATE KEY", corrupt)},
		{"PKCS #8 truncated", "", pemOf("PRIVATE KEY", pkcs8[:len(pkcs8)-4])},
		{"PKCS #8 ECDSA P-384", "", pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(p384)))},
		{"PKIX X25519", "", pemOf("PUBLIC KEY", der(x509.MarshalPKIXPublicKey(x25519.PublicKey())))},
		{"PKCS #8 RSA of 1024 bits", "", pemOf("PRIVATE KEY", der(x509.MarshalPKCS8PrivateKey(testRSAKey(t, 2))))},
		{"bad id", "a key", pemOf("PRIVATE KEY", pkcs8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeyPEM(tt.id, tt.data)
			if k != nil || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("ParseKeyPEM returned a key: %v, error %v; want nil, error wrapping ErrInvalidConfig", k != nil, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "-----") {
				t.Errorf("error %q quotes PEM armour", msg)
			}
			// No line of the input, nor any 12 bytes of it, appear in the
			// error. (The block type of an unsupported block may.)
			for _, line := range strings.Split(string(tt.data), "\n") {
				if strings.HasPrefix(line, "-----") {
					continue
				}
				for i := 0; i+12 <= len(line); i += 4 {
					if strings.Contains(msg, line[i:i+12]) {
						t.Fatalf("error %q contains %q of the input", msg, line[i:i+12])
					}
				}
			}
		})
	}
}

// TestKeyFormatHidesSecret: the secret parts of a Key do not show when it
// is printed, say in a log line about a rotation ("nothing secret in
// logs").
func TestKeyFormatHidesSecret(t *testing.T) {
	ed := testEdKey(5)
	tests := []struct {
		name   string
		k      *Key
		secret []byte
	}{
		{"HMAC", mustKey(t, "hs", testSecret), testSecret},
		{"Ed25519", mustKey(t, "ed", ed), ed.Seed()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%d", "%q"} {
				out := fmt.Sprintf(verb, tt.k)
				for i, form := range []string{
					string(tt.secret), strings.Trim(fmt.Sprint(tt.secret), "[]"),
					strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", tt.secret), "[]byte{"), "}"),
					fmt.Sprintf("%x", tt.secret), rawURL(tt.secret), base64.StdEncoding.EncodeToString(tt.secret),
				} {
					if strings.Contains(out, form) {
						t.Errorf("Sprintf(%q, key) shows the secret (form %d)", verb, i)
						break
					}
				}
			}
		})
	}
}
