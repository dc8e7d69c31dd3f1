package httpauth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// The cookies of cookie mode (Config.Cookies), as named on https. On
// plain HTTP to a loopback host in development (see the package
// documentation, Cookie mode) they lose their prefix, "__Host-" or
// "__Secure-", with the Secure attribute that the prefix requires.
const (
	// AccessCookie holds the access token: HttpOnly, Secure,
	// SameSite=Lax, Path=/, no Domain, with a Max-Age of the token's
	// lifetime. The "__Host-" prefix makes browsers refuse it unless it
	// is so, so that no other host, not even a subdomain, can set it.
	AccessCookie = "__Host-gatehouse_access"

	// RefreshCookie holds the refresh token, with refresh tokens on
	// (auth.Config.RefreshTokens): HttpOnly, Secure, SameSite=Strict,
	// with a Max-Age of the token's lifetime, set twice, with Path
	// {prefix}/refresh and Path {prefix}/logout, so that the browser
	// sends it to those two routes and no other.
	RefreshCookie = "__Secure-gatehouse_refresh"
)

// The names of the cookies without their prefix, on plain HTTP to a
// loopback host: AccessCookie and RefreshCookie without it (see name).
const (
	plainAccessCookie  = "gatehouse_access"
	plainRefreshCookie = "gatehouse_refresh"
)

// cookieMode is the cookie mode of a Handler.
type cookieMode struct {
	prefix       string
	alwaysSecure bool
	origins      *http.CrossOriginProtection
}

// newCookieMode returns the cookie mode of cfg, or nil if it is off, and
// checks cfg.TrustedOrigins either way.
func newCookieMode(cfg Config) (*cookieMode, error) {
	origins := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
		if err := origins.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("httpauth: TrustedOrigins: %w", err)
		}
	}
	if !cfg.Cookies {
		return nil, nil
	}
	return &cookieMode{prefix: cfg.Prefix, alwaysSecure: cfg.AlwaysSecureCookies, origins: origins}, nil
}

// checkOrigin checks that o is an origin as browsers write it in the
// Origin header, which must match it exactly: http or https, a lower-case
// host, a port unless it is the scheme's default, and nothing else (no
// path, not even "/").
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" ||
		o != u.Scheme+"://"+u.Host || o != strings.ToLower(o) ||
		(u.Scheme == "http" && u.Port() == "80") || (u.Scheme == "https" && u.Port() == "443") ||
		strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("httpauth: TrustedOrigins: %q is not an origin as browsers send it (scheme://host[:port], lower case, no default port, no path)", o)
	}
	return nil
}

// dev reports whether r may be one of local development: it came over
// plain HTTP (no TLS reached this server) to a loopback Host, and
// Config.AlwaysSecureCookies is not set. Such a request may carry the
// cookies under their bare names, without the prefix.
func (c *cookieMode) dev(r *http.Request) bool {
	return !c.alwaysSecure && r.TLS == nil && loopbackHost(r.Host)
}

// secure reports whether the cookies set (or cleared) in the answer to
// r are Secure and prefixed: always, but for a request of local
// development (see dev) whose Origin header, if it has one, is an http
// origin of a loopback host too, so that a page that a proxy serves
// over https gets Secure cookies even if the proxy rewrites Host.
func (c *cookieMode) secure(r *http.Request) bool {
	if !c.dev(r) {
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err != nil || u.Scheme != "http" || !loopbackHost(u.Host)
	}
	return false
}

// loopbackHost reports whether hostport (a Host header or the host of an
// origin) names this machine: localhost, a name under .localhost, or a
// loopback address, with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// name returns the name of the cookie called full (AccessCookie or
// RefreshCookie) on a request for which secure said secure.
func name(full string, secure bool) string {
	if secure {
		return full
	}
	_, bare, _ := strings.Cut(full, "-")
	return bare
}

