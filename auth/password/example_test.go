package password_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth/password"
)

// A new password is checked against the policy, hashed, stored, and later
// verified; NeedsRehash tells when a stored hash should be replaced.
func Example() {
	ctx := context.Background()
	h, err := password.New(password.Config{}) // DefaultParams, GOMAXPROCS slots, 1 s wait
	if err != nil {
		log.Fatal(err)
	}

	pw := "analytical engine"
	if err := password.CheckNew(pw, "ada@example.com", "Ada"); err != nil {
		log.Fatal(err)
	}
	hash, err := h.Hash(ctx, pw)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$"))

	for _, attempt := range []string{"analytical engine", "difference engine"} {
		ok, err := h.Verify(ctx, attempt, hash)
		fmt.Println(attempt, ok, err)
	}
	fmt.Println("needs rehash:", h.NeedsRehash(hash))
	// Output:
	// true
	// analytical engine true <nil>
	// difference engine false <nil>
	// needs rehash: false
}

// The errors of Verify and CheckNew, told apart.
func Example_errorChecking() {
	ctx := context.Background()
	h, err := password.New(password.Config{})
	if err != nil {
		log.Fatal(err)
	}
	check := func(err error) {
		var pe *password.PolicyError
		switch {
		case err == nil:
			fmt.Println("ok")
		case errors.As(err, &pe):
			fmt.Println("refused:", pe.Reason)
		case errors.Is(err, password.ErrInvalidHash):
			fmt.Println("the stored hash is unusable")
		case errors.Is(err, password.ErrBusy):
			fmt.Println("busy, try again in a moment")
		default:
			fmt.Println("internal error")
		}
	}
	check(password.CheckNew("Password1", "ada@example.com", "Ada"))
	check(password.CheckNew("ADA@example.com", "ada@example.com", "Ada"))
	check(password.CheckNew("short", "ada@example.com", "Ada"))
	_, err = h.Verify(ctx, "analytical engine", "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$c2FsdHNhbHRzYWx0c2FsdA")
	check(err)
	check(password.CheckHash("$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"))
	// Output:
	// refused: is a commonly used password
	// refused: must not be the same as the email or name
	// refused: shorter than 8 characters
	// the stored hash is unusable
	// ok
}
