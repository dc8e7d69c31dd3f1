package httpauth_test

// Tests of the JWKS handler: the published document, its caching headers,
// conditional and HEAD requests, the methods refused, and that no secret
// is ever published. The helpers at the end (keys, token headers) serve
// authz_test.go and rotation_test.go too.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// serveJWKS sends one request to h in process and returns the response.
// A ResponseRecorder keeps whatever the handler writes, so a body written
// to a HEAD request or with a 304 shows here, where net/http's server
// would silently drop it.
func serveJWKS(h http.Handler, method string, header ...string) httpauthtest.Response {
	req := httptest.NewRequest(method, httpauthtest.JWKSPath, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return httpauthtest.Response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.String()}
}

// TestJWKSHandler checks the document the handler serves and the headers
// it comes with, for a set holding a key of every asymmetric algorithm and
// an HMAC secret.
func TestJWKSHandler(t *testing.T) {
	ed := signingKey(t, "EdDSA", "ed-1")
	ec := signingKey(t, "ES256", "") // named by its thumbprint
	rs := signingKey(t, "RS256", "rsa-1")
	secret := []byte("an HMAC secret that must never be published, 32+ bytes")
	hs := httpauthtest.MustKey(t, "hs-1", secret)
	keys := httpauthtest.MustKeySet(t, ed, hs, ec, rs)
	r := serveJWKS(httpauth.JWKS(keys), http.MethodGet)

	if r.Status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.Status, r.Body)
	}
	for name, want := range map[string]string{
		"Content-Type":           "application/jwk-set+json",
		"Cache-Control":          "public, max-age=300",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         fmt.Sprint(len(r.Body)),
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if etag := r.Header.Get("ETag"); len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag = %q, want a strong, quoted entity tag", etag)
	}
	if r.Body != string(keys.JWKS()) {
		t.Errorf("body %s is not the set's JWKS %s", r.Body, keys.JWKS())
	}

	// The document is one that ParseJWKS reads back into the same public
	// keys, under the same kids and algorithms, the HMAC key left out.
	parsed, err := token.ParseJWKS([]byte(r.Body))
	if err != nil {
		t.Fatalf("ParseJWKS(%s): %v", r.Body, err)
	}
	want := []*token.Key{ed, ec, rs}
	if len(parsed) != len(want) {
		t.Fatalf("ParseJWKS found %d keys, want %d (EdDSA, ES256, RS256): %s", len(parsed), len(want), r.Body)
	}
	for i, k := range parsed {
		w := want[i]
		if k.ID() != w.ID() || k.Algorithm() != w.Algorithm() {
			t.Errorf("key %d: kid %q alg %s, want kid %q alg %s", i, k.ID(), k.Algorithm(), w.ID(), w.Algorithm())
		}
		pub, ok := w.Public().(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !pub.Equal(k.Public()) {
			t.Errorf("key %d (%s): the published public key is not the set's", i, w.ID())
		}
		if k.CanSign() {
			t.Errorf("key %d (%s): a key read from the JWKS can sign", i, w.ID())
		}
	}
	if ec.ID() != ec.Thumbprint() || ec.ID() == "" {
		t.Errorf("an ES256 key named \"\" has ID %q, want its thumbprint %q", ec.ID(), ec.Thumbprint())
	}

	// Each key has exactly its public members, with "use":"sig": nothing
	// private ("d", "p"...) nor symmetric ("k").
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.Body), &doc); err != nil {
		t.Fatal(err)
	}
	members := map[string][]string{
		"OKP": {"alg", "crv", "kid", "kty", "use", "x"},
		"EC":  {"alg", "crv", "kid", "kty", "use", "x", "y"},
		"RSA": {"alg", "e", "kid", "kty", "n", "use"},
	}
	for i, jwk := range doc.Keys {
		kty, _ := jwk["kty"].(string)
		var got []string
		for name := range jwk {
			got = append(got, name)
		}
		slices.Sort(got)
		if w, ok := members[kty]; !ok || !slices.Equal(got, w) {
			t.Errorf("key %d (kty %q) has members %v, want %v", i, kty, got, w)
		}
		if jwk["use"] != "sig" {
			t.Errorf("key %d: use %v, want sig", i, jwk["use"])
		}
	}
	checkNoSecret(t, r.Body, secret)
}

