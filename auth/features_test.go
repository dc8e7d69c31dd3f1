package auth_test

import (
	"log/slog"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestFeatures checks that Features reports what the Config and the store
// allow.
func TestFeatures(t *testing.T) {
	mailer := auth.LogMailer{Logger: slog.New(slog.DiscardHandler)}
	for _, tc := range []struct {
		name  string
		store auth.UserStore
		cfg   auth.Config
		want  auth.Features
	}{
		{"plain store", newMemStore(), auth.Config{Mailer: mailer}, auth.Features{Mail: true}},
		{"memstore", memstore.New(), auth.Config{}, auth.Features{Passwords: true, Accounts: true}},
		{"revocation", memstore.New(), auth.Config{CheckRevocation: true}, auth.Features{Sessions: true, Passwords: true, Accounts: true}},
		{"everything", memstore.New(), auth.Config{RefreshTokens: true, Mailer: mailer},
			auth.Features{RefreshTokens: true, Sessions: true, Passwords: true, Accounts: true, Mail: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Secret = []byte("0123456789abcdef0123456789abcdef")
			svc, err := auth.New(tc.store, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := svc.Features(); got != tc.want {
				t.Errorf("Features() = %+v, want %+v", got, tc.want)
			}
		})
	}
}
