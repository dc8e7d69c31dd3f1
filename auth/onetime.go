package auth

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/throttle"
)

// The purposes of one-time tokens (OneTimeToken.Purpose), each with its
// page in the links (under Config.PublicURL) and its mail.
const (
	purposeVerifyEmail   = "verify_email"
	purposeResetPassword = "reset_password"
	purposeChangeEmail   = "change_email"
)

// linkPaths are the pages of the application that the links of each
// purpose open.
var linkPaths = map[string]string{
	purposeVerifyEmail:   "/verify-email",
	purposeResetPassword: "/reset-password",
	purposeChangeEmail:   "/confirm-email",
}

// oneTimeTokenLen is the length of a one-time token: 32 random bytes in
// unpadded base64url.
const oneTimeTokenLen = 43

var (
	errNoAccounts  = fmt.Errorf("auth: the store has no account flows (auth.AccountStore): %w", errors.ErrUnsupported)
	errNoMailer    = fmt.Errorf("auth: no Mailer is configured (Config.Mailer): %w", errors.ErrUnsupported)
	errNoPasswords = fmt.Errorf("auth: the store cannot change passwords (auth.PasswordStore): %w", errors.ErrUnsupported)
)

// linkTTLs checks the lifetimes of cfg's links and returns them by
// purpose, defaults filled in.
func linkTTLs(cfg Config) (map[string]time.Duration, error) {
	ttl := map[string]time.Duration{
		purposeVerifyEmail:   cfg.VerifyEmailTTL,
		purposeResetPassword: cfg.ResetPasswordTTL,
		purposeChangeEmail:   cfg.ChangeEmailTTL,
	}
	def := map[string]time.Duration{
		purposeVerifyEmail:   24 * time.Hour,
		purposeResetPassword: time.Hour,
		purposeChangeEmail:   time.Hour,
	}
	for p, d := range ttl {
		switch {
		case d < 0:
			return nil, errors.New("negative VerifyEmailTTL, ResetPasswordTTL or ChangeEmailTTL")
		case d == 0:
			ttl[p] = def[p]
		}
	}
	return ttl, nil
}

// newLink stores a one-time token of the purpose for u, bound to the
// normalised email it is sent to, and returns the link that carries it.
// The token is 256 bits from Config.Rand; the store keeps only its
// SHA-256.
func (s *Service) newLink(ctx context.Context, purpose string, u User, email string) (string, error) {
	var raw [32]byte
	if err := s.random(raw[:]); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now()
	err := s.accounts.CreateOneTimeToken(ctx, OneTimeToken{
		// A plain hash, as for refresh tokens: the token has 256 bits.
		Hash:      refreshHash(tok),
		Purpose:   purpose,
		UserID:    u.ID,
		Email:     email,
		CreatedAt: now,
		ExpiresAt: now.Add(s.linkTTL[purpose]),
	})
	if err != nil {
		return "", fmt.Errorf("auth: storing one-time token: %w", err)
	}
	return s.publicURL + linkPaths[purpose] + "?token=" + tok, nil
}