// set sets the cookies of g: the access token, and the refresh token if
// g has one.
func (c *cookieMode) set(w http.ResponseWriter, r *http.Request, g *auth.Grant) {
	secure := c.secure(r)
	http.SetCookie(w, c.access(secure, g.Token, maxAge(g.IssuedAt, g.ExpiresAt)))
	if g.RefreshToken != "" {
		for _, path := range c.refreshPaths() {
			http.SetCookie(w, c.refresh(secure, path, g.RefreshToken, maxAge(g.IssuedAt, g.RefreshExpiresAt)))
		}
	}
}

// clear clears every cookie that set sets.
func (c *cookieMode) clear(w http.ResponseWriter, r *http.Request) {
	secure := c.secure(r)
	c.clearAccess(w, secure)
	for _, path := range c.refreshPaths() {
		http.SetCookie(w, c.refresh(secure, path, "", -1))
	}
}

// clearAccess clears the access-token cookie.
func (c *cookieMode) clearAccess(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, c.access(secure, "", -1))
}

// access returns the access-token cookie; a negative maxAge clears it.
func (c *cookieMode) access(secure bool, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name(AccessCookie, secure), Value: value, Path: "/", MaxAge: maxAge,
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	}
}

// refresh returns the refresh-token cookie for path; a negative maxAge
// clears it.
func (c *cookieMode) refresh(secure bool, path, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name(RefreshCookie, secure), Value: value, Path: path, MaxAge: maxAge,
		Secure: secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	}
}

// refreshPaths are the paths the refresh-token cookie is set for.
func (c *cookieMode) refreshPaths() []string {
	return []string{c.prefix + "/refresh", c.prefix + "/logout"}
}

// maxAge returns the Max-Age of a cookie whose token is valid from from
// to to: the whole seconds between them, at least 1; or 0 (no Max-Age:
// the cookie lasts as long as the browser's session) if either is
// unknown.
func maxAge(from, to time.Time) int {
	if from.IsZero() || to.IsZero() {
		return 0
	}
	return max(int(to.Sub(from)/time.Second), 1)
}

// cookie returns the value of r's cookie called full (AccessCookie or
// RefreshCookie), whether r has one, and whether it was under that name
// rather than its bare one, which counts only on a request of local
// development (see dev). The prefixed name is looked for first. More
// than one cookie of a name, or an empty one, counts as sent but gives
// "".
func (c *cookieMode) cookie(r *http.Request, full string) (value string, sent, secure bool) {
	cs, secure := r.CookiesNamed(full), true
	if len(cs) == 0 && c.dev(r) {
		cs, secure = r.CookiesNamed(name(full, false)), false
	}
	switch {
	case len(cs) == 0:
		return "", false, false
	case len(cs) > 1:
		return "", true, secure
	}
	return cs[0].Value, true, secure
}

// crossOrigin reports whether r is a cross-origin request that the
// cookie mode refuses (see protect), and if so answers it 403.
func (c *cookieMode) crossOrigin(w http.ResponseWriter, r *http.Request) bool {
	if c.origins.Check(r) == nil {
		return false
	}
	writeTypedProblem(w, http.StatusForbidden, ProblemCrossOrigin, "cross-origin request refused", "")
	return true
}

// protect returns next, guarded in cookie mode against cross-origin
// state-changing requests (see the package documentation, Cookie mode):
// a request with a method other than GET, HEAD or OPTIONS that a
// browser says comes from another origin (its Sec-Fetch-Site header, or
// else an Origin header whose host is not the request's Host), and not
// from one of Config.TrustedOrigins, is answered 403 with the problem
// type [ProblemCrossOrigin] and goes no further. Out of cookie mode next
// is returned as it is.
func (h *Handler) protect(next http.Handler) http.Handler {
	if h.cookies == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.cookies.crossOrigin(w, r) {
			next.ServeHTTP(w, r)
		}
	})
}

// writeGrant answers 200 with the login body of g, the one answer of
// every route that grants tokens, and in cookie mode sets the cookies
// of g first.
func (h *Handler) writeGrant(w http.ResponseWriter, r *http.Request, g *auth.Grant) {
	if h.cookies != nil {
		h.cookies.set(w, r, g)
	}
	writeJSON(w, http.StatusOK, "application/json", sessionResponse{
		UserID: g.User.ID, Email: g.User.Email, UserName: g.User.Name, Token: g.Token,
		RefreshToken: g.RefreshToken,
	})
}

