package httpauthtest

// Imported password hashes, end to end: bcrypt hashes made by Node's
// bcryptjs (an implementation independent of golang.org/x/crypto/bcrypt)
// and argon2id hashes with older parameters made by the reference
// implementation's CLI are imported with auth.Service.ImportUser into a
// SQLite store, log in over HTTP, and are replaced at that login with an
// argon2id hash of the current parameters, checked here without package
// auth's code.

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	authpassword "github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// nodeBcrypt returns bcryptjs's hash of password, with cost 10 and the
// given prefix (2a, 2b or 2y), made by testdata/interop/bcrypt.js.
func nodeBcrypt(t *testing.T, password, prefix string) string {
	t.Helper()
	node, dir := InteropNode(t, "bcryptjs")
	cmd := exec.Command(node, "bcrypt.js", prefix)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(password)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bcrypt.js %s: %v: %s", prefix, err, stderr.String())
	}
	hash := string(out)
	if !strings.HasPrefix(hash, "$"+prefix+"$10$") || len(hash) != 60 {
		t.Fatalf("bcrypt.js %s printed %q, want a $%s$10$ hash", prefix, hash, prefix)
	}
	return hash
}

// importAndLogin imports a user with hash into s's store and checks the
// logins before and at the upgrade: a wrong password is 401 and leaves
// the hash alone; the right one is 200, as the imported ID. It returns
// the hash stored after that login.
func importAndLogin(t *testing.T, s *sessionServer, id, email, hash, pw string) string {
	t.Helper()
	ctx := t.Context()
	u, err := s.Svc.ImportUser(ctx, auth.User{ID: id, Name: "Imported", Email: email, PasswordHash: hash})
	if err != nil {
		t.Fatalf("ImportUser: %v", err)
	}
	if u.ID != id || u.PasswordHash != "" {
		t.Errorf("ImportUser returned ID %q and hash %q; want %q and none", u.ID, u.PasswordHash, id)
	}
	if got := storedHash(t, s, email); got != hash {
		t.Fatalf("stored hash %q, imported %q", got, hash)
	}
	// Wrong in its first byte: before the upgrade, a bcrypt hash takes
	// any password that shares the first 72 bytes of the right one.
	if r := s.Post(t, LoginPath, LoginBody(email, "!"+pw)); r.Status != http.StatusUnauthorized {
		t.Errorf("wrong password before the upgrade: %d %s, want 401", r.Status, r.Body)
	}
	if got := storedHash(t, s, email); got != hash {
		t.Errorf("a failed login changed the stored hash to %q", got)
	}
	r := s.Post(t, LoginPath, LoginBody(email, pw))
	if r.Status != http.StatusOK {
		t.Fatalf("login with the imported password: %d %s", r.Status, r.Body)
	}
	if sess := DecodeSession(t, r.Body); sess["userId"] != id {
		t.Errorf("login as user %q, imported as %q", sess["userId"], id)
	}
	return storedHash(t, s, email)
}

func storedHash(t *testing.T, s *sessionServer, email string) string {
	t.Helper()
	u, err := s.Store.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatalf("UserByEmail(%q): %v", email, err)
	}
	return u.PasswordHash
}

// checkCurrentArgon2 checks, without package auth's code, that phc is an
// argon2id PHC string of the NFKC form of password with
// password.DefaultParams.
func checkCurrentArgon2(t *testing.T, phc, password string) {
	t.Helper()
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		t.Fatalf("stored hash %q is not an argon2id v=19 PHC string", phc)
	}
	var m, tm, p uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &tm, &p); n != 3 || err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", m, tm, p) {
		t.Fatalf("stored hash %q: parameters %q do not parse (%v)", phc, parts[3], err)
	}
	want := authpassword.DefaultParams()
	if m != want.Memory || tm != want.Iterations || p != uint32(want.Parallelism) {
		t.Errorf("stored hash %q has m=%d,t=%d,p=%d; want the current m=%d,t=%d,p=%d",
			phc, m, tm, p, want.Memory, want.Iterations, want.Parallelism)
	}
	salt, err1 := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) != int(want.SaltLen) || len(key) != int(want.KeyLen) {
		t.Fatalf("stored hash %q: salt and key of %d and %d bytes (%v, %v); want %d and %d",
			phc, len(salt), len(key), err1, err2, want.SaltLen, want.KeyLen)
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, tm, m, uint8(p), uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		t.Errorf("stored hash %q is not a hash of the password", phc)
	}
}