// useLink spends the one-time token tok of the purpose and returns it
// with its account. Every refusal is ErrInvalidLink, recorded as an
// EventOneTimeTokenRejected with its reason: a malformed, unknown or
// spent token; an expired one (spent all the same); or, for a token
// bound to the account's address (every purpose but change_email, whose
// address is the new one), one sent to an address the account no longer
// has. An empty tok is a *FieldError for "token". Store failures are
// returned wrapped.
func (s *Service) useLink(ctx context.Context, purpose, tok string) (OneTimeToken, User, error) {
	reject := func(reason, userID string) (OneTimeToken, User, error) {
		s.record(ctx, Event{Kind: EventOneTimeTokenRejected, UserID: userID, Reason: purpose + " link " + reason})
		return OneTimeToken{}, User{}, ErrInvalidLink
	}
	switch {
	case tok == "":
		return OneTimeToken{}, User{}, &FieldError{Field: "token", Reason: "required"}
	case len(tok) != oneTimeTokenLen || !isTokenText(tok) || strings.Contains(tok, "."):
		return reject("malformed", "")
	}
	t, err := s.accounts.UseOneTimeToken(ctx, refreshHash(tok), purpose)
	switch {
	case errors.Is(err, ErrNotFound):
		return reject("unknown or spent", "")
	case err != nil:
		return OneTimeToken{}, User{}, fmt.Errorf("auth: using one-time token: %w", err)
	case !s.now().Before(t.ExpiresAt):
		return reject("expired", t.UserID)
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	switch {
	case errors.Is(err, ErrNotFound):
		return reject("of a deleted account", t.UserID)
	case err != nil:
		return OneTimeToken{}, User{}, lookupError(err)
	case purpose != purposeChangeEmail && u.Email != t.Email:
		return reject("for an address the account no longer has", t.UserID)
	}
	return t, u, nil
}

// rejectStale records the refusal of a link whose account changed its
// address after useLink read it, and returns ErrInvalidLink.
func (s *Service) rejectStale(ctx context.Context, t OneTimeToken) error {
	s.record(ctx, Event{Kind: EventOneTimeTokenRejected, UserID: t.UserID, Reason: t.Purpose + " link for an address the account no longer has"})
	return ErrInvalidLink
}

// mailLink stores a one-time token of the purpose for u, bound to email,
// and queues the mail of kind with its link to email. It returns the
// error of storing the token; the mail's fate is recorded, not returned.
func (s *Service) mailLink(ctx context.Context, kind MailKind, purpose string, u User, email string) error {
	d, err := s.linkMail(ctx, kind, purpose, u, email)
	if err != nil {
		return err
	}
	s.sendMail(ctx, u.ID, d)
	return nil
}

// linkMail stores a one-time token of the purpose for u, bound to email,
// and returns the mail of kind to email with its link.
func (s *Service) linkMail(ctx context.Context, kind MailKind, purpose string, u User, email string) (MailData, error) {
	link, err := s.newLink(ctx, purpose, u, email)
	if err != nil {
		return MailData{}, err
	}
	return MailData{Kind: kind, Name: u.Name, Email: email, Link: link, Expires: durationText(s.linkTTL[purpose])}, nil
}

// sendVerification queues a verification mail to u's address, at
// sign-up: a failure is recorded as an EventMailFailed, never returned.
func (s *Service) sendVerification(ctx context.Context, u User) {
	if err := s.mailLink(ctx, MailVerifyEmail, purposeVerifyEmail, u, u.Email); err != nil {
		s.record(ctx, Event{Kind: EventMailFailed, UserID: u.ID, Email: u.Email, Reason: string(MailVerifyEmail) + ": " + err.Error()})
		return
	}
	s.record(ctx, Event{Kind: EventVerificationRequested, UserID: u.ID, Email: u.Email})
}

// notify queues the notice of kind to u's address, if a Mailer is
// configured.
func (s *Service) notify(ctx context.Context, kind MailKind, u User, newEmail string) {
	s.sendMail(ctx, u.ID, MailData{Kind: kind, Name: u.Name, Email: u.Email, NewEmail: newEmail})
}

// deliver renders the message of d and hands it to the Mailer, from a job
// of the mail queue q.
func (s *Service) deliver(ctx context.Context, q *mailQueue, userID string, d MailData) {
	if msg, ok := s.render(ctx, userID, d); ok {
		q.send(ctx, d.Kind, userID, msg)
	}
}

// dropLinks deletes the user's one-time tokens of the purposes, logging
// a failure: for a change that makes them pointless, where a leftover
// token is refused anyway or harmless.
func (s *Service) dropLinks(ctx context.Context, userID string, purposes ...string) {
	for _, p := range purposes {
		if err := s.accounts.DeleteOneTimeTokens(ctx, userID, p); err != nil {
			s.log.LogAttrs(ctx, slog.LevelWarn, "auth: deleting one-time tokens failed",
				slog.String("user_id", userID), slog.String("purpose", p), slog.String("error", err.Error()))
		}
	}
}

// durationText writes d for a mail: "1 hour", "24 hours", "30 minutes".
func durationText(d time.Duration) string {
	n, unit := int64(d/time.Second), "second"
	switch {
	case d%time.Hour == 0:
		n, unit = int64(d/time.Hour), "hour"
	case d%time.Minute == 0:
		n, unit = int64(d/time.Minute), "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return strconv.FormatInt(n, 10) + " " + unit
}

// The limits of the account flows, each counted in Config.Attempts by a
// Limiter of its own (see [Service.NewLimiter]): a key is refused once
// it has had the limit with no pause of the window between them, until
// the window has passed since the latest.
const (
	resendLimit             = 3  // verification mails on request, per user
	forgotEmailLimit        = 3  // reset requests per normalised email, known or not
	forgotClientLimit       = 20 // reset requests per client address (WithClientIP)
	flowLimitWindow         = time.Hour
	resendLimiterName       = "verify-resend"
	forgotEmailLimiterName  = "forgot-email"
	forgotClientLimiterName = "forgot-client"
)

// flowLimits are the Limiters of the account flows.
type flowLimits struct {
	resend       *throttle.Limiter // by user ID
	forgotEmail  *throttle.Limiter // by normalised email
	forgotClient *throttle.Limiter // by client address
}

func (s *Service) newFlowLimits() (flowLimits, error) {
	var l flowLimits
	var err error
	if l.resend, err = s.NewLimiter(resendLimiterName, resendLimit, flowLimitWindow); err != nil {
		return l, err
	}
	if l.forgotEmail, err = s.NewLimiter(forgotEmailLimiterName, forgotEmailLimit, flowLimitWindow); err != nil {
		return l, err
	}
	l.forgotClient, err = s.NewLimiter(forgotClientLimiterName, forgotClientLimit, flowLimitWindow)
	return l, err
}

// acquire counts an event for key on l, or returns the *ThrottledError
// that refuses it, or the Store's error.
func acquire(ctx context.Context, l *throttle.Limiter, key string) error {
	release, err := l.Acquire(ctx, key)
	if err != nil {
		return err
	}
	return release(true)
}

// forgetThrottling deletes the throttling state of the deleted account u
// that can be named: its login counters for the caller's client (its
// device token's device and its address) and for calls without an
// address, its account-wide login counters of the current window, its
// resend counter and the reset-request counter of its address. Failures
// are logged: the account is gone already, and the counters expire.
func (s *Service) forgetThrottling(ctx context.Context, u User) {
	now := s.now()
	clients := []string{"unknown"}
	if c, _ := s.loginClient(ctx, u.Email, now); c != "unknown" { // a device or an address
		clients = append(clients, c)
	}
	if addr := clientAddress(ctx); addr != "" && addr != clients[len(clients)-1] {
		clients = append(clients, addr)
	}
	errs := []error{
		s.login.Reset(ctx, now, u.Email, clients...),
		s.limits.resend.Reset(ctx, u.ID),
		s.limits.forgotEmail.Reset(ctx, u.Email),
	}
	if err := errors.Join(errs...); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "auth: forgetting the throttling state of a deleted account failed",
			slog.String("user_id", u.ID), slog.String("error", err.Error()))
	}
}
