package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/syncbuffer"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// The subjects of the default mail templates, by which tests tell the
// messages apart.
const (
	subjectVerify  = "Verify your email address"
	subjectReset   = "Reset your password"
	subjectChanged = "Your password was changed"
	subjectConfirm = "Confirm your new email address"
	subjectNotice  = "A change of your email address was requested"
)

const flowPublicURL = "https://app.example.com/base"

// mailbox is a Mailer that keeps what it is sent, for tests to take.
type mailbox struct {
	mu     sync.Mutex
	msgs   []auth.Message
	taken  []bool
	notify chan struct{}
}

func newMailbox() *mailbox { return &mailbox{notify: make(chan struct{}, 1)} }

func (b *mailbox) Send(_ context.Context, m auth.Message) error {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.taken = append(b.taken, false)
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return nil
}

// take returns the first message to to with the subject that no take
// returned before, waiting for the mail queue to deliver it.
func (b *mailbox) take(t *testing.T, to, subject string) auth.Message {
	t.Helper()
	deadline := time.After(10 * time.Second) // a lost message, not a slow one
	for {
		b.mu.Lock()
		for i, m := range b.msgs {
			if !b.taken[i] && m.To == to && m.Subject == subject {
				b.taken[i] = true
				b.mu.Unlock()
				return m
			}
		}
		b.mu.Unlock()
		select {
		case <-b.notify:
		case <-deadline:
			t.Fatalf("no mail %q to %s; got %v", subject, to, b.all())
		}
	}
}

// all returns every message sent so far.
func (b *mailbox) all() []auth.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]auth.Message(nil), b.msgs...)
}

// flowEnv is a Service with a mailbox, over a memstore (or a wrapper of
// one), recording its audit events and log.
type flowEnv struct {
	s     *auth.Service
	clk   *testclock.Clock
	box   *mailbox
	log   *syncbuffer.Buffer
	mu    sync.Mutex
	evs   []auth.Event
	store auth.UserStore
}

// newFlowEnv returns a flowEnv as e2eService configures its Service
// (refresh tokens and revocation checks on), with a mailbox as Mailer
// unless cfg.Mailer is set, over store (a new memstore if nil). When the
// test ends, it shuts the mail queue down and checks that no audit event
// or log line holds a token or link mailed, or its hash.
func newFlowEnv(t *testing.T, store auth.UserStore, cfg auth.Config) *flowEnv {
	t.Helper()
	if store == nil {
		store = memstore.New()
	}
	env := &flowEnv{clk: testclock.New(time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)), box: newMailbox(), log: new(syncbuffer.Buffer), store: store}
	cfg.Secret = []byte("an end-to-end secret, 32 bytes..")
	cfg.RefreshTokens = true
	cfg.CheckRevocation = true
	cfg.Params = password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	cfg.Now = env.clk.Now
	cfg.Logger = slog.New(slog.NewTextHandler(env.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.OnEvent = func(_ context.Context, ev auth.Event) {
		env.mu.Lock()
		env.evs = append(env.evs, ev)
		env.mu.Unlock()
	}
	if cfg.Mailer == nil {
		cfg.Mailer = env.box
	}
	cfg.PublicURL = flowPublicURL
	s, err := auth.New(store, cfg)
	if err != nil {
		t.Fatalf("auth.New: %v", err)
	}
	env.s = s
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		env.checkNoSecrets(t)
	})
	return env
}

var linkToken = regexp.MustCompile(`token=([A-Za-z0-9_-]+)`)

// checkNoSecrets fails the test if an audit event or the log holds a
// token of a link mailed, its SHA-256, or a link.
func (env *flowEnv) checkNoSecrets(t *testing.T) {
	t.Helper()
	var secrets []string
	for _, m := range env.box.all() {
		for _, sub := range linkToken.FindAllStringSubmatch(m.Text+m.HTML, -1) {
			sum := sha256.Sum256([]byte(sub[1]))
			secrets = append(secrets, sub[1], hex.EncodeToString(sum[:]))
		}
	}
	texts := strings.Split(env.log.String(), "\n")
	for _, ev := range env.events() {
		texts = append(texts, fmt.Sprintf("%+v", ev))
	}
	for _, text := range texts {
		if strings.Contains(text, "token=") || strings.Contains(text, flowPublicURL) {
			t.Errorf("audit record or log holds a link: %s", text)
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("audit record or log holds the one-time token or its hash %s: %s", s, text)
			}
		}
	}
}

// events returns the audit events recorded so far.
func (env *flowEnv) events() []auth.Event {
	env.mu.Lock()
	defer env.mu.Unlock()
	return append([]auth.Event(nil), env.evs...)
}

// lastEvent returns the latest audit event of the kind, failing the test
// if there is none.
func (env *flowEnv) lastEvent(t *testing.T, kind auth.EventKind) auth.Event {
	t.Helper()
	evs := env.events()
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == kind {
			return evs[i]
		}
	}
	t.Fatalf("no %s event among %+v", kind, evs)
	return auth.Event{}
}

