package auth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// After five wrong passwords in a row, an account key must wait before
// the next attempt; the error says how long. An email nobody has signed
// up with is throttled exactly alike.
func ExampleThrottledError() {
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	svc, err := auth.New(newMemStore(), auth.Config{
		Secret: []byte("an example secret of 32 bytes or more"),
		Now:    func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := 1; i <= 6; i++ {
		_, err := svc.Login(ctx, "nobody@example.com", "a guess")
		var te *auth.ThrottledError
		switch {
		case errors.As(err, &te):
			fmt.Printf("attempt %d: throttled, retry in %v\n", i, te.RetryAfter)
		case errors.Is(err, auth.ErrInvalidCredentials):
			fmt.Printf("attempt %d: invalid credentials\n", i)
		default:
			fmt.Printf("attempt %d: %v\n", i, err)
		}
	}
	// Output:
	// attempt 1: invalid credentials
	// attempt 2: invalid credentials
	// attempt 3: invalid credentials
	// attempt 4: invalid credentials
	// attempt 5: invalid credentials
	// attempt 6: throttled, retry in 1s
}

// A Limiter limits events per key for front ends of their own, here
// failed logins per gRPC peer: the attempt is admitted (or refused) before
// it runs, and counted once its outcome is known.
func ExampleLimiter() {
	svc, err := auth.New(newMemStore(), auth.Config{Secret: []byte("an example secret of 32 bytes or more")})
	if err != nil {
		panic(err)
	}
	perPeer, err := svc.NewLimiter("grpc-peer", 2, 15*time.Minute)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		release, err := perPeer.Acquire(ctx, "192.0.2.7")
		if errors.Is(err, auth.ErrThrottled) {
			fmt.Printf("attempt %d: refused\n", i)
			continue
		}
		_, err = svc.Login(ctx, fmt.Sprintf("user%d@example.com", i), "a guess")
		release(errors.Is(err, auth.ErrInvalidCredentials)) // only failures count
		fmt.Printf("attempt %d: %v\n", i, err)
	}
	// Output:
	// attempt 1: auth: invalid email or password
	// attempt 2: auth: invalid email or password
	// attempt 3: refused
}
