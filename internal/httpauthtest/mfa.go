package httpauthtest

// Two-factor authentication end to end: TOTP setup, confirmation, login
// in two steps, replayed codes, recovery codes and disabling, over a
// real listener, with every code computed by oathtool (OATH Toolkit), an
// implementation of RFC 6238 independent of the one the Service uses;
// and one account used through two replicas on one PostgreSQL database.
// The servers' clocks are settable (sessionServer) and oathtool computes
// the code of the time they stand at: nothing sleeps.

import (
	"bytes"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/internal/totptest"
)

// The routes of two-factor authentication under the default prefix.
const (
	LoginMFAPath    = "/api/user/login/mfa"
	TOTPSetupPath   = "/api/user/mfa/totp/setup"
	TOTPConfirmPath = "/api/user/mfa/totp/confirm"
	MFADisablePath  = "/api/user/mfa/disable"
)

// MFASetup is what POST /mfa/totp/setup answered.
type MFASetup struct {
	Secret, URI string
	QRCode      []byte // the PNG of the data: URL
}

// SetupTOTP posts a TOTP setup with token and password and checks the
// 200 answer: exactly secret, uri and qrCode, a QR code of the URI's
// size as a PNG data: URL, and a URI of the secret for email.
func (s *App) SetupTOTP(t *testing.T, token, password, email string) MFASetup {
	t.Helper()
	r := s.Do(t, http.MethodPost, TOTPSetupPath, "application/json", JSONBody("password", password), Bearer(token)...)
	m := exactly(t, "setup", r, "qrCode", "secret", "uri")
	var setup MFASetup
	setup.Secret, setup.URI = m["secret"].(string), m["uri"].(string)
	if !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(setup.Secret) {
		t.Errorf("setup: secret %q is not 160 bits of unpadded base32", setup.Secret)
	}
	u, err := url.Parse(setup.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != setup.Secret ||
		!strings.HasSuffix(u.Path, ":"+email) || u.Query().Get("algorithm") != "SHA1" ||
		u.Query().Get("digits") != "6" || u.Query().Get("period") != "30" {
		t.Errorf("setup: uri %q is not an otpauth://totp/ URI of the secret for %s (SHA1, 6 digits, 30 s)", setup.URI, email)
	}
	qr, ok := strings.CutPrefix(m["qrCode"].(string), "data:image/png;base64,")
	if setup.QRCode, err = base64.StdEncoding.DecodeString(qr); !ok || err != nil {
		t.Fatalf("setup: qrCode is not a base64 PNG data: URL: %.60s... (%v)", m["qrCode"], err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(setup.QRCode)); err != nil || cfg.Width != 256 || cfg.Height != 256 {
		t.Errorf("setup: qrCode is no 256×256 PNG: %+v, %v", cfg, err)
	}
	return setup
}

// ConfirmTOTP posts code to /mfa/totp/confirm with token and checks the
// 200 answer: exactly ten distinct recovery codes, which it returns.
func (s *App) ConfirmTOTP(t *testing.T, token, code string) []string {
	t.Helper()
	r := s.Do(t, http.MethodPost, TOTPConfirmPath, "application/json", JSONBody("code", code), Bearer(token)...)
	m := exactly(t, "confirm", r, "recoveryCodes")
	var codes []string
	for _, c := range m["recoveryCodes"].([]any) {
		s, _ := c.(string)
		if !regexp.MustCompile(`^[A-Z2-7]{4}(-[A-Z2-7]{4}){5}$`).MatchString(s) || slices.Contains(codes, s) {
			t.Errorf("confirm: recovery code %v is malformed or repeated", c)
		}
		codes = append(codes, s)
	}
	if len(codes) != 10 {
		t.Fatalf("confirm: %d recovery codes, want 10", len(codes))
	}
	return codes
}

// MFAToken posts a login of email and pw, which must have two-factor
// authentication on, and checks its answer: 200 with exactly
// {"mfaRequired": true, "mfaToken"}, no token and no cookie. It returns
// the mfaToken.
func (s *App) MFAToken(t *testing.T, email, pw string) string {
	t.Helper()
	r := s.Post(t, LoginPath, LoginBody(email, pw))
	m := exactly(t, "login of "+email, r, "mfaRequired", "mfaToken")
	if m["mfaRequired"] != true {
		t.Errorf("login: mfaRequired %v, want true", m["mfaRequired"])
	}
	tok, _ := m["mfaToken"].(string)
	if tok == "" || !isBase64URL(tok) || len(tok) > 200 {
		t.Errorf("login: mfaToken %q is not unpadded base64url of at most 200 characters", tok)
	}
	if c := r.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("login that needs a second factor sets cookies %q", c)
	}
	return tok
}

// LoginMFA posts the second step of a login: {"mfaToken", kind} with
// kind "code" or "recoveryCode".
func (s *App) LoginMFA(t *testing.T, mfaToken, kind, code string) Response {
	t.Helper()
	return s.Post(t, LoginMFAPath, JSONBody("mfaToken", mfaToken, kind, code))
}

// exactly checks a 200 JSON answer, not to be cached, with exactly the
// members names (sorted), and returns it.
func exactly(t *testing.T, what string, r Response, names ...string) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("%s: status %d, body %s", what, r.Status, r.Body)
	}
	if ct, cc := r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("%s: Content-Type %q, Cache-Control %q; want application/json, no-store", what, ct, cc)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("%s: body %q: %v", what, r.Body, err)
	}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, names) {
		t.Fatalf("%s: body %s has members %v, want exactly %v", what, r.Body, got, names)
	}
	return m
}

