package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/golang-jwt/jwt/v5"
)

// Key bounds on RSA moduli: below 2048 bits is too weak; above 8192 makes
// every verification needlessly slow.
const (
	minRSABits = 2048
	maxRSABits = 8192
	maxKeyID   = 128
)

// A Key is one JWT signing or verification key: key material bound to
// exactly one algorithm, named by a key ID (the token header's kid).
// Create one with [NewKey] or [ParseKeyPEM]; it is immutable.
//
// The algorithm follows from the material, so no token can make a key
// serve another algorithm:
//
//	[]byte of at least 32 bytes              HS256 (signs and verifies)
//	ed25519.PrivateKey, ed25519.PublicKey    EdDSA (Ed25519)
//	*ecdsa.PrivateKey, *ecdsa.PublicKey      ES256 (curve P-256 only)
//	*rsa.PrivateKey, *rsa.PublicKey          RS256 (2048 to 8192 bits)
//
// Private keys and HMAC secrets sign and verify; public keys only verify.
type Key struct {
	id         string
	method     jwt.SigningMethod
	sign       any               // HMAC secret or private key; nil if the key only verifies
	verify     any               // HMAC secret or public key
	thumbprint string            // RFC 7638, "" for HMAC keys
	jwk        map[string]string // public JWK members, nil for HMAC keys
	header     string            // the encoded header of the tokens it signs
}

// NewKey returns the key named id for material (see [Key] for the accepted
// types). For an HMAC secret, which NewKey copies, id may be empty: tokens
// it signs then carry no kid, and it verifies tokens without one. For an asymmetric key, an empty id means the key's RFC 7638
// thumbprint ([Key.Thumbprint]), so that every replica loading the same key
// names it alike. An id is at most 128 printable ASCII characters.
//
// Weak or malformed material is refused with an error wrapping
// [ErrInvalidConfig]: a secret shorter than 32 bytes, a curve other than
// P-256, an invalid curve point, or an RSA modulus outside 2048 to 8192
// bits or a private key that fails rsa.PrivateKey.Validate.
func NewKey(id string, material any) (*Key, error) {
	k, err := newKey(material)
	if err != nil {
		return nil, fmt.Errorf("%w: key %q: %v", ErrInvalidConfig, id, err)
	}
	if id == "" {
		id = k.thumbprint
	}
	if err := checkKeyID(id); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	k.setID(id)
	return k, nil
}

// setID names the key and makes the header of the tokens it signs,
// {"alg":...,"kid":...,"typ":"JWT"} with the members in json.Marshal's
// order, without kid for the ID "": {"alg":"HS256","typ":"JWT"} for an
// HMAC key named so.
// IDs are printable ASCII (checkKeyID), which strconv.Quote writes as
// valid JSON.
func (k *Key) setID(id string) {
	k.id = id
	h := `{"alg":"` + k.method.Alg() + `",`
	if id != "" {
		h += `"kid":` + strconv.Quote(id) + `,`
	}
	k.header = b64url([]byte(h + `"typ":"JWT"}`))
}

func newKey(material any) (*Key, error) {
	switch m := material.(type) {
	case []byte:
		if len(m) < 32 {
			return nil, fmt.Errorf("HMAC secret is %d bytes; at least 32 are required", len(m))
		}
		secret := append([]byte(nil), m...)
		return &Key{method: jwt.SigningMethodHS256, sign: secret, verify: secret}, nil
	case ed25519.PrivateKey:
		if len(m) != ed25519.PrivateKeySize {
			return nil, errors.New("malformed Ed25519 private key")
		}
		m = ed25519.NewKeyFromSeed(m.Seed()) // a copy, checked against its seed
		k, err := newKey(m.Public())
		if err == nil {
			k.sign = m
		}
		return k, err
	case ed25519.PublicKey:
		if len(m) != ed25519.PublicKeySize {
			return nil, errors.New("malformed Ed25519 public key")
		}
		m = append(ed25519.PublicKey(nil), m...) // a copy, so the caller cannot change it
		return asymmetric(jwt.SigningMethodEdDSA, m, map[string]string{
			"kty": "OKP", "crv": "Ed25519", "x": b64url(m)})
	case *ecdsa.PrivateKey:
		if m == nil {
			return nil, errors.New("nil ECDSA key")
		}
		k, err := newKey(&m.PublicKey)
		if err == nil {
			k.sign = m
		}
		return k, err
	case *ecdsa.PublicKey:
		if m == nil || m.Curve != elliptic.P256() {
			return nil, errors.New("ECDSA keys must be on curve P-256 (ES256)")
		}
		raw, err := m.Bytes() // fails for points not on the curve
		if err != nil {
			return nil, err
		}
		return asymmetric(jwt.SigningMethodES256, m, map[string]string{
			"kty": "EC", "crv": "P-256", "x": b64url(raw[1:33]), "y": b64url(raw[33:])})
	case *rsa.PrivateKey:
		if m == nil {
			return nil, errors.New("nil RSA key")
		}
		if err := m.Validate(); err != nil {
			return nil, err
		}
		k, err := newKey(&m.PublicKey)
		if err == nil {
			k.sign = m
		}
		return k, err
	case *rsa.PublicKey:
		if m == nil || m.N == nil {
			return nil, errors.New("nil RSA key")
		}
		if bits := m.N.BitLen(); bits < minRSABits || bits > maxRSABits {
			return nil, fmt.Errorf("RSA key of %d bits; %d to %d are accepted", bits, minRSABits, maxRSABits)
		}
		if m.E < 3 || m.E%2 == 0 {
			return nil, fmt.Errorf("RSA public exponent %d is not an odd number of at least 3", m.E)
		}
		return asymmetric(jwt.SigningMethodRS256, m, map[string]string{
			"kty": "RSA", "n": b64url(m.N.Bytes()), "e": b64url(big.NewInt(int64(m.E)).Bytes())})
	default:
		return nil, fmt.Errorf("unsupported key material %T", material)
	}
}

