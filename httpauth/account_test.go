package httpauth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestLifecycle runs the account scenarios (internal/httpauthtest/
// lifecycle.go) on the memory store, with the development mailer;
// internal/e2e runs them on SQLite and PostgreSQL with an SMTP server.
func TestLifecycle(t *testing.T) { httpauthtest.Lifecycle(t, memory, httpauthtest.LogMailbox) }

// quietMailer is the development mailer writing to nowhere.
var quietMailer = auth.LogMailer{Logger: slog.New(slog.DiscardHandler)}

// TestAccountRequests walks the request contract of the account routes:
// methods, media type, body shape, and the token of the Bearer routes.
func TestAccountRequests(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{Mailer: quietMailer})
	tok := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)["token"]
	bearer := "Bearer " + tok
	tests := []struct {
		name, method, path, contentType, body, auth string
		status                                      int
		field, allow                                string
	}{
		{"GET verify", "GET", httpauthtest.VerifyEmailPath, "", "", "", 405, "", "POST"},
		{"GET forgot", "GET", httpauthtest.ForgotPasswordPath, "", "", "", 405, "", "POST"},
		{"PUT reset", "PUT", httpauthtest.ResetPasswordPath, "application/json", `{}`, "", 405, "", "POST"},
		{"GET confirm", "GET", httpauthtest.ConfirmEmailPath, "", "", "", 405, "", "POST"},
		{"GET resend", "GET", httpauthtest.ResendVerificationPath, "", "", bearer, 405, "", "POST"},
		{"GET change", "GET", httpauthtest.ChangeEmailPath, "", "", bearer, 405, "", "POST"},
		{"DELETE delete", "DELETE", httpauthtest.DeletePath, "", "", bearer, 405, "", "POST"},
		{"POST me", "POST", httpauthtest.MePath, "application/json", `{"name":"x"}`, bearer, 405, "", "GET, PATCH"},
		{"DELETE me", "DELETE", httpauthtest.MePath, "", "", bearer, 405, "", "GET, PATCH"},

		{"verify, text/plain", "POST", httpauthtest.VerifyEmailPath, "text/plain", `{"token":"x"}`, "", 415, "", ""},
		{"PATCH me, no content type", "PATCH", httpauthtest.MePath, "", `{"name":"x"}`, bearer, 415, "", ""},
		{"forgot, unknown field", "POST", httpauthtest.ForgotPasswordPath, "application/json", `{"email":"a@example.com","admin":true}`, "", 400, "", ""},
		{"forgot, email a number", "POST", httpauthtest.ForgotPasswordPath, "application/json", `{"email":1}`, "", 400, "email", ""},
		{"forgot, missing email", "POST", httpauthtest.ForgotPasswordPath, "application/json", `{}`, "", 400, "email", ""},
		{"reset, duplicate token", "POST", httpauthtest.ResetPasswordPath, "application/json", `{"token":"a","token":"b","password":"x"}`, "", 400, "token", ""},
		{"reset, trailing data", "POST", httpauthtest.ResetPasswordPath, "application/json", `{"token":"a","password":"x"} {}`, "", 400, "", ""},
		{"PATCH me, name null", "PATCH", httpauthtest.MePath, "application/json", `{"name":null}`, bearer, 400, "name", ""},
		{"change, newEmail missing", "POST", httpauthtest.ChangeEmailPath, "application/json", httpauthtest.JSONBody("password", httpauthtest.Password), bearer, 400, "newEmail", ""},
		{"delete, body too large", "POST", httpauthtest.DeletePath, "application/json", httpauthtest.JSONBody("password", strings.Repeat("a", 70<<10)), bearer, 413, "", ""},

		{"GET me, no token", "GET", httpauthtest.MePath, "", "", "", 401, "", ""},
		{"PATCH me, no token", "PATCH", httpauthtest.MePath, "application/json", `{"name":"x"}`, "", 401, "", ""},
		{"resend, no token", "POST", httpauthtest.ResendVerificationPath, "", "", "", 401, "", ""},
		{"change, bad token", "POST", httpauthtest.ChangeEmailPath, "application/json", httpauthtest.JSONBody("password", "x", "newEmail", "b@example.com"), "Bearer x.y.z", 401, "", ""},
		{"delete, no token", "POST", httpauthtest.DeletePath, "application/json", httpauthtest.JSONBody("password", httpauthtest.Password), "", 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var header []string
			if tt.auth != "" {
				header = []string{"Authorization", tt.auth}
			}
			r := s.Do(t, tt.method, tt.path, tt.contentType, tt.body, header...)
			if r.Status != tt.status {
				t.Fatalf("status %d, want %d; body %s", r.Status, tt.status, r.Body)
			}
			if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v, want Cache-Control no-store and X-Content-Type-Options nosniff", r.Header)
			}
			p := httpauthtest.ProblemBody(t, r)
			if p["field"] != nil && p["field"] != tt.field || p["field"] == nil && tt.field != "" {
				t.Errorf("problem %v, want field %q", p, tt.field)
			}
			if got := r.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow %q, want %q", got, tt.allow)
			}
			if tt.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestAccountWithoutMailer checks the routes of a Service without a