// checkInvalidCode checks the refusal of a code: 400 of type
// httpauth.ProblemInvalidCode naming field.
func checkInvalidCode(t *testing.T, what string, r Response, field string) {
	t.Helper()
	checkProblemType(t, what, r, http.StatusBadRequest, httpauth.ProblemInvalidCode)
	checkProblemField(t, what, r, http.StatusBadRequest, field)
}

// mfaServer is a sessionServer for the two-factor scenario, with refresh
// tokens on or off.
type mfaServer struct {
	*sessionServer
	sessions bool
}

// session checks the 200 login body of a second step, with refreshToken
// if sessions are on, and the device cookie; it returns the body.
func (s *mfaServer) session(t *testing.T, what string, r Response) map[string]string {
	t.Helper()
	var m map[string]string
	if s.sessions {
		m = refreshSession(t, what, r)
	} else {
		if r.Status != http.StatusOK {
			t.Fatalf("%s: status %d, body %s", what, r.Status, r.Body)
		}
		m = DecodeSession(t, r.Body)
	}
	if c := r.Header.Get("Set-Cookie"); !strings.HasPrefix(c, httpauth.DeviceCookie+"=") || !strings.Contains(c, "Path=/api/user/login;") {
		t.Errorf("%s: Set-Cookie %q, want the device cookie as a login sets it", what, c)
	}
	return m
}

// MFA runs the two-factor scenario on each store, with refresh tokens
// off (the wire contract's login body) and on.
func MFA(t *testing.T, stores []Store) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			store := openStore(t, st)
			for _, sessions := range []bool{false, true} {
				t.Run(fmt.Sprintf("sessions=%v", sessions), func(t *testing.T) {
					cfg := auth.Config{}
					if sessions {
						cfg = sessionsOn()
					}
					testMFA(t, &mfaServer{newSessionServer(t, store, cfg), sessions}, fmt.Sprintf("ada%v@example.com", sessions))
				})
			}
		})
	}
}

