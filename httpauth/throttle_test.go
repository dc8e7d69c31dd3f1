package httpauth_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// The throttling tests run over a real listener, on every store that
// keeps attempt counters where replicas can share them (and on memory),
// with an injected clock: nothing sleeps. Every request comes from
// 127.0.0.1; where a test needs clients at several addresses, it trusts
// 127.0.0.1 as a proxy and names the client in X-Forwarded-For, as a load
// balancer would.

// The throttling scenarios that run on every store
// (internal/httpauthtest/throttle.go), here on the memory store;
// internal/e2e runs them on SQLite and PostgreSQL.

func TestThrottleCredentialStuffing(t *testing.T) {
	httpauthtest.ThrottleCredentialStuffing(t, memory)
}

func TestThrottleBruteForceRotatingIPs(t *testing.T) {
	httpauthtest.ThrottleBruteForceRotatingIPs(t, memory)
}

func TestThrottleSignups(t *testing.T) { httpauthtest.ThrottleSignups(t, memory) }

// TestThrottleIgnoresForwardedFor checks that without TrustedProxies a
// client cannot escape the per-IP limit by writing X-Forwarded-For.
func TestThrottleIgnoresForwardedFor(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 3})
	for i := range 3 {
		httpauthtest.WantStatus(t, s.LoginFrom(t, fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("u%d@example.com", i), httpauthtest.Password), 401, "a failure")
	}
	httpauthtest.Want429(t, s.LoginFrom(t, "198.51.100.99", "u9@example.com", httpauthtest.Password), "900", "a 4th failure, claiming another address")
	httpauthtest.Want429(t, s.LoginFrom(t, "", "u9@example.com", httpauthtest.Password), "900", "a 4th failure, with no X-Forwarded-For")

	// With 127.0.0.1 trusted, the header is believed, right-most first:
	// what the client wrote left of the proxy's entry does not count.
	s = httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 1, TrustedProxies: httpauthtest.Loopback})
	httpauthtest.WantStatus(t, s.LoginFrom(t, "192.0.2.1", "a@example.com", httpauthtest.Password), 401, "a failure from 192.0.2.1")
	httpauthtest.Want429(t, s.LoginFrom(t, "203.0.113.5, 192.0.2.1", "b@example.com", httpauthtest.Password), "900", "192.0.2.1 claiming to forward for another")
	httpauthtest.WantStatus(t, s.LoginFrom(t, "192.0.2.1, 203.0.113.5", "c@example.com", httpauthtest.Password), 401, "203.0.113.5 claiming to be 192.0.2.1")
}

// TestThrottleIPv6Network checks that IPv6 clients are counted by /64.
func TestThrottleIPv6Network(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 2, TrustedProxies: httpauthtest.Loopback})
	httpauthtest.WantStatus(t, s.LoginFrom(t, "2001:db8:1:2::1", "a@example.com", httpauthtest.Password), 401, "a failure from 2001:db8:1:2::1")
	httpauthtest.WantStatus(t, s.LoginFrom(t, "2001:db8:1:2:ffff::2", "b@example.com", httpauthtest.Password), 401, "a failure from 2001:db8:1:2:ffff::2")
	httpauthtest.Want429(t, s.LoginFrom(t, "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "c@example.com", httpauthtest.Password), "900", "a third address of the /64")
	httpauthtest.WantStatus(t, s.LoginFrom(t, "2001:db8:1:3::1", "c@example.com", httpauthtest.Password), 401, "the next /64")
}

// TestThrottleConcurrentSignups sends a burst of sign-ups from one
// address at once: no more than the limit get through.
func TestThrottleConcurrentSignups(t *testing.T) {
	const n, limit = 12, 3
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxSignupsPerIP: limit})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i] = s.Post(t, httpauthtest.SignupPath, fmt.Sprintf(`{"name":"U","email":"u%d@example.com","password":%q}`, i, httpauthtest.Password)).Status
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, st := range statuses {
		count[st]++
	}
	if count[200] > limit || count[200]+count[429] != n {
		t.Errorf("statuses %v; want at most %d 200s, the rest 429", count, limit)
	}
}

