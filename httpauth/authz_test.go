package httpauth_test

// Tests of authorisation: Require and RequireClaim behind the issuing
// service's middleware, custom claims read back typed, and a separate
// resource service that verifies the issuer's tokens with its published
// keys only (Authenticate with a standalone Verifier).

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/golang-jwt/jwt/v5"
)

// roleClaims is the Config.CustomClaims of the authorisation tests: users
// whose email starts with "admin" are admins of team ops, the others plain
// users of team devops (of which "ops" is a substring).
func roleClaims(_ context.Context, u auth.User) (map[string]any, error) {
	if strings.HasPrefix(u.Email, "admin") {
		return map[string]any{"roles": []string{"admin", "user"}, "team": "ops", "level": 3}, nil
	}
	return map[string]any{"roles": []string{"user"}, "team": "devops", "level": 1}, nil
}

// appClaims are the custom claims of roleClaims, as a handler reads them.
type appClaims struct {
	UserID string   `json:"userId"`
	Roles  []string `json:"roles"`
	Team   string   `json:"team"`
	Level  int      `json:"level"`
}

// counted returns a handler that counts its runs in n and answers 200
// with the caller's userId.
func counted(n *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		c, ok := httpauth.ClaimsFromContext(r.Context())
		if !ok {
			http.Error(w, "no claims", http.StatusInternalServerError)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"userId": c.UserID})
	})
}

const insufficientScope = `Bearer realm="api", error="insufficient_scope"`

