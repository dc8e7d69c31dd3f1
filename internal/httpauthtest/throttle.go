package httpauthtest

import (
	"bytes"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// Loopback is 127.0.0.1 as a trusted proxy: with it, a test names the
// client in X-Forwarded-For.
var Loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// NewThrottleApp serves the endpoints of a Service on store with the
// given configurations (clk as the clock) on a loopback listener.
func NewThrottleApp(t *testing.T, store auth.UserStore, clk *testclock.Clock, acfg auth.Config, hcfg httpauth.Config) *App {
	t.Helper()
	acfg.Secret = Secret
	acfg.Now = clk.Now
	acfg.HashWait = time.Minute // argon2 under -race is slow; this is not about hashing capacity
	if acfg.Logger == nil {
		acfg.Logger = slog.New(slog.DiscardHandler) // thousands of throttled attempts
	}
	svc, err := auth.New(store, acfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &App{Svc: svc, Store: store, Logs: new(bytes.Buffer)}
	hcfg.Logger = slog.New(slog.NewTextHandler(s.Logs, nil))
	h, err := httpauth.New(svc, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	prefix := hcfg.Prefix
	if prefix == "" {
		prefix = "/api/user"
	}
	s.Server = serve(t, mux, prefix)
	return s
}

// NewTestClock returns a Clock at a fixed time.
func NewTestClock() *testclock.Clock {
	return testclock.New(time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC))
}

// LoginJSON is a login request body for email and pw.
func LoginJSON(email, pw string) string {
	return fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)
}

// LoginFrom posts a login; a non-empty client is sent as X-Forwarded-For.
func (s *App) LoginFrom(t *testing.T, client, email, pw string) Response {
	t.Helper()
	if client == "" {
		return s.Post(t, LoginPath, LoginJSON(email, pw))
	}
	return s.Do(t, http.MethodPost, LoginPath, "application/json", LoginJSON(email, pw), "X-Forwarded-For", client)
}

// Want429 checks a throttled response: 429, Retry-After as given, the one
// problem body of throttling, and no caching.
func Want429(t *testing.T, r Response, retryAfter, what string) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("%s: %d %s; want 429", what, r.Status, r.Body)
	}
	if got := r.Header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After = %q; want %q", what, got, retryAfter)
	}
	p := ProblemBody(t, r)
	if p["detail"] != "too many attempts, retry later" || p["title"] != "Too Many Requests" || len(p) != 4 {
		t.Errorf("%s: body %s; want the one throttling problem", what, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control = %q; want no-store", what, r.Header.Get("Cache-Control"))
	}
}

// WantStatus checks that r has the given status; what names the request.
func WantStatus(t *testing.T, r Response, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s; want %d", what, r.Status, r.Body, status)
	}
}

// ThrottleCredentialStuffing tries one password on many accounts from
// one address: after MaxLoginFailuresPerIP failures the address gets 429,
// even with a right password, while other addresses are unaffected; the
// address is let in again once the window has passed.
func ThrottleCredentialStuffing(t *testing.T, stores []Store) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			clk := NewTestClock()
			s := NewThrottleApp(t, openStore(t, st), clk, auth.Config{},
				httpauth.Config{MaxLoginFailuresPerIP: 4, TrustedProxies: Loopback})
			s.Signup(t, "Ada", "ada@example.com", Password)
			const attacker, user = "198.51.100.66", "203.0.113.7"
			for i := range 4 {
				WantStatus(t, s.LoginFrom(t, attacker, fmt.Sprintf("victim%d@example.com", i), Password), 401, fmt.Sprintf("stuffing attempt #%d", i+1))
				clk.Add(time.Second)
			}
			Want429(t, s.LoginFrom(t, attacker, "victim9@example.com", Password), "899", "the attacker's 5th attempt")
			Want429(t, s.LoginFrom(t, attacker, "ada@example.com", Password), "899", "the attacker with a right password")
			WantStatus(t, s.LoginFrom(t, user, "ada@example.com", Password), 200, "another address")
			// The same attacker behind another port, or as an IPv4-mapped
			// IPv6 address, is the same client.
			Want429(t, s.LoginFrom(t, attacker+":4711", "victim9@example.com", Password), "899", "the attacker from another port")
			Want429(t, s.LoginFrom(t, "::ffff:"+attacker, "victim9@example.com", Password), "899", "the attacker as ::ffff:"+attacker)
			clk.Add(10 * time.Minute)
			Want429(t, s.LoginFrom(t, attacker, "victim9@example.com", Password), "299", "ten minutes later")
			clk.Add(299 * time.Second)
			WantStatus(t, s.LoginFrom(t, attacker, "victim9@example.com", Password), 401, "once the window has passed")
		})
	}
}

