package httpauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// Config configures a [Handler]. Every zero field takes the default stated
// beside it.
type Config struct {
	// Prefix is the path under which Mount registers the endpoints:
	// Prefix+"/signup", "/login", "/me" and the others (see
	// [Handler.Mount]). It must start with "/" and not end with one.
	// Default: "/api/user".
	Prefix string

	// MaxBodyBytes caps request bodies; a larger body is answered 413
	// without being read further. Default: 64 KiB. At most 1 MiB.
	MaxBodyBytes int64

	// Logger receives a record of every request that failed on the
	// server's side (status 500), with the underlying error, and never a
	// password, hash, token or secret. Default: slog.Default().
	Logger *slog.Logger

	// MaxLoginFailuresPerIP is the number of failed logins (wrong password
	// or unknown email) from one client after which its login requests
	// are answered 429, with Retry-After, until LoginFailureWindowPerIP
	// has passed since the latest failure. A pause of that long between
	// two failures forgets the earlier ones; successful logins neither
	// count nor clear the count, and a login with a device cookie valid
	// for its email ([DeviceCookie]) is neither refused nor counted. This
	// is what stops credential stuffing (many accounts, few attempts
	// each) from one address; the Service throttles each account on its
	// own (see [auth.Config]). Wrong codes of two-factor authentication
	// (at {prefix}/login/mfa, /mfa/totp/confirm and /mfa/disable) have a
	// limit of their own, of the same size and window, counted apart: a
	// client that fails many passwords is not kept from the second step
	// of a login made with a device cookie. Default: 100. Negative: no
	// limit (to either).
	MaxLoginFailuresPerIP int

	// LoginFailureWindowPerIP: see MaxLoginFailuresPerIP.
	// Default: 15 minutes. At most [throttle.Retention].
	LoginFailureWindowPerIP time.Duration

	// MaxSignupsPerIP is the number of sign-ups from one client after
	// which its sign-up requests are answered 429, with Retry-After, until
	// SignupWindowPerIP has passed since the latest. A sign-up counts if
	// it creates an account or finds the email taken (which limits probing
	// for registered emails too); one refused as invalid (400) or for want
	// of hashing capacity (503) does not. Default: 20. Negative: no limit.
	MaxSignupsPerIP int

	// SignupWindowPerIP: see MaxSignupsPerIP. Default: 1 hour. At most
	// [throttle.Retention].
	SignupWindowPerIP time.Duration

	// MaxLinkFailuresPerIP is the number of one-time tokens refused as
	// invalid (an unknown, spent or expired link) by {prefix}/email/verify,
	// /password/reset and /email/change/confirm from one client after
	// which its requests to those routes are answered 429, with
	// Retry-After, until LinkFailureWindowPerIP has passed since the
	// latest. Tokens are 256 random bits, so guessing is hopeless anyway;
	// the limit keeps a client from making the store look up tokens
	// without end. Default: 100. Negative: no limit.
	MaxLinkFailuresPerIP int

	// LinkFailureWindowPerIP: see MaxLinkFailuresPerIP. Default: 15
	// minutes. At most [throttle.Retention].
	LinkFailureWindowPerIP time.Duration

	// TrustedProxies are the networks of the reverse proxies and load
	// balancers in front of the service. A request whose peer
	// (RemoteAddr) is in one of them is attributed to the right-most
	// address in its X-Forwarded-For headers that is not; any other
	// request to its peer. Default: none, so X-Forwarded-For is ignored:
	// without a proxy that overwrites it, any client could write anything
	// there. IPv4-mapped IPv6 addresses count as IPv4.
	TrustedProxies []netip.Prefix

	// DeviceCookieSecure gives the device cookie (see [DeviceCookie]) the
	// Secure attribute on every response, not only on requests that came
	// over TLS to this server: set it when TLS ends at a proxy in front.
	// Default: false.
	DeviceCookieSecure bool

	// Cookies turns on cookie mode, for pages in a browser: the routes
	// that answer the login body (sign-up, login, refresh, password
	// change) also set the access token in the cookie [AccessCookie]
	// and, with refresh tokens on, the refresh token in [RefreshCookie];
	// /refresh and /logout read the refresh token from its cookie when
	// the body has none; /logout, /logout-all and /delete clear the
	// cookies; [Handler.Middleware] and [Handler.OptionalMiddleware]
	// read the access token from its cookie when a request has no
	// Authorization header; and state-changing requests from other
	// origins than the server's own and TrustedOrigins are refused, to
	// the Handler's routes and to every route where the cookie
	// authenticates (403, [ProblemCrossOrigin]). The bodies do not
	// change: they still carry the tokens, so that one server serves
	// browsers and bearer clients alike, and a client sending
	// "Authorization: Bearer" is answered as without cookie mode, with
	// Set-Cookie headers it may ignore. See the package documentation,
	// Cookie mode. Default: false: tokens travel in bodies and the
	// Authorization header only, no cookie is read but [DeviceCookie],
	// and no request is refused for its origin.
	Cookies bool

	// TrustedOrigins are the origins, besides the server's own, whose
	// pages may send state-changing requests in cookie mode, each as
	// browsers write the Origin header: "https://app.example.com" or
	// "http://localhost:5173" (a scheme, a lower-case host, a port
	// unless it is the scheme's default, no path). New fails for any
	// other value. Such a page reaches the routes only through CORS,
	// which the application sets up (see the README, Browser apps).
	// Default: none. Without Cookies they are checked and unused.
	TrustedOrigins []string

	// AlwaysSecureCookies makes cookie mode's cookies Secure and
	// prefixed ([AccessCookie], [RefreshCookie]) on every request.
	// Without it they are so on every request but those of local
	// development: plain HTTP (no TLS reaching this server) to a
	// loopback Host (localhost, *.localhost, 127.0.0.0/8, [::1]) with no
	// Origin header or one of an http loopback origin, where browsers
	// other than Chrome and Firefox would drop a Secure cookie. Set it
	// when a proxy on the same machine ends TLS and forwards requests
	// with a loopback Host. Default: false.
	AlwaysSecureCookies bool
}

