package httpauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth/token"
)

// Middleware returns next wrapped so that it runs only for requests with a
// valid access token of the Handler's Service: it is
// Authenticate(svc.Verifier()) (see [Authenticate]), but for cookie mode
// (Config.Cookies), where a request without an Authorization header is
// authenticated by its [AccessCookie] instead. Such a request is refused
// 403 ([ProblemCrossOrigin]) if it is a state-changing one from another
// origin (see the package documentation, Cookie mode), and, if the
// cookie's token is refused, answered the 401 of a refused token with a
// Set-Cookie that clears the cookie. A request with an Authorization
// header is answered as without cookie mode, whatever its cookies.
func (h *Handler) Middleware(next http.Handler) http.Handler {
	return authenticator{v: h.svc.Verifier(), log: h.log, cookies: h.cookies}.wrap(next, false)
}

// protectedMiddleware is [Handler.Middleware] for the Handler's own
// routes, which are behind protect already: protect has refused
// cross-origin requests, so the authenticator leaves that check out and
// it runs once per request.
func (h *Handler) protectedMiddleware(next http.Handler) http.Handler {
	return authenticator{v: h.svc.Verifier(), log: h.log, cookies: h.cookies, originChecked: true}.wrap(next, false)
}

// OptionalMiddleware is [Handler.Middleware] for routes that serve
// anonymous callers too: a request without credentials (no
// Authorization header and, in cookie mode, no access-token cookie)
// reaches next untouched, with no claims in its context; a request with
// a valid token reaches it with the claims, as through Middleware; a
// request whose credentials are refused is answered as Middleware
// answers it (401, or 403 for a cross-origin request authenticated by
// the cookie), and never reaches next.
//
//	mux.Handle("GET /", h.OptionalMiddleware(home)) // home calls httpauth.ClaimsFromContext
func (h *Handler) OptionalMiddleware(next http.Handler) http.Handler {
	return authenticator{v: h.svc.Verifier(), log: h.log, cookies: h.cookies}.wrap(next, true)
}

// Authenticate returns middleware that runs the handler it wraps only for
// requests with an access token that v accepts, in an "Authorization:
// Bearer <token>" header (scheme case-insensitive). Handlers read the
// verified identity with [ClaimsFromContext]. A service that only verifies
// tokens, with the issuer's published keys, uses it with its own
// [token.Verifier]; the issuing service uses [Handler.Middleware].
// Refused tokens are reported as v's Config.Rejected says: the Verifier of
// an auth.Service records an auth.EventTokenRejected audit event, a
// Verifier of token.NewVerifier reports nothing unless its
// token.Config.Rejected is set.
//
// Every other request is answered 401 with the same problem+json body and a
// WWW-Authenticate header per RFC 6750: `Bearer realm="api"` when no
// credentials were sent, plus `error="invalid_token"` when a token was sent
// and failed verification (malformed, wrongly signed, unknown key, another
// algorithm, expired, not yet valid, issued before its user's sessions were
// revoked...). A request with more than one Authorization header is
// rejected. Tokens in query strings, form bodies or cookies are never read.
// If verification itself fails (the store of a stateful verifier is down),
// the request is answered 500 and the error logged to slog.Default(), or to
// Config.Logger for [Handler.Middleware].
//
// Its shape, func(http.Handler) http.Handler, fits chi's Use and With, and
// any router that takes such middleware.
func Authenticate(v *token.Verifier) func(http.Handler) http.Handler {
	if v == nil {
		panic("httpauth: Authenticate with a nil *token.Verifier")
	}
	return func(next http.Handler) http.Handler {
		return authenticator{v: v, log: slog.Default()}.wrap(next, false)
	}
}

// AuthenticateOptional is [Authenticate] for routes that serve anonymous
// callers too: a request without an Authorization header reaches the
// handler it wraps untouched, with no claims in its context; any other
// is answered as Authenticate answers it, and reaches the handler only
// with a valid token's claims. [Handler.OptionalMiddleware] is the same
// for the issuing service.
func AuthenticateOptional(v *token.Verifier) func(http.Handler) http.Handler {
	if v == nil {
		panic("httpauth: AuthenticateOptional with a nil *token.Verifier")
	}
	return func(next http.Handler) http.Handler {
		return authenticator{v: v, log: slog.Default()}.wrap(next, true)
	}
}

// authenticator is the middleware of Authenticate and Handler.Middleware,
// and of their optional forms.
type authenticator struct {
	v       *token.Verifier
	log     *slog.Logger
	cookies *cookieMode // nil: the Authorization header only
	// originChecked: the request has passed Handler.protect, which
	// refused cross-origin ones, so it is not checked again
	originChecked bool
}