// checkForbidden checks a 403 of Require: the RFC 6750 challenge, a
// problem body, and the same body as every earlier 403 recorded in *first.
func checkForbidden(t *testing.T, r httpauthtest.Response, first *string) {
	t.Helper()
	if got := r.Header.Get("WWW-Authenticate"); got != insufficientScope {
		t.Errorf("WWW-Authenticate = %q, want %q", got, insufficientScope)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	httpauthtest.ProblemBody(t, r)
	if *first == "" {
		*first = r.Body
	} else if r.Body != *first {
		t.Errorf("body %s differs from the other 403s' %s", r.Body, *first)
	}
}

// TestAuthzRoles puts routes behind RequireClaim and Require on a service
// whose tokens carry roles from Config.CustomClaims, and sends them an
// admin's token, a plain user's, none and bad ones.
func TestAuthzRoles(t *testing.T) {
	ran := map[string]*atomic.Int64{}
	for _, name := range []string{"admin", "ops", "senior", "unauthenticated"} {
		ran[name] = new(atomic.Int64)
	}
	senior := func(c *token.Claims) bool { // a predicate RequireClaim cannot say: a number compared
		var app appClaims
		return c.Decode(&app) == nil && app.Level >= 2
	}
	a := httpauthtest.NewKeyApp(t, nil, auth.Config{CustomClaims: roleClaims}, func(mux *http.ServeMux, a *httpauthtest.KeyApp) {
		h := a.Handler
		mux.Handle("GET /admin", h.Middleware(httpauth.RequireClaim("roles", "admin")(counted(ran["admin"]))))
		mux.Handle("GET /ops", h.Middleware(httpauth.RequireClaim("team", "ops")(counted(ran["ops"]))))
		// Authenticate with the Service's Verifier: what h.Middleware is.
		mux.Handle("GET /senior", httpauth.Authenticate(a.Svc.Verifier())(httpauth.Require(senior)(counted(ran["senior"]))))
		// Require without any authentication in front: a mistake it must
		// not turn into open access.
		mux.Handle("GET /unauthenticated", httpauth.Require(func(*token.Claims) bool { return true })(counted(ran["unauthenticated"])))
		mux.Handle("GET /profile", h.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := httpauth.ClaimsFromContext(r.Context())
			var app appClaims
			if !ok || c.Decode(&app) != nil {
				http.Error(w, "no claims", http.StatusInternalServerError)
				return
			}
			json.NewEncoder(w).Encode(app)
		})))
	})
	admin := a.Signup(t, "Admin", "admin@example.com", httpauthtest.Password)
	bob := a.Signup(t, "Bob", "bob@example.com", httpauthtest.Password)
	now := time.Now()
	expiredAdmin := httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, `{"userId":"`+admin["userId"]+`","roles":["admin"],"team":"ops","level":3,"iat":`+
		itoa(now.Add(-2*time.Hour).Unix())+`,"exp":`+itoa(now.Add(-time.Hour).Unix())+`}`, httpauthtest.Secret)

	tests := []struct {
		name, path, token string // token "": no Authorization header
		status            int
		sent              bool // for 401: expect error="invalid_token"
	}{
		{name: "admin on admin", path: "/admin", token: admin["token"], status: 200},
		{name: "user on admin", path: "/admin", token: bob["token"], status: 403},
		{name: "no token on admin", path: "/admin", status: 401},
		{name: "garbage on admin", path: "/admin", token: "not-a-jwt", status: 401, sent: true},
		{name: "expired admin on admin", path: "/admin", token: expiredAdmin, status: 401, sent: true},
		{name: "admin on ops (string claim)", path: "/ops", token: admin["token"], status: 200},
		{name: "user on ops (devops: a superstring)", path: "/ops", token: bob["token"], status: 403},
		{name: "no token on ops", path: "/ops", status: 401},
		{name: "admin on senior (predicate)", path: "/senior", token: admin["token"], status: 200},
		{name: "user on senior (predicate)", path: "/senior", token: bob["token"], status: 403},
		{name: "no token on senior", path: "/senior", status: 401},
		{name: "expired admin on senior", path: "/senior", token: expiredAdmin, status: 401, sent: true},
		// Without authentication Require has no verified claims to go
		// by: whatever the request carries, 401 with the bare challenge.
		{name: "admin on unauthenticated Require", path: "/unauthenticated", token: admin["token"], status: 401},
		{name: "no token on unauthenticated Require", path: "/unauthenticated", status: 401},
	}
	var refused, forbidden string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route := strings.TrimPrefix(tt.path, "/")
			before := ran[route].Load()
			var header []string
			if tt.token != "" {
				header = httpauthtest.Bearer(tt.token)
			}
			r := a.Do(t, http.MethodGet, tt.path, "", "", header...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, tt.status, r.Body)
			}
			runs := ran[route].Load() - before
			switch tt.status {
			case 200:
				var got map[string]string
				if json.Unmarshal([]byte(r.Body), &got) != nil || got["userId"] == "" || runs != 1 {
					t.Errorf("handler ran %d times, answered %s", runs, r.Body)
				}
			case 401:
				httpauthtest.CheckRefusal(t, r, tt.sent, &refused)
			case 403:
				checkForbidden(t, r, &forbidden)
			}
			if tt.status != 200 && runs != 0 {
				t.Errorf("the handler ran %d times for a %d", runs, tt.status)
			}
		})
	}

	// A handler reads the custom claims typed, through ClaimsFromContext
	// and Claims.Decode.
	for _, tt := range []struct {
		name string
		sess map[string]string
		want appClaims
	}{
		{"admin", admin, appClaims{UserID: admin["userId"], Roles: []string{"admin", "user"}, Team: "ops", Level: 3}},
		{"user", bob, appClaims{UserID: bob["userId"], Roles: []string{"user"}, Team: "devops", Level: 1}},
	} {
		t.Run("profile of "+tt.name, func(t *testing.T) {
			r := a.Do(t, http.MethodGet, "/profile", "", "", httpauthtest.Bearer(tt.sess["token"])...)
			var got appClaims
			if r.Status != 200 || json.Unmarshal([]byte(r.Body), &got) != nil {
				t.Fatalf("profile: %d %s", r.Status, r.Body)
			}
			if got.UserID != tt.want.UserID || !slices.Equal(got.Roles, tt.want.Roles) || got.Team != tt.want.Team || got.Level != tt.want.Level {
				t.Errorf("decoded claims %+v, want %+v", got, tt.want)
			}
		})
	}

	// Logging in issues the claims again, from the user as stored.
	fresh := a.Login(t, "admin@example.com")
	if r := a.Do(t, http.MethodGet, "/admin", "", "", httpauthtest.Bearer(fresh)...); r.Status != 200 {
		t.Errorf("admin after login: %d %s", r.Status, r.Body)
	}
}

