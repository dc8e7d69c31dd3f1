package httpauth_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// cookieApp is a Handler on a real listener, plain HTTP or TLS, with the
// application's own routes: /api/protected (any method) behind
// Middleware and /api/optional behind OptionalMiddleware, each
// answering {"userId": ...} or {"anonymous": true}. It records the
// names of the cookies each path received.
type cookieApp struct {
	*httptest.Server
	svc *auth.Service

	mu   sync.Mutex
	seen map[string][]string // path → names of the cookies sent to it, in order
	ran  int                 // requests that reached an application handler
}

const optionalPath = "/api/optional"

// newCookieApp starts a cookieApp. acfg gets the test secret and no log;
// hcfg gets no per-IP limits and no log unless it says otherwise.
func newCookieApp(t *testing.T, tls bool, hcfg httpauth.Config, acfg auth.Config) *cookieApp {
	t.Helper()
	acfg.Secret = httpauthtest.Secret
	acfg.Logger = slog.New(slog.DiscardHandler)
	svc, err := auth.New(memstore.New(), acfg)
	if err != nil {
		t.Fatal(err)
	}
	hcfg.Logger = slog.New(slog.DiscardHandler)
	for _, l := range []*int{&hcfg.MaxLoginFailuresPerIP, &hcfg.MaxSignupsPerIP, &hcfg.MaxLinkFailuresPerIP} {
		if *l == 0 {
			*l = -1
		}
	}
	h, err := httpauth.New(svc, hcfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &cookieApp{svc: svc, seen: map[string][]string{}}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.ran++
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if c, ok := httpauth.ClaimsFromContext(r.Context()); ok {
			json.NewEncoder(w).Encode(map[string]any{"userId": c.UserID})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"anonymous": true})
	})
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle(httpauthtest.ProtectedPath, h.Middleware(app))
	mux.Handle(optionalPath, h.OptionalMiddleware(app))
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		for _, c := range r.Cookies() {
			a.seen[r.URL.Path] = append(a.seen[r.URL.Path], c.Name)
		}
		a.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	if tls {
		a.Server = httptest.NewTLSServer(record)
	} else {
		a.Server = httptest.NewServer(record)
	}
	t.Cleanup(a.Close)
	return a
}

// sessions is the auth.Config of refresh tokens and revocation checks.
var sessions = auth.Config{RefreshTokens: true, CheckRevocation: true}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   string
}

// json decodes the body as an object.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return m
}

// setCookies returns the Set-Cookie headers of a as they were sent.
func (a answer) setCookies() []string { return a.header.Values("Set-Cookie") }

// send sends a request through c (the server's own client if nil):
// header holds name, value pairs, where "Host" sets the Host header and
// "Cookie" adds a cookie "name=value".
func (a *cookieApp) send(t *testing.T, c *http.Client, method, path, body string, header ...string) answer {
	t.Helper()
	if c == nil {
		c = a.Client()
	}
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	r := httpauthtest.Send(t, c, method, a.URL+path, ct, body, header...)
	return answer{r.Status, r.Header, r.Body}
}

// signup signs Ada up and returns the answer, which must be 200.
func (a *cookieApp) signup(t *testing.T, header ...string) answer {
	t.Helper()
	r := a.send(t, nil, "POST", httpauthtest.SignupPath, httpauthtest.SignupBody("Ada", "ada@example.com", httpauthtest.Password), header...)
	if r.status != 200 {
		t.Fatalf("signup: %d %s", r.status, r.body)
	}
	return r
}

// host returns the host:port of the server.
func (a *cookieApp) host() string { u, _ := url.Parse(a.URL); return u.Host }

