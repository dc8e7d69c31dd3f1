package httpauth_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/totptest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestMFARequests walks the request contract of the two-factor routes:
// methods, media type, body shape, the token of the Bearer routes, and
// 404 on a store without two-factor authentication.
func TestMFARequests(t *testing.T) {
	s := httpauthtest.NewApp(t, nil, auth.Config{})
	bearer := "Bearer " + s.Signup(t, "Ada", "ada@example.com", httpauthtest.Password)["token"]
	tests := []struct {
		name, method, path, contentType, body, auth string
		status                                      int
		field                                       string
	}{
		{"GET login/mfa", "GET", httpauthtest.LoginMFAPath, "", "", "", 405, ""},
		{"GET setup", "GET", httpauthtest.TOTPSetupPath, "", "", bearer, 405, ""},
		{"PUT confirm", "PUT", httpauthtest.TOTPConfirmPath, "application/json", `{}`, bearer, 405, ""},
		{"DELETE disable", "DELETE", httpauthtest.MFADisablePath, "", "", bearer, 405, ""},

		{"setup without token", "POST", httpauthtest.TOTPSetupPath, "application/json", httpauthtest.JSONBody("password", "x"), "", 401, ""},
		{"confirm without token", "POST", httpauthtest.TOTPConfirmPath, "application/json", httpauthtest.JSONBody("code", "123456"), "", 401, ""},
		{"disable without token", "POST", httpauthtest.MFADisablePath, "application/json", httpauthtest.JSONBody("password", "x", "code", "123456"), "", 401, ""},

		{"login/mfa, text/plain", "POST", httpauthtest.LoginMFAPath, "text/plain", httpauthtest.JSONBody("mfaToken", "x", "code", "123456"), "", 415, ""},
		{"login/mfa, unknown field", "POST", httpauthtest.LoginMFAPath, "application/json", `{"mfaToken":"x","code":"123456","email":"a@b.co"}`, "", 400, ""},
		{"login/mfa, code a number", "POST", httpauthtest.LoginMFAPath, "application/json", `{"mfaToken":"x","code":123456}`, "", 400, "code"},
		{"login/mfa, no mfaToken", "POST", httpauthtest.LoginMFAPath, "application/json", httpauthtest.JSONBody("code", "123456"), "", 400, "mfaToken"},
		{"login/mfa, no code", "POST", httpauthtest.LoginMFAPath, "application/json", httpauthtest.JSONBody("mfaToken", "x"), "", 400, "code"},
		{"login/mfa, both codes", "POST", httpauthtest.LoginMFAPath, "application/json", httpauthtest.JSONBody("mfaToken", "x", "code", "123456", "recoveryCode", "AAAA"), "", 400, "recoveryCode"},
		{"login/mfa, bad mfaToken", "POST", httpauthtest.LoginMFAPath, "application/json", httpauthtest.JSONBody("mfaToken", "x", "code", "123456"), "", 401, "mfaToken"},
		{"setup, no password", "POST", httpauthtest.TOTPSetupPath, "application/json", `{}`, bearer, 400, "password"},
		{"confirm, no code", "POST", httpauthtest.TOTPConfirmPath, "application/json", `{}`, bearer, 400, "code"},
		{"disable, no code", "POST", httpauthtest.MFADisablePath, "application/json", httpauthtest.JSONBody("password", httpauthtest.Password), bearer, 400, "code"},
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
			if p := httpauthtest.ProblemBody(t, r); p["field"] != nil && p["field"] != tt.field || p["field"] == nil && tt.field != "" {
				t.Errorf("problem %v, want field %q", p, tt.field)
			}
			if tt.status == 405 && r.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", r.Header.Get("Allow"))
			}
		})
	}

	// A store without auth.MFAStore: the routes are off.
	plain := httpauthtest.NewApp(t, userStoreOnly{memstore.New()}, auth.Config{})
	for _, path := range []string{httpauthtest.LoginMFAPath, httpauthtest.TOTPSetupPath, httpauthtest.TOTPConfirmPath, httpauthtest.MFADisablePath} {
		if r := plain.Post(t, path, httpauthtest.JSONBody("mfaToken", "x", "code", "123456")); r.Status != http.StatusNotFound {
			t.Errorf("POST %s on a store without MFA: %d %s, want 404", path, r.Status, r.Body)
		}
	}
}

