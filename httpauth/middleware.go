package httpauth

import (
	"net/http"
	"strings"
)

// Middleware returns next wrapped so that it runs only for requests with a
// valid access token in an "Authorization: Bearer <token>" header (scheme
// case-insensitive). Handlers read the verified identity with
// [ClaimsFromContext].
//
// Every other request is answered 401 with the same problem+json body and a
// WWW-Authenticate header per RFC 6750: `Bearer realm="api"` when no
// credentials were sent, plus `error="invalid_token"` when a token was sent
// and failed verification (malformed, wrongly signed, another algorithm,
// expired, not yet valid...). A request with more than one Authorization
// header is rejected. Tokens in query strings, form bodies or cookies are
// never read.
//
// Its shape, func(http.Handler) http.Handler, fits chi's Use and With, and
// any router that takes such middleware.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, sent := bearerToken(r.Header)
		if token == "" {
			unauthorized(w, sent)
			return
		}
		claims, err := h.svc.VerifyToken(r.Context(), token)
		if err != nil {
			unauthorized(w, true)
			return
		}
		next.ServeHTTP(w, r.WithContext(withClaims(r.Context(), claims)))
	})
}

// bearerToken returns the token of the request's only Authorization header
// if it uses the Bearer scheme, and whether any credentials were sent.
func bearerToken(h http.Header) (token string, sent bool) {
	values := h["Authorization"]
	switch len(values) {
	case 0:
		return "", false
	case 1:
	default:
		return "", true
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", true
	}
	token = strings.TrimLeft(token, " ")
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", true
	}
	return token, true
}

func unauthorized(w http.ResponseWriter, tokenSent bool) {
	challenge := `Bearer realm="api"`
	if tokenSent {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeProblem(w, http.StatusUnauthorized, "missing or invalid bearer token", "")
}
