package bench

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	jwtmiddleware "github.com/auth0/go-jwt-middleware/v2"
	"github.com/auth0/go-jwt-middleware/v2/validator"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
)

// The trivial protected handler: every contender wraps this one, and the
// "bare" benchmark runs it alone.
var protected = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusNoContent)
})

// ---- a minimal hand-written golang-jwt middleware (the baseline) ----

type minimalKey struct{}

func golangJWTMiddleware(next http.Handler) http.Handler {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		c := new(jwtClaims)
		if _, err := p.ParseWithClaims(token, c, hmacKeyfunc); err != nil {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), minimalKey{}, c)))
	})
}

// ---- auth0/go-jwt-middleware v2 ----

// auth0Claims decodes the wire contract's private claims, as golang-jwt's typed
// claims and ours do.
type auth0Claims struct {
	UserID   string `json:"userId"`
	UserName string `json:"userName"`
	Email    string `json:"email"`
}

func (c *auth0Claims) Validate(context.Context) error {
	if c.UserID == "" {
		return errors.New("missing userId")
	}
	return nil
}

// auth0Middleware: its validator requires an issuer and an audience, so it
// is given the seed token plus iss and aud (contractTokenIssAud).
func auth0Middleware(tb testing.TB, next http.Handler) http.Handler {
	v, err := validator.New(func(context.Context) (any, error) { return secret, nil },
		validator.HS256, benchIssuer, []string{benchAudience},
		validator.WithCustomClaims(func() validator.CustomClaims { return &auth0Claims{} }))
	if err != nil {
		tb.Fatal(err)
	}
	return jwtmiddleware.New(v.ValidateToken).CheckJWT(next)
}

// ---- go-chi/jwtauth v5, as its README sets it up ----

func jwtauthMiddleware(next http.Handler) http.Handler {
	ja := jwtauth.New("HS256", secret, nil)
	return jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(next))
}

// ---- ours ----

func oursHandlerMiddleware(tb testing.TB, issuer, audience string, cached bool, next http.Handler) http.Handler {
	h, err := httpauth.New(ourService(tb, issuer, audience, cached), httpauth.Config{Logger: discard})
	if err != nil {
		tb.Fatal(err)
	}
	return h.Middleware(next)
}

type middlewareCase struct {
	name  string
	h     http.Handler
	token string // sent as "Authorization: Bearer <token>"
}

func middlewareCases(tb testing.TB) []middlewareCase {
	seed, issAud := contractToken(tb), contractTokenIssAud(tb)
	return []middlewareCase{
		{"bare", protected, seed},
		{"golang_jwt_min", golangJWTMiddleware(protected), seed},
		{"jwtauth", jwtauthMiddleware(protected), seed},
		{"auth0", auth0Middleware(tb, protected), issAud},
		// Ours with the verified-token cache off (every request verifies
		// in full, as the peers do), then with the default cache on.
		{"ours_handler", oursHandlerMiddleware(tb, "", "", false, protected), seed},
		{"ours_authenticate", httpauth.Authenticate(ourVerifier(tb, false))(protected), seed},
		{"ours_handler_issaud", oursHandlerMiddleware(tb, benchIssuer, benchAudience, false, protected), issAud},
		{"ours_handler_cached", oursHandlerMiddleware(tb, "", "", true, protected), seed},
	}
}

func bearerRequest(token string) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/user/me", nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

// TestMiddlewaresAgree checks the harness: every middleware lets the valid
// token through to the handler and refuses a missing or forged one (401;
// auth0's default error handler answers 400 to a missing one).
func TestMiddlewaresAgree(t *testing.T) {
	for _, c := range middlewareCases(t) {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c.h.ServeHTTP(w, bearerRequest(c.token))
			if w.Code != http.StatusNoContent {
				t.Fatalf("valid token: status %d, body %q", w.Code, w.Body)
			}
			if c.name == "bare" {
				return
			}
			forged := c.token[:len(c.token)-2] + "AA"
			for name, tok := range map[string]string{"no header": "", "bad signature": forged} {
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, bearerRequest(tok))
				want := http.StatusUnauthorized
				if c.name == "auth0" && tok == "" {
					want = http.StatusBadRequest // its DefaultErrorHandler's answer to ErrJWTMissing
				}
				if w.Code != want {
					t.Errorf("%s: status %d, want %d", name, w.Code, want)
				}
			}
		})
	}
}

// BenchmarkMiddleware measures one GET through each middleware around the
// trivial handler. Method: one *http.Request, built once per contender with
// its Authorization header, is served again and again (middlewares only
// derive requests from it with WithContext or Clone, never change it); each
// iteration gets a fresh httptest.NewRecorder, so every response starts
// empty. "bare" runs the handler alone with the same request and recorder
// cost; a middleware's overhead is its ns/op minus bare's.
func BenchmarkMiddleware(b *testing.B) {
	for _, c := range middlewareCases(b) {
		b.Run(c.name, func(b *testing.B) {
			req := bearerRequest(c.token)
			var w *httptest.ResponseRecorder
			b.ReportAllocs()
			for b.Loop() {
				w = httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
			}
			if w.Code != http.StatusNoContent {
				b.Fatalf("status %d", w.Code)
			}
		})
	}
}
