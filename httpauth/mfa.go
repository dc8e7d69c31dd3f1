package httpauth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-go/gatehouse/auth"
)

// mfaRequiredResponse is the body of a login whose password was right
// and whose account has two-factor authentication on: no token yet.
type mfaRequiredResponse struct {
	MFARequired bool   `json:"mfaRequired"` // always true
	MFAToken    string `json:"mfaToken"`
}

// totpSetupResponse is the body of POST {prefix}/mfa/totp/setup.
type totpSetupResponse struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
	QRCode string `json:"qrCode"` // a data: URL of the PNG
}

// recoveryCodesResponse is the body of POST {prefix}/mfa/totp/confirm.
type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recoveryCodes"`
}

// errInvalidMFAToken is the auth.ErrInvalidToken of an mfaToken, which
// respond answers with a 401 of its own.
var errInvalidMFAToken = errors.New("httpauth: invalid mfa token")

// SetupTOTP returns the handler of POST {prefix}/mfa/totp/setup, which
// needs a valid access token (it runs behind [Handler.Middleware]). It
// reads {"password"}, the current password, and starts TOTP two-factor
// authentication for the caller ([auth.Service.SetupTOTP]), answering
// 200 with the new secret three ways:
//
//	{"secret": "<base32>", "uri": "otpauth://totp/...", "qrCode": "data:image/png;base64,..."}
//
// where qrCode is a QR code of uri, for an <img> of a page. Two-factor
// authentication is on only once [Handler.ConfirmTOTP] gets a first code;
// a later setup replaces one not yet confirmed. A wrong password gets
// 403 with field "password" and counts as a failed login, per account
// and towards the client's Config.MaxLoginFailuresPerIP; an account with
// two-factor authentication on already, 409; a store without
// [auth.MFAStore], 404.
func (h *Handler) SetupTOTP() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "password")
		if !ok {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		var setup auth.TOTPSetup
		err := h.throttled(r, h.loginIP, wrongCredentials, func(ctx context.Context) (err error) {
			setup, err = h.svc.SetupTOTP(ctx, c.UserID, f[0])
			return wrongPassword(err, "password")
		})
		switch {
		case userGone(w, err):
		case err != nil:
			h.respond(w, r, nil, err)
		default:
			writeJSON(w, http.StatusOK, "application/json", totpSetupResponse{
				Secret: setup.Secret,
				URI:    setup.URI,
				QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(setup.QRCode),
			})
		}
	})))
}

// ConfirmTOTP returns the handler of POST {prefix}/mfa/totp/confirm,
// which needs a valid access token (it runs behind [Handler.Middleware]).
// It reads {"code"}, a current code of the authenticator loaded with the
// secret of [Handler.SetupTOTP], turns two-factor authentication on
// ([auth.Service.ConfirmTOTP]) and answers 200 with ten recovery codes,
// shown this once:
//
//	{"recoveryCodes": ["ABCD-EFGH-...", ...]}
//
// From then on, a login of the account answers {"mfaRequired": true,
// "mfaToken"} (see [Handler.Login]). A wrong code gets 400 of type
// [ProblemInvalidCode] with field "code" and counts as a failed login,
// per account and towards the client's limit of wrong codes
// (Config.MaxLoginFailuresPerIP); no setup to confirm, 400 of type
// [ProblemMFANotEnabled]; two-factor authentication on already, 409.
func (h *Handler) ConfirmTOTP() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "code")
		if !ok {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		var codes []string
		err := h.throttled(r, h.codeIP, invalidCode, func(ctx context.Context) (err error) {
			codes, err = h.svc.ConfirmTOTP(ctx, c.UserID, f[0])
			return err
		})
		switch {
		case userGone(w, err):
		case err != nil:
			h.respond(w, r, nil, err)
		default:
			writeJSON(w, http.StatusOK, "application/json", recoveryCodesResponse{RecoveryCodes: codes})
		}
	})))
}

