package httpauthtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// Secret is the HMAC secret of the test services.
var Secret = []byte("0123456789abcdef0123456789abcdef-test")

// App is an auth service on a real loopback listener: the endpoints
// under /api/user (GET /api/user/me among them) and GET [ProtectedPath]
// behind the middleware, a route that answers the token's identity
// without reading the store and counts the requests it let through; the
// same route at [VerifiedPath] also requires a verified email.
type App struct {
	*httptest.Server
	Svc       *auth.Service
	Store     auth.UserStore
	Protected int // requests that reached the protected handler
	Logs      *bytes.Buffer
}

// NewApp starts an App for a Service on store (a fresh memory store if
// nil) with cfg, whose Secret defaults to Secret, and closes it when t
// ends.
func NewApp(t *testing.T, store auth.UserStore, cfg auth.Config) *App {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	if cfg.Secret == nil {
		cfg.Secret = Secret
	}
	svc, err := auth.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &App{Svc: svc, Store: store, Logs: new(bytes.Buffer)}
	// Every request of these tests comes from 127.0.0.1: no per-IP limits
	// here (they have tests of their own: throttle.go, httpauth/throttle_test.go).
	h, err := httpauth.New(svc, httpauth.Config{
		Logger:                slog.New(slog.NewTextHandler(s.Logs, nil)),
		MaxLoginFailuresPerIP: -1,
		MaxSignupsPerIP:       -1,
		MaxLinkFailuresPerIP:  -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	protected := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Protected++
		c, ok := httpauth.ClaimsFromContext(r.Context())
		if !ok {
			t.Error("protected handler ran without claims")
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"userId": c.UserID, "email": c.Email, "userName": c.UserName})
	})
	mux.Handle("GET "+ProtectedPath, h.Middleware(protected))
	mux.Handle("GET "+VerifiedPath, h.Middleware(httpauth.RequireVerifiedEmail(protected)))
	s.Server = serve(t, mux, "/api/user")
	return s
}

// CheckAnswers, when set, wraps the transport of the client
// (httptest.Server.Client) of every server that NewApp, NewThrottleApp
// and NewKeyApp start, whose endpoints are under prefix at baseURL, so
// that it may check each request and answer. internal/e2e sets it, in
// its TestMain, to check every answer of the scenarios against the
// server's OpenAPI document with a validator that this module does not
// require.
var CheckAnswers func(t testing.TB, next http.RoundTripper, baseURL, prefix string) http.RoundTripper

// serve starts a loopback server of h, whose endpoints are under prefix,
// and closes it when t ends; see CheckAnswers.
func serve(t testing.TB, h http.Handler, prefix string) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	if CheckAnswers != nil {
		c := srv.Client()
		c.Transport = CheckAnswers(t, c.Transport, srv.URL, prefix)
	}
	return srv
}

// Response is what App.Do read: the status, headers and whole body.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request to the server and reads the whole response.
func (s *App) Do(t *testing.T, method, path, contentType, body string, header ...string) Response {
	t.Helper()
	return s.doWith(t, s.Client(), method, path, contentType, body, header...)
}

// doWith is do through the client c.
func (s *App) doWith(t *testing.T, c *http.Client, method, path, contentType, body string, header ...string) Response {
	t.Helper()
	return Send(t, c, method, s.URL+path, contentType, body, header...)
}

// Send sends a request through c to url and reads the whole response.
// contentType, if not empty, is the Content-Type; header holds name,
// value pairs of header fields, added in order, where "Host" sets the
// request's Host.
func Send(t *testing.T, c *http.Client, method, url, contentType, body string, header ...string) Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Add(header[i], header[i+1])
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Response{resp.StatusCode, resp.Header, string(b)}
}

func (s *App) Post(t *testing.T, path, body string) Response {
	t.Helper()
	return s.Do(t, http.MethodPost, path, "application/json", body)
}

// Signup creates a user through the API and returns its session response.
func (s *App) Signup(t *testing.T, name, email, password string) map[string]string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "email": email, "password": password})
	r := s.Post(t, "/api/user/signup", string(b))
	if r.Status != http.StatusOK {
		t.Fatalf("signup %s: status %d, body %s", email, r.Status, r.Body)
	}
	return DecodeSession(t, r.Body)
}

// DecodeSession checks that body is exactly the wire contract's success shape.
func DecodeSession(t *testing.T, body string) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	out := map[string]string{}
	for _, k := range []string{"userId", "email", "userName", "token"} {
		v, ok := m[k].(string)
		if !ok || v == "" {
			t.Fatalf("body %s: %q missing or not a non-empty string", body, k)
		}
		out[k] = v
	}
	if len(m) != 4 {
		t.Fatalf("body %s: want exactly userId, email, userName, token", body)
	}
	return out
}

// users counts the users a store holds under the given emails.
func CountUsers(t *testing.T, store auth.UserStore, emails ...string) int {
	t.Helper()
	n := 0
	for _, e := range emails {
		if _, err := store.UserByEmail(context.Background(), e); err == nil {
			n++
		}
	}
	return n
}

// CheckRefusal checks a 401 from the middleware: the RFC 6750 challenge
// (with error="invalid_token" when a token was sent), a problem body, and
// the same body as every earlier refusal recorded in *first.
func CheckRefusal(t *testing.T, r Response, tokenSent bool, first *string) {
	t.Helper()
	want := `Bearer realm="api"`
	if tokenSent {
		want += `, error="invalid_token"`
	}
	if got := r.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	ProblemBody(t, r)
	if *first == "" {
		*first = r.Body
	} else if r.Body != *first {
		t.Errorf("body %s differs from the other refusals' %s", r.Body, *first)
	}
}

// InteropNode returns the node binary and the directory of the interop
// scripts, httpauth/testdata/interop, after checking that its node_modules holds
// pkg. .ci/run installs the packages with npm ci; without them the test
// skips, except under CI=true where it fails.
func InteropNode(t *testing.T, pkg string) (node, dir string) {
	t.Helper()
	dir = interopDir(t)
	const install = "npm ci --prefix httpauth/testdata/interop"
	node = testenv.Tool(t, "node", "Node.js, then "+install)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
		testenv.Missing(t, pkg+" is needed ("+install+"): "+err.Error())
	}
	return node, dir
}

const (
	// ProtectedPath is the route of an [App] that the middleware alone
	// guards: it answers {"userId", "email", "userName"} from the token.
	ProtectedPath = "/api/protected"
	// VerifiedPath is ProtectedPath behind httpauth.RequireVerifiedEmail
	// too.
	VerifiedPath = "/api/verified"

	SignupPath = "/api/user/signup"
	LoginPath  = "/api/user/login"
	Password   = "correct horse battery staple"
)

// ProblemBody decodes an RFC 9457 body and checks its status member.
func ProblemBody(t *testing.T, r Response) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	if p["status"] != float64(r.Status) {
		t.Errorf("problem status %v, response status %d", p["status"], r.Status)
	}
	return p
}

// interopDir returns the directory httpauth/testdata/interop, found from
// this source file, so that the scripts run from the tests of any package.
func interopDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the httpauthtest source, and so httpauth/testdata/interop")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "httpauth", "testdata", "interop")
}
