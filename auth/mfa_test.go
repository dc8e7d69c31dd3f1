package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/totptest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// mfaUser is an account with TOTP on, as enrol leaves it.
type mfaUser struct {
	id, email string
	secret    string   // base32
	recovery  []string // as ConfirmTOTP returned them
}

// enrol signs up a user with the email and turns TOTP on with a code of
// the current step, then moves the clock on a step, past the one spent.
func (env *flowEnv) enrol(t *testing.T, email string) mfaUser {
	t.Helper()
	ctx := t.Context()
	g := env.signup(t, "Ada", email)
	setup, err := env.s.SetupTOTP(ctx, g.User.ID, flowPassword)
	if err != nil {
		t.Fatalf("SetupTOTP: %v", err)
	}
	codes, err := env.s.ConfirmTOTP(ctx, g.User.ID, totptest.Code(t, setup.Secret, env.clk.Now()))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	env.clk.Add(30 * time.Second)
	return mfaUser{id: g.User.ID, email: email, secret: setup.Secret, recovery: codes}
}

// mfaLogin logs in as the user, which must answer with an
// *MFARequiredError, and returns its mfaToken.
func (env *flowEnv) mfaLogin(t *testing.T, ctx context.Context, email string) string {
	t.Helper()
	g, err := env.s.Login(ctx, email, flowPassword)
	var mr *auth.MFARequiredError
	if g != nil || !errors.As(err, &mr) || !errors.Is(err, auth.ErrMFARequired) {
		t.Fatalf("Login of a user with MFA = (%v, %v); want no Grant and an *MFARequiredError", g, err)
	}
	if want := env.clk.Now().Add(5 * time.Minute); !mr.ExpiresAt.Equal(want) {
		t.Errorf("mfaToken expires at %v; want %v", mr.ExpiresAt, want)
	}
	if len(mr.MFAToken) > 200 || !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(mr.MFAToken) {
		t.Errorf("mfaToken %q: want at most 200 base64url characters", mr.MFAToken)
	}
	return mr.MFAToken
}

// wantGrant fails the test unless g is a full Grant for the user: an
// access token the Service accepts, a refresh token and a device token.
func (env *flowEnv) wantGrant(t *testing.T, what string, g *auth.Grant, err error, userID string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if g.User.ID != userID || !g.User.MFA || g.User.PasswordHash != "" || g.RefreshToken == "" || g.DeviceToken == "" {
		t.Fatalf("%s: Grant %+v; want the user's, with MFA, refresh and device tokens, no hash", what, g)
	}
	if c, err := env.s.VerifyToken(t.Context(), g.Token); err != nil || c.UserID != userID {
		t.Fatalf("%s: the access token: (%v, %v)", what, c, err)
	}
}

// checkNoMFASecrets fails the test if an audit event or the log holds
// one of secrets, or the SHA-256 of one.
func (env *flowEnv) checkNoMFASecrets(t *testing.T, secrets ...string) {
	t.Helper()
	texts := strings.Split(env.log.String(), "\n")
	for _, ev := range env.events() {
		texts = append(texts, fmt.Sprintf("%+v", ev))
	}
	for _, s := range secrets {
		sum := sha256.Sum256([]byte(s))
		for _, text := range texts {
			for _, form := range []string{s, strings.ToLower(s), hex.EncodeToString(sum[:])} {
				if strings.Contains(text, form) {
					t.Errorf("audit record or log holds a secret %q: %s", s, text)
				}
			}
		}
	}
}