func asymmetric(method jwt.SigningMethod, pub crypto.PublicKey, jwk map[string]string) (*Key, error) {
	return &Key{method: method, verify: pub, jwk: jwk, thumbprint: thumbprint(jwk)}, nil
}

// thumbprint is the RFC 7638 thumbprint of a public JWK: SHA-256 over the
// JSON of its required members in lexicographic order, base64url.
func thumbprint(jwk map[string]string) string {
	var members []string
	switch jwk["kty"] {
	case "OKP", "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "RSA":
		members = []string{"e", "kty", "n"}
	}
	b := []byte{'{'}
	for _, m := range members {
		v, ok := jwk[m]
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		// The values are base64url or fixed names: nothing to escape.
		b = append(b, '"')
		b = append(b, m...)
		b = append(b, `":"`...)
		b = append(b, v...)
		b = append(b, '"')
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return b64url(sum[:])
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func checkKeyID(id string) error {
	if len(id) > maxKeyID {
		return fmt.Errorf("key ID of %d bytes; at most %d are accepted", len(id), maxKeyID)
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return fmt.Errorf("key ID %q: only printable ASCII without spaces is accepted", id)
		}
	}
	return nil
}

// ParseKeyPEM returns the key in the first PEM block of data, named id as
// by [NewKey]. It reads PKCS #8 private keys ("PRIVATE KEY"), SEC 1 EC
// private keys ("EC PRIVATE KEY"), PKCS #1 RSA private keys ("RSA PRIVATE
// KEY") and PKIX public keys ("PUBLIC KEY"). Errors wrap
// [ErrInvalidConfig] and never quote the key.
func ParseKeyPEM(id string, data []byte) (*Key, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrInvalidConfig)
	}
	var material any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		material, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		material, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		material, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PUBLIC KEY":
		material, err = x509.ParsePKIXPublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: unsupported PEM block type %q", ErrInvalidConfig, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: parsing %s: %v", ErrInvalidConfig, block.Type, err)
	}
	return NewKey(id, material)
}

// Format prints the key's ID and algorithm, and never its material, with
// every verb: keys end up in logs and error messages.
func (k *Key) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "token.Key{ID: %q, Algorithm: %q}", k.id, k.method.Alg())
}

// ID returns the key's ID, written as kid into the header of the tokens it
// signs; "" for an HMAC key named so.
func (k *Key) ID() string { return k.id }

// Algorithm returns the one JWS algorithm of the key: "HS256", "EdDSA",
// "ES256" or "RS256".
func (k *Key) Algorithm() string { return k.method.Alg() }

// Public returns the key's public key (ed25519.PublicKey, *ecdsa.PublicKey
// or *rsa.PublicKey), or nil for an HMAC key.
func (k *Key) Public() crypto.PublicKey {
	if k.jwk == nil {
		return nil
	}
	return k.verify
}

// CanSign reports whether the key can sign tokens: whether it holds a
// private key or an HMAC secret.
func (k *Key) CanSign() bool { return k.sign != nil }

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of the key's public
// JWK, base64url-encoded, or "" for an HMAC key.
func (k *Key) Thumbprint() string { return k.thumbprint }
