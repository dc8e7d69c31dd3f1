// Package httpauth puts an [auth.Service] on the web with net/http: the
// sign-up and login endpoints, the account's endpoints (profile, email
// verification, password reset, email change, deletion), and middleware
// that admits only requests carrying a valid access token.
//
// # Mounting
//
// On an [http.ServeMux], one line after construction:
//
//	h, err := httpauth.New(svc, httpauth.Config{}) // prefix /api/user
//	...
//	h.Mount(mux)                                   // POST /api/user/signup, /api/user/login, GET /api/user/me, ...
//	mux.Handle("GET /api/orders", h.Middleware(ordersHandler))
//
// Any other router takes the handlers one by one ([Handler.Signup],
// [Handler.Login], [Handler.Me]...), which are plain http.Handlers, or
// the Handler itself for every path under the prefix, and
// [Handler.Middleware], which has the usual func(http.Handler)
// http.Handler shape.
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
// can change hashes (every store of this module can). A route that is off
// answers 404 to any method, and the OpenAPI document leaves it out.
//
// Requests with a body must be POST (PATCH for /me) with Content-Type
// application/json (charset=utf-8 allowed), a body of at most
// Config.MaxBodyBytes holding one JSON object whose members are the
// listed fields, each a string and each at most once.
//
// # Account
//
// [Handler.Mount] serves the account's endpoints too; those marked
// (Bearer) need an access token and run behind [Handler.Middleware]:
//
//	GET   {prefix}/me                    (Bearer)                             200 {"userId", "email", "userName", "emailVerified", "mfa", "createdAt"}
//	PATCH {prefix}/me                    (Bearer) {"name"}                    200, the /me body
//	POST  {prefix}/email/verify          {"token"}                            204
//	POST  {prefix}/email/verify/resend   (Bearer)                             202
//	POST  {prefix}/password/forgot       {"email"}                            202
//	POST  {prefix}/password/reset        {"token", "password"}                204
//	POST  {prefix}/email/change          (Bearer) {"password", "newEmail"}    202
//	POST  {prefix}/email/change/confirm  {"token"}                            204
//	POST  {prefix}/delete                (Bearer) {"password"}                204
//
// The tokens are those of the links the Service mails
// ({auth.Config.PublicURL}/verify-email?token=T, /reset-password?token=T,
// /confirm-email?token=T): pages of the application, which post the token
// here. The 202 answers have a body {"message": "..."} and mean the mail
// is on its way: it is sent off the request path, and /password/forgot
// answers the same, in the same time, whether or not an account has the
// address (and mails nothing if none has). A new verification lasts
// for the tokens issued afterwards ("email_verified": true): a client
// logs in again or refreshes to get one.
//
// A reset ends every session of the user; with revocation checked
// (auth.Config.CheckRevocation), older access tokens stop working too,
// as they do after a deletion, on every route behind [Handler.Middleware].
// Without revocation checking, the token of a deleted account passes the
// middleware until it expires; the account's routes answer it 401.
//
// Without a Mailer (auth.Config.Mailer), /email/verify/resend,
// /password/forgot and /email/change answer 404, as the session
// endpoints do when their feature is off; the others work. A store
// without the account abilities ([auth.AccountStore]; every store of
// this module has them) gets 404 on every account endpoint but GET /me.
//
// # OpenAPI
//
// [Handler.Mount] also serves GET {prefix}/openapi.json ([Handler.OpenAPI]):
// an OpenAPI 3.1 document of exactly the routes that are on under the
// Handler's configuration and the Service's features
// ([auth.Service.Features]), generated from the route table that Mount
// registers. Each operation has its request body (a JSON object of
// required string members, with the lengths the Service enforces), every
// answer with its status and body schema, or, for errors, the problem
// types it may carry, and the headers Retry-After (429, 503),
// WWW-Authenticate (401) and Set-Cookie (the device cookie); Bearer
// routes name the security scheme "bearer" (HTTP bearer, JWT). The
// answers of a per-IP limit are listed only while it is on. Every route
// may answer 500. The document is the same bytes for the same
// configuration, served with an ETag and "Cache-Control: no-cache".
//
// # Errors
//
// Errors are RFC 9457 problem details (application/problem+json) with
// type, title, status, detail and, for 400 and 409, field naming the
// request member at fault:
//
//	400  malformed JSON, invalid UTF-8, unknown, duplicate, missing or
//	     invalid field, wrong type, trailing data; a password the policy
//	     refuses (field password, or newPassword for /password); a
//	     one-time token that is malformed, unknown, spent, expired or no
//	     longer for the account's address: one body for all, of type
//	     [ProblemInvalidLink], field token
//	401  wrong password or unknown email: one body for both; an unknown,
//	     spent, expired or revoked refresh token; for the Bearer routes,
//	     the middleware's answer (see Middleware)
//	403  wrong current password: field currentPassword (/password) or
//	     password (/email/change, /delete); a login, after the right
//	     password, of an account whose email is not verified while
//	     auth.Config.RequireVerifiedEmail is set ([ProblemEmailNotVerified])
//	     or that is disabled ([ProblemAccountDisabled])
//	404  an endpoint whose feature is off
//	405  a method the endpoint does not answer (with Allow: POST, or
//	     GET, PATCH for /me)
//	409  email already registered (after normalisation): field email
//	     (/signup), newEmail (/email/change), none (/email/change/confirm)
//	413  body over the limit
//	415  Content-Type not application/json
//	429  too many attempts (with Retry-After): see Throttling
//	503  hashing capacity exhausted (with Retry-After)
//	500  anything else, e.g. a store failure: a generic body; the error
//	     itself goes to Config.Logger
//
// Problems have the type about:blank, but for the three that a client may
// want to tell apart from others of their status: [ProblemInvalidLink],
// [ProblemEmailNotVerified] and [ProblemAccountDisabled]. Responses never
// contain driver text, stack traces or secrets. Every response carries
// Cache-Control: no-store and X-Content-Type-Options: nosniff.
//
// # Throttling
//
// These limits answer 429 Too Many Requests, with one problem body for all
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
//     pause of Config.SignupWindowPerIP, an hour);
//   - per client, refused links: Config.MaxLinkFailuresPerIP (default 100
//     with no pause of Config.LinkFailureWindowPerIP, 15 minutes), at
//     /email/verify, /password/reset and /email/change/confirm together.
//
// A wrong current password at /password, /email/change and /delete counts
// as a failed login, per account and client, per account and per client,
// as above. The Service limits the mail of its own accord (see
// [auth.Service.ForgotPassword] and [auth.Service.ResendVerification]):
// reset requests per address, known or not, and per client, and
// verification mails per user.
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
// [RequireVerifiedEmail] admits only tokens that say the caller's email is
// verified, and answers others 403 with the type [ProblemEmailNotVerified]:
//
//	mux.Handle("POST /api/orders", h.Middleware(httpauth.RequireVerifiedEmail(ordersHandler)))
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
