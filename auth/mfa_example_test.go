package auth_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// The two steps of a login with TOTP on; the user's authenticator app
// is played by totp.GenerateCode, on the Service's clock.
func ExampleService_LoginTOTP() {
	ctx := context.Background()
	now := time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)
	svc, err := auth.New(memstore.New(), auth.Config{
		Secret: exampleSecret,
		Logger: slog.New(slog.DiscardHandler),
		Now:    func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	const email, password = "ada@example.com", "analytical engine 1843"
	g, err := svc.Signup(ctx, auth.NewUser{Name: "Ada", Email: email, Password: password})
	if err != nil {
		log.Fatal(err)
	}
	setup, err := svc.SetupTOTP(ctx, g.User.ID, password)
	if err != nil {
		log.Fatal(err)
	}
	code, _ := totp.GenerateCode(setup.Secret, now)
	recovery, err := svc.ConfirmTOTP(ctx, g.User.ID, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("recovery codes:", len(recovery))

	now = now.Add(30 * time.Second) // the confirmation's code is spent
	_, err = svc.Login(ctx, email, password)
	var mr *auth.MFARequiredError
	if !errors.As(err, &mr) {
		log.Fatal(err)
	}
	fmt.Println("second factor required:", errors.Is(err, auth.ErrMFARequired))

	code, _ = totp.GenerateCode(setup.Secret, now)
	login, err := svc.LoginTOTP(ctx, mr.MFAToken, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("logged in:", login.User.Email, login.User.MFA)

	// The same code again, with a new login: refused, on every replica.
	_, err = svc.Login(ctx, email, password)
	errors.As(err, &mr)
	_, err = svc.LoginTOTP(ctx, mr.MFAToken, code)
	switch {
	case errors.Is(err, auth.ErrInvalidCode):
		fmt.Println("replayed code: try the next one")
	case errors.Is(err, auth.ErrInvalidToken):
		fmt.Println("the login expired: log in again")
	case errors.Is(err, auth.ErrThrottled):
		fmt.Println("too many attempts")
	}
	// Output:
	// recovery codes: 10
	// second factor required: true
	// logged in: ada@example.com true
	// replayed code: try the next one
}