// DeviceCookie is the name of the cookie in which the sign-up and login
// endpoints (/login/mfa among them) keep the device token of the account
// ([auth.Grant.DeviceToken]): HttpOnly, SameSite=Strict, Secure when
// the request came over TLS or Config.DeviceCookieSecure is set, with
// Path {prefix}/login, so that only the login endpoints see it, and a
// Max-Age of [auth.DeviceTokenLifetime]. A login that presents one valid
// for the email it names is throttled as that device alone: neither the
// account-wide limit of the Service nor Config.MaxLoginFailuresPerIP
// applies to it (see the package documentation).
const DeviceCookie = "gatehouse_device"

// Handler serves the sign-up, login, session and account endpoints of an
// [auth.Service] and provides the middleware that protects other routes
// with its tokens.
// It is an [http.Handler] of the endpoints under Config.Prefix, so any
// router mounts them in one line (mux.Handle("/api/user/", h));
// [Handler.Mount] registers them on an [http.ServeMux] one by one.
// Create one with [New]; it is safe for concurrent use.
type Handler struct {
	routes      *http.ServeMux // the endpoints, as Mount registers them
	table       []route        // every route, mounted or not (routes.go)
	mounts      []mountPath    // the paths of table, in its order, with the handler Mount registers for each
	openAPIDoc  []byte         // the OpenAPI document of table (openapi.go)
	openAPIETag string
	svc         *auth.Service
	prefix      string
	maxBody     int64
	log         *slog.Logger
	trusted     []netip.Prefix
	secure      bool              // Config.DeviceCookieSecure
	cookies     *cookieMode       // nil: cookie mode off
	loginIP     *throttle.Limiter // nil: no limit
	codeIP      *throttle.Limiter // wrong second-factor codes; nil: no limit
	signupIP    *throttle.Limiter // nil: no limit
	linkIP      *throttle.Limiter // nil: no limit
}

