package smtpmail_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/mail/smtpmail"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// A Sender is the Mailer of an auth.Service.
func Example() {
	sender, err := smtpmail.New(smtpmail.Config{
		Host:     "smtp.example.com", // STARTTLS on port 587
		Username: "apikey",
		Password: os.Getenv("SMTP_PASSWORD"),
		From:     "Example <no-reply@example.com>",
	})
	if err != nil {
		log.Fatal(err)
	}
	svc, err := auth.New(memstore.New(), auth.Config{
		Secret:    []byte("an example secret of 32 bytes..."),
		Mailer:    sender,
		PublicURL: "https://app.example.com",
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = svc
}

func ExampleParseURL() {
	for _, u := range []string{
		"smtp://apikey:s3cr%40t@smtp.example.com",
		"smtps://smtp.example.com:2465",
		"smtp://localhost:1025",
		"smtp://apikey:s3cr%40t@smtp.example.com/inbox",
	} {
		cfg, err := smtpmail.ParseURL(u)
		if errors.Is(err, smtpmail.ErrInvalidConfig) {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s port %d, %v, user %q, password %q\n", cfg.Host, cfg.Port, cfg.TLS, cfg.Username, cfg.Password)
	}
	// Output:
	// smtp.example.com port 0, StartTLS, user "apikey", password "s3cr@t"
	// smtp.example.com port 2465, ImplicitTLS, user "", password ""
	// localhost port 1025, NoTLS, user "", password ""
	// smtpmail: invalid config: SMTP URL: it has a path, query or fragment (want smtp://[user:password@]host:port or smtps://...)
}
