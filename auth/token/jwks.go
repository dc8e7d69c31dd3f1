package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// maxJWKSBytes bounds the documents ParseJWKS reads.
const maxJWKSBytes = 1 << 20

// jwkSet is the JSON shape of an RFC 7517 JWK Set.
type jwkSet struct {
	Keys []map[string]string `json:"keys"`
}

// privateMembers are the JWK members that hold secret material (RFC 7518
// section 6): a published document containing any of them leaks a key.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ParseJWKS returns the public keys of an RFC 7517 JWK Set document, such
// as the one [KeySet.JWKS] writes, for a [KeySet] that only verifies:
//
//	keys, err := token.ParseJWKS(doc)
//	...
//	set, err := token.NewKeySet(keys...)
//
// Each key's algorithm comes from its type and curve (OKP Ed25519: EdDSA;
// EC P-256: ES256; RSA: RS256) and must agree with its alg member, if any.
// Every key must have a kid, unique in the document. As RFC 7517 asks, keys
// that are not for signatures ("use" other than "sig"), or of a type, curve
// or algorithm this package does not verify (RSA-PSS, P-384...), are
// skipped; but a document that holds any private or symmetric key ("d",
// "k" and the like), or a malformed key, is rejected as a whole, since it
// shows the publisher is misconfigured. So is a document with no usable
// key. Errors wrap [ErrInvalidConfig].
func ParseJWKS(doc []byte) ([]*Key, error) {
	bad := func(format string, a ...any) ([]*Key, error) {
		return nil, fmt.Errorf("%w: JWKS: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	if len(doc) > maxJWKSBytes {
		return bad("document of %d bytes; at most %d are read", len(doc), maxJWKSBytes)
	}
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil { // also refuses trailing data
		return bad("%v", err)
	}
	var keys []*Key
	seen := make(map[string]bool)
	for i, raw := range set.Keys {
		for _, m := range privateMembers {
			if _, ok := raw[m]; ok {
				return bad("key %d has the private member %q: a JWKS must publish public keys only", i, m)
			}
		}
		jwk := make(map[string]string, len(raw))
		for name, v := range raw {
			var s string
			if err := json.Unmarshal(v, &s); err == nil {
				jwk[name] = s
			} else if stringMembers[name] {
				return bad("key %d: member %q is not a string", i, name)
			}
		}
		if jwk["kty"] == "oct" {
			return bad("key %d is a symmetric (oct) key: a JWKS must publish public keys only", i)
		}
		k, err := parseJWK(jwk)
		if errors.Is(err, errSkipKey) {
			continue
		}
		if err != nil {
			return bad("key %d: %v", i, err)
		}
		if seen[k.id] {
			return bad("two keys with kid %q", k.id)
		}
		seen[k.id] = true
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return bad("no EdDSA, ES256 or RS256 signing key")
	}
	return keys, nil
}

var errSkipKey = errors.New("key not for this package")

// stringMembers are the JWK members this package reads, all strings; any
// other type is a malformed key, not an absent member.
var stringMembers = map[string]bool{
	"kty": true, "kid": true, "use": true, "alg": true, "crv": true,
	"x": true, "y": true, "n": true, "e": true,
}

// parseJWK returns the verify-only key a public JWK describes, or
// errSkipKey if it is not one this package verifies with.
func parseJWK(jwk map[string]string) (*Key, error) {
	if use, ok := jwk["use"]; ok && use != "sig" {
		return nil, errSkipKey
	}
	var alg string
	var material any
	switch kty, crv := jwk["kty"], jwk["crv"]; {
	case kty == "OKP" && crv == "Ed25519":
		x, err := member(jwk, "x", ed25519.PublicKeySize)
		if err != nil {
			return nil, err
		}
		alg, material = "EdDSA", ed25519.PublicKey(x)
	case kty == "EC" && crv == "P-256":
		x, err := member(jwk, "x", 32)
		if err != nil {
			return nil, err
		}
		y, err := member(jwk, "y", 32)
		if err != nil {
			return nil, err
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, x, y))
		if err != nil {
			return nil, err
		}
		alg, material = "ES256", pub
	case kty == "RSA":
		n, err := member(jwk, "n", 0)
		if err != nil {
			return nil, err
		}
		e, err := member(jwk, "e", 0)
		if err != nil {
			return nil, err
		}
		if len(e) > 4 {
			return nil, errors.New("RSA exponent too large")
		}
		alg, material = "RS256", &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	default:
		return nil, errSkipKey
	}
	if a, ok := jwk["alg"]; ok && a != alg {
		switch a {
		case "HS256", "EdDSA", "ES256", "RS256":
			return nil, fmt.Errorf("alg %q does not fit a %s key", a, jwk["kty"])
		}
		return nil, errSkipKey // an algorithm this package does not verify: PS256, RS512...
	}
	id, ok := jwk["kid"]
	if !ok || id == "" {
		return nil, errors.New("no kid: keys are chosen by kid only")
	}
	k, err := newKey(material)
	if err != nil {
		return nil, err
	}
	if err := checkKeyID(id); err != nil {
		return nil, err
	}
	k.id = id
	return k, nil
}

// member decodes a base64url member of a JWK, of exactly size bytes unless
// size is 0.
func member(jwk map[string]string, name string, size int) ([]byte, error) {
	s, ok := jwk[name]
	if !ok {
		return nil, fmt.Errorf("no %q member", name)
	}
	// isTokenText: the decoder would skip CR and LF.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || !isTokenText(s) || len(b) == 0 || size > 0 && len(b) != size {
		return nil, fmt.Errorf("malformed %q member", name)
	}
	return b, nil
}
