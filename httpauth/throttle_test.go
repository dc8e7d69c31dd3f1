package httpauth_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/gatehouse-go/gatehouse/store/pgstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
)

// The throttling tests run over a real listener, on every store that
// keeps attempt counters where replicas can share them (and on memory),
// with an injected clock: nothing sleeps. Every request comes from
// 127.0.0.1; where a test needs clients at several addresses, it trusts
// 127.0.0.1 as a proxy and names the client in X-Forwarded-For, as a load
// balancer would.

// testClock is a settable auth.Config.Now.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// throttleStores are the stores the throttling tests run on: each
// function returns a fresh, migrated one.
var throttleStores = []struct {
	name string
	new  func(t *testing.T) auth.UserStore
}{
	{"memory", func(t *testing.T) auth.UserStore { return memstore.New() }},
	{"sqlite", func(t *testing.T) auth.UserStore {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s := sqlitestore.New(db)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"postgres", func(t *testing.T) auth.UserStore {
		s := pgstore.New(dbtest.NewPostgres(t))
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// newThrottleServer serves the endpoints of a Service on store with the
// given configurations (clk as the clock) on a loopback listener.
func newThrottleServer(t *testing.T, store auth.UserStore, clk *testClock, acfg auth.Config, hcfg httpauth.Config) *server {
	t.Helper()
	acfg.Secret = testSecret
	acfg.Now = clk.Now
	acfg.HashWait = time.Minute // argon2 under -race is slow; this is not about hashing capacity
	if acfg.Logger == nil {
		acfg.Logger = slog.New(slog.DiscardHandler) // thousands of throttled attempts
	}
	svc, err := auth.New(store, acfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{svc: svc, store: store, logs: new(bytes.Buffer)}
	hcfg.Logger = slog.New(slog.NewTextHandler(s.logs, nil))
	h, err := httpauth.New(svc, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)}
}

func loginJSON(email, pw string) string {
	return fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw)
}

// loginFrom posts a login; a non-empty client is sent as X-Forwarded-For.
func (s *server) loginFrom(t *testing.T, client, email, pw string) response {
	t.Helper()
	if client == "" {
		return s.post(t, loginPath, loginJSON(email, pw))
	}
	return s.do(t, http.MethodPost, loginPath, "application/json", loginJSON(email, pw), "X-Forwarded-For", client)
}

// want429 checks a throttled response: 429, Retry-After as given, the one
// problem body of throttling, and no caching.
func want429(t *testing.T, r response, retryAfter, what string) {
	t.Helper()
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("%s: %d %s; want 429", what, r.status, r.body)
	}
	if got := r.header.Get("Retry-After"); got != retryAfter {
		t.Errorf("%s: Retry-After = %q; want %q", what, got, retryAfter)
	}
	p := problemBody(t, r)
	if p["detail"] != "too many attempts, retry later" || p["title"] != "Too Many Requests" || len(p) != 4 {
		t.Errorf("%s: body %s; want the one throttling problem", what, r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control = %q; want no-store", what, r.header.Get("Cache-Control"))
	}
}

func wantStatus(t *testing.T, r response, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: %d %s; want %d", what, r.status, r.body, status)
	}
}

// TestThrottleCredentialStuffing tries one password on many accounts from
// one address: after MaxLoginFailuresPerIP failures the address gets 429,
// even with a right password, while other addresses are unaffected; the
// address is let in again once the window has passed.
func TestThrottleCredentialStuffing(t *testing.T) {
	for _, st := range throttleStores {
		t.Run(st.name, func(t *testing.T) {
			clk := newTestClock()
			s := newThrottleServer(t, st.new(t), clk, auth.Config{},
				httpauth.Config{MaxLoginFailuresPerIP: 4, TrustedProxies: loopback})
			s.signup(t, "Ada", "ada@example.com", password)
			const attacker, user = "198.51.100.66", "203.0.113.7"
			for i := range 4 {
				wantStatus(t, s.loginFrom(t, attacker, fmt.Sprintf("victim%d@example.com", i), password), 401, fmt.Sprintf("stuffing attempt #%d", i+1))
				clk.Add(time.Second)
			}
			want429(t, s.loginFrom(t, attacker, "victim9@example.com", password), "899", "the attacker's 5th attempt")
			want429(t, s.loginFrom(t, attacker, "ada@example.com", password), "899", "the attacker with a right password")
			wantStatus(t, s.loginFrom(t, user, "ada@example.com", password), 200, "another address")
			// The same attacker behind another port, or as an IPv4-mapped
			// IPv6 address, is the same client.
			want429(t, s.loginFrom(t, attacker+":4711", "victim9@example.com", password), "899", "the attacker from another port")
			want429(t, s.loginFrom(t, "::ffff:"+attacker, "victim9@example.com", password), "899", "the attacker as ::ffff:"+attacker)
			clk.Add(10 * time.Minute)
			want429(t, s.loginFrom(t, attacker, "victim9@example.com", password), "299", "ten minutes later")
			clk.Add(299 * time.Second)
			wantStatus(t, s.loginFrom(t, attacker, "victim9@example.com", password), 401, "once the window has passed")
		})
	}
}

// TestThrottleBruteForceRotatingIPs guesses one account's password from
// a new address each time: no address fails often enough to be slowed,
// but the account's own limit stops the guesses once the account has had
// LoginThrottle.MaxAccountFailures (here 6) failures this hour, with Retry-After
// until the hour ends, the same way whether or not the account exists;
// the right password is accepted once the hour is over.
func TestThrottleBruteForceRotatingIPs(t *testing.T) {
	for _, st := range throttleStores {
		t.Run(st.name, func(t *testing.T) {
			clk := newTestClock()
			s := newThrottleServer(t, st.new(t), clk, auth.Config{LoginThrottle: throttle.LoginConfig{MaxClientFailures: 2, MaxAccountFailures: 6}},
				httpauth.Config{TrustedProxies: loopback})
			s.signup(t, "Ada", "ada@example.com", password)
			ip := 0
			next := func() string { ip++; return fmt.Sprintf("198.51.100.%d", ip) }
			for i := range 6 {
				for _, email := range []string{"ada@example.com", "nobody@example.com"} {
					wantStatus(t, s.loginFrom(t, next(), email, fmt.Sprintf("guess %d", i)), 401, fmt.Sprintf("%s: guess #%d", email, i+1))
				}
				clk.Add(time.Minute)
			}
			known := s.loginFrom(t, next(), "ada@example.com", password)
			unknown := s.loginFrom(t, next(), "nobody@example.com", password)
			want429(t, known, "3240", "the right password after 6 wrong ones, 54 minutes before the hour ends")
			want429(t, unknown, "3240", "an unknown email after 6 failures")
			known.header.Del("Date")
			unknown.header.Del("Date")
			if known.body != unknown.body || fmt.Sprint(known.header) != fmt.Sprint(unknown.header) {
				t.Errorf("throttled responses differ:\nexisting account: %v %s\nunknown email:    %v %s", known.header, known.body, unknown.header, unknown.body)
			}
			clk.Add(3239 * time.Second)
			want429(t, s.loginFrom(t, next(), "ada@example.com", password), "1", "a second before the hour ends")
			clk.Add(time.Second)
			wantStatus(t, s.loginFrom(t, next(), "ada@example.com", password), 200, "the right password once the hour is over")
		})
	}
}

// TestThrottleIgnoresForwardedFor checks that without TrustedProxies a
// client cannot escape the per-IP limit by writing X-Forwarded-For.
func TestThrottleIgnoresForwardedFor(t *testing.T) {
	clk := newTestClock()
	s := newThrottleServer(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 3})
	for i := range 3 {
		wantStatus(t, s.loginFrom(t, fmt.Sprintf("198.51.100.%d", i), fmt.Sprintf("u%d@example.com", i), password), 401, "a failure")
	}
	want429(t, s.loginFrom(t, "198.51.100.99", "u9@example.com", password), "900", "a 4th failure, claiming another address")
	want429(t, s.loginFrom(t, "", "u9@example.com", password), "900", "a 4th failure, with no X-Forwarded-For")

	// With 127.0.0.1 trusted, the header is believed, right-most first:
	// what the client wrote left of the proxy's entry does not count.
	s = newThrottleServer(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 1, TrustedProxies: loopback})
	wantStatus(t, s.loginFrom(t, "192.0.2.1", "a@example.com", password), 401, "a failure from 192.0.2.1")
	want429(t, s.loginFrom(t, "203.0.113.5, 192.0.2.1", "b@example.com", password), "900", "192.0.2.1 claiming to forward for another")
	wantStatus(t, s.loginFrom(t, "192.0.2.1, 203.0.113.5", "c@example.com", password), 401, "203.0.113.5 claiming to be 192.0.2.1")
}