// count returns how many audit events of the kind were recorded.
func (env *flowEnv) count(kind auth.EventKind) int {
	n := 0
	for _, ev := range env.events() {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// signup signs up a user with the name and email and the password
// "correct horse battery", failing the test if it fails.
func (env *flowEnv) signup(t *testing.T, name, email string) *auth.Grant {
	t.Helper()
	g, err := env.s.Signup(t.Context(), auth.NewUser{Name: name, Email: email, Password: flowPassword})
	if err != nil {
		t.Fatalf("Signup(%s): %v", email, err)
	}
	return g
}

const flowPassword = "correct horse battery"

// link takes the mail of the subject to to and returns the token of its
// link, checking that the link is PublicURL's page of path.
func (env *flowEnv) link(t *testing.T, to, subject, path string) string {
	t.Helper()
	m := env.box.take(t, to, subject)
	re := regexp.MustCompile(regexp.QuoteMeta(flowPublicURL+path+"?token=") + `([A-Za-z0-9_-]{43})\b`)
	sub := re.FindStringSubmatch(m.Text)
	if sub == nil {
		t.Fatalf("mail %q holds no link %s%s?token=T of 43 base64url characters: %s", subject, flowPublicURL, path, m.Text)
	}
	if !strings.Contains(m.HTML, sub[0]) {
		t.Errorf("the HTML part of %q lacks the link of the text part", subject)
	}
	return sub[1]
}

// wantLinkRefused fails the test unless err is ErrInvalidLink, recorded
// as a rejected one-time token with a reason that contains reason.
func (env *flowEnv) wantLinkRefused(t *testing.T, what string, err error, reason string) {
	t.Helper()
	if !errors.Is(err, auth.ErrInvalidLink) {
		t.Fatalf("%s: err = %v; want ErrInvalidLink", what, err)
	}
	if ev := env.lastEvent(t, auth.EventOneTimeTokenRejected); !strings.Contains(ev.Reason, reason) {
		t.Errorf("%s: rejection recorded with reason %q; want one saying %q", what, ev.Reason, reason)
	}
}

func wantThrottledErr(t *testing.T, what string, err error) {
	t.Helper()
	var te *throttle.ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, auth.ErrThrottled) || te.RetryAfter <= 0 {
		t.Fatalf("%s: err = %v; want a *throttle.ThrottledError", what, err)
	}
}

func TestVerifyEmail(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "Ada@Example.com")
	if g.User.EmailVerified {
		t.Error("a new account is verified")
	}
	if c, err := env.s.VerifyToken(ctx, g.Token); err != nil || c.EmailVerified {
		t.Errorf("sign-up token: claims %+v, %v; want email_verified false", c, err)
	}
	tok := env.link(t, "ada@example.com", subjectVerify, "/verify-email")
	if env.count(auth.EventVerificationRequested) != 1 {
		t.Errorf("sign-up recorded %d verification requests, want 1", env.count(auth.EventVerificationRequested))
	}

	if err := env.s.VerifyEmail(ctx, tok); err != nil {
		t.Fatalf("VerifyEmail: %v", err)
	}
	if ev := env.lastEvent(t, auth.EventEmailVerified); ev.UserID != g.User.ID || ev.Email != "ada@example.com" {
		t.Errorf("event %+v", ev)
	}
	u, err := env.s.User(ctx, g.User.ID)
	if err != nil || !u.EmailVerified || u.PasswordHash != "" {
		t.Errorf("User after verification = %+v, %v; want verified, without hash", u, err)
	}
	login, err := env.s.Login(ctx, "ada@example.com", flowPassword)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := env.s.VerifyToken(ctx, login.Token); err != nil || !c.EmailVerified {
		t.Errorf("token after verification: claims %+v, %v; want email_verified true", c, err)
	}
	env.wantLinkRefused(t, "the link used again", env.s.VerifyEmail(ctx, tok), "unknown or spent")

	for _, tt := range []struct{ name, tok, reason string }{
		{"short", tok[:42], "malformed"},
		{"with a dot", tok[:42] + ".", "malformed"},
		{"unknown", strings.Repeat("A", 43), "unknown or spent"},
	} {
		env.wantLinkRefused(t, tt.name, env.s.VerifyEmail(ctx, tt.tok), tt.reason)
	}
	err = env.s.VerifyEmail(ctx, "")
	var fe *auth.FieldError
	if !errors.As(err, &fe) || fe.Field != "token" {
		t.Errorf("VerifyEmail(\"\") = %v; want a FieldError for token", err)
	}
}

// TestLinksAreSingleUse checks that of two concurrent uses of one link,
// exactly one succeeds, for each kind of link.
func TestLinksAreSingleUse(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	for _, tt := range []struct {
		name string
		ask  func(t *testing.T) string // returns a link's token
		use  func(tok string) error
	}{
		{"verify",
			func(t *testing.T) string { return env.link(t, "ada@example.com", subjectVerify, "/verify-email") },
			func(tok string) error { return env.s.VerifyEmail(ctx, tok) }},
		{"change",
			func(t *testing.T) string {
				if err := env.s.RequestEmailChange(ctx, g.User.ID, flowPassword, "ada@new.example"); err != nil {
					t.Fatal(err)
				}
				return env.link(t, "ada@new.example", subjectConfirm, "/confirm-email")
			},
			func(tok string) error { return env.s.ConfirmEmailChange(ctx, tok) }},
		{"reset",
			func(t *testing.T) string {
				if err := env.s.ForgotPassword(ctx, "ada@new.example"); err != nil {
					t.Fatal(err)
				}
				return env.link(t, "ada@new.example", subjectReset, "/reset-password")
			},
			func(tok string) error { return env.s.ResetPassword(ctx, tok, "a brand new passphrase") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok := tt.ask(t)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Go(func() { errs[i] = tt.use(tok) })
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, auth.ErrInvalidLink):
					t.Errorf("the losing use: %v; want ErrInvalidLink", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d of 2 concurrent uses succeeded (%v); want exactly 1", ok, errs)
			}
		})
	}
}

// TestLinkExpiry checks that a link is refused from its expiry on, and
// spent by the refusal.
func TestLinkExpiry(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  auth.Config
		ttl  time.Duration
		text string
	}{
		{"default 24 hours", auth.Config{}, 24 * time.Hour, "24 hours"},
		{"configured 90 minutes", auth.Config{VerifyEmailTTL: 90 * time.Minute}, 90 * time.Minute, "90 minutes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newFlowEnv(t, nil, tt.cfg)
			env.signup(t, "Ada", "ada@example.com")
			m := env.box.take(t, "ada@example.com", subjectVerify)
			if !strings.Contains(m.Text, tt.text) {
				t.Errorf("mail says nothing of the link's life of %s: %s", tt.text, m.Text)
			}
			tok := linkToken.FindStringSubmatch(m.Text)[1]
			env.clk.Add(tt.ttl)
			env.wantLinkRefused(t, "at expiry", env.s.VerifyEmail(t.Context(), tok), "expired")
			env.clk.Add(-time.Minute)
			env.wantLinkRefused(t, "back before expiry", env.s.VerifyEmail(t.Context(), tok), "unknown or spent")
		})
	}
	env := newFlowEnv(t, nil, auth.Config{})
	env.signup(t, "Ada", "ada@example.com")
	tok := env.link(t, "ada@example.com", subjectVerify, "/verify-email")
	env.clk.Add(24*time.Hour - time.Microsecond)
	if err := env.s.VerifyEmail(t.Context(), tok); err != nil {
		t.Errorf("VerifyEmail just before expiry: %v", err)
	}
}

