package httpauthtest

// Sessions end to end: refresh tokens, their rotation, retries and reuse,
// logout, logout-all and password changes, over a real listener, on the
// stores that replicas share (internal/e2e: SQLite, PostgreSQL). Each
// server has its own settable clock (Clock, from throttle.go): nothing
// sleeps.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// sessionEpoch is where the clocks of the session tests start: a whole
// second, so that a second's advance gives tokens a later iat.
var sessionEpoch = time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC)

// sessionServer is an App (see NewApp) with a settable clock and a
// record of the Service's audit events.
type sessionServer struct {
	*App
	clock *testclock.Clock

	mu      sync.Mutex
	events  []auth.Event
	changed chan struct{} // receives (without blocking the sender) after each event
}

// sessionsOn is the configuration of the session tests: refresh tokens
// and stateful verification on, every other field its default.
func sessionsOn() auth.Config {
	return auth.Config{RefreshTokens: true, CheckRevocation: true}
}

// newSessionServer starts a server for store with cfg, whose Now, Logger
// and OnEvent it sets. HashWait is generous: under -race argon2 is slow,
// and these tests are not about hashing capacity.
func newSessionServer(t *testing.T, store auth.UserStore, cfg auth.Config) *sessionServer {
	t.Helper()
	s := &sessionServer{clock: testclock.New(sessionEpoch), changed: make(chan struct{}, 1)}
	cfg.Now = s.clock.Now
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.OnEvent = func(_ context.Context, e auth.Event) {
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
	cfg.HashWait = time.Minute
	s.App = NewApp(t, store, cfg)
	return s
}

// countEvents returns how many events of kind were recorded for userID
// (for any user if userID is "*").
func (s *sessionServer) countEvents(kind auth.EventKind, userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if e.Kind == kind && (e.UserID == userID || userID == "*") {
			n++
		}
	}
	return n
}

// refreshSession checks that r is a 200 whose body is exactly the wire contract's
// four members plus refreshToken, all non-empty strings, with
// Cache-Control: no-store, and returns the members.
func refreshSession(t *testing.T, what string, r Response) map[string]string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d, body %s", what, r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("%s: body %q: %v", what, r.Body, err)
	}
	want := []string{"email", "refreshToken", "token", "userId", "userName"}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Fatalf("%s: body %s has members %v, want exactly %v", what, r.Body, got, want)
	}
	out := map[string]string{}
	for _, k := range want {
		v, ok := m[k].(string)
		if !ok || v == "" {
			t.Fatalf("%s: body %s: %q is not a non-empty string", what, r.Body, k)
		}
		out[k] = v
	}
	if rt := out["refreshToken"]; len(rt) != 43 || !isBase64URL(rt) {
		t.Errorf("%s: refresh token %q is not 32 bytes of unpadded base64url", what, rt)
	}
	return out
}

