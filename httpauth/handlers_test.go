package httpauth_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
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
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

const (
	signupPath = "/api/user/signup"
	loginPath  = "/api/user/login"
	password   = "correct horse battery staple"
)

// problemBody decodes an RFC 9457 body and checks its status member.
func problemBody(t *testing.T, r response) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	if p["status"] != float64(r.status) {
		t.Errorf("problem status %v, response status %d", p["status"], r.status)
	}
	return p
}

// TestStatusTable walks the status table of the wire contract, one row per
// case, and checks that nothing was stored by any rejected sign-up.
func TestStatusTable(t *testing.T) {
	s := newServer(t, nil, auth.Config{})
	s.signup(t, "Taken", "taken@example.com", password)

	big := `{"name":"n","email":"big@example.com","password":"` + strings.Repeat("a", 70<<10) + `"}`
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		field                                 string // problem's field member, if any
	}{
		{"signup ok", "POST", signupPath, "application/json", `{"name":"Ada","email":"ada@example.com","password":"` + password + `"}`, 200, ""},
		{"charset param ok", "POST", signupPath, "application/json; charset=UTF-8", `{"name":"Bo","email":"bo@example.com","password":"` + password + `"}`, 200, ""},
		{"login ok", "POST", loginPath, "application/json", `{"email":" TAKEN@example.com ","password":"` + password + `"}`, 200, ""},

		{"malformed JSON", "POST", signupPath, "application/json", `{"name":"x",`, 400, ""},
		{"not an object", "POST", signupPath, "application/json", `["a"]`, 400, ""},
		{"empty body", "POST", loginPath, "application/json", ``, 400, ""},
		{"trailing data", "POST", loginPath, "application/json", `{"email":"a@b.co","password":"x"} {}`, 400, ""},
		{"trailing garbage", "POST", loginPath, "application/json", `{"email":"a@b.co","password":"x"}x`, 400, ""},
		{"wrong type number", "POST", signupPath, "application/json", `{"name":1,"email":"n@example.com","password":"` + password + `"}`, 400, "name"},
		{"wrong type null", "POST", loginPath, "application/json", `{"email":null,"password":"x"}`, 400, "email"},
		{"wrong type object", "POST", loginPath, "application/json", `{"email":"a@b.co","password":{"x":1}}`, 400, "password"},
		{"unknown field", "POST", loginPath, "application/json", `{"email":"a@b.co","password":"x","admin":true}`, 400, ""},
		{"duplicate key", "POST", loginPath, "application/json", `{"email":"a@b.co","email":"c@d.co","password":"x"}`, 400, "email"},
		{"invalid UTF-8", "POST", signupPath, "application/json", "{\"name\":\"\xff\",\"email\":\"u@example.com\",\"password\":\"" + password + "\"}", 400, ""},
		{"missing name", "POST", signupPath, "application/json", `{"email":"m@example.com","password":"` + password + `"}`, 400, "name"},
		{"missing email", "POST", loginPath, "application/json", `{"password":"x"}`, 400, "email"},
		{"missing password", "POST", loginPath, "application/json", `{"email":"a@b.co"}`, 400, "password"},
		{"invalid email", "POST", signupPath, "application/json", `{"name":"n","email":"Bob <bob@example.com>","password":"` + password + `"}`, 400, "email"},
		{"short password", "POST", signupPath, "application/json", `{"name":"n","email":"short@example.com","password":"1234567"}`, 400, "password"},
		{"password is email", "POST", signupPath, "application/json", `{"name":"n","email":"same@example.com","password":"Same@Example.com"}`, 400, "password"},

		{"duplicate email", "POST", signupPath, "application/json", `{"name":"Other","email":"Taken@Example.COM","password":"` + password + `"}`, 409, "email"},
		{"wrong password", "POST", loginPath, "application/json", `{"email":"taken@example.com","password":"wrong password!"}`, 401, ""},
		{"unknown email", "POST", loginPath, "application/json", `{"email":"nobody@example.com","password":"wrong password!"}`, 401, ""},
		{"body over limit", "POST", signupPath, "application/json", big, 413, ""},
		{"no content type", "POST", signupPath, "", `{"name":"n","email":"ct@example.com","password":"` + password + `"}`, 415, ""},
		{"text/plain", "POST", loginPath, "text/plain", `{"email":"a@b.co","password":"x"}`, 415, ""},
		{"other charset", "POST", loginPath, "application/json; charset=latin1", `{"email":"a@b.co","password":"x"}`, 415, ""},
		{"GET signup", "GET", signupPath, "", ``, 405, ""},
		{"PUT login", "PUT", loginPath, "application/json", `{}`, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(t, tt.method, tt.path, tt.contentType, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
			}
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if tt.status == 200 {
				decodeSession(t, r.body)
				return
			}
			p := problemBody(t, r)
			if got, _ := p["field"].(string); got != tt.field {
				t.Errorf("field = %q, want %q (body %s)", got, tt.field, r.body)
			}
			if tt.status == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
			}
		})
	}
	// No rejected sign-up left anything behind.
	if n := countUsers(t, s.store, "n@example.com", "m@example.com", "short@example.com",
		"same@example.com", "big@example.com", "ct@example.com", "u@example.com"); n != 0 {
		t.Errorf("%d rejected sign-ups were stored", n)
	}
}