// LoginMFA returns the handler of POST {prefix}/login/mfa, the second
// step of a login that [Handler.Login] answered {"mfaRequired": true,
// "mfaToken"}. It reads {"mfaToken", "code"}, with a current code of the
// account's authenticator ([auth.Service.LoginTOTP]), or {"mfaToken",
// "recoveryCode"}, with one of its recovery codes, which is spent
// ([auth.Service.LoginRecoveryCode]), and answers as a login does: 200
// with {"userId", "email", "userName", "token"} ("refreshToken" too with
// refresh tokens on), and a new [DeviceCookie]. It hashes no password.
//
// A wrong, replayed or spent code gets 400 of type [ProblemInvalidCode]
// with field "code" or "recoveryCode" and leaves the mfaToken usable; it
// counts as a failed login, per account (a valid device cookie for the
// account counts it as that device's, as at login) and towards the
// client's limit of wrong codes (Config.MaxLoginFailuresPerIP, counted
// apart from wrong passwords). An mfaToken that is malformed, expired (5
// minutes after the login), spent or of a login that a revocation ended
// gets 401 with field "mfaToken", one body for all: the client logs in
// again. A body with both code and recoveryCode gets 400; a disabled
// account, the 403 of [ProblemAccountDisabled].
func (h *Handler) LoginMFA() http.Handler {
	return h.protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "mfaToken", "code", "recoveryCode")
		if !ok {
			return
		}
		mfaToken, code, recoveryCode := f[0], f[1], f[2]
		if code != "" && recoveryCode != "" {
			writeProblem(w, http.StatusBadRequest, "send code or recoveryCode, not both", "recoveryCode")
			return
		}
		device := ""
		if c, err := r.Cookie(DeviceCookie); err == nil {
			device = c.Value // the Service honours it only if valid for the account
		}
		h.limited(w, r, h.codeIP, invalidCode, func(ctx context.Context) (g *auth.Grant, err error) {
			ctx = auth.WithDeviceToken(ctx, device)
			fieldName := "code"
			if recoveryCode != "" {
				fieldName = "recoveryCode"
				g, err = h.svc.LoginRecoveryCode(ctx, mfaToken, recoveryCode)
			} else {
				g, err = h.svc.LoginTOTP(ctx, mfaToken, code)
			}
			switch {
			case errors.Is(err, auth.ErrInvalidCode):
				err = &fieldAs{err, fieldName}
			case errors.Is(err, auth.ErrInvalidToken):
				err = fmt.Errorf("%w: %w", errInvalidMFAToken, err)
			}
			h.setDeviceCookie(w, r, g)
			return g, err
		})
	}))
}

// DisableTOTP returns the handler of POST {prefix}/mfa/disable, which
// needs a valid access token (it runs behind [Handler.Middleware]). It
// reads {"password", "code"}: the current password and a current code
// of the authenticator, or one of the recovery codes, and turns
// two-factor authentication off ([auth.Service.DisableTOTP]): 204. A
// wrong password gets 403 with field "password", a wrong code 400 of
// type [ProblemInvalidCode] with field "code"; each counts as a failed
// login, per account and towards the client's limit (of wrong passwords
// or of wrong codes, Config.MaxLoginFailuresPerIP each). An account
// without two-factor authentication on gets 400 of type
// [ProblemMFANotEnabled].
func (h *Handler) DisableTOTP() http.Handler {
	return h.protect(h.protectedMiddleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := h.decode(w, r, "password", "code")
		if !ok {
			return
		}
		c, _ := ClaimsFromContext(r.Context())
		ctx, client := h.client(r)
		err := h.throttledAs(ctx, client, r, h.loginIP, wrongCredentials, func(ctx context.Context) error {
			return h.throttledAs(ctx, client, r, h.codeIP, invalidCode, func(ctx context.Context) error {
				return wrongPassword(h.svc.DisableTOTP(ctx, c.UserID, f[0], f[1]), "password")
			})
		})
		if !userGone(w, err) {
			h.respondEmpty(w, r, err)
		}
	})))
}

// invalidCode reports whether err counts towards the per-IP limit of
// wrong codes.
func invalidCode(err error) bool { return errors.Is(err, auth.ErrInvalidCode) }

// loginAnswer is the 200 answer of POST /login: the session, or, with
// two-factor authentication on (mfa), either the session or the
// mfaRequired body.
func loginAnswer(mfa bool, session *schema) answer {
	a := answer{status: http.StatusOK, about: "the account and its tokens; the device cookie is renewed", body: session, headers: []string{"Set-Cookie"}}
	if mfa {
		a.about = "the account and its tokens, and the device cookie is renewed; or, for an account with two-factor authentication on, {mfaRequired, mfaToken}, no token and no cookie: post the mfaToken with a code to /login/mfa"
		a.body = &schema{OneOf: []*schema{session, object(
			prop("mfaRequired", &schema{Type: "boolean", Description: "Always true: the password is right, and a second factor is required."}),
			prop("mfaToken", str(0, 200, "The login's token for /login/mfa: single use, valid for 5 minutes.")),
		)}}
	}
	return a
}