// TestCookieAttributes checks every Set-Cookie of a sign-up, a login, a
// refresh and a password change in cookie mode, exactly: on https,
// behind a proxy that ended TLS, and in local development over plain
// HTTP, where the cookies lose Secure and their prefix. Their values are
// the body's tokens and nothing else.
func TestCookieAttributes(t *testing.T) {
	const (
		secureAccess  = "__Host-gatehouse_access=%s; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"
		secureRefresh = "__Secure-gatehouse_refresh=%s; Path=/api/user/%s; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict"
		devAccess     = "gatehouse_access=%s; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"
		devRefresh    = "gatehouse_refresh=%s; Path=/api/user/%s; Max-Age=2592000; HttpOnly; SameSite=Strict"
	)
	tests := []struct {
		name   string
		tls    bool
		always bool
		header []string // added to every request; "{host}" is the server's
		secure bool
	}{
		{name: "https", tls: true, secure: true},
		{name: "https, Origin of the page", tls: true, header: []string{"Origin", "https://{host}"}, secure: true},
		{name: "proxy ended TLS", header: []string{"Host", "app.example.com", "X-Forwarded-Proto", "https"}, secure: true},
		{name: "plain HTTP, public host", header: []string{"Host", "app.example.com"}, secure: true},
		{name: "loopback, https page", header: []string{"Origin", "https://app.example.com", "Sec-Fetch-Site", "same-origin"}, secure: true},
		{name: "loopback, page on another host", header: []string{"Origin", "http://app.example.com", "Sec-Fetch-Site", "same-origin"}, secure: true},
		{name: "loopback, AlwaysSecureCookies", always: true, secure: true},
		{name: "loopback address"},
		{name: "loopback address, its page", header: []string{"Origin", "http://{host}"}},
		{name: "localhost", header: []string{"Host", "localhost:8080", "Origin", "http://localhost:8080"}},
		{name: "name under .localhost", header: []string{"Host", "app.localhost"}},
		{name: "IPv6 loopback", header: []string{"Host", "[::1]:8080", "Origin", "http://[::1]:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newCookieApp(t, tt.tls, httpauth.Config{Cookies: true, AlwaysSecureCookies: tt.always}, sessions)
			header := slices.Clone(tt.header)
			for i := range header {
				header[i] = strings.ReplaceAll(header[i], "{host}", a.host())
			}
			access, refresh := devAccess, devRefresh
			if tt.secure {
				access, refresh = secureAccess, secureRefresh
			}
			check := func(what string, r answer) {
				t.Helper()
				if r.status != 200 {
					t.Fatalf("%s: %d %s", what, r.status, r.body)
				}
				body := r.json(t)
				want := []string{
					fmt.Sprintf(access, body["token"]),
					fmt.Sprintf(refresh, body["refreshToken"], "refresh"),
					fmt.Sprintf(refresh, body["refreshToken"], "logout"),
				}
				got := r.setCookies()
				if len(got) > 0 && strings.HasPrefix(got[0], httpauth.DeviceCookie+"=") {
					got = got[1:] // the device cookie's own tests are elsewhere
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: Set-Cookie\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
			signup := a.signup(t, header...)
			check("signup", signup)
			check("login", a.send(t, nil, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", httpauthtest.Password), header...))
			refreshBody := `{"refreshToken":"` + signup.json(t)["refreshToken"].(string) + `"}`
			check("refresh", a.send(t, nil, "POST", "/api/user/refresh", refreshBody, header...))
			token := signup.json(t)["token"].(string)
			check("password change", a.send(t, nil, "POST", "/api/user/password",
				`{"currentPassword":"`+httpauthtest.Password+`","newPassword":"another horse battery staple"}`,
				append(header, "Authorization", "Bearer "+token)...))
		})
	}
}

// TestCookieNoRefreshToken checks that without refresh tokens only the
// access token's cookie is set, and that /logout then clears it (204),
// as no session is left to end.
func TestCookieNoRefreshToken(t *testing.T) {
	a := newCookieApp(t, true, httpauth.Config{Cookies: true}, auth.Config{})
	r := a.signup(t)
	want := []string{fmt.Sprintf("__Host-gatehouse_access=%s; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax", r.json(t)["token"])}
	if got := r.setCookies()[1:]; !slices.Equal(got, want) {
		t.Errorf("Set-Cookie %q, want %q", got, want)
	}
	out := a.send(t, nil, "POST", "/api/user/logout", `{}`)
	if out.status != 204 || !slices.Equal(out.setCookies(), clearing(true)) {
		t.Errorf("logout without sessions: %d %q %s", out.status, out.setCookies(), out.body)
	}
}

// clearing is the Set-Cookie headers that clear cookie mode's cookies.
func clearing(secure bool) []string {
	if secure {
		return []string{
			"__Host-gatehouse_access=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
			"__Secure-gatehouse_refresh=; Path=/api/user/refresh; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
			"__Secure-gatehouse_refresh=; Path=/api/user/logout; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
		}
	}
	return []string{
		"gatehouse_access=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
		"gatehouse_refresh=; Path=/api/user/refresh; Max-Age=0; HttpOnly; SameSite=Strict",
		"gatehouse_refresh=; Path=/api/user/logout; Max-Age=0; HttpOnly; SameSite=Strict",
	}
}

// browser returns a client with a cookie jar (net/http/cookiejar, which
// matches Path and Secure as browsers do) for a.
func (a *cookieApp) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *a.Client()
	c.Jar = jar
	return &c
}

// jarNames returns the names of the cookies c's jar holds for path.
func (a *cookieApp) jarNames(c *http.Client, path string) []string {
	u, _ := url.Parse(a.URL + path)
	var names []string
	for _, ck := range c.Jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	slices.Sort(names)
	return names
}

// TestCookieSession follows a browser, a client with a cookie jar that
// never sends a token itself, through a whole session, on https and in
// local development: the access token's cookie authenticates the
// application's routes and the account's; the refresh token's goes to
// /refresh and /logout only; /refresh takes it from the cookie; logout
// and logout-all clear both.
func TestCookieSession(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run(map[bool]string{true: "https", false: "loopback HTTP"}[tls], func(t *testing.T) {
			a := newCookieApp(t, tls, httpauth.Config{Cookies: true}, sessions)
			access, refresh := "gatehouse_access", "gatehouse_refresh"
			if tls {
				access, refresh = httpauth.AccessCookie, httpauth.RefreshCookie
			}
			b := a.browser(t)
			signup := a.send(t, b, "POST", httpauthtest.SignupPath, httpauthtest.SignupBody("Ada", "ada@example.com", httpauthtest.Password))
			userID := signup.json(t)["userId"]

			me := a.send(t, b, "GET", "/api/user/me", "")
			if me.status != 200 || me.json(t)["userId"] != userID {
				t.Fatalf("GET /me with the cookie: %d %s", me.status, me.body)
			}
			for _, m := range []string{"GET", "POST", "DELETE"} {
				if r := a.send(t, b, m, httpauthtest.ProtectedPath, ""); r.status != 200 || r.json(t)["userId"] != userID {
					t.Errorf("%s protected with the cookie: %d %s", m, r.status, r.body)
				}
			}
			if r := a.send(t, b, "GET", optionalPath, ""); r.json(t)["userId"] != userID {
				t.Errorf("optional with the cookie: %d %s", r.status, r.body)
			}

			// The refresh token is in the body no more than a browser page
			// needs: /refresh takes the cookie's.
			ref := a.send(t, b, "POST", "/api/user/refresh", `{}`)
			if ref.status != 200 {
				t.Fatalf("refresh from the cookie: %d %s", ref.status, ref.body)
			}
			if ref.json(t)["refreshToken"] == signup.json(t)["refreshToken"] {
				t.Error("refresh answered the same refresh token")
			}
			// The spent refresh token no longer refreshes (beyond the grace
			// of a retry), and the jar holds the new one.
			u, _ := url.Parse(a.URL + "/api/user/refresh")
			for _, ck := range b.Jar.Cookies(u) {
				if ck.Name == refresh && ck.Value != ref.json(t)["refreshToken"] {
					t.Errorf("the jar's refresh token is not the new one")
				}
			}
			if me := a.send(t, b, "GET", "/api/user/me", ""); me.status != 200 {
				t.Fatalf("GET /me with the refreshed cookie: %d %s", me.status, me.body)
			}

			// Each cookie went where its Path sends it, and nowhere else.
			a.mu.Lock()
			seen := maps.Clone(a.seen)
			a.mu.Unlock()
			for path, names := range seen {
				refreshRoute := path == "/api/user/refresh" || path == "/api/user/logout"
				for _, n := range names {
					if n == refresh && !refreshRoute {
						t.Errorf("the refresh cookie was sent to %s", path)
					}
				}
				if refreshRoute != slices.Contains(names, refresh) && path != httpauthtest.SignupPath {
					t.Errorf("%s received %q", path, names)
				}
			}
			if !slices.Contains(seen["/api/user/me"], access) {
				t.Errorf("/me received %q, not the access cookie", seen["/api/user/me"])
			}

			out := a.send(t, b, "POST", "/api/user/logout", `{}`)
			if out.status != 204 || !slices.Equal(out.setCookies(), clearing(tls)) {
				t.Fatalf("logout: %d %q %s", out.status, out.setCookies(), out.body)
			}
			for _, p := range []string{"/", "/api/user/refresh", "/api/user/logout"} {
				if names := a.jarNames(b, p); slices.Contains(names, access) || slices.Contains(names, refresh) {
					t.Errorf("after logout the jar holds %q for %s", names, p)
				}
			}
			if r := a.send(t, b, "GET", "/api/user/me", ""); r.status != 401 {
				t.Errorf("GET /me after logout: %d %s", r.status, r.body)
			}
			if r := a.send(t, b, "GET", optionalPath, ""); r.status != 200 || r.json(t)["anonymous"] != true {
				t.Errorf("optional after logout: %d %s", r.status, r.body)
			}
			// The session is over on the server too: its last refresh
			// token no longer refreshes.
			if r := a.send(t, nil, "POST", "/api/user/refresh", `{"refreshToken":"`+ref.json(t)["refreshToken"].(string)+`"}`); r.status != 401 {
				t.Errorf("refresh after logout: %d %s", r.status, r.body)
			}

			// Logout-all, authenticated by the cookie, clears them too.
			a.send(t, b, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", httpauthtest.Password))
			all := a.send(t, b, "POST", "/api/user/logout-all", "")
			if all.status != 204 || !slices.Equal(all.setCookies(), clearing(tls)) {
				t.Fatalf("logout-all: %d %q %s", all.status, all.setCookies(), all.body)
			}
			if names := a.jarNames(b, "/api/user/refresh"); len(names) != 0 {
				t.Errorf("after logout-all the jar holds %q", names)
			}

			// So does deleting the account.
			a.send(t, b, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", httpauthtest.Password))
			del := a.send(t, b, "POST", "/api/user/delete", `{"password":"`+httpauthtest.Password+`"}`)
			if del.status != 204 || !slices.Equal(del.setCookies(), clearing(tls)) {
				t.Fatalf("delete: %d %q %s", del.status, del.setCookies(), del.body)
			}
		})
	}
}

// TestCookieRefreshSources checks where /refresh and /logout take the
// refresh token from in cookie mode: the body's when it has one, the
// cookie's otherwise, and a 400 naming refreshToken when neither has one.
func TestCookieRefreshSources(t *testing.T) {
	a := newCookieApp(t, true, httpauth.Config{Cookies: true}, sessions)
	first := a.signup(t).json(t)["refreshToken"].(string)
	second := a.send(t, nil, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", httpauthtest.Password)).json(t)["refreshToken"].(string)
	cookie := func(v string) []string { return []string{"Cookie", httpauth.RefreshCookie + "=" + v} }

	// The body wins: the cookie's token is left unspent.
	r := a.send(t, nil, "POST", "/api/user/refresh", `{"refreshToken":"`+first+`"}`, cookie(second)...)
	if r.status != 200 {
		t.Fatalf("refresh with body and cookie: %d %s", r.status, r.body)
	}
	r = a.send(t, nil, "POST", "/api/user/refresh", `{}`, cookie(second)...)
	if r.status != 200 {
		t.Fatalf("refresh with the cookie's token, not spent by the body's: %d %s", r.status, r.body)
	}
	third := r.json(t)["refreshToken"].(string)

	for _, tt := range []struct {
		name   string
		header []string
		status int
	}{
		{"neither", nil, 400},
		{"empty cookie", cookie(""), 400},
		{"unknown token", cookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401},
		{"two cookies", append(cookie(third), cookie(third)...), 400},
		{"the unprefixed name on https", []string{"Cookie", "gatehouse_refresh=" + third}, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := a.send(t, nil, "POST", "/api/user/refresh", `{}`, tt.header...)
			if r.status != tt.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.status == 400 && !strings.Contains(r.body, `"field":"refreshToken"`) {
				t.Errorf("body %s does not name refreshToken", r.body)
			}
			if len(r.setCookies()) != 0 {
				t.Errorf("a refused refresh set %q", r.setCookies())
			}
		})
	}
	// Logout takes the cookie's token too, and ends that session.
	if r := a.send(t, nil, "POST", "/api/user/logout", `{}`, cookie(third)...); r.status != 204 {
		t.Fatalf("logout with the cookie: %d %s", r.status, r.body)
	}
	if r := a.send(t, nil, "POST", "/api/user/refresh", `{}`, cookie(third)...); r.status != 401 {
		t.Errorf("refresh after logout: %d %s", r.status, r.body)
	}
}

// TestCookieMiddleware checks what the middleware makes of the access
// token's cookie: read only in cookie mode, only without an
// Authorization header, only under the name the request's security
// gives it; a refused one is cleared.
func TestCookieMiddleware(t *testing.T) {
	a := newCookieApp(t, true, httpauth.Config{Cookies: true}, sessions)
	token := a.signup(t).json(t)["token"].(string)
	expired := httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`,
		`{"userId":"u1","userName":"n","email":"e@x.co","iat":1594967081,"exp":1594970681}`, httpauthtest.Secret)
	access := func(v string) []string { return []string{"Cookie", httpauth.AccessCookie + "=" + v} }
	bearer := func(v string) []string { return []string{"Authorization", "Bearer " + v} }
	cleared := []string{"__Host-gatehouse_access=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"}

	tests := []struct {
		name    string
		header  []string
		status  int
		cleared bool // the answer clears the access cookie
	}{
		{"cookie", access(token), 200, false},
		{"bearer", bearer(token), 200, false},
		{"bearer wins over a bad cookie", append(bearer(token), access("garbage")...), 200, false},
		{"a bad bearer is not saved by a good cookie", append(bearer("garbage"), access(token)...), 401, false},
		{"a malformed Authorization is not saved by a good cookie", append([]string{"Authorization", "Basic x"}, access(token)...), 401, false},
		{"expired cookie", access(expired), 401, true},
		{"garbage cookie", access("garbage"), 401, true},
		{"empty cookie", access(""), 401, true},
		{"two cookies", append(access(token), access(token)...), 401, true},
		{"the unprefixed name on https", []string{"Cookie", "gatehouse_access=" + token}, 401, false},
		{"the refresh cookie's name", []string{"Cookie", httpauth.RefreshCookie + "=" + token}, 401, false},
		{"no credentials", nil, 401, false},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.send(t, nil, "GET", httpauthtest.ProtectedPath, "", tt.header...)
			if r.status != tt.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.status)
			}
			if got := r.setCookies(); tt.cleared != (len(got) > 0) || (tt.cleared && !slices.Equal(got, cleared)) {
				t.Errorf("Set-Cookie %q, cleared want %v", got, tt.cleared)
			}
			if r.status == 401 {
				httpauthtest.CheckRefusal(t, httpauthtest.Response{Status: r.status, Header: r.header, Body: r.body},
					len(tt.header) > 0 && !strings.HasPrefix(tt.name, "the "), &first)
			}
		})
	}

	// Out of cookie mode, no cookie is read.
	plain := newCookieApp(t, true, httpauth.Config{}, sessions)
	token = plain.signup(t).json(t)["token"].(string)
	for _, name := range []string{httpauth.AccessCookie, "gatehouse_access"} {
		r := plain.send(t, nil, "GET", httpauthtest.ProtectedPath, "", "Cookie", name+"="+token)
		if r.status != 401 || r.header.Get("WWW-Authenticate") != `Bearer realm="api"` || len(r.setCookies()) != 0 {
			t.Errorf("bearer mode, cookie %s: %d %q %s", name, r.status, r.setCookies(), r.body)
		}
	}
	if r := plain.send(t, nil, "GET", optionalPath, "", "Cookie", httpauth.AccessCookie+"="+token); r.json(t)["anonymous"] != true {
		t.Errorf("bearer mode, optional route with a cookie: %d %s", r.status, r.body)
	}
}

// TestBearerTranscriptCookieMode replays the bearer client's session on
// a server in cookie mode: the client sees what it saw without cookie
// mode, byte for byte, but for the Set-Cookie headers of the mode's
// cookies, which it may ignore.
func TestBearerTranscriptCookieMode(t *testing.T) {
	want, err := readGolden()
	if err != nil {
		t.Fatal(err)
	}
	got := bearerTranscript(t, httpauth.Config{Cookies: true})
	var kept, dropped []string
	for line := range strings.Lines(got) {
		if strings.HasPrefix(line, "< Set-Cookie: gatehouse_access=") || strings.HasPrefix(line, "< Set-Cookie: gatehouse_refresh=") {
			dropped = append(dropped, line)
			continue
		}
		kept = append(kept, line)
	}
	if strings.Join(kept, "") != want {
		t.Errorf("in cookie mode a bearer client's session differs from the golden file:\n%s", lineDiff(want, strings.Join(kept, "")))
	}
	// The six answers of the login body (a sign-up, three logins, a
	// refresh, a password change) set three cookies each; the two
	// logouts (one a 400: its body has no refresh token, and there is no
	// cookie), logout-all and the deletion clear three each.
	if len(dropped) != 10*3 {
		t.Errorf("%d Set-Cookie headers of cookie mode, want 30:\n%s", len(dropped), strings.Join(dropped, ""))
	}
}

// TestCrossOrigin sends state-changing requests with the headers a
// browser would send from pages of various origins, forged here, over
// real HTTP: in cookie mode the Handler's routes and the routes the
// cookie authenticates refuse those from other origins than the
// server's own and the trusted one (403, ProblemCrossOrigin), before
// anything happens; same-origin pages, trusted origins, safe methods
// and clients that are no browsers (no such headers) pass, as
// net/http's CrossOriginProtection decides. Bearer requests and
// servers out of cookie mode are not checked.
func TestCrossOrigin(t *testing.T) {
	const trusted = "https://app.example.com"
	// Refresh tokens without revocation checks: the passing logout-alls
	// leave the access token valid.
	a := newCookieApp(t, false, httpauth.Config{Cookies: true, TrustedOrigins: []string{trusted}}, auth.Config{RefreshTokens: true})
	token := a.signup(t).json(t)["token"].(string)
	self := "http://" + a.host()

	origins := []struct {
		name   string
		header []string
		pass   bool
	}{
		{"no browser headers", nil, true},
		{"same-origin", []string{"Sec-Fetch-Site", "same-origin", "Origin", self}, true},
		{"typed by the user", []string{"Sec-Fetch-Site", "none"}, true},
		{"cross-site", []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}, false},
		{"same-site, another origin", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://evil.localhost"}, false},
		{"cross-site, Origin forged as the server's", []string{"Sec-Fetch-Site", "cross-site", "Origin", self}, false},
		{"trusted origin", []string{"Sec-Fetch-Site", "cross-site", "Origin", trusted}, true},
		{"trusted origin, another port", []string{"Sec-Fetch-Site", "cross-site", "Origin", trusted + ":8443"}, false},
		{"trusted host over http", []string{"Sec-Fetch-Site", "cross-site", "Origin", "http://app.example.com"}, false},
		{"old browser, same Origin", []string{"Origin", self}, true},
		{"old browser, other Origin", []string{"Origin", "https://evil.example"}, false},
		{"old browser, trusted Origin", []string{"Origin", trusted}, true},
		{"old browser, Origin null", []string{"Origin", "null"}, false},
	}
	cookie := []string{"Cookie", "gatehouse_access=" + token}
	routes := []struct {
		name, method, path, body string
		header                   []string
		checked                  bool // refused when cross-origin
		status                   int  // when it passes
	}{
		{"login", "POST", httpauthtest.LoginPath, `{"email":"ada@example.com"}`, nil, true, 400},
		{"sign-up", "POST", httpauthtest.SignupPath, `{}`, nil, true, 400},
		{"verify email", "POST", "/api/user/email/verify", `{"token":"x"}`, nil, true, 400},
		{"PATCH /me, cookie", "PATCH", "/api/user/me", `{"name":"Eve"}`, cookie, true, 200},
		{"PATCH /me, bearer", "PATCH", "/api/user/me", `{"name":"Eve"}`, httpauthtest.Bearer(token), true, 200},
		{"logout-all, bearer", "POST", "/api/user/logout-all", "", httpauthtest.Bearer(token), true, 204},
		{"GET /me, cookie", "GET", "/api/user/me", "", cookie, false, 200},
		{"HEAD /me, cookie", "HEAD", "/api/user/me", "", cookie, false, 405},
		{"OPTIONS login", "OPTIONS", httpauthtest.LoginPath, "", nil, false, 405},
		{"application POST, cookie", "POST", httpauthtest.ProtectedPath, "", cookie, true, 200},
		{"application DELETE, cookie", "DELETE", httpauthtest.ProtectedPath, "", cookie, true, 200},
		{"application PUT, optional, cookie", "PUT", optionalPath, "", cookie, true, 200},
		{"application GET, cookie", "GET", httpauthtest.ProtectedPath, "", cookie, false, 200},
		{"application POST, bearer", "POST", httpauthtest.ProtectedPath, "", httpauthtest.Bearer(token), false, 200},
		{"application POST, optional, anonymous", "POST", optionalPath, "", nil, false, 200},
	}
	for _, o := range origins {
		for _, rt := range routes {
			t.Run(o.name+"/"+rt.name, func(t *testing.T) {
				a.mu.Lock()
				ranBefore := a.ran
				a.mu.Unlock()
				r := a.send(t, nil, rt.method, rt.path, rt.body, slices.Concat(rt.header, o.header)...)
				a.mu.Lock()
				ran := a.ran - ranBefore
				a.mu.Unlock()
				if !o.pass && rt.checked {
					if r.status != 403 {
						t.Fatalf("%d %s, want 403", r.status, r.body)
					}
					p := httpauthtest.ProblemBody(t, httpauthtest.Response{Status: r.status, Header: r.header, Body: r.body})
					if p["type"] != httpauth.ProblemCrossOrigin || r.header.Get("Cache-Control") != "no-store" || len(r.setCookies()) != 0 {
						t.Errorf("refusal: %q %s", r.setCookies(), r.body)
					}
					if ran != 0 {
						t.Error("the application's handler ran")
					}
					return
				}
				if r.status != rt.status {
					t.Fatalf("%d %s, want %d", r.status, r.body, rt.status)
				}
			})
		}
	}

	t.Run("bearer mode", func(t *testing.T) {
		b := newCookieApp(t, false, httpauth.Config{TrustedOrigins: []string{trusted}}, sessions)
		token := b.signup(t).json(t)["token"].(string)
		evil := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
		for _, rt := range []struct{ method, path, body string }{
			{"POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", httpauthtest.Password)},
			{"PATCH", "/api/user/me", `{"name":"Eve"}`},
			{"POST", httpauthtest.ProtectedPath, ""},
		} {
			if r := b.send(t, nil, rt.method, rt.path, rt.body, append(evil, httpauthtest.Bearer(token)...)...); r.status != 200 {
				t.Errorf("%s %s cross-site out of cookie mode: %d %s", rt.method, rt.path, r.status, r.body)
			}
		}
	})
}

// TestCrossOriginLosesNothing checks that a refused cross-site login,
// sign-up and logout leave no trace: no account, no session ended, no
// failure counted, no cookie set.
func TestCrossOriginLosesNothing(t *testing.T) {
	a := newCookieApp(t, true, httpauth.Config{Cookies: true, MaxLoginFailuresPerIP: 1}, sessions)
	refresh := a.signup(t).json(t)["refreshToken"].(string)
	evil := []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}
	for range 3 {
		if r := a.send(t, nil, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", "wrong password"), evil...); r.status != 403 {
			t.Fatalf("cross-site login: %d %s", r.status, r.body)
		}
	}
	if r := a.send(t, nil, "POST", httpauthtest.SignupPath, httpauthtest.SignupBody("Eve", "eve@example.com", httpauthtest.Password), evil...); r.status != 403 {
		t.Fatalf("cross-site sign-up: %d %s", r.status, r.body)
	}
	if r := a.send(t, nil, "POST", "/api/user/logout", `{}`, append(evil, "Cookie", httpauth.RefreshCookie+"="+refresh)...); r.status != 403 || len(r.setCookies()) != 0 {
		t.Fatalf("cross-site logout: %d %q %s", r.status, r.setCookies(), r.body)
	}
	// A single failure is allowed from this address: none was counted.
	if r := a.send(t, nil, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", "wrong password")); r.status != 401 {
		t.Errorf("first real failure: %d %s", r.status, r.body)
	}
	if r := a.send(t, nil, "POST", "/api/user/refresh", `{"refreshToken":"`+refresh+`"}`); r.status != 200 {
		t.Errorf("the session survived the cross-site logout: %d %s", r.status, r.body)
	}
	if r := a.send(t, nil, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("eve@example.com", httpauthtest.Password)); r.status != 401 && r.status != 429 {
		t.Errorf("the cross-site sign-up created an account: %d %s", r.status, r.body)
	}
}

// TestOptionalMiddleware checks the optional middleware: anonymous
// requests pass untouched, valid credentials put the claims in the
// context, and any credentials that are sent and refused get the
// required middleware's 401, in both modes and for AuthenticateOptional.
func TestOptionalMiddleware(t *testing.T) {
	a := newCookieApp(t, false, httpauth.Config{Cookies: true}, sessions)
	signup := a.signup(t).json(t)
	token, userID := signup["token"].(string), signup["userId"]
	expired := httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`,
		`{"userId":"u1","userName":"n","email":"e@x.co","iat":1594967081,"exp":1594970681}`, httpauthtest.Secret)

	tests := []struct {
		name   string
		header []string
		want   string // "anonymous", "user", or "401"
	}{
		{"nothing", nil, "anonymous"},
		{"other cookies", []string{"Cookie", "theme=dark; gatehouse_device=x"}, "anonymous"},
		{"bearer", httpauthtest.Bearer(token), "user"},
		{"bearer, scheme in capitals", []string{"Authorization", "BEARER " + token}, "user"},
		{"cookie", []string{"Cookie", "gatehouse_access=" + token}, "user"},
		{"expired bearer", httpauthtest.Bearer(expired), "401"},
		{"garbage bearer", httpauthtest.Bearer("garbage"), "401"},
		{"empty Authorization", []string{"Authorization", ""}, "401"},
		{"Basic", []string{"Authorization", "Basic YTpi"}, "401"},
		{"two Authorization headers", append(httpauthtest.Bearer(token), httpauthtest.Bearer(token)...), "401"},
		{"expired cookie", []string{"Cookie", "gatehouse_access=" + expired}, "401"},
		{"empty cookie", []string{"Cookie", "gatehouse_access="}, "401"},
	}
	var first string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.mu.Lock()
			before := a.ran
			a.mu.Unlock()
			r := a.send(t, nil, "GET", optionalPath, "", tt.header...)
			a.mu.Lock()
			ran := a.ran - before
			a.mu.Unlock()
			switch tt.want {
			case "anonymous":
				if r.status != 200 || r.json(t)["anonymous"] != true || len(r.setCookies()) != 0 {
					t.Errorf("%d %q %s, want anonymous", r.status, r.setCookies(), r.body)
				}
			case "user":
				if r.status != 200 || r.json(t)["userId"] != userID {
					t.Errorf("%d %s, want the user", r.status, r.body)
				}
			default:
				if r.status != 401 || ran != 0 {
					t.Fatalf("%d %s (handler ran %d times), want 401", r.status, r.body, ran)
				}
				httpauthtest.CheckRefusal(t, httpauthtest.Response{Status: r.status, Header: r.header, Body: r.body}, true, &first)
				// The required middleware answers the same.
				req := a.send(t, nil, "GET", httpauthtest.ProtectedPath, "", tt.header...)
				if req.status != 401 || req.body != r.body || req.header.Get("WWW-Authenticate") != r.header.Get("WWW-Authenticate") ||
					!slices.Equal(req.setCookies(), r.setCookies()) {
					t.Errorf("Middleware answered %d %q %s", req.status, req.setCookies(), req.body)
				}
			}
		})
	}
}