// TestRequireClaimMatching checks what RequireClaim matches, with tokens
// signed by hand under the secret, so that every shape of claim can be
// sent: the claim must be the string, or an array of strings holding it.
func TestRequireClaimMatching(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	exp := itoa(time.Now().Add(time.Hour).Unix())
	tests := []struct {
		name         string
		members      string // JSON members added to the payload
		claim, value string
		allow        bool
	}{
		{"string equal", `"team":"ops"`, "team", "ops", true},
		{"string with JSON escapes", `"team":"\u006fps"`, "team", "ops", true},
		{"empty string asked and held", `"team":""`, "team", "", true},
		{"registered claim", `"team":"x"`, "email", "u1@example.com", true},
		{"array holding it", `"roles":["user","admin"]`, "roles", "admin", true},
		{"array holding it first", `"roles":["user","admin"]`, "roles", "user", true},
		{"string differs", `"team":"ops"`, "team", "dev", false},
		{"substring of the claim", `"team":"devops"`, "team", "ops", false},
		{"prefix of the claim", `"team":"ops"`, "team", "op", false},
		{"superstring of the claim", `"team":"ops"`, "team", "ops2", false},
		{"other case", `"team":"OPS"`, "team", "ops", false},
		{"array without it", `"roles":["user","admin"]`, "roles", "root", false},
		{"substring of an element", `"roles":["user","admin"]`, "roles", "adm", false},
		{"element holding it", `"roles":["administrator"]`, "roles", "admin", false},
		{"empty array", `"roles":[]`, "roles", "admin", false},
		{"number", `"level":3`, "level", "3", false},
		{"number in an array", `"roles":[3]`, "roles", "3", false},
		{"boolean", `"active":true`, "active", "true", false},
		{"object with it as a key", `"roles":{"admin":true}`, "roles", "admin", false},
		{"nested array", `"roles":[["admin"]]`, "roles", "admin", false},
		{"missing claim", `"team":"ops"`, "roles", "admin", false},
		{"claim name in another case", `"Roles":["admin"]`, "roles", "admin", false},
		{"missing claim, empty value asked", `"team":"ops"`, "roles", "", false},
		// null is not the string "" (encoding/json decodes null into a
		// string, or an element of a []string, as a no-op, leaving "").
		{"null, empty value asked", `"team":null`, "team", "", false},
		{"null in an array, empty value asked", `"roles":["user",null]`, "roles", "", false},
		{"empty string in an array, empty value asked", `"roles":["user",""]`, "roles", "", true},
	}
	var forbidden string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ran atomic.Int64
			h := httpauth.Authenticate(svc.Verifier())(httpauth.RequireClaim(tt.claim, tt.value)(counted(&ran)))
			token := httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, `{"userId":"u1","email":"u1@example.com","exp":`+exp+`,`+tt.members+`}`, httpauthtest.Secret)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			r := httpauthtest.Response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.String()}
			switch {
			case tt.allow && (r.Status != 200 || ran.Load() != 1):
				t.Errorf("RequireClaim(%q, %q) on {%s}: %d, handler ran %d times; want it allowed", tt.claim, tt.value, tt.members, r.Status, ran.Load())
			case !tt.allow && (r.Status != 403 || ran.Load() != 0):
				t.Errorf("RequireClaim(%q, %q) on {%s}: %d, handler ran %d times; want 403", tt.claim, tt.value, tt.members, r.Status, ran.Load())
			case !tt.allow:
				checkForbidden(t, r, &forbidden)
			}
		})
	}
}