// TestLinksBoundToAddress checks that a link sent to an address works
// only while the account has that address.
func TestLinksBoundToAddress(t *testing.T) {
	ctx := t.Context()
	t.Run("verify link after an email change", func(t *testing.T) {
		env := newFlowEnv(t, nil, auth.Config{})
		g := env.signup(t, "Ada", "ada@example.com")
		verify := env.link(t, "ada@example.com", subjectVerify, "/verify-email")
		if err := env.s.RequestEmailChange(ctx, g.User.ID, flowPassword, "ada@new.example"); err != nil {
			t.Fatal(err)
		}
		if err := env.s.ConfirmEmailChange(ctx, env.link(t, "ada@new.example", subjectConfirm, "/confirm-email")); err != nil {
			t.Fatal(err)
		}
		if err := env.s.VerifyEmail(ctx, verify); !errors.Is(err, auth.ErrInvalidLink) {
			t.Errorf("old verify link after an email change: %v; want ErrInvalidLink", err)
		}
	})
	for _, tt := range []struct {
		name, subject, path string
		ask                 func(env *flowEnv, userID string) error
		use                 func(env *flowEnv, tok string) error
	}{
		{"verify", subjectVerify, "/verify-email",
			func(env *flowEnv, userID string) error { return env.s.ResendVerification(ctx, userID) },
			func(env *flowEnv, tok string) error { return env.s.VerifyEmail(ctx, tok) }},
		{"reset", subjectReset, "/reset-password",
			func(env *flowEnv, _ string) error { return env.s.ForgotPassword(ctx, "ada@example.com") },
			func(env *flowEnv, tok string) error { return env.s.ResetPassword(ctx, tok, "a brand new passphrase") }},
	} {
		t.Run(tt.name+" link after the address changed in the store", func(t *testing.T) {
			store := memstore.New()
			env := newFlowEnv(t, store, auth.Config{})
			g := env.signup(t, "Ada", "ada@example.com")
			env.box.take(t, "ada@example.com", subjectVerify)
			if err := tt.ask(env, g.User.ID); err != nil {
				t.Fatal(err)
			}
			tok := env.link(t, "ada@example.com", tt.subject, tt.path)
			if err := store.UpdateEmail(ctx, g.User.ID, "ada@example.com", "ada@other.example", false); err != nil {
				t.Fatal(err)
			}
			env.wantLinkRefused(t, "link to the old address", tt.use(env, tok), "no longer has")
		})
	}
}

func TestResendVerification(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := auth.WithClientIP(t.Context(), netip.MustParseAddr("192.0.2.1"))
	g := env.signup(t, "Ada", "ada@example.com")
	first := env.link(t, "ada@example.com", subjectVerify, "/verify-email")
	var resent []string
	for i := range 3 {
		if err := env.s.ResendVerification(ctx, g.User.ID); err != nil {
			t.Fatalf("resend %d: %v", i+1, err)
		}
		resent = append(resent, env.link(t, "ada@example.com", subjectVerify, "/verify-email"))
		env.clk.Add(time.Minute)
	}
	wantThrottledErr(t, "a fourth resend within the hour", env.s.ResendVerification(ctx, g.User.ID))
	if ev := env.lastEvent(t, auth.EventThrottled); ev.Reason != "limit verify-resend" {
		t.Errorf("throttled resend recorded with reason %q", ev.Reason)
	}
	env.clk.Add(time.Hour)
	if err := env.s.ResendVerification(ctx, g.User.ID); err != nil {
		t.Fatalf("resend an hour later: %v", err)
	}
	resent = append(resent, env.link(t, "ada@example.com", subjectVerify, "/verify-email"))

	// Every link works until one is used; then the others are gone.
	if err := env.s.VerifyEmail(ctx, resent[1]); err != nil {
		t.Fatal(err)
	}
	if err := env.s.VerifyEmail(ctx, first); !errors.Is(err, auth.ErrInvalidLink) {
		t.Errorf("another link after verification: %v; want ErrInvalidLink", err)
	}
	before := len(env.box.all())
	if err := env.s.ResendVerification(ctx, g.User.ID); err != nil {
		t.Errorf("resend for a verified address = %v; want nil", err)
	}
	if err := env.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(env.box.all()); n != before {
		t.Errorf("resend for a verified address sent %d mails", n-before)
	}
	if _, err := env.s.User(ctx, "no such user"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("User(unknown) = %v; want ErrNotFound", err)
	}
	if err := env.s.ResendVerification(ctx, "no such user"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("ResendVerification(unknown) = %v; want ErrNotFound", err)
	}
}

func TestRequireVerifiedEmail(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{RequireVerifiedEmail: true})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	if _, err := env.s.Login(ctx, "ada@example.com", "not the password"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("wrong password for an unverified account: %v; want ErrInvalidCredentials", err)
	}
	if _, err := env.s.Login(ctx, "ada@example.com", flowPassword); !errors.Is(err, auth.ErrEmailNotVerified) {
		t.Errorf("right password for an unverified account: %v; want ErrEmailNotVerified", err)
	}
	if ev := env.lastEvent(t, auth.EventLoginFailed); ev.Reason != "email not verified" || ev.UserID != g.User.ID {
		t.Errorf("refusal recorded as %+v", ev)
	}
	if err := env.s.VerifyEmail(ctx, env.link(t, "ada@example.com", subjectVerify, "/verify-email")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.Login(ctx, "ada@example.com", flowPassword); err != nil {
		t.Errorf("login once verified: %v", err)
	}
}