// TestAuthenticateOptional checks AuthenticateOptional, the optional
// middleware of a service that only verifies: no cookie is read.
func TestAuthenticateOptional(t *testing.T) {
	a := newCookieApp(t, false, httpauth.Config{Cookies: true}, auth.Config{})
	token := a.signup(t).json(t)["token"].(string)
	h := httpauth.AuthenticateOptional(a.svc.Verifier())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := httpauth.ClaimsFromContext(r.Context()); ok {
			fmt.Fprint(w, c.UserID)
			return
		}
		fmt.Fprint(w, "anonymous")
	}))
	for _, tt := range []struct {
		name   string
		header []string
		status int
		body   string
	}{
		{"nothing", nil, 200, "anonymous"},
		{"cookie", []string{"Cookie", "gatehouse_access=" + token}, 200, "anonymous"},
		{"bearer", httpauthtest.Bearer(token), 200, "user"},
		{"garbage", httpauthtest.Bearer("garbage"), 401, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Add(tt.header[i], tt.header[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tt.status || (tt.body == "anonymous" && w.Body.String() != "anonymous") ||
				(tt.body == "user" && w.Body.String() == "anonymous") {
				t.Errorf("%d %s", w.Code, w.Body)
			}
		})
	}
}

// TestTrustedOriginsChecked checks that New refuses a trusted origin that
// no browser would send, since it could never match.
func TestTrustedOriginsChecked(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{
		"https://app.example.com/", "https://app.example.com/path", "app.example.com", "https://", "ftp://app.example.com",
		"https://App.example.com", "https://app.example.com:443", "http://app.example.com:80", "https://user@app.example.com",
		"https://app.example.com?x", "https://app.example.com#x", "https://app.example.com:", "*", "",
	} {
		if _, err := httpauth.New(svc, httpauth.Config{Cookies: true, TrustedOrigins: []string{o}}); err == nil {
			t.Errorf("TrustedOrigins %q accepted", o)
		}
	}
	for _, o := range []string{"https://app.example.com", "http://localhost:5173", "https://[::1]:8443", "https://xn--bcher-kva.example"} {
		if _, err := httpauth.New(svc, httpauth.Config{Cookies: true, TrustedOrigins: []string{o}}); err != nil {
			t.Errorf("TrustedOrigins %q: %v", o, err)
		}
	}
}