// clearCookies clears the cookies of cookie mode, if it is on.
func (h *Handler) clearCookies(w http.ResponseWriter, r *http.Request) {
	if h.cookies != nil {
		h.cookies.clear(w, r)
	}
}

// refreshToken returns the refresh token of a request to /refresh or
// /logout: the body's, or in cookie mode, if the body has none, the
// refresh-token cookie's.
func (h *Handler) refreshToken(r *http.Request, body string) string {
	if body == "" && h.cookies != nil {
		body, _, _ = h.cookies.cookie(r, RefreshCookie)
	}
	return body
}

// cookieRoutes returns the routes of the table (routes.go) as cookie
// mode has them, if it is on: /logout is on without refresh tokens too
// (it clears the cookies), /refresh and /logout read refreshToken from
// the cookie when the body has none, the answers that set or clear the
// cookies say so, and every route but GET's may answer 403 of type
// ProblemCrossOrigin. Out of cookie mode rts is returned as it is.
func (h *Handler) cookieRoutes(rts []route) []route {
	if h.cookies == nil {
		return rts
	}
	sessions := h.svc.Features().RefreshTokens
	for i := range rts {
		rt := &rts[i]
		switch rt.path {
		case "/refresh", "/logout":
			rt.request.Required = nil
			rt.request.Properties["refreshToken"].Description +=
				" Without it (an empty object), the refresh-token cookie's: " + RefreshCookie + ", or " + plainRefreshCookie + " on plain HTTP to a loopback host."
		}
		if rt.path == "/logout" && !sessions {
			rt.on = true
			rt.summary = "Clear the cookies of cookie mode"
			rt.answers = []answer{{status: http.StatusNoContent, about: "the cookies are cleared (no session is kept on the server; the access token stays valid until it expires)"}}
		}
		for j := range rt.answers {
			a := &rt.answers[j]
			grant := a.status == http.StatusOK && a.body != nil && a.body.Ref == ref("Session").Ref
			clears := a.status == http.StatusNoContent && (rt.path == "/logout" || rt.path == "/logout-all" || rt.path == "/delete")
			if (grant || clears) && !slices.Contains(a.headers, "Set-Cookie") {
				a.headers = append(a.headers, "Set-Cookie")
			}
			if clears {
				a.about += "; the cookies are cleared"
			}
		}
		if rt.method == http.MethodGet {
			continue
		}
		i403 := slices.IndexFunc(rt.answers, func(a answer) bool { return a.status == http.StatusForbidden })
		if i403 < 0 {
			rt.answers = append(rt.answers, answer{status: http.StatusForbidden, about: "a cross-origin request from a browser", problems: []string{ProblemCrossOrigin}})
		} else {
			rt.answers[i403].about += "; or a cross-origin request from a browser"
			rt.answers[i403].problems = append(rt.answers[i403].problems, ProblemCrossOrigin)
		}
	}
	return rts
}

// setCookieDoc describes the Set-Cookie headers of the routes, for the
// OpenAPI document.
func (h *Handler) setCookieDoc() string {
	device := "The device cookie " + DeviceCookie + " (HttpOnly, SameSite=Strict, Path {prefix}/login), set by sign-up and login: the browser's token for login throttling, which logs nobody in."
	if h.cookies == nil {
		return device
	}
	return device + " In cookie mode, the routes that answer a session also set the access token in " + AccessCookie +
		" (HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age its lifetime) and, with refresh tokens, the refresh token in " + RefreshCookie +
		" (HttpOnly, Secure, SameSite=Strict, once with Path {prefix}/refresh and once with Path {prefix}/logout); on plain HTTP to a loopback host, without Secure and named " + plainAccessCookie + " and " + plainRefreshCookie + "." +
		" Logout, logout-all and deletion clear them (Max-Age=0). A cookie holds its token and nothing else."
}