// ThrottleBruteForceRotatingIPs guesses one account's password from
// a new address each time: no address fails often enough to be slowed,
// but the account's own limit stops the guesses once the account has had
// LoginThrottle.MaxAccountFailures (here 6) failures this hour, with Retry-After
// until the hour ends, the same way whether or not the account exists;
// the right password is accepted once the hour is over.
func ThrottleBruteForceRotatingIPs(t *testing.T, stores []Store) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			clk := NewTestClock()
			s := NewThrottleApp(t, openStore(t, st), clk, auth.Config{LoginThrottle: throttle.LoginConfig{MaxClientFailures: 2, MaxAccountFailures: 6}},
				httpauth.Config{TrustedProxies: Loopback})
			s.Signup(t, "Ada", "ada@example.com", Password)
			ip := 0
			next := func() string { ip++; return fmt.Sprintf("198.51.100.%d", ip) }
			for i := range 6 {
				for _, email := range []string{"ada@example.com", "nobody@example.com"} {
					WantStatus(t, s.LoginFrom(t, next(), email, fmt.Sprintf("guess %d", i)), 401, fmt.Sprintf("%s: guess #%d", email, i+1))
				}
				clk.Add(time.Minute)
			}
			known := s.LoginFrom(t, next(), "ada@example.com", Password)
			unknown := s.LoginFrom(t, next(), "nobody@example.com", Password)
			Want429(t, known, "3240", "the right password after 6 wrong ones, 54 minutes before the hour ends")
			Want429(t, unknown, "3240", "an unknown email after 6 failures")
			known.Header.Del("Date")
			unknown.Header.Del("Date")
			if known.Body != unknown.Body || fmt.Sprint(known.Header) != fmt.Sprint(unknown.Header) {
				t.Errorf("throttled responses differ:\nexisting account: %v %s\nunknown email:    %v %s", known.Header, known.Body, unknown.Header, unknown.Body)
			}
			clk.Add(3239 * time.Second)
			Want429(t, s.LoginFrom(t, next(), "ada@example.com", Password), "1", "a second before the hour ends")
			clk.Add(time.Second)
			WantStatus(t, s.LoginFrom(t, next(), "ada@example.com", Password), 200, "the right password once the hour is over")
		})
	}
}

// ThrottleSignups checks the per-IP limit on sign-ups: accounts
// created and emails found taken count; invalid requests do not.
func ThrottleSignups(t *testing.T, stores []Store) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			clk := NewTestClock()
			s := NewThrottleApp(t, openStore(t, st), clk, auth.Config{}, httpauth.Config{MaxSignupsPerIP: 3})
			signup := func(name, email, pw string) Response {
				return s.Post(t, SignupPath, fmt.Sprintf(`{"name":%q,"email":%q,"password":%q}`, name, email, pw))
			}
			WantStatus(t, signup("A", "a@example.com", Password), 200, "sign-up #1")
			for range 5 {
				WantStatus(t, signup("B", "b@example.com", "short"), 400, "an invalid sign-up")
			}
			WantStatus(t, signup("A2", "a@example.com", Password), 409, "sign-up #2, email taken")
			clk.Add(time.Minute)
			WantStatus(t, signup("C", "c@example.com", Password), 200, "sign-up #3")
			Want429(t, signup("D", "d@example.com", Password), "3600", "sign-up #4")
			Want429(t, signup("D", "d@example.com", "short"), "3600", "an invalid sign-up once throttled")
			clk.Add(time.Hour)
			WantStatus(t, signup("D", "d@example.com", Password), 200, "an hour later")
			if n := CountUsers(t, s.Store, "a@example.com", "b@example.com", "c@example.com", "d@example.com"); n != 3 {
				t.Errorf("%d users stored; want 3", n)
			}
		})
	}
}

// ThrottleReplicas runs two instances of the service, each with its
// own pool and Service, on one PostgreSQL schema: failures on one count
// on the other, per account and client, per account, and per address.
func ThrottleReplicas(t *testing.T, pg func(*sql.DB) SQLStore) {
	dsn := dbtest.NewPostgresDSN(t)
	clk := NewTestClock()
	var r [2]*App
	for i := range r {
		store := pg(dbtest.Open(t, dbtest.PostgresDriver, dsn))
		if err := store.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		r[i] = NewThrottleApp(t, store, clk, auth.Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 2, MaxClientFailures: 3, MaxAccountFailures: 6}},
			httpauth.Config{MaxLoginFailuresPerIP: 4, TrustedProxies: Loopback})
	}
	r[0].Signup(t, "Ada", "ada@example.com", Password)
	// Per account and client: one address, a failure on each replica.
	WantStatus(t, r[0].LoginFrom(t, "192.0.2.1", "ada@example.com", "wrong"), 401, "replica 0: a failure")
	WantStatus(t, r[1].LoginFrom(t, "192.0.2.1", "ada@example.com", "wrong"), 401, "replica 1: a failure from the same address")
	for i := range r {
		Want429(t, r[i].LoginFrom(t, "192.0.2.1", "ada@example.com", Password), "1", fmt.Sprintf("replica %d: after two failures, one on each replica", i))
	}
	WantStatus(t, r[1].LoginFrom(t, "192.0.2.2", "ada@example.com", Password), 200, "replica 1, another address")
	clk.Add(time.Second)
	WantStatus(t, r[1].LoginFrom(t, "192.0.2.1", "ada@example.com", Password), 200, "replica 1, the first address after the wait")

	// Per account: four more failures, from four addresses, alternating.
	for i := range 4 {
		WantStatus(t, r[i%2].LoginFrom(t, fmt.Sprintf("192.0.2.%d", 10+i), "ada@example.com", "wrong"), 401, "a failure from a new address")
	}
	for i := range r {
		Want429(t, r[i].LoginFrom(t, "192.0.2.20", "ada@example.com", Password), "3599", fmt.Sprintf("replica %d: after six failures, on both replicas", i))
	}

	// Per address: four failures spread over the two replicas.
	for i := range 4 {
		WantStatus(t, r[i%2].LoginFrom(t, "198.51.100.9", fmt.Sprintf("u%d@example.com", i), Password), 401, "a failure")
	}
	for i := range r {
		Want429(t, r[i].LoginFrom(t, "198.51.100.9", "bob@example.com", Password), "900", fmt.Sprintf("replica %d: the address after 4 failures", i))
	}
}

// LoginWith posts a login through c, with the given header fields
// (name, value, ...).
func (s *App) LoginWith(t *testing.T, c *http.Client, email, pw string, header ...string) Response {
	t.Helper()
	return s.doWith(t, c, http.MethodPost, LoginPath, "application/json", LoginJSON(email, pw), header...)
}
