// Package token signs and verifies the JWT access tokens of package auth:
// keys and key sets, their JWKS, signing, the [Verifier] and its cache of
// verified tokens, and [Claims]. It imports neither package auth nor any
// password hashing, so a service that only verifies tokens links this
// package (and package httpauth's middleware) and nothing of the rest.
//
//	key, err := token.NewKey("", secret) // or ParseKeyPEM, or ParseJWKS for public keys
//	keys, err := token.NewKeySet(key)
//	v, err := token.NewVerifier(keys, token.Config{Issuer: "https://id.example.com"})
//	claims, err := v.VerifyToken(ctx, tok)
//
// # Keys
//
// A [Key] is key material bound to exactly one algorithm, which follows
// from the material: an HMAC secret of at least 32 bytes signs HS256, an
// Ed25519 key EdDSA, a P-256 key ES256, an RSA key of 2048 to 8192 bits
// RS256. Its ID is the kid of the tokens it signs. A [KeySet] holds one
// active key, which signs, and others that only verify; it rotates keys on
// a running service ([KeySet.Rotate], [KeySet.Add], [KeySet.Promote],
// [KeySet.Remove], [KeySet.Reset]) and publishes their public halves as an
// RFC 7517 JWK Set ([KeySet.JWKS]), which [ParseJWKS] reads back in the
// services that verify with it.
//
// # Signing
//
// [KeySet.Sign] signs [Claims], and custom claims beside them, with the
// active key; the header, {"alg":...,"kid":...,"typ":"JWT"}, is encoded
// once per key. Package auth's Service.IssueToken fills the Claims.
//
// # Verifying
//
// [Verifier.VerifyToken] caps a token's size and checks its characters
// before parsing it, then picks the key its kid names among the set's keys
// only, and refuses any algorithm but that key's own, a crit header, a
// missing or passed exp, an nbf to come, dates that are not JSON numbers
// from 0 to the year 9999, a missing userId or a sub that differs from it,
// claim names that readers matching names exactly and encoding/json would
// read differently, and, when configured, another iss or aud and the
// tokens of revoked sessions ([Config].Revocations). Headers that point
// elsewhere for a key (jku, x5u, jwk, x5c) are never read. A token seen
// again is recognised in a cache of verified tokens (see Config.CacheSize)
// rather than verified again.
//
// # Errors
//
// Every refusal of a token wraps [ErrInvalid], an expired token's also
// [ErrExpired]; package auth exports them as auth.ErrInvalidToken and
// auth.ErrTokenExpired, the same values. The functions that take keys and
// settings return errors wrapping [ErrInvalidConfig]. Test them with
// [errors.Is]. Package token reports refusals to Config.Rejected, if set,
// and logs nothing itself.
package token