// TestCookieNames checks which names of the access-token cookie a request
// may use: the prefixed one always (browsers keep such a cookie only if
// it was set Secure, by an https page); the bare one only on plain HTTP
// to a loopback Host, as in local development, unless
// AlwaysSecureCookies. A proxy that ends TLS and forwards with a
// loopback Host gets prefixed cookies from the page's https Origin, and
// they work.
func TestCookieNames(t *testing.T) {
	for _, always := range []bool{false, true} {
		a := newCookieApp(t, false, httpauth.Config{Cookies: true, AlwaysSecureCookies: always}, sessions)
		r := a.signup(t, "Origin", "https://app.example.com", "Sec-Fetch-Site", "same-origin")
		token := r.json(t)["token"].(string)
		if !strings.HasPrefix(r.setCookies()[1], httpauth.AccessCookie+"=") {
			t.Fatalf("signup from an https page: Set-Cookie %q", r.setCookies())
		}
		for _, tt := range []struct {
			name, cookie, host string
			pass               bool
		}{
			{"prefixed, loopback Host", httpauth.AccessCookie, "", true},
			{"prefixed, public Host", httpauth.AccessCookie, "app.example.com", true},
			{"bare, loopback Host", "gatehouse_access", "", !always},
			{"bare, localhost", "gatehouse_access", "localhost:8080", !always},
			{"bare, public Host", "gatehouse_access", "app.example.com", false},
		} {
			header := []string{"Cookie", tt.cookie + "=" + token}
			if tt.host != "" {
				header = append(header, "Host", tt.host)
			}
			got := a.send(t, nil, "GET", httpauthtest.ProtectedPath, "", header...)
			if (got.status == 200) != tt.pass {
				t.Errorf("AlwaysSecureCookies %v, %s: %d %s", always, tt.name, got.status, got.body)
			}
		}
	}
}