// mfaRoutes returns the routes of two-factor authentication for the
// route table, on if the Service has the feature (on); session is the
// schema of the login body, busy the answer of exhausted hashing
// capacity.
func (h *Handler) mfaRoutes(on bool, session *schema, busy answer) []route {
	password := str(1, maxPasswordBytes, "The current password.")
	code := str(1, 0, "A current code of the authenticator app: 6 digits (spaces are ignored).")
	invalidCode := "a wrong, used or expired code (type " + ProblemInvalidCode + ", field code)"
	throttled := func(what string) answer {
		return answer{status: http.StatusTooManyRequests, about: "too many " + what, problems: []string{blank}, headers: []string{"Retry-After"}}
	}
	recovery := str(1, 0, "One of the account's recovery codes; case, spaces and hyphens do not matter. It is spent.")
	return []route{
		{
			method: http.MethodPost, path: "/mfa/totp/setup", on: on, handler: h.SetupTOTP(),
			auth: authBearer, summary: "Start TOTP two-factor authentication: a new secret",
			request: object(prop("password", password)),
			answers: []answer{
				{status: http.StatusOK, about: "the new secret, three ways; two-factor authentication is on once /mfa/totp/confirm gets a code of it", body: object(
					prop("secret", str(32, 32, "The secret, 160 bits in base32 without padding, for typing in.")),
					prop("uri", str(0, 0, "The otpauth://totp/ URI of the secret (SHA1, 6 digits, 30 seconds) for authenticator apps.")),
					prop("qrCode", str(0, 0, "A QR code of uri: a data: URL of a 256×256 PNG image (data:image/png;base64,...), for an <img>.")),
				)},
				{status: http.StatusForbidden, about: "wrong password: field password", problems: []string{blank}},
				{status: http.StatusConflict, about: "two-factor authentication is on already", problems: []string{blank}},
				throttled("wrong passwords"),
				busy,
			},
		},
		{
			method: http.MethodPost, path: "/mfa/totp/confirm", on: on, handler: h.ConfirmTOTP(),
			auth: authBearer, summary: "Turn TOTP two-factor authentication on with a first code",
			request: object(prop("code", code)),
			answers: []answer{
				{status: http.StatusOK, about: "two-factor authentication is on; the ten recovery codes, shown this once", body: object(
					prop("recoveryCodes", &schema{Type: "array", MinItems: 10, MaxItems: 10, Description: "Ten recovery codes, each good for one login in place of a code.",
						Items: str(0, 0, "A recovery code: 24 base32 characters in groups of 4 joined by hyphens.")}),
				)},
				{status: http.StatusBadRequest, about: "an invalid field (field names it); " + invalidCode + "; no setup to confirm (type " + ProblemMFANotEnabled + ")", problems: []string{blank, ProblemInvalidCode, ProblemMFANotEnabled}},
				{status: http.StatusConflict, about: "two-factor authentication is on already", problems: []string{blank}},
				throttled("wrong codes"),
			},
		},
		{
			method: http.MethodPost, path: "/login/mfa", on: on, handler: h.LoginMFA(),
			summary: "Complete a login with a second factor",
			request: &schema{OneOf: []*schema{
				object(prop("mfaToken", str(1, 0, "The mfaToken that /login answered.")), prop("code", code)),
				object(prop("mfaToken", str(1, 0, "The mfaToken that /login answered.")), prop("recoveryCode", recovery)),
			}},
			answers: []answer{
				{status: http.StatusOK, about: "the account and its tokens, as /login answers them; the device cookie is renewed", body: session, headers: []string{"Set-Cookie"}},
				{status: http.StatusBadRequest, about: "an invalid field (field names it), both code and recoveryCode among them; a wrong, used or expired code, or a wrong or spent recovery code (type " + ProblemInvalidCode + ", field code or recoveryCode): the mfaToken stays usable", problems: []string{blank, ProblemInvalidCode}},
				{status: http.StatusUnauthorized, about: "an mfaToken that is malformed, expired, spent or of a login that a revocation ended: one body for all, field mfaToken; log in again", problems: []string{blank}},
				{status: http.StatusForbidden, about: "the account is disabled", problems: []string{ProblemAccountDisabled}},
				throttled("wrong codes, for this account from this client, for the account from all clients, or from this client"),
			},
		},
		{
			method: http.MethodPost, path: "/mfa/disable", on: on, handler: h.DisableTOTP(),
			auth: authBearer, summary: "Turn two-factor authentication off",
			request: object(prop("password", password), prop("code", str(1, 0, "A current code of the authenticator app, or one of the recovery codes (which is spent)."))),
			answers: []answer{
				{status: http.StatusNoContent, about: "two-factor authentication is off; the secret and the recovery codes are deleted"},
				{status: http.StatusBadRequest, about: "an invalid field (field names it); " + invalidCode + "; two-factor authentication is off (type " + ProblemMFANotEnabled + ")", problems: []string{blank, ProblemInvalidCode, ProblemMFANotEnabled}},
				{status: http.StatusForbidden, about: "wrong password: field password", problems: []string{blank}},
				throttled("wrong passwords or codes"),
				busy,
			},
		},
	}
}