// TestThrottleIPv6Network checks that IPv6 clients are counted by /64.
func TestThrottleIPv6Network(t *testing.T) {
	clk := newTestClock()
	s := newThrottleServer(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 2, TrustedProxies: loopback})
	wantStatus(t, s.loginFrom(t, "2001:db8:1:2::1", "a@example.com", password), 401, "a failure from 2001:db8:1:2::1")
	wantStatus(t, s.loginFrom(t, "2001:db8:1:2:ffff::2", "b@example.com", password), 401, "a failure from 2001:db8:1:2:ffff::2")
	want429(t, s.loginFrom(t, "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:443", "c@example.com", password), "900", "a third address of the /64")
	wantStatus(t, s.loginFrom(t, "2001:db8:1:3::1", "c@example.com", password), 401, "the next /64")
}

// TestThrottleSignups checks the per-IP limit on sign-ups: accounts
// created and emails found taken count; invalid requests do not.
func TestThrottleSignups(t *testing.T) {
	for _, st := range throttleStores {
		t.Run(st.name, func(t *testing.T) {
			clk := newTestClock()
			s := newThrottleServer(t, st.new(t), clk, auth.Config{}, httpauth.Config{MaxSignupsPerIP: 3})
			signup := func(name, email, pw string) response {
				return s.post(t, signupPath, fmt.Sprintf(`{"name":%q,"email":%q,"password":%q}`, name, email, pw))
			}
			wantStatus(t, signup("A", "a@example.com", password), 200, "sign-up #1")
			for range 5 {
				wantStatus(t, signup("B", "b@example.com", "short"), 400, "an invalid sign-up")
			}
			wantStatus(t, signup("A2", "a@example.com", password), 409, "sign-up #2, email taken")
			clk.Add(time.Minute)
			wantStatus(t, signup("C", "c@example.com", password), 200, "sign-up #3")
			want429(t, signup("D", "d@example.com", password), "3600", "sign-up #4")
			want429(t, signup("D", "d@example.com", "short"), "3600", "an invalid sign-up once throttled")
			clk.Add(time.Hour)
			wantStatus(t, signup("D", "d@example.com", password), 200, "an hour later")
			if n := countUsers(t, s.store, "a@example.com", "b@example.com", "c@example.com", "d@example.com"); n != 3 {
				t.Errorf("%d users stored; want 3", n)
			}
		})
	}
}