func TestTOTPLifecycle(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{TOTPIssuer: "Example Co"})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	id := g.User.ID
	var secrets []string

	setup, err := env.s.SetupTOTP(ctx, id, flowPassword)
	if err != nil {
		t.Fatalf("SetupTOTP: %v", err)
	}
	secrets = append(secrets, setup.Secret, flowPassword)
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(setup.Secret); err != nil || len(raw) != 20 {
		t.Errorf("Secret %q: want 160 bits in unpadded base32 (%v)", setup.Secret, err)
	}
	uri, err := url.Parse(setup.URI)
	if err != nil {
		t.Fatalf("URI %q: %v", setup.URI, err)
	}
	q := uri.Query()
	if uri.Scheme != "otpauth" || uri.Host != "totp" || uri.Path != "/Example Co:ada@example.com" ||
		q.Get("secret") != setup.Secret || q.Get("issuer") != "Example Co" || q.Get("algorithm") != "SHA1" ||
		q.Get("digits") != "6" || q.Get("period") != "30" {
		t.Errorf("URI %q: want otpauth://totp/Example Co:ada@example.com with the secret, issuer, SHA1, 6 digits, 30 s", setup.URI)
	}
	img, err := png.Decode(bytes.NewReader(setup.QRCode))
	if err != nil || img.Bounds().Dx() != 256 || img.Bounds().Dy() != 256 {
		t.Errorf("QRCode: a %v PNG (%v); want 256 × 256", img.Bounds(), err)
	}

	// Until confirmed, nothing changes.
	if u, _ := env.s.User(ctx, id); u.MFA {
		t.Error("User.MFA is on before confirmation")
	}
	if _, err := env.s.Login(ctx, "ada@example.com", flowPassword); err != nil {
		t.Fatalf("Login before confirmation: %v", err)
	}

	codes, err := env.s.ConfirmTOTP(ctx, id, totptest.Code(t, setup.Secret, env.clk.Now()))
	if err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	secrets = append(secrets, codes...)
	seen := map[string]bool{}
	for _, c := range codes {
		if !regexp.MustCompile(`^([A-Z2-7]{4}-){5}[A-Z2-7]{4}$`).MatchString(c) || seen[c] {
			t.Errorf("recovery code %q: want 6 distinct groups of 4 base32 characters", c)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Errorf("%d recovery codes; want 10", len(codes))
	}
	if u, _ := env.s.User(ctx, id); !u.MFA {
		t.Error("User.MFA is off after confirmation")
	}
	if ev := env.lastEvent(t, auth.EventMFAEnabled); ev.UserID != id {
		t.Errorf("confirmation recorded as %+v", ev)
	}

	// Login asks for the second factor, which completes it.
	env.clk.Add(30 * time.Second)
	tok := env.mfaLogin(t, ctx, "ada@example.com")
	secrets = append(secrets, tok)
	code := totptest.Code(t, setup.Secret, env.clk.Now())
	login, err := env.s.LoginTOTP(ctx, tok, code)
	env.wantGrant(t, "LoginTOTP", login, err, id)
	if ev := env.lastEvent(t, auth.EventMFALogin); ev.UserID != id || ev.Reason != "totp" {
		t.Errorf("MFA login recorded as %+v", ev)
	}
	if _, err := env.s.Refresh(ctx, login.RefreshToken); err != nil {
		t.Errorf("Refresh of the MFA login's session: %v", err)
	}

	// A recovery code, typed loosely, works once.
	tok = env.mfaLogin(t, ctx, "ada@example.com")
	secrets = append(secrets, tok)
	loose := " " + strings.ToLower(strings.ReplaceAll(codes[3], "-", " ")) + " "
	login, err = env.s.LoginRecoveryCode(ctx, tok, loose)
	env.wantGrant(t, "LoginRecoveryCode", login, err, id)
	if env.count(auth.EventMFARecoveryUsed) != 1 {
		t.Errorf("%d recovery-code events; want 1", env.count(auth.EventMFARecoveryUsed))
	}
	tok = env.mfaLogin(t, ctx, "ada@example.com")
	if _, err := env.s.LoginRecoveryCode(ctx, tok, codes[3]); !errors.Is(err, auth.ErrInvalidCode) {
		t.Errorf("a recovery code used again: %v; want ErrInvalidCode", err)
	}
	login, err = env.s.LoginRecoveryCode(ctx, tok, codes[4])
	env.wantGrant(t, "another recovery code with the same mfaToken", login, err, id)

	// Disabling needs the password and a code.
	env.clk.Add(30 * time.Second)
	code = totptest.Code(t, setup.Secret, env.clk.Now())
	if err := env.s.DisableTOTP(ctx, id, "wrong password!", code); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("DisableTOTP with a wrong password: %v", err)
	}
	if err := env.s.DisableTOTP(ctx, id, flowPassword, "000000"); !errors.Is(err, auth.ErrInvalidCode) {
		t.Errorf("DisableTOTP with a wrong code: %v", err)
	}
	if err := env.s.DisableTOTP(ctx, id, flowPassword, code); err != nil {
		t.Fatalf("DisableTOTP: %v", err)
	}
	if ev := env.lastEvent(t, auth.EventMFADisabled); ev.UserID != id {
		t.Errorf("disabling recorded as %+v", ev)
	}
	if u, _ := env.s.User(ctx, id); u.MFA {
		t.Error("User.MFA is on after DisableTOTP")
	}
	if g, err := env.s.Login(ctx, "ada@example.com", flowPassword); err != nil || g.User.MFA {
		t.Errorf("Login after DisableTOTP = (%+v, %v); want a Grant", g, err)
	}

	// Enrolling again, and disabling with a recovery code.
	u := env.enrol(t, "bob@example.com")
	secrets = append(secrets, u.secret)
	secrets = append(secrets, u.recovery...)
	if err := env.s.DisableTOTP(ctx, u.id, flowPassword, u.recovery[0]); err != nil {
		t.Fatalf("DisableTOTP with a recovery code: %v", err)
	}
	env.checkNoMFASecrets(t, secrets...)
}