// cookieConfigs are the configurations of the Service whose OpenAPI
// documents in cookie mode the tests check (and TestOpenAPILint lints).
var cookieConfigs = []struct {
	name     string
	cfg      auth.Config
	sessions bool
}{
	{"no sessions", auth.Config{}, false},
	{"sessions", auth.Config{RefreshTokens: true, CheckRevocation: true, Mailer: quietMail}, true},
}

// TestOpenAPICookieMode checks the OpenAPI document of a Handler in
// cookie mode: the cookie is a security scheme beside bearer, /logout is
// mounted without refresh tokens too, refreshToken is optional, every
// state-changing route documents the 403 of ProblemCrossOrigin, and the
// answers that set or clear the cookies list Set-Cookie; and the
// documented operations are those that answer.
func TestOpenAPICookieMode(t *testing.T) {
	for _, c := range cookieConfigs {
		t.Run(c.name, func(t *testing.T) {
			s := openAPIServer(t, memstore.New(), c.cfg, httpauth.Config{Cookies: true})
			raw, _ := fetchOpenAPI(t, s)
			var doc struct {
				Paths map[string]map[string]struct {
					Security    []map[string][]string `json:"security"`
					RequestBody *struct {
						Content map[string]struct {
							Schema struct {
								Required []string `json:"required"`
							} `json:"schema"`
						} `json:"content"`
					} `json:"requestBody"`
					Responses map[string]struct {
						Headers map[string]any `json:"headers"`
						Content map[string]struct {
							Schema struct {
								AllOf []struct {
									Properties struct {
										Type struct {
											Enum []string `json:"enum"`
										} `json:"type"`
									} `json:"properties"`
								} `json:"allOf"`
							} `json:"schema"`
						} `json:"content"`
					} `json:"responses"`
				} `json:"paths"`
				Components struct {
					SecuritySchemes map[string]struct{ Type, In, Name string } `json:"securitySchemes"`
				} `json:"components"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if sc := doc.Components.SecuritySchemes["cookie"]; sc.Type != "apiKey" || sc.In != "cookie" || sc.Name != httpauth.AccessCookie {
				t.Errorf("cookie scheme %+v", sc)
			}
			if got := doc.Paths["/api/user/me"]["get"].Security; len(got) != 2 || got[0]["bearer"] == nil || got[1]["cookie"] == nil {
				t.Errorf("GET /me security %v, want bearer or cookie", got)
			}
			logout, ok := doc.Paths["/api/user/logout"]["post"]
			if !ok {
				t.Fatal("/logout is not documented")
			}
			if req := logout.RequestBody.Content["application/json"].Schema.Required; len(req) != 0 {
				t.Errorf("/logout requires %v", req)
			}
			if _, ok := logout.Responses["401"]; ok != c.sessions {
				t.Errorf("/logout documents 401: %v, with sessions %v", ok, c.sessions)
			}
			problems := func(path, method, status string) []string {
				var all []string
				for _, m := range doc.Paths[path][method].Responses[status].Content {
					for _, s := range m.Schema.AllOf {
						all = append(all, s.Properties.Type.Enum...)
					}
				}
				return all
			}
			for path, methods := range doc.Paths {
				for m, op := range methods {
					crossOrigin := slices.Contains(problems(path, m, "403"), httpauth.ProblemCrossOrigin)
					if crossOrigin != (m != "get") {
						t.Errorf("%s %s: 403 of ProblemCrossOrigin documented: %v", m, path, crossOrigin)
					}
					if _, sets := op.Responses["200"].Headers["Set-Cookie"]; m == "post" && slices.Contains([]string{"/api/user/signup", "/api/user/login", "/api/user/refresh", "/api/user/password"}, path) && !sets {
						t.Errorf("%s %s: 200 without Set-Cookie", m, path)
					}
					if _, clears := op.Responses["204"].Headers["Set-Cookie"]; slices.Contains([]string{"/api/user/logout", "/api/user/logout-all", "/api/user/delete"}, path) && !clears {
						t.Errorf("%s %s: 204 without Set-Cookie", m, path)
					}
				}
			}
			if got := problems("/api/user/login", "post", "403"); !slices.Contains(got, httpauth.ProblemAccountDisabled) {
				t.Errorf("login's 403 lost its own problem types: %v", got)
			}

			// What is documented answers, and nothing else does.
			tok := signupToken(t, s)
			var ops, mounted []string
			for path, methods := range doc.Paths {
				for m := range methods {
					ops = append(ops, strings.ToUpper(m)+" "+path)
				}
				for _, m := range []string{"GET", "PATCH", "PUT", "DELETE", "POST"} {
					if strings.HasSuffix(path, "/logout-all") {
						continue // probed last: it ends the probe's session
					}
					if r := s.Do(t, m, path, "application/json", "{}", httpauthtest.Bearer(tok)...); r.Status != 404 && r.Status != 405 {
						mounted = append(mounted, m+" "+path)
					}
				}
			}
			if _, ok := doc.Paths["/api/user/logout-all"]; ok {
				if r := s.Do(t, "POST", "/api/user/logout-all", "", "", httpauthtest.Bearer(tok)...); r.Status == 204 {
					mounted = append(mounted, "POST /api/user/logout-all")
				}
			}
			slices.Sort(ops)
			slices.Sort(mounted)
			if !slices.Equal(ops, mounted) {
				t.Errorf("documented:\n  %s\nmounted:\n  %s", strings.Join(ops, "\n  "), strings.Join(mounted, "\n  "))
			}
		})
	}
}