// TestJWKSConditional checks If-None-Match: the ETag, however it is
// listed, gets 304 with no body; anything else gets the document.
func TestJWKSConditional(t *testing.T) {
	keys := httpauthtest.MustKeySet(t, signingKey(t, "EdDSA", "ed-1"))
	h := httpauth.JWKS(keys)
	full := serveJWKS(h, http.MethodGet)
	etag := full.Header.Get("ETag")
	if full.Status != http.StatusOK || etag == "" {
		t.Fatalf("GET: status %d, ETag %q", full.Status, etag)
	}

	tests := []struct {
		name   string
		method string   // default GET
		inm    []string // If-None-Match header lines
		status int
	}{
		{name: "no If-None-Match", status: 200},
		{name: "the ETag", inm: []string{etag}, status: 304},
		{name: "weak form of the ETag", inm: []string{"W/" + etag}, status: 304},
		{name: "in a list", inm: []string{`"stale", ` + etag + `, "older"`}, status: 304},
		{name: "in a list without spaces", inm: []string{`"stale",W/` + etag}, status: 304},
		{name: "in a second header line", inm: []string{`"stale"`, etag}, status: 304},
		{name: "star", inm: []string{"*"}, status: 304},
		{name: "HEAD with the ETag", method: http.MethodHead, inm: []string{etag}, status: 304},
		{name: "another ETag", inm: []string{`"stale"`}, status: 200},
		{name: "list without the ETag", inm: []string{`"stale", W/"older"`}, status: 200},
		{name: "the ETag unquoted", inm: []string{strings.Trim(etag, `"`)}, status: 200},
		{name: "the ETag with a suffix", inm: []string{strings.TrimSuffix(etag, `"`) + `x"`}, status: 200},
		{name: "empty", inm: []string{""}, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			var header []string
			for _, v := range tt.inm {
				header = append(header, "If-None-Match", v)
			}
			r := serveJWKS(h, method, header...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d", r.Status, tt.status)
			}
			if got := r.Header.Get("ETag"); got != etag {
				t.Errorf("ETag = %q, want %q", got, etag)
			}
			if got := r.Header.Get("Cache-Control"); got != "public, max-age=300" {
				t.Errorf("Cache-Control = %q", got)
			}
			switch {
			case tt.status == 304 && r.Body != "":
				t.Errorf("304 with a body: %q", r.Body)
			case tt.status == 200 && method == http.MethodGet && r.Body != full.Body:
				t.Errorf("body %s, want %s", r.Body, full.Body)
			}
		})
	}
}

// TestJWKSMethods checks HEAD (the headers of GET, no body) and the
// methods refused with 405.
func TestJWKSMethods(t *testing.T) {
	h := httpauth.JWKS(httpauthtest.MustKeySet(t, signingKey(t, "EdDSA", "ed-1")))
	get := serveJWKS(h, http.MethodGet)

	head := serveJWKS(h, http.MethodHead)
	if head.Status != http.StatusOK {
		t.Fatalf("HEAD: status %d, want 200", head.Status)
	}
	if head.Body != "" {
		t.Errorf("HEAD: body %q, want none", head.Body)
	}
	for _, name := range []string{"Content-Type", "Content-Length", "ETag", "Cache-Control", "X-Content-Type-Options"} {
		if got, want := head.Header.Get(name), get.Header.Get(name); got != want || got == "" {
			t.Errorf("HEAD: %s = %q, GET's is %q", name, got, want)
		}
	}

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		t.Run(method, func(t *testing.T) {
			r := serveJWKS(h, method)
			if r.Status != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", r.Status)
			}
			if got := r.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
			}
			httpauthtest.ProblemBody(t, r)
			if strings.Contains(r.Body, `"keys"`) {
				t.Errorf("405 carries the document: %s", r.Body)
			}
		})
	}
}

// TestJWKSRotation checks that the document and its ETag follow the key
// set: a rotated-in key appears, a removed one goes, and a client holding
// an old ETag gets the new document rather than 304.
func TestJWKSRotation(t *testing.T) {
	first := signingKey(t, "EdDSA", "")
	keys := httpauthtest.MustKeySet(t, first)
	h := httpauth.JWKS(keys)
	before := serveJWKS(h, http.MethodGet)
	oldTag := before.Header.Get("ETag")
	if again := serveJWKS(h, http.MethodGet); again.Header.Get("ETag") != oldTag || again.Body != before.Body {
		t.Fatalf("two GETs of an unchanged set differ: ETag %q then %q", oldTag, again.Header.Get("ETag"))
	}

	second := signingKey(t, "ES256", "")
	if err := keys.Rotate(second); err != nil {
		t.Fatal(err)
	}
	rotated := serveJWKS(h, http.MethodGet, "If-None-Match", oldTag)
	newTag := rotated.Header.Get("ETag")
	if rotated.Status != http.StatusOK {
		t.Fatalf("after Rotate, the old ETag got %d, want 200 with the new document", rotated.Status)
	}
	if newTag == oldTag || newTag == "" {
		t.Errorf("after Rotate, ETag %q; before, %q", newTag, oldTag)
	}
	if got := publishedKIDs(t, rotated.Body); !slices.Equal(got, []string{second.ID(), first.ID()}) {
		t.Errorf("after Rotate, kids %q, want the new key then the old one %q", got, []string{second.ID(), first.ID()})
	}
	if r := serveJWKS(h, http.MethodGet, "If-None-Match", newTag); r.Status != http.StatusNotModified {
		t.Errorf("the new ETag got %d, want 304", r.Status)
	}

	if err := keys.Remove(first.ID()); err != nil {
		t.Fatal(err)
	}
	removed := serveJWKS(h, http.MethodGet, "If-None-Match", newTag)
	if removed.Status != http.StatusOK || removed.Header.Get("ETag") == newTag {
		t.Errorf("after Remove: status %d, ETag %q (was %q)", removed.Status, removed.Header.Get("ETag"), newTag)
	}
	if got := publishedKIDs(t, removed.Body); !slices.Equal(got, []string{second.ID()}) {
		t.Errorf("after Remove, kids %q, want only %q", got, second.ID())
	}
}

