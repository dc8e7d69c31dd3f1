package httpauth_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"github.com/gatehouse-go/gatehouse/store/sqlitestore"
	_ "modernc.org/sqlite"
)

// stores returns one fresh instance of every shipped store that needs no
// server: memory and a SQLite file.
func stores(t *testing.T) map[string]auth.UserStore {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "e2e.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sq := sqlitestore.New(db)
	if err := sq.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return map[string]auth.UserStore{"memory": memstore.New(), "sqlite": sq}
}

// TestEndToEnd signs up, logs in and calls a protected route over a real
// listener, for every store.
func TestEndToEnd(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, store, auth.Config{})
			up := s.signup(t, "  Ada Lovelace ", " Ada@Example.COM", password)
			if up["email"] != "ada@example.com" || up["userName"] != "Ada Lovelace" {
				t.Errorf("signup returned %v; want the normalised email and trimmed name", up)
			}

			r := s.post(t, loginPath, `{"email":"ada@example.com","password":"`+password+`"}`)
			if r.status != 200 {
				t.Fatalf("login: %d %s", r.status, r.body)
			}
			in := decodeSession(t, r.body)
			if in["userId"] != up["userId"] || in["email"] != up["email"] || in["userName"] != up["userName"] {
				t.Errorf("login returned %v, signup %v", in, up)
			}

			r = s.do(t, "GET", "/api/user/me", "", "", "Authorization", "Bearer "+in["token"])
			if r.status != 200 {
				t.Fatalf("me: %d %s", r.status, r.body)
			}
			var me map[string]string
			if err := json.Unmarshal([]byte(r.body), &me); err != nil {
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