func TestForgotAndResetPassword(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	const next = "a brand new passphrase"
	g := env.signup(t, "Ada", "ada@example.com")
	other, err := env.s.Login(ctx, "ada@example.com", flowPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.s.ForgotPassword(ctx, " ADA@example.com "); err != nil {
		t.Fatal(err)
	}
	if ev := env.lastEvent(t, auth.EventResetRequested); ev.Email != "ada@example.com" || ev.UserID != "" {
		t.Errorf("request recorded as %+v; want the normalised email and no user", ev)
	}
	older := env.link(t, "ada@example.com", subjectReset, "/reset-password")
	if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	tok := env.link(t, "ada@example.com", subjectReset, "/reset-password")

	// A password the policy refuses leaves the link usable.
	for _, pw := range []string{"short", "password123", "ada@example.com"} {
		var fe *auth.FieldError
		if err := env.s.ResetPassword(ctx, tok, pw); !errors.As(err, &fe) || fe.Field != "password" {
			t.Errorf("ResetPassword(%q) = %v; want a FieldError for password", pw, err)
		}
	}
	if err := env.s.ResetPassword(ctx, tok, next); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	if ev := env.lastEvent(t, auth.EventPasswordReset); ev.UserID != g.User.ID {
		t.Errorf("reset recorded as %+v", ev)
	}
	env.box.take(t, "ada@example.com", subjectChanged)
	env.wantLinkRefused(t, "the link used again", env.s.ResetPassword(ctx, tok, next+"!"), "unknown or spent")
	env.wantLinkRefused(t, "an older reset link", env.s.ResetPassword(ctx, older, next+"!"), "unknown or spent")

	// Every session ends; older access tokens are refused.
	for _, grant := range []*auth.Grant{g, other} {
		if _, err := env.s.Refresh(ctx, grant.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("refresh of a session from before the reset: %v; want ErrInvalidToken", err)
		}
		if _, err := env.s.VerifyToken(ctx, grant.Token); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("access token from before the reset: %v; want ErrInvalidToken", err)
		}
	}
	if _, err := env.s.Login(ctx, "ada@example.com", flowPassword); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("login with the old password: %v", err)
	}
	login, err := env.s.Login(ctx, "ada@example.com", next)
	if err != nil {
		t.Fatalf("login with the new password: %v", err)
	}
	if !login.User.EmailVerified {
		t.Error("the address is not verified after a reset by a link sent to it")
	}
	if _, err := env.s.VerifyToken(ctx, login.Token); err != nil {
		t.Errorf("a token after the reset: %v", err)
	}

	// An unknown address: the same answer, no mail.
	if err := env.s.ForgotPassword(ctx, "nobody@example.com"); err != nil {
		t.Errorf("ForgotPassword(unknown) = %v; want nil", err)
	}
	var fe *auth.FieldError
	if err := env.s.ForgotPassword(ctx, "not an address"); !errors.As(err, &fe) || fe.Field != "email" {
		t.Errorf("ForgotPassword(invalid) = %v; want a FieldError for email", err)
	}
	if err := env.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range env.box.all() {
		if m.To == "nobody@example.com" {
			t.Errorf("mail sent to an unknown address: %+v", m)
		}
	}
}

// callLog is a memstore that records the store calls made, in order,
// each with whether it was made under a context that can be cancelled:
// the calls of a request, not those of the mail queue's jobs, which run
// under a context without cancellation (see the mail queue's
// enqueueJob).
type callLog struct {
	*memstore.Store
	mu    sync.Mutex
	calls []storeCall
}

// storeCall is a call a callLog recorded.
type storeCall struct {
	name      string
	onRequest bool // made under a context that can be cancelled
}

func (s *callLog) add(ctx context.Context, call string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, storeCall{name: call, onRequest: ctx.Done() != nil})
}

// takeCalls returns the calls recorded since the last take, and forgets
// them.
func (s *callLog) takeCalls() []storeCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := s.calls
	s.calls = nil
	return calls
}

// take returns the names of the calls recorded since the last take, on
// and off the request path, and forgets them.
func (s *callLog) take() (on, off []string) {
	for _, c := range s.takeCalls() {
		if c.onRequest {
			on = append(on, c.name)
		} else {
			off = append(off, c.name)
		}
	}
	return on, off
}

// takeAll returns the names of all the calls recorded since the last
// take, in order, as one string, and forgets them.
func (s *callLog) takeAll() string {
	var names []string
	for _, c := range s.takeCalls() {
		names = append(names, c.name)
	}
	return fmt.Sprint(names)
}

func (s *callLog) UserByEmail(ctx context.Context, email string) (auth.User, error) {
	s.add(ctx, "UserByEmail")
	return s.Store.UserByEmail(ctx, email)
}

func (s *callLog) UserByID(ctx context.Context, id string) (auth.User, error) {
	s.add(ctx, "UserByID")
	return s.Store.UserByID(ctx, id)
}

func (s *callLog) SessionGeneration(ctx context.Context, id string) (int64, error) {
	s.add(ctx, "SessionGeneration")
	return s.Store.SessionGeneration(ctx, id)
}

func (s *callLog) CreateRefreshToken(ctx context.Context, t auth.RefreshToken, gen int64) error {
	s.add(ctx, "CreateRefreshToken")
	return s.Store.CreateRefreshToken(ctx, t, gen)
}

func (s *callLog) CreateOneTimeToken(ctx context.Context, t auth.OneTimeToken) error {
	s.add(ctx, "CreateOneTimeToken")
	return s.Store.CreateOneTimeToken(ctx, t)
}

func (s *callLog) TOTP(ctx context.Context, id string) (auth.TOTP, error) {
	s.add(ctx, "TOTP")
	return s.Store.TOTP(ctx, id)
}

func (s *callLog) Attempts(ctx context.Context, key string) (throttle.Attempts, error) {
	s.add(ctx, "Attempts")
	return s.Store.Attempts(ctx, key)
}

func (s *callLog) AddAttempt(ctx context.Context, key string, now time.Time, expiry time.Duration) (throttle.Attempts, error) {
	s.add(ctx, "AddAttempt")
	return s.Store.AddAttempt(ctx, key, now, expiry)
}

func (s *callLog) ResetAttempts(ctx context.Context, key string) error {
	s.add(ctx, "ResetAttempts")
	return s.Store.ResetAttempts(ctx, key)
}

