package httpauth_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	authpassword "github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestStatusTable walks the status table of the wire contract, one row per
// case, and checks that nothing was stored by any rejected sign-up.
func TestStatusTable(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})
	s.Signup(t, "Taken", "taken@example.com", httpauthtest.Password)

	big := `{"name":"n","email":"big@example.com","password":"` + strings.Repeat("a", 70<<10) + `"}`
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		field                                 string // problem's field member, if any
	}{
		{"signup ok", "POST", httpauthtest.SignupPath, "application/json", `{"name":"Ada","email":"ada@example.com","password":"` + httpauthtest.Password + `"}`, 200, ""},
		{"charset param ok", "POST", httpauthtest.SignupPath, "application/json; charset=UTF-8", `{"name":"Bo","email":"bo@example.com","password":"` + httpauthtest.Password + `"}`, 200, ""},
		{"login ok", "POST", httpauthtest.LoginPath, "application/json", `{"email":" TAKEN@example.com ","password":"` + httpauthtest.Password + `"}`, 200, ""},

		{"malformed JSON", "POST", httpauthtest.SignupPath, "application/json", `{"name":"x",`, 400, ""},
		{"not an object", "POST", httpauthtest.SignupPath, "application/json", `["a"]`, 400, ""},
		{"empty body", "POST", httpauthtest.LoginPath, "application/json", ``, 400, ""},
		{"trailing data", "POST", httpauthtest.LoginPath, "application/json", `{"email":"a@b.co","password":"x"} {}`, 400, ""},
		{"trailing garbage", "POST", httpauthtest.LoginPath, "application/json", `{"email":"a@b.co","password":"x"}x`, 400, ""},
		{"wrong type number", "POST", httpauthtest.SignupPath, "application/json", `{"name":1,"email":"n@example.com","password":"` + httpauthtest.Password + `"}`, 400, "name"},
		{"wrong type null", "POST", httpauthtest.LoginPath, "application/json", `{"email":null,"password":"x"}`, 400, "email"},
		{"wrong type object", "POST", httpauthtest.LoginPath, "application/json", `{"email":"a@b.co","password":{"x":1}}`, 400, "password"},
		{"unknown field", "POST", httpauthtest.LoginPath, "application/json", `{"email":"a@b.co","password":"x","admin":true}`, 400, ""},
		{"duplicate key", "POST", httpauthtest.LoginPath, "application/json", `{"email":"a@b.co","email":"c@d.co","password":"x"}`, 400, "email"},
		{"invalid UTF-8", "POST", httpauthtest.SignupPath, "application/json", "{\"name\":\"\xff\",\"email\":\"u@example.com\",\"password\":\"" + httpauthtest.Password + "\"}", 400, ""},
		{"missing name", "POST", httpauthtest.SignupPath, "application/json", `{"email":"m@example.com","password":"` + httpauthtest.Password + `"}`, 400, "name"},
		{"missing email", "POST", httpauthtest.LoginPath, "application/json", `{"password":"x"}`, 400, "email"},
		{"missing password", "POST", httpauthtest.LoginPath, "application/json", `{"email":"a@b.co"}`, 400, "password"},
		{"invalid email", "POST", httpauthtest.SignupPath, "application/json", `{"name":"n","email":"Bob <bob@example.com>","password":"` + httpauthtest.Password + `"}`, 400, "email"},
		{"short password", "POST", httpauthtest.SignupPath, "application/json", `{"name":"n","email":"short@example.com","password":"1234567"}`, 400, "password"},
		{"password is email", "POST", httpauthtest.SignupPath, "application/json", `{"name":"n","email":"same@example.com","password":"Same@Example.com"}`, 400, "password"},

		{"duplicate email", "POST", httpauthtest.SignupPath, "application/json", `{"name":"Other","email":"Taken@Example.COM","password":"` + httpauthtest.Password + `"}`, 409, "email"},
		{"wrong password", "POST", httpauthtest.LoginPath, "application/json", `{"email":"taken@example.com","password":"wrong password!"}`, 401, ""},
		{"unknown email", "POST", httpauthtest.LoginPath, "application/json", `{"email":"nobody@example.com","password":"wrong password!"}`, 401, ""},
		{"body over limit", "POST", httpauthtest.SignupPath, "application/json", big, 413, ""},
		{"no content type", "POST", httpauthtest.SignupPath, "", `{"name":"n","email":"ct@example.com","password":"` + httpauthtest.Password + `"}`, 415, ""},
		{"text/plain", "POST", httpauthtest.LoginPath, "text/plain", `{"email":"a@b.co","password":"x"}`, 415, ""},
		{"other charset", "POST", httpauthtest.LoginPath, "application/json; charset=latin1", `{"email":"a@b.co","password":"x"}`, 415, ""},
		{"GET signup", "GET", httpauthtest.SignupPath, "", ``, 405, ""},
		{"PUT login", "PUT", httpauthtest.LoginPath, "application/json", `{}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, tt.method, tt.path, tt.contentType, tt.body)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, tt.status, r.Body)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if tt.status == 200 {
				httpauthtest.DecodeSession(t, r.Body)
				return
			}
			p := httpauthtest.ProblemBody(t, r)
			if got, _ := p["field"].(string); got != tt.field {
				t.Errorf("field = %q, want %q (body %s)", got, tt.field, r.Body)
			}
			if tt.status == 405 && r.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", r.Header.Get("Allow"))
			}
		})
	}
	// No rejected sign-up left anything behind.
	if n := httpauthtest.CountUsers(t, s.Store, "n@example.com", "m@example.com", "short@example.com",
		"same@example.com", "big@example.com", "ct@example.com", "u@example.com"); n != 0 {
		t.Errorf("%d rejected sign-ups were stored", n)
	}
}

// TestLoginFailuresIdentical checks that a wrong password and an unknown
// email get byte-identical responses, headers included (but for Date).
func TestLoginFailuresIdentical(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})
	s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)
	wrong := s.Post(t, httpauthtest.LoginPath, `{"email":"ada@example.com","password":"not the password"}`)
	unknown := s.Post(t, httpauthtest.LoginPath, `{"email":"eve@example.com","password":"not the password"}`)
	if wrong.Status != 401 || unknown.Status != 401 || wrong.Body != unknown.Body {
		t.Fatalf("wrong password: %d %s; unknown email: %d %s", wrong.Status, wrong.Body, unknown.Status, unknown.Body)
	}
	wrong.Header.Del("Date")
	unknown.Header.Del("Date")
	if fmt.Sprint(wrong.Header) != fmt.Sprint(unknown.Header) {
		t.Errorf("headers differ:\n%v\n%v", wrong.Header, unknown.Header)
	}
}

// failingStore fails every call with text a driver might produce.
type failingStore struct{}

var errDriver = errors.New(`pq: password authentication failed for user "app" at 10.0.0.5`)

func (failingStore) CreateUser(context.Context, auth.User) error { return errDriver }
func (failingStore) UserByEmail(context.Context, string) (auth.User, error) {
	return auth.User{}, errDriver
}
func (failingStore) UserByID(context.Context, string) (auth.User, error) {
	return auth.User{}, errDriver
}

func TestStoreFailureIs500WithoutDriverText(t *testing.T) {
	s := httpauthtest.NewApp(t, failingStore{}, auth.Config{})
	for _, r := range []httpauthtest.Response{
		s.Post(t, httpauthtest.SignupPath, `{"name":"Ada","email":"ada@example.com","password":"`+httpauthtest.Password+`"}`),
		s.Post(t, httpauthtest.LoginPath, `{"email":"ada@example.com","password":"`+httpauthtest.Password+`"}`),
	} {
		if r.Status != 500 {
			t.Fatalf("status %d, want 500; body %s", r.Status, r.Body)
		}
		httpauthtest.ProblemBody(t, r)
		if strings.Contains(r.Body, "pq") || strings.Contains(r.Body, "10.0.0.5") {
			t.Errorf("driver text leaked: %s", r.Body)
		}
	}
	if !strings.Contains(s.Logs.String(), "password authentication failed") {
		t.Errorf("the store error was not logged; logs: %s", s.Logs)
	}
	if strings.Contains(s.Logs.String(), httpauthtest.Password) {
		t.Errorf("password in logs: %s", s.Logs)
	}
}

// gateRand is crypto/rand, except that reads of exactly n bytes (the salt)
// announce themselves on entered and then block until release is closed.
type gateRand struct {
	n       int
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gateRand) Read(p []byte) (int, error) {
	if len(p) == g.n {
		g.once.Do(func() {
			close(g.entered)
			<-g.release
		})
	}
	return rand.Read(p)
}

// TestHashingCapacity503 holds the only hashing slot with a sign-up that is
// stopped inside it, and checks that a concurrent login is answered 503
// with Retry-After instead of queueing without bound.
func TestHashingCapacity503(t *testing.T) {
	params := authpassword.DefaultParams()
	params.SaltLen = 24 // distinguishes the salt read from other random reads
	g := &gateRand{n: 24, entered: make(chan struct{}), release: make(chan struct{})}
	s := httpauthtest.NewApp(t, nil, auth.Config{Params: params, Rand: g, MaxConcurrentHashes: 1, HashWait: 1})

	done := make(chan httpauthtest.Response)
	go func() {
		done <- s.Post(t, httpauthtest.SignupPath, `{"name":"Ada","email":"ada@example.com","password":"`+httpauthtest.Password+`"}`)
	}()
	<-g.entered
	r := s.Post(t, httpauthtest.LoginPath, `{"email":"bob@example.com","password":"`+httpauthtest.Password+`"}`)
	close(g.release)
	if r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("while the slot is held: status %d, Retry-After %q; want 503 with Retry-After", r.Status, r.Header.Get("Retry-After"))
	}
	httpauthtest.ProblemBody(t, r)
	if first := <-done; first.Status != 200 {
		t.Errorf("the sign-up holding the slot: status %d, body %s", first.Status, first.Body)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	svc, err := auth.New(failingStore{}, auth.Config{Secret: httpauthtest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []httpauth.Config{
		{Prefix: "api"}, {Prefix: "/api/"}, {Prefix: "/a b"}, {MaxBodyBytes: -1}, {MaxBodyBytes: 2 << 20},
	} {
		if _, err := httpauth.New(svc, cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	if _, err := httpauth.New(nil, httpauth.Config{}); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// TestMountPrefix mounts under a custom prefix and checks that only those
// paths answer.
func TestMountPrefix(t *testing.T) {
	svc, err := auth.New(failingStore{}, auth.Config{Secret: httpauthtest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{Prefix: "/auth/v2"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	// failingStore has no account abilities: the account routes are off
	// and answer 404 to any method.
	for path, want := range map[string]int{
		"/auth/v2/login": 405, "/auth/v2/signup": 405, "/api/user/login": 404,
		"/auth/v2/email/verify": 404, "/auth/v2/password/forgot": 404, "/auth/v2/password/reset": 404,
		"/auth/v2/email/change/confirm": 404, "/auth/v2/me": 401, "/api/user/me": 404,
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("PUT", path, nil))
		if rec.Code != want {
			t.Errorf("PUT %s: %d, want %d", path, rec.Code, want)
		}
	}
}

// TestSignupFailureStoresNothing checks that a sign-up that fails after
// hashing (its access token cannot be issued: Config.CustomClaims fails;
// or its refresh token cannot be stored) answers 500, stores nothing and
// records no sign-up, so that the same sign-up, tried again, succeeds
// rather than finding the email taken.
func TestSignupFailureStoresNothing(t *testing.T) {
	claimsDown := func(calls *atomic.Int32) func(context.Context, auth.User) (map[string]any, error) {
		return func(context.Context, auth.User) (map[string]any, error) {
			if calls.Add(1) == 1 {
				return nil, errors.New("the roles service is down")
			}
			return map[string]any{"roles": []string{"user"}}, nil
		}
	}
	for _, tt := range []struct {
		name  string
		store auth.UserStore
		cfg   func(*atomic.Int32) auth.Config
	}{
		{"access token not issued", nil, func(calls *atomic.Int32) auth.Config {
			return auth.Config{CustomClaims: claimsDown(calls)}
		}},
		{"refresh token not stored", &sessionsDown{Store: memstore.New()}, func(*atomic.Int32) auth.Config {
			return auth.Config{RefreshTokens: true}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			var signups atomic.Int32
			cfg := tt.cfg(&calls)
			cfg.OnEvent = func(_ context.Context, e auth.Event) {
				if e.Kind == auth.EventSignup {
					signups.Add(1)
				}
			}
			s := httpauthtest.NewApp(t, tt.store, cfg)
			body := httpauthtest.SignupBody("Ada", "retry@example.com", httpauthtest.Password)
			if r := s.Post(t, httpauthtest.SignupPath, body); r.Status != http.StatusInternalServerError {
				t.Fatalf("sign-up that fails: %d %s, want 500", r.Status, r.Body)
			}
			if n := httpauthtest.CountUsers(t, s.Store, "retry@example.com"); n != 0 {
				t.Fatalf("a failed sign-up left %d account(s) behind", n)
			}
			if n := signups.Load(); n != 0 {
				t.Errorf("a failed sign-up recorded %d sign-up event(s)", n)
			}
			if r := s.Post(t, httpauthtest.SignupPath, body); r.Status != http.StatusOK {
				t.Fatalf("the same sign-up, tried again: %d %s, want 200", r.Status, r.Body)
			}
		})
	}
}

// sessionsDown is a memory store whose first CreateRefreshToken fails.
type sessionsDown struct {
	*memstore.Store
	failed atomic.Bool
}

func (s *sessionsDown) CreateRefreshToken(ctx context.Context, tok auth.RefreshToken, gen int64) error {
	if s.failed.CompareAndSwap(false, true) {
		return errors.New("the database went away")
	}
	return s.Store.CreateRefreshToken(ctx, tok, gen)
}

// TestHandlerIsHTTPHandler serves a Handler as the whole server, as a
// router other than http.ServeMux would mount it: the endpoints answer as
// Mount's do, and other paths get a 404 problem.
func TestHandlerIsHTTPHandler(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := &httpauthtest.App{Server: srv, Svc: svc}
	s.Signup(t, "Ada", "handler@example.com", httpauthtest.Password)
	if r := s.Post(t, httpauthtest.LoginPath, httpauthtest.LoginBody("handler@example.com", httpauthtest.Password)); r.Status != http.StatusOK {
		t.Errorf("login through the Handler: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, http.MethodGet, httpauthtest.LoginPath, "", ""); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET login: %d, Allow %q; want 405 and Allow: POST", r.Status, r.Header.Get("Allow"))
	}
	if r := s.Do(t, http.MethodGet, httpauthtest.MePath, "", ""); r.Status != http.StatusUnauthorized {
		t.Errorf("GET me without a token through the Handler: %d %s, want 401", r.Status, r.Body)
	}
	for _, path := range []string{"/api/user/nope", "/api/user", "/", "/other/login"} {
		r := s.Post(t, path, "{}")
		if r.Status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, r.Status)
			continue
		}
		httpauthtest.ProblemBody(t, r)
	}
}