// userStoreOnly is a store with no optional ability.
type userStoreOnly struct{ auth.UserStore }

// TestMFALoginBodyUnchanged checks that a login of a user without
// two-factor authentication answers byte for byte what it answers on a
// Service whose store has no two-factor authentication at all, with the
// same clock, randomness and user, headers but Date included.
func TestMFALoginBodyUnchanged(t *testing.T) {
	login := func(store auth.UserStore) httpauthtest.Response {
		clk := httpauthtest.NewTestClock()
		s := httpauthtest.NewThrottleApp(t, store, clk, auth.Config{Rand: strings.NewReader(strings.Repeat("deterministic randomness ", 100))}, httpauth.Config{})
		ctx := context.Background()
		if _, err := s.Svc.Signup(ctx, auth.NewUser{Name: "admin1", Email: "admin1@user.com", Password: httpauthtest.Password}); err != nil {
			t.Fatal(err)
		}
		r := s.Post(t, httpauthtest.LoginPath, httpauthtest.LoginBody("admin1@user.com", httpauthtest.Password))
		r.Header.Del("Date")
		return r
	}
	with, without := login(memstore.New()), login(userStoreOnly{memstore.New()})
	if with.Status != 200 || with.Body != without.Body || !httpauthtest.EqualHeaders(with.Header, without.Header) {
		t.Errorf("login with MFA available:\n%d %v %s\nwithout:\n%d %v %s", with.Status, with.Header, with.Body, without.Status, without.Header, without.Body)
	}
}