// TestForgotPasswordSameWork checks that a reset request does the same
// store calls on the request path whether or not an account has the
// address, and leaves the lookup and the token to the mail queue.
func TestForgotPasswordSameWork(t *testing.T) {
	store := &callLog{Store: memstore.New()}
	env := newFlowEnv(t, store, auth.Config{})
	ctx, cancel := context.WithCancel(auth.WithClientIP(t.Context(), netip.MustParseAddr("192.0.2.1")))
	defer cancel()
	env.signup(t, "Ada", "ada@example.com")
	env.box.take(t, "ada@example.com", subjectVerify)
	store.take()

	if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	env.box.take(t, "ada@example.com", subjectReset)
	knownOn, knownOff := store.take()
	if err := env.s.ForgotPassword(ctx, "nobody@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := env.s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	unknownOn, unknownOff := store.take()

	if fmt.Sprint(knownOn) != fmt.Sprint(unknownOn) {
		t.Errorf("store calls on the request path:\n known   %v\n unknown %v\nwant the same", knownOn, unknownOn)
	}
	for _, call := range knownOn {
		if call != "Attempts" && call != "AddAttempt" {
			t.Errorf("request path calls %s; want only the throttle's counters", call)
		}
	}
	if fmt.Sprint(knownOff) != "[UserByEmail CreateOneTimeToken]" || fmt.Sprint(unknownOff) != "[UserByEmail]" {
		t.Errorf("store calls off the request path: known %v, unknown %v; want the lookup (and the token for a known address)", knownOff, unknownOff)
	}
}

func TestForgotPasswordThrottling(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	client := func(ip string) context.Context {
		return auth.WithClientIP(t.Context(), netip.MustParseAddr(ip))
	}
	// Per address, known or not: 3 from any clients.
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		for i := range 3 {
			if err := env.s.ForgotPassword(client(fmt.Sprintf("192.0.2.%d", i+1)), email); err != nil {
				t.Fatalf("request %d for %s: %v", i+1, email, err)
			}
		}
		wantThrottledErr(t, "a fourth request for "+email, env.s.ForgotPassword(client("192.0.2.99"), email))
	}
	if ev := env.lastEvent(t, auth.EventThrottled); ev.Reason != "limit forgot-email" {
		t.Errorf("throttled request recorded with reason %q", ev.Reason)
	}
	// Per client: 20 for any addresses; a refused request counts for
	// no address.
	ctx := client("2001:db8::1")
	for i := range 20 {
		if err := env.s.ForgotPassword(ctx, fmt.Sprintf("user%d@example.com", i)); err != nil {
			t.Fatalf("request %d from one client: %v", i+1, err)
		}
	}
	wantThrottledErr(t, "a 21st request from one /64", env.s.ForgotPassword(client("2001:db8::2"), "user20@example.com"))
	for i := range 3 {
		if err := env.s.ForgotPassword(client("192.0.2.50"), "user20@example.com"); err != nil {
			t.Fatalf("request %d from another client for an address refused to the first: %v", i+1, err)
		}
	}
	env.clk.Add(time.Hour)
	if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

// TestResetEndsLoginsInFlight checks that a password reset landing
// while a login runs ends the login: it fails, or its tokens do not
// work. The reset lands after the login's first read of the account, or
// after its second, the read of the hash it checks (which then matches);
// a revocation lands after each later read.
func TestResetEndsLoginsInFlight(t *testing.T) {
	for _, tt := range []struct {
		name  string
		reads int // reads of the account before the reset lands
	}{
		{"after the account is found", 0},
		{"after the hash is read", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			store := &interleavingStore{Store: memstore.New()}
			env := newFlowEnv(t, store, auth.Config{})
			g := env.signup(t, "Ada", "ada@example.com")
			if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
				t.Fatal(err)
			}
			tok := env.link(t, "ada@example.com", subjectReset, "/reset-password")
			armAtRead(store, tt.reads, func() {
				if err := env.s.ResetPassword(ctx, tok, "a brand new passphrase"); err != nil {
					t.Errorf("ResetPassword: %v", err)
				}
			}, func() {
				if err := env.s.RevokeSessions(ctx, g.User.ID); err != nil {
					t.Error(err)
				}
			})
			login, err := env.s.Login(ctx, "ada@example.com", flowPassword)
			store.arm(nil)
			if env.count(auth.EventPasswordReset) != 1 {
				t.Fatal("the reset did not land during the login")
			}
			env.clk.Add(1)
			if err != nil {
				if !errors.Is(err, auth.ErrInvalidCredentials) {
					t.Fatalf("login in flight: %v; want success or ErrInvalidCredentials", err)
				}
				return
			}
			if _, err := env.s.Refresh(ctx, login.RefreshToken); err == nil {
				t.Error("the refresh token of a login in flight during a reset works after it")
			}
			if _, err := env.s.VerifyToken(ctx, login.Token); err == nil {
				t.Error("the access token of a login in flight during a reset is accepted after it")
			}
		})
	}
}

