package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// chanMailer is a Mailer that hands each message to the example, where a
// real one (SMTP, say) would send it.
type chanMailer chan auth.Message

func (m chanMailer) Send(_ context.Context, msg auth.Message) error {
	m <- msg
	return nil
}

// exampleLinkToken returns the token of the link in a message's text.
func exampleLinkToken(msg auth.Message) string {
	_, after, _ := strings.Cut(msg.Text, "?token=")
	tok, _, _ := strings.Cut(after, "\n")
	return tok
}

func ExampleService_ResetPassword() {
	ctx := context.Background()
	mail := make(chanMailer, 10)
	svc, err := auth.New(memstore.New(), auth.Config{
		Secret:    exampleSecret,
		Mailer:    mail,
		PublicURL: "https://app.example.com",
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer svc.Shutdown(ctx)
	if _, err := svc.Signup(ctx, auth.NewUser{Name: "Ada", Email: "ada@example.com", Password: "analytical engine"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("1:", (<-mail).Subject)

	// The same answer whether or not an account has the address; only a
	// known one gets mail.
	fmt.Println("forgot, unknown:", svc.ForgotPassword(ctx, "nobody@example.com"))
	fmt.Println("forgot, known:", svc.ForgotPassword(ctx, "ada@example.com"))
	msg := <-mail
	fmt.Println("2:", msg.Subject, "to", msg.To)

	tok := exampleLinkToken(msg)
	err = svc.ResetPassword(ctx, tok, "difference engine")
	fmt.Println("reset:", err)
	err = svc.ResetPassword(ctx, tok, "difference engine")
	fmt.Println("again:", errors.Is(err, auth.ErrInvalidLink))
	fmt.Println("3:", (<-mail).Subject)

	_, err = svc.Login(ctx, "ada@example.com", "difference engine")
	fmt.Println("login with the new password:", err)
	// Output:
	// 1: Verify your email address
	// forgot, unknown: <nil>
	// forgot, known: <nil>
	// 2: Reset your password to ada@example.com
	// reset: <nil>
	// again: true
	// 3: Your password was changed
	// login with the new password: <nil>
}