// New returns a Handler for svc. It returns an error if cfg's Prefix,
// MaxBodyBytes, per-IP limits, TrustedProxies or TrustedOrigins are not
// acceptable.
//
// The per-IP counters live in svc's attempt store (auth.Config.Attempts,
// a [throttle.Store]), so replicas on one database share them, under the
// limiter names "login-ip", "code-ip", "signup-ip" and "link-ip" (see
// [auth.Service.NewLimiter]).
func New(svc *auth.Service, cfg Config) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("httpauth: nil *auth.Service")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "/api/user"
	}
	if !strings.HasPrefix(cfg.Prefix, "/") || strings.HasSuffix(cfg.Prefix, "/") ||
		strings.ContainsAny(cfg.Prefix, " \t{}") {
		return nil, fmt.Errorf("httpauth: prefix %q must start with / and not end with one", cfg.Prefix)
	}
	switch {
	case cfg.MaxBodyBytes == 0:
		cfg.MaxBodyBytes = 64 << 10
	case cfg.MaxBodyBytes < 0 || cfg.MaxBodyBytes > 1<<20:
		return nil, fmt.Errorf("httpauth: MaxBodyBytes %d outside (0, 1 MiB]", cfg.MaxBodyBytes)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	trusted, err := checkProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	cookies, err := newCookieMode(cfg)
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, prefix: cfg.Prefix, maxBody: cfg.MaxBodyBytes, log: cfg.Logger, trusted: trusted,
		secure: cfg.DeviceCookieSecure, cookies: cookies}
	if h.loginIP, err = limiter(svc, "login-ip", cfg.MaxLoginFailuresPerIP, 100, cfg.LoginFailureWindowPerIP, 15*time.Minute); err != nil {
		return nil, err
	}
	if h.codeIP, err = limiter(svc, "code-ip", cfg.MaxLoginFailuresPerIP, 100, cfg.LoginFailureWindowPerIP, 15*time.Minute); err != nil {
		return nil, err
	}
	if h.signupIP, err = limiter(svc, "signup-ip", cfg.MaxSignupsPerIP, 20, cfg.SignupWindowPerIP, time.Hour); err != nil {
		return nil, err
	}
	if h.linkIP, err = limiter(svc, "link-ip", cfg.MaxLinkFailuresPerIP, 100, cfg.LinkFailureWindowPerIP, 15*time.Minute); err != nil {
		return nil, err
	}
	h.table = h.cookieRoutes(h.routeTable())
	h.mounts = mountPaths(h.table)
	h.buildOpenAPI()
	h.routes = http.NewServeMux()
	h.Mount(h.routes)
	return h, nil
}

var _ http.Handler = (*Handler)(nil)

// ServeHTTP serves the endpoints that [Handler.Mount] registers, with the
// same answers; any other path gets 404 with a problem body.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := h.routes.Handler(r); pattern == "" {
		writeProblem(w, http.StatusNotFound, "no such endpoint", "")
		return
	}
	h.routes.ServeHTTP(w, r)
}

// limiter returns the Limiter for a per-IP limit of Config, or nil if max
// is negative, filling in the defaults.
func limiter(svc *auth.Service, name string, max, defMax int, window, defWindow time.Duration) (*throttle.Limiter, error) {
	if max < 0 {
		return nil, nil
	}
	if max == 0 {
		max = defMax
	}
	if window == 0 {
		window = defWindow
	}
	l, err := svc.NewLimiter(name, max, window)
	if err != nil {
		return nil, fmt.Errorf("httpauth: per-IP limit: %w", err)
	}
	return l, nil
}

// Mount registers the endpoints on mux, each under Prefix: /signup,
// /login, /refresh, /logout, /logout-all and /password, and those of the
// account (see the package documentation): /me, /email/verify,
// /email/verify/resend, /password/forgot, /password/reset,
// /email/change, /email/change/confirm and /delete, those of
// two-factor authentication: /login/mfa, /mfa/totp/setup,
// /mfa/totp/confirm and /mfa/disable, and /openapi.json, the OpenAPI
// document of those that are on ([Handler.OpenAPI]). /me answers GET and
// PATCH, /openapi.json GET and HEAD, the others POST; any other method
// gets 405 with an Allow header. A route is on or off by the Service's features
// ([auth.Service.Features]): /refresh and /logout need refresh tokens
// (auth.Config.RefreshTokens), but for /logout in cookie mode
// (Config.Cookies), where it clears the cookies; /logout-all, tracked sessions
// (RefreshTokens or CheckRevocation); /password, a store that changes
// hashes; PATCH /me and the other account routes, a store with the
// account abilities, and those that send mail, a Mailer
// (auth.Config.Mailer) too; the routes of two-factor authentication, a
// store with its abilities ([auth.MFAStore]). Every path is registered whatever the
// configuration: a route that is off answers 404 with a problem body.
// Like every [http.ServeMux] registration, Mount panics if mux already
// has a conflicting pattern, such as a {prefix}/me of the application's
// own.
func (h *Handler) Mount(mux *http.ServeMux) {
	for _, m := range h.mounts {
		mux.Handle(h.prefix+m.path, m.handler)
	}
}

