package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/go-sql-driver/mysql"
)

// start runs the server on a free loopback port and returns its base URL
// and a function that stops it and reports run's result.
func start(t *testing.T, dbPath string, env map[string]string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", dbPath},
			func(k string) string { return env[k] }, log, func(a string) { addr <- a })
	}()
	select {
	case a := <-addr:
		return "http://" + a, func() error { cancel(); return <-done }
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
		return "", nil
	}
}

func call(t *testing.T, method, target, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp.StatusCode, m
}

func keys(m map[string]any) string {
	var ks []string
	for _, k := range []string{"userId", "email", "userName", "token"} {
		if _, ok := m[k]; ok {
			ks = append(ks, k)
		}
	}
	return strings.Join(ks, ",")
}

// TestQuickStart follows the README's walk-through against the real
// program, restarts it, and checks that the generated secret was kept so
// the token still works.
func TestQuickStart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "quickstart.db")
	base, stop := start(t, dbPath, nil)

	status, body := call(t, "GET", base+"/healthz", "", "")
	if status != 200 || body["status"] != "ok" {
		t.Fatalf("healthz: %d %v", status, body)
	}
	status, up := call(t, "POST", base+"/api/user/signup", "", `{"name":"admin1","email":"admin1@user.com","password":"correct horse battery staple"}`)
	if status != 200 || keys(up) != "userId,email,userName,token" || len(up) != 4 {
		t.Fatalf("signup: %d %v", status, up)
	}
	status, in := call(t, "POST", base+"/api/user/login", "", `{"email":"admin1@user.com","password":"correct horse battery staple"}`)
	if status != 200 || len(in) != 4 || in["userId"] != up["userId"] {
		t.Fatalf("login: %d %v", status, in)
	}
	token := in["token"].(string)
	status, me := call(t, "GET", base+"/api/user/me", token, "")
	if status != 200 || me["userId"] != up["userId"] || me["email"] != "admin1@user.com" || me["userName"] != "admin1" {
		t.Fatalf("me: %d %v", status, me)
	}
	if status, _ := call(t, "GET", base+"/api/user/me", "", ""); status != 401 {
		t.Errorf("me without token: %d, want 401", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	fi, err := os.Stat(dbPath + ".secret")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}

	base, stop = start(t, dbPath, nil)
	defer stop()
	if status, me := call(t, "GET", base+"/api/user/me", token, ""); status != 200 || me["userId"] != up["userId"] {
		t.Errorf("after restart: %d %v; the token should survive", status, me)
	}
	if status, _ := call(t, "POST", base+"/api/user/login", "", `{"email":"admin1@user.com","password":"correct horse battery staple"}`); status != 200 {
		t.Errorf("login after restart: %d", status)
	}
}

// TestDatabaseURLs runs the walk-through with -db set to a PostgreSQL and
// a MySQL/MariaDB URL, and checks that such a server refuses to start
// without AUTH_JWT_SECRET.
func TestDatabaseURLs(t *testing.T) {
	for name, newURL := range map[string]func(t *testing.T) string{
		"postgres": func(t *testing.T) string { return dbtest.NewPostgresDSN(t) },
		"mysql": func(t *testing.T) string {
			cfg, err := mysql.ParseDSN(dbtest.NewMySQLDSN(t))
			if err != nil {
				t.Fatal(err)
			}
			return (&url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}).String()
		},
	} {
		t.Run(name, func(t *testing.T) {
			dbURL := newURL(t)
			err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-db", dbURL},
				func(string) string { return "" }, slog.New(slog.DiscardHandler), nil)
			if err == nil || !strings.Contains(err.Error(), "AUTH_JWT_SECRET must be set") {
				t.Errorf("without AUTH_JWT_SECRET: %v, want a refusal", err)
			}

			base, stop := start(t, dbURL, map[string]string{"AUTH_JWT_SECRET": strings.Repeat("k", 32)})
			defer stop()
			status, up := call(t, "POST", base+"/api/user/signup", "", `{"name":"admin1","email":"admin1@user.com","password":"correct horse battery staple"}`)
			if status != 200 || len(up) != 4 {
				t.Fatalf("signup: %d %v", status, up)
			}
			status, in := call(t, "POST", base+"/api/user/login", "", `{"email":"ADMIN1@user.com","password":"correct horse battery staple"}`)
			if status != 200 || in["userId"] != up["userId"] {
				t.Fatalf("login: %d %v", status, in)
			}
			status, me := call(t, "GET", base+"/api/user/me", in["token"].(string), "")
			if status != 200 || me["userId"] != up["userId"] {
				t.Fatalf("me: %d %v", status, me)
			}
		})
	}
}

func TestBadDatabaseURL(t *testing.T) {
	for _, db := range []string{"redis://127.0.0.1/0", "mysql://%zz"} {
		err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-db", db},
			func(string) string { return strings.Repeat("k", 32) }, slog.New(slog.DiscardHandler), nil)
		if err == nil {
			t.Errorf("-db %s: started", db)
		}
	}
}

// TestSecretFromEnvironment checks that AUTH_JWT_SECRET is used as is, that
// no secret file is written, and that a short one is refused.
func TestSecretFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "env.db")
	base, stop := start(t, dbPath, map[string]string{"AUTH_JWT_SECRET": strings.Repeat("s", 32)})
	status, up := call(t, "POST", base+"/api/user/signup", "", `{"name":"a","email":"a@example.com","password":"correct horse battery staple"}`)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if status != 200 {
		t.Fatalf("signup: %d %v", status, up)
	}
	if _, err := os.Stat(dbPath + ".secret"); !os.IsNotExist(err) {
		t.Errorf("a secret file was written although AUTH_JWT_SECRET was set (%v)", err)
	}

	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-db", dbPath},
		func(string) string { return "too short" }, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("short secret: %v, want an error saying 32 bytes are needed", err)
	}
}
