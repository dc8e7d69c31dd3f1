package httpauth

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth/token"
)

// JWKSMaxAge is how long, in seconds, clients may cache the document that
// [JWKS] serves (Cache-Control: max-age). When rotating keys across
// services that verify with it, wait at least this long between adding a
// key and promoting it (see [token.KeySet]).
const JWKSMaxAge = 300

// JWKS returns a handler that serves keys' public keys as an RFC 7517 JWK
// Set ([token.KeySet.JWKS]), for services that verify this one's tokens
// without holding its signing key. Mount it at the conventional path:
//
//	mux.Handle("GET /.well-known/jwks.json", httpauth.JWKS(svc.Keys()))
//
// It answers GET and HEAD with the current document, as
// application/jwk-set+json, with "Cache-Control: public, max-age=300" and
// an ETag; a request whose If-None-Match has that ETag gets 304. Other
// methods get 405. HMAC secrets are never published: a set of HMAC keys
// only serves {"keys":[]}.
func JWKS(keys *token.KeySet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		doc := keys.JWKS()
		serveDoc(w, r, doc, docETag(doc), "application/jwk-set+json", "public, max-age="+strconv.Itoa(JWKSMaxAge))
	})
}

// docETag returns the strong ETag of a served document: the first 16
// bytes of its SHA-256, base64url, in quotes.
func docETag(doc []byte) string {
	sum := sha256.Sum256(doc)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// serveDoc answers r with doc, whose ETag is etag: GET and HEAD get it as
// contentType with cacheControl, nosniff and the ETag (HEAD without the
// body), a request whose If-None-Match has the ETag gets 304, and other
// methods get 405.
func serveDoc(w http.ResponseWriter, r *http.Request, doc []byte, etag, contentType, cacheControl string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, http.StatusMethodNotAllowed, "use GET", "")
		return
	}
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(doc) //nolint:errcheck // the client is gone; nothing to do
	}
}

// etagMatch reports whether If-None-Match header values list etag (weakly,
// as RFC 9110 asks for If-None-Match) or are "*".
func etagMatch(values []string, etag string) bool {
	for _, v := range values {
		for _, tag := range strings.Split(v, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == etag || tag == "*" {
				return true
			}
		}
	}
	return false
}
