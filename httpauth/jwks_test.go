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
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

const jwksPath = "/.well-known/jwks.json"

// serveJWKS sends one request to h in process and returns the response.
// A ResponseRecorder keeps whatever the handler writes, so a body written
// to a HEAD request or with a 304 shows here, where net/http's server
// would silently drop it.
func serveJWKS(h http.Handler, method string, header ...string) response {
	req := httptest.NewRequest(method, jwksPath, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{rec.Code, rec.Result().Header, rec.Body.String()}
}

// TestJWKSHandler checks the document the handler serves and the headers
// it comes with, for a set holding a key of every asymmetric algorithm and
// an HMAC secret.
func TestJWKSHandler(t *testing.T) {
	ed := signingKey(t, "EdDSA", "ed-1")
	ec := signingKey(t, "ES256", "") // named by its thumbprint
	rs := signingKey(t, "RS256", "rsa-1")
	secret := []byte("an HMAC secret that must never be published, 32+ bytes")
	hs := mustKey(t, "hs-1", secret)
	keys := mustKeySet(t, ed, hs, ec, rs)
	r := serveJWKS(httpauth.JWKS(keys), http.MethodGet)

	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", r.status, r.body)
	}
	for name, want := range map[string]string{
		"Content-Type":           "application/jwk-set+json",
		"Cache-Control":          "public, max-age=300",
		"X-Content-Type-Options": "nosniff",
		"Content-Length":         fmt.Sprint(len(r.body)),
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if etag := r.header.Get("ETag"); len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' || strings.HasPrefix(etag, "W/") {
		t.Errorf("ETag = %q, want a strong, quoted entity tag", etag)
	}
	if r.body != string(keys.JWKS()) {
		t.Errorf("body %s is not the set's JWKS %s", r.body, keys.JWKS())
	}

	// The document is one that ParseJWKS reads back into the same public
	// keys, under the same kids and algorithms, the HMAC key left out.
	parsed, err := token.ParseJWKS([]byte(r.body))
	if err != nil {
		t.Fatalf("ParseJWKS(%s): %v", r.body, err)
	}
	want := []*token.Key{ed, ec, rs}
	if len(parsed) != len(want) {
		t.Fatalf("ParseJWKS found %d keys, want %d (EdDSA, ES256, RS256): %s", len(parsed), len(want), r.body)
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
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
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
	checkNoSecret(t, r.body, secret)
}

// TestJWKSConditional checks If-None-Match: the ETag, however it is
// listed, gets 304 with no body; anything else gets the document.
func TestJWKSConditional(t *testing.T) {
	keys := mustKeySet(t, signingKey(t, "EdDSA", "ed-1"))
	h := httpauth.JWKS(keys)
	full := serveJWKS(h, http.MethodGet)
	etag := full.header.Get("ETag")
	if full.status != http.StatusOK || etag == "" {
		t.Fatalf("GET: status %d, ETag %q", full.status, etag)
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
			if r.status != tt.status {
				t.Fatalf("status %d, want %d", r.status, tt.status)
			}
			if got := r.header.Get("ETag"); got != etag {
				t.Errorf("ETag = %q, want %q", got, etag)
			}
			if got := r.header.Get("Cache-Control"); got != "public, max-age=300" {
				t.Errorf("Cache-Control = %q", got)
			}
			switch {
			case tt.status == 304 && r.body != "":
				t.Errorf("304 with a body: %q", r.body)
			case tt.status == 200 && method == http.MethodGet && r.body != full.body:
				t.Errorf("body %s, want %s", r.body, full.body)
			}
		})
	}
}

// TestJWKSMethods checks HEAD (the headers of GET, no body) and the
// methods refused with 405.
func TestJWKSMethods(t *testing.T) {
	h := httpauth.JWKS(mustKeySet(t, signingKey(t, "EdDSA", "ed-1")))
	get := serveJWKS(h, http.MethodGet)

	head := serveJWKS(h, http.MethodHead)
	if head.status != http.StatusOK {
		t.Fatalf("HEAD: status %d, want 200", head.status)
	}
	if head.body != "" {
		t.Errorf("HEAD: body %q, want none", head.body)
	}
	for _, name := range []string{"Content-Type", "Content-Length", "ETag", "Cache-Control", "X-Content-Type-Options"} {
		if got, want := head.header.Get(name), get.header.Get(name); got != want || got == "" {
			t.Errorf("HEAD: %s = %q, GET's is %q", name, got, want)
		}
	}

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		t.Run(method, func(t *testing.T) {
			r := serveJWKS(h, method)
			if r.status != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", r.status)
			}
			if got := r.header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
			}
			problemBody(t, r)
			if strings.Contains(r.body, `"keys"`) {
				t.Errorf("405 carries the document: %s", r.body)
			}
		})
	}
}

