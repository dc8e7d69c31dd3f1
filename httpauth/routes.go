package httpauth

import (
	"cmp"
	"net/http"
	"slices"
)

// route is one operation of a Handler, a method on a path. The Handler's
// table of routes ([Handler.routeTable]) is the one list that
// [Handler.Mount] registers, [Handler.ServeHTTP] dispatches to and the
// OpenAPI document ({prefix}/openapi.json) describes.
type route struct {
	method string // http.MethodGet, http.MethodPost, http.MethodPatch
	path   string // under the prefix, starting with "/"

	// on says whether the route is mounted under the Handler's
	// configuration. A route that is off answers 404 with a problem body
	// and is left out of the document.
	on bool

	// handler serves the route. It answers the methods of its path that
	// no route of the table has (405 with Allow) itself.
	handler http.Handler

	auth    authKind // the credentials the route needs
	summary string   // one line, for the document

	// request is the JSON object the route reads; nil: the route reads
	// no body (and ignores any). Every route with a request may answer
	// 400, 413 and 415; allAnswers adds them.
	request *schema

	// answers are the route's own answers. Those that every route of
	// its kind gives (see route.allAnswers) are added unless the route
	// lists the status itself.
	answers []answer
}

// authKind is what credentials a route needs.
type authKind int

const (
	authNone   authKind = iota // none
	authBearer                 // an access token: the route runs behind Handler.Middleware
)

// answer is a response a route can give.
type answer struct {
	status int
	about  string // what it means, for the document

	// body is the JSON body of a success (application/json); nil: none,
	// or a problem.
	body *schema

	// problems are the types of the problem details
	// (application/problem+json) the answer may carry: "about:blank" or
	// one of the Problem constants. A success has none.
	problems []string

	// headers are the response headers worth documenting: the names of
	// headerDocs.
	headers []string
}

// blank is the problem type of the problems that their status says all
// about.
const blank = "about:blank"

