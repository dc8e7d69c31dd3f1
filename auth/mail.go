package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"net/url"
	"strings"
	texttemplate "text/template"
)

// mailWorkers is how many goroutines at most send queued mail at once.
const mailWorkers = 4

// Message is one mail: to one address, with a subject and a plain-text
// and an HTML part.
type Message struct {
	To      string // the recipient's address
	Subject string
	Text    string // the text/plain part
	HTML    string // the text/html part
}

// Mailer sends mail. The Service calls Send off the request path, from
// its mail queue (see Config.Mailer), never while an HTTP answer waits.
// Implementations must be safe for concurrent use; an error is logged and
// recorded as an [EventMailFailed], and changes no answer. A Send that
// panics is recovered: its message is recorded as failed, the stack is
// logged at level Error, and the queue goes on.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// LogMailer is a [Mailer] for development: it writes each message, links
// included, to its Logger at level Info, and sends nothing. Its log holds
// live one-time links: never use it in production.
type LogMailer struct {
	Logger *slog.Logger // default: slog.Default()
}

// Send logs m.
func (l LogMailer) Send(ctx context.Context, m Message) error {
	log := l.Logger
	if log == nil {
		log = slog.Default()
	}
	log.LogAttrs(ctx, slog.LevelInfo, "mail (not sent: development mailer)",
		slog.String("to", m.To), slog.String("subject", m.Subject), slog.String("text", m.Text))
	return nil
}

// MailKind names a message the Service sends.
type MailKind string

// The messages of the account flows.
const (
	MailVerifyEmail     MailKind = "verify_email"     // a link that verifies the address it is sent to
	MailResetPassword   MailKind = "reset_password"   // a link that sets a new password
	MailPasswordChanged MailKind = "password_changed" // a notice that the password was changed or reset
	MailConfirmEmail    MailKind = "confirm_email"    // a link, to the new address, that confirms an email change
	MailEmailChanging   MailKind = "email_changing"   // a notice, to the old address, that a change was asked for
	MailMFAEnabled      MailKind = "mfa_enabled"      // a notice that two-factor login was turned on
	MailMFADisabled     MailKind = "mfa_disabled"     // a notice that two-factor login was turned off
)

// MailData is what a [MailTemplate] is executed with.
type MailData struct {
	Kind     MailKind
	Name     string // the user's display name
	Email    string // the address the message goes to
	NewEmail string // for MailEmailChanging: the address asked for
	Link     string // for the link messages: the link, with its token
	Expires  string // for the link messages: how long the link lives ("1 hour")
}

// MailTemplate renders one kind of message: each of its templates is
// executed with a [MailData]. Subject and Text are text/template
// templates; HTML is an html/template template, which escapes what it
// inserts.
type MailTemplate struct {
	Subject *texttemplate.Template
	Text    *texttemplate.Template
	HTML    *htmltemplate.Template
}

// render executes t with d into a Message to d.Email.
func (t MailTemplate) render(d MailData) (Message, error) {
	var subject, text, html bytes.Buffer
	if err := t.Subject.Execute(&subject, d); err != nil {
		return Message{}, fmt.Errorf("subject: %w", err)
	}
	if err := t.Text.Execute(&text, d); err != nil {
		return Message{}, fmt.Errorf("text: %w", err)
	}
	if err := t.HTML.Execute(&html, d); err != nil {
		return Message{}, fmt.Errorf("html: %w", err)
	}
	return Message{To: d.Email, Subject: subject.String(), Text: text.String(), HTML: html.String()}, nil
}

// newMailTemplate parses the three templates of a default message.
func newMailTemplate(kind MailKind, subject, text, html string) MailTemplate {
	name := string(kind)
	return MailTemplate{
		Subject: texttemplate.Must(texttemplate.New(name).Parse(subject)),
		Text:    texttemplate.Must(texttemplate.New(name).Parse(text)),
		HTML:    htmltemplate.Must(htmltemplate.New(name).Parse(html)),
	}
}

