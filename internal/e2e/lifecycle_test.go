package e2e

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/mailpittest"
	"github.com/gatehouse-go/gatehouse/mail/smtpmail"
)

// mailpit is a real SMTP server, a mailpit of its own for each scenario,
// which the SMTP sender reaches over STARTTLS with AUTH, as in
// production. Without the mailpit binary the tests skip (fail under
// CI=true).
var mailpit = httpauthtest.Mailbox{Name: "mailpit", Open: func(t *testing.T) (auth.Mailer, httpauthtest.Inbox) {
	srv := mailpittest.Start(t, mailpittest.Options{TLS: mailpittest.StartTLS, Username: "gatehouse", Password: "mail-secret"})
	sender, err := smtpmail.New(smtpmail.Config{
		Host:      srv.Host,
		Port:      srv.SMTPPort,
		TLS:       smtpmail.StartTLS,
		TLSConfig: &tls.Config{RootCAs: srv.RootCAs},
		Username:  "gatehouse",
		Password:  "mail-secret",
		From:      "Gatehouse <no-reply@example.com>",
	})
	if err != nil {
		t.Fatal(err)
	}
	return sender, httpauthtest.Inbox{
		Count: func(t *testing.T, to string) int {
			n := 0
			for _, m := range srv.Messages(t) {
				for _, a := range m.To {
					if strings.EqualFold(a.Address, to) {
						n++
					}
				}
			}
			return n
		},
		Newest: func(t *testing.T, to string) httpauthtest.Mail {
			m := srv.WaitMessage(t, to)
			return httpauthtest.Mail{To: to, Subject: m.Subject, Text: m.Text}
		},
	}
}}

// TestLifecycle runs the account scenarios (verification, reset, email
// change, deletion, bad links) on SQLite and PostgreSQL over real HTTP,
// with the mail delivered over SMTP to mailpit and the links read back
// from it.
func TestLifecycle(t *testing.T) { httpauthtest.Lifecycle(t, sqlStores, mailpit) }
