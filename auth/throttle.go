package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// newAttemptKeyMAC derives the HMAC key of attempt counters' keys from the
// token secret, so that stored keys reveal nothing (an unkeyed hash of an
// email or an IPv4 address is easily reversed) and replicas, sharing the
// secret, derive the same ones.
func newAttemptKeyMAC(secret []byte) []byte {
	return deriveKey(secret, "gatehouse attempt keys v1")
}

// loginClient returns the client of a login attempt for the normalised
// email under ctx, as its counter names it: the device of a valid device
// token for the account (trusted), otherwise the client's address from
// [WithClientIP], an IPv4 address or the /64 network of an IPv6 one, or,
// without one, the one client "unknown" that all such calls share.
func (s *Service) loginClient(ctx context.Context, email string, now time.Time) (client string, trusted bool) {
	if tok, _ := ctx.Value(deviceTokenKey{}).(string); tok != "" {
		if id, ok := s.deviceID(email, tok, now); ok {
			return "device " + id, true
		}
	}
	if addr := clientAddress(ctx); addr != "" {
		return addr, false
	}
	return "unknown", false
}

// clientAddress returns the client's address from [WithClientIP] under
// ctx as counters name it, "address " and an IPv4 address or the /64
// network of an IPv6 one, or "" if ctx carries none.
func clientAddress(ctx context.Context) string {
	addr, _ := ctx.Value(clientIPKey{}).(netip.Addr)
	if !addr.IsValid() {
		return ""
	}
	if addr = addr.Unmap().WithZone(""); addr.Is6() {
		return "address " + netip.PrefixFrom(addr, 64).Masked().String()
	}
	return "address " + addr.String()
}

// countLogin decides whether a login attempt for the normalised email,
// from the client that ctx names (see loginClient), may go ahead and, if
// so, counts it, before any password is checked (see
// [throttle.LoginPolicy.Count]); the caller calls succeeded if the
// attempt succeeds. It refuses the attempt with a
// [*throttle.ThrottledError], recorded as an EventThrottled for userID
// (which may be empty), and returns a wrapped store error if a counter
// cannot be read or written.
func (s *Service) countLogin(ctx context.Context, email, userID string) (succeeded func(), err error) {
	succeeded, _, err = s.countLoginFactors(ctx, email, userID)
	return succeeded, err
}

// countPassword is countLogin for an attempt that then hashes a
// password: it first takes a place in the hashing queue, so that an
// attempt refused for want of capacity ([ErrBusy]) is refused before it
// is counted, and counts as no attempt, as in Login. The caller hashes
// with the returned context and calls release when done.
func (s *Service) countPassword(ctx context.Context, email, userID string) (_ context.Context, release, succeeded func(), err error) {
	ctx, release, err = s.hasher.Admit(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if succeeded, err = s.countLogin(ctx, email, userID); err != nil {
		release()
		return nil, nil, nil, err
	}
	return ctx, release, succeeded, nil
}

// countLoginFactors is countLogin for an attempt that may need a second
// factor: the caller calls passed if its first factor is right and a
// second is to come (see [throttle.LoginPolicy.Passed]), and succeeded
// once the second factor is right too.
func (s *Service) countLoginFactors(ctx context.Context, email, userID string) (succeeded, passed func(), err error) {
	now := s.now()
	client, trusted := s.loginClient(ctx, email, now)
	succeeded, err = s.login.Count(ctx, now, email, client, trusted)
	var te *throttle.ThrottledError
	if errors.As(err, &te) {
		s.record(ctx, Event{Kind: EventThrottled, UserID: userID, Email: email, Reason: te.Reason})
	}
	passed = func() { s.login.Passed(ctx, now, email) }
	return succeeded, passed, err
}

// NewLimiter returns a [throttle.Limiter] for front ends (package
// httpauth makes two; a gRPC server, say, can make its own) that throttles
// a key after limit events with no pause of window between them, counted
// in the Service's attempt store (Config.Attempts) under name, with
// counter keys keyed by the Service's secret, on its clock: Limiters with
// the same name share their counters, on every Service with the same
// secret and store, which is how the replicas of a service share them,
// so give every kind of event its own. Every attempt it refuses is
// recorded as an EventThrottled with Reason "limit " followed by name.
// name must not be empty or contain ':'; limit must be at least 1; window
// must be positive and at most [throttle.Retention]. Errors wrap
// [ErrInvalidConfig].
func (s *Service) NewLimiter(name string, limit int, window time.Duration) (*throttle.Limiter, error) {
	l, err := throttle.NewLimiter(s.attempts, s.attemptKeyMAC, throttle.LimiterConfig{
		Name:   name,
		Limit:  limit,
		Window: window,
		Now:    s.now,
		OnThrottled: func(ctx context.Context, te *throttle.ThrottledError) {
			s.record(ctx, Event{Kind: EventThrottled, Reason: te.Reason})
		},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	return l, nil
}