func TestChangePasswordSendsNotice(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	reset := env.link(t, "ada@example.com", subjectReset, "/reset-password")
	if _, err := env.s.ChangePassword(ctx, g.User.ID, flowPassword, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	m := env.box.take(t, "ada@example.com", subjectChanged)
	if !strings.Contains(m.Text, "Ada") {
		t.Errorf("notice does not name its user: %s", m.Text)
	}
	if err := env.s.ResetPassword(ctx, reset, "another new passphrase"); !errors.Is(err, auth.ErrInvalidLink) {
		t.Errorf("a reset link from before a password change: %v; want ErrInvalidLink", err)
	}
}

func TestDisabledAccount(t *testing.T) {
	store := memstore.New()
	env := newFlowEnv(t, store, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	if err := env.s.DisableUser(ctx, g.User.ID); err != nil {
		t.Fatal(err)
	}
	if ev := env.lastEvent(t, auth.EventUserDisabled); ev.UserID != g.User.ID {
		t.Errorf("disabling recorded as %+v", ev)
	}
	if _, err := env.s.Login(ctx, "ada@example.com", "not the password"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("wrong password for a disabled account: %v; want ErrInvalidCredentials", err)
	}
	if _, err := env.s.Login(ctx, "ada@example.com", flowPassword); !errors.Is(err, auth.ErrAccountDisabled) {
		t.Errorf("right password for a disabled account: %v; want ErrAccountDisabled", err)
	}
	if ev := env.lastEvent(t, auth.EventLoginFailed); ev.Reason != "account disabled" {
		t.Errorf("refusal recorded as %+v", ev)
	}
	if _, err := env.s.VerifyToken(ctx, g.Token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("access token of a disabled account: %v; want ErrInvalidToken", err)
	}
	if _, err := env.s.Refresh(ctx, g.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("refresh of a disabled account's session: %v; want ErrInvalidToken", err)
	}

	if err := env.s.EnableUser(ctx, g.User.ID); err != nil {
		t.Fatal(err)
	}
	login, err := env.s.Login(ctx, "ada@example.com", flowPassword)
	if err != nil {
		t.Fatalf("login once enabled: %v", err)
	}
	// Disabled in the store alone, sessions untouched: Refresh refuses.
	if err := store.SetDisabled(ctx, g.User.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := env.s.Refresh(ctx, login.RefreshToken); !errors.Is(err, auth.ErrAccountDisabled) {
		t.Errorf("Refresh of a disabled account = %v; want ErrAccountDisabled", err)
	}
	for _, err := range []error{env.s.DisableUser(ctx, "nobody"), env.s.EnableUser(ctx, "nobody"), env.s.DeleteUser(ctx, "nobody"), env.s.SetPassword(ctx, "nobody", "a brand new passphrase")} {
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("operator call for an unknown user: %v; want ErrNotFound", err)
		}
	}
}

func TestEmailChange(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	env.signup(t, "Bob", "bob@example.com")
	var fe *auth.FieldError
	for _, tt := range []struct {
		name, password, email string
		want                  func(error) bool
	}{
		{"wrong password", "not the password", "ada@new.example", func(err error) bool { return errors.Is(err, auth.ErrInvalidCredentials) }},
		{"taken", flowPassword, "BOB@example.com", func(err error) bool { return errors.Is(err, auth.ErrDuplicateEmail) }},
		{"the current one", flowPassword, " Ada@Example.com", func(err error) bool { return errors.As(err, &fe) && fe.Field == "newEmail" }},
		{"invalid", flowPassword, "not an address", func(err error) bool { return errors.As(err, &fe) && fe.Field == "newEmail" }},
		{"no password", "", "ada@new.example", func(err error) bool { return errors.As(err, &fe) && fe.Field == "password" }},
	} {
		if err := env.s.RequestEmailChange(ctx, g.User.ID, tt.password, tt.email); !tt.want(err) {
			t.Errorf("%s: RequestEmailChange = %v", tt.name, err)
		}
	}
	if err := env.s.RequestEmailChange(ctx, g.User.ID, flowPassword, "Ada@New.Example"); err != nil {
		t.Fatal(err)
	}
	tok := env.link(t, "ada@new.example", subjectConfirm, "/confirm-email")
	if m := env.box.take(t, "ada@example.com", subjectNotice); !strings.Contains(m.Text, "ada@new.example") {
		t.Errorf("notice to the old address does not name the new one: %s", m.Text)
	}
	if u, _ := env.s.User(ctx, g.User.ID); u.Email != "ada@example.com" {
		t.Errorf("email changed before confirmation: %s", u.Email)
	}
	if err := env.s.ConfirmEmailChange(ctx, tok); err != nil {
		t.Fatalf("ConfirmEmailChange: %v", err)
	}
	if ev := env.lastEvent(t, auth.EventEmailChanged); ev.UserID != g.User.ID || ev.Email != "ada@new.example" {
		t.Errorf("change recorded as %+v", ev)
	}
	u, err := env.s.User(ctx, g.User.ID)
	if err != nil || u.Email != "ada@new.example" || !u.EmailVerified {
		t.Errorf("User after the change = %+v, %v; want the new address, verified", u, err)
	}
	login, err := env.s.Login(ctx, "ada@new.example", flowPassword)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := env.s.VerifyToken(ctx, login.Token); err != nil || c.Email != "ada@new.example" || !c.EmailVerified {
		t.Errorf("token after the change: %+v, %v", c, err)
	}
	env.signup(t, "Another Ada", "ada@example.com") // the old address is free

	// An address taken between request and confirmation.
	if err := env.s.RequestEmailChange(ctx, g.User.ID, flowPassword, "carol@example.com"); err != nil {
		t.Fatal(err)
	}
	tok = env.link(t, "carol@example.com", subjectConfirm, "/confirm-email")
	env.signup(t, "Carol", "carol@example.com")
	if err := env.s.ConfirmEmailChange(ctx, tok); !errors.Is(err, auth.ErrDuplicateEmail) {
		t.Errorf("confirming an address taken meanwhile: %v; want ErrDuplicateEmail", err)
	}
	if u, _ := env.s.User(ctx, g.User.ID); u.Email != "ada@new.example" {
		t.Errorf("email after a refused change = %s", u.Email)
	}
}

// TestWrongPasswordsThrottled checks that the password checks of
// RequestEmailChange and DeleteAccount are counted and throttled as
// logins of the account.
func TestWrongPasswordsThrottled(t *testing.T) {
	ctx := t.Context()
	for _, tt := range []struct {
		name  string
		check func(s *auth.Service, userID, password string) error
	}{
		{"email change", func(s *auth.Service, userID, password string) error {
			return s.RequestEmailChange(ctx, userID, password, "ada@new.example")
		}},
		{"delete", func(s *auth.Service, userID, password string) error { return s.DeleteAccount(ctx, userID, password) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newFlowEnv(t, nil, auth.Config{})
			g := env.signup(t, "Ada", "ada@example.com")
			for i := range 5 {
				if err := tt.check(env.s, g.User.ID, "not the password"); !errors.Is(err, auth.ErrInvalidCredentials) {
					t.Fatalf("wrong password %d: %v; want ErrInvalidCredentials", i+1, err)
				}
			}
			wantThrottledErr(t, "a sixth at once", tt.check(env.s, g.User.ID, flowPassword))
			if _, err := env.s.Login(ctx, "ada@example.com", flowPassword); !errors.Is(err, auth.ErrThrottled) {
				t.Errorf("login from the same client: %v; want it throttled too", err)
			}
			env.clk.Add(time.Second)
			if err := tt.check(env.s, g.User.ID, flowPassword); err != nil {
				t.Errorf("right password after the backoff: %v", err)
			}
		})
	}
}

func TestDeleteAccount(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{
		LoginThrottle: throttle.LoginConfig{BackoffAfter: -1, MaxClientFailures: 2, MaxAccountFailures: 3},
	})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	owner := auth.WithDeviceToken(ctx, g.DeviceToken)
	// Strangers exhaust the account-wide limit and the reset requests.
	// (MaxAccountFailures 3: two failures from one address, one from another.)
	for _, ip := range []string{"198.51.100.1", "198.51.100.1", "198.51.100.2"} {
		if _, err := env.s.Login(auth.WithClientIP(ctx, netip.MustParseAddr(ip)), "ada@example.com", "not the password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatal(err)
		}
	}
	stranger := auth.WithClientIP(ctx, netip.MustParseAddr("198.51.100.3"))
	if _, err := env.s.Login(stranger, "ada@example.com", flowPassword); !errors.Is(err, auth.ErrThrottled) {
		t.Fatalf("login after the account limit: %v; want it throttled", err)
	}
	for range 3 {
		if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
			t.Fatal(err)
		}
	}

	if err := env.s.DeleteAccount(owner, g.User.ID, "not the password"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Errorf("DeleteAccount with a wrong password = %v; want ErrInvalidCredentials", err)
	}
	if err := env.s.DeleteAccount(owner, g.User.ID, flowPassword); err != nil {
		t.Fatalf("DeleteAccount: %v", err)
	}
	if ev := env.lastEvent(t, auth.EventUserDeleted); ev.UserID != g.User.ID || ev.Reason != "by its user" {
		t.Errorf("deletion recorded as %+v", ev)
	}
	if _, err := env.s.User(ctx, g.User.ID); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("User after deletion: %v; want ErrNotFound", err)
	}
	if _, err := env.s.VerifyToken(ctx, g.Token); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("access token of a deleted account: %v; want ErrInvalidToken, not a store failure", err)
	}
	if ev := env.lastEvent(t, auth.EventTokenRejected); ev.UserID != g.User.ID {
		t.Errorf("rejected token of a deleted account recorded as %+v", ev)
	}
	if _, err := env.s.Refresh(ctx, g.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("refresh of a deleted account: %v; want ErrInvalidToken", err)
	}

	// The address is free, and its throttling state gone.
	again := env.signup(t, "Ada again", "ada@example.com")
	if again.User.ID == g.User.ID {
		t.Error("the new account has the old ID")
	}
	if _, err := env.s.Login(stranger, "ada@example.com", flowPassword); err != nil {
		t.Errorf("login to the new account from a new client: %v; want the old account's limit gone", err)
	}
	if err := env.s.ForgotPassword(ctx, "ada@example.com"); err != nil {
		t.Errorf("reset request for the new account: %v; want the old account's count gone", err)
	}
	if err := env.s.DeleteUser(ctx, again.User.ID); err != nil {
		t.Fatal(err)
	}
	if ev := env.lastEvent(t, auth.EventUserDeleted); ev.Reason != "by an operator" {
		t.Errorf("operator deletion recorded as %+v", ev)
	}
}

