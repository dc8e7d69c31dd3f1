package token

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Claims is the payload of the tokens this package signs and accepts.
//
// On the wire it carries userId, userName and email next to the registered
// claims: iat and exp always, sub (the user ID), jti (a random token ID)
// and email_verified in the tokens package auth issues, iss and aud when
// configured.
// Tokens with only userId, userName, email, iat and exp, as older
// implementations of the API issued them, are accepted too.
//
// Custom claims, given to [KeySet.Sign] beside the Claims, are read back
// with [Claims.Decode].
type Claims struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Email    string `json:"email"`
	// EmailVerified reports whether the user had verified Email when the
	// token was issued; package auth always writes it, as
	// "email_verified". A token without it reads false.
	EmailVerified bool `json:"email_verified"`
	// Generation is the user's session generation as the login that
	// started the session read it, written as "gen" when not 0 (package
	// auth writes it when it tracks sessions). A [Verifier] with
	// Config.Revocations refuses a token whose generation is older than
	// its user's; a token without gen is of generation 0.
	Generation int64 `json:"gen,omitempty"`
	jwt.RegisteredClaims

	payload string // the token's payload segment, base64url, for Decode
}

// Decode unmarshals the whole JSON payload of the verified token into v,
// with encoding/json's rules: this is how handlers read, typed, the custom
// claims the issuer added (auth.Config.CustomClaims). For example:
//
//	var app struct {
//		Roles []string `json:"roles"`
//	}
//	if err := claims.Decode(&app); err != nil { ... }
//
// encoding/json matches member names to fields case-insensitively, the
// last match winning; but no two members of a verified token's payload
// have names that differ only in case, and none is a claim of Claims
// (userId, exp, ...) in another case: the [Verifier] refuses such tokens,
// and [KeySet.Sign] such custom claims. So each field reads the members of
// one name: a field tagged `json:"userId"` the token's userId, one tagged
// `json:"role"` the member role, or, if the token has none, its one
// member of that name in another case ("Role").
//
// On Claims that were not decoded from a token, it decodes their JSON
// encoding.
func (c *Claims) Decode(v any) error {
	if c.payload == "" {
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		return json.Unmarshal(data, v)
	}
	// The verifier decoded this segment already, strictly; Decode is rare
	// enough that keeping the text rather than the bytes pays.
	data, err := base64.RawURLEncoding.DecodeString(c.payload)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// userID returns c's UserID, or "" for nil Claims.
func (c *Claims) userID() string {
	if c == nil {
		return ""
	}
	return c.UserID
}

// reservedClaims are the claim names custom claims cannot take, in this
// case or any other (see checkCustomNames).
var reservedClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"userId": true, "userName": true, "email": true, "email_verified": true, "gen": true,
}

// payload is what Sign signs: the claims and the custom ones.
type payload struct {
	*Claims
	custom map[string]any
}

func (p payload) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(p.Claims)
	if err != nil || len(p.custom) == 0 {
		return b, err
	}
	custom, err := json.Marshal(p.custom)
	if err != nil {
		return nil, err
	}
	// Both are JSON objects: join {...} and {...} into {...,...}.
	return append(append(b[:len(b)-1], ','), custom[1:]...), nil
}

// Sign returns a compact JWS of c and the custom claims, signed with the
// set's active key: a header carrying the key's algorithm and ID as kid
// (none for an HMAC key with ID ""), encoded once per key, and a payload
// of c's JSON with the custom claims added as members of their own. Sign
// writes c as it is; what makes a token valid (userId, exp) is the
// caller's to set.
//
// Custom claims may not be named as the claims of Claims (iss, sub, aud,
// exp, nbf, iat, jti, userId, userName, email, email_verified, gen),
// under their own name or in another case ("UserId", "EXP"; as
// strings.EqualFold compares), and no two may have names that differ only
// in case ("role" and "Role"): a [Verifier] would refuse the token. Such names, or an active key that
// cannot sign (a public key), make Sign fail with an error wrapping
// [ErrInvalidConfig]. A custom claim that encoding/json cannot encode is
// an error too.
func (ks *KeySet) Sign(c *Claims, custom map[string]any) (string, error) {
	key := ks.Active()
	if !key.CanSign() {
		return "", fmt.Errorf("%w: the active key %q cannot sign", ErrInvalidConfig, key.id)
	}
	for name := range custom {
		if reservedClaims[name] {
			return "", fmt.Errorf("%w: custom claim %q is reserved", ErrInvalidConfig, name)
		}
	}
	if err := checkCustomNames(custom); err != nil {
		return "", fmt.Errorf("%w: custom claims: %v", ErrInvalidConfig, err)
	}
	var body any = c
	if len(custom) > 0 {
		body = payload{c, custom}
	}
	tok, err := key.signToken(body)
	if err != nil {
		return "", fmt.Errorf("token: signing: %w", err)
	}
	return tok, nil
}

// signToken returns the compact JWS of claims signed with k: its header
// (made once, by setID), the claims' JSON, and the signature of the two
// by golang-jwt's signing method, each in unpadded base64url.
func (k *Key) signToken(claims any) (string, error) {
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(k.header)+1+enc.EncodedLen(len(body)))
	buf = append(buf, k.header...)
	buf = append(buf, '.')
	signing := string(enc.AppendEncode(buf, body))
	sig, err := k.method.Sign(signing, k.sign)
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}
