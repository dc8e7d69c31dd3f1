package httpauth

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
)

// meResponse is the body of GET and PATCH {prefix}/me.
type meResponse struct {
	UserID        string `json:"userId"`
	Email         string `json:"email"`
	UserName      string `json:"userName"`
	EmailVerified bool   `json:"emailVerified"`
	MFA           bool   `json:"mfa"`
	CreatedAt     string `json:"createdAt"` // RFC 3339, UTC, whole seconds
}

// acceptedResponse is the body of the 202 answers: the request is taken
// and its mail, if any, is on its way.
type acceptedResponse struct {
	Message string `json:"message"`
}

// Me returns the handler of {prefix}/me, which needs a valid access token
// (it runs behind [Handler.Middleware]). GET answers 200 with the
// caller's account:
//
//	{"userId", "email", "userName", "emailVerified", "mfa", "createdAt"}
//
// where createdAt is an RFC 3339 time in UTC to the second, and mfa
// says whether two-factor authentication is on ([auth.User].MFA). PATCH reads {"name"}, sets the
// user name ([auth.Service.UpdateName]; 400 with field "name" if it is
// refused) and answers the same body. Tokens issued before a rename keep
// the old userName until they expire. A token whose user no longer
// exists gets the middleware's 401. Other methods get 405 with "Allow:
// GET, PATCH".
func (h *Handler) Me() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			u   auth.User
			err error
		)
		c, _ := ClaimsFromContext(r.Context())
		ctx, _ := h.client(r)
		switch r.Method {
		case http.MethodGet:
			u, err = h.svc.User(ctx, c.UserID)
		case http.MethodPatch:
			f, ok := h.decodeBody(w, r, "name")
			if !ok {
				return
			}
			u, err = h.svc.UpdateName(ctx, c.UserID, f[0])
		default:
			w.Header().Set("Allow", "GET, PATCH")
			writeProblem(w, http.StatusMethodNotAllowed, "use GET or PATCH", "")
			return
		}
		if err != nil {
			if !userGone(w, err) {
				h.respond(w, r, nil, err)
			}
			return
		}
		writeJSON(w, http.StatusOK, "application/json", meResponse{
			UserID:        u.ID,
			Email:         u.Email,
			UserName:      u.Name,
			EmailVerified: u.EmailVerified,
			MFA:           u.MFA,
			CreatedAt:     u.CreatedAt.UTC().Truncate(time.Second).Format(time.RFC3339),
		})
	})))
}

// VerifyEmail returns the handler of POST {prefix}/email/verify. It reads
// {"token"}, the token of a verification link, and marks the address it
// was sent to verified ([auth.Service.VerifyEmail]): 204. Tokens issued
// afterwards carry "email_verified": true. An unknown, spent or expired
// token, or one sent to an address the account no longer has, gets 400
// with the problem type [ProblemInvalidLink], one body for all, and
// counts towards the client's Config.MaxLinkFailuresPerIP.
func (h *Handler) VerifyEmail() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "token")
		if !ok {
			return
		}
		h.respondEmpty(w, r, h.throttled(r, h.linkIP, invalidLink, func(ctx context.Context) error {
			return h.svc.VerifyEmail(ctx, f[0])
		}))
	}))
}

// ResendVerification returns the handler of POST
// {prefix}/email/verify/resend, which needs a valid access token (it runs
// behind [Handler.Middleware]) and sends a new verification link to the
// caller's address, unless it is verified already
// ([auth.Service.ResendVerification]): 202 either way. Any body is
// ignored. Too many links asked for get 429 with Retry-After; without a
// Mailer, 404.
func (h *Handler) ResendVerification() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPost(w, r) {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		ctx, _ := h.client(r)
		if err := h.svc.ResendVerification(ctx, c.UserID); !userGone(w, err) {
			h.respondAccepted(w, r, err, "unless the address is verified already, a verification link is on its way")
		}
	})))
}

// ForgotPassword returns the handler of POST {prefix}/password/forgot. It
// reads {"email"} and answers 202, with the same body whether or not an
// account has the address; if one has, a reset link goes to it, sent off
// the request path ([auth.Service.ForgotPassword]), so that the answer
// takes as long either way. An invalid address gets 400 with field
// "email"; too many requests, for the address or from the client (the
// Service's limits, which count unknown addresses as known ones), 429
// with Retry-After; without a Mailer, 404.
func (h *Handler) ForgotPassword() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "email")
		if !ok {
			return
		}
		ctx, _ := h.client(r)
		h.respondAccepted(w, r, h.svc.ForgotPassword(ctx, f[0]), "if an account has this address, a reset link is on its way")
	}))
}