func TestSetPassword(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	var fe *auth.FieldError
	if err := env.s.SetPassword(ctx, g.User.ID, "Ada"); !errors.As(err, &fe) || fe.Field != "password" {
		t.Errorf("SetPassword(weak) = %v; want a FieldError for password", err)
	}
	if err := env.s.SetPassword(ctx, g.User.ID, "an operator's passphrase"); err != nil {
		t.Fatal(err)
	}
	if ev := env.lastEvent(t, auth.EventPasswordSet); ev.UserID != g.User.ID {
		t.Errorf("recorded as %+v", ev)
	}
	env.box.take(t, "ada@example.com", subjectChanged)
	if _, err := env.s.Refresh(ctx, g.RefreshToken); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("session from before SetPassword: %v; want it ended", err)
	}
	if _, err := env.s.Login(ctx, "ada@example.com", "an operator's passphrase"); err != nil {
		t.Errorf("login with the password set: %v", err)
	}
}

func TestUpdateName(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	g := env.signup(t, "Ada", "ada@example.com")
	u, err := env.s.UpdateName(ctx, g.User.ID, "  Ada Lovelace\u0301 ")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Ada Lovelacé" || u.PasswordHash != "" || u.ID != g.User.ID {
		t.Errorf("UpdateName = %+v; want the trimmed NFC name, no hash", u)
	}
	if ev := env.lastEvent(t, auth.EventProfileUpdated); ev.UserID != g.User.ID {
		t.Errorf("recorded as %+v", ev)
	}
	var fe *auth.FieldError
	for _, name := range []string{"", "   ", "a\x00b", strings.Repeat("x", 101)} {
		if _, err := env.s.UpdateName(ctx, g.User.ID, name); !errors.As(err, &fe) || fe.Field != "name" {
			t.Errorf("UpdateName(%q) = %v; want a FieldError for name", name, err)
		}
	}
	if _, err := env.s.UpdateName(ctx, "nobody", "Ada"); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("UpdateName(unknown) = %v; want ErrNotFound", err)
	}
}