// routeTable returns the Handler's routes, each with its handler and
// whether it is on under the Handler's configuration and the Service's
// features ([auth.Service.Features]).
func (h *Handler) routeTable() []route {
	f := h.svc.Features()
	session, me, accepted := ref("Session"), ref("Me"), ref("Accepted")
	throttledIf := func(on bool, why string) []answer {
		if !on {
			return nil
		}
		return []answer{{status: http.StatusTooManyRequests, about: why, problems: []string{blank}, headers: []string{"Retry-After"}}}
	}
	busy := answer{status: http.StatusServiceUnavailable, about: "hashing capacity exhausted; retry later", problems: []string{blank}, headers: []string{"Retry-After"}}
	invalidLink := answer{status: http.StatusBadRequest, about: "an invalid field (field names it), or a one-time token that is malformed, unknown, spent, expired or no longer for the account's address: one body for all, of type " + ProblemInvalidLink + ", field token", problems: []string{blank, ProblemInvalidLink}}
	linkThrottle := throttledIf(h.linkIP != nil, "too many refused links from this client")

	routes := []route{
		{
			method: http.MethodPost, path: "/signup", on: true, handler: h.Signup(),
			summary: "Create an account and log it in",
			request: object(
				prop("name", str(1, maxNameChars, "The user name: trimmed, NFC-normalised, 1 to 100 characters without control characters.")),
				prop("email", email()),
				prop("password", newPassword()),
			),
			answers: append([]answer{
				{status: http.StatusOK, about: "the account and its tokens; the device cookie is set", body: session, headers: []string{"Set-Cookie"}},
				{status: http.StatusBadRequest, about: "an invalid field (field names it), a password the policy refuses among them", problems: []string{blank}},
				{status: http.StatusConflict, about: "the email is registered already (after normalisation): field email", problems: []string{blank}},
				busy,
			}, throttledIf(h.signupIP != nil, "too many sign-ups from this client")...),
		},
		{
			method: http.MethodPost, path: "/login", on: true, handler: h.Login(),
			summary: "Log in with email and password",
			request: object(
				prop("email", email()),
				prop("password", str(1, maxPasswordBytes, "The password.")),
			),
			answers: []answer{
				loginAnswer(f.MFA, session),
				{status: http.StatusUnauthorized, about: "wrong email or password: one body for both", problems: []string{blank}},
				{status: http.StatusForbidden, about: "after the right password: an account whose email is not verified while the Service requires it, or one that is disabled", problems: []string{ProblemEmailNotVerified, ProblemAccountDisabled}},
				{status: http.StatusTooManyRequests, about: "too many failed logins, for this account from this client, for the account from all clients, or from this client", problems: []string{blank}, headers: []string{"Retry-After"}},
				busy,
			},
		},
		{
			method: http.MethodPost, path: "/refresh", on: f.RefreshTokens, handler: h.Refresh(),
			summary: "Trade a refresh token for new tokens",
			request: object(prop("refreshToken", str(1, 0, "The session's current refresh token; it is spent."))),
			answers: []answer{
				{status: http.StatusOK, about: "new tokens of the same session", body: session},
				{status: http.StatusUnauthorized, about: "an unknown, spent, expired or revoked refresh token: one body for all", problems: []string{blank}},
				{status: http.StatusForbidden, about: "the account is disabled", problems: []string{ProblemAccountDisabled}},
			},
		},
		{
			method: http.MethodPost, path: "/logout", on: f.RefreshTokens, handler: h.Logout(),
			summary: "End the session of a refresh token",
			request: object(prop("refreshToken", str(1, 0, "A refresh token of the session."))),
			answers: []answer{
				{status: http.StatusNoContent, about: "the session is ended (or was already)"},
				{status: http.StatusUnauthorized, about: "an unknown refresh token", problems: []string{blank}},
			},
		},
		{
			method: http.MethodPost, path: "/logout-all", on: f.Sessions, handler: h.LogoutAll(),
			auth: authBearer, summary: "End every session of the caller",
			answers: []answer{{status: http.StatusNoContent, about: "every session of the caller is ended"}},
		},
		{
			method: http.MethodPost, path: "/password", on: f.Passwords, handler: h.ChangePassword(),
			auth: authBearer, summary: "Change the caller's password; the other sessions end",
			request: object(
				prop("currentPassword", str(1, maxPasswordBytes, "The current password.")),
				prop("newPassword", newPassword()),
			),
			answers: []answer{
				{status: http.StatusOK, about: "a new session; the others are ended", body: session},
				{status: http.StatusBadRequest, about: "an invalid field (field names it), a new password the policy refuses among them (field newPassword)", problems: []string{blank}},
				{status: http.StatusUnauthorized, about: "no valid access token, or the sessions were revoked meanwhile (the password is changed: log in again)", problems: []string{blank}, headers: []string{"WWW-Authenticate"}},
				{status: http.StatusForbidden, about: "wrong current password: field currentPassword", problems: []string{blank}},
				{status: http.StatusTooManyRequests, about: "too many wrong passwords", problems: []string{blank}, headers: []string{"Retry-After"}},
				busy,
			},
		},
		{
			method: http.MethodGet, path: "/me", on: true, handler: h.Me(),
			auth: authBearer, summary: "The caller's account",
			answers: []answer{{status: http.StatusOK, about: "the caller's account", body: me}},
		},
		{
			method: http.MethodPatch, path: "/me", on: f.Accounts, handler: h.Me(),
			auth: authBearer, summary: "Change the caller's user name",
			request: object(prop("name", str(1, maxNameChars, "The new user name: trimmed, NFC-normalised, 1 to 100 characters without control characters."))),
			answers: []answer{{status: http.StatusOK, about: "the caller's account, renamed", body: me}},
		},
		{
			method: http.MethodPost, path: "/email/verify", on: f.Accounts, handler: h.VerifyEmail(),
			summary: "Verify an email address with the token of a verification link",
			request: object(prop("token", linkToken())),
			answers: append([]answer{
				{status: http.StatusNoContent, about: "the address is verified; tokens issued from now on say so"},
				invalidLink,
			}, linkThrottle...),
		},
		{
			method: http.MethodPost, path: "/email/verify/resend", on: f.Accounts && f.Mail, handler: h.ResendVerification(),
			auth: authBearer, summary: "Send a new verification link",
			answers: []answer{
				{status: http.StatusAccepted, about: "unless the address is verified already, a link is on its way", body: accepted},
				{status: http.StatusTooManyRequests, about: "too many links asked for", problems: []string{blank}, headers: []string{"Retry-After"}},
			},
		},
		{
			method: http.MethodPost, path: "/password/forgot", on: f.Accounts && f.Mail, handler: h.ForgotPassword(),
			summary: "Ask for a password reset link",
			request: object(prop("email", email())),
			answers: []answer{
				{status: http.StatusAccepted, about: "the same answer whether or not an account has the address; if one has, a link is on its way", body: accepted},
				{status: http.StatusTooManyRequests, about: "too many requests for the address or from this client", problems: []string{blank}, headers: []string{"Retry-After"}},
			},
		},
		{
			method: http.MethodPost, path: "/password/reset", on: f.Accounts && f.Passwords, handler: h.ResetPassword(),
			summary: "Set a new password with the token of a reset link; every session ends",
			request: object(prop("token", linkToken()), prop("password", newPassword())),
			answers: append([]answer{
				{status: http.StatusNoContent, about: "the password is set; every session of the user is ended"},
				invalidLink,
				busy,
			}, linkThrottle...),
		},
		{
			method: http.MethodPost, path: "/email/change", on: f.Accounts && f.Mail, handler: h.RequestEmailChange(),
			auth: authBearer, summary: "Ask to change the caller's email address",
			request: object(
				prop("password", str(1, maxPasswordBytes, "The current password.")),
				prop("newEmail", email()),
			),
			answers: []answer{
				{status: http.StatusAccepted, about: "a link is on its way to the new address, a notice to the current one", body: accepted},
				{status: http.StatusBadRequest, about: "an invalid field (field names it; newEmail for the address)", problems: []string{blank}},
				{status: http.StatusForbidden, about: "wrong password: field password", problems: []string{blank}},
				{status: http.StatusConflict, about: "the new address is registered already: field newEmail", problems: []string{blank}},
				{status: http.StatusTooManyRequests, about: "too many wrong passwords", problems: []string{blank}, headers: []string{"Retry-After"}},
				busy,
			},
		},
		{
			method: http.MethodPost, path: "/email/change/confirm", on: f.Accounts, handler: h.ConfirmEmailChange(),
			summary: "Confirm an email change with the token of its link",
			request: object(prop("token", linkToken())),
			answers: append([]answer{
				{status: http.StatusNoContent, about: "the account has the new address, verified"},
				invalidLink,
				{status: http.StatusConflict, about: "another account has taken the address meanwhile", problems: []string{blank}},
			}, linkThrottle...),
		},
		{
			method: http.MethodPost, path: "/delete", on: f.Accounts, handler: h.DeleteAccount(),
			auth: authBearer, summary: "Delete the caller's account",
			request: object(prop("password", str(1, maxPasswordBytes, "The current password."))),
			answers: []answer{
				{status: http.StatusNoContent, about: "the account, its sessions and its tokens are gone"},
				{status: http.StatusForbidden, about: "wrong password: field password", problems: []string{blank}},
				{status: http.StatusTooManyRequests, about: "too many wrong passwords", problems: []string{blank}, headers: []string{"Retry-After"}},
				busy,
			},
		},
		{
			method: http.MethodGet, path: "/openapi.json", on: true, handler: h.OpenAPI(),
			summary: "This document: the routes mounted under this configuration",
			answers: []answer{
				{status: http.StatusOK, about: "the OpenAPI 3.1 document", body: &schema{Type: "object", Description: "An OpenAPI 3.1 document."}},
				{status: http.StatusNotModified, about: "the document has the ETag of If-None-Match"},
			},
		},
	}
	return append(routes, h.mfaRoutes(f.MFA, session, busy)...)
}

