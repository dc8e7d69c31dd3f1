package httpauth_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/throttle"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/httpauthtest"
	"github.com/gatehouse-go/gatehouse/store/memstore"
	"golang.org/x/crypto/bcrypt"
)

// These tests put each client at an address of its own: every one dials
// the server from another loopback address (127.0.0.x), so the server sees
// them as a real deployment would, without trusting X-Forwarded-For.

// cheapStore is a memstore without the auth.PasswordStore ability, so
// that the bcrypt hash of minimum cost that ownerAccount imports is never
// replaced with argon2id: these tests log in hundreds of times, and
// throttling does not look at the hash.
type cheapStore struct {
	auth.UserStore
	throttle.Store
}

func newCheapStore() cheapStore {
	m := memstore.New()
	return cheapStore{m, m}
}

// ownerAccount imports the account email, whose password is password.
func ownerAccount(t *testing.T, s *httpauthtest.App, email string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(httpauthtest.Password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.ImportUser(t.Context(), auth.User{Name: "Ada", Email: email, PasswordHash: string(h)}); err != nil {
		t.Fatal(err)
	}
}

// clientAt returns an HTTP client whose connections come from the loopback
// address ip, keeping cookies in jar if it is not nil.
func clientAt(t *testing.T, ip string, jar http.CookieJar) *http.Client {
	t.Helper()
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Jar: jar}
}

// deviceCookie returns the device cookie that r sets, checking its
// attributes, or fails the test if it sets none.
func deviceCookie(t *testing.T, r httpauthtest.Response, what string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "gatehouse_device" {
			found = c
		}
	}
	switch {
	case found == nil:
		t.Fatalf("%s: no gatehouse_device cookie in %q", what, r.Header.Values("Set-Cookie"))
	case found.Value == "" || !found.HttpOnly || found.SameSite != http.SameSiteStrictMode || found.Path != httpauthtest.LoginPath ||
		found.MaxAge != 180*24*3600 || found.Secure:
		t.Errorf("%s: device cookie %q; want a value, HttpOnly, SameSite=Strict, Path=%s, Max-Age=%d, not Secure (plain HTTP)",
			what, found.Raw, httpauthtest.LoginPath, 180*24*3600)
	}
	return found
}

// TestThrottleOneAddressCannotLockOwner replays the attack of the security
// review: one address polls the login with wrong passwords without pause
// (every 100 ms, for five minutes), ignoring the 429s, while the owner
// logs in from another address every 3 s. The attacker gets 429s after
// its first few guesses and no more than 20 passwords checked; the owner
// gets 200 every time.
func TestThrottleOneAddressCannotLockOwner(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, newCheapStore(), clk, auth.Config{}, httpauth.Config{})
	const email = "ada@example.com"
	ownerAccount(t, s, email)
	attacker, owner := clientAt(t, "127.0.0.2", nil), clientAt(t, "127.0.0.3", nil)
	statuses := map[int]int{}
	for step := 1; step <= 3000; step++ {
		clk.Add(100 * time.Millisecond)
		r := s.LoginWith(t, attacker, email, fmt.Sprintf("guess %d", step))
		statuses[r.Status]++
		if r.Status == http.StatusTooManyRequests {
			if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n < 1 {
				t.Fatalf("guess %d: 429 with Retry-After %q", step, r.Header.Get("Retry-After"))
			}
		}
		if step%30 == 0 {
			r := s.LoginWith(t, owner, email, httpauthtest.Password)
			httpauthtest.WantStatus(t, r, http.StatusOK, fmt.Sprintf("the owner from another address, %v into the attack", clk.Now().Sub(httpauthtest.NewTestClock().Now())))
			httpauthtest.DecodeSession(t, r.Body)
		}
	}
	t.Logf("attacker: %v", statuses)
	if statuses[401] > 20 || statuses[401] < 5 || statuses[429]+statuses[401] != 3000 {
		t.Errorf("attacker's statuses %v; want 5 to 20 401s, then 429s", statuses)
	}
}

