package httpauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test")

// server is an auth service on a real loopback listener: the endpoints
// under /api/user and GET /api/user/me behind the middleware, which
// counts the requests it let through.
type server struct {
	*httptest.Server
	svc       *auth.Service
	store     auth.UserStore
	protected int // requests that reached the protected handler
	logs      *bytes.Buffer
}

func newServer(t *testing.T, store auth.UserStore, cfg auth.Config) *server {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	svc, err := auth.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{svc: svc, store: store, logs: new(bytes.Buffer)}
	// Every request of these tests comes from 127.0.0.1: no per-IP limits
	// here (they have tests of their own, in throttle_test.go).
	h, err := httpauth.New(svc, httpauth.Config{
		Logger:                slog.New(slog.NewTextHandler(s.logs, nil)),
		MaxLoginFailuresPerIP: -1,
		MaxSignupsPerIP:       -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("GET /api/user/me", h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.protected++
		c, ok := httpauth.ClaimsFromContext(r.Context())
		if !ok {
			t.Error("protected handler ran without claims")
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"userId": c.UserID, "email": c.Email, "userName": c.UserName})
	})))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the server and reads the whole response.
func (s *server) do(t *testing.T, method, path, contentType, body string, header ...string) response {
	t.Helper()
	return s.doWith(t, s.Client(), method, path, contentType, body, header...)
}

// doWith is do through the client c.
func (s *server) doWith(t *testing.T, c *http.Client, method, path, contentType, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
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
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (s *server) post(t *testing.T, path, body string) response {
	t.Helper()
	return s.do(t, http.MethodPost, path, "application/json", body)
}

// signup creates a user through the API and returns its session response.
func (s *server) signup(t *testing.T, name, email, password string) map[string]string {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "email": email, "password": password})
	r := s.post(t, "/api/user/signup", string(b))
	if r.status != http.StatusOK {
		t.Fatalf("signup %s: status %d, body %s", email, r.status, r.body)
	}
	return decodeSession(t, r.body)
}

// decodeSession checks that body is exactly the seed's success shape.
func decodeSession(t *testing.T, body string) map[string]string {
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
func countUsers(t *testing.T, store auth.UserStore, emails ...string) int {
	t.Helper()
	n := 0
	for _, e := range emails {
		if _, err := store.UserByEmail(context.Background(), e); err == nil {
			n++
		}
	}
	return n
}

// checkRefusal checks a 401 from the middleware: the RFC 6750 challenge
// (with error="invalid_token" when a token was sent), a problem body, and
// the same body as every earlier refusal recorded in *first.
func checkRefusal(t *testing.T, r response, tokenSent bool, first *string) {
	t.Helper()
	want := `Bearer realm="api"`
	if tokenSent {
		want += `, error="invalid_token"`
	}
	if got := r.header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
	problemBody(t, r)
	if *first == "" {
		*first = r.body
	} else if r.body != *first {
		t.Errorf("body %s differs from the other refusals' %s", r.body, *first)
	}
}