// Signup returns the handler of POST {prefix}/signup, for routers other
// than [http.ServeMux]. It reads {"name", "email", "password"} and answers
// 200 with {"userId", "email", "userName", "token"}, and sets the
// [DeviceCookie] (and in cookie mode, Config.Cookies, those of the
// tokens); see the package documentation for the errors. Every
// sign-up that creates an account or finds the email taken counts
// towards the client's Config.MaxSignupsPerIP.
func (h *Handler) Signup() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "name", "email", "password")
		if !ok {
			return
		}
		h.limited(w, r, h.signupIP,
			func(err error) bool { return err == nil || errors.Is(err, auth.ErrDuplicateEmail) },
			func(ctx context.Context) (*auth.Grant, error) {
				s, err := h.svc.Signup(ctx, auth.NewUser{Name: f[0], Email: f[1], Password: f[2]})
				h.setDeviceCookie(w, r, s)
				return s, err
			})
	}))
}

// Login returns the handler of POST {prefix}/login, for routers other than
// [http.ServeMux]. It reads {"email", "password"} and answers 200 with
// {"userId", "email", "userName", "token"}, and sets a new [DeviceCookie]
// (and in cookie mode, Config.Cookies, those of the tokens); every
// credential failure gets the same 401 response. For an account with
// two-factor authentication on, the right password gets instead 200
// with
//
//	{"mfaRequired": true, "mfaToken": "..."}
//
// and no token and no cookie: the client posts the mfaToken with a code
// to [Handler.LoginMFA] within 5 minutes. A login that
// presents a device cookie valid for the email is throttled as that
// device ([auth.WithDeviceToken]); any other login's failures count
// towards the client's Config.MaxLoginFailuresPerIP.
func (h *Handler) Login() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "email", "password")
		if !ok {
			return
		}
		limit, device := h.loginIP, ""
		if c, err := r.Cookie(DeviceCookie); err == nil && h.svc.ValidDeviceToken(f[0], c.Value) {
			limit, device = nil, c.Value
		}
		h.limited(w, r, limit,
			wrongCredentials,
			func(ctx context.Context) (*auth.Grant, error) {
				s, err := h.svc.Login(auth.WithDeviceToken(ctx, device), f[0], f[1])
				h.setDeviceCookie(w, r, s)
				return s, err
			})
	}))
}

// setDeviceCookie sets the DeviceCookie of s, if s is a session with a
// device token.
func (h *Handler) setDeviceCookie(w http.ResponseWriter, r *http.Request, s *auth.Grant) {
	if s == nil || s.DeviceToken == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name:     DeviceCookie,
		Value:    s.DeviceToken,
		Path:     h.prefix + "/login",
		MaxAge:   int(auth.DeviceTokenLifetime / time.Second),
		Secure:   r.TLS != nil || h.secure,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// Refresh returns the handler of POST {prefix}/refresh. It reads
// {"refreshToken"} and answers 200 with a new session, in the shape of the
// login response: {"userId", "email", "userName", "token",
// "refreshToken"}; the token sent is spent (see [auth.Service.Refresh]).
// An unknown, spent, expired or revoked refresh token gets 401, one body
// for all; with refresh tokens off, 404. In cookie mode (Config.Cookies)
// a body without refreshToken ({}) refreshes the token of the
// [RefreshCookie], and the new tokens are set in the cookies.
func (h *Handler) Refresh() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "refreshToken")
		if !ok {
			return
		}
		ctx, _ := h.client(r)
		s, err := h.svc.Refresh(ctx, h.refreshToken(r, f[0]))
		h.respond(w, r, s, err)
	}))
}

