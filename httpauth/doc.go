// Package httpauth puts an [auth.Service] on the web with net/http: the
// sign-up and login endpoints, and middleware that admits only requests
// carrying a valid access token.
//
// # Mounting
//
// On an [http.ServeMux], one line after construction:
//
//	h, err := httpauth.New(svc, httpauth.Config{}) // prefix /api/user
//	...
//	h.Mount(mux)                                   // POST /api/user/signup, POST /api/user/login
//	mux.Handle("GET /api/user/me", h.Middleware(meHandler))
//
// Any other router takes [Handler.Signup] and [Handler.Login], which are
// plain http.Handlers, and [Handler.Middleware], which has the usual
// func(http.Handler) http.Handler shape.
//
// # Wire format
//
//	POST {prefix}/signup  {"name": "...", "email": "...", "password": "..."}
//	POST {prefix}/login   {"email": "...", "password": "..."}
//
// Both answer 200 with exactly
//
//	{"userId": "...", "email": "...", "userName": "...", "token": "<JWT>"}
//
// and set the device cookie (see Device cookie). With refresh tokens on
// (auth.Config.RefreshTokens), the body also has "refreshToken".
// [Handler.Mount] also serves the session endpoints:
//
//	POST {prefix}/refresh     {"refreshToken": "..."}  200, the body above
//	POST {prefix}/logout      {"refreshToken": "..."}  204
//	POST {prefix}/logout-all  (Bearer token)           204
//	POST {prefix}/password    (Bearer token) {"currentPassword": "...", "newPassword": "..."}
//	                                                   200, the body above
//
// /refresh and /logout answer 404 with refresh tokens off, and
// /logout-all unless sessions are tracked; /password needs a store that
// can change hashes (every store of this module can).
//
// Requests must be POST with Content-Type application/json (charset=utf-8
// allowed), a body of at most Config.MaxBodyBytes holding one JSON object
// whose members are the listed fields, each a string and each at most once.
//
// # Errors
//
// Errors are RFC 9457 problem details (application/problem+json) with
// type, title, status, detail and, for 400 and 409, field naming the
// request member at fault:
//
//	400  malformed JSON, invalid UTF-8, unknown, duplicate, missing or
//	     invalid field, wrong type, trailing data
//	401  wrong password or unknown email: one body for both; an unknown,
//	     spent, expired or revoked refresh token
//	403  wrong current password (/password), field currentPassword
//	404  a session endpoint whose feature is off
//	405  method other than POST (with Allow: POST)
//	409  email already registered (after normalisation)
//	413  body over the limit
//	415  Content-Type not application/json
//	429  too many attempts (with Retry-After): see Throttling
//	503  hashing capacity exhausted (with Retry-After)
//	500  anything else, e.g. a store failure: a generic body; the error
//	     itself goes to Config.Logger
//
// Responses never contain driver text, stack traces or secrets. Every
// response carries Cache-Control: no-store and X-Content-Type-Options:
// nosniff.
//
// # Throttling
//
// Four limits answer 429 Too Many Requests, with one problem body for all
// of them and a Retry-After header in whole seconds (rounded up):
//
//   - per account and client: the [auth.Service] makes a client that has
//     failed too many logins for one email wait (backoff from the 5th
//     consecutive failure, at most 20 an hour by default; see
//     [auth.Config]). Other clients are not slowed by it: an address
//     hammering an account locks out only itself;
//   - per account: once an email has had 100 failed logins in an hour of
//     the clock, from five addresses at least (no one client can make
//     more than 20), the Service refuses it until the hour ends to every
//     client without a device cookie for it. Unknown emails are throttled
//     exactly like existing ones, so a 429 says nothing about which
//     accounts exist;
//   - per client, failed logins: Config.MaxLoginFailuresPerIP (default 100
//     with no pause of Config.LoginFailureWindowPerIP, 15 minutes), which
//     stops one address from trying a password on many accounts;
//   - per client, sign-ups: Config.MaxSignupsPerIP (default 20 with no
//     pause of Config.SignupWindowPerIP, an hour).
//
// The client is the request's peer (RemoteAddr). Behind reverse proxies
// or load balancers, list their networks in Config.TrustedProxies: a
// request from one of them is attributed to the right-most address of its
// X-Forwarded-For headers that is not a trusted proxy. Without
// TrustedProxies, X-Forwarded-For is ignored, since any client can write
// it. An IPv6 client is counted by its /64 network, as one subscriber
// usually has a whole /64 to pick addresses from; an IPv4 client by its
// address. Requests whose RemoteAddr is not an IP address (a Unix socket)
// share one counter.
//
// The counters live in the Service's attempt store (auth.Config.Attempts,
// a [throttle.Store]): with the SQL stores of this module, in the
// database, so replicas share them. If the counters cannot be read or
// written, the request fails with 500 rather than go uncounted.
//
// # Device cookie
//
// A successful sign-up or login sets the cookie [DeviceCookie]
// ("gatehouse_device") to a new device token of the account
// ([auth.Grant.DeviceToken]; the response body does not change):
// HttpOnly, SameSite=Strict, Path {prefix}/login, so that the browser
// sends it to the login route only, Max-Age 180 days
// ([auth.DeviceTokenLifetime]), and Secure when the request came over TLS
// or Config.DeviceCookieSecure is set (set it behind a proxy that ends
// TLS). It logs nobody in and is no bearer of identity: it only tells the
// login route that this browser has logged in to that account before. A
// login whose cookie is valid for the email in its body is counted as
// that device alone (through [auth.WithDeviceToken]): neither the
// account-wide limit nor Config.MaxLoginFailuresPerIP refuses it, so the
// owner keeps logging in from her own browser while others guess her
// password, even behind the attacker's address; the device's own backoff
// and cap still apply. A browser keeps one such cookie, for the account
// it last signed up or logged in to. Clients other than browsers may
// ignore it, and are then throttled by address.
//
// # Middleware
//
// [Handler.Middleware] reads "Authorization: Bearer <token>" only, verifies
// the token with the Service's [token.Verifier] and stores the claims in the
// request context for [ClaimsFromContext]. All failures get one 401 body.
// [Authenticate] does the same with any Verifier, for a service that only
// verifies tokens.
//
// # Authorization
//
// [Require] and [RequireClaim] go inside the authenticating middleware and
// answer 403 to an authenticated caller that lacks what the route needs,
// say a role written by auth.Config.CustomClaims:
//
//	admin := httpauth.RequireClaim("roles", "admin")
//	mux.Handle("GET /admin/stats", h.Middleware(admin(statsHandler)))
//
// # Keys
//
// With asymmetric keys (auth.Config.Keys), [JWKS] publishes the public keys
// for other services, which verify with them and never hold a signing key:
//
//	mux.Handle("GET /.well-known/jwks.json", httpauth.JWKS(svc.Keys()))
//
//	// in the other service, with doc fetched from that URL:
//	keys, err := token.ParseJWKS(doc)
//	set, err := token.NewKeySet(keys...)
//	v, err := token.NewVerifier(set, token.Config{})
//	mux.Handle("GET /orders", httpauth.Authenticate(v)(ordersHandler))
package httpauth
