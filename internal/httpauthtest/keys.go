package httpauthtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/golang-jwt/jwt/v5"
)

// KeyApp is an auth service on a real loopback listener for the tests of
// keys and authorisation: what NewApp starts (the endpoints under
// /api/user, GET ProtectedPath behind the middleware), plus its key set's
// JWKS at /.well-known/jwks.json and the routes that a test adds with
// routes (called with the KeyApp, before its listener starts). Its
// ProtectedPath is safe for concurrent requests (NewApp's counts in a
// plain int) and counts in me; App.Protected stays 0.
//
// Unlike NewApp, it keeps httpauth's default per-IP limits: every login
// of these tests succeeds, and the limits count only failures (and
// requests in flight, at most one per client goroutine here).
type KeyApp struct {
	*App
	Handler *httpauth.Handler
	me      atomic.Int64
}

// NewKeyApp starts a KeyApp on store (a fresh memory store if nil) with
// cfg, whose Secret defaults to Secret and HashWait to a minute
// (argon2id under the race detector, on two cores, is slow).
func NewKeyApp(t *testing.T, store auth.UserStore, cfg auth.Config, routes func(mux *http.ServeMux, a *KeyApp)) *KeyApp {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	if cfg.Secret == nil {
		cfg.Secret = Secret
	}
	if cfg.HashWait == 0 {
		cfg.HashWait = time.Minute
	}
	logs := new(bytes.Buffer)
	logger := slog.New(slog.NewTextHandler(logs, nil)) // one handler, whose mutex guards logs
	if cfg.Logger == nil {
		cfg.Logger = logger
	}
	svc, err := auth.New(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpauth.New(svc, httpauth.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := &KeyApp{App: &App{Svc: svc, Store: store, Logs: logs}, Handler: h}
	mux := http.NewServeMux()
	h.Mount(mux)
	mux.Handle("GET "+ProtectedPath, h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.me.Add(1)
		c, ok := httpauth.ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "protected handler ran without claims", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"userId": c.UserID, "email": c.Email, "userName": c.UserName})
	})))
	mux.Handle("GET "+JWKSPath, httpauth.JWKS(svc.Keys()))
	if routes != nil {
		routes(mux, a)
	}
	a.Server = serve(t, mux, "/api/user")
	return a
}

// call is server.do for goroutines: it returns an error instead of
// failing the test.
func (a *KeyApp) call(method, path, body string, header ...string) (Response, error) {
	req, err := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	if err != nil {
		return Response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return (&target{App: a.App}).send(req)
}

// Login logs email in with the test password and returns the token.
func (a *KeyApp) Login(t *testing.T, email string) string {
	t.Helper()
	r := a.Post(t, LoginPath, LoginBody(email, Password))
	if r.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", email, r.Status, r.Body)
	}
	return DecodeSession(t, r.Body)["token"]
}

// B64URL is the unpadded base64url encoding of JWS segments.
var B64URL = base64.RawURLEncoding

// HS256 builds a token by hand: the given header and payload JSON, signed
// with HMAC-SHA256 under secret. No JWT library is involved.
func HS256(header, payload string, secret []byte) string {
	signing := B64URL.EncodeToString([]byte(header)) + "." + B64URL.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return signing + "." + B64URL.EncodeToString(m.Sum(nil))
}

// SignWith signs claims with golang-jwt under m and key.
func SignWith(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// JWKSPath is where KeyApp serves its key set's JWKS.
const JWKSPath = "/.well-known/jwks.json"

// MustKey returns token.NewKey(id, material), failing t on an error.
func MustKey(t *testing.T, id string, material any) *token.Key {
	t.Helper()
	k, err := token.NewKey(id, material)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// MustKeySet returns a key set of keys, failing t on an error.
func MustKeySet(t *testing.T, keys ...*token.Key) *token.KeySet {
	t.Helper()
	ks, err := token.NewKeySet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// JWSHeader decodes the protected header of a compact JWS, verifying
// nothing. It returns an error rather than failing a test, for goroutines.
func JWSHeader(token string) (map[string]any, error) {
	h, _, ok := strings.Cut(token, ".")
	if !ok {
		return nil, fmt.Errorf("token %q is not a compact JWS", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return nil, fmt.Errorf("token header %q: %v", h, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("token header %s: %v", b, err)
	}
	return m, nil
}

// SignedBy reports whether token's header names key: its kid (none at all
// for a key with ID "") and its algorithm.
func SignedBy(token string, key *token.Key) error {
	h, err := JWSHeader(token)
	if err != nil {
		return err
	}
	kid, hasKid := h["kid"]
	switch {
	case h["alg"] != key.Algorithm():
		return fmt.Errorf("header %v: alg is not %s", h, key.Algorithm())
	case key.ID() == "" && hasKid:
		return fmt.Errorf("header %v has a kid; the key %s has none", h, key.Algorithm())
	case key.ID() != "" && kid != key.ID():
		return fmt.Errorf("header %v: kid is not %q", h, key.ID())
	}
	return nil
}