func testMFA(t *testing.T, s *mfaServer, email string) {
	const pw = Password
	clk := s.clock
	var up map[string]string
	if s.sessions {
		up = s.signupSession(t, "Ada", email)
	} else {
		up = s.Signup(t, "Ada", email, pw)
	}
	tok := up["token"]
	me := func(token string) map[string]any {
		t.Helper()
		return CheckMe(t, s.Do(t, http.MethodGet, MePath, "", "", Bearer(token)...))
	}
	if m := me(tok); m["mfa"] != false {
		t.Errorf("/me before setup: mfa %v", m["mfa"])
	}

	// Setup needs the password; confirmation, a code of the secret.
	r := s.Do(t, http.MethodPost, TOTPSetupPath, "application/json", JSONBody("password", "wrong password!"), Bearer(tok)...)
	checkProblemField(t, "setup, wrong password", r, http.StatusForbidden, "password")
	r = s.Do(t, http.MethodPost, TOTPConfirmPath, "application/json", JSONBody("code", "123456"), Bearer(tok)...)
	checkProblemType(t, "confirm before setup", r, http.StatusBadRequest, httpauth.ProblemMFANotEnabled)
	setup := s.SetupTOTP(t, tok, pw, email)
	code := totptest.Oathtool(t, setup.Secret, clk.Now())
	r = s.Do(t, http.MethodPost, TOTPConfirmPath, "application/json", JSONBody("code", totptest.OtherCode(code)), Bearer(tok)...)
	checkInvalidCode(t, "confirm, wrong code", r, "code")
	if m := me(tok); m["mfa"] != false {
		t.Errorf("/me after setup, before confirmation: mfa %v", m["mfa"])
	}
	recovery := s.ConfirmTOTP(t, tok, code)
	if m := me(tok); m["mfa"] != true {
		t.Errorf("/me after confirmation: mfa %v", m["mfa"])
	}
	r = s.Do(t, http.MethodPost, TOTPSetupPath, "application/json", JSONBody("password", pw), Bearer(tok)...)
	WantStatus(t, r, http.StatusConflict, "setup with TOTP on")
	ProblemBody(t, r)

	// The confirmation's code is used: not even within its step may it
	// log in.
	mfaToken := s.MFAToken(t, email, pw)
	checkInvalidCode(t, "login with the confirmation's code", s.LoginMFA(t, mfaToken, "code", code), "code")

	// Thirty seconds on, oathtool's code logs in; the wrong code before
	// it left the mfaToken usable.
	clk.Add(30 * time.Second)
	code = totptest.Oathtool(t, setup.Secret, clk.Now())
	in := s.session(t, "login with oathtool's code", s.LoginMFA(t, mfaToken, "code", code))
	if in["userId"] != up["userId"] || in["email"] != up["email"] {
		t.Errorf("second step logged in %v, signed up %v", in, up)
	}
	if m := me(in["token"]); m["mfa"] != true || m["userId"] != up["userId"] {
		t.Errorf("/me with the second step's token: %v", m)
	}

	// Replayed: the same code with a new login. A spent mfaToken, with
	// a fresh code (the Service spends the code, then the token).
	mfaToken2 := s.MFAToken(t, email, pw)
	checkInvalidCode(t, "replayed code", s.LoginMFA(t, mfaToken2, "code", code), "code")
	clk.Add(30 * time.Second)
	code = totptest.Oathtool(t, setup.Secret, clk.Now())
	s.session(t, "second login after a replayed code", s.LoginMFA(t, mfaToken2, "code", code))
	clk.Add(30 * time.Second)
	code = totptest.Oathtool(t, setup.Secret, clk.Now())
	r = s.LoginMFA(t, mfaToken, "code", code)
	checkProblemField(t, "spent mfaToken", r, http.StatusUnauthorized, "mfaToken")
	spent := r.Body
	for _, bad := range []string{mfaToken2[:len(mfaToken2)-2] + "AA", "x", strings.Repeat("A", 300)} {
		if r := s.LoginMFA(t, bad, "code", code); r.Status != http.StatusUnauthorized || r.Body != spent {
			t.Errorf("mfaToken %.20q...: %d %s; want the 401 of a spent one", bad, r.Status, r.Body)
		}
	}

	// An mfaToken lives 5 minutes.
	mfaToken = s.MFAToken(t, email, pw)
	clk.Add(5*time.Minute + time.Second)
	r = s.LoginMFA(t, mfaToken, "code", totptest.Oathtool(t, setup.Secret, clk.Now()))
	if r.Status != http.StatusUnauthorized || r.Body != spent {
		t.Errorf("expired mfaToken: %d %s; want the 401 of a spent one", r.Status, r.Body)
	}

	// A recovery code works once, in any case, with or without hyphens.
	mfaToken = s.MFAToken(t, email, pw)
	checkProblemField(t, "code and recovery code", s.Post(t, LoginMFAPath, JSONBody("mfaToken", mfaToken, "code", "123456", "recoveryCode", recovery[0])), http.StatusBadRequest, "recoveryCode")
	checkProblemField(t, "neither code nor recovery code", s.Post(t, LoginMFAPath, JSONBody("mfaToken", mfaToken)), http.StatusBadRequest, "code")
	checkProblemField(t, "no mfaToken", s.Post(t, LoginMFAPath, JSONBody("code", "123456")), http.StatusBadRequest, "mfaToken")
	s.session(t, "recovery code", s.LoginMFA(t, mfaToken, "recoveryCode", recovery[0]))
	mfaToken = s.MFAToken(t, email, pw)
	checkInvalidCode(t, "spent recovery code", s.LoginMFA(t, mfaToken, "recoveryCode", recovery[0]), "recoveryCode")
	s.session(t, "another recovery code", s.LoginMFA(t, mfaToken, "recoveryCode", strings.ToLower(strings.ReplaceAll(recovery[1], "-", ""))))

	// Disabling needs the password and a code.
	clk.Add(30 * time.Second)
	code = totptest.Oathtool(t, setup.Secret, clk.Now())
	disable := func(pw, code string) Response {
		t.Helper()
		return s.Do(t, http.MethodPost, MFADisablePath, "application/json", JSONBody("password", pw, "code", code), Bearer(tok)...)
	}
	checkProblemField(t, "disable, wrong password", disable("wrong password!", code), http.StatusForbidden, "password")
	checkInvalidCode(t, "disable, wrong code", disable(pw, totptest.OtherCode(code)), "code")
	checkNoContent(t, "disable", disable(pw, code))
	if m := me(tok); m["mfa"] != false {
		t.Errorf("/me after disabling: mfa %v", m["mfa"])
	}
	checkProblemType(t, "disable when off", disable(pw, code), http.StatusBadRequest, httpauth.ProblemMFANotEnabled)
	r = s.Post(t, LoginPath, LoginBody(email, pw))
	if s.sessions {
		refreshSession(t, "login after disabling", r)
	} else if r.Status != http.StatusOK {
		t.Fatalf("login after disabling: %d %s", r.Status, r.Body)
	} else {
		DecodeSession(t, r.Body)
	}
	for _, k := range []auth.EventKind{auth.EventMFASetupStarted, auth.EventMFAEnabled, auth.EventMFARequired, auth.EventMFALogin, auth.EventMFAFailed, auth.EventMFARecoveryUsed, auth.EventMFADisabled} {
		if s.countEvents(k, up["userId"]) == 0 {
			t.Errorf("no %s event recorded", k)
		}
	}
}