// TestJWKSHMACOnly checks that a Service signing with its secret, as every
// Service does by default, publishes no key at all, and never its secret.
func TestJWKSHMACOnly(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: httpauthtest.Secret})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := serveJWKS(httpauth.JWKS(svc.Keys()), method)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", method, r.Status)
		}
		if method == http.MethodGet && r.Body != `{"keys":[]}` {
			t.Errorf("GET: body %q, want exactly {\"keys\":[]}", r.Body)
		}
		if got := r.Header.Get("Content-Length"); got != "11" {
			t.Errorf("%s: Content-Length %q, want 11", method, got)
		}
		checkNoSecret(t, r.Body+fmt.Sprint(r.Header), httpauthtest.Secret)
	}
	body := serveJWKS(httpauth.JWKS(svc.Keys()), http.MethodGet).Body
	if _, err := token.ParseJWKS([]byte(body)); !errors.Is(err, token.ErrInvalidConfig) {
		t.Errorf("ParseJWKS(%s) = %v, want an error wrapping ErrInvalidConfig (no usable key)", body, err)
	}

	// Rotating the secret's set to an EdDSA key publishes that key alone:
	// the secret, still verifying older tokens, stays unpublished.
	next := signingKey(t, "EdDSA", "")
	if err := svc.Keys().Rotate(next); err != nil {
		t.Fatal(err)
	}
	r := serveJWKS(httpauth.JWKS(svc.Keys()), http.MethodGet)
	if got := publishedKIDs(t, r.Body); !slices.Equal(got, []string{next.ID()}) {
		t.Errorf("after rotating to EdDSA, kids %q, want only %q", got, next.ID())
	}
	checkNoSecret(t, r.Body, httpauthtest.Secret)
}

// TestJWKSMounted mounts the handler as its documentation says, on a
// ServeMux behind a real listener, and checks what a client sees.
func TestJWKSMounted(t *testing.T) {
	key := signingKey(t, "EdDSA", "")
	a := httpauthtest.NewKeyApp(t, nil, auth.Config{Keys: httpauthtest.MustKeySet(t, key)}, nil)

	get := a.Do(t, http.MethodGet, httpauthtest.JWKSPath, "", "")
	if get.Status != 200 || get.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("GET: %d %s %s", get.Status, get.Header.Get("Content-Type"), get.Body)
	}
	if got := publishedKIDs(t, get.Body); !slices.Equal(got, []string{key.ID()}) {
		t.Errorf("kids %q, want %q", got, key.ID())
	}
	if r := a.Do(t, http.MethodGet, httpauthtest.JWKSPath, "", "", "If-None-Match", get.Header.Get("ETag")); r.Status != 304 || r.Body != "" {
		t.Errorf("If-None-Match: %d %q, want 304 without a body", r.Status, r.Body)
	}
	if r := a.Do(t, http.MethodHead, httpauthtest.JWKSPath, "", ""); r.Status != 200 || r.Header.Get("ETag") != get.Header.Get("ETag") {
		t.Errorf("HEAD: %d, ETag %q", r.Status, r.Header.Get("ETag"))
	}
	// The mux answers other methods itself, since the pattern says GET;
	// its 405 names the same methods.
	if r := a.Do(t, http.MethodPost, httpauthtest.JWKSPath, "application/json", "{}"); r.Status != 405 || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405, GET, HEAD", r.Status, r.Header.Get("Allow"))
	}
}

// ---- Helpers shared by the key tests ----------------------------------

// checkNoSecret fails t if text holds secret in any usual encoding.
func checkNoSecret(t *testing.T, text string, secret []byte) {
	t.Helper()
	for enc, s := range map[string]string{
		"raw":              string(secret),
		"base64url":        base64.RawURLEncoding.EncodeToString(secret),
		"padded base64url": base64.URLEncoding.EncodeToString(secret),
		"base64":           base64.StdEncoding.EncodeToString(secret),
		"hex":              hex.EncodeToString(secret),
	} {
		if strings.Contains(text, s) {
			t.Errorf("the secret, %s, is in %q", enc, text)
		}
	}
}

// publishedKIDs returns the kids of the keys ParseJWKS reads from doc, in
// order.
func publishedKIDs(t *testing.T, doc string) []string {
	t.Helper()
	keys, err := token.ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatalf("ParseJWKS(%s): %v", doc, err)
	}
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.ID())
	}
	return kids
}

// signingKey returns a new private key for alg (EdDSA, ES256 or RS256),
// named id, or by its thumbprint if id is "".
func signingKey(t *testing.T, alg, id string) *token.Key {
	t.Helper()
	var material any
	var err error
	switch alg {
	case "EdDSA":
		_, material, err = ed25519.GenerateKey(rand.Reader)
	case "ES256":
		material, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256":
		material, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("signingKey: no algorithm %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return httpauthtest.MustKey(t, id, material)
}