// TestThrottleAttemptStoreDown checks that throttling fails closed over
// HTTP: with the counters unreachable, logins get a generic 500 (the
// error logged), sign-ups too, and no password is checked.
func TestThrottleAttemptStoreDown(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	store := memstore.New()
	s := httpauthtest.NewThrottleApp(t, store, clk, auth.Config{Attempts: downAttempts{}}, httpauth.Config{})
	for _, r := range []httpauthtest.Response{
		s.Post(t, httpauthtest.LoginPath, httpauthtest.LoginJSON("ada@example.com", httpauthtest.Password)),
		s.Post(t, httpauthtest.SignupPath, `{"name":"A","email":"a@example.com","password":"`+httpauthtest.Password+`"}`),
	} {
		httpauthtest.WantStatus(t, r, 500, "with the attempt store down")
		if p := httpauthtest.ProblemBody(t, r); p["detail"] != "internal error" || strings.Contains(r.Body, "unreachable") {
			t.Errorf("body %s; want the generic 500", r.Body)
		}
	}
	if !strings.Contains(s.Logs.String(), "attempt store unreachable") {
		t.Errorf("log %q does not record the store's error", s.Logs)
	}
	if n := httpauthtest.CountUsers(t, store, "a@example.com"); n != 0 {
		t.Errorf("a sign-up went through with the attempt store down")
	}
}

// downAttempts is a throttle.Store that always fails.
type downAttempts struct{}

var errAttemptsDown = fmt.Errorf("attempt store unreachable")

func (downAttempts) Attempts(context.Context, string) (throttle.Attempts, error) {
	return throttle.Attempts{}, errAttemptsDown
}

func (downAttempts) AddAttempt(context.Context, string, time.Time, time.Duration) (throttle.Attempts, error) {
	return throttle.Attempts{}, errAttemptsDown
}

func (downAttempts) ResetAttempts(context.Context, string) error { return errAttemptsDown }

func TestThrottleConfigRejected(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]httpauth.Config{
		"window over a day":  {LoginFailureWindowPerIP: 25 * time.Hour},
		"negative window":    {SignupWindowPerIP: -time.Second},
		"invalid proxy":      {TrustedProxies: []netip.Prefix{{}}},
		"signup window long": {SignupWindowPerIP: throttle.Retention + 1},
	} {
		if h, err := httpauth.New(svc, cfg); err == nil {
			t.Errorf("%s: New = %v, nil; want an error", name, h)
		}
	}
	if _, err := httpauth.New(svc, httpauth.Config{MaxLoginFailuresPerIP: -1, MaxSignupsPerIP: -1, LoginFailureWindowPerIP: 25 * time.Hour}); err != nil {
		t.Errorf("limits off: the windows do not matter, but New = %v", err)
	}
}

// TestThrottleCountFails checks what happens when a counter can be read
// but not written: a sign-up that created its account still answers 200
// (and the failure is logged); a login is refused before any password is
// checked, as the Service counts it first.
func TestThrottleCountFails(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	store := memstore.New()
	s := httpauthtest.NewThrottleApp(t, store, clk, auth.Config{Attempts: addFails{throttle.NewMemoryStore(0)}}, httpauth.Config{})
	r := s.Post(t, httpauthtest.SignupPath, `{"name":"A","email":"a@example.com","password":"`+httpauthtest.Password+`"}`)
	httpauthtest.WantStatus(t, r, 200, "a sign-up whose count fails")
	if n := httpauthtest.CountUsers(t, store, "a@example.com"); n != 1 {
		t.Errorf("%d users stored; want 1", n)
	}
	if !strings.Contains(s.Logs.String(), "attempt store unreachable") {
		t.Errorf("log %q does not record the failed count", s.Logs)
	}
	httpauthtest.WantStatus(t, s.Post(t, httpauthtest.LoginPath, httpauthtest.LoginJSON("a@example.com", httpauthtest.Password)), 500, "a login whose count fails")
}

// addFails is a throttle.Store whose AddAttempt fails.
type addFails struct{ throttle.Store }

func (addFails) AddAttempt(context.Context, string, time.Time, time.Duration) (throttle.Attempts, error) {
	return throttle.Attempts{}, errAttemptsDown
}
