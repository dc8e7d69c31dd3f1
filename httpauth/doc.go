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
// /refresh and /logout answer 404 with refresh tokens off (but /logout
// in cookie mode, where it clears the cookies), and /logout-all unless
// sessions are tracked; /password needs a store that
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
// # Two-factor authentication
//
// Each user may turn on TOTP (RFC 6238: SHA1, 6 digits, 30 seconds, the
// codes of every authenticator app). [Handler.Mount] serves its routes
// when the Service's store has the ability ([auth.MFAStore]; every store
// of this module has it), and 404 otherwise:
//
//	POST {prefix}/mfa/totp/setup    (Bearer) {"password"}          200 {"secret", "uri", "qrCode"}
//	POST {prefix}/mfa/totp/confirm  (Bearer) {"code"}              200 {"recoveryCodes": [10 strings]}
//	POST {prefix}/login             {"email", "password"}          200 {"mfaRequired": true, "mfaToken"}, for an account with TOTP on
//	POST {prefix}/login/mfa         {"mfaToken", "code"}           200, the login body
//	POST {prefix}/login/mfa         {"mfaToken", "recoveryCode"}   200, the login body
//	POST {prefix}/mfa/disable       (Bearer) {"password", "code"}  204
//
// Setup answers the new secret in base32, its otpauth:// URI and a QR
// code of the URI as a PNG data: URL (data:image/png;base64,...) for an
// <img>; TOTP is on once /mfa/totp/confirm gets a first code, which
// answers the ten recovery codes, shown this once. From then on the
// right password at /login answers {"mfaRequired": true, "mfaToken"},
// with no token and no cookie, and /login/mfa exchanges the mfaToken
// and a current code, or a recovery code, for the login body (with
// "refreshToken" when refresh tokens are on) and the device cookie, as
// /login answers an account without TOTP, whose answers do not change.
// The mfaToken lives 5 minutes and is spent by the successful exchange;
// a wrong code leaves it usable ([ProblemInvalidCode]); an expired,
// spent or malformed one gets 401 with field mfaToken, and the client
// logs in again. A code is accepted one step either side of the
// server's clock, and once: the last step used is kept in the store, so
// a replayed code is refused on every replica; a recovery code works
// once. /mfa/disable takes a code or a recovery code. GET /me reports
// "mfa": true while TOTP is on. See [auth.Service.SetupTOTP] and the
// methods after it.
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
//	     [ProblemInvalidLink], field token; a code of two-factor
//	     authentication that is wrong, used or out of time, or a
//	     recovery code that is wrong or spent ([ProblemInvalidCode], field
//	     code or recoveryCode); /mfa/totp/confirm with no setup, or
//	     /mfa/disable with TOTP off ([ProblemMFANotEnabled])
//	401  wrong password or unknown email: one body for both; an unknown,
//	     spent, expired or revoked refresh token; an mfaToken that is
//	     malformed, expired or spent, or of a login a revocation ended:
//	     one body for all, field mfaToken; for the Bearer routes, the
//	     middleware's answer (see Middleware)
//	403  wrong current password: field currentPassword (/password) or
//	     password (/email/change, /delete, /mfa/totp/setup,
//	     /mfa/disable); a login, after the right
//	     password, of an account whose email is not verified while
//	     auth.Config.RequireVerifiedEmail is set ([ProblemEmailNotVerified])
//	     or that is disabled ([ProblemAccountDisabled]); in cookie mode, a
//	     state-changing request from another origin ([ProblemCrossOrigin],
//	     see Cookie mode)
//	404  an endpoint whose feature is off
//	405  a method the endpoint does not answer (with Allow: POST, or
//	     GET, PATCH for /me)
//	409  email already registered (after normalisation): field email
//	     (/signup), newEmail (/email/change), none (/email/change/confirm);
//	     TOTP on already (/mfa/totp/setup, /mfa/totp/confirm)
//	413  body over the limit
//	415  Content-Type not application/json
//	429  too many attempts (with Retry-After): see Throttling
//	503  hashing capacity exhausted (with Retry-After)
//	500  anything else, e.g. a store failure: a generic body; the error
//	     itself goes to Config.Logger
//
// Problems have the type about:blank, but for those that a client may
// want to tell apart from others of their status: [ProblemInvalidLink],
// [ProblemEmailNotVerified], [ProblemAccountDisabled],
// [ProblemInvalidCode], [ProblemMFANotEnabled] and [ProblemCrossOrigin].
// Responses never contain driver text, stack traces or secrets. Every
// response carries Cache-Control: no-store and X-Content-Type-Options:
// nosniff.
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
//   - per client, wrong codes of two-factor authentication (at
//     /login/mfa, /mfa/totp/confirm and /mfa/disable): a limit of the
//     same size and window, counted apart, so that the failed passwords
//     of others at the owner's address do not keep her, let through the
//     first step by her device cookie, from the second;
//   - per client, sign-ups: Config.MaxSignupsPerIP (default 20 with no
//     pause of Config.SignupWindowPerIP, an hour);
//   - per client, refused links: Config.MaxLinkFailuresPerIP (default 100
//     with no pause of Config.LinkFailureWindowPerIP, 15 minutes), at
//     /email/verify, /password/reset and /email/change/confirm together.
//
// A wrong current password at /password, /email/change, /delete,
// /mfa/totp/setup and /mfa/disable counts as a failed login, per account
// and client, per account and per client, as above; so does a wrong
// code, per account as a failed login and per client as a wrong code. The Service limits the mail of its own accord (see
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
// sends it to the login routes only (/login and /login/mfa, which sets
// it too), Max-Age 180 days
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
// [Handler.Middleware] reads "Authorization: Bearer <token>" (and in
// cookie mode, only when there is no such header, the access-token
// cookie), verifies the token with the Service's [token.Verifier] and
// stores the claims in the request context for [ClaimsFromContext]. All
// failures get one 401 body. [Authenticate] does the same with any
// Verifier, for a service that only verifies tokens; it never reads a
// cookie.
//
// [Handler.OptionalMiddleware] and [AuthenticateOptional] serve routes
// open to anonymous callers too: a request without credentials reaches
// the handler untouched, one with a valid token reaches it with the
// claims, and one whose credentials are refused gets the same 401 as
// from the required middleware, and never reaches the handler:
//
//	mux.Handle("GET /", h.OptionalMiddleware(home)) // ClaimsFromContext says who, if anyone
//
// # Cookie mode
//
// With Config.Cookies, a page in a browser needs no JavaScript-readable
// storage for its tokens: the routes that answer the login body (sign-up,
// login, refresh, password change) also set them in cookies that scripts
// cannot read (HttpOnly):
//
//	Set-Cookie: __Host-gatehouse_access=<JWT>; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax
//	Set-Cookie: __Secure-gatehouse_refresh=<token>; Path=/api/user/refresh; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict
//	Set-Cookie: __Secure-gatehouse_refresh=<token>; Path=/api/user/logout; Max-Age=2592000; HttpOnly; Secure; SameSite=Strict
//
// [AccessCookie] holds the access token, for every path of the host
// (Path=/, no Domain: the "__Host-" prefix makes browsers insist on it,
// so no subdomain can set or shadow it), as long as the token is valid;
// SameSite=Lax keeps browsers from sending it with requests that other
// sites start, but for top-level navigations (links), which are GETs.
// [RefreshCookie], with refresh tokens on, holds the refresh token, set
// twice so that the browser sends it to {prefix}/refresh and
// {prefix}/logout and to no other path; SameSite=Strict, as only the
// application's own pages call those routes. A cookie holds its token and
// nothing else, and the login body does not change: it still carries the
// tokens, as the wire contract says, so one server serves browsers and
// bearer clients alike (a page ignores them; see SECURITY.md on what an
// injected script can still do).
//
// Then:
//
//	POST {prefix}/refresh     {}   the refresh token of the cookie; new cookies
//	POST {prefix}/logout      {}   ends the cookie's session; clears the cookies
//	POST {prefix}/logout-all       (the access cookie) clears the cookies too
//	POST {prefix}/delete           clears the cookies too
//
// A body's refreshToken, if any, is used rather than the cookie's. With
// refresh tokens off, /logout is on all the same, and clears the cookies
// (204): a script cannot remove an HttpOnly cookie itself. The
// middleware reads the access cookie only from a request without an
// Authorization header: a bearer client is answered exactly as without
// cookie mode, with Set-Cookie headers it may ignore. A refused cookie is
// answered 401 and cleared.
//
// Secure and the prefixes are dropped, and the cookies named
// gatehouse_access and gatehouse_refresh, only for local development: a
// request over plain HTTP (no TLS reached this server) to a loopback Host
// (localhost, *.localhost, 127.0.0.0/8, [::1]) whose Origin header, if
// any, is an http origin of a loopback host too. Chrome and Firefox would
// keep a Secure cookie of http://localhost, but other browsers and most
// HTTP clients would not. Every other request gets Secure, prefixed
// cookies, behind a proxy that ends TLS too, provided the proxy passes
// the Host header on (nginx: proxy_set_header Host $host); if it
// rewrites Host to a loopback address, set Config.AlwaysSecureCookies,
// which makes the cookies Secure and prefixed on every request. A cookie
// under a bare name is read only from requests of local development.
// Cookie mode needs https anywhere else: browsers do not keep a Secure
// cookie set over plain HTTP.
//
// A browser attaches cookies to requests that pages of other origins
// start, so in cookie mode every route of the Handler, and every route
// where the access cookie authenticates the request, refuses
// state-changing requests (any method but GET, HEAD and OPTIONS) that a
// browser says come from another origin: net/http's
// [http.CrossOriginProtection] decides, from the Sec-Fetch-Site header
// ("same-origin" or "none" pass), or else from the Origin header (whose
// host must be the request's Host). A request without either, such as
// any client that is not a browser, passes. So do requests whose Origin
// is one of Config.TrustedOrigins, the exact origins
// ("https://app.example.com") of the application's pages elsewhere. A
// refused request gets 403 of type [ProblemCrossOrigin] and has no
// effect. Requests that carry the token in an Authorization header are
// not checked by the middleware, as no browser adds that header by
// itself: out of cookie mode nothing is checked.
//
// A page of another origin (a trusted one) reaches the routes only if the
// application answers CORS: that is its choice, made in front of the
// Handler (see the README, Browser apps): credentials allowed, the exact
// origin echoed, never "*".
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
