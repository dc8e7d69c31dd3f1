package auth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// exampleEd25519 stands in for a private key loaded at start-up, with
// auth.ParseKeyPEM for instance; a fixed seed keeps the output stable.
func exampleEd25519(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

// Rotating the signing key of a running service: the new key signs at
// once, and the old one keeps verifying the tokens it signed until it is
// removed.
func ExampleKeySet_Rotate() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

	jan, err := auth.NewKey("2025-01", exampleEd25519(1))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := auth.NewKeySet(jan)
	if err != nil {
		log.Fatal(err)
	}
	svc, err := auth.New(newMemStore(), auth.Config{
		Secret: exampleSecret, // still keys the login throttling counters
		Keys:   keys,
		Now:    func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	ada := auth.User{ID: "u1", Name: "Ada", Email: "ada@example.com"}
	old, _, err := svc.IssueToken(ctx, ada)
	if err != nil {
		log.Fatal(err)
	}
	verify := func(name, token string) {
		_, err := svc.VerifyToken(ctx, token)
		fmt.Printf("%s: valid %v\n", name, err == nil)
	}

	// Later, a new key signs from now on.
	feb, err := auth.NewKey("2025-02", exampleEd25519(2))
	if err != nil {
		log.Fatal(err)
	}
	if err := keys.Rotate(feb); err != nil {
		log.Fatal(err)
	}
	fresh, _, err := svc.IssueToken(ctx, ada)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active key:", keys.Active().ID())
	verify("old token", old)
	verify("new token", fresh)

	// Once every token of the old key has expired (Config.TokenTTL, an
	// hour by default), remove it.
	if err := keys.Remove("2025-01"); err != nil {
		log.Fatal(err)
	}
	verify("old token after Remove", old)
	verify("new token after Remove", fresh)

	// The active key cannot be removed; promote another first.
	err = keys.Remove("2025-02")
	fmt.Println("removing the active key:", errors.Is(err, auth.ErrInvalidConfig))
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

	// The issuer signs with an Ed25519 key and publishes its public keys
	// (package httpauth has a handler serving them).
	key, err := auth.NewKey("2025-01", exampleEd25519(1))
	if err != nil {
		log.Fatal(err)
	}
	keys, err := auth.NewKeySet(key)
	if err != nil {
		log.Fatal(err)
	}
	issuer, err := auth.New(newMemStore(), auth.Config{Secret: exampleSecret, Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	doc := keys.JWKS()
	fmt.Printf("%s\n", doc)

	// The verifying service, with the document it fetched. When it fetches
	// a fresh copy, set.Reset swaps the keys in place.
	pub, err := auth.ParseJWKS(doc)
	if err != nil {
		log.Fatal(err)
	}
	set, err := auth.NewKeySet(pub...)
	if err != nil {
		log.Fatal(err)
	}
	v, err := auth.NewVerifier(set, auth.VerifierConfig{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("key:", pub[0].ID(), pub[0].Algorithm(), "can sign:", pub[0].CanSign())

	token, _, err := issuer.IssueToken(ctx, auth.User{ID: "u1", Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	claims, err := v.VerifyToken(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified:", claims.UserName, claims.Email)

	// A token signed with an HMAC secret, even the issuer's, means nothing
	// here: the verifier knows only the published keys.
	hs, err := auth.New(newMemStore(), auth.Config{Secret: exampleSecret})
	if err != nil {
		log.Fatal(err)
	}
	token, _, err = hs.IssueToken(ctx, auth.User{ID: "u1"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = v.VerifyToken(ctx, token)
	fmt.Println("HS256 token refused:", errors.Is(err, auth.ErrInvalidToken))
	// Output:
	// {"keys":[{"alg":"EdDSA","crv":"Ed25519","kid":"2025-01","kty":"OKP","use":"sig","x":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w"}]}
	// key: 2025-01 EdDSA can sign: false
	// verified: Ada ada@example.com
	// HS256 token refused: true
}
