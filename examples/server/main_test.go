package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/token"
	"github.com/gatehouse-go/gatehouse/internal/dbtest"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/internal/mailpittest"
	"github.com/gatehouse-go/gatehouse/internal/syncbuffer"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/internal/tokentest"
)

// start runs the server on a free loopback port, with args after -addr
// and -db, and returns its base URL and a function that stops it and
// reports run's result.
func start(t *testing.T, dbPath string, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	return startAt(t, time.Now, dbPath, env, args...)
}

// startAt is start with the clock now.
func startAt(t *testing.T, now func() time.Time, dbPath string, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	return startLogging(t, t.Output(), now, dbPath, env, args...)
}

// startLogging is startAt with the server's log written to w.
func startLogging(t *testing.T, w io.Writer, now func() time.Time, dbPath string, env map[string]string, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(w, nil))
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-db", dbPath}, args...),
			func(k string) string { return env[k] }, now, log, func(a string) { addr <- a })
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
	if h := tokenHeader(t, token); h["alg"] != "HS256" || h["kid"] != nil {
		t.Errorf("token header %v, want alg HS256 and no kid", h)
	}
	if raw, keys := fetchJWKS(t, base); len(keys) != 0 {
		t.Errorf("JWKS %s, want no keys: an HS256 secret is never published", raw)
	}
	status, me := call(t, "GET", base+"/api/user/me", token, "")
	if status != 200 || me["userId"] != up["userId"] || me["email"] != "admin1@user.com" || me["userName"] != "admin1" ||
		me["emailVerified"] != false || me["mfa"] != false || me["createdAt"] == nil || len(me) != 6 {
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

// TestDatabaseFileModes starts the server on a fresh directory under
// umask 022 and signs up, so that the WAL exists: the database, its -wal
// and -shm files and the secret and key state file next to them are
// readable by their owner only.
func TestDatabaseFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dbPath := filepath.Join(t.TempDir(), "modes.db")
	base, stop := start(t, dbPath, nil)
	defer stop()
	status, up := call(t, "POST", base+"/api/user/signup", "", `{"name":"admin1","email":"admin1@user.com","password":"correct horse battery staple"}`)
	if status != 200 {
		t.Fatalf("signup: %d %v", status, up)
	}
	for _, path := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", dbPath + ".secret", dbPath + ".jwt-state.json"} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(path), fi.Mode().Perm())
		}
	}
}

// TestCreatePrivate checks how the SQLite file is prepared: created empty
// and mode 0600 if missing; used as it is if present, with a warning for
// the database, -wal or -shm file that others may read.
func TestCreatePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	create := func() {
		t.Helper()
		logs.Reset()
		if err := createPrivate(path, log); err != nil {
			t.Fatal(err)
		}
	}

	create()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 0 {
		t.Fatalf("created file: %v, %v; want empty, mode 0600", fi, err)
	}
	if err := os.WriteFile(path, []byte("contents"), 0o600); err != nil {
		t.Fatal(err)
	}
	create()
	if got, err := os.ReadFile(path); err != nil || string(got) != "contents" || logs.Len() != 0 {
		t.Errorf("existing file: %q, %v, log %q; want it untouched, no warning", got, err, logs.String())
	}

	for _, loose := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.WriteFile(loose, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(loose, 0o644); err != nil {
			t.Fatal(err)
		}
		create()
		want := `level=WARN msg="database file is readable by other users; stop the server and chmod 600 it" file=` + loose + "\n"
		if got := logs.String(); !strings.HasSuffix(got, want) || strings.Count(got, "\n") != 1 {
			t.Errorf("%s mode 0644: log %q, want one line ending %q", filepath.Base(loose), got, want)
		}
		if err := os.Chmod(loose, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	if err := createPrivate(filepath.Join(dir, "missing", "app.db"), log); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("in a missing directory: %v, want fs.ErrNotExist", err)
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
				func(string) string { return "" }, time.Now, slog.New(slog.DiscardHandler), nil)
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
			func(string) string { return strings.Repeat("k", 32) }, time.Now, slog.New(slog.DiscardHandler), nil)
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
		func(string) string { return "too short" }, time.Now, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("short secret: %v, want an error saying 32 bytes are needed", err)
	}
}

const signupBody = `{"name":"admin1","email":"admin1@user.com","password":"correct horse battery staple"}`