// TestJWKSRotation checks that the document and its ETag follow the key
// set: a rotated-in key appears, a removed one goes, and a client holding
// an old ETag gets the new document rather than 304.
func TestJWKSRotation(t *testing.T) {
	first := signingKey(t, "EdDSA", "")
	keys := mustKeySet(t, first)
	h := httpauth.JWKS(keys)
	before := serveJWKS(h, http.MethodGet)
	oldTag := before.header.Get("ETag")
	if again := serveJWKS(h, http.MethodGet); again.header.Get("ETag") != oldTag || again.body != before.body {
		t.Fatalf("two GETs of an unchanged set differ: ETag %q then %q", oldTag, again.header.Get("ETag"))
	}

	second := signingKey(t, "ES256", "")
	if err := keys.Rotate(second); err != nil {
		t.Fatal(err)
	}
	rotated := serveJWKS(h, http.MethodGet, "If-None-Match", oldTag)
	newTag := rotated.header.Get("ETag")
	if rotated.status != http.StatusOK {
		t.Fatalf("after Rotate, the old ETag got %d, want 200 with the new document", rotated.status)
	}
	if newTag == oldTag || newTag == "" {
		t.Errorf("after Rotate, ETag %q; before, %q", newTag, oldTag)
	}
	if got := publishedKIDs(t, rotated.body); !slices.Equal(got, []string{second.ID(), first.ID()}) {
		t.Errorf("after Rotate, kids %q, want the new key then the old one %q", got, []string{second.ID(), first.ID()})
	}
	if r := serveJWKS(h, http.MethodGet, "If-None-Match", newTag); r.status != http.StatusNotModified {
		t.Errorf("the new ETag got %d, want 304", r.status)
	}

	if err := keys.Remove(first.ID()); err != nil {
		t.Fatal(err)
	}
	removed := serveJWKS(h, http.MethodGet, "If-None-Match", newTag)
	if removed.status != http.StatusOK || removed.header.Get("ETag") == newTag {
		t.Errorf("after Remove: status %d, ETag %q (was %q)", removed.status, removed.header.Get("ETag"), newTag)
	}
	if got := publishedKIDs(t, removed.body); !slices.Equal(got, []string{second.ID()}) {
		t.Errorf("after Remove, kids %q, want only %q", got, second.ID())
	}
}

// TestJWKSHMACOnly checks that a Service signing with its secret, as every
// Service does by default, publishes no key at all, and never its secret.
func TestJWKSHMACOnly(t *testing.T) {
	svc, err := auth.New(memstore.New(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r := serveJWKS(httpauth.JWKS(svc.Keys()), method)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", method, r.status)
		}
		if method == http.MethodGet && r.body != `{"keys":[]}` {
			t.Errorf("GET: body %q, want exactly {\"keys\":[]}", r.body)
		}
		if got := r.header.Get("Content-Length"); got != "11" {
			t.Errorf("%s: Content-Length %q, want 11", method, got)
		}
		checkNoSecret(t, r.body+fmt.Sprint(r.header), testSecret)
	}
	body := serveJWKS(httpauth.JWKS(svc.Keys()), http.MethodGet).body
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
	if got := publishedKIDs(t, r.body); !slices.Equal(got, []string{next.ID()}) {
		t.Errorf("after rotating to EdDSA, kids %q, want only %q", got, next.ID())
	}
	checkNoSecret(t, r.body, testSecret)
}

// TestJWKSMounted mounts the handler as its documentation says, on a
// ServeMux behind a real listener, and checks what a client sees.
func TestJWKSMounted(t *testing.T) {
	key := signingKey(t, "EdDSA", "")
	a := newKeyApp(t, nil, auth.Config{Keys: mustKeySet(t, key)}, nil)

	get := a.do(t, http.MethodGet, jwksPath, "", "")
	if get.status != 200 || get.header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("GET: %d %s %s", get.status, get.header.Get("Content-Type"), get.body)
	}
	if got := publishedKIDs(t, get.body); !slices.Equal(got, []string{key.ID()}) {
		t.Errorf("kids %q, want %q", got, key.ID())
	}
	if r := a.do(t, http.MethodGet, jwksPath, "", "", "If-None-Match", get.header.Get("ETag")); r.status != 304 || r.body != "" {
		t.Errorf("If-None-Match: %d %q, want 304 without a body", r.status, r.body)
	}
	if r := a.do(t, http.MethodHead, jwksPath, "", ""); r.status != 200 || r.header.Get("ETag") != get.header.Get("ETag") {
		t.Errorf("HEAD: %d, ETag %q", r.status, r.header.Get("ETag"))
	}
	// The mux answers other methods itself, since the pattern says GET;
	// its 405 names the same methods.
	if r := a.do(t, http.MethodPost, jwksPath, "application/json", "{}"); r.status != 405 || r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405, GET, HEAD", r.status, r.header.Get("Allow"))
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
	return mustKey(t, id, material)
}

func mustKey(t *testing.T, id string, material any) *token.Key {
	t.Helper()
	k, err := token.NewKey(id, material)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustKeySet(t *testing.T, keys ...*token.Key) *token.KeySet {
	t.Helper()
	ks, err := token.NewKeySet(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// jwsHeader decodes the protected header of a compact JWS, verifying
// nothing. It returns an error rather than failing a test, for goroutines.
func jwsHeader(token string) (map[string]any, error) {
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

// signedBy reports whether token's header names key: its kid (none at all
// for a key with ID "") and its algorithm.
func signedBy(token string, key *token.Key) error {
	h, err := jwsHeader(token)
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