// wrap returns next behind the authenticator; with optional, a request
// without credentials reaches next as it is.
func (a authenticator) wrap(next http.Handler, optional bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, sent := bearerToken(r.Header)
		var fromCookie, secure bool // the token is that of a cookie, and under its prefixed name
		if !sent && a.cookies != nil {
			tok, fromCookie, secure = a.cookies.cookie(r, AccessCookie)
			sent = fromCookie
		}
		switch {
		case !sent && optional:
			next.ServeHTTP(w, r)
			return
		case fromCookie && !a.originChecked && a.cookies.crossOrigin(w, r):
			return
		case tok == "":
			a.refuse(w, sent, fromCookie, secure)
			return
		}
		claims, err := a.v.VerifyToken(r.Context(), tok)
		switch {
		case errors.Is(err, token.ErrInvalid):
			a.refuse(w, true, fromCookie, secure)
			return
		case err != nil:
			a.log.LogAttrs(r.Context(), slog.LevelError, "httpauth: verifying a token failed",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
			writeProblem(w, http.StatusInternalServerError, "internal error", "")
			return
		}
		next.ServeHTTP(w, r.WithContext(withClaims(r.Context(), claims)))
	})
}

// refuse answers 401 to a request that sent credentials or not; a
// refused cookie (under its prefixed name or not, as secure says) is
// cleared, so that the browser sends it no more.
func (a authenticator) refuse(w http.ResponseWriter, sent, fromCookie, secure bool) {
	if fromCookie {
		a.cookies.clearAccess(w, secure)
	}
	unauthorized(w, sent)
}

// Require returns middleware, for use inside [Authenticate] or
// [Handler.Middleware], that runs the handler it wraps only if allow
// returns true for the caller's verified claims. An authenticated caller
// that allow refuses is answered 403 (with `WWW-Authenticate: Bearer
// realm="api", error="insufficient_scope"`, per RFC 6750); a request
// without verified claims in its context, 401, as by Authenticate.
func Require(allow func(*token.Claims) bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return requireClaims(next, allow, func(w http.ResponseWriter) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope"`)
			writeProblem(w, http.StatusForbidden, "not allowed for this caller", "")
		})
	}
}

// requireClaims returns next behind a test of the caller's verified
// claims: a request without them is answered 401, as by Authenticate, and
// one whose claims allow refuses is answered by refuse.
func requireClaims(next http.Handler, allow func(*token.Claims) bool, refuse func(http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFromContext(r.Context())
		switch {
		case !ok:
			unauthorized(w, false)
		case !allow(c):
			refuse(w)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// RequireVerifiedEmail is middleware, for use inside [Authenticate] or
// [Handler.Middleware], that runs next only for a caller whose token says
// that its email address is verified ("email_verified": true). Any other
// authenticated caller is answered 403 with the problem type
// [ProblemEmailNotVerified]; a request without verified claims, 401, as
// by Authenticate. A token says what was true when it was issued: after
// verifying the address, the client needs a new token (from a login or a
// refresh).
//
//	mux.Handle("POST /orders", h.Middleware(httpauth.RequireVerifiedEmail(orders)))
func RequireVerifiedEmail(next http.Handler) http.Handler {
	return requireClaims(next, func(c *token.Claims) bool { return c.EmailVerified }, func(w http.ResponseWriter) {
		writeTypedProblem(w, http.StatusForbidden, ProblemEmailNotVerified, "email address not verified", "")
	})
}

// RequireClaim is [Require] with a test of one claim of the token (say, a
// role that auth.Config.CustomClaims wrote): the claim called name must be
// the string value, or an array holding it.
//
//	admin := httpauth.RequireClaim("roles", "admin")
//	mux.Handle("GET /admin/", h.Middleware(admin(adminHandler)))
func RequireClaim(name, value string) func(http.Handler) http.Handler {
	return Require(func(c *token.Claims) bool { return hasClaim(c, name, value) })
}

func hasClaim(c *token.Claims, name, value string) bool {
	var payload map[string]json.RawMessage
	if c.Decode(&payload) != nil {
		return false
	}
	raw, ok := payload[name]
	if !ok {
		return false
	}
	if isString(raw, value) {
		return true
	}
	var many []json.RawMessage
	return json.Unmarshal(raw, &many) == nil && slices.ContainsFunc(many, func(m json.RawMessage) bool { return isString(m, value) })
}

// isString reports whether raw is the JSON string value (not null, which
// encoding/json would read as "").
func isString(raw json.RawMessage, value string) bool {
	var s string
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil && s == value
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