// Mailer: those that send mail answer 404, as a feature that is off;
// the others work.
func TestAccountWithoutMailer(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})
	tok := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)["token"]
	for _, r := range []httpauthtest.Response{
		s.Do(t, "POST", httpauthtest.ResendVerificationPath, "", "", httpauthtest.Bearer(tok)...),
		s.Post(t, httpauthtest.ForgotPasswordPath, httpauthtest.JSONBody("email", "ada@example.com")),
		s.Post(t, httpauthtest.ForgotPasswordPath, httpauthtest.JSONBody("email", "nobody@example.com")),
		s.Do(t, "POST", httpauthtest.ChangeEmailPath, "application/json", httpauthtest.JSONBody("password", httpauthtest.Password, "newEmail", "new@example.com"), httpauthtest.Bearer(tok)...),
	} {
		if r.Status != http.StatusNotFound {
			t.Errorf("status %d, want 404; body %s", r.Status, r.Body)
		}
		httpauthtest.ProblemBody(t, r)
	}
	if r := s.Post(t, httpauthtest.VerifyEmailPath, httpauthtest.JSONBody("token", strings.Repeat("A", 43))); r.Status != http.StatusBadRequest {
		t.Errorf("verify: %d %s, want 400", r.Status, r.Body)
	}
	httpauthtest.CheckMe(t, s.Do(t, "GET", httpauthtest.MePath, "", "", httpauthtest.Bearer(tok)...))
	r := s.Do(t, "POST", httpauthtest.DeletePath, "application/json", httpauthtest.JSONBody("password", httpauthtest.Password), httpauthtest.Bearer(tok)...)
	if r.Status != http.StatusNoContent {
		t.Errorf("delete: %d %s, want 204", r.Status, r.Body)
	}
	// Without revocation checking, the token of a deleted account passes
	// the middleware, but /me has nobody to show.
	var refused string
	httpauthtest.CheckRefusal(t, s.Do(t, "GET", httpauthtest.MePath, "", "", httpauthtest.Bearer(tok)...), true, &refused)
}

// TestLoginRefusedAccounts checks the 403s of a login with the right
// password: an unverified email where verification is required, and a
// disabled account, each with its own problem type, while a wrong
// password still gets the one 401.
func TestLoginRefusedAccounts(t *testing.T) {
	store := memstore.New()
	s := httpauthtest.NewApp(t, store, auth.Config{RequireVerifiedEmail: true, RefreshTokens: true, Mailer: quietMailer})
	login := func(email, pw string) httpauthtest.Response {
		return s.Post(t, httpauthtest.LoginPath, httpauthtest.LoginBody(email, pw))
	}
	wantProblem := func(what string, r httpauthtest.Response, status int, typ string) {
		t.Helper()
		if r.Status != status {
			t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
		}
		if p := httpauthtest.ProblemBody(t, r); p["type"] != typ {
			t.Errorf("%s: problem %v, want type %s", what, p, typ)
		}
	}
	s.Post(t, httpauthtest.SignupPath, httpauthtest.SignupBody("Ada", "ada@example.com", httpauthtest.Password))
	wantProblem("unverified, right password", login("ada@example.com", httpauthtest.Password), 403, httpauth.ProblemEmailNotVerified)
	wantProblem("unverified, wrong password", login("ada@example.com", "wrong password!"), 401, "about:blank")

	ctx := context.Background()
	u, err := store.UserByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := store.UpdateEmail(ctx, u.ID, u.Email, u.Email, true); err != nil {
		t.Fatal(err)
	}
	r := login("ada@example.com", httpauthtest.Password)
	if r.Status != http.StatusOK {
		t.Fatalf("verified login: %d %s", r.Status, r.Body)
	}
	var sess map[string]string
	if err := json.Unmarshal([]byte(r.Body), &sess); err != nil {
		t.Fatal(err)
	}
	if err := s.Svc.DisableUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	wantProblem("disabled, right password", login("ada@example.com", httpauthtest.Password), 403, httpauth.ProblemAccountDisabled)
	wantProblem("disabled, wrong password", login("ada@example.com", "wrong password!"), 401, "about:blank")
	// Disabling ends the account's sessions.
	wantProblem("disabled, refresh", s.Post(t, "/api/user/refresh", httpauthtest.JSONBody("refreshToken", sess["refreshToken"])), 401, "about:blank")
}