// MFAReplicas runs two instances of the service on one PostgreSQL
// database, with one clock, and uses one account through both: a code
// used on one replica is refused on the other, also when both get it at
// once; an mfaToken spent on one is refused on the other, and so is a
// recovery code.
func MFAReplicas(t *testing.T, pg func(*sql.DB) SQLStore) {
	clk := testclock.New(sessionEpoch)
	r, _, _ := pgReplicas(t, pg, 2, auth.Config{Now: clk.Now, HashWait: time.Minute})
	a, b := r[0], r[1]
	const email, pw = "ada@example.com", Password
	tok := a.Signup(t, "Ada", email, pw)["token"]
	setup := a.SetupTOTP(t, tok, pw, email)
	recovery := b.ConfirmTOTP(t, tok, totptest.Oathtool(t, setup.Secret, clk.Now()))

	clk.Add(30 * time.Second)
	code := totptest.Oathtool(t, setup.Secret, clk.Now())
	onA, onB := a.MFAToken(t, email, pw), b.MFAToken(t, email, pw)
	if r := a.LoginMFA(t, onA, "code", code); r.Status != http.StatusOK {
		t.Fatalf("code on replica A: %d %s", r.Status, r.Body)
	}
	checkInvalidCode(t, "the same code on replica B", b.LoginMFA(t, onB, "code", code), "code")

	clk.Add(30 * time.Second)
	if r := b.LoginMFA(t, onB, "code", totptest.Oathtool(t, setup.Secret, clk.Now())); r.Status != http.StatusOK {
		t.Fatalf("B's mfaToken after a refused code: %d %s", r.Status, r.Body)
	}
	clk.Add(30 * time.Second)
	checkProblemField(t, "the mfaToken spent on A, on B", b.LoginMFA(t, onA, "code", totptest.Oathtool(t, setup.Secret, clk.Now())), http.StatusUnauthorized, "mfaToken")

	// One new code, sent to both replicas at once: one login.
	clk.Add(30 * time.Second)
	code = totptest.Oathtool(t, setup.Secret, clk.Now())
	tokens := []string{a.MFAToken(t, email, pw), b.MFAToken(t, email, pw)}
	results := make([]Response, 2)
	var wg sync.WaitGroup
	for i, app := range []*App{a, b} {
		wg.Go(func() { // no t.Fatal here: not the test's goroutine
			status, body, err := PostJSON(app.Client(), app.URL+LoginMFAPath, JSONBody("mfaToken", tokens[i], "code", code))
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			results[i] = Response{Status: status, Header: http.Header{"Content-Type": {"application/problem+json"}}, Body: string(body)}
		})
	}
	wg.Wait()
	if ok := (results[0].Status == 200) != (results[1].Status == 200); !ok {
		t.Fatalf("one code on both replicas at once: %d %s and %d %s; want one 200", results[0].Status, results[0].Body, results[1].Status, results[1].Body)
	}
	for _, res := range results {
		if res.Status != 200 {
			checkInvalidCode(t, "the code's loser", res, "code")
		}
	}

	// A recovery code used on B is refused on A.
	onA, onB = a.MFAToken(t, email, pw), b.MFAToken(t, email, pw)
	if r := b.LoginMFA(t, onB, "recoveryCode", recovery[0]); r.Status != http.StatusOK {
		t.Fatalf("recovery code on B: %d %s", r.Status, r.Body)
	}
	checkInvalidCode(t, "the recovery code on A", a.LoginMFA(t, onA, "recoveryCode", recovery[0]), "recoveryCode")
}

// EnrollTOTP signs up email with pw on s, whose Service has refresh
// tokens off and whose clock stands at now, and turns TOTP on for it
// with a code of that time; it returns the sign-up's access token, the
// setup and the recovery codes.
func (s *App) EnrollTOTP(t *testing.T, email, pw string, now time.Time) (token string, setup MFASetup, recovery []string) {
	t.Helper()
	token = s.Signup(t, "Ada", email, pw)["token"]
	setup = s.SetupTOTP(t, token, pw, email)
	recovery = s.ConfirmTOTP(t, token, totptest.Code(t, setup.Secret, now))
	return token, setup, recovery
}
