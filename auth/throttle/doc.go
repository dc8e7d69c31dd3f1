// Package throttle limits how often attempts may be made, with counters
// kept in a [Store] that the replicas of a service can share. Package
// auth uses it to throttle logins; package httpauth, to limit failed
// logins and sign-ups per client address; other front ends (a gRPC
// server, say) can use it for limits of their own.
//
//	limiter, err := throttle.NewLimiter(store, hmacKey, throttle.LimiterConfig{
//		Name: "grpc-peer", Limit: 100, Window: 15 * time.Minute,
//	})
//	release, err := limiter.Acquire(ctx, peerAddress)
//	// ... make the attempt, then:
//	err = release(failed)
//
// # Counters
//
// A [Store] keeps counters of attempts under opaque keys: each counts
// until it is reset, and is forgotten once its expiry has passed without
// an attempt, which is at most [Retention] (a day). Keys are HMACs under
// a key given to [NewLimiter] and [NewLoginPolicy], so a store holds no
// email or address, and replicas that share the key and the store share
// the counters. [NewMemoryStore] keeps them in the process's memory,
// bounded; the stores of this module's store packages keep them in their
// database. Throttling fails closed: if a counter cannot be read or
// written, the attempt is refused with that error.
//
// # Limiters
//
// A [Limiter] throttles a key (a client's address, say) once Limit events
// have been counted for it with no pause of Window between them, until
// Window has passed since the latest. [Limiter.Acquire] admits an attempt
// before it runs and counts it, if its outcome is an event, once it is
// known; attempts still running count too.
//
// # Logins
//
// A [LoginPolicy] throttles logins per account key (an email, whether or
// not an account has it) in two ways. Per account key and client: after
// LoginConfig.BackoffAfter (5) consecutive failures from one client, each
// further attempt of that client must wait, 1 second at first, doubling
// with each failure up to a minute, and after
// LoginConfig.MaxClientFailures (20) the client waits until
// LoginConfig.Window (an hour) has passed since its last failure; a
// successful login, or an hour without attempts, clears the client's
// count. Per account key, from all clients together: once
// LoginConfig.MaxAccountFailures (100) have failed in one hour of the
// clock, clients that are not trusted for the account (package auth:
// without a device token for it) are refused until the hour ends. One
// client cannot reach that limit on its own, so one client hammering an
// account slows only itself; it takes at least five clients together
// (100 / 20) to slow the account for others. [LoginPolicy.Count] counts
// every attempt before its password is checked, so that concurrent
// attempts cannot together get more checked than the policy allows;
// [LoginPolicy.Passed] records an attempt whose first factor was right,
// with a second to come, as no failure of the account while its client's
// count stands until the second succeeds.
//
// # Errors
//
// An attempt refused gets a [*ThrottledError], which wraps [ErrThrottled]
// and says how long to wait; test for it with [errors.Is] or [errors.As].
// Other errors wrap the Store's.
package throttle
