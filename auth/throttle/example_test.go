package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// hmacKey would be derived from a secret of the service, shared by its
// replicas.
var hmacKey = []byte("an example HMAC key of 32 bytes or more")

// A Limiter limits events per key for front ends of their own, here
// failed logins per gRPC peer: the attempt is admitted (or refused) before
// it runs, and counted once its outcome is known.
func ExampleLimiter() {
	perPeer, err := throttle.NewLimiter(throttle.NewMemoryStore(0), hmacKey, throttle.LimiterConfig{
		Name: "grpc-peer", Limit: 2, Window: 15 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	login := func(context.Context) error { return errors.New("wrong password") }
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		release, err := perPeer.Acquire(ctx, "192.0.2.7")
		if errors.Is(err, throttle.ErrThrottled) {
			fmt.Printf("attempt %d: refused\n", i)
			continue
		}
		err = login(ctx)
		release(err != nil) // only failures count
		fmt.Printf("attempt %d: %v\n", i, err)
	}
	// Output:
	// attempt 1: wrong password
	// attempt 2: wrong password
	// attempt 3: refused
}

// After five failed logins in a row for one account key from one client,
// that client must wait before its next attempt; the error says how long.
// Each attempt is counted before its password is checked; one whose
// password is right is settled with succeeded, which clears the client's
// count.
func ExampleLoginPolicy() {
	policy, err := throttle.NewLoginPolicy(throttle.NewMemoryStore(0), hmacKey, throttle.LoginConfig{})
	if err != nil {
		panic(err)
	}
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	ctx := context.Background()
	login := func(i int, right bool) {
		succeeded, err := policy.Count(ctx, now, "ada@example.com", "address 192.0.2.7", false)
		var te *throttle.ThrottledError
		switch {
		case errors.As(err, &te):
			fmt.Printf("attempt %d: throttled (%s), retry in %v\n", i, te.Reason, te.RetryAfter)
		case err != nil:
			fmt.Printf("attempt %d: %v\n", i, err)
		case right:
			succeeded()
			fmt.Printf("attempt %d: logged in\n", i)
		default:
			fmt.Printf("attempt %d: wrong password\n", i)
		}
	}
	for i := 1; i <= 6; i++ {
		login(i, false)
	}
	now = now.Add(time.Second)
	login(7, true)
	login(8, false)
	// Output:
	// attempt 1: wrong password
	// attempt 2: wrong password
	// attempt 3: wrong password
	// attempt 4: wrong password
	// attempt 5: wrong password
	// attempt 6: throttled (account backoff), retry in 1s
	// attempt 7: logged in
	// attempt 8: wrong password
}