// TestRequireVerifiedEmailUnauthenticated checks RequireVerifiedEmail
// outside the authenticating middleware: 401, and the handler never runs.
func TestRequireVerifiedEmailUnauthenticated(t *testing.T) {
	ran := false
	h := httpauth.RequireVerifiedEmail(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != http.StatusUnauthorized || ran {
		t.Errorf("status %d, handler ran %v; want 401 and not run", rec.Code, ran)
	}
}

// TestForgotThrottledPerIP checks the Service's limit of reset requests
// per client (20 an hour) through the handler, which gives it the
// client's address: requests for known and unknown addresses count
// alike, and an invalid one does not.
func TestForgotThrottledPerIP(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{Mailer: quietMailer}, httpauth.Config{TrustedProxies: httpauthtest.Loopback})
	s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)
	forgot := func(client, email string) httpauthtest.Response {
		return s.Do(t, "POST", httpauthtest.ForgotPasswordPath, "application/json", httpauthtest.JSONBody("email", email), "X-Forwarded-For", client)
	}
	httpauthtest.WantStatus(t, forgot("192.0.2.1", "ada@example.com"), 202, "forgot, known")
	httpauthtest.WantStatus(t, forgot("192.0.2.1", "not an address"), 400, "forgot, invalid")
	clk.Add(time.Minute)
	for i := range 19 {
		httpauthtest.WantStatus(t, forgot("192.0.2.1", fmt.Sprintf("nobody%d@example.com", i)), 202, "forgot, unknown")
	}
	httpauthtest.Want429(t, forgot("192.0.2.1", "other@example.com"), "3600", "a 21st, unknown")
	httpauthtest.WantStatus(t, forgot("192.0.2.2", "other@example.com"), 202, "another client")
	clk.Add(time.Hour)
	httpauthtest.WantStatus(t, forgot("192.0.2.1", "another@example.com"), 202, "an hour later")
}

// TestLinkFailuresThrottledPerIP checks Config.MaxLinkFailuresPerIP:
// refused tokens at any of the three link routes count together.
func TestLinkFailuresThrottledPerIP(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{Mailer: quietMailer}, httpauth.Config{MaxLinkFailuresPerIP: 2})
	bad := strings.Repeat("A", 43)
	httpauthtest.WantStatus(t, s.Post(t, httpauthtest.VerifyEmailPath, httpauthtest.JSONBody("token", bad)), 400, "a bad verification link")
	httpauthtest.WantStatus(t, s.Post(t, httpauthtest.ConfirmEmailPath, httpauthtest.JSONBody("token", bad)), 400, "a bad change link")
	httpauthtest.Want429(t, s.Post(t, httpauthtest.ResetPasswordPath, httpauthtest.JSONBody("token", bad, "password", "a new and better passphrase")), "900", "a third bad link")
	clk.Add(15 * time.Minute)
	httpauthtest.WantStatus(t, s.Post(t, httpauthtest.VerifyEmailPath, httpauthtest.JSONBody("token", bad)), 400, "15 minutes later")
}

// TestWrongPasswordThrottledPerIP checks that a wrong current password at
// /delete and /email/change counts as a failed login from the client.
func TestWrongPasswordThrottledPerIP(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{Mailer: quietMailer}, httpauth.Config{MaxLoginFailuresPerIP: 2})
	tok := s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)["token"]
	post := func(path, b string) httpauthtest.Response {
		return s.Do(t, "POST", path, "application/json", b, httpauthtest.Bearer(tok)...)
	}
	httpauthtest.WantStatus(t, post(httpauthtest.DeletePath, httpauthtest.JSONBody("password", "wrong password!")), 403, "delete, wrong password")
	httpauthtest.WantStatus(t, post(httpauthtest.ChangeEmailPath, httpauthtest.JSONBody("password", "wrong password!", "newEmail", "new@example.com")), 403, "change, wrong password")
	httpauthtest.Want429(t, post(httpauthtest.DeletePath, httpauthtest.JSONBody("password", httpauthtest.Password)), "900", "delete, right password, after two failures")
	httpauthtest.Want429(t, s.LoginFrom(t, "", "ada@example.com", httpauthtest.Password), "900", "login after two failures")
}
