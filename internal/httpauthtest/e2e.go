package httpauthtest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
)

// EndToEnd signs up, logs in and calls a protected route over a real
// listener, for every store.
func EndToEnd(t *testing.T, stores []Store) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			store, _, _ := st.Open(t)
			s := NewApp(t, store, auth.Config{})
			up := s.Signup(t, "  Ada Lovelace ", " Ada@Example.COM", Password)
			if up["email"] != "ada@example.com" || up["userName"] != "Ada Lovelace" {
				t.Errorf("signup returned %v; want the normalised email and trimmed name", up)
			}

			r := s.Post(t, LoginPath, `{"email":"ada@example.com","password":"`+Password+`"}`)
			if r.Status != 200 {
				t.Fatalf("login: %d %s", r.Status, r.Body)
			}
			in := DecodeSession(t, r.Body)
			if in["userId"] != up["userId"] || in["email"] != up["email"] || in["userName"] != up["userName"] {
				t.Errorf("login returned %v, signup %v", in, up)
			}

			r = s.Do(t, "GET", ProtectedPath, "", "", "Authorization", "Bearer "+in["token"])
			if r.Status != 200 {
				t.Fatalf("me: %d %s", r.Status, r.Body)
			}
			var me map[string]string
			if err := json.Unmarshal([]byte(r.Body), &me); err != nil {
				t.Fatal(err)
			}
			if me["userId"] != up["userId"] || me["email"] != "ada@example.com" || me["userName"] != "Ada Lovelace" {
				t.Errorf("me = %v", me)
			}

			u, err := store.UserByEmail(context.Background(), "ada@example.com")
			if err != nil || u.ID != up["userId"] {
				t.Fatalf("stored user %+v, %v", u, err)
			}
		})
	}
}