// TestLoginFailuresIdentical checks that a wrong password and an unknown
// email get byte-identical responses, headers included (but for Date).
func TestLoginFailuresIdentical(t *testing.T) {
	s := newServer(t, nil, auth.Config{})
	s.signup(t, "Ada", "ada@example.com", password)
	wrong := s.post(t, loginPath, `{"email":"ada@example.com","password":"not the password"}`)
	unknown := s.post(t, loginPath, `{"email":"eve@example.com","password":"not the password"}`)
	if wrong.status != 401 || unknown.status != 401 || wrong.body != unknown.body {
		t.Fatalf("wrong password: %d %s; unknown email: %d %s", wrong.status, wrong.body, unknown.status, unknown.body)
	}
	wrong.header.Del("Date")
	unknown.header.Del("Date")
	if fmt.Sprint(wrong.header) != fmt.Sprint(unknown.header) {
		t.Errorf("headers differ:\n%v\n%v", wrong.header, unknown.header)
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
	s := newServer(t, failingStore{}, auth.Config{})
	for _, r := range []response{
		s.post(t, signupPath, `{"name":"Ada","email":"ada@example.com","password":"`+password+`"}`),
		s.post(t, loginPath, `{"email":"ada@example.com","password":"`+password+`"}`),
	} {
		if r.status != 500 {
			t.Fatalf("status %d, want 500; body %s", r.status, r.body)
		}
		problemBody(t, r)
		if strings.Contains(r.body, "pq") || strings.Contains(r.body, "10.0.0.5") {
			t.Errorf("driver text leaked: %s", r.body)
		}
	}
	if !strings.Contains(s.logs.String(), "password authentication failed") {
		t.Errorf("the store error was not logged; logs: %s", s.logs)
	}
	if strings.Contains(s.logs.String(), password) {
		t.Errorf("password in logs: %s", s.logs)
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
	s := newServer(t, nil, auth.Config{Params: params, Rand: g, MaxConcurrentHashes: 1, HashWait: 1})

	done := make(chan response)
	go func() {
		done <- s.post(t, signupPath, `{"name":"Ada","email":"ada@example.com","password":"`+password+`"}`)
	}()
	<-g.entered
	r := s.post(t, loginPath, `{"email":"bob@example.com","password":"`+password+`"}`)
	close(g.release)
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("while the slot is held: status %d, Retry-After %q; want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
	problemBody(t, r)
	if first := <-done; first.status != 200 {
		t.Errorf("the sign-up holding the slot: status %d, body %s", first.status, first.body)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	svc, err := auth.New(failingStore{}, auth.Config{Secret: testSecret})
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
	svc, err := auth.New(failingStore{}, auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{Prefix: "/auth/v2"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	for path, want := range map[string]int{"/auth/v2/login": 405, "/auth/v2/signup": 405, "/api/user/login": 404} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}

// TestSignupIssueFailureStoresNothing checks that a sign-up whose token
// cannot be issued (here Config.CustomClaims fails, once) answers 500 and
// stores nothing, so that the same sign-up, tried again, succeeds rather
// than finding the email taken.
func TestSignupIssueFailureStoresNothing(t *testing.T) {
	var calls atomic.Int32
	s := newServer(t, nil, auth.Config{CustomClaims: func(context.Context, auth.User) (map[string]any, error) {
		if calls.Add(1) == 1 {
			return nil, errors.New("the roles service is down")
		}
		return map[string]any{"roles": []string{"user"}}, nil
	}})
	body := signupBody("Ada", "retry@example.com", password)
	if r := s.post(t, signupPath, body); r.status != http.StatusInternalServerError {
		t.Fatalf("sign-up while issuing fails: %d %s, want 500", r.status, r.body)
	}
	if n := countUsers(t, s.store, "retry@example.com"); n != 0 {
		t.Fatalf("a failed sign-up left %d account(s) behind", n)
	}
	if r := s.post(t, signupPath, body); r.status != http.StatusOK {
		t.Fatalf("the same sign-up, tried again: %d %s, want 200", r.status, r.body)
	}
}

// TestHandlerIsHTTPHandler serves a Handler as the whole server, as a
// router other than http.ServeMux would mount it: the endpoints answer as
// Mount's do, and other paths get a 404 problem.
func TestHandlerIsHTTPHandler(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s := &server{Server: srv, svc: svc}
	s.signup(t, "Ada", "handler@example.com", password)
	if r := s.post(t, loginPath, loginBody("handler@example.com", password)); r.status != http.StatusOK {
		t.Errorf("login through the Handler: %d %s", r.status, r.body)
	}
	if r := s.do(t, http.MethodGet, loginPath, "", ""); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET login: %d, Allow %q; want 405 and Allow: POST", r.status, r.header.Get("Allow"))
	}
	for _, path := range []string{"/api/user/nope", "/api/user", "/", "/other/login"} {
		r := s.post(t, path, "{}")
		if r.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, r.status)
			continue
		}
		problemBody(t, r)
	}
}