// Logout returns the handler of POST {prefix}/logout. It reads
// {"refreshToken"} and ends that token's session ([auth.Service.Logout]):
// 204, also if the session had ended already; 401 for an unknown token;
// 404 with refresh tokens off. The session's access tokens stay valid
// until they expire unless the middleware checks revocations. In cookie
// mode (Config.Cookies) a body without refreshToken ({}) ends the
// session of the [RefreshCookie]'s token, and every answer to a body
// that could be read clears the cookies; with refresh tokens off, the
// route is on all the same and clearing the cookies is all it does
// (204).
func (h *Handler) Logout() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "refreshToken")
		if !ok {
			return
		}
		ctx, _ := h.client(r)
		err := h.svc.Logout(ctx, h.refreshToken(r, f[0]))
		h.clearCookies(w, r)
		if h.cookies != nil && errors.Is(err, errors.ErrUnsupported) {
			err = nil // no sessions: clearing the cookies is the whole logout
		}
		h.respondEmpty(w, r, err)
	}))
}

// LogoutAll returns the handler of POST {prefix}/logout-all, which needs a
// valid access token (it runs behind [Handler.Middleware]) and ends every
// session of its user ([auth.Service.RevokeSessions]): 204, which in
// cookie mode (Config.Cookies) clears the cookies. Any body is ignored.
// 404 unless the Service tracks sessions.
func (h *Handler) LogoutAll() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPost(w, r) {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		ctx, _ := h.client(r)
		err := h.svc.RevokeSessions(ctx, c.UserID)
		if err == nil {
			h.clearCookies(w, r)
		}
		h.respondEmpty(w, r, err)
	})))
}

// ChangePassword returns the handler of POST {prefix}/password, which
// needs a valid access token (it runs behind [Handler.Middleware]). It
// reads {"currentPassword", "newPassword"} and answers 200 with a new
// session in the shape of the login response (in cookie mode,
// Config.Cookies, set in the cookies too); the user's other sessions end
// (see [auth.Service.ChangePassword]). A wrong current password gets
// 403 with field "currentPassword" and counts as a failed login, per
// account and towards the client's Config.MaxLoginFailuresPerIP; a new
// password that the policy refuses gets 400 with field "newPassword".
func (h *Handler) ChangePassword() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "currentPassword", "newPassword")
		if !ok {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		h.limited(w, r, h.loginIP,
			wrongCredentials,
			func(ctx context.Context) (*auth.Grant, error) {
				s, err := h.svc.ChangePassword(ctx, c.UserID, f[0], f[1])
				return s, wrongPassword(err, "currentPassword")
			})
	})))
}

// errWrongPassword is the auth.ErrInvalidCredentials of an authenticated
// caller's current password, which respond answers 403 rather than 401.
var errWrongPassword = fmt.Errorf("%w: wrong current password", auth.ErrInvalidCredentials)

// wrongPassword returns err, or, if it is auth.ErrInvalidCredentials,
// errWrongPassword reported under the request's field.
func wrongPassword(err error, field string) error {
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return &fieldAs{errWrongPassword, field}
	}
	return err
}

// fieldAs is an error answered with field as the problem's field member,
// for routes whose request names a member otherwise than the Service
// ("newEmail" for its "email").
type fieldAs struct {
	err   error
	field string
}

func (e *fieldAs) Error() string { return e.err.Error() }
func (e *fieldAs) Unwrap() error { return e.err }

// field returns the field member for err: that of a fieldAs in its chain,
// or else def.
func field(err error, def string) string {
	if fa, ok := errors.AsType[*fieldAs](err); ok {
		return fa.field
	}
	return def
}

