package auth_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"net/netip"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// After five wrong passwords in a row for one account key from one client
// (here the one client of calls that name no address), that client must
// wait before its next attempt; the error says how long. An email nobody
// has signed up with is throttled exactly alike.
func ExampleService_Login_throttled() {
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
		var te *throttle.ThrottledError
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

// A front end passes each client's address, and the device token it kept
// from its last login, with every Login. Failures from one address slow
// that address only; failures from several (here two, with limits of 1
// per address and 2 per account) slow the account, until the hour of the
// clock ends, for every client without a device token for it, but not
// for the owner's device.
func ExampleWithDeviceToken() {
	now := time.Date(2024, 5, 17, 12, 30, 0, 0, time.UTC)
	svc, err := auth.New(newMemStore(), auth.Config{
		Secret:        []byte("an example secret of 32 bytes or more"),
		Now:           func() time.Time { return now },
		LoginThrottle: throttle.LoginConfig{MaxClientFailures: 1, MaxAccountFailures: 2},
	})
	if err != nil {
		panic(err)
	}
	at := func(addr string) context.Context {
		return auth.WithClientIP(context.Background(), netip.MustParseAddr(addr))
	}
	const email, pw = "ada@example.com", "correct horse battery staple"
	sess, err := svc.Signup(at("203.0.113.7"), auth.NewUser{Name: "Ada", Email: email, Password: pw})
	if err != nil {
		panic(err)
	}
	device := sess.DeviceToken // kept by Ada's client

	for _, guesser := range []string{"198.51.100.1", "198.51.100.1", "198.51.100.2"} {
		_, err := svc.Login(at(guesser), email, "a guess")
		fmt.Printf("guess from %s: %v\n", guesser, err)
	}
	_, err = svc.Login(at("192.0.2.50"), email, pw)
	fmt.Println("Ada on a new device:", err)
	_, err = svc.Login(auth.WithDeviceToken(at("192.0.2.50"), device), email, pw)
	fmt.Println("Ada with her device token:", err)
	// Output:
	// guess from 198.51.100.1: auth: invalid email or password
	// guess from 198.51.100.1: throttle: too many attempts; retry after 1h0m0s
	// guess from 198.51.100.2: auth: invalid email or password
	// Ada on a new device: throttle: too many attempts; retry after 30m0s
	// Ada with her device token: <nil>
}

// A Limiter limits events per key for front ends of their own, here
// failed logins per gRPC peer: the attempt is admitted (or refused) before
// it runs, and counted once its outcome is known.
func ExampleService_NewLimiter() {
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