// TestAsymmetricAlgorithms runs the server with each asymmetric -alg on a
// fresh SQLite file: it generates a private key and keeps it (mode 0600),
// publishes only the public key, signs tokens that a verifier built from
// the published JWKS alone accepts, and reuses the key after a restart.
func TestAsymmetricAlgorithms(t *testing.T) {
	for _, tc := range []struct{ alg, keyFile string }{
		{"EdDSA", "keys.db.jwt-eddsa.pem"},
		{"ES256", "keys.db.jwt-es256.pem"},
		{"RS256", "keys.db.jwt-rs256.pem"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			dbPath := filepath.Join(dir, "keys.db")
			base, stop := start(t, dbPath, nil, "-alg", tc.alg)
			status, up := call(t, "POST", base+"/api/user/signup", "", signupBody)
			if status != 200 || len(up) != 4 {
				t.Fatalf("signup: %d %v", status, up)
			}
			token := up["token"].(string)
			raw, kid := publishedKey(t, base, tc.alg)
			if h := tokenHeader(t, token); h["alg"] != tc.alg || h["kid"] != kid {
				t.Errorf("token header %v, want alg %s and kid %s", h, tc.alg, kid)
			}
			claims, err := verifyWithJWKS(raw, token)
			if err != nil || claims.UserID != up["userId"] || claims.Email != "admin1@user.com" {
				t.Errorf("verifier built from the JWKS: %+v, %v", claims, err)
			}
			if status, me := call(t, "GET", base+"/api/user/me", token, ""); status != 200 || me["userId"] != up["userId"] {
				t.Errorf("me: %d %v", status, me)
			}
			if err := stop(); err != nil {
				t.Fatalf("graceful shutdown: %v", err)
			}

			kept := keptKey(t, filepath.Join(dir, tc.keyFile))
			if rfc7638(t, kept.Public()) != kid {
				t.Errorf("kid %s is not the RFC 7638 thumbprint of the key in %s", kid, tc.keyFile)
			}
			if k, ok := kept.(*rsa.PrivateKey); ok && k.N.BitLen() != 3072 {
				t.Errorf("generated an RSA key of %d bits, want 3072", k.N.BitLen())
			}
			if _, err := os.Stat(dbPath + ".secret"); err != nil {
				t.Errorf("the secret (for the login throttle) was not kept: %v", err)
			}

			base, stop = start(t, dbPath, nil, "-alg", tc.alg)
			defer stop()
			if status, me := call(t, "GET", base+"/api/user/me", token, ""); status != 200 || me["userId"] != up["userId"] {
				t.Errorf("after restart: %d %v; the token should survive", status, me)
			}
			if _, again := publishedKey(t, base, tc.alg); again != kid {
				t.Errorf("after restart the kid is %s, want %s: the kept key was not reused", again, kid)
			}
		})
	}
}

// TestPrivateKeyFromEnvironment checks that a PEM key in
// AUTH_JWT_PRIVATE_KEY, in each accepted encoding, signs the tokens under
// its thumbprint and that no key file is written.
func TestPrivateKeyFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		alg, blockType string
		key            crypto.Signer
	}{
		{"EdDSA", "PRIVATE KEY", newEd25519(t)},
		{"ES256", "EC PRIVATE KEY", newP256(t)},
		{"ES256", "PRIVATE KEY", newP256(t)},
		{"RS256", "RSA PRIVATE KEY", newRSA(t)},
	} {
		t.Run(tc.alg+" "+tc.blockType, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"AUTH_JWT_PRIVATE_KEY": encodePEM(t, tc.blockType, tc.key)}
			base, stop := start(t, filepath.Join(dir, "env.db"), env, "-alg", tc.alg)
			defer stop()
			_, kid := publishedKey(t, base, tc.alg)
			if want := rfc7638(t, tc.key.Public()); kid != want {
				t.Errorf("kid %s, want the key's thumbprint %s", kid, want)
			}
			status, up := call(t, "POST", base+"/api/user/signup", "", signupBody)
			if status != 200 {
				t.Fatalf("signup: %d %v", status, up)
			}
			if h := tokenHeader(t, up["token"].(string)); h["kid"] != kid || h["alg"] != tc.alg {
				t.Errorf("token header %v, want alg %s and kid %s", h, tc.alg, kid)
			}
			if pems, _ := filepath.Glob(filepath.Join(dir, "*.pem")); len(pems) != 0 {
				t.Errorf("key files written although AUTH_JWT_PRIVATE_KEY was set: %v", pems)
			}
		})
	}
}