func isBase64URL(s string) bool {
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// JSONBody encodes the members of a request body, given as name/value
// pairs, as a JSON object of strings.
func JSONBody(kv ...string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func (s *sessionServer) signupSession(t *testing.T, name, email string) map[string]string {
	t.Helper()
	return refreshSession(t, "signup "+email, s.Post(t, SignupPath, SignupBody(name, email, Password)))
}

func (s *sessionServer) loginSession(t *testing.T, email, pw string) map[string]string {
	t.Helper()
	return refreshSession(t, "login "+email, s.Post(t, LoginPath, LoginBody(email, pw)))
}

func (s *sessionServer) refresh(t *testing.T, refreshToken string) Response {
	t.Helper()
	return s.Post(t, "/api/user/refresh", JSONBody("refreshToken", refreshToken))
}

func (s *sessionServer) logout(t *testing.T, refreshToken string) Response {
	t.Helper()
	return s.Post(t, "/api/user/logout", JSONBody("refreshToken", refreshToken))
}

// withBearer sends a POST with a JSON body and, unless token is empty,
// an access token.
func (s *sessionServer) withBearer(t *testing.T, path, token, body string) Response {
	t.Helper()
	var header []string
	if token != "" {
		header = Bearer(token)
	}
	return s.Do(t, http.MethodPost, path, "application/json", body, header...)
}

func (s *sessionServer) changePassword(t *testing.T, token, current, next string) Response {
	t.Helper()
	return s.withBearer(t, "/api/user/password", token, JSONBody("currentPassword", current, "newPassword", next))
}

// me calls the protected route with token.
func (s *sessionServer) me(t *testing.T, token string) Response {
	t.Helper()
	return s.Do(t, http.MethodGet, ProtectedPath, "", "", Bearer(token)...)
}

// refreshRefusals checks the refusals of /refresh (and /logout): 401, a
// problem body, the same body for every reason.
type refreshRefusals struct{ first string }

func (rr *refreshRefusals) check(t *testing.T, what string, r Response) {
	t.Helper()
	if r.Status != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401; body %s", what, r.Status, r.Body)
		return
	}
	ProblemBody(t, r)
	if rr.first == "" {
		rr.first = r.Body
	} else if r.Body != rr.first {
		t.Errorf("%s: body %s differs from another refusal's %s", what, r.Body, rr.first)
	}
}

// checkNoContent checks a 204 of /logout or /logout-all.
func checkNoContent(t *testing.T, what string, r Response) {
	t.Helper()
	if r.Status != http.StatusNoContent || r.Body != "" {
		t.Errorf("%s: status %d, body %q; want 204 and no body", what, r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
	}
}

// checkMe checks that token passes the middleware as the user of sess.
func checkMe(t *testing.T, s *sessionServer, what, token string, sess map[string]string) {
	t.Helper()
	r := s.me(t, token)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"userId":"`+sess["userId"]+`"`) {
		t.Errorf("%s: GET %s: %d %s, want 200 for user %s", what, ProtectedPath, r.Status, r.Body, sess["userId"])
	}
}

// checkProblemField checks a problem response's status and field member.
func checkProblemField(t *testing.T, what string, r Response, status int, field string) {
	t.Helper()
	checkProblem(t, what, r, status, "field", field)
}

// Sessions runs every session scenario on each store, each scenario with
// its own server and accounts on one store.
func Sessions(t *testing.T, stores []Store) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			store := openStore(t, st)
			for _, sc := range sessionScenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, store) })
			}
		})
	}
}

var sessionScenarios = []struct {
	name string
	run  func(t *testing.T, store auth.UserStore)
}{
	{"sign-up and login carry a refresh token", testSessionIssue},
	{"refresh rotates", testRefreshRotates},
	{"reuse after the grace window revokes the session", testReuseAfterGrace},
	{"reuse without a grace window revokes the session", testReuseNoGrace},
	{"reuse after the successor was spent revokes the session", testReuseAfterSuccessor},
	{"retry within the grace window", testRetryWithinGrace},
	{"parallel refreshes without grace: one wins", testParallelRefresh},
	{"logout", testLogout},
	{"logout-all", testLogoutAll},
	{"password change", testPasswordChange},
	{"logins in flight during a password change", testLoginsInFlight},
	{"features off", testSessionFeaturesOff},
}

func testSessionIssue(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	up := s.signupSession(t, "Ada", "issue@example.com")
	in := s.loginSession(t, "issue@example.com", Password)
	if in["userId"] != up["userId"] || in["email"] != "issue@example.com" || in["userName"] != "Ada" {
		t.Errorf("login %v, signup %v: not the same account", in, up)
	}
	if in["refreshToken"] == up["refreshToken"] {
		t.Error("sign-up and login returned the same refresh token: they are two sessions")
	}
	checkMe(t, s, "sign-up token", up["token"], up)
	checkMe(t, s, "login token", in["token"], up)

	// A refresh token is not an access token, nor the other way round.
	var first string
	CheckRefusal(t, s.me(t, up["refreshToken"]), true, &first)
	var rr refreshRefusals
	rr.check(t, "access token as refresh token", s.refresh(t, up["token"]))
}

func testRefreshRotates(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	up := s.signupSession(t, "Ada", "rotate@example.com")
	s.clock.Add(time.Second)

	r1 := refreshSession(t, "refresh", s.refresh(t, up["refreshToken"]))
	if r1["userId"] != up["userId"] || r1["email"] != up["email"] || r1["userName"] != up["userName"] {
		t.Errorf("refresh returned %v for the session %v", r1, up)
	}
	if r1["refreshToken"] == up["refreshToken"] || r1["token"] == up["token"] {
		t.Errorf("refresh did not return a new pair: %v, was %v", r1, up)
	}
	checkMe(t, s, "refreshed access token", r1["token"], up)
	checkMe(t, s, "first access token", up["token"], up) // refreshing revokes nothing

	s.clock.Add(time.Minute)
	r2 := refreshSession(t, "second refresh", s.refresh(t, r1["refreshToken"]))
	if r2["refreshToken"] == r1["refreshToken"] || r2["refreshToken"] == up["refreshToken"] {
		t.Errorf("the second refresh returned a refresh token seen before: %v", r2)
	}
	checkMe(t, s, "twice refreshed access token", r2["token"], up)
	if n := s.countEvents(auth.EventRefresh, up["userId"]); n != 2 {
		t.Errorf("%d refresh events, want 2", n)
	}

	// RefreshTTL (default 30 days) counts from each token's issue: a
	// session used often enough lasts.
	s.clock.Add(30*24*time.Hour - time.Second)
	r3 := refreshSession(t, "refresh a second before the token expires", s.refresh(t, r2["refreshToken"]))
	s.clock.Add(30 * 24 * time.Hour)
	var rr refreshRefusals
	rr.check(t, "expired refresh token", s.refresh(t, r3["refreshToken"]))
	rr.check(t, "unknown refresh token", s.refresh(t, strings.Repeat("A", 43)))
	rr.check(t, "malformed refresh token", s.refresh(t, "not a refresh token"))
	if r := s.Post(t, "/api/user/refresh", `{"refreshToken":7}`); r.Status != http.StatusBadRequest {
		t.Errorf("refreshToken a number: %d %s, want 400", r.Status, r.Body)
	}
}

// checkReuseRevokes uses again the refresh token spent, whose session's
// newest token is successor, and checks that this fails and revokes the
// session: the successor fails too, and the reuse is recorded, once.
func checkReuseRevokes(t *testing.T, s *sessionServer, spent, successor, userID string) {
	t.Helper()
	var rr refreshRefusals
	rr.check(t, "spent refresh token", s.refresh(t, spent))
	rr.check(t, "successor of the reused token", s.refresh(t, successor))
	rr.check(t, "spent refresh token, again", s.refresh(t, spent))
	if n := s.countEvents(auth.EventRefreshReused, userID); n != 1 {
		t.Errorf("%d refresh_reused events, want 1", n)
	}
}

func testReuseAfterGrace(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn()) // default grace: 10 s
	up := s.signupSession(t, "Ada", "reuse-late@example.com")
	other := s.loginSession(t, "reuse-late@example.com", Password)
	r1 := refreshSession(t, "refresh", s.refresh(t, up["refreshToken"]))

	s.clock.Add(10*time.Second + time.Millisecond)
	checkReuseRevokes(t, s, up["refreshToken"], r1["refreshToken"], up["userId"])

	// Only that session: the user's other one goes on.
	refreshSession(t, "the user's other session", s.refresh(t, other["refreshToken"]))
}

func testReuseNoGrace(t *testing.T, store auth.UserStore) {
	cfg := sessionsOn()
	cfg.RefreshReuseGrace = -1
	s := newSessionServer(t, store, cfg)
	up := s.signupSession(t, "Ada", "reuse-now@example.com")
	r1 := refreshSession(t, "refresh", s.refresh(t, up["refreshToken"]))
	checkReuseRevokes(t, s, up["refreshToken"], r1["refreshToken"], up["userId"])
}

func testReuseAfterSuccessor(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	up := s.signupSession(t, "Ada", "reuse-chain@example.com")
	r1 := refreshSession(t, "refresh", s.refresh(t, up["refreshToken"]))
	s.clock.Add(time.Second)
	r2 := refreshSession(t, "refresh of the successor", s.refresh(t, r1["refreshToken"]))
	s.clock.Add(time.Second)
	// Within the grace window of the first token, but its successor was
	// spent: not a retry.
	checkReuseRevokes(t, s, up["refreshToken"], r2["refreshToken"], up["userId"])
}

func testRetryWithinGrace(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	up := s.signupSession(t, "Ada", "retry@example.com")
	r1 := refreshSession(t, "refresh", s.refresh(t, up["refreshToken"]))

	s.clock.Add(9 * time.Second) // the response was lost; the client retries
	again := refreshSession(t, "retry", s.refresh(t, up["refreshToken"]))
	if again["refreshToken"] != r1["refreshToken"] {
		t.Errorf("the retry got refresh token %q, the first use %q: want the same", again["refreshToken"], r1["refreshToken"])
	}
	checkMe(t, s, "access token of the retry", again["token"], up)

	// Twenty retries at once, still within the window: all get it too.
	for i, r := range parallelPosts(t, s.App, "/api/user/refresh", JSONBody("refreshToken", up["refreshToken"]), 20) {
		if r.Status != http.StatusOK {
			t.Errorf("parallel retry %d: %d %s", i, r.Status, r.Body)
			continue
		}
		if got := refreshSession(t, "parallel retry", r); got["refreshToken"] != r1["refreshToken"] {
			t.Errorf("parallel retry %d got refresh token %q, want %q", i, got["refreshToken"], r1["refreshToken"])
		}
	}
	if n := s.countEvents(auth.EventRefreshReused, up["userId"]); n != 0 {
		t.Errorf("%d refresh_reused events for retries, want 0", n)
	}

	// The session goes on from the successor.
	s.clock.Add(time.Second)
	refreshSession(t, "refresh of the successor", s.refresh(t, r1["refreshToken"]))
}

// parallelPosts sends n copies of one POST at once and returns the
// responses. It never calls t.Fatal (the goroutines are not the test's).
func parallelPosts(t *testing.T, s *App, path, body string, n int) []Response {
	t.Helper()
	out := make([]Response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			resp, err := s.Client().Post(s.URL+path, "application/json", strings.NewReader(body))
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			out[i] = Response{resp.StatusCode, resp.Header, string(b)}
		})
	}
	close(start)
	wg.Wait()
	return out
}

func testParallelRefresh(t *testing.T, store auth.UserStore) {
	cfg := sessionsOn()
	cfg.RefreshReuseGrace = -1
	s := newSessionServer(t, store, cfg)
	up := s.signupSession(t, "Ada", "parallel@example.com")

	const n = 20
	var won []map[string]string
	var rr refreshRefusals
	refused := 0
	for i, r := range parallelPosts(t, s.App, "/api/user/refresh", JSONBody("refreshToken", up["refreshToken"]), n) {
		switch r.Status {
		case http.StatusOK:
			won = append(won, refreshSession(t, "winner", r))
		case http.StatusUnauthorized:
			rr.check(t, "loser", r)
			refused++
		default:
			t.Errorf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	if len(won) != 1 || refused != n-1 {
		t.Fatalf("%d of %d concurrent refreshes with one token succeeded and %d were refused; want exactly 1 and %d", len(won), n, refused, n-1)
	}
	// Without a grace window every loser is a reuse, which revoked the
	// session: the winner's refresh token is dead too (its access token
	// lives on until it expires).
	rr.check(t, "the winner's refresh token after the reuses", s.refresh(t, won[0]["refreshToken"]))
	checkMe(t, s, "the winner's access token", won[0]["token"], up)
	// Each loser is recorded: as a reuse (the first, at least, which
	// revoked the session) or, once the session was revoked, as a refusal.
	reused := s.countEvents(auth.EventRefreshReused, up["userId"])
	if rejected := s.countEvents(auth.EventRefreshRejected, "*"); reused < 1 || reused+rejected != n {
		t.Errorf("%d refresh_reused and %d refresh_rejected events; want at least 1 of the former and %d in all (%d losers, then the winner's token)", reused, rejected, n, n-1)
	}
}

func testLogout(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	one := s.signupSession(t, "Ada", "logout@example.com")
	two := s.loginSession(t, "logout@example.com", Password)
	r1 := refreshSession(t, "refresh", s.refresh(t, one["refreshToken"]))

	checkNoContent(t, "logout", s.logout(t, r1["refreshToken"]))
	var rr refreshRefusals
	rr.check(t, "refresh after logout", s.refresh(t, r1["refreshToken"]))
	rr.check(t, "the session's spent token after logout", s.refresh(t, one["refreshToken"]))
	checkNoContent(t, "logout of a session already ended", s.logout(t, r1["refreshToken"]))
	checkNoContent(t, "logout with a spent token of the session", s.logout(t, one["refreshToken"]))
	rr.check(t, "logout with an unknown token", s.logout(t, strings.Repeat("B", 43)))

	// The user's other session is unaffected; the ended session's access
	// token lives until it expires (logout is not revoke-all).
	refreshSession(t, "the user's other session", s.refresh(t, two["refreshToken"]))
	checkMe(t, s, "access token of the ended session", r1["token"], one)
	if n := s.countEvents(auth.EventLogout, one["userId"]); n != 3 {
		t.Errorf("%d logout events, want 3 (one per 204)", n)
	}
}

func testLogoutAll(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	one := s.signupSession(t, "Ada", "logout-all@example.com")
	two := s.loginSession(t, "logout-all@example.com", Password)
	other := s.signupSession(t, "Bob", "bystander@example.com")
	s.clock.Add(time.Second) // the revocation falls in a later second than the tokens' iat

	var first string
	CheckRefusal(t, s.withBearer(t, "/api/user/logout-all", "", ""), false, &first)
	if r := s.Do(t, http.MethodGet, "/api/user/logout-all", "", "", Bearer(one["token"])...); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET logout-all: %d, Allow %q; want 405 and POST", r.Status, r.Header.Get("Allow"))
	}

	checkNoContent(t, "logout-all", s.withBearer(t, "/api/user/logout-all", one["token"], ""))
	var rr refreshRefusals
	rr.check(t, "refresh token of the calling session", s.refresh(t, one["refreshToken"]))
	rr.check(t, "refresh token of the other session", s.refresh(t, two["refreshToken"]))
	CheckRefusal(t, s.me(t, one["token"]), true, &first)
	CheckRefusal(t, s.me(t, two["token"]), true, &first)
	CheckRefusal(t, s.withBearer(t, "/api/user/logout-all", one["token"], ""), true, &first)

	// Another user is unaffected.
	checkMe(t, s, "another user's access token", other["token"], other)
	refreshSession(t, "another user's session", s.refresh(t, other["refreshToken"]))

	// A login after the revocation, in the same second, starts a session
	// that works.
	again := s.loginSession(t, "logout-all@example.com", Password)
	checkMe(t, s, "a login after logout-all", again["token"], one)
	s.clock.Add(time.Second)
	r := refreshSession(t, "refresh of a login after logout-all", s.refresh(t, again["refreshToken"]))
	checkMe(t, s, "its refreshed access token", r["token"], one)
	if n := s.countEvents(auth.EventSessionsRevoked, one["userId"]); n != 1 {
		t.Errorf("%d sessions_revoked events, want 1", n)
	}
}

func testPasswordChange(t *testing.T, store auth.UserStore) {
	const newPassword = "a new and better passphrase"
	s := newSessionServer(t, store, sessionsOn())
	one := s.signupSession(t, "Ada", "change@example.com")
	two := s.loginSession(t, "change@example.com", Password)
	s.clock.Add(time.Second)

	// A missing refresh token is a missing field, as for the other
	// endpoints.
	checkProblemField(t, "no refresh token", s.Post(t, "/api/user/refresh", "{}"), http.StatusBadRequest, "refreshToken")
	checkProblemField(t, "empty refresh token to logout", s.Post(t, "/api/user/logout", JSONBody("refreshToken", "")), http.StatusBadRequest, "refreshToken")

	// Refusals change nothing.
	checkProblemField(t, "wrong current password", s.changePassword(t, one["token"], "not the password", newPassword), http.StatusForbidden, "currentPassword")
	checkProblemField(t, "short new password", s.changePassword(t, one["token"], Password, "short"), http.StatusBadRequest, "newPassword")
	checkProblemField(t, "common new password", s.changePassword(t, one["token"], Password, "password123"), http.StatusBadRequest, "newPassword")
	checkProblemField(t, "new password = current", s.changePassword(t, one["token"], Password, Password), http.StatusBadRequest, "newPassword")
	checkProblemField(t, "new password = email", s.changePassword(t, one["token"], Password, "Change@Example.com"), http.StatusBadRequest, "newPassword")
	checkProblemField(t, "no new password", s.withBearer(t, "/api/user/password", one["token"], JSONBody("currentPassword", Password)), http.StatusBadRequest, "newPassword")
	var first string
	CheckRefusal(t, s.changePassword(t, "", Password, newPassword), false, &first)
	checkMe(t, s, "second session after the refusals", two["token"], one)

	changed := refreshSession(t, "password change", s.changePassword(t, one["token"], Password, newPassword))
	if changed["userId"] != one["userId"] || changed["email"] != "change@example.com" {
		t.Errorf("password change returned %v for %v", changed, one)
	}
	if n := s.countEvents(auth.EventPasswordChanged, one["userId"]); n != 1 {
		t.Errorf("%d password_changed events, want 1", n)
	}

	// The other sessions end, the calling one included; the new one works.
	var rr refreshRefusals
	rr.check(t, "refresh token of the calling session", s.refresh(t, one["refreshToken"]))
	rr.check(t, "refresh token of the other session", s.refresh(t, two["refreshToken"]))
	CheckRefusal(t, s.me(t, one["token"]), true, &first)
	CheckRefusal(t, s.me(t, two["token"]), true, &first)
	checkMe(t, s, "access token of the new session", changed["token"], one)
	s.clock.Add(time.Second)
	r := refreshSession(t, "refresh of the new session", s.refresh(t, changed["refreshToken"]))
	checkMe(t, s, "its refreshed access token", r["token"], one)

	// The old password is gone, the new one logs in.
	if r := s.Post(t, LoginPath, LoginBody("change@example.com", Password)); r.Status != http.StatusUnauthorized {
		t.Errorf("login with the old password: %d %s, want 401", r.Status, r.Body)
	}
	in := s.loginSession(t, "change@example.com", newPassword)
	checkMe(t, s, "login with the new password", in["token"], one)
}

func testSessionFeaturesOff(t *testing.T, store auth.UserStore) {
	for _, tc := range []struct {
		name        string
		cfg         auth.Config
		revocations bool // logout-all works
	}{
		{"refresh tokens and revocation off", auth.Config{}, false},
		{"revocation only", auth.Config{CheckRevocation: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSessionServer(t, store, tc.cfg)
			email := strings.ReplaceAll(tc.name, " ", "-") + "@example.com"
			up := s.Signup(t, "Ada", email, Password) // exactly the wire contract's four members
			r := s.Post(t, LoginPath, LoginBody(email, Password))
			if r.Status != http.StatusOK {
				t.Fatalf("login: %d %s", r.Status, r.Body)
			}
			DecodeSession(t, r.Body)

			for _, path := range []string{"/api/user/refresh", "/api/user/logout"} {
				r := s.Post(t, path, JSONBody("refreshToken", strings.Repeat("A", 43)))
				if r.Status != http.StatusNotFound {
					t.Errorf("%s: %d %s, want 404", path, r.Status, r.Body)
				} else {
					ProblemBody(t, r)
				}
			}

			s.clock.Add(time.Second)
			r = s.withBearer(t, "/api/user/logout-all", up["token"], "")
			if !tc.revocations {
				if r.Status != http.StatusNotFound {
					t.Errorf("logout-all: %d %s, want 404", r.Status, r.Body)
				}
				// A password change needs no session tracking; its
				// answer has the wire contract's shape.
				r = s.changePassword(t, up["token"], Password, "another fine passphrase")
				if r.Status != http.StatusOK {
					t.Fatalf("password change: %d %s", r.Status, r.Body)
				}
				DecodeSession(t, r.Body)
				checkMe(t, s, "access token from before the change (not tracked)", up["token"], up)
				return
			}
			checkNoContent(t, "logout-all", r)
			var first string
			CheckRefusal(t, s.me(t, up["token"]), true, &first)
		})
	}
}

// testLoginsInFlight logs in with the account's password in a loop, from
// two clients at once, while the owner changes the password: once the
// change is answered, no session that any of those logins returned may
// work, neither its refresh token nor its access token. A login that was
// hashing when the change landed is the case that matters; with two
// clients looping, some login is nearly always in flight, and five rounds
// make missing it unlikely.
func testLoginsInFlight(t *testing.T, store auth.UserStore) {
	s := newSessionServer(t, store, sessionsOn())
	loginsInFlight(t, []*App{s.App})
}

// LoginsInFlightReplicas is testLoginsInFlight across two replicas on one
// PostgreSQL database: the first replica signs the owner up, changes the
// password and checks what survived; the logins in flight alternate
// between the two. What ends them is the store's check of the session
// generation, so it holds whichever replica a login runs on.
func LoginsInFlightReplicas(t *testing.T, pg func(*sql.DB) SQLStore) {
	cfg := sessionsOn()
	cfg.HashWait = time.Minute // about the store, not hashing capacity
	apps, _, _ := pgReplicas(t, pg, 2, cfg)
	loginsInFlight(t, apps)
}

// loginsInFlight runs testLoginsInFlight's rounds: apps[0] signs the
// owner up, changes the password and checks the sessions; client i logs
// in through apps[i%len(apps)].
func loginsInFlight(t *testing.T, apps []*App) {
	owner := &sessionServer{App: apps[0]}
	const rounds, clients = 5, 2
	for round := range rounds {
		email := fmt.Sprintf("inflight%d@example.com", round)
		signup := owner.signupSession(t, "Owner", email)
		var (
			mu       sync.Mutex
			sessions []map[string]string
			stop     atomic.Bool
			wg       sync.WaitGroup
			started  = make(chan struct{})
			once     sync.Once
		)
		for i := range clients {
			app := apps[i%len(apps)]
			wg.Go(func() {
				for !stop.Load() {
					status, body, err := PostJSON(app.Client(), app.URL+LoginPath, LoginBody(email, Password))
					if err != nil {
						t.Error(err)
						once.Do(func() { close(started) })
						return
					}
					if status != http.StatusOK {
						continue // after the change: the old password is wrong, or throttled
					}
					var m map[string]string
					if err := json.Unmarshal(body, &m); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					sessions = append(sessions, m)
					mu.Unlock()
					once.Do(func() { close(started) })
				}
			})
		}
		<-started
		r := owner.changePassword(t, signup["token"], Password, "a different long passphrase")
		stop.Store(true)
		wg.Wait()
		if r.Status != http.StatusOK {
			t.Fatalf("round %d: password change: %d %s", round, r.Status, r.Body)
		}
		if len(sessions) == 0 {
			t.Fatalf("round %d: no login succeeded", round)
		}
		for i, sess := range sessions {
			if r := owner.refresh(t, sess["refreshToken"]); r.Status != http.StatusUnauthorized {
				t.Errorf("round %d: login %d of %d with the old password: its refresh token still works after the password change (%d)",
					round, i+1, len(sessions), r.Status)
			}
			if r := owner.me(t, sess["token"]); r.Status != http.StatusUnauthorized {
				t.Errorf("round %d: login %d of %d with the old password: its access token is still accepted after the password change (%d)",
					round, i+1, len(sessions), r.Status)
			}
		}
	}
}

// PostJSON posts the JSON body to url with c, and returns the status and
// body of the answer; safe to call from any goroutine.
func PostJSON(c *http.Client, url, body string) (int, []byte, error) {
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