// TestThrottleConcurrentSignups sends a burst of sign-ups from one
// address at once: no more than the limit get through.
func TestThrottleConcurrentSignups(t *testing.T) {
	const n, limit = 12, 3
	clk := newTestClock()
	s := newThrottleServer(t, memstore.New(), clk, auth.Config{}, httpauth.Config{MaxSignupsPerIP: limit})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i] = s.post(t, signupPath, fmt.Sprintf(`{"name":"U","email":"u%d@example.com","password":%q}`, i, password)).status
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

// TestThrottleReplicas runs two instances of the service, each with its
// own pool and Service, on one PostgreSQL schema: failures on one count
// on the other, per account and client, per account, and per address.
func TestThrottleReplicas(t *testing.T) {
	dsn := dbtest.NewPostgresDSN(t)
	clk := newTestClock()
	var r [2]*server
	for i := range r {
		store := pgstore.New(dbtest.Open(t, dbtest.PostgresDriver, dsn))
		if err := store.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		r[i] = newThrottleServer(t, store, clk, auth.Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 2, MaxClientFailures: 3, MaxAccountFailures: 6}},
			httpauth.Config{MaxLoginFailuresPerIP: 4, TrustedProxies: loopback})
	}
	r[0].signup(t, "Ada", "ada@example.com", password)
	// Per account and client: one address, a failure on each replica.
	wantStatus(t, r[0].loginFrom(t, "192.0.2.1", "ada@example.com", "wrong"), 401, "replica 0: a failure")
	wantStatus(t, r[1].loginFrom(t, "192.0.2.1", "ada@example.com", "wrong"), 401, "replica 1: a failure from the same address")
	for i := range r {
		want429(t, r[i].loginFrom(t, "192.0.2.1", "ada@example.com", password), "1", fmt.Sprintf("replica %d: after two failures, one on each replica", i))
	}
	wantStatus(t, r[1].loginFrom(t, "192.0.2.2", "ada@example.com", password), 200, "replica 1, another address")
	clk.Add(time.Second)
	wantStatus(t, r[1].loginFrom(t, "192.0.2.1", "ada@example.com", password), 200, "replica 1, the first address after the wait")

	// Per account: four more failures, from four addresses, alternating.
	for i := range 4 {
		wantStatus(t, r[i%2].loginFrom(t, fmt.Sprintf("192.0.2.%d", 10+i), "ada@example.com", "wrong"), 401, "a failure from a new address")
	}
	for i := range r {
		want429(t, r[i].loginFrom(t, "192.0.2.20", "ada@example.com", password), "3599", fmt.Sprintf("replica %d: after six failures, on both replicas", i))
	}

	// Per address: four failures spread over the two replicas.
	for i := range 4 {
		wantStatus(t, r[i%2].loginFrom(t, "198.51.100.9", fmt.Sprintf("u%d@example.com", i), password), 401, "a failure")
	}
	for i := range r {
		want429(t, r[i].loginFrom(t, "198.51.100.9", "bob@example.com", password), "900", fmt.Sprintf("replica %d: the address after 4 failures", i))
	}
}