// TestStartupRefusals checks that a bad -alg or signing key stops the
// server before it listens, with a message that says what is wrong. The
// database URLs name no reachable server: the refusal must come first.
func TestStartupRefusals(t *testing.T) {
	rsaPEM := encodePEM(t, "RSA PRIVATE KEY", newRSA(t))
	ed := newEd25519(t)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		file string // contents of the SQLite database's ES256 key file, if not empty
		want string
	}{
		{name: "unknown alg", args: []string{"-alg", "HS512"}, want: `-alg "HS512": want HS256, EdDSA, ES256 or RS256`},
		{name: "alg in lower case", args: []string{"-alg", "es256"}, want: `-alg "es256"`},
		{name: "RSA key for ES256", args: []string{"-alg", "ES256"},
			env: map[string]string{"AUTH_JWT_PRIVATE_KEY": rsaPEM}, want: "AUTH_JWT_PRIVATE_KEY holds an RS256 key, but -alg is ES256"},
		{name: "Ed25519 key for RS256", args: []string{"-alg", "RS256"},
			env: map[string]string{"AUTH_JWT_PRIVATE_KEY": encodePEM(t, "PRIVATE KEY", ed)}, want: "holds an EdDSA key, but -alg is RS256"},
		{name: "kept key of another type", args: []string{"-alg", "ES256"},
			file: encodePEM(t, "PRIVATE KEY", ed), want: "test.db.jwt-es256.pem holds an EdDSA key, but -alg is ES256"},
		{name: "previous key of another type", args: []string{"-alg", "HS256"},
			file: encodePEM(t, "PRIVATE KEY", ed), want: "test.db.jwt-es256.pem holds an EdDSA key, but its name says ES256"},
		{name: "public key", args: []string{"-alg", "EdDSA"},
			env: map[string]string{"AUTH_JWT_PRIVATE_KEY": encodePEM(t, "PUBLIC KEY", ed.Public())}, want: "the server needs the private key"},
		{name: "not PEM", args: []string{"-alg", "EdDSA"},
			env: map[string]string{"AUTH_JWT_PRIVATE_KEY": "not a key"}, want: "AUTH_JWT_PRIVATE_KEY: "},
		{name: "postgres without key", args: []string{"-alg", "ES256", "-db", "postgres://gatehouse:pw@db.invalid/app"},
			env: map[string]string{"AUTH_JWT_SECRET": strings.Repeat("k", 32)}, want: "AUTH_JWT_PRIVATE_KEY must be set for -alg ES256"},
		{name: "mysql without key", args: []string{"-alg", "EdDSA", "-db", "mysql://gatehouse:pw@db.invalid/app"},
			env: map[string]string{"AUTH_JWT_SECRET": strings.Repeat("k", 32)}, want: "AUTH_JWT_PRIVATE_KEY must be set for -alg EdDSA"},
		{name: "smtp without mail-from", args: []string{"-smtp", "smtp://localhost:1025"}, want: "-smtp needs -mail-from"},
		{name: "smtp of another scheme", args: []string{"-smtp", "http://user:s3cret@mail.example.com", "-mail-from", "a@example.com"}, want: "-smtp: "},
		{name: "smtp with a query", args: []string{"-smtp", "smtps://user:s3cret@mail.example.com?x=1", "-mail-from", "a@example.com"}, want: "-smtp: "},
		{name: "mail-from not an address", args: []string{"-smtp", "smtps://mail.example.com", "-mail-from", "not an address"}, want: "-mail-from"},
		{name: "public URL without a scheme", args: []string{"-public-url", "example.com"}, want: "PublicURL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "test.db")
			if tc.file != "" {
				if err := os.WriteFile(dbPath+".jwt-es256.pem", []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := append([]string{"-addr", "127.0.0.1:0", "-db", dbPath}, tc.args...)
			err := run(ctx, args, func(k string) string { return tc.env[k] }, time.Now,
				slog.New(slog.DiscardHandler), func(string) { t.Error("the server started"); cancel() })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error %q shows the SMTP password", err)
			}
		})
	}
}

// TestKeptFile checks the helper that keeps generated secrets: it creates
// the file once, mode 0600, reads it on later starts without generating,
// and warns when the file is readable by others.
func TestKeptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kept")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	load := func(generate func() ([]byte, error)) ([]byte, error) {
		logs.Reset()
		return loadOrCreate(path, "test secret", "TEST_SECRET", generate, log)
	}
	mustNotGenerate := func() ([]byte, error) { t.Error("generated although the file exists"); return nil, nil }

	if _, err := load(func() ([]byte, error) { return nil, errors.New("no entropy") }); err == nil || !strings.Contains(err.Error(), "no entropy") {
		t.Errorf("failing generator: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failing generator left a file: %v", err)
	}

	got, err := load(func() ([]byte, error) { return []byte("first"), nil })
	if err != nil || string(got) != "first" || !strings.Contains(logs.String(), "TEST_SECRET not set: generated") {
		t.Errorf("first start: %q, %v; log: %s", got, err, logs.String())
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kept file: %v, %v; want mode 0600", fi, err)
	}

	got, err = load(mustNotGenerate)
	if err != nil || string(got) != "first" || strings.Contains(logs.String(), "WARN") {
		t.Errorf("second start: %q, %v; log: %s", got, err, logs.String())
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	got, err = load(mustNotGenerate)
	if err != nil || string(got) != "first" || !strings.Contains(logs.String(), "level=WARN msg=\"test secret file is readable by other users") {
		t.Errorf("group-readable file: %q, %v; want a warning, log: %s", got, err, logs.String())
	}
}

// get fetches target and returns the body of its 200 response.
func get(t *testing.T, target string) []byte {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", target, resp.StatusCode, body)
	}
	return body
}

// fetchJWKS returns the server's JWKS document and its keys.
func fetchJWKS(t *testing.T, base string) ([]byte, []map[string]any) {
	t.Helper()
	raw := get(t, base+"/.well-known/jwks.json")
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Keys == nil {
		t.Fatalf("JWKS %s: %v", raw, err)
	}
	return raw, doc.Keys
}

// publishedKey checks that the server's JWKS holds exactly one key, for
// alg and without private members, and returns the document and the kid.
func publishedKey(t *testing.T, base, alg string) ([]byte, string) {
	t.Helper()
	raw, keys := fetchJWKS(t, base)
	if len(keys) != 1 {
		t.Fatalf("JWKS %s: want one key", raw)
	}
	k := keys[0]
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := k[private]; ok {
			t.Errorf("JWKS %s publishes the private member %q", raw, private)
		}
	}
	kid, _ := k["kid"].(string)
	if k["alg"] != alg || k["use"] != "sig" || kid == "" {
		t.Errorf("JWKS %s: want alg %s, use sig and a kid", raw, alg)
	}
	return raw, kid
}

// verifyWithJWKS verifies token as another service would: with a
// verifier that knows nothing but the published JWKS document.
func verifyWithJWKS(doc []byte, tok string) (*token.Claims, error) {
	keys, err := token.ParseJWKS(doc)
	if err != nil {
		return nil, err
	}
	set, err := token.NewKeySet(keys...)
	if err != nil {
		return nil, err
	}
	v, err := token.NewVerifier(set, token.Config{})
	if err != nil {
		return nil, err
	}
	return v.VerifyToken(context.Background(), tok)
}