func TestTOTPRefusals(t *testing.T) {
	ctx := t.Context()
	env := newFlowEnv(t, nil, auth.Config{})
	off := env.signup(t, "Off", "off@example.com")
	on := env.enrol(t, "on@example.com")
	pending := env.signup(t, "Pending", "pending@example.com")
	setup, err := env.s.SetupTOTP(ctx, pending.User.ID, flowPassword)
	if err != nil {
		t.Fatal(err)
	}
	var fe *auth.FieldError
	for _, tc := range []struct {
		name string
		err  error
		want error // or a field name in field
		fld  string
	}{
		{name: "setup with a wrong password", err: errOf(env.s.SetupTOTP(ctx, off.User.ID, "not the password")), want: auth.ErrInvalidCredentials},
		{name: "setup without a password", err: errOf(env.s.SetupTOTP(ctx, off.User.ID, "")), fld: "password"},
		{name: "setup when on", err: errOf(env.s.SetupTOTP(ctx, on.id, flowPassword)), want: auth.ErrMFAEnabled},
		{name: "setup of an unknown user", err: errOf(env.s.SetupTOTP(ctx, "nobody", flowPassword)), want: auth.ErrInvalidCredentials},
		{name: "confirm without setup", err: errOf(env.s.ConfirmTOTP(ctx, off.User.ID, "123456")), want: auth.ErrMFANotEnabled},
		{name: "confirm when on", err: errOf(env.s.ConfirmTOTP(ctx, on.id, totptest.Code(t, on.secret, env.clk.Now()))), want: auth.ErrMFAEnabled},
		{name: "confirm with a wrong code", err: errOf(env.s.ConfirmTOTP(ctx, pending.User.ID, wrongCode(t, setup.Secret, env.clk.Now()))), want: auth.ErrInvalidCode},
		{name: "confirm with a malformed code", err: errOf(env.s.ConfirmTOTP(ctx, pending.User.ID, "12345x")), want: auth.ErrInvalidCode},
		{name: "confirm without a code", err: errOf(env.s.ConfirmTOTP(ctx, pending.User.ID, "")), fld: "code"},
		{name: "disable when off", err: env.s.DisableTOTP(ctx, off.User.ID, flowPassword, "123456"), want: auth.ErrMFANotEnabled},
		{name: "disable without a code", err: env.s.DisableTOTP(ctx, on.id, flowPassword, ""), fld: "code"},
		{name: "login without an mfaToken", err: errOf(env.s.LoginTOTP(ctx, "", "123456")), fld: "mfaToken"},
		{name: "login without a code", err: errOf(env.s.LoginTOTP(ctx, "x", "")), fld: "code"},
		{name: "login without a recovery code", err: errOf(env.s.LoginRecoveryCode(ctx, "x", "")), fld: "recoveryCode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fld != "" {
				if !errors.As(tc.err, &fe) || fe.Field != tc.fld {
					t.Errorf("err = %v; want a FieldError for %s", tc.err, tc.fld)
				}
				return
			}
			if !errors.Is(tc.err, tc.want) {
				t.Errorf("err = %v; want %v", tc.err, tc.want)
			}
		})
	}
	// The setup still confirms with its own code; a new setup replaces
	// an unconfirmed one.
	again, err := env.s.SetupTOTP(ctx, pending.User.ID, flowPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.ConfirmTOTP(ctx, pending.User.ID, totptest.Code(t, setup.Secret, env.clk.Now())); !errors.Is(err, auth.ErrInvalidCode) {
		t.Errorf("confirming with a code of a replaced setup: %v; want ErrInvalidCode", err)
	}
	if _, err := env.s.ConfirmTOTP(ctx, pending.User.ID, totptest.Code(t, again.Secret, env.clk.Now())); err != nil {
		t.Errorf("confirming the new setup: %v", err)
	}
}

// fastParams are the cheapest argon2id parameters New accepts.
var fastParams = password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 32}

var discard = slog.New(slog.DiscardHandler)

func errOf[T any](_ T, err error) error { return err }

// wrongCode returns a 6-digit code that is not the secret's at any step
// within two of at.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	for n := 0; ; n++ {
		c := fmt.Sprintf("%06d", n*7919%1000000)
		ok := true
		for d := -2; d <= 2; d++ {
			if c == totptest.Code(t, secret, at.Add(time.Duration(d)*30*time.Second)) {
				ok = false
			}
		}
		if ok {
			return c
		}
	}
}

