package httpauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
)

// TestCustomClaimsShadowing: a Config.CustomClaims that returns a claim of
// the token's own under another case ("UserId" beside the userId, an
// "Exp" beside the exp) would make encoding/json, and so the verifier,
// read that claim in its place: another user's identity, a token that
// never expires or outlives a revocation. Issuing fails instead, so that
// sign-up and login answer 500, with no token, and the failure is logged.
func TestCustomClaimsShadowing(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value any
	}{
		{"UserId", "victim"},
		{"SUB", "victim"},
		{"Exp", 1e10},
		{"IAT", 1e10},
		{"u\u017ferId", "victim"}, // long s: encoding/json folds it to s
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := memstore.New()
			newServer(t, store, auth.Config{}).signup(t, "Mallory", "mallory@example.com", password)
			s := newServer(t, store, auth.Config{
				CustomClaims: func(context.Context, auth.User) (map[string]any, error) {
					return map[string]any{"roles": []string{"user"}, tt.name: tt.value}, nil
				},
			})
			signup := s.post(t, "/api/user/signup", `{"name":"Trudy","email":"trudy@example.com","password":"`+password+`"}`)
			login := s.post(t, "/api/user/login", loginBody("mallory@example.com", password))
			for _, r := range []response{signup, login} {
				if r.status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500; body %s", r.status, r.body)
				}
				if p := problemBody(t, r); p["detail"] != "internal error" || strings.Contains(r.body, "token") || strings.Contains(r.body, "eyJ") {
					t.Errorf("body %s: want the bare 500 problem, no token", r.body)
				}
			}
			if n := countUsers(t, store, "trudy@example.com"); n != 0 {
				t.Errorf("the failed sign-up stored %d account(s)", n)
			}
			if !strings.Contains(s.logs.String(), "invalid config") {
				t.Errorf("the failure is not logged: %s", s.logs)
			}
		})
	}
}