// DefaultMailTemplates returns the templates the Service uses for the
// kinds that Config.MailTemplates does not set: short English messages.
func DefaultMailTemplates() map[MailKind]MailTemplate {
	return map[MailKind]MailTemplate{
		MailVerifyEmail: newMailTemplate(MailVerifyEmail,
			"Verify your email address",
			"Hello {{.Name}},\n\nopen this link to verify your email address {{.Email}}:\n\n{{.Link}}\n\nThe link works once, for {{.Expires}}. If you did not sign up, ignore this message.\n",
			`<p>Hello {{.Name}},</p><p>open this link to verify your email address {{.Email}}:</p><p><a href="{{.Link}}">Verify my email address</a></p><p>The link works once, for {{.Expires}}. If you did not sign up, ignore this message.</p>`),
		MailResetPassword: newMailTemplate(MailResetPassword,
			"Reset your password",
			"Hello {{.Name}},\n\nopen this link to choose a new password:\n\n{{.Link}}\n\nThe link works once, for {{.Expires}}. If you did not ask for it, ignore this message: your password stays as it is.\n",
			`<p>Hello {{.Name}},</p><p>open this link to choose a new password:</p><p><a href="{{.Link}}">Choose a new password</a></p><p>The link works once, for {{.Expires}}. If you did not ask for it, ignore this message: your password stays as it is.</p>`),
		MailPasswordChanged: newMailTemplate(MailPasswordChanged,
			"Your password was changed",
			"Hello {{.Name}},\n\nthe password of your account {{.Email}} was changed, and every session was ended. If this was not you, reset your password now.\n",
			`<p>Hello {{.Name}},</p><p>the password of your account {{.Email}} was changed, and every session was ended. If this was not you, reset your password now.</p>`),
		MailConfirmEmail: newMailTemplate(MailConfirmEmail,
			"Confirm your new email address",
			"Hello {{.Name}},\n\nopen this link to make {{.Email}} the email address of your account:\n\n{{.Link}}\n\nThe link works once, for {{.Expires}}. If you did not ask for it, ignore this message.\n",
			`<p>Hello {{.Name}},</p><p>open this link to make {{.Email}} the email address of your account:</p><p><a href="{{.Link}}">Confirm my new email address</a></p><p>The link works once, for {{.Expires}}. If you did not ask for it, ignore this message.</p>`),
		MailEmailChanging: newMailTemplate(MailEmailChanging,
			"A change of your email address was requested",
			"Hello {{.Name}},\n\na change of the email address of your account from {{.Email}} to {{.NewEmail}} was requested; it takes effect when confirmed from the new address. If this was not you, change your password now.\n",
			`<p>Hello {{.Name}},</p><p>a change of the email address of your account from {{.Email}} to {{.NewEmail}} was requested; it takes effect when confirmed from the new address. If this was not you, change your password now.</p>`),
		MailMFAEnabled: newMailTemplate(MailMFAEnabled,
			"Two-factor login was turned on",
			"Hello {{.Name}},\n\ntwo-factor login was turned on for your account {{.Email}}: logging in now takes a code from your authenticator app, or one of your recovery codes. If this was not you, change your password now.\n",
			`<p>Hello {{.Name}},</p><p>two-factor login was turned on for your account {{.Email}}: logging in now takes a code from your authenticator app, or one of your recovery codes. If this was not you, change your password now.</p>`),
		MailMFADisabled: newMailTemplate(MailMFADisabled,
			"Two-factor login was turned off",
			"Hello {{.Name}},\n\ntwo-factor login was turned off for your account {{.Email}}: logging in now takes only your password. If this was not you, change your password now and turn two-factor login on again.\n",
			`<p>Hello {{.Name}},</p><p>two-factor login was turned off for your account {{.Email}}: logging in now takes only your password. If this was not you, change your password now and turn two-factor login on again.</p>`),
	}
}

// mailTemplates returns the default templates with those of overrides in
// their place, or an error if one of overrides is of an unknown kind,
// lacks a template, or fails when executed with sample data (a field
// MailData does not have, an undefined template, HTML that html/template
// cannot escape), so that such errors show at New and not in the mail
// queue.
func mailTemplates(overrides map[MailKind]MailTemplate) (map[MailKind]MailTemplate, error) {
	t := DefaultMailTemplates()
	for kind, o := range overrides {
		if _, ok := t[kind]; !ok {
			return nil, fmt.Errorf("MailTemplates: unknown kind %q", kind)
		}
		if o.Subject == nil || o.Text == nil || o.HTML == nil {
			return nil, fmt.Errorf("MailTemplates: %s lacks a Subject, Text or HTML template", kind)
		}
		sample := MailData{Kind: kind, Name: "Ada", Email: "ada@example.com", NewEmail: "ada@example.org",
			Link: "https://example.com/link?token=t", Expires: "1 hour"}
		if _, err := o.render(sample); err != nil {
			return nil, fmt.Errorf("MailTemplates: %s: %w", kind, err)
		}
		t[kind] = o
	}
	return t, nil
}

// checkPublicURL returns the base of mail links made of u (default
// http://localhost:8080): u escaped as a URL, without a trailing slash,
// so that a path and "?token=..." can follow it.
func checkPublicURL(u string) (string, error) {
	if u == "" {
		return "http://localhost:8080", nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.Opaque != "" ||
		p.User != nil || strings.ContainsAny(u, "?#") {
		return "", errors.New("PublicURL must be an absolute http or https URL without credentials, query or fragment")
	}
	return strings.TrimSuffix(p.String(), "/"), nil
}

// sendMail renders the message of d.Kind and queues it for the Mailer;
// without a Mailer it does nothing. A message that cannot be rendered is
// recorded as failed; nothing is returned, since mail never changes an
// answer.
func (s *Service) sendMail(ctx context.Context, userID string, d MailData) {
	if s.mail == nil {
		return
	}
	if msg, ok := s.render(ctx, userID, d); ok {
		s.mail.enqueue(ctx, d.Kind, userID, msg)
	}
}

// render renders the message of d.Kind (every kind has a template: see
// mailTemplates), or records the failure and returns false.
func (s *Service) render(ctx context.Context, userID string, d MailData) (Message, bool) {
	msg, err := s.templates[d.Kind].render(d)
	if err != nil {
		s.record(ctx, Event{Kind: EventMailFailed, UserID: userID, Email: d.Email, Reason: string(d.Kind) + ": " + err.Error()})
		return Message{}, false
	}
	return msg, true
}

// Shutdown stops queueing mail and waits until the queued messages are
// handed to the Mailer, or until ctx is done (then it returns ctx.Err()).
// Call it when the service stops; mail asked for afterwards is dropped
// and recorded as failed. The rest of the Service keeps working.
func (s *Service) Shutdown(ctx context.Context) error {
	if s.mail == nil {
		return nil
	}
	return s.mail.shutdown(ctx)
}