func TestLoginTOTPCodes(t *testing.T) {
	step := 30 * time.Second
	for _, tc := range []struct {
		name string
		// first, if set, is used (and must work) before code, with a
		// fresh login: the offset of its step from now.
		first *time.Duration
		code  time.Duration // the offset of the code's step from now
		ok    bool
	}{
		{name: "current step", code: 0, ok: true},
		{name: "one step behind", code: -step, ok: true},
		{name: "one step ahead", code: step, ok: true},
		{name: "two steps behind", code: -2 * step},
		{name: "two steps ahead", code: 2 * step},
		{name: "replayed", first: ptr(time.Duration(0)), code: 0},
		{name: "an earlier step after a later one", first: ptr(step), code: 0},
		{name: "a later step after an earlier one", first: ptr(-step), code: 0, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newFlowEnv(t, nil, auth.Config{})
			ctx := t.Context()
			u := env.enrol(t, "ada@example.com")
			env.clk.Add(3 * step) // well past the step spent by the confirmation
			now := env.clk.Now()
			if tc.first != nil {
				g, err := env.s.LoginTOTP(ctx, env.mfaLogin(t, ctx, u.email), totptest.Code(t, u.secret, now.Add(*tc.first)))
				env.wantGrant(t, "the first code", g, err, u.id)
			}
			tok := env.mfaLogin(t, ctx, u.email)
			g, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, now.Add(tc.code)))
			if tc.ok {
				env.wantGrant(t, "LoginTOTP", g, err, u.id)
				return
			}
			if g != nil || !errors.Is(err, auth.ErrInvalidCode) {
				t.Fatalf("LoginTOTP = (%v, %v); want ErrInvalidCode", g, err)
			}
			if ev := env.lastEvent(t, auth.EventMFAFailed); ev.UserID != u.id || !strings.Contains(ev.Reason, "code") {
				t.Errorf("refusal recorded as %+v", ev)
			}
			// A refused code does not spend the mfaToken.
			env.clk.Add(2 * step)
			g, err = env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now()))
			env.wantGrant(t, "a good code after a refused one, with the same mfaToken", g, err, u.id)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestMFATokenRefusals(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	u := env.enrol(t, "ada@example.com")
	tok := env.mfaLogin(t, ctx, u.email)
	forged := []byte(tok)
	forged[len(forged)/2] ^= 1
	// The same store, another secret.
	_, err := mustNew(t, env.store, "another secret of 32 bytes, or more", env.clk.Now).Login(ctx, u.email, flowPassword)
	var mr *auth.MFARequiredError
	if !errors.As(err, &mr) {
		t.Fatal(err)
	}
	fromOther := mr.MFAToken

	for _, tc := range []struct {
		name, tok, reason string
		expired           bool
		advance           time.Duration
	}{
		{name: "malformed", tok: "not a token", reason: "malformed"},
		{name: "forged", tok: string(forged), reason: "malformed"},
		{name: "of a Service with another secret", tok: fromOther, reason: "malformed"},
		{name: "too long", tok: strings.Repeat("A", 201), reason: "malformed"},
		{name: "expired", tok: tok, reason: "expired", expired: true, advance: 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env.clk.Add(tc.advance)
			g, err := env.s.LoginTOTP(ctx, tc.tok, totptest.Code(t, u.secret, env.clk.Now()))
			if g != nil || !errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrTokenExpired) != tc.expired {
				t.Fatalf("LoginTOTP = (%v, %v); want ErrInvalidToken (expired: %v)", g, err, tc.expired)
			}
			if ev := env.lastEvent(t, auth.EventMFAFailed); ev.Reason != "mfa token "+tc.reason {
				t.Errorf("refusal recorded as %+v; want reason %q", ev, "mfa token "+tc.reason)
			}
		})
	}

	// Spent: a second exchange with good codes is refused.
	env.clk.Add(time.Minute)
	tok = env.mfaLogin(t, ctx, u.email)
	g, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now()))
	env.wantGrant(t, "LoginTOTP", g, err, u.id)
	if _, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now().Add(30*time.Second))); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a spent mfaToken: %v; want ErrInvalidToken", err)
	}
	if _, err := env.s.LoginRecoveryCode(ctx, tok, u.recovery[0]); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a spent mfaToken with a recovery code: %v; want ErrInvalidToken", err)
	}
	// A disabled account.
	tok = env.mfaLogin(t, ctx, u.email)
	if err := env.s.DisableUser(ctx, u.id); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now().Add(time.Minute))); err == nil {
		t.Error("LoginTOTP of a disabled account succeeded")
	}
}