// respondEmpty answers 204 if err is nil, and as respond otherwise.
func (h *Handler) respondEmpty(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		h.respond(w, r, nil, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// limited runs call under the per-IP limit l (nil: none), as throttled
// does, and writes the response: the session call returns, or the error.
func (h *Handler) limited(w http.ResponseWriter, r *http.Request, l *throttle.Limiter,
	counts func(error) bool, call func(context.Context) (*auth.Grant, error)) {
	var s *auth.Grant
	err := h.throttled(r, l, counts, func(ctx context.Context) (err error) {
		s, err = call(ctx)
		return err
	})
	h.respond(w, r, s, err)
}

// throttled runs call under the per-IP limit l (nil: none) and returns
// its error, or the error that refused it. call gets r's context carrying
// the client's address; counts says whether its outcome counts towards
// the limit. If the outcome cannot be counted, a failure is reported as
// that error (a failure that goes uncounted must not be answered as
// usual), while a success stands and the error is logged.
func (h *Handler) throttled(r *http.Request, l *throttle.Limiter, counts func(error) bool, call func(context.Context) error) error {
	ctx, client := h.client(r)
	return h.throttledAs(ctx, client, r, l, counts, call)
}

// throttledAs is throttled for a client already worked out (by
// Handler.client): ctx is r's context carrying its address, and client
// its key in the limit.
func (h *Handler) throttledAs(ctx context.Context, client string, r *http.Request, l *throttle.Limiter,
	counts func(error) bool, call func(context.Context) error) error {
	release := func(bool) error { return nil }
	if l != nil {
		var err error
		if release, err = l.Acquire(ctx, client); err != nil {
			return err
		}
		defer release(false) //nolint:errcheck // does nothing after the call below
	}
	err := call(ctx)
	if rerr := release(counts(err)); rerr != nil {
		if err == nil {
			h.logFailure(r, rerr)
		} else {
			err = rerr
		}
	}
	return err
}

// sessionResponse is the wire contract's success body; field order matters to
// nobody but is kept as documented.
// With refresh tokens on, refreshToken follows.
type sessionResponse struct {
	UserID       string `json:"userId"`
	Email        string `json:"email"`
	UserName     string `json:"userName"`
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken,omitempty"`
}

func (h *Handler) respond(w http.ResponseWriter, r *http.Request, s *auth.Grant, err error) {
	if err == nil {
		h.writeGrant(w, r, s)
		return
	}
	var fe *auth.FieldError
	var te *throttle.ThrottledError
	var mr *auth.MFARequiredError
	switch {
	case errors.As(err, &mr):
		// Not a failure: the password was right; the code is to come.
		writeJSON(w, http.StatusOK, "application/json", mfaRequiredResponse{MFARequired: true, MFAToken: mr.MFAToken})
	case errors.As(err, &te):
		w.Header().Set("Retry-After", retryAfter(te.RetryAfter))
		writeProblem(w, http.StatusTooManyRequests, "too many attempts, retry later", "")
	case errors.As(err, &fe):
		f := field(err, fe.Field)
		writeProblem(w, http.StatusBadRequest, f+": "+fe.Reason, f)
	case errors.Is(err, auth.ErrInvalidLink):
		writeTypedProblem(w, http.StatusBadRequest, ProblemInvalidLink, "invalid or expired link", "token")
	case errors.Is(err, auth.ErrDuplicateEmail):
		writeProblem(w, http.StatusConflict, "email already registered", field(err, "email"))
	case errors.Is(err, errWrongPassword):
		f := field(err, "currentPassword")
		writeProblem(w, http.StatusForbidden, f+": wrong password", f)
	case errors.Is(err, auth.ErrEmailNotVerified):
		writeTypedProblem(w, http.StatusForbidden, ProblemEmailNotVerified, "email address not verified", "")
	case errors.Is(err, auth.ErrAccountDisabled):
		writeTypedProblem(w, http.StatusForbidden, ProblemAccountDisabled, "account disabled", "")
	case errors.Is(err, auth.ErrInvalidCredentials):
		writeProblem(w, http.StatusUnauthorized, "invalid email or password", "")
	case errors.Is(err, auth.ErrInvalidCode):
		f := field(err, "code")
		writeTypedProblem(w, http.StatusBadRequest, ProblemInvalidCode, f+": wrong, used or expired code", f)
	case errors.Is(err, auth.ErrMFANotEnabled):
		writeTypedProblem(w, http.StatusBadRequest, ProblemMFANotEnabled, "two-factor authentication is not on, or no setup awaits confirmation", "")
	case errors.Is(err, auth.ErrMFAEnabled):
		writeProblem(w, http.StatusConflict, "two-factor authentication is on already", "")
	case errors.Is(err, errInvalidMFAToken):
		writeProblem(w, http.StatusUnauthorized, "invalid, expired or spent mfaToken; log in again", "mfaToken")
	case errors.Is(err, auth.ErrInvalidToken):
		writeProblem(w, http.StatusUnauthorized, "invalid or expired refresh token", "")
	case errors.Is(err, auth.ErrSessionsRevoked):
		// A password change whose new session a concurrent revocation
		// ended: the password is changed; the caller logs in again.
		writeProblem(w, http.StatusUnauthorized, "sessions revoked; log in again", "")
	case errors.Is(err, errors.ErrUnsupported):
		writeProblem(w, http.StatusNotFound, "not enabled on this server", "")
	case errors.Is(err, auth.ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeProblem(w, http.StatusServiceUnavailable, "too busy, retry later", "")
	default:
		h.logFailure(r, err)
		writeProblem(w, http.StatusInternalServerError, "internal error", "")
	}
}

// logFailure records a failure on the server's side to Config.Logger.
func (h *Handler) logFailure(r *http.Request, err error) {
	h.log.LogAttrs(r.Context(), slog.LevelError, "httpauth: request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
}

// decode enforces the request contract (POST, application/json, size
// limit, valid UTF-8) and reads a body that must be exactly one JSON object
// whose members are the named fields, each at most once and each a string.
// It returns the values in the order of names ("" for a missing one). On
// failure it has written the response and returns false.
func (h *Handler) decode(w http.ResponseWriter, r *http.Request, names ...string) ([]string, bool) {
	if !isPost(w, r) {
		return nil, false
	}
	return h.decodeBody(w, r, names...)
}

// isPost reports whether r is a POST request, and answers 405 if not.
func isPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, http.StatusMethodNotAllowed, "use POST", "")
		return false
	}
	return true
}

// decodeBody is decode for a request of any method.
func (h *Handler) decodeBody(w http.ResponseWriter, r *http.Request, names ...string) ([]string, bool) {
	if !isJSON(r.Header.Get("Content-Type")) {
		writeProblem(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json", "")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", h.maxBody), "")
		} else {
			writeProblem(w, http.StatusBadRequest, "could not read body", "")
		}
		return nil, false
	}
	values, field, detail := parseObject(body, names)
	if detail != "" {
		writeProblem(w, http.StatusBadRequest, detail, field)
		return nil, false
	}
	return values, true
}