// TestAuthzResourceService runs a second service, a resource server,
// that holds no key of the issuer's: only a token.Verifier over the keys
// of the issuer's GET /.well-known/jwks.json. It accepts the issuer's
// EdDSA tokens, with their custom claims; it refuses the tokens the issuer
// signed with its HS256 secret (which the issuer itself still accepts),
// and forged ones.
func TestAuthzResourceService(t *testing.T) {
	// The issuer starts as a default service does, signing with its
	// secret, and moves to an EdDSA key, the secret kept to verify.
	secretKey := httpauthtest.MustKey(t, "", httpauthtest.Secret)
	keys := httpauthtest.MustKeySet(t, secretKey)
	issuer := httpauthtest.NewKeyApp(t, nil, auth.Config{Keys: keys, CustomClaims: roleClaims}, nil)
	bobHS := issuer.Signup(t, "Bob", "bob@example.com", httpauthtest.Password)
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed := httpauthtest.MustKey(t, "issuer-ed", edPriv)
	if err := keys.Rotate(ed); err != nil {
		t.Fatal(err)
	}
	admin := issuer.Signup(t, "Admin", "admin@example.com", httpauthtest.Password)
	bobEd := issuer.Login(t, "bob@example.com")
	for _, tok := range []string{admin["token"], bobEd} {
		if err := httpauthtest.SignedBy(tok, ed); err != nil {
			t.Fatalf("a token issued after the rotation: %v", err)
		}
	}
	if err := httpauthtest.SignedBy(bobHS["token"], secretKey); err != nil {
		t.Fatalf("a token issued before the rotation: %v", err)
	}

	// The resource service.
	set := httpauthtest.MustKeySet(t, fetchJWKS(t, issuer.URL+httpauthtest.JWKSPath)...)
	v, err := token.NewVerifier(set, token.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var orders, adminOrders atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("GET /orders", httpauth.Authenticate(v)(counted(&orders)))
	mux.Handle("GET /orders/admin", httpauth.Authenticate(v)(httpauth.RequireClaim("roles", "admin")(counted(&adminOrders))))
	resource := &httpauthtest.App{Server: httptest.NewServer(mux)}
	t.Cleanup(resource.Close)

	// Forgeries, each signed so that only the key it lacks stands between
	// it and acceptance.
	now := time.Now()
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"userId": admin["userId"], "email": "admin@example.com", "roles": []string{"admin"},
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	expired := claims()
	expired["iat"], expired["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	_, attacker, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	adminParts := strings.Split(admin["token"], ".")
	bobParts := strings.Split(bobEd, ".")
	payload, _ := json.Marshal(claims())
	x := httpauthtest.B64URL.EncodeToString(edPub) // the "x" of the published JWK

	tests := []struct {
		name     string
		token    string
		issuer   int // status at the issuer's protected route
		resource int // status at the resource's /orders
		admin    int // status at the resource's /orders/admin
	}{
		{"admin's EdDSA token", admin["token"], 200, 200, 200},
		{"user's EdDSA token", bobEd, 200, 200, 403},
		{"EdDSA signed by hand with the issuer's key", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, edPriv, map[string]any{"kid": ed.ID()}, claims()), 200, 200, 200},
		{"the issuer's HS256 token, signed with its secret", bobHS["token"], 200, 401, 401},
		{"contract-shaped HS256 token under the secret", httpauthtest.HS256(`{"alg":"HS256","typ":"JWT"}`, contractPayload(now), httpauthtest.Secret), 200, 401, 401},
		{"HS256 under the secret, with the EdDSA kid", httpauthtest.SignHeader(t, jwt.SigningMethodHS256, httpauthtest.Secret, map[string]any{"kid": ed.ID()}, claims()), 401, 401, 401},
		{"the issuer's key, a kid naming no key", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, edPriv, map[string]any{"kid": "no-such-key"}, claims()), 401, 401, 401},
		{"the issuer's key, no kid", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, edPriv, nil, claims()), 401, 401, 401},
		{"expired, signed with the issuer's key", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, edPriv, map[string]any{"kid": ed.ID()}, expired), 401, 401, 401},
		{"another Ed25519 key, the issuer's kid", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, attacker, map[string]any{"kid": ed.ID()}, claims()), 401, 401, 401},
		{"another Ed25519 key, no kid", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, attacker, nil, claims()), 401, 401, 401},
		{"another Ed25519 key, embedded as jwk", httpauthtest.SignHeader(t, jwt.SigningMethodEdDSA, attacker, map[string]any{"kid": ed.ID(),
			"jwk": map[string]string{"kty": "OKP", "crv": "Ed25519", "x": httpauthtest.B64URL.EncodeToString(attacker.Public().(ed25519.PublicKey))}}, claims()), 401, 401, 401},
		{"HS256 keyed with the public key", httpauthtest.SignHeader(t, jwt.SigningMethodHS256, []byte(edPub), map[string]any{"kid": ed.ID()}, claims()), 401, 401, 401},
		{"HS256 keyed with the JWK's x", httpauthtest.SignHeader(t, jwt.SigningMethodHS256, []byte(x), map[string]any{"kid": ed.ID()}, claims()), 401, 401, 401},
		{"alg none with the issuer's kid", httpauthtest.Seg(`{"alg":"none","kid":"`+ed.ID()+`"}`) + "." + httpauthtest.Seg(string(payload)) + ".", 401, 401, 401},
		{"user's payload under admin's signature", adminParts[0] + "." + bobParts[1] + "." + adminParts[2], 401, 401, 401},
	}
	var refused string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := issuer.Do(t, http.MethodGet, httpauthtest.ProtectedPath, "", "", httpauthtest.Bearer(tt.token)...); r.Status != tt.issuer {
				t.Errorf("issuer: %d, want %d; body %s", r.Status, tt.issuer, r.Body)
			}
			for _, route := range []struct {
				path   string
				status int
				ran    *atomic.Int64
			}{{"/orders", tt.resource, &orders}, {"/orders/admin", tt.admin, &adminOrders}} {
				before := route.ran.Load()
				r := resource.Do(t, http.MethodGet, route.path, "", "", httpauthtest.Bearer(tt.token)...)
				if r.Status != route.status {
					t.Errorf("resource %s: %d, want %d; body %s", route.path, r.Status, route.status, r.Body)
					continue
				}
				ran := route.ran.Load() - before
				if (r.Status == 200) != (ran == 1) || ran > 1 {
					t.Errorf("resource %s: %d, and the handler ran %d times", route.path, r.Status, ran)
				}
				if r.Status == 401 {
					httpauthtest.CheckRefusal(t, r, true, &refused)
				}
			}
		})
	}

	// The issuer rotates again. Until the resource service refreshes its
	// copy of the JWKS, the new key's tokens are refused there; after,
	// accepted, and the earlier key's still are.
	next := signingKey(t, "EdDSA", "issuer-ed-2")
	if err := keys.Rotate(next); err != nil {
		t.Fatal(err)
	}
	newer := issuer.Login(t, "admin@example.com")
	if err := httpauthtest.SignedBy(newer, next); err != nil {
		t.Fatal(err)
	}
	if r := resource.Do(t, http.MethodGet, "/orders", "", "", httpauthtest.Bearer(newer)...); r.Status != 401 {
		t.Errorf("a token of a key not yet fetched: %d, want 401", r.Status)
	}
	if err := set.Reset(fetchJWKS(t, issuer.URL+httpauthtest.JWKSPath)...); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		token string
		key   *token.Key
	}{{newer, next}, {admin["token"], ed}} {
		if r := resource.Do(t, http.MethodGet, "/orders", "", "", httpauthtest.Bearer(tt.token)...); r.Status != 200 {
			t.Errorf("after the refresh, a token of key %q: %d, want 200", tt.key.ID(), r.Status)
		}
	}
}

// fetchJWKS gets a JWKS over HTTP and returns the keys token.ParseJWKS
// reads from it.
func fetchJWKS(t *testing.T, url string) []*token.Key {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc bytes.Buffer
	if _, err := doc.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	keys, err := token.ParseJWKS(doc.Bytes())
	if err != nil {
		t.Fatalf("ParseJWKS(%s): %v", doc.Bytes(), err)
	}
	return keys
}