// BcryptInterop imports bcrypt hashes made by bcryptjs and logs in with
// them over HTTP: the login succeeds with the password as typed, replaces
// the hash with argon2id, and later logins use that.
func BcryptInterop(t *testing.T, st Store) {
	long := strings.Repeat("0123456789", 10) + "-tail" // 105 bytes: bcrypt reads 72
	tests := []struct {
		name, password, prefix string
		relabel                string // rewrite the prefix to this one, as PHP leaves it
	}{
		{name: "$2b$ (bcryptjs's own)", password: Password, prefix: "2b"},
		{name: "$2a$", password: Password, prefix: "2a"},
		{name: "$2y$ relabelled from $2b$", password: Password, prefix: "2b", relabel: "2y"},
		// UTF-8 on both sides, and a password that NFKC changes (the
		// ligature, the full-width letters): bcrypt has the password as
		// typed, the argon2id hash that replaces it the NFKC form.
		{name: "non-ASCII, not NFKC", password: "p\u00e4ssw\u00f6rd \ufb01ne \uff21\uff22 \U0001F511", prefix: "2b"},
		{name: "longer than 72 bytes", password: long, prefix: "2b"},
	}
	s := newSessionServer(t, openStore(t, st), auth.Config{})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each with its own account; bcrypt is slow under -race
			hash := nodeBcrypt(t, tc.password, tc.prefix)
			if tc.relabel != "" {
				hash = "$" + tc.relabel + hash[3:]
			}
			id := fmt.Sprintf("5ef5b4d2b56aad8240db22%02x", i) // a MongoDB ObjectID, kept
			email := fmt.Sprintf("bcrypt%d@example.com", i)
			upgraded := importAndLogin(t, s, id, email, hash, tc.password)
			checkCurrentArgon2(t, upgraded, tc.password)
			if n := s.countEvents(auth.EventPasswordUpgraded, id); n != 1 {
				t.Errorf("%d password_upgraded events, want 1", n)
			}

			r := s.Post(t, LoginPath, LoginBody(email, tc.password))
			if r.Status != http.StatusOK {
				t.Fatalf("second login: %d %s", r.Status, r.Body)
			}
			if got := storedHash(t, s, email); got != upgraded {
				t.Errorf("the second login replaced the hash again: %q, was %q", got, upgraded)
			}
			if len(tc.password) > 72 {
				// bcrypt compared the first 72 bytes only; argon2id covers all.
				if r := s.Post(t, LoginPath, LoginBody(email, tc.password[:72])); r.Status != http.StatusUnauthorized {
					t.Errorf("login with the first 72 bytes after the upgrade: %d %s, want 401", r.Status, r.Body)
				}
			}
			for _, wrong := range []string{"!" + tc.password, tc.password + "!"} {
				if r := s.Post(t, LoginPath, LoginBody(email, wrong)); r.Status != http.StatusUnauthorized {
					t.Errorf("wrong password %q after the upgrade: %d %s, want 401", wrong, r.Status, r.Body)
				}
			}
			if n := s.countEvents(auth.EventPasswordUpgraded, id); n != 1 {
				t.Errorf("%d password_upgraded events after more logins, want 1", n)
			}
		})
	}

	t.Run("before the upgrade, the first 72 bytes log in", func(t *testing.T) {
		t.Parallel()
		// To bcrypt (bcryptjs's and the login's), the first 72 bytes are
		// the whole password: the login accepts them, as the old system
		// did, and the argon2id hash that replaces the bcrypt one is of
		// the password as typed at that login.
		hash := nodeBcrypt(t, long, "2b")
		upgraded := importAndLogin(t, s, "short-login", "bcrypt-prefix@example.com", hash, long[:72])
		checkCurrentArgon2(t, upgraded, long[:72])
		if r := s.Post(t, LoginPath, LoginBody("bcrypt-prefix@example.com", long)); r.Status != http.StatusUnauthorized {
			t.Errorf("the full password after an upgrade from its first 72 bytes: %d %s, want 401", r.Status, r.Body)
		}
	})
}