// TestThrottleAttemptStoreDown checks that throttling fails closed over
// HTTP: with the counters unreachable, logins get a generic 500 (the
// error logged), sign-ups too, and no password is checked.
func TestThrottleAttemptStoreDown(t *testing.T) {
	clk := newTestClock()
	store := memstore.New()
	s := newThrottleServer(t, store, clk, auth.Config{Attempts: downAttempts{}}, httpauth.Config{})
	for _, r := range []response{
		s.post(t, loginPath, loginJSON("ada@example.com", password)),
		s.post(t, signupPath, `{"name":"A","email":"a@example.com","password":"`+password+`"}`),
	} {
		wantStatus(t, r, 500, "with the attempt store down")
		if p := problemBody(t, r); p["detail"] != "internal error" || strings.Contains(r.body, "unreachable") {
			t.Errorf("body %s; want the generic 500", r.body)
		}
	}
	if !strings.Contains(s.logs.String(), "attempt store unreachable") {
		t.Errorf("log %q does not record the store's error", s.logs)
	}
	if n := countUsers(t, store, "a@example.com"); n != 0 {
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
	svc, err := auth.New(memstore.New(), auth.Config{Secret: testSecret})
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
	clk := newTestClock()
	store := memstore.New()
	s := newThrottleServer(t, store, clk, auth.Config{Attempts: addFails{throttle.NewMemoryStore(0)}}, httpauth.Config{})
	r := s.post(t, signupPath, `{"name":"A","email":"a@example.com","password":"`+password+`"}`)
	wantStatus(t, r, 200, "a sign-up whose count fails")
	if n := countUsers(t, store, "a@example.com"); n != 1 {
		t.Errorf("%d users stored; want 1", n)
	}
	if !strings.Contains(s.logs.String(), "attempt store unreachable") {
		t.Errorf("log %q does not record the failed count", s.logs)
	}
	wantStatus(t, s.post(t, loginPath, loginJSON("a@example.com", password)), 500, "a login whose count fails")
}

// addFails is a throttle.Store whose AddAttempt fails.
type addFails struct{ throttle.Store }

func (addFails) AddAttempt(context.Context, string, time.Time, time.Duration) (throttle.Attempts, error) {
	return throttle.Attempts{}, errAttemptsDown
}
