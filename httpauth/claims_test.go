package httpauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestCustomClaimsShadowing: a Config.CustomClaims that returns a claim of
// the token's own under another case ("UserId" beside the userId, an
// "Exp" beside the exp) would make encoding/json, and so the verifier,
// read that claim in its place: another user's identity, a token that
// never expires or outlives a revocation; two custom claims whose names
// differ only in case ("Roles" beside "roles") would be read as either.
// Issuing fails instead, so that sign-up and login answer 500, with no
// token, and the failure is logged.
func TestCustomClaimsShadowing(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value any
	}{
		{"UserId", "victim"},
		{"SUB", "victim"},
		{"Exp", 1e10},
		{"IAT", 1e10},
		{"u\u017ferId", "victim"},    // long s: encoding/json folds it to s
		{"Roles", []string{"admin"}}, // beside "roles": a verifier would read either
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New()
			httpauthtest.NewApp(t, store, auth.Config{}).Signup(t, "Mallory", "mallory@example.com", httpauthtest.Password)
			s := httpauthtest.NewApp(t, store, auth.Config{
				CustomClaims: func(context.Context, auth.User) (map[string]any, error) {
					return map[string]any{"roles": []string{"user"}, tt.name: tt.value}, nil
				},
			})
			signup := s.Post(t, "/api/user/signup", `{"name":"Trudy","email":"trudy@example.com","password":"`+httpauthtest.Password+`"}`)
			login := s.Post(t, "/api/user/login", httpauthtest.LoginBody("mallory@example.com", httpauthtest.Password))
			for _, r := range []httpauthtest.Response{signup, login} {
				if r.Status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500; body %s", r.Status, r.Body)
				}
				if p := httpauthtest.ProblemBody(t, r); p["detail"] != "internal error" || strings.Contains(r.Body, "token") || strings.Contains(r.Body, "eyJ") {
					t.Errorf("body %s: want the bare 500 problem, no token", r.Body)
				}
			}
			if n := httpauthtest.CountUsers(t, store, "trudy@example.com"); n != 0 {
				t.Errorf("the failed sign-up stored %d account(s)", n)
			}
			if !strings.Contains(s.Logs.String(), "invalid config") {
				t.Errorf("the failure is not logged: %s", s.Logs)
			}
		})
	}
}