// tokenHeader decodes the JOSE header of a JWT.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(token, ".")
	var h map[string]any
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err == nil {
		err = json.Unmarshal(b, &h)
	}
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	return h
}

// keptKey reads the private key the server kept in path, checking that
// only the owner may read it.
func keptKey(t *testing.T, path string) crypto.Signer {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("%s does not hold a PKCS #8 PEM block", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(crypto.Signer)
}

// rfc7638 computes the RFC 7638 thumbprint of a public key independently
// of package auth: encoding/json writes a map's members sorted and without
// whitespace, which is the canonical form for these base64url values.
func rfc7638(t *testing.T, pub crypto.PublicKey) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	var jwk map[string]string
	switch k := pub.(type) {
	case ed25519.PublicKey:
		jwk = map[string]string{"crv": "Ed25519", "kty": "OKP", "x": b64(k)}
	case *ecdsa.PublicKey:
		pt, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		jwk = map[string]string{"crv": "P-256", "kty": "EC", "x": b64(pt[1:33]), "y": b64(pt[33:])}
	case *rsa.PublicKey:
		jwk = map[string]string{"e": b64(big.NewInt(int64(k.E)).Bytes()), "kty": "RSA", "n": b64(k.N.Bytes())}
	default:
		t.Fatalf("unexpected public key %T", pub)
	}
	j, err := json.Marshal(jwk)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(j)
	return b64(sum[:])
}

// encodePEM encodes key in a PEM block of blockType: "PRIVATE KEY"
// (PKCS #8), "EC PRIVATE KEY" (SEC 1), "RSA PRIVATE KEY" (PKCS #1) or
// "PUBLIC KEY" (PKIX).
func encodePEM(t *testing.T, blockType string, key any) string {
	t.Helper()
	var der []byte
	var err error
	switch blockType {
	case "PRIVATE KEY":
		der, err = x509.MarshalPKCS8PrivateKey(key)
	case "EC PRIVATE KEY":
		der, err = x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
	case "RSA PRIVATE KEY":
		der = x509.MarshalPKCS1PrivateKey(key.(*rsa.PrivateKey))
	case "PUBLIC KEY":
		der, err = x509.MarshalPKIXPublicKey(key)
	default:
		t.Fatalf("unknown PEM block type %q", blockType)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}))
}

