// Package smtpmail is an [auth.Mailer] that delivers mail to an SMTP
// server (a submission server, a relay or a mail provider's SMTP
// endpoint), built on github.com/wneessen/go-mail. It is a module of its
// own, so that a service that does not import it downloads no SMTP client.
//
// # Usage
//
//	sender, err := smtpmail.New(smtpmail.Config{
//		Host:     "smtp.example.com", // STARTTLS on port 587
//		Username: "apikey",
//		Password: os.Getenv("SMTP_PASSWORD"),
//		From:     "Example <no-reply@example.com>",
//	})
//	if err != nil { ... }
//	svc, err := auth.New(store, auth.Config{Secret: secret, Mailer: sender, PublicURL: "https://example.com"})
//
// or, from one setting such as a command-line flag:
//
//	cfg, err := smtpmail.ParseURL("smtps://apikey:secret@smtp.example.com:465")
//	cfg.From = "no-reply@example.com"
//	sender, err := smtpmail.New(cfg)
//
// # Messages
//
// Each message goes to its one recipient as multipart/alternative with
// the text part and the HTML part (text alone if the HTML part is
// empty), in UTF-8 with quoted-printable bodies; the subject and the
// From display name are encoded as RFC 2047 words when they are not
// ASCII, and control characters in them cannot start new header fields.
// Every message has a Date and a Message-ID.
//
// # Transport security
//
// [StartTLS], the default, connects in plain text and requires the
// server to offer STARTTLS before anything else is sent; [ImplicitTLS]
// speaks TLS from the first byte (SMTPS). Either checks the server's
// certificate against the system's roots (or Config.TLSConfig's) and the
// host name, and requires TLS 1.2 or later. [NoTLS] is for a server on
// the same machine (a loopback host) only, such as mailpit in
// development: [New] refuses it for any other host.
//
// # Failures and retries
//
// An attempt is bounded by Config.Timeout, and by the context of the
// [Sender.Send] call, whose end closes the connection. A temporary failure
// (a 4xx reply, a connection that cannot be made or breaks, an attempt
// that times out) is retried, up to Config.Attempts attempts in all, after
// waits of Config.RetryWait, doubled after each retry up to 30 seconds; a
// wait that the context's deadline would cut short is not started. A
// permanent failure (a 5xx reply, such as refused credentials or
// recipient, or a certificate that does not verify) is returned at once.
// Errors name the server's reply, never the password or the message.
//
// Repeated delivery is possible: when the connection breaks after the
// server took the message but before it confirmed, the retry sends it
// again.
package smtpmail