// argon2Ref returns an argon2id PHC string of password with the given
// parameters and an ASCII salt of saltLen bytes, made by the reference
// implementation's CLI (Debian package argon2), as auth's known-answer
// tests use it; without the CLI, by golang.org/x/crypto/argon2 directly
// (under CI=true the CLI is required).
func argon2Ref(t *testing.T, password string, m, tm uint32, p uint8, saltLen, keyLen int) string {
	t.Helper()
	salt := (rand.Text() + rand.Text() + rand.Text())[:saltLen]
	bin, err := exec.LookPath("argon2")
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("argon2 CLI not found (%v); CI must run this test: apt-get install argon2", err)
		}
		t.Logf("argon2 CLI not found (%v): hashing with golang.org/x/crypto/argon2", err)
		key := argon2.IDKey([]byte(password), []byte(salt), tm, m, p, uint32(keyLen))
		b64 := base64.RawStdEncoding.EncodeToString
		return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, tm, p, b64([]byte(salt)), b64(key))
	}
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	cmd := exec.Command(bin, salt, "-id", "-t", u(uint64(tm)), "-k", u(uint64(m)), "-p", u(uint64(p)), "-l", u(uint64(keyLen)), "-e")
	cmd.Stdin = strings.NewReader(password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v: %s", cmd.Args, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

// Argon2Upgrade imports argon2id hashes made with older parameters and
// checks that a login over HTTP replaces them with the current
// parameters, and leaves hashes at least as strong alone.
func Argon2Upgrade(t *testing.T, st Store) {
	tests := []struct {
		name            string
		m, t            uint32
		p               uint8
		saltLen, keyLen int
		upgrade         bool
	}{
		{"m=12288,t=1: less memory x time", 12288, 1, 1, 16, 32, true},
		{"m=12288,t=3: OWASP's alternative, less memory x time", 12288, 3, 1, 16, 32, true},
		{"8-byte salt", 19456, 2, 1, 8, 32, true},
		{"16-byte key", 19456, 2, 1, 16, 16, true},
		{"the current parameters", 19456, 2, 1, 16, 32, false},
		// Memory x passes is what counts, not each alone.
		{"m=47104,t=1: OWASP's, less time, more memory x time", 47104, 1, 1, 16, 32, false},
		{"m=12288,t=4: less memory, more memory x time", 12288, 4, 1, 16, 32, false},
		{"stronger: m=32768,t=2,p=2", 32768, 2, 2, 16, 32, false},
	}
	s := newSessionServer(t, openStore(t, st), auth.Config{})
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash := argon2Ref(t, Password, tc.m, tc.t, tc.p, tc.saltLen, tc.keyLen)
			id := fmt.Sprintf("argon2-%d", i)
			email := fmt.Sprintf("argon2-%d@example.com", i)
			after := importAndLogin(t, s, id, email, hash, Password)
			events := s.countEvents(auth.EventPasswordUpgraded, id)
			if !tc.upgrade {
				if after != hash || events != 0 {
					t.Errorf("a hash at least as strong as the current parameters was replaced: %q, was %q (%d events)", after, hash, events)
				}
				return
			}
			checkCurrentArgon2(t, after, Password)
			if events != 1 {
				t.Errorf("%d password_upgraded events, want 1", events)
			}
			if r := s.Post(t, LoginPath, LoginBody(email, Password)); r.Status != http.StatusOK {
				t.Errorf("login after the upgrade: %d %s", r.Status, r.Body)
			}
			if got := storedHash(t, s, email); got != after {
				t.Errorf("the second login replaced the hash again: %q, was %q", got, after)
			}
		})
	}
}
