package token_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-go/gatehouse/auth/token"
)

// exampleEd25519 stands in for a private key loaded at start-up, with
// token.ParseKeyPEM for instance; a fixed seed keeps the output stable.
func exampleEd25519(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// exampleClaims are the claims of a token for user u1, valid for an hour
// from now. Package auth makes such claims in Service.IssueToken.
func exampleClaims(now time.Time) *token.Claims {
	return &token.Claims{
		UserID:   "u1",
		UserName: "Ada",
		Email:    "ada@example.com",
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   "u1",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
	}
}

// Rotating the signing key of a running service: the new key signs at
// once, and the old one keeps verifying the tokens it signed until it is
// removed.
func ExampleKeySet_Rotate() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

	jan, err := token.NewKey("2025-01", exampleEd25519(1))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := token.NewKeySet(jan)
	if err != nil {
		log.Fatal(err)
	}
	v, err := token.NewVerifier(keys, token.Config{Now: func() time.Time { return now }})
	if err != nil {
		log.Fatal(err)
	}
	old, err := keys.Sign(exampleClaims(now), nil)
	if err != nil {
		log.Fatal(err)
	}
	verify := func(name, tok string) {
		_, err := v.VerifyToken(ctx, tok)
		fmt.Printf("%s: valid %v\n", name, err == nil)
	}

	// Later, a new key signs from now on.
	feb, err := token.NewKey("2025-02", exampleEd25519(2))
	if err != nil {
		log.Fatal(err)
	}
	if err := keys.Rotate(feb); err != nil {
		log.Fatal(err)
	}
	fresh, err := keys.Sign(exampleClaims(now), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active key:", keys.Active().ID())
	verify("old token", old)
	verify("new token", fresh)

	// Once every token of the old key has expired, remove it.
	if err := keys.Remove("2025-01"); err != nil {
		log.Fatal(err)
	}
	verify("old token after Remove", old)
	verify("new token after Remove", fresh)

	// The active key cannot be removed; promote another first.
	err = keys.Remove("2025-02")
	fmt.Println("removing the active key:", errors.Is(err, token.ErrInvalidConfig))
	// Output:
	// active key: 2025-02
	// old token: valid true
	// new token: valid true
	// old token after Remove: valid false
	// new token after Remove: valid true
	// removing the active key: true
}

// A service that only verifies tokens, with the public keys another
// service publishes as a JWKS: it holds no secret and cannot sign.
func ExampleNewVerifier() {
	ctx := context.Background()
	now := time.Now()

	// The issuer signs with an Ed25519 key and publishes its public keys
	// (package httpauth has a handler serving them).
	key, err := token.NewKey("2025-01", exampleEd25519(1))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	doc := keys.JWKS()
	fmt.Printf("%s\n", doc)

	// The verifying service, with the document it fetched. When it fetches
	// a fresh copy, set.Reset swaps the keys in place.
	pub, err := token.ParseJWKS(doc)
	if err != nil {
		log.Fatal(err)
	}
	set, err := token.NewKeySet(pub...)
	if err != nil {
		log.Fatal(err)
	}
	v, err := token.NewVerifier(set, token.Config{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", pub[0].ID(), pub[0].Algorithm(), "can sign:", pub[0].CanSign())

	tok, err := keys.Sign(exampleClaims(now), nil)
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.VerifyToken(ctx, tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified:", claims.UserName, claims.Email)

	// A token signed with an HMAC secret, even the issuer's, means nothing
	// here: the verifier knows only the published keys.
	secret, err := token.NewKey("", []byte("an example secret, 32 bytes long"))
	if err != nil {
		log.Fatal(err)
	}
	hmacKeys, err := token.NewKeySet(secret)
	if err != nil {
		log.Fatal(err)
	}
	if tok, err = hmacKeys.Sign(exampleClaims(now), nil); err != nil {
		log.Fatal(err)
	}
	_, err = v.VerifyToken(ctx, tok)
	fmt.Println("HS256 token refused:", errors.Is(err, token.ErrInvalid))
	// Output:
	// {"keys":[{"alg":"EdDSA","crv":"Ed25519","kid":"2025-01","kty":"OKP","use":"sig","x":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w"}]}
	// key: 2025-01 EdDSA can sign: false
	// verified: Ada ada@example.com
	// HS256 token refused: true
}

// Telling the failures of VerifyToken apart with errors.Is: every refusal
// is ErrInvalid, an expired token also ErrExpired; anything else (a store
// behind Config.Revocations that failed) is no verdict on the token.
func ExampleVerifier_VerifyToken_errorChecking() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	key, err := token.NewKey("", []byte("an example secret, 32 bytes long"))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	v, err := token.NewVerifier(keys, token.Config{
		Now: func() time.Time { return now }, // a clock the example controls
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := keys.Sign(exampleClaims(now), nil)
	if err != nil {
		log.Fatal(err)
	}
	check := func(tok string) {
		_, err := v.VerifyToken(ctx, tok)
		switch {
		case err == nil:
			fmt.Println("valid")
		case errors.Is(err, token.ErrExpired):
			fmt.Println("expired: refresh it")
		case errors.Is(err, token.ErrInvalid):
			fmt.Println("invalid: log in again")
		default:
			fmt.Println("cannot tell now: retry later")
		}
	}
	check(tok)
	check(tok[:len(tok)-2] + "AA") // another signature
	now = now.Add(2 * time.Hour)
	check(tok)
	// Output:
	// valid
	// invalid: log in again
	// expired: refresh it
}