// TestMFAThrottle checks the limits on wrong codes: per account and
// client by the Service, with Retry-After, and per client by the
// Handler, counted apart from wrong passwords, so that a device cookie
// still gets its owner through both steps of a login from an address
// that failed many passwords.
func TestMFAThrottle(t *testing.T) {
	t.Run("account", func(t *testing.T) {
		clk := httpauthtest.NewTestClock()
		s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{}, httpauth.Config{})
		_, setup, _ := s.EnrollTOTP(t, "ada@example.com", httpauthtest.Password, clk.Now())
		clk.Add(30 * time.Second)
		mfaToken := s.MFAToken(t, "ada@example.com", httpauthtest.Password)
		wrong := httpauthtest.JSONBody("mfaToken", mfaToken, "code", "000000")
		if totptest.Code(t, setup.Secret, clk.Now()) == "000000" {
			wrong = httpauthtest.JSONBody("mfaToken", mfaToken, "code", "111111")
		}
		var r httpauthtest.Response
		for i := 0; i < 10; i++ {
			if r = s.Post(t, httpauthtest.LoginMFAPath, wrong); r.Status != http.StatusBadRequest {
				break
			}
		}
		httpauthtest.Want429(t, r, "1", "wrong codes for one account")
		r = s.LoginMFA(t, mfaToken, "code", totptest.Code(t, setup.Secret, clk.Now()))
		httpauthtest.Want429(t, r, "1", "the right code while backing off")
		clk.Add(time.Second)
		httpauthtest.WantStatus(t, s.LoginMFA(t, mfaToken, "code", totptest.Code(t, setup.Secret, clk.Now())), 200, "the right code after the wait, with the same mfaToken")
	})

	t.Run("client", func(t *testing.T) {
		clk := httpauthtest.NewTestClock()
		off := throttle.LoginConfig{BackoffAfter: -1, MaxClientFailures: -1, MaxAccountFailures: -1}
		s := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{LoginThrottle: off}, httpauth.Config{MaxLoginFailuresPerIP: 3, TrustedProxies: httpauthtest.Loopback})
		const attacker, owner = "198.51.100.7", "192.0.2.1"
		from := func(client string, header ...string) []string {
			return append([]string{"X-Forwarded-For", client}, header...)
		}

		// The owner signs up (setting the device cookie) and enrols.
		r := s.Do(t, "POST", httpauthtest.SignupPath, "application/json", httpauthtest.SignupBody("Ada", "ada@example.com", httpauthtest.Password), from(owner)...)
		httpauthtest.WantStatus(t, r, 200, "sign-up")
		cookie := strings.SplitN(r.Header.Get("Set-Cookie"), ";", 2)[0]
		tok := httpauthtest.DecodeSession(t, r.Body)["token"]
		setup := s.SetupTOTP(t, tok, httpauthtest.Password, "ada@example.com")
		s.ConfirmTOTP(t, tok, totptest.Code(t, setup.Secret, clk.Now()))
		clk.Add(30 * time.Second)

		// Wrong codes from the attacker's address: the 4th is refused
		// before it is checked, and so is a right one.
		mfaToken := s.MFAToken(t, "ada@example.com", httpauthtest.Password)
		code := totptest.Code(t, setup.Secret, clk.Now())
		loginMFA := func(client, code string, header ...string) httpauthtest.Response {
			return s.Do(t, "POST", httpauthtest.LoginMFAPath, "application/json", httpauthtest.JSONBody("mfaToken", mfaToken, "code", code), from(client, header...)...)
		}
		for range 3 {
			httpauthtest.WantStatus(t, loginMFA(attacker, strings.Repeat("9", 6)), 400, "a wrong code")
		}
		httpauthtest.Want429(t, loginMFA(attacker, code), "900", "a 4th code from the address")

		// Wrong passwords fill the owner's address's login limit; with
		// her device cookie she logs in, both steps, from there.
		for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			httpauthtest.WantStatus(t, s.LoginFrom(t, owner, e, "wrong password!"), 401, "a wrong password")
		}
		httpauthtest.Want429(t, s.LoginFrom(t, owner, "ada@example.com", httpauthtest.Password), "900", "a login without the cookie")
		r = s.Do(t, "POST", httpauthtest.LoginPath, "application/json", httpauthtest.LoginBody("ada@example.com", httpauthtest.Password), from(owner, "Cookie", cookie)...)
		httpauthtest.WantStatus(t, r, 200, "a login with the device cookie")
		if !strings.Contains(r.Body, `"mfaRequired":true`) {
			t.Fatalf("login with the device cookie: %s, want mfaRequired", r.Body)
		}
		httpauthtest.WantStatus(t, loginMFA(owner, code, "Cookie", cookie), 200, "the second step from the owner's address")

		// A wrong password at /mfa/totp/setup counts as a failed login.
		s2 := httpauthtest.NewThrottleApp(t, memstore.New(), clk, auth.Config{LoginThrottle: off}, httpauth.Config{MaxLoginFailuresPerIP: 2})
		tok = s2.Signup(t, "Bo", "bo@example.com", httpauthtest.Password)["token"]
		for range 2 {
			r := s2.Do(t, "POST", httpauthtest.TOTPSetupPath, "application/json", httpauthtest.JSONBody("password", "wrong password!"), httpauthtest.Bearer(tok)...)
			httpauthtest.WantStatus(t, r, 403, "setup, wrong password")
		}
		r = s2.Do(t, "POST", httpauthtest.TOTPSetupPath, "application/json", httpauthtest.JSONBody("password", httpauthtest.Password), httpauthtest.Bearer(tok)...)
		httpauthtest.Want429(t, r, "900", "setup after two wrong passwords")
	})
}

