package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// exampleSecret stands in for 32 random bytes kept outside the code, for
// instance in an environment variable.
var exampleSecret = []byte("an example secret, 32 bytes long")

func ExampleNew() {
	// The secret is the only required setting; every other field of Config
	// has a documented default.
	svc, err := auth.New(newMemStore(), auth.Config{
		Secret:   exampleSecret,
		TokenTTL: 15 * time.Minute,
		Issuer:   "https://auth.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready:", svc != nil)

	// A configuration New cannot use is an error, never a panic.
	_, err = auth.New(newMemStore(), auth.Config{Secret: []byte("too short")})
	fmt.Println("short secret is ErrInvalidConfig:", errors.Is(err, auth.ErrInvalidConfig))
	// Output:
	// ready: true
	// short secret is ErrInvalidConfig: true
}

func ExampleService_Signup() {
	ctx := context.Background()
	svc, err := auth.New(newMemStore(), auth.Config{Secret: exampleSecret})
	if err != nil {
		log.Fatal(err)
	}

	sess, err := svc.Signup(ctx, auth.NewUser{
		Name:     "  Ada Lovelace ",
		Email:    " Ada@Example.COM",
		Password: "analytical engine",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("name %q, email %q\n", sess.User.Name, sess.User.Email)
	fmt.Println("token issued:", sess.Token != "", "valid for", time.Until(sess.ExpiresAt).Round(time.Hour))
	fmt.Println("hash handed back:", sess.User.PasswordHash != "")

	// The email is unique after normalisation.
	_, err = svc.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ADA@example.com", Password: "difference engine"})
	fmt.Println("again:", errors.Is(err, auth.ErrDuplicateEmail))

	// Rejected input says which field.
	_, err = svc.Signup(ctx, auth.NewUser{Name: "Bob", Email: "bob@example.com", Password: "short"})
	var fe *auth.FieldError
	if errors.As(err, &fe) {
		fmt.Println("invalid field:", fe.Field)
	}
	// Output:
	// name "Ada Lovelace", email "ada@example.com"
	// token issued: true valid for 1h0m0s
	// hash handed back: false
	// again: true
	// invalid field: password
}

func ExampleService_Login() {
	ctx := context.Background()
	svc, err := auth.New(newMemStore(), auth.Config{Secret: exampleSecret})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := svc.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}

	login := func(email, password string) {
		sess, err := svc.Login(ctx, email, password)
		switch {
		case err == nil:
			fmt.Println("welcome back,", sess.User.Name)
		case errors.Is(err, auth.ErrInvalidCredentials):
			// Wrong password and unknown email alike: say nothing more.
			fmt.Println("wrong email or password")
		case errors.Is(err, auth.ErrInvalidField):
			var fe *auth.FieldError
			errors.As(err, &fe)
			fmt.Println("please check the", fe.Field)
		case errors.Is(err, auth.ErrBusy):
			fmt.Println("busy, try again in a moment")
		default:
			// A store failure: log it, show the user nothing of it.
			fmt.Println("internal error")
		}
	}
	login(" ADA@example.com ", "analytical engine")
	login("ada@example.com", "difference engine")
	login("nobody@example.com", "analytical engine")
	login("ada at example.com", "analytical engine")
	login("ada@example.com", "")
	// Output:
	// welcome back, Ada
	// wrong email or password
	// wrong email or password
	// please check the email
	// please check the password
}

func ExampleService_VerifyToken() {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	svc, err := auth.New(newMemStore(), auth.Config{
		Secret: exampleSecret,
		Now:    func() time.Time { return now }, // a clock the example controls
	})
	if err != nil {
		log.Fatal(err)
	}
	sess, err := svc.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: "analytical engine"})
	if err != nil {
		log.Fatal(err)
	}

	claims, err := svc.VerifyToken(ctx, sess.Token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.UserName, claims.Email, claims.UserID == sess.User.ID)
	fmt.Println("expires", claims.ExpiresAt.UTC().Format(time.TimeOnly))

	// Any change to the token breaks its signature; here, "{}" (e30 in
	// base64url) spliced in front of the claims.
	_, err = svc.VerifyToken(ctx, strings.Replace(sess.Token, ".", ".e30", 1))
	fmt.Println("tampered:", errors.Is(err, auth.ErrInvalidToken))

	now = now.Add(2 * time.Hour)
	_, err = svc.VerifyToken(ctx, sess.Token)
	fmt.Println("later:", errors.Is(err, auth.ErrInvalidToken), errors.Is(err, auth.ErrTokenExpired))
	// Output:
	// Ada ada@example.com true
	// expires 10:00:00
	// tampered: true
	// later: true true
}

func ExampleNormalizeEmail() {
	for _, in := range []string{
		"  Alice@Example.COM ",
		"\uff41\uff4c\uff49\uff43\uff45@example.com", // typed on a fullwidth keyboard
		"Bob <bob@example.com>",
	} {
		email, err := auth.NormalizeEmail(in)
		var fe *auth.FieldError
		if errors.As(err, &fe) {
			fmt.Printf("%q: invalid %s\n", in, fe.Field)
			continue
		}
		fmt.Printf("%q\n", email)
	}
	// Output:
	// "alice@example.com"
	// "alice@example.com"
	// "Bob <bob@example.com>": invalid email
}