// mustNew returns a Service over store with the secret and clock, as
// newFlowEnv configures one.
func mustNew(t *testing.T, store auth.UserStore, secret string, now func() time.Time) *auth.Service {
	t.Helper()
	s, err := auth.New(store, auth.Config{Secret: []byte(secret), RefreshTokens: true, CheckRevocation: true, Now: now,
		Params: fastParams, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestMFATokenSingleUse runs concurrent exchanges of one mfaToken, with
// one code or with the codes of three steps: exactly one gets a Grant.
func TestMFATokenSingleUse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offsets []int // steps from now, one goroutine each
	}{
		{"one code", []int{0, 0, 0, 0, 0, 0, 0, 0}},
		{"codes of three steps", []int{-1, 0, 1, -1, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newFlowEnv(t, nil, auth.Config{})
			ctx := t.Context()
			u := env.enrol(t, "ada@example.com")
			env.clk.Add(2 * time.Minute)
			tok := env.mfaLogin(t, ctx, u.email)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var grants int
			var errs []error
			start := make(chan struct{})
			for _, off := range tc.offsets {
				code := totptest.Code(t, u.secret, env.clk.Now().Add(time.Duration(off)*30*time.Second))
				wg.Go(func() {
					<-start
					g, err := env.s.LoginTOTP(ctx, tok, code)
					mu.Lock()
					defer mu.Unlock()
					if err == nil && g != nil {
						grants++
					} else if !errors.Is(err, auth.ErrInvalidCode) && !errors.Is(err, auth.ErrInvalidToken) && !errors.Is(err, auth.ErrThrottled) {
						errs = append(errs, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if grants != 1 || len(errs) > 0 {
				t.Errorf("%d Grants, unexpected errors %v; want exactly one Grant, the others ErrInvalidCode, ErrInvalidToken or throttled", grants, errs)
			}
		})
	}
	t.Run("one recovery code", func(t *testing.T) {
		env := newFlowEnv(t, nil, auth.Config{})
		ctx := t.Context()
		u := env.enrol(t, "ada@example.com")
		var wg sync.WaitGroup
		var mu sync.Mutex
		grants := 0
		start := make(chan struct{})
		for i := range 8 {
			// One login each, from addresses of their own: the code is
			// what is shared.
			tok := env.mfaLogin(t, auth.WithClientIP(ctx, netip.AddrFrom4([4]byte{192, 0, 2, byte(i)})), u.email)
			wg.Go(func() {
				<-start
				if g, err := env.s.LoginRecoveryCode(ctx, tok, u.recovery[0]); err == nil && g != nil {
					mu.Lock()
					grants++
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if grants != 1 {
			t.Errorf("%d Grants from one recovery code; want 1", grants)
		}
	})
}

func TestWrongCodesThrottled(t *testing.T) {
	throttleCfg := throttle.LoginConfig{BackoffAfter: 3, Backoff: time.Minute, BackoffMax: time.Minute, MaxAccountFailures: -1}
	client := func(ip string) context.Context {
		return auth.WithClientIP(t.Context(), netip.MustParseAddr(ip))
	}
	// Each row makes three wrong attempts (and its first login, if any,
	// counts as one: with a second factor to come, a right password
	// does not clear the count); the next login is refused.
	for _, tc := range []struct {
		name  string
		wrong func(t *testing.T, env *flowEnv, u mfaUser, ctx context.Context) []error
	}{
		{"LoginTOTP", func(t *testing.T, env *flowEnv, u mfaUser, ctx context.Context) []error {
			tok := env.mfaLogin(t, ctx, u.email)
			_, err1 := env.s.LoginTOTP(ctx, tok, wrongCode(t, u.secret, env.clk.Now()))
			_, err2 := env.s.LoginTOTP(ctx, tok, "12345")
			return []error{err1, err2}
		}},
		{"LoginRecoveryCode", func(t *testing.T, env *flowEnv, u mfaUser, ctx context.Context) []error {
			tok := env.mfaLogin(t, ctx, u.email)
			_, err1 := env.s.LoginRecoveryCode(ctx, tok, "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA")
			_, err2 := env.s.LoginRecoveryCode(ctx, tok, "not a recovery code")
			return []error{err1, err2}
		}},
		{"DisableTOTP", func(t *testing.T, env *flowEnv, u mfaUser, ctx context.Context) []error {
			var errs []error
			for _, code := range []string{wrongCode(t, u.secret, env.clk.Now()), "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "x"} {
				errs = append(errs, env.s.DisableTOTP(ctx, u.id, flowPassword, code))
			}
			return errs
		}},
		{"ConfirmTOTP", func(t *testing.T, env *flowEnv, u mfaUser, ctx context.Context) []error {
			if err := env.s.DisableTOTP(t.Context(), u.id, flowPassword, u.recovery[0]); err != nil { // another client
				t.Fatal(err)
			}
			setup, err := env.s.SetupTOTP(ctx, u.id, flowPassword)
			if err != nil {
				t.Fatal(err)
			}
			var errs []error
			for range 3 {
				errs = append(errs, errOf(env.s.ConfirmTOTP(ctx, u.id, wrongCode(t, setup.Secret, env.clk.Now()))))
			}
			return errs
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newFlowEnv(t, nil, auth.Config{LoginThrottle: throttleCfg})
			u := env.enrol(t, "ada@example.com")
			ctx := client("192.0.2.1")
			for i, err := range tc.wrong(t, env, u, ctx) {
				if !errors.Is(err, auth.ErrInvalidCode) {
					t.Fatalf("wrong attempt %d: %v; want ErrInvalidCode", i, err)
				}
			}
			_, err := env.s.Login(ctx, u.email, flowPassword)
			wantThrottledErr(t, "a login after three wrong attempts", err)
			// Another address is not slowed.
			if _, err := env.s.Login(client("198.51.100.7"), u.email, flowPassword); errors.Is(err, auth.ErrThrottled) {
				t.Errorf("a login from another address: %v", err)
			}
		})
	}

	t.Run("a throttled exchange leaves the mfaToken usable", func(t *testing.T) {
		env := newFlowEnv(t, nil, auth.Config{LoginThrottle: throttleCfg})
		u := env.enrol(t, "ada@example.com")
		ctx := client("192.0.2.1")
		tok := env.mfaLogin(t, ctx, u.email)
		for range 2 {
			if _, err := env.s.LoginTOTP(ctx, tok, wrongCode(t, u.secret, env.clk.Now())); !errors.Is(err, auth.ErrInvalidCode) {
				t.Fatalf("a wrong code: %v", err)
			}
		}
		_, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now()))
		wantThrottledErr(t, "the fourth attempt", err)
		env.clk.Add(time.Minute)
		g, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now()))
		env.wantGrant(t, "after the backoff", g, err, u.id)
		// Success clears the count: three more wrong codes are allowed.
		tok = env.mfaLogin(t, ctx, u.email)
		if _, err := env.s.LoginTOTP(ctx, tok, wrongCode(t, u.secret, env.clk.Now())); !errors.Is(err, auth.ErrInvalidCode) {
			t.Errorf("a wrong code after a success: %v; want ErrInvalidCode", err)
		}
	})

	t.Run("completed logins are no failures", func(t *testing.T) {
		env := newFlowEnv(t, nil, auth.Config{LoginThrottle: throttle.LoginConfig{BackoffAfter: 2, MaxClientFailures: 2, MaxAccountFailures: 3}})
		u := env.enrol(t, "ada@example.com")
		for i := range 10 {
			ctx := client(fmt.Sprintf("192.0.2.%d", i%2))
			g, err := env.s.LoginTOTP(ctx, env.mfaLogin(t, ctx, u.email), totptest.Code(t, u.secret, env.clk.Now()))
			env.wantGrant(t, fmt.Sprintf("login %d", i), g, err, u.id)
			env.clk.Add(30 * time.Second)
		}
	})

	t.Run("per account, from many addresses", func(t *testing.T) {
		env := newFlowEnv(t, nil, auth.Config{LoginThrottle: throttle.LoginConfig{MaxClientFailures: 2, MaxAccountFailures: 5, BackoffAfter: -1}})
		u := env.enrol(t, "ada@example.com")
		tok := env.mfaLogin(t, client("192.0.2.1"), u.email) // a right password: no failure of the account
		for i := range 5 {
			if _, err := env.s.LoginTOTP(client(fmt.Sprintf("203.0.113.%d", i+1)), tok, wrongCode(t, u.secret, env.clk.Now())); !errors.Is(err, auth.ErrInvalidCode) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		_, err := env.s.LoginTOTP(client("203.0.113.99"), tok, totptest.Code(t, u.secret, env.clk.Now()))
		wantThrottledErr(t, "a code after 5 failures of the account", err)
	})
}

// revokingStore runs hook before UseOneTimeToken: a revocation between a
// second factor's check and the session's start.
type revokingStore struct {
	*memstore.Store
	hook func()
}

func (s *revokingStore) UseOneTimeToken(ctx context.Context, hash, purpose string) (auth.OneTimeToken, error) {
	if s.hook != nil {
		s.hook()
	}
	return s.Store.UseOneTimeToken(ctx, hash, purpose)
}

func TestRevocationEndsMFALogin(t *testing.T) {
	for _, tc := range []struct {
		name   string
		revoke func(t *testing.T, env *flowEnv, u mfaUser)
		during bool // revoke during the exchange, after the code's check
	}{
		{name: "logout-all", revoke: func(t *testing.T, env *flowEnv, u mfaUser) {
			if err := env.s.RevokeSessions(t.Context(), u.id); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "password change", revoke: func(t *testing.T, env *flowEnv, u mfaUser) {
			if _, err := env.s.ChangePassword(t.Context(), u.id, flowPassword, "another passphrase entirely"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "logout-all during the exchange", during: true, revoke: func(t *testing.T, env *flowEnv, u mfaUser) {
			if err := env.store.(*revokingStore).RevokeSessions(context.Background(), u.id, env.clk.Now()); err != nil {
				t.Error(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &revokingStore{Store: memstore.New()}
			env := newFlowEnv(t, store, auth.Config{})
			ctx := t.Context()
			u := env.enrol(t, "ada@example.com")
			tok := env.mfaLogin(t, ctx, u.email)
			if tc.during {
				var once sync.Once
				store.hook = func() { once.Do(func() { tc.revoke(t, env, u) }) }
			} else {
				tc.revoke(t, env, u)
			}
			g, err := env.s.LoginTOTP(ctx, tok, totptest.Code(t, u.secret, env.clk.Now()))
			if g != nil || !errors.Is(err, auth.ErrInvalidToken) {
				t.Fatalf("LoginTOTP after a revocation = (%v, %v); want ErrInvalidToken", g, err)
			}
			if ev := env.lastEvent(t, auth.EventMFAFailed); ev.Reason != "mfa token of a login ended by a revocation" {
				t.Errorf("refusal recorded as %+v", ev)
			}
		})
	}
}

func TestResetKeepsMFA(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	u := env.enrol(t, "ada@example.com")
	pending := env.mfaLogin(t, ctx, u.email)
	if err := env.s.ForgotPassword(ctx, u.email); err != nil {
		t.Fatal(err)
	}
	const next = "a brand new passphrase"
	if err := env.s.ResetPassword(ctx, env.link(t, u.email, subjectReset, "/reset-password"), next); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.LoginTOTP(ctx, pending, totptest.Code(t, u.secret, env.clk.Now())); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("an mfaToken from before the reset: %v; want ErrInvalidToken", err)
	}
	g, err := env.s.Login(ctx, u.email, next)
	var mr *auth.MFARequiredError
	if !errors.As(err, &mr) {
		t.Fatalf("Login after a reset = (%v, %v); want an *MFARequiredError", g, err)
	}
	g, err = env.s.LoginTOTP(ctx, mr.MFAToken, totptest.Code(t, u.secret, env.clk.Now()))
	env.wantGrant(t, "LoginTOTP after a reset", g, err, u.id)
}

func TestTOTPSecretSealed(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	u := env.enrol(t, "ada@example.com")
	store := env.store.(*memstore.Store)
	rec, err := store.TOTP(ctx, u.id)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.secret)
	for _, form := range [][]byte{raw, []byte(u.secret), []byte(strings.ToLower(u.secret))} {
		if bytes.Contains(rec.Sealed, form) {
			t.Errorf("the stored TOTP holds the secret in the clear: %x", rec.Sealed)
		}
	}
	if !rec.Confirmed || len(rec.Sealed) != 1+12+20+16 {
		t.Errorf("stored TOTP %+v; want confirmed, 49 sealed bytes", rec)
	}

	// A Service with another secret cannot open it: the login fails, and
	// not as a wrong code.
	other := mustNew(t, store, "another secret of 32 bytes, or more", env.clk.Now)
	_, err = other.Login(ctx, u.email, flowPassword)
	var mr *auth.MFARequiredError
	if !errors.As(err, &mr) {
		t.Fatal(err)
	}
	if _, err := other.LoginTOTP(ctx, mr.MFAToken, totptest.Code(t, u.secret, env.clk.Now())); err == nil || errors.Is(err, auth.ErrInvalidCode) {
		t.Errorf("LoginTOTP with another Config.Secret: %v; want a failure to open the secret", err)
	}

	// Sealed to one account, it does not open for another.
	bob := env.signup(t, "Bob", "bob@example.com")
	if err := store.PutTOTP(ctx, bob.User.ID, rec.Sealed, env.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.ConfirmTOTP(ctx, bob.User.ID, totptest.Code(t, u.secret, env.clk.Now())); err == nil || errors.Is(err, auth.ErrInvalidCode) {
		t.Errorf("confirming a secret sealed for another account: %v; want a failure to open it", err)
	}
}

func TestDeleteUserDeletesMFA(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	u := env.enrol(t, "ada@example.com")
	if err := env.s.DeleteAccount(ctx, u.id, flowPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := env.store.(auth.MFAStore).TOTP(ctx, u.id); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("TOTP of a deleted user: %v; want ErrNotFound", err)
	}
	g := env.signup(t, "Ada", u.email)
	if g.User.MFA {
		t.Error("a new account with a deleted one's email has MFA on")
	}
}

func TestResetTOTP(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	u := env.enrol(t, "ada@example.com")
	if err := env.s.ResetTOTP(ctx, u.id); err != nil {
		t.Fatal(err)
	}
	if ev := env.lastEvent(t, auth.EventMFADisabled); ev.UserID != u.id || ev.Reason != "by an operator" {
		t.Errorf("recorded as %+v", ev)
	}
	if g, err := env.s.Login(ctx, u.email, flowPassword); err != nil || g.User.MFA {
		t.Errorf("Login after ResetTOTP = (%v, %v); want a Grant", g, err)
	}
	if err := env.s.ResetTOTP(ctx, "nobody"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ResetTOTP of an unknown user: %v; want ErrNotFound", err)
	}
}

// withoutMFA is a store with every ability but MFAStore.
type withoutMFA struct {
	auth.UserStore
	auth.PasswordStore
	auth.SessionStore
	auth.AccountStore
	throttle.Store
}

// TestLoginWithoutMFAUnchanged checks that the two-factor ability of a
// store changes nothing for a user without MFA: Login makes the same
// store calls and returns the same Grant, byte for byte, as over a store
// without the ability.
func TestLoginWithoutMFAUnchanged(t *testing.T) {
	ctx := t.Context()
	run := func(store auth.UserStore, calls *callLog) (*auth.Grant, string) {
		at := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
		s, err := auth.New(store, auth.Config{
			Secret: []byte("an end-to-end secret, 32 bytes.."), RefreshTokens: true, CheckRevocation: true,
			Params: fastParams, Logger: discard, Now: func() time.Time { return at },
			Rand: rand.NewChaCha8([32]byte{1}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: flowPassword}); err != nil {
			t.Fatal(err)
		}
		calls.takeCalls()
		g, err := s.Login(ctx, "ada@example.com", flowPassword)
		if err != nil {
			t.Fatal(err)
		}
		return g, calls.takeAll()
	}
	with := &callLog{Store: memstore.New()}
	without := &callLog{Store: memstore.New()}
	g1, calls1 := run(with, with)
	g2, calls2 := run(withoutMFA{without, without, without, without, without}, without)
	if calls1 != calls2 {
		t.Errorf("store calls of Login:\n with MFAStore    %s\n without MFAStore %s\nwant the same", calls1, calls2)
	}
	if fmt.Sprintf("%+v", *g1) != fmt.Sprintf("%+v", *g2) {
		t.Errorf("Grant:\n with MFAStore    %+v\n without MFAStore %+v\nwant the same", *g1, *g2)
	}
	if strings.Contains(calls1, "TOTP") || strings.Contains(calls1, "CreateOneTimeToken") {
		t.Errorf("Login of a user without MFA calls %s", calls1)
	}
}

// TestTOTPInterop checks our codes against an independent
// implementation, oathtool (OATH Toolkit): the codes it computes are
// accepted, and the codes of pquerna/otp, which the Service uses, equal
// its own. Under CI=true a missing oathtool fails the test.
func TestTOTPInterop(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	setup, err := env.s.SetupTOTP(ctx, g.User.ID, flowPassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{env.clk.Now(), env.clk.Now().Add(29 * time.Second), env.clk.Now().Add(time.Hour + 31*time.Second), time.Unix(2000000000, 0)} {
		if ours, theirs := totptest.Code(t, setup.Secret, at), totptest.Oathtool(t, setup.Secret, at); ours != theirs {
			t.Errorf("code at %v: ours %s, oathtool's %s", at, ours, theirs)
		}
	}
	if _, err := env.s.ConfirmTOTP(ctx, g.User.ID, totptest.Oathtool(t, setup.Secret, env.clk.Now())); err != nil {
		t.Fatalf("ConfirmTOTP with oathtool's code: %v", err)
	}
	env.clk.Add(30 * time.Second)
	tok := env.mfaLogin(t, ctx, "ada@example.com")
	login, err := env.s.LoginTOTP(ctx, tok, totptest.Oathtool(t, setup.Secret, env.clk.Now()))
	env.wantGrant(t, "LoginTOTP with oathtool's code", login, err, g.User.ID)
}

// BenchmarkLoginMFA compares the second step of a login with MFA,
// LoginTOTP, with a whole Login of a user without MFA, in one Service
// over a memstore with the default argon2id parameters and refresh
// tokens on: LoginTOTP hashes no password, so it must cost no more than
// 1.1× the Login (it costs far less). Each LoginTOTP gets a fresh
// mfaToken and a code of a new step, made with the timer stopped.
//
//	go test -run '^$' -bench LoginMFA -benchtime 100x ./auth
func BenchmarkLoginMFA(b *testing.B) {
	ctx := context.Background()
	clk := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clk }
	s, err := auth.New(memstore.New(), auth.Config{Secret: []byte("a benchmark secret of 32 bytes.."), RefreshTokens: true, Logger: discard, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	const pw = "correct horse battery"
	plain, err := s.Signup(ctx, auth.NewUser{Name: "Plain", Email: "plain@example.com", Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	mfa, err := s.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: pw})
	if err != nil {
		b.Fatal(err)
	}
	setup, err := s.SetupTOTP(ctx, mfa.User.ID, pw)
	if err != nil {
		b.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCode(setup.Secret, clk)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	if _, err := s.ConfirmTOTP(ctx, mfa.User.ID, code()); err != nil {
		b.Fatal(err)
	}

	b.Run("Login without MFA", func(b *testing.B) {
		for range b.N {
			if _, err := s.Login(ctx, plain.User.Email, pw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LoginTOTP", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			clk = clk.Add(30 * time.Second)
			_, err := s.Login(ctx, mfa.User.Email, pw)
			var mr *auth.MFARequiredError
			if !errors.As(err, &mr) {
				b.Fatal(err)
			}
			c := code()
			b.StartTimer()
			if _, err := s.LoginTOTP(ctx, mr.MFAToken, c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestMFANotices: turning two-factor authentication on, off, or having an
// operator reset it each sends the account's address a notice, which
// carries no secret, code or link.
func TestMFANotices(t *testing.T) {
	const subjectOn, subjectOff = "Two-factor login was turned on", "Two-factor login was turned off"
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	u := env.enrol(t, "ada@example.com")
	on := env.box.take(t, u.email, subjectOn)
	if !strings.Contains(on.Text, "Ada") || !strings.Contains(on.HTML, "Ada") {
		t.Errorf("the notice does not name its user:\n%s", on.Text)
	}
	if err := env.s.DisableTOTP(ctx, u.id, flowPassword, totptest.Code(t, u.secret, env.clk.Now())); err != nil {
		t.Fatalf("DisableTOTP: %v", err)
	}
	env.box.take(t, u.email, subjectOff)

	v := env.enrol(t, "bob@example.com")
	env.box.take(t, v.email, subjectOn)
	if err := env.s.ResetTOTP(ctx, v.id); err != nil {
		t.Fatalf("ResetTOTP: %v", err)
	}
	env.box.take(t, v.email, subjectOff)
	if err := env.s.ResetTOTP(ctx, v.id); err != nil { // off already: no notice
		t.Fatalf("ResetTOTP of an account without MFA: %v", err)
	}
	env.s.Shutdown(ctx)
	secrets := []string{u.secret, v.secret}
	secrets = append(append(secrets, u.recovery...), v.recovery...)
	var offs int
	for _, m := range env.box.all() {
		if m.Subject == subjectOff {
			offs++
		}
		if m.Subject != subjectOn && m.Subject != subjectOff {
			continue
		}
		for _, s := range secrets {
			if strings.Contains(m.Text+m.HTML, s) {
				t.Errorf("the notice %q holds a secret or recovery code", m.Subject)
			}
		}
		if strings.Contains(m.Text+m.HTML, "http") {
			t.Errorf("the notice %q holds a link:\n%s", m.Subject, m.Text)
		}
	}
	if offs != 2 {
		t.Errorf("%d notices of MFA turned off; want 2 (none for the reset of an account without MFA)", offs)
	}
}
