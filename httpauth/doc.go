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
//	401  wrong password or unknown email: one body for both
//	405  method other than POST (with Allow: POST)
//	409  email already registered (after normalisation)
//	413  body over the limit
//	415  Content-Type not application/json
//	503  hashing capacity exhausted (with Retry-After)
//	500  anything else, e.g. a store failure: a generic body; the error
//	     itself goes to Config.Logger
//
// Responses never contain driver text, stack traces or secrets. Every
// response carries Cache-Control: no-store and X-Content-Type-Options:
// nosniff.
//
// # Middleware
//
// [Handler.Middleware] reads "Authorization: Bearer <token>" only, verifies
// the token with [auth.Service.VerifyToken] and stores the claims in the
// request context for [ClaimsFromContext]. All failures get one 401 body.
package httpauth
