package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse-go/gatehouse/auth/password"
)

// Stored hashes for the Service's tests. The hashing itself is package
// password's, tested there; these helpers plant hashes with any
// parameters a stored hash may have (weaker than New accepts, too) and
// read back what the Service stored.

// defaultParams are password.DefaultParams(), for tests with a local
// variable named password.
var defaultParams = password.DefaultParams()

// m12288t3 are the parameters of OWASP's m=12288 KiB, t=3: valid for a
// stored hash, weaker than the defaults.
var m12288t3 = password.Params{Memory: 12288, Iterations: 3, Parallelism: 1, SaltLen: 16, KeyLen: 32}

// phcHash returns the argon2id PHC string of pw, NFKC-normalised as the
// Service hashes it, with p and a random salt, computed with
// golang.org/x/crypto/argon2 directly.
func phcHash(t testing.TB, pw string, p password.Params) string {
	t.Helper()
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(pw)), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	h := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", p.Memory, p.Iterations, p.Parallelism, b64(salt), b64(key))
	if err := password.CheckHash(h); err != nil {
		t.Fatalf("phcHash(%+v) = %q: %v", p, h, err)
	}
	return h
}

// phcParams returns the parameters of hash, an argon2id PHC string that
// password.CheckHash accepts, failing the test otherwise.
func phcParams(t testing.TB, hash string) password.Params {
	t.Helper()
	if err := password.CheckHash(hash); err != nil || !strings.HasPrefix(hash, "$argon2id$") {
		t.Fatalf("stored hash %.40q... is not argon2id: %v", hash, err)
	}
	f := strings.Split(hash, "$") // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	var p password.Params
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Iterations, &p.Parallelism); err != nil {
		t.Fatalf("stored hash %.40q...: %v", hash, err)
	}
	salt, _ := base64.RawStdEncoding.DecodeString(f[4])
	key, _ := base64.RawStdEncoding.DecodeString(f[5])
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p
}

// verifies reports whether hash verifies pw.
func verifies(t testing.TB, pw, hash string) bool {
	t.Helper()
	h, err := password.New(password.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ok, err := h.Verify(context.Background(), pw, hash)
	if err != nil {
		t.Fatalf("Verify(%.40q...): %v", hash, err)
	}
	return ok
}

// TestSignupRejectsCommonPasswords: sign-up refuses passwords on the list
// however they are cased or typed, before any hashing and without storing
// anything, while login (which applies no policy) still admits a user whose
// common password was set before, for example by an import.
func TestSignupRejectsCommonPasswords(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	s := newTestService(t, store, Config{})
	for _, pw := range []string{
		"password",
		"12345678",
		"Password1",
		"PASSWORD1",
		"iloveyou",
		"qwertyuiop",
		"\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44",             // fullwidth "password"
		"\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10", // fullwidth "1234567890"
		"\u0131LOVEYOU", // dotless ı
	} {
		sess, err := s.Signup(ctx, NewUser{Name: "Mallory", Email: "mallory@example.com", Password: pw})
		if sess != nil {
			t.Errorf("Signup with %q returned a session", pw)
		}
		secret := pw
		if pw == "password" {
			secret = "" // the word is in every password error
		}
		wantFieldError(t, err, "password", secret)
		if !isCommonPasswordError(err) {
			t.Errorf("Signup with %q: %v; want the reason to say it is a common password", pw, err)
		}
	}
	if _, err := store.UserByEmail(ctx, "mallory@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a rejected sign-up stored the user: %v", err)
	}

	// A near miss is fine.
	if _, err := s.Signup(ctx, NewUser{Name: "Ok", Email: "ok@example.com", Password: "password1!"}); err != nil {
		t.Errorf("Signup with a password that is not on the list: %v", err)
	}

	// Imported users with common passwords still log in.
	for i, pw := range []string{"password", "Password1", "12345678"} {
		h := phcHash(t, pw, password.DefaultParams())
		email := string(rune('a'+i)) + "@imported.example"
		store.put(User{ID: "imported" + email, Email: email, Name: "Imported", PasswordHash: h})
		sess, err := s.Login(ctx, email, pw)
		if err != nil || sess.User.Email != email {
			t.Errorf("Login of an imported user with common password %q: %v, %v", pw, sess, err)
		}
		if _, err := s.Login(ctx, email, pw+"x"); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login of an imported user with a wrong password: %v", err)
		}
	}
}

// gateRand is a Config.Rand that can hold a hashing slot of its Service:
// the first read after occupySlot arms it waits until the slot is
// released. Otherwise it reads crypto/rand.
type gateRand struct {
	next atomic.Pointer[gate]
}

type gate struct{ entered, release chan struct{} }

func (g *gateRand) Read(p []byte) (int, error) {
	if gt := g.next.Swap(nil); gt != nil {
		close(gt.entered)
		<-gt.release
	}
	return rand.Read(p)
}

// occupySlot takes one of s's hashing slots until the returned release is
// called (or the test ends). s must have been made with Rand g: a login
// of an unknown email hashes the password, which holds a slot while it
// reads the salt, which waits at g.
func occupySlot(t *testing.T, s *Service, g *gateRand) (release func()) {
	t.Helper()
	gt := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	g.next.Store(gt)
	done := make(chan error, 1)
	go func() {
		_, err := s.Login(context.Background(), "slot-holder@example.com", "password 123")
		done <- err
	}()
	<-gt.entered
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(gt.release)
			if err := <-done; !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("the login holding the slot: %v, want ErrInvalidCredentials", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

func isCommonPasswordError(err error) bool {
	var fe *FieldError
	return errors.As(err, &fe) && fe.Field == "password" && fe.Reason == "is a commonly used password"
}