// ResetPassword returns the handler of POST {prefix}/password/reset. It
// reads {"token", "password"}, the token of a reset link and the new
// password, and sets it ([auth.Service.ResetPassword]): 204. Every
// session of the user ends, and with revocation checked
// (auth.Config.CheckRevocation) older access tokens stop working. A
// password that the policy refuses gets 400 with field "password"; a bad
// token, the 400 of [Handler.VerifyEmail].
func (h *Handler) ResetPassword() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "token", "password")
		if !ok {
			return
		}
		h.respondEmpty(w, r, h.throttled(r, h.linkIP, invalidLink, func(ctx context.Context) error {
			return h.svc.ResetPassword(ctx, f[0], f[1])
		}))
	}))
}

// RequestEmailChange returns the handler of POST {prefix}/email/change,
// which needs a valid access token (it runs behind [Handler.Middleware]).
// It reads {"password", "newEmail"}: the current password, and the
// address to change to, which a link is sent to, while a notice goes to
// the current one ([auth.Service.RequestEmailChange]); the change takes
// effect at [Handler.ConfirmEmailChange]. It answers 202. A wrong
// password gets 403 with field "password" and counts as a failed login,
// per account and towards the client's Config.MaxLoginFailuresPerIP; an
// invalid address gets 400, and one already registered 409, both with
// field "newEmail"; without a Mailer, 404.
func (h *Handler) RequestEmailChange() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "password", "newEmail")
		if !ok {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		err := h.throttled(r, h.loginIP, wrongCredentials, func(ctx context.Context) error {
			return asNewEmail(wrongPassword(h.svc.RequestEmailChange(ctx, c.UserID, f[0], f[1]), "password"))
		})
		if !userGone(w, err) {
			h.respondAccepted(w, r, err, "a confirmation link is on its way to the new address")
		}
	})))
}

// ConfirmEmailChange returns the handler of POST
// {prefix}/email/change/confirm. It reads {"token"}, the token of an
// email-change link, and makes the address it was sent to the account's,
// verified ([auth.Service.ConfirmEmailChange]): 204. If another account
// has taken the address meanwhile, 409; a bad token gets the 400 of
// [Handler.VerifyEmail].
func (h *Handler) ConfirmEmailChange() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "token")
		if !ok {
			return
		}
		err := h.throttled(r, h.linkIP, invalidLink, func(ctx context.Context) error {
			err := h.svc.ConfirmEmailChange(ctx, f[0])
			if errors.Is(err, auth.ErrDuplicateEmail) {
				err = &fieldAs{err, ""} // the request has no email member
			}
			return err
		})
		h.respondEmpty(w, r, err)
	}))
}

// DeleteAccount returns the handler of POST {prefix}/delete, which needs
// a valid access token (it runs behind [Handler.Middleware]). It reads
// {"password"}, the current password, and deletes the caller's account
// with its sessions and one-time tokens ([auth.Service.DeleteAccount]):
// 204, which in cookie mode (Config.Cookies) clears the cookies. The
// email address can sign up again. A wrong password gets 403
// with field "password" and counts as a failed login, per account and
// towards the client's Config.MaxLoginFailuresPerIP.
func (h *Handler) DeleteAccount() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "password")
		if !ok {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		err := h.throttled(r, h.loginIP, wrongCredentials, func(ctx context.Context) error {
			return wrongPassword(h.svc.DeleteAccount(ctx, c.UserID, f[0]), "password")
		})
		if err == nil {
			h.clearCookies(w, r)
		}
		if !userGone(w, err) {
			h.respondEmpty(w, r, err)
		}
	})))
}

// invalidLink reports whether err counts towards Config.MaxLinkFailuresPerIP.
func invalidLink(err error) bool { return errors.Is(err, auth.ErrInvalidLink) }

// wrongCredentials reports whether err counts towards
// Config.MaxLoginFailuresPerIP.
func wrongCredentials(err error) bool { return errors.Is(err, auth.ErrInvalidCredentials) }

// asNewEmail reports the Service's "email" (an invalid or registered
// address) under the request's "newEmail".
func asNewEmail(err error) error {
	if fe, ok := errors.AsType[*auth.FieldError](err); (ok && fe.Field == "email") || errors.Is(err, auth.ErrDuplicateEmail) {
		return &fieldAs{err, "newEmail"}
	}
	return err
}

// respondAccepted answers 202 with message if err is nil, and as respond
// otherwise.
func (h *Handler) respondAccepted(w http.ResponseWriter, r *http.Request, err error, message string) {
	if err != nil {
		h.respond(w, r, nil, err)
		return
	}
	writeJSON(w, http.StatusAccepted, "application/json", acceptedResponse{Message: message})
}

// userGone answers auth.ErrNotFound from a route that acts on the
// caller's account, whose token is valid but whose account is gone, with
// the middleware's 401, and reports whether it did.
func userGone(w http.ResponseWriter, err error) bool {
	if errors.Is(err, auth.ErrNotFound) {
		unauthorized(w, true)
		return true
	}
	return false
}