func newEd25519(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newP256(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newRSA(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// post sends a JSON POST, with an access token unless token is empty, and
// returns the status and the body's members (nil for an empty body).
func post(t *testing.T, target, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("POST %s: body %q: %v", target, raw, err)
		}
	}
	return resp.StatusCode, m
}

// refreshPair posts body to target and checks the answer, a session with
// refresh tokens on: 200, the wire contract's four members and
// refreshToken. It returns the two tokens.
func refreshPair(t *testing.T, what, target, body string) (access, refresh string) {
	t.Helper()
	status, m := post(t, target, "", body)
	access, _ = m["token"].(string)
	refresh, _ = m["refreshToken"].(string)
	if status != 200 || keys(m) != "userId,email,userName,token" || len(m) != 5 || access == "" || refresh == "" {
		t.Fatalf("%s: %d %v; want 200 with userId, email, userName, token and refreshToken", what, status, m)
	}
	return access, refresh
}

// TestRefreshFlag runs the server with -refresh: sign-up and login return
// refresh tokens, which refresh, log out and are revoked by logout-all;
// and without it: the wire contract's four members, no refresh endpoint.
func TestRefreshFlag(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "refresh.db")
	secret := strings.Repeat("r", 32)
	env := map[string]string{"AUTH_JWT_SECRET": secret}
	base, stop := start(t, dbPath, env, "-refresh")
	const login = `{"email":"admin1@user.com","password":"correct horse battery staple"}`

	_, rt0 := refreshPair(t, "signup", base+"/api/user/signup", signupBody)
	access, rt1 := refreshPair(t, "refresh", base+"/api/user/refresh", `{"refreshToken":"`+rt0+`"}`)
	if rt1 == rt0 {
		t.Errorf("refresh returned the refresh token it was given")
	}
	status, me := call(t, "GET", base+"/api/user/me", access, "")
	if status != 200 || me["email"] != "admin1@user.com" {
		t.Fatalf("me with the refreshed access token: %d %v", status, me)
	}
	// A token of the wire contract's shape issued a minute ago, as another
	// implementation sharing the secret issues them: before the logout-all
	// below, whatever the clock's second.
	older := hs256(t, secret, map[string]any{"userId": me["userId"], "userName": "admin1", "email": "admin1@user.com",
		"iat": time.Now().Unix() - 60, "exp": time.Now().Unix() + 3540})
	if status, _ := call(t, "GET", base+"/api/user/me", older, ""); status != 200 {
		t.Fatalf("me with a token issued a minute ago: %d, want 200", status)
	}

	// Logout ends one session.
	_, other := refreshPair(t, "login", base+"/api/user/login", login)
	if status, _ := post(t, base+"/api/user/logout", "", `{"refreshToken":"`+other+`"}`); status != 204 {
		t.Errorf("logout: %d, want 204", status)
	}
	if status, _ := post(t, base+"/api/user/refresh", "", `{"refreshToken":"`+other+`"}`); status != 401 {
		t.Errorf("refresh after logout: %d, want 401", status)
	}

	// Logout-all ends the rest, and, being stateful, the access tokens
	// issued in an earlier second than it.
	if status, _ := post(t, base+"/api/user/logout-all", access, ""); status != 204 {
		t.Fatalf("logout-all: %d, want 204", status)
	}
	if status, _ := post(t, base+"/api/user/refresh", "", `{"refreshToken":"`+rt1+`"}`); status != 401 {
		t.Errorf("refresh after logout-all: %d, want 401", status)
	}
	if status, _ := call(t, "GET", base+"/api/user/me", older, ""); status != 401 {
		t.Errorf("me with an access token issued before logout-all: %d, want 401", status)
	}
	access, _ = refreshPair(t, "login after logout-all", base+"/api/user/login", login)
	if status, _ := call(t, "GET", base+"/api/user/me", access, ""); status != 200 {
		t.Errorf("me after a new login: %d, want 200", status)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// The same database without -refresh: exactly the wire contract.
	base, stop = start(t, dbPath, env)
	defer stop()
	status, in := call(t, "POST", base+"/api/user/login", "", login)
	if status != 200 || keys(in) != "userId,email,userName,token" || len(in) != 4 {
		t.Fatalf("login without -refresh: %d %v; want exactly userId, email, userName, token", status, in)
	}
	status, up := call(t, "POST", base+"/api/user/signup", "", `{"name":"b","email":"b@example.com","password":"correct horse battery staple"}`)
	if status != 200 || len(up) != 4 {
		t.Fatalf("signup without -refresh: %d %v", status, up)
	}
	if status, _ := post(t, base+"/api/user/refresh", "", `{"refreshToken":"`+rt1+`"}`); status != 404 {
		t.Errorf("/api/user/refresh without -refresh: %d, want 404", status)
	}
	// In cookie mode (the default) logout only clears the cookies.
	if status, _ := post(t, base+"/api/user/logout", "", `{"refreshToken":"`+rt1+`"}`); status != 204 {
		t.Errorf("/api/user/logout without -refresh: %d, want 204", status)
	}
	if status, _ := post(t, base+"/api/user/logout-all", in["token"].(string), ""); status != 404 {
		t.Errorf("logout-all without -refresh: %d, want 404", status)
	}
}

// hs256 signs payload as an HS256 JWT with secret, without package auth.
func hs256(t *testing.T, secret string, payload map[string]any) string {
	t.Helper()
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	signed := b64([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64(p)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signed))
	return signed + "." + b64(mac.Sum(nil))
}

// TestPruneSessions drives the server's pruning loop with its own ticks: a
// tick deletes the expired refresh tokens, and the loop returns once its
// context is done.
func TestPruneSessions(t *testing.T) {
	ctx := t.Context()
	store, closeDB, err := openStore(ctx, filepath.Join(t.TempDir(), "prune.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	clock := testclock.New(time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC))
	svc, err := auth.New(store, auth.Config{
		Secret:        []byte(strings.Repeat("k", 32)),
		RefreshTokens: true,
		Logger:        slog.New(slog.DiscardHandler),
		Now:           clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	old, err := svc.Signup(ctx, auth.NewUser{Name: "a", Email: "a@example.com", Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(31 * 24 * time.Hour) // past the default RefreshTTL of 30 days
	fresh, err := svc.Login(ctx, "a@example.com", "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	loopCtx, cancel := context.WithCancel(ctx)
	tick := make(chan time.Time)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pruneSessions(loopCtx, svc, tick, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	tick <- clock.Now()
	tick <- clock.Now() // taken only once the first tick's pruning is done
	cancel()
	<-done

	sessions := store.(auth.SessionStore)
	if _, err := sessions.RefreshToken(ctx, sha256Hex(old.RefreshToken)); !errors.Is(err, auth.ErrNotFound) {
		t.Errorf("the expired refresh token is still stored (%v)", err)
	}
	if _, err := sessions.RefreshToken(ctx, sha256Hex(fresh.RefreshToken)); err != nil {
		t.Errorf("the live refresh token was pruned: %v", err)
	}
	if !strings.Contains(logs.String(), `msg="pruned expired tokens" deleted=1`) {
		t.Errorf("log: %s; want one deletion logged", logs.String())
	}
}

// sha256Hex is how a SessionStore names a refresh token (auth.RefreshToken.Hash).
func sha256Hex(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TestSwitchAlgorithm restarts the server on one SQLite database with
// another -alg: tokens of the previous key keep working, new logins get
// tokens of the new one, and once every token the previous key signed
// has expired (tokenTTL after the switch) the previous key no longer
// verifies anything, even a token it signed with a later exp.
func TestSwitchAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		noState  bool // delete the key state file before the switch
	}{
		{from: "HS256", to: "EdDSA"},
		{from: "EdDSA", to: "HS256"},
		{from: "HS256", to: "EdDSA", noState: true},
	} {
		name := tc.from + " to " + tc.to
		if tc.noState {
			name += " without a key state file"
		}
		t.Run(name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "switch.db")
			clock := testclock.New(time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC))
			const login = `{"email":"admin1@user.com","password":"correct horse battery staple"}`

			base, stop := startAt(t, clock.Now, dbPath, nil, "-alg", tc.from)
			status, up := call(t, "POST", base+"/api/user/signup", "", signupBody)
			if status != 200 {
				t.Fatalf("signup: %d %v", status, up)
			}
			old := up["token"].(string)
			oldHeader := tokenHeader(t, old)
			if oldHeader["alg"] != tc.from {
				t.Fatalf("token header %v, want alg %s", oldHeader, tc.from)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			// A token of the previous key that outlives the switch by far:
			// only the key's removal can refuse it.
			forged := signWithKept(t, dbPath, tc.from, oldHeader["kid"], map[string]any{
				"userId": up["userId"], "userName": "admin1", "email": "admin1@user.com",
				"iat": clock.Now().Unix(), "exp": clock.Now().Add(24 * time.Hour).Unix()})

			if tc.noState {
				if err := os.Remove(dbPath + ".jwt-state.json"); err != nil {
					t.Fatal(err)
				}
			}

			clock.Add(time.Minute)
			base, stop = startAt(t, clock.Now, dbPath, nil, "-alg", tc.to)
			for name, token := range map[string]string{"token issued before the switch": old, "long-lived token of the previous key": forged} {
				if status, me := call(t, "GET", base+"/api/user/me", token, ""); status != 200 || me["userId"] != up["userId"] {
					t.Errorf("me with a %s: %d %v, want 200", name, status, me)
				}
			}
			status, in := call(t, "POST", base+"/api/user/login", "", login)
			if status != 200 {
				t.Fatalf("login after the switch: %d %v", status, in)
			}
			newHeader := tokenHeader(t, in["token"].(string))
			if newHeader["alg"] != tc.to {
				t.Errorf("token header after the switch %v, want alg %s", newHeader, tc.to)
			}
			// The JWKS publishes the asymmetric key of either side, for the
			// services verifying with it.
			_, published := fetchJWKS(t, base)
			if kid := asymmetricKid(oldHeader, newHeader); len(published) != 1 || published[0]["kid"] != kid {
				t.Errorf("JWKS after the switch: %v, want the EdDSA key %v alone", published, kid)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}

			clock.Add(tokenTTL - time.Second)
			base, stop = startAt(t, clock.Now, dbPath, nil, "-alg", tc.to)
			if status, _ := call(t, "GET", base+"/api/user/me", forged, ""); status != 200 {
				t.Errorf("me with the long-lived token a second before the previous key's tokens expire: %d, want 200", status)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}

			clock.Add(time.Second)
			base, stop = startAt(t, clock.Now, dbPath, nil, "-alg", tc.to)
			defer stop()
			if status, _ := call(t, "GET", base+"/api/user/me", forged, ""); status != 401 {
				t.Errorf("me with the long-lived token once the previous key's tokens have expired: %d, want 401", status)
			}
			status, in = call(t, "POST", base+"/api/user/login", "", login)
			if status != 200 {
				t.Fatalf("login: %d %v", status, in)
			}
			if status, _ := call(t, "GET", base+"/api/user/me", in["token"].(string), ""); status != 200 {
				t.Errorf("me with a new token: %d, want 200", status)
			}
			if _, published := fetchJWKS(t, base); tc.to == "HS256" && len(published) != 0 {
				t.Errorf("JWKS %v, want no keys: the EdDSA key no longer verifies", published)
			}
		})
	}
}

// asymmetricKid returns the kid of whichever of two token headers has one.
func asymmetricKid(a, b map[string]any) any {
	if a["kid"] != nil {
		return a["kid"]
	}
	return b["kid"]
}

// signWithKept signs payload as a JWT with the key the server keeps for
// alg next to dbPath (the secret for HS256), without package auth.
func signWithKept(t *testing.T, dbPath, alg string, kid any, payload map[string]any) string {
	t.Helper()
	if alg == "HS256" {
		secret, err := os.ReadFile(dbPath + ".secret")
		if err != nil {
			t.Fatal(err)
		}
		return hs256(t, strings.TrimSpace(string(secret)), payload)
	}
	key, ok := keptKey(t, dbPath+".jwt-"+strings.ToLower(alg)+".pem").(ed25519.PrivateKey)
	if !ok {
		t.Fatalf("signWithKept: %s is not supported", alg)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	h, err := json.Marshal(map[string]any{"alg": alg, "kid": kid, "typ": "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	signed := b64(h) + "." + b64(p)
	return signed + "." + b64(ed25519.Sign(key, []byte(signed)))
}

// TestRetireKeys drives the loop that removes previous keys from a
// running server's key set: each goes at the first tick at or after the
// moment its tokens have all expired, and the loop returns once none is
// left.
func TestRetireKeys(t *testing.T) {
	clock := testclock.New(time.Date(2031, time.March, 4, 5, 6, 7, 0, time.UTC))
	newKey := func(id string) *token.Key {
		k, err := token.NewKey(id, []byte(strings.Repeat(id, 32)))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	keys, err := token.NewKeySet(newKey("a"), newKey("b"), newKey("c"))
	if err != nil {
		t.Fatal(err)
	}
	ids := func() string {
		var s []string
		for _, k := range keys.Keys() {
			s = append(s, k.ID())
		}
		return strings.Join(s, ",")
	}
	var logs bytes.Buffer
	tick := make(chan time.Time)
	done := make(chan struct{})
	retiring := []retiringKey{
		{id: "b", until: clock.Now().Add(time.Hour)},
		{id: "c", until: clock.Now().Add(2 * time.Hour)},
	}
	go func() {
		defer close(done)
		retireKeys(t.Context(), keys, retiring, tick, clock.Now, slog.New(slog.NewTextHandler(&logs, nil)))
	}()

	// send ticks, unless the loop has returned.
	send := func(now time.Time) {
		select {
		case tick <- now:
		case <-done:
		}
	}
	for _, step := range []struct {
		advance time.Duration
		want    string
	}{
		{time.Hour - time.Second, "a,b,c"},
		{time.Second, "a,c"},
		{time.Hour - time.Second, "a,c"},
		{time.Second, "a"},
	} {
		clock.Add(step.advance)
		send(clock.Now())
		send(clock.Now()) // taken once the previous tick is handled
		if got := ids(); got != step.want {
			t.Errorf("at %v: keys %s, want %s", clock.Now(), got, step.want)
		}
	}
	<-done // the loop returns after its last removal
	if n := strings.Count(logs.String(), "a previous signing key no longer verifies"); n != 2 {
		t.Errorf("log: %s; want two removals logged", logs.String())
	}
}

// linkToken returns the token of the link to page under base in text.
func linkToken(t *testing.T, text, base, page string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(base+"/"+page+"?token=") + `([A-Za-z0-9_-]{43})`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no link %s/%s?token=... in %q", base, page, text)
	}
	return m[1]
}

// TestMailToLog runs the server without -smtp: the verification link of
// a sign-up is written to the server's log, under -public-url, and
// verifies the address. Stopping the server waits for the queued mail.
func TestMailToLog(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "mail.db")
	var logs syncbuffer.Buffer
	base, stop := startLogging(t, &logs, time.Now, dbPath, nil, "-public-url", "https://app.example.com/")
	if status, up := call(t, "POST", base+"/api/user/signup", "", signupBody); status != 200 {
		t.Fatalf("signup: %d %v", status, up)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "no -smtp: mail is not sent but written to this log") {
		t.Errorf("the log does not say that mail goes to it: %s", logs.String())
	}
	tok := linkToken(t, logs.String(), "https://app.example.com", "verify-email")

	base, stop = start(t, dbPath, nil)
	defer stop()
	if status, body := post(t, base+"/api/user/email/verify", "", `{"token":"`+tok+`"}`); status != 204 {
		t.Fatalf("verify: %d %v", status, body)
	}
	status, in := call(t, "POST", base+"/api/user/login", "", `{"email":"admin1@user.com","password":"correct horse battery staple"}`)
	if status != 200 || tokentest.Payload(t, in["token"].(string))["email_verified"] != true {
		t.Errorf("login after verification: %d %v, want a token with email_verified true", status, in)
	}
}

// TestMailOverSMTP runs the server with -refresh and -smtp to a real
// SMTP server (mailpit): sign-up mails a verification link, forgot a
// reset link; the reset ends the sessions and, with -refresh, the
// access tokens issued before it.
func TestMailOverSMTP(t *testing.T) {
	mp := mailpittest.Start(t, mailpittest.Options{})
	dbPath := filepath.Join(t.TempDir(), "smtp.db")
	base, stop := start(t, dbPath, nil, "-refresh", "-smtp", "smtp://"+mp.SMTPAddr(), "-mail-from", "Gatehouse <no-reply@example.com>")
	defer stop()
	const email, newPassword = "admin1@user.com", "a new and better passphrase"

	access, refresh := refreshPair(t, "signup", base+"/api/user/signup", signupBody)
	verify := linkToken(t, waitMail(t, mp, email, 1).Text, "http://localhost:8080", "verify-email")
	if status, body := post(t, base+"/api/user/email/verify", "", `{"token":"`+verify+`"}`); status != 204 {
		t.Fatalf("verify: %d %v", status, body)
	}
	if status, me := call(t, "GET", base+"/api/user/me", access, ""); status != 200 || me["emailVerified"] != true {
		t.Errorf("me after verification: %d %v", status, me)
	}

	if status, body := post(t, base+"/api/user/password/forgot", "", `{"email":"`+email+`"}`); status != 202 {
		t.Fatalf("forgot: %d %v", status, body)
	}
	m := waitMail(t, mp, email, 2)
	if m.From.Address != "no-reply@example.com" || m.Subject != "Reset your password" {
		t.Errorf("reset mail from %v, subject %q", m.From, m.Subject)
	}
	reset := linkToken(t, m.Text, "http://localhost:8080", "reset-password")
	if status, body := post(t, base+"/api/user/password/reset", "", `{"token":"`+reset+`","password":"`+newPassword+`"}`); status != 204 {
		t.Fatalf("reset: %d %v", status, body)
	}
	if status, _ := call(t, "GET", base+"/api/user/me", access, ""); status != 401 {
		t.Errorf("me with an access token from before the reset: %d, want 401", status)
	}
	if status, _ := post(t, base+"/api/user/refresh", "", `{"refreshToken":"`+refresh+`"}`); status != 401 {
		t.Errorf("refresh with a refresh token from before the reset: %d, want 401", status)
	}
	access, _ = refreshPair(t, "login with the new password", base+"/api/user/login", `{"email":"`+email+`","password":"`+newPassword+`"}`)
	if status, me := call(t, "GET", base+"/api/user/me", access, ""); status != 200 || me["email"] != email {
		t.Errorf("me after the reset: %d %v", status, me)
	}
}

// waitMail waits until mailpit holds n messages to the address to, and
// returns the newest.
func waitMail(t *testing.T, mp *mailpittest.Server, to string, n int) mailpittest.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a bound on a hang, not a measurement
	for {
		count := 0
		for _, m := range mp.Messages(t) {
			for _, a := range m.To {
				if strings.EqualFold(a.Address, to) {
					count++
				}
			}
		}
		if count >= n {
			return mp.WaitMessage(t, to)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %s, want %d", count, to, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// browserRequest sends a request through c with the headers of a page
// (name, value pairs; "Host" sets the Host header) and returns the
// status, the Set-Cookie headers and the body.
func browserRequest(t *testing.T, c *http.Client, method, target, body string, header ...string) (int, []string, string) {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	r := httpauthtest.Send(t, c, method, target, ct, body, header...)
	return r.Status, r.Header.Values("Set-Cookie"), r.Body
}

// TestCookieMode follows a browser of the server's own origin, a client
// with a cookie jar that never sends a token itself, through a session on
// the default server, which runs in cookie mode: the cookies, their
// attributes over plain HTTP on localhost and behind a proxy ending TLS,
// refresh and logout through them, and a cross-site request refused.
// With -cookies=false no cookie is set or read.
func TestCookieMode(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "cookies.db")
	base, stop := start(t, dbPath, nil, "-refresh")
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	page := []string{"Origin", base, "Sec-Fetch-Site", "same-origin"}

	status, set, body := browserRequest(t, browser, "POST", base+"/api/user/signup", signupBody, page...)
	if status != 200 {
		t.Fatalf("signup: %d %s", status, body)
	}
	var session struct{ Token, RefreshToken string }
	if err := json.Unmarshal([]byte(body), &session); err != nil || session.Token == "" || session.RefreshToken == "" {
		t.Fatalf("signup body %s: %v", body, err)
	}
	want := []string{
		"gatehouse_access=" + session.Token + "; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax",
		"gatehouse_refresh=" + session.RefreshToken + "; Path=/api/user/refresh; Max-Age=2592000; HttpOnly; SameSite=Strict",
		"gatehouse_refresh=" + session.RefreshToken + "; Path=/api/user/logout; Max-Age=2592000; HttpOnly; SameSite=Strict",
	}
	if len(set) != 4 || !strings.HasPrefix(set[0], "gatehouse_device=") || !slices.Equal(set[1:], want) {
		t.Errorf("signup over plain HTTP on loopback: Set-Cookie\n%s\nwant the device cookie, then\n%s", strings.Join(set, "\n"), strings.Join(want, "\n"))
	}

	if status, _, body := browserRequest(t, browser, "GET", base+"/api/user/me", ""); status != 200 || !strings.Contains(body, `"email":"admin1@user.com"`) {
		t.Fatalf("GET /me with the cookie: %d %s", status, body)
	}
	status, _, body = browserRequest(t, browser, "POST", base+"/api/user/refresh", "{}", page...)
	if status != 200 || strings.Contains(body, session.RefreshToken) {
		t.Fatalf("refresh from the cookie: %d %s", status, body)
	}
	if status, set, body := browserRequest(t, browser, "POST", base+"/api/user/logout", "{}",
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"); status != 403 || len(set) != 0 ||
		!strings.Contains(body, "ProblemCrossOrigin") {
		t.Errorf("cross-site logout: %d %q %s, want 403", status, set, body)
	}
	if status, _, body := browserRequest(t, browser, "GET", base+"/api/user/me", ""); status != 200 {
		t.Fatalf("GET /me after the refused logout: %d %s", status, body)
	}
	status, set, body = browserRequest(t, browser, "POST", base+"/api/user/logout", "{}", page...)
	if status != 204 || len(set) != 3 || !strings.Contains(set[0], "Max-Age=0") {
		t.Fatalf("logout: %d %q %s", status, set, body)
	}
	if status, _, body := browserRequest(t, browser, "GET", base+"/api/user/me", ""); status != 401 {
		t.Errorf("GET /me after logout: %d %s", status, body)
	}

	// Behind a proxy that ends TLS and passes the Host header on.
	status, set, body = browserRequest(t, http.DefaultClient, "POST", base+"/api/user/login",
		`{"email":"admin1@user.com","password":"correct horse battery staple"}`,
		"Host", "auth.example.com", "Origin", "https://auth.example.com", "Sec-Fetch-Site", "same-origin")
	if status != 200 || len(set) != 4 || !strings.HasPrefix(set[1], "__Host-gatehouse_access=") ||
		!strings.HasSuffix(set[1], "; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax") ||
		!strings.HasPrefix(set[2], "__Secure-gatehouse_refresh=") {
		t.Errorf("login behind a TLS proxy: %d %q %s", status, set, body)
	}
	stopped = true
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// -cookies=false: bearer only.
	base, stopBearer := start(t, dbPath, nil, "-refresh", "-cookies=false")
	defer stopBearer()
	status, set, body = browserRequest(t, browser, "POST", base+"/api/user/login",
		`{"email":"admin1@user.com","password":"correct horse battery staple"}`, page...)
	if status != 200 || len(set) != 1 || !strings.HasPrefix(set[0], "gatehouse_device=") {
		t.Errorf("login with -cookies=false: %d %q %s", status, set, body)
	}
	if err := json.Unmarshal([]byte(body), &session); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := browserRequest(t, browser, "GET", base+"/api/user/me", "", "Cookie", "gatehouse_access="+session.Token); status != 401 {
		t.Errorf("GET /me with a cookie and -cookies=false: %d, want 401", status)
	}
	if status, _, _ := browserRequest(t, browser, "GET", base+"/api/user/me", "", "Authorization", "Bearer "+session.Token); status != 200 {
		t.Errorf("GET /me with the token and -cookies=false: %d, want 200", status)
	}
}