// TestThrottleDeviceCookie follows the device cookie: set by a sign-up
// and by a login, sent back by the browser to the login route, and
// honoured there while guessers from six addresses have slowed the
// account for everyone else; a forged one is not.
func TestThrottleDeviceCookie(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, newCheapStore(), clk, auth.Config{}, httpauth.Config{})
	const email = "ada@example.com"
	ownerAccount(t, s, email)
	signup := s.Post(t, httpauthtest.SignupPath, `{"name":"Bob","email":"bob@example.com","password":"`+httpauthtest.Password+`"}`)
	httpauthtest.WantStatus(t, signup, http.StatusOK, "a sign-up")
	deviceCookie(t, signup, "a sign-up")

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := clientAt(t, "127.0.0.3", jar)
	first := s.LoginWith(t, owner, email, httpauthtest.Password)
	httpauthtest.WantStatus(t, first, http.StatusOK, "the owner's first login")
	httpauthtest.DecodeSession(t, first.Body)
	cookie := deviceCookie(t, first, "the owner's first login")
	if strings.Contains(first.Body, cookie.Value) {
		t.Errorf("the login body %s carries the device token", first.Body)
	}

	// Guessers from six addresses, each as fast as its own throttling
	// lets it, until the account has had its 100 failures this hour.
	guessers := make([]*http.Client, 6)
	for i := range guessers {
		guessers[i] = clientAt(t, fmt.Sprintf("127.0.0.%d", 10+i), nil)
	}
	failures := 0
	for round := 0; failures < 100; round++ {
		if round > 3600 {
			t.Fatalf("after an hour of guessing, only %d failures", failures)
		}
		clk.Add(time.Second)
		for i, guesser := range guessers {
			r := s.LoginWith(t, guesser, email, fmt.Sprintf("guess %d.%d", round, i))
			if r.Status == http.StatusUnauthorized {
				failures++
			} else if r.Status != http.StatusTooManyRequests {
				t.Fatalf("guess: %d %s", r.Status, r.Body)
			}
		}
	}
	left := strconv.Itoa(int(httpauthtest.NewTestClock().Now().Add(time.Hour).Sub(clk.Now()) / time.Second))
	httpauthtest.Want429(t, s.LoginWith(t, clientAt(t, "127.0.0.30", nil), email, httpauthtest.Password), left, "the right password from a new address, without a cookie")
	httpauthtest.Want429(t, s.LoginWith(t, clientAt(t, "127.0.0.31", nil), email, httpauthtest.Password, "Cookie", "gatehouse_device="+strings.Repeat("A", len(cookie.Value))),
		left, "the right password from a new address, with a forged cookie")
	httpauthtest.Want429(t, s.LoginWith(t, clientAt(t, "127.0.0.32", nil), email, httpauthtest.Password, "Cookie", "gatehouse_device="+deviceCookie(t, signup, "").Value),
		left, "the right password from a new address, with the cookie of another account")

	again := s.LoginWith(t, owner, email, httpauthtest.Password)
	httpauthtest.WantStatus(t, again, http.StatusOK, "the owner with her device cookie, the account under attack")
	httpauthtest.DecodeSession(t, again.Body)
	if next := deviceCookie(t, again, "the owner's login under attack"); next.Value == cookie.Value {
		t.Errorf("the login under attack set the same device cookie again; want a new one")
	}
	httpauthtest.WantStatus(t, s.LoginWith(t, owner, email, httpauthtest.Password), http.StatusOK, "the owner with the renewed cookie")
	// The same cookie from another address works too: it is the device,
	// not the address, that counts.
	httpauthtest.WantStatus(t, s.LoginWith(t, clientAt(t, "127.0.0.33", jar), email, httpauthtest.Password), http.StatusOK, "the owner's cookie from another address")
}

// TestThrottleDeviceCookieSkipsPerIPLimit checks that a login with a
// valid device cookie for its email is exempt from the per-IP limit: an
// attacker behind the owner's address (a shared NAT) has used up the
// address's failed logins, and the owner, with her cookie, still logs in.
func TestThrottleDeviceCookieSkipsPerIPLimit(t *testing.T) {
	clk := httpauthtest.NewTestClock()
	s := httpauthtest.NewThrottleApp(t, newCheapStore(), clk, auth.Config{}, httpauth.Config{MaxLoginFailuresPerIP: 3})
	const email = "ada@example.com"
	ownerAccount(t, s, email)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	owner, neighbour := clientAt(t, "127.0.0.5", jar), clientAt(t, "127.0.0.5", nil)
	httpauthtest.WantStatus(t, s.LoginWith(t, owner, email, httpauthtest.Password), http.StatusOK, "the owner's first login")
	for i := range 3 {
		httpauthtest.WantStatus(t, s.LoginWith(t, neighbour, fmt.Sprintf("victim%d@example.com", i), httpauthtest.Password), http.StatusUnauthorized, "stuffing from the shared address")
	}
	httpauthtest.Want429(t, s.LoginWith(t, neighbour, email, httpauthtest.Password), "900", "the shared address without the cookie")
	httpauthtest.WantStatus(t, s.LoginWith(t, owner, email, httpauthtest.Password), http.StatusOK, "the owner with her device cookie at the shared address")
	httpauthtest.Want429(t, s.LoginWith(t, owner, "victim9@example.com", httpauthtest.Password), "900", "the owner's browser, for an account the cookie is not for")
}