// TestCookieMFA follows a browser through a login with two-factor
// authentication in cookie mode, on https and in local development: the
// first step sets no cookie, the second sets the access and refresh
// cookies as /login does, and a cross-origin second step is refused.
func TestCookieMFA(t *testing.T) {
	for _, tls := range []bool{true, false} {
		t.Run(map[bool]string{true: "https", false: "loopback HTTP"}[tls], func(t *testing.T) {
			clk := httpauthtest.NewTestClock()
			acfg := sessions
			acfg.Now = clk.Now
			a := newCookieApp(t, tls, httpauth.Config{Cookies: true}, acfg)
			access, refresh := "gatehouse_access", "gatehouse_refresh"
			if tls {
				access, refresh = httpauth.AccessCookie, httpauth.RefreshCookie
			}

			// Enrolment, authenticated by the sign-up's cookie.
			b := a.browser(t)
			a.send(t, b, "POST", httpauthtest.SignupPath, httpauthtest.SignupBody("Ada", "ada@example.com", httpauthtest.Password))
			r := a.send(t, b, "POST", httpauthtest.TOTPSetupPath, httpauthtest.JSONBody("password", httpauthtest.Password))
			if r.status != 200 {
				t.Fatalf("setup with the cookie: %d %s", r.status, r.body)
			}
			secret := r.json(t)["secret"].(string)
			if r := a.send(t, b, "POST", httpauthtest.TOTPConfirmPath, httpauthtest.JSONBody("code", totptest.Code(t, secret, clk.Now()))); r.status != 200 {
				t.Fatalf("confirm with the cookie: %d %s", r.status, r.body)
			}
			clk.Add(30 * time.Second)

			// Another browser logs in: no cookie after the password, the
			// session's cookies after the code.
			b2 := a.browser(t)
			first := a.send(t, b2, "POST", httpauthtest.LoginPath, httpauthtest.LoginBody("ada@example.com", httpauthtest.Password))
			mfaToken, _ := first.json(t)["mfaToken"].(string)
			if first.status != 200 || mfaToken == "" || len(first.setCookies()) != 0 {
				t.Fatalf("first step: %d %q %s", first.status, first.setCookies(), first.body)
			}
			if r := a.send(t, b2, "GET", "/api/user/me", ""); r.status != 401 {
				t.Errorf("GET /me between the steps: %d %s, want 401", r.status, r.body)
			}
			loginMFA := httpauthtest.JSONBody("mfaToken", mfaToken, "code", totptest.Code(t, secret, clk.Now()))
			cross := a.send(t, b2, "POST", httpauthtest.LoginMFAPath, loginMFA, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
			if cross.status != 403 || cross.json(t)["type"] != httpauth.ProblemCrossOrigin {
				t.Errorf("cross-origin second step: %d %s, want 403 %s", cross.status, cross.body, httpauth.ProblemCrossOrigin)
			}
			second := a.send(t, b2, "POST", httpauthtest.LoginMFAPath, loginMFA)
			if second.status != 200 {
				t.Fatalf("second step: %d %s", second.status, second.body)
			}
			if names := a.jarNames(b2, "/api/user/me"); !slices.Contains(names, access) {
				t.Errorf("after the second step the jar holds %q for /me, want %s", names, access)
			}
			if names := a.jarNames(b2, "/api/user/refresh"); !slices.Contains(names, refresh) {
				t.Errorf("after the second step the jar holds %q for /refresh, want %s", names, refresh)
			}
			if names := a.jarNames(b2, httpauthtest.LoginPath); !slices.Contains(names, httpauth.DeviceCookie) {
				t.Errorf("after the second step the jar holds %q for /login, want the device cookie", names)
			}
			if me := a.send(t, b2, "GET", "/api/user/me", ""); me.status != 200 || me.json(t)["mfa"] != true {
				t.Errorf("GET /me with the second step's cookie: %d %s", me.status, me.body)
			}
		})
	}
}
