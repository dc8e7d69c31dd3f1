package auth

import (
	"context"
	"log/slog"
	"net/netip"
	"time"
)

// EventKind names an audit event.
type EventKind string

// The audit events a Service reports (see [Event]).
const (
	EventSignup        EventKind = "signup"         // an account was created
	EventSignupFailed  EventKind = "signup_failed"  // the email was already registered
	EventLogin         EventKind = "login"          // a login without a second factor succeeded (with one: EventMFALogin)
	EventLoginFailed   EventKind = "login_failed"   // wrong password or unknown email
	EventThrottled     EventKind = "throttled"      // an attempt was refused with a throttle.ThrottledError
	EventTokenRejected EventKind = "token_rejected" // VerifyToken refused a token

	EventRefresh          EventKind = "refresh"           // a refresh token was traded for a new pair
	EventRefreshRejected  EventKind = "refresh_rejected"  // Refresh refused an unknown, expired or revoked token
	EventRefreshReused    EventKind = "refresh_reused"    // a rotated refresh token came back: its session was revoked
	EventLogout           EventKind = "logout"            // a session was ended with its refresh token
	EventSessionsRevoked  EventKind = "sessions_revoked"  // every session of a user was revoked
	EventPasswordChanged  EventKind = "password_changed"  // a password was changed
	EventPasswordUpgraded EventKind = "password_upgraded" // a stored hash was replaced with one of the current parameters

	EventVerificationRequested EventKind = "email_verification_requested" // a verification link was queued for mailing
	EventEmailVerified         EventKind = "email_verified"               // a verification link was used
	EventResetRequested        EventKind = "password_reset_requested"     // a reset was asked for (for a known or unknown email)
	EventPasswordReset         EventKind = "password_reset"               // a reset link was used: the password was set, sessions ended
	EventEmailChangeRequested  EventKind = "email_change_requested"       // a change link was queued for the new address
	EventEmailChanged          EventKind = "email_changed"                // a change link was used: the email was changed
	EventOneTimeTokenRejected  EventKind = "one_time_token_rejected"      // a link's token was unknown, spent, expired or no longer for the account's address
	EventProfileUpdated        EventKind = "profile_updated"              // the user changed their name
	EventUserDeleted           EventKind = "user_deleted"                 // an account was deleted, by its user or an operator
	EventUserDisabled          EventKind = "user_disabled"                // an operator disabled an account
	EventUserEnabled           EventKind = "user_enabled"                 // an operator enabled an account
	EventPasswordSet           EventKind = "password_set"                 // an operator set a password
	EventMailSent              EventKind = "mail_sent"                    // the Mailer accepted a message; Reason is its MailKind
	EventMailFailed            EventKind = "mail_failed"                  // a message was not sent: the queue was full or the Mailer failed

	EventMFASetupStarted EventKind = "mfa_setup_started" // a TOTP setup was started (SetupTOTP): not on until confirmed
	EventMFAEnabled      EventKind = "mfa_enabled"       // a first code confirmed a TOTP setup: two-factor authentication is on
	EventMFARequired     EventKind = "mfa_required"      // a password was correct; the login waits for a second factor
	EventMFALogin        EventKind = "mfa_login"         // a login was completed with a second factor; Reason is "totp" or "recovery code"
	EventMFAFailed       EventKind = "mfa_failed"        // a code, recovery code or mfaToken was refused; Reason says why
	EventMFARecoveryUsed EventKind = "mfa_recovery_used" // a recovery code was spent
	EventMFADisabled     EventKind = "mfa_disabled"      // two-factor authentication was turned off, by its user or an operator
)

// Event is an audit record: what happened, to which account, from where.
// It never holds a password, hash, token or secret.
type Event struct {
	Kind EventKind
	Time time.Time // the Service's clock
	// UserID is the account concerned, when one is known: not for an
	// unknown email, a throttled attempt or a rejected token.
	UserID string
	// Email is the normalised email the attempt named, if it was valid;
	// for a failed login it may belong to no account.
	Email string
	// ClientIP is the client's address as the front end determined it
	// (see [WithClientIP]); the zero Addr if none was given. httpauth
	// gives it for sign-ups and logins, but not for tokens rejected by its
	// middleware, whose hot path does no address parsing.
	ClientIP netip.Addr
	// Reason says why, for failures: "wrong password", "unknown email",
	// "email already registered", "account backoff" (the client's backoff
	// or cap for the account), "account limit" (the account-wide limit),
	// "limit <name>", or for a rejected token the verification error
	// (which never contains the token). It never quotes the request.
	Reason string
}

type clientIPKey struct{}

// WithClientIP returns a context that carries the client's address, which
// the Service copies into the [Event]s of calls made with it and by which
// Login tells clients apart for throttling (see
// Config.LoginThrottle). Package httpauth sets it; other front ends
// (gRPC, say) should too: calls without an address are all one client.
func WithClientIP(ctx context.Context, ip netip.Addr) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// auditor reports the Service's Events.
type auditor struct {
	log     *slog.Logger
	onEvent func(context.Context, Event)
	now     func() time.Time
}

// record reports ev to the Logger and OnEvent of the Config.
func (s *auditor) record(ctx context.Context, ev Event) {
	ev.Time = s.now()
	ev.ClientIP, _ = ctx.Value(clientIPKey{}).(netip.Addr)
	level := slog.LevelInfo
	switch ev.Kind {
	case EventLoginFailed, EventThrottled, EventSignupFailed, EventRefreshReused, EventMailFailed, EventOneTimeTokenRejected, EventMFAFailed, EventMFADisabled:
		level = slog.LevelWarn
	}
	if s.log.Enabled(ctx, level) {
		attrs := []slog.Attr{slog.String("event", string(ev.Kind))}
		for _, a := range [...]struct{ k, v string }{{"user_id", ev.UserID}, {"email", ev.Email}, {"reason", ev.Reason}} {
			if a.v != "" {
				attrs = append(attrs, slog.String(a.k, a.v))
			}
		}
		if ev.ClientIP.IsValid() {
			attrs = append(attrs, slog.String("client_ip", ev.ClientIP.String()))
		}
		s.log.LogAttrs(ctx, level, "auth: "+string(ev.Kind), attrs...)
	}
	if s.onEvent != nil {
		s.onEvent(ctx, ev)
	}
}
