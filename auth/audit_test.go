package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// TestAuditEvents walks through every kind of audit event and checks what
// reaches the hook and the logger, and what never does.
func TestAuditEvents(t *testing.T) {
	var logs bytes.Buffer
	var (
		mu     sync.Mutex
		events []Event
	)
	clk := testclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	secret := []byte("audit secret, at least 32 bytes long!")
	s := newTestService(t, newFakeStore(), Config{
		Secret:        secret,
		Now:           clk.Now,
		LoginThrottle: throttle.LoginConfig{BackoffAfter: 2},
		Logger:        slog.New(slog.NewJSONHandler(&logs, nil)),
		OnEvent: func(_ context.Context, ev Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		},
	})
	ip := netip.MustParseAddr("203.0.113.7")
	ctx := WithClientIP(context.Background(), ip)
	const pw = "correct horse battery staple"

	sess, err := s.Signup(ctx, NewUser{Name: "Ada", Email: "Ada@Example.com", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	id := sess.User.ID
	if _, err := s.Signup(ctx, NewUser{Name: "Eve", Email: "ada@example.com", Password: pw}); !errors.Is(err, ErrDuplicateEmail) {
		t.Fatalf("duplicate sign-up: %v", err)
	}
	if _, err := s.Login(ctx, "ada@example.com", pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "ada@example.com", "wrong password 1"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if _, err := s.Login(context.Background(), "nobody@example.com", "wrong password 2"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "ada@example.com", "wrong password 3"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "ada@example.com", pw); !errors.Is(err, ErrThrottled) {
		t.Fatalf("third attempt within the backoff: %v, want ErrThrottled", err)
	}
	if _, err := s.VerifyToken(ctx, sess.Token+"x"); !errors.Is(err, ErrInvalidToken) {
		t.Fatal(err)
	}
	if _, err := s.VerifyToken(ctx, sess.Token); err != nil { // no event for a valid token
		t.Fatal(err)
	}

	want := []Event{
		{Kind: EventSignup, UserID: id, Email: "ada@example.com", ClientIP: ip},
		{Kind: EventSignupFailed, Email: "ada@example.com", ClientIP: ip, Reason: "email already registered"},
		{Kind: EventLogin, UserID: id, Email: "ada@example.com", ClientIP: ip},
		{Kind: EventLoginFailed, UserID: id, Email: "ada@example.com", ClientIP: ip, Reason: "wrong password"},
		{Kind: EventLoginFailed, Email: "nobody@example.com", Reason: "unknown email"},
		{Kind: EventLoginFailed, UserID: id, Email: "ada@example.com", ClientIP: ip, Reason: "wrong password"},
		{Kind: EventThrottled, Email: "ada@example.com", ClientIP: ip, Reason: "account backoff"},
		{Kind: EventTokenRejected, ClientIP: ip},
	}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(events), len(want), events)
	}
	for i, w := range want {
		got := events[i]
		if !got.Time.Equal(clk.Now()) {
			t.Errorf("event %d: Time %v, want the Service's clock %v", i, got.Time, clk.Now())
		}
		got.Time = time.Time{}
		if w.Kind == EventTokenRejected {
			if !strings.HasPrefix(got.Reason, "token: invalid token") {
				t.Errorf("event %d: Reason %q, want the verification error", i, got.Reason)
			}
			got.Reason = ""
		}
		if got != w {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got, w)
		}
	}

	// The log has one record per event, and nothing secret.
	out := logs.String()
	if n := strings.Count(out, `"event":`); n != len(want) {
		t.Errorf("%d log records, want %d:\n%s", n, len(want), out)
	}
	for _, secretText := range []string{pw, "wrong password 1", "$argon2id", sess.Token, string(secret),
		strings.Split(sess.Token, ".")[2]} {
		if strings.Contains(out, secretText) {
			t.Errorf("log contains %q:\n%s", secretText, out)
		}
	}
	for _, s := range []string{`"level":"WARN","msg":"auth: login_failed"`, `"client_ip":"203.0.113.7"`, `"reason":"account backoff"`} {
		if !strings.Contains(out, s) {
			t.Errorf("log lacks %s:\n%s", s, out)
		}
	}
}

// TestAuditLevels checks the level of each kind's log record, as
// SECURITY.md lists them: Warn for failures and refusals, and for
// turning two-factor authentication off; Info for the rest.
func TestAuditLevels(t *testing.T) {
	want := map[EventKind]slog.Level{
		EventSignup:                slog.LevelInfo,
		EventSignupFailed:          slog.LevelWarn,
		EventLogin:                 slog.LevelInfo,
		EventLoginFailed:           slog.LevelWarn,
		EventThrottled:             slog.LevelWarn,
		EventTokenRejected:         slog.LevelInfo,
		EventRefresh:               slog.LevelInfo,
		EventRefreshRejected:       slog.LevelInfo,
		EventRefreshReused:         slog.LevelWarn,
		EventLogout:                slog.LevelInfo,
		EventSessionsRevoked:       slog.LevelInfo,
		EventPasswordChanged:       slog.LevelInfo,
		EventPasswordUpgraded:      slog.LevelInfo,
		EventVerificationRequested: slog.LevelInfo,
		EventEmailVerified:         slog.LevelInfo,
		EventResetRequested:        slog.LevelInfo,
		EventPasswordReset:         slog.LevelInfo,
		EventEmailChangeRequested:  slog.LevelInfo,
		EventEmailChanged:          slog.LevelInfo,
		EventOneTimeTokenRejected:  slog.LevelWarn,
		EventProfileUpdated:        slog.LevelInfo,
		EventUserDeleted:           slog.LevelInfo,
		EventUserDisabled:          slog.LevelInfo,
		EventUserEnabled:           slog.LevelInfo,
		EventPasswordSet:           slog.LevelInfo,
		EventMailSent:              slog.LevelInfo,
		EventMailFailed:            slog.LevelWarn,
		EventMFASetupStarted:       slog.LevelInfo,
		EventMFAEnabled:            slog.LevelInfo,
		EventMFARequired:           slog.LevelInfo,
		EventMFALogin:              slog.LevelInfo,
		EventMFAFailed:             slog.LevelWarn,
		EventMFARecoveryUsed:       slog.LevelInfo,
		EventMFADisabled:           slog.LevelWarn,
	}
	for kind, level := range want {
		var logs bytes.Buffer
		a := auditor{log: slog.New(slog.NewJSONHandler(&logs, nil)), now: time.Now}
		a.record(context.Background(), Event{Kind: kind})
		if s := fmt.Sprintf(`"level":%q,"msg":"auth: %s"`, level.String(), kind); !strings.Contains(logs.String(), s) {
			t.Errorf("%s: log %s; want level %s", kind, logs.String(), level)
		}
	}
}