// isJSON reports whether a Content-Type header names application/json,
// optionally with charset=utf-8 and nothing else.
func isJSON(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// parseObject reads body as one flat JSON object of string members named
// in names. On failure it returns the offending field (if any) and a detail
// message for the client; detail is empty on success.
func parseObject(body []byte, names []string) (values []string, field, detail string) {
	if !utf8.Valid(body) {
		return nil, "", "body is not valid UTF-8"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, "", "body must be a JSON object"
	}
	values = make([]string, len(names))
	seen := make([]bool, len(names))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, "", "malformed JSON"
		}
		key := t.(string) // inside an object, a token before ':' is always a key
		i := indexOf(names, key)
		if i < 0 {
			return nil, "", "unknown field " + quote(key)
		}
		if seen[i] {
			return nil, key, "duplicate field " + quote(key)
		}
		seen[i] = true
		if t, err = dec.Token(); err != nil {
			return nil, key, "malformed JSON"
		}
		s, ok := t.(string)
		if !ok {
			return nil, key, key + ": must be a string"
		}
		values[i] = s
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, "", "malformed JSON"
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", "trailing data after the JSON object"
	}
	return values, "", ""
}

func indexOf(names []string, key string) int {
	for i, n := range names {
		if n == key {
			return i
		}
	}
	return -1
}

// quote quotes a client-sent key for an error message, shortened so that a
// huge key is not echoed back whole.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return fmt.Sprintf("%q", s)
}