// namedSchemas are the schemas of the document's components, which
// answers reference by name (ref).
func (h *Handler) namedSchemas() map[string]*schema {
	f := h.svc.Features()
	return map[string]*schema{
		"Session":  sessionSchema(f.RefreshTokens),
		"Me":       meSchema(),
		"Accepted": acceptedSchema(),
		"Problem":  problemSchema(),
	}
}

// Limits of the request fields that the Service enforces.
const (
	maxNameChars     = 100  // user names, after trimming
	maxEmailBytes    = 254  // email addresses, after trimming
	minPasswordChars = 8    // new passwords
	maxPasswordBytes = 1024 // passwords
)

// allAnswers returns the route's answers with those that every route of
// its kind gives, in the order of their statuses: 400, 413 and 415 for a
// route that reads a body, 401 for one that needs an access token, 500
// for all.
func (rt *route) allAnswers() []answer {
	all := append([]answer(nil), rt.answers...)
	add := func(a answer) {
		if !slices.ContainsFunc(all, func(b answer) bool { return b.status == a.status }) {
			all = append(all, a)
		}
	}
	if rt.request != nil {
		add(answer{status: http.StatusBadRequest, about: "malformed JSON, invalid UTF-8, an unknown, duplicate, missing or invalid field, a member that is not a string, trailing data: field names the member at fault, if any", problems: []string{blank}})
		add(answer{status: http.StatusRequestEntityTooLarge, about: "the body is over the limit", problems: []string{blank}})
		add(answer{status: http.StatusUnsupportedMediaType, about: "Content-Type is not application/json", problems: []string{blank}})
	}
	if rt.auth == authBearer {
		add(answer{status: http.StatusUnauthorized, about: "no valid access token: one body for all", problems: []string{blank}, headers: []string{"WWW-Authenticate"}})
	}
	add(answer{status: http.StatusInternalServerError, about: "a failure on the server's side, such as the store's: a generic body", problems: []string{blank}})
	slices.SortStableFunc(all, func(a, b answer) int { return cmp.Compare(a.status, b.status) })
	return all
}

// mountPath is a path of the route table, under the prefix, with the
// handler that Mount registers for it.
type mountPath struct {
	path    string
	handler http.Handler
}