func TestListUsers(t *testing.T) {
	env := newFlowEnv(t, nil, auth.Config{})
	ctx := t.Context()
	want := map[string]bool{}
	for i := range 5 {
		want[env.signup(t, "User", fmt.Sprintf("user%d@example.com", i)).User.ID] = true
	}
	var pages [][]auth.User
	after := ""
	for {
		users, next, err := env.s.ListUsers(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, users)
		if next == "" {
			break
		}
		if next != users[len(users)-1].ID || len(pages) > 5 {
			t.Fatalf("next = %q after a page ending with %q", next, users[len(users)-1].ID)
		}
		after = next
	}
	var last string
	var sizes []int
	for _, page := range pages {
		sizes = append(sizes, len(page))
		for _, u := range page {
			if !want[u.ID] || u.ID <= last || u.PasswordHash != "" || u.Email == "" {
				t.Errorf("listed %+v after %q", u, last)
			}
			delete(want, u.ID)
			last = u.ID
		}
	}
	if fmt.Sprint(sizes) != "[2 2 1]" || len(want) != 0 {
		t.Errorf("pages of %v, %d users unlisted; want [2 2 1], none", sizes, len(want))
	}
	// A page that ends exactly with the last user is the last.
	if users, next, err := env.s.ListUsers(ctx, "", 5); len(users) != 5 || next != "" || err != nil {
		t.Errorf("ListUsers of all 5 by 5 = %d users, next %q, %v; want 5, \"\"", len(users), next, err)
	}
	var fe *auth.FieldError
	for _, limit := range []int{0, -1, 1001} {
		if _, _, err := env.s.ListUsers(ctx, "", limit); !errors.As(err, &fe) || fe.Field != "limit" {
			t.Errorf("ListUsers(limit %d) = %v; want a FieldError for limit", limit, err)
		}
	}
	if users, _, err := env.s.ListUsers(ctx, "", 1000); len(users) != 5 || err != nil {
		t.Errorf("ListUsers(limit 1000) = %d users, %v", len(users), err)
	}
}

// TestFlowsUnsupported checks that the flows that need a Mailer, or an
// AccountStore, say so with errors.ErrUnsupported.
func TestFlowsUnsupported(t *testing.T) {
	ctx := t.Context()
	cfg := auth.Config{Secret: []byte("an end-to-end secret, 32 bytes.."), Logger: slog.New(slog.DiscardHandler),
		Params: password.Params{Memory: 7168, Iterations: 5, Parallelism: 1, SaltLen: 16, KeyLen: 32}}
	noMailer, err := auth.New(memstore.New(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := noMailer.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: flowPassword})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"ResendVerification": noMailer.ResendVerification(ctx, g.User.ID),
		"ForgotPassword":     noMailer.ForgotPassword(ctx, "ada@example.com"),
		"RequestEmailChange": noMailer.RequestEmailChange(ctx, g.User.ID, flowPassword, "ada@new.example"),
	} {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s without a Mailer = %v; want errors.ErrUnsupported", name, err)
		}
	}
	if err := noMailer.DisableUser(ctx, g.User.ID); err != nil {
		t.Errorf("DisableUser without a Mailer, sessions untracked: %v", err)
	}

	cfg.Mailer = newMailbox()
	plain, err := auth.New(newMemStore(), cfg) // a UserStore without the account flows
	if err != nil {
		t.Fatal(err)
	}
	g, err = plain.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: flowPassword})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := plain.User(ctx, g.User.ID); err != nil || u.Email != "ada@example.com" {
		t.Errorf("User on a plain UserStore = %+v, %v", u, err)
	}
	_, updateErr := plain.UpdateName(ctx, g.User.ID, "Ada")
	_, _, listErr := plain.ListUsers(ctx, "", 10)
	for name, err := range map[string]error{
		"UpdateName":         updateErr,
		"VerifyEmail":        plain.VerifyEmail(ctx, strings.Repeat("A", 43)),
		"ResendVerification": plain.ResendVerification(ctx, g.User.ID),
		"ForgotPassword":     plain.ForgotPassword(ctx, "ada@example.com"),
		"ResetPassword":      plain.ResetPassword(ctx, strings.Repeat("A", 43), "a brand new passphrase"),
		"RequestEmailChange": plain.RequestEmailChange(ctx, g.User.ID, flowPassword, "ada@new.example"),
		"ConfirmEmailChange": plain.ConfirmEmailChange(ctx, strings.Repeat("A", 43)),
		"DeleteAccount":      plain.DeleteAccount(ctx, g.User.ID, flowPassword),
		"DisableUser":        plain.DisableUser(ctx, g.User.ID),
		"EnableUser":         plain.EnableUser(ctx, g.User.ID),
		"DeleteUser":         plain.DeleteUser(ctx, g.User.ID),
		"SetPassword":        plain.SetPassword(ctx, g.User.ID, "a brand new passphrase"),
		"ListUsers":          listErr,
	} {
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s without an AccountStore = %v; want errors.ErrUnsupported", name, err)
		}
	}
}

// TestFlowConfig checks the defaults and refusals of the flows' Config
// fields.
func TestFlowConfig(t *testing.T) {
	for _, cfg := range []auth.Config{
		{VerifyEmailTTL: -1},
		{ResetPasswordTTL: -time.Hour},
		{ChangeEmailTTL: -time.Second},
	} {
		cfg.Secret = []byte("an end-to-end secret, 32 bytes..")
		if _, err := auth.New(memstore.New(), cfg); !errors.Is(err, auth.ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v; want ErrInvalidConfig", cfg, err)
		}
	}
	env := newFlowEnv(t, nil, auth.Config{})
	env.signup(t, "Ada", "ada@example.com")
	if err := env.s.ForgotPassword(t.Context(), "ada@example.com"); err != nil {
		t.Fatal(err)
	}
	if m := env.box.take(t, "ada@example.com", subjectReset); !strings.Contains(m.Text, "1 hour") {
		t.Errorf("reset mail does not say the link lives 1 hour: %s", m.Text)
	}
	tok := env.link(t, "ada@example.com", subjectVerify, "/verify-email")
	env.clk.Add(24*time.Hour + time.Second)
	if n, err := env.s.PruneSessions(t.Context()); n != 2 || err != nil {
		t.Errorf("PruneSessions a day later = %d, %v; want the 2 one-time tokens", n, err)
	}
	env.clk.Add(-25 * time.Hour)
	if err := env.s.VerifyEmail(t.Context(), tok); !errors.Is(err, auth.ErrInvalidLink) {
		t.Errorf("a pruned link: %v; want ErrInvalidLink", err)
	}
}
