package mailpittest

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"
)

// TestStartAndRead sends a message with net/smtp, over STARTTLS with
// AUTH, and reads it back.
func TestStartAndRead(t *testing.T) {
	s := Start(t, Options{TLS: StartTLS, Username: "relay", Password: "relay-password"})
	c, err := smtp.Dial(s.SMTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(&tls.Config{ServerName: Host, RootCAs: s.RootCAs}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "relay", "relay-password", Host)); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("from@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("to@example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: Sender <from@example.com>\r\nTo: to@example.com\r\nSubject: hello\r\n\r\nthe body\r\n"
	if _, err := w.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}

	m := s.WaitMessage(t, "to@example.com")
	if m.Subject != "hello" || strings.TrimSpace(m.Text) != "the body" || m.From.Address != "from@example.com" ||
		m.From.Name != "Sender" || len(m.To) != 1 || m.Username != "relay" {
		t.Errorf("message read back: %+v", m)
	}
	if n := len(s.Messages(t)); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}