// mountPaths returns, for each path of routes in their order, the handler
// that Mount registers for it: the handler of the path's route for the
// request's method, or, for a method that no route has, that of the
// path's first route that is on (which answers 405, or the middleware's
// 401 first); a route that is off answers 404.
func mountPaths(routes []route) []mountPath {
	var paths []string
	byPath := map[string][]route{}
	for _, rt := range routes {
		if _, seen := byPath[rt.path]; !seen {
			paths = append(paths, rt.path)
		}
		byPath[rt.path] = append(byPath[rt.path], rt)
	}
	mounts := make([]mountPath, len(paths))
	for i, p := range paths {
		mounts[i] = mountPath{p, dispatch(byPath[p])}
	}
	return mounts
}

// dispatch returns the handler of one path's routes (see mountPaths).
func dispatch(rs []route) http.Handler {
	if len(rs) == 1 && rs[0].on {
		return rs[0].handler
	}
	var fallback http.Handler = http.HandlerFunc(notEnabled)
	for _, rt := range rs {
		if rt.on {
			fallback = rt.handler
			break
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, rt := range rs {
			if rt.method == r.Method {
				if !rt.on {
					notEnabled(w, r)
					return
				}
				rt.handler.ServeHTTP(w, r)
				return
			}
		}
		fallback.ServeHTTP(w, r)
	})
}

// notEnabled answers a route that is off under the configuration.
func notEnabled(w http.ResponseWriter, _ *http.Request) {
	writeProblem(w, http.StatusNotFound, "not enabled on this server", "")
}

// ---- Schemas of the request and response bodies -----------------------

// sessionSchema is the body of a sign-up, login, refresh or password
// change (sessionResponse), with refreshToken when refresh tokens are on.
func sessionSchema(refresh bool) *schema {
	props := []property{
		prop("userId", str(0, 0, "The account's ID.")),
		prop("email", str(0, 0, "The account's email address, normalised.")),
		prop("userName", str(0, 0, "The user name.")),
		prop("token", str(0, 0, "The access token, a JWT; send it as Authorization: Bearer.")),
	}
	if refresh {
		props = append(props, prop("refreshToken", str(0, 0, "The session's refresh token, for /refresh and /logout.")))
	}
	return object(props...)
}

// meSchema is the body of GET and PATCH /me (meResponse).
func meSchema() *schema {
	created := str(0, 0, "When the account was created: RFC 3339, UTC, whole seconds.")
	created.Format = "date-time"
	return object(
		prop("userId", str(0, 0, "The account's ID.")),
		prop("email", str(0, 0, "The account's email address, normalised.")),
		prop("userName", str(0, 0, "The user name.")),
		prop("emailVerified", &schema{Type: "boolean", Description: "Whether the email address is verified."}),
		prop("mfa", &schema{Type: "boolean", Description: "Whether a second factor is enrolled."}),
		prop("createdAt", created),
	)
}

// problemSchema is the body of every error (problem): RFC 9457 problem
// details with the extension member field.
func problemSchema() *schema {
	s := object(
		prop("type", &schema{Type: "string", Format: "uri-reference", Description: "about:blank, or the URI of a problem type that a client may want to tell apart from others of its status."}),
		prop("title", str(0, 0, "The status text.")),
		prop("status", &schema{Type: "integer", Description: "The HTTP status."}),
		prop("detail", str(0, 0, "What went wrong, for people.")),
		prop("field", str(0, 0, "The request member at fault, if any.")),
	)
	s.Required = []string{"type", "title", "status"}
	s.Description = "RFC 9457 problem details."
	return s
}

// acceptedSchema is the body of the 202 answers (acceptedResponse).
func acceptedSchema() *schema {
	return object(prop("message", str(0, 0, "What happens next, for people.")))
}

func email() *schema {
	s := str(1, maxEmailBytes, "An email address: trimmed, Unicode-normalised and lower-cased before use; at most 254 bytes.")
	s.Format = "email"
	return s
}

func newPassword() *schema {
	return str(minPasswordChars, maxPasswordBytes, "A new password: 8 characters (code points) to 1024 bytes, not the email or the name, not a common password.")
}

func linkToken() *schema {
	return str(1, 0, "The token of the link, as its query parameter token carries it.")
}

// str is a string schema with the given bounds (0: none).
func str(minLen, maxLen int, description string) *schema {
	return &schema{Type: "string", MinLength: minLen, MaxLength: maxLen, Description: description}
}

// property is one member of an object schema.
type property struct {
	name   string
	schema *schema
}

func prop(name string, s *schema) property { return property{name, s} }

// object is the schema of a JSON object of exactly the given members, all
// required.
func object(props ...property) *schema {
	s := &schema{Type: "object", Properties: map[string]*schema{}, AdditionalProperties: new(bool)}
	for _, p := range props {
		s.Properties[p.name] = p.schema
		s.Required = append(s.Required, p.name)
	}
	return s
}
