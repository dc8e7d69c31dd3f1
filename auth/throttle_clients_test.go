package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth/password"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
)

// These tests play attackers against the default login throttling for
// hours of fake time. The accounts they attack have a stored argon2id hash
// with the smallest parameters a stored hash may have (m=8 KiB, t=1), so
// that thousands of logins take well under a second; the fakeStore cannot
// replace hashes, so it stays. The throttling does not look at the hash.

// cheapAccount stores an account for email, with password
// throttlePassword, whose hash is quick to check.
func cheapAccount(t *testing.T, store *fakeStore, email string) {
	t.Helper()
	h := phcHash(t, throttlePassword, password.Params{Memory: 8, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32})
	store.put(User{ID: "id-" + email, Email: email, Name: "Owner", PasswordHash: h})
}

func from(addr string) context.Context {
	return WithClientIP(context.Background(), netip.MustParseAddr(addr))
}

// attempt is a login whose outcome is a failure: checked (wrong password)
// or throttled. Anything else fails the test.
func attempt(t *testing.T, s *Service, ctx context.Context, email, pw string) (checked bool) {
	t.Helper()
	_, err := s.Login(ctx, email, pw)
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		return true
	case errors.Is(err, ErrThrottled):
		return false
	}
	t.Fatalf("login for %s: %v; want ErrInvalidCredentials or ErrThrottled", email, err)
	return false
}

// ownerLogin logs the owner of email in with the right password, failing
// the test if she is refused; it returns her new device token.
func ownerLogin(t *testing.T, s *Service, clk *testclock.Clock, ctx context.Context, email, who string) string {
	t.Helper()
	sess, err := s.Login(ctx, email, throttlePassword)
	if err != nil {
		t.Fatalf("%v into the attack: %s: %v", clk.Now().Sub(t0), who, err)
	}
	if sess.DeviceToken == "" {
		t.Fatalf("%s: the session has no device token", who)
	}
	return sess.DeviceToken
}

// TestLoginOneClientCannotLockOwner is the attack of the security review:
// one address polls wrong passwords for one account without pause, for an
// hour, ignoring every refusal. The owner logging in every 3 s from
// another address, and from the attacker's own address with the device
// token of an earlier login there, is never refused; the attacker gets no
// more than MaxClientFailures (20) passwords checked.
func TestLoginOneClientCannotLockOwner(t *testing.T) {
	s, clk, store := throttleService(t, Config{})
	const email = "ada@example.com"
	cheapAccount(t, store, email)
	attacker, elsewhere := from("198.51.100.66"), from("203.0.113.7")
	device := ownerLogin(t, s, clk, attacker, email, "the owner before the attack")

	checked, refused := 0, 0
	for step := 1; step <= 36000; step++ { // an hour, an attempt every 100 ms
		clk.Add(100 * time.Millisecond)
		if attempt(t, s, attacker, email, fmt.Sprintf("guess %d", step)) {
			checked++
		} else {
			refused++
		}
		if step%30 == 0 { // every 3 s
			ownerLogin(t, s, clk, elsewhere, email, "the owner from another address")
			device = ownerLogin(t, s, clk, WithDeviceToken(attacker, device), email, "the owner at the attacker's address, with her device token")
		}
	}
	t.Logf("attacker: %d passwords checked, %d attempts refused", checked, refused)
	if checked > 20 || refused == 0 {
		t.Errorf("the attacker got %d passwords checked in an hour, %d refused; want at most 20, the rest refused", checked, refused)
	}
	if _, err := s.Login(attacker, email, throttlePassword); !errors.Is(err, ErrThrottled) {
		t.Errorf("the attacker's address without the device token, right password: %v; want ErrThrottled (that client is at its cap)", err)
	}
}

// TestLoginOneAddressManyAccounts hammers six accounts from one address
// for an hour, round robin without pause: none of them is held, each
// owner logging in from her own address every 3 s is never refused, and
// the address gets at most 20 passwords checked per account.
func TestLoginOneAddressManyAccounts(t *testing.T) {
	const accounts = 6
	s, clk, store := throttleService(t, Config{})
	attacker := from("198.51.100.66")
	emails := make([]string, accounts)
	owners := make([]context.Context, accounts)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%d@example.com", i)
		cheapAccount(t, store, emails[i])
		owners[i] = from(fmt.Sprintf("203.0.113.%d", i+1))
	}
	checked := make([]int, accounts)
	for step := 1; step <= 36000; step++ { // an hour, an attempt every 100 ms
		clk.Add(100 * time.Millisecond)
		i := step % accounts
		if attempt(t, s, attacker, emails[i], fmt.Sprintf("guess %d", step)) {
			checked[i]++
		}
		if step%30 == 0 { // every 3 s
			for i, email := range emails {
				ownerLogin(t, s, clk, owners[i], email, "owner of "+email)
			}
		}
	}
	for i, n := range checked {
		if n > 20 {
			t.Errorf("%s: %d passwords checked from one address in an hour; want at most 20", emails[i], n)
		}
	}
}

// TestLoginDistributedGuesser guesses one account's password from 50
// addresses in turn, one attempt a second, for three hours of the clock.
// The account is slowed for everyone: no more than
// MaxAccountFailures (100) passwords are checked in any hour of the
// clock, nor 200 in any 60 minutes, and a new address is refused until
// the hour ends, the same for an email no account has. The owner with a
// device token is never refused.
func TestLoginDistributedGuesser(t *testing.T) {
	s, clk, store := throttleService(t, Config{})
	const email = "ada@example.com"
	cheapAccount(t, store, email)
	device := ownerLogin(t, s, clk, from("203.0.113.7"), email, "the owner before the attack")

	var checked []time.Time
	lockedOut := false
	for step := 1; step < 3*3600; step++ { // until 14:59:59
		clk.Add(time.Second)
		guesser := from(fmt.Sprintf("198.51.100.%d", step%50+1))
		if attempt(t, s, guesser, email, fmt.Sprintf("guess %d", step)) {
			checked = append(checked, clk.Now())
		}
		if step%3 == 0 {
			device = ownerLogin(t, s, clk, WithDeviceToken(from("192.0.2.1"), device), email, "the owner with her device token")
		}
		if step == 1800 { // half past: the guessers have had their 100
			left := t0.Add(time.Hour).Sub(clk.Now())
			_, err := s.Login(from("203.0.113.99"), email, throttlePassword)
			wantThrottled(t, err, left, "the owner from a new address, without a device token")
			_, err = s.Login(from("203.0.113.99"), "nobody@example.com", throttlePassword)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("another account key, from the same address: %v; want ErrInvalidCredentials", err)
			}
			lockedOut = true
		}
	}
	if !lockedOut {
		t.Fatal("the half-hour check did not run")
	}
	perHour := map[time.Time]int{}
	for _, at := range checked {
		perHour[at.Truncate(time.Hour)]++
	}
	for h, n := range perHour {
		if n > 100 {
			t.Errorf("hour from %v: %d passwords checked; want at most 100", h.Format(time.TimeOnly), n)
		}
	}
	if len(perHour) != 3 || len(checked) != 300 {
		t.Errorf("%d passwords checked over %d hours; want 100 in each of 3 (the guessers have addresses to spare)", len(checked), len(perHour))
	}
	most := 0
	for i, at := range checked { // the 60 minutes from each checked attempt
		j := i
		for j < len(checked) && checked[j].Sub(at) < time.Hour {
			j++
		}
		most = max(most, j-i)
	}
	if most > 200 {
		t.Errorf("%d passwords checked within 60 minutes; want at most 200", most)
	}
	t.Logf("%d passwords checked in 3 hours, at most %d within 60 minutes", len(checked), most)
}

// TestLoginAccountLimitNeedsFiveAddresses checks the number of addresses it
// takes to slow an account for everyone with the defaults:
// MaxAccountFailures (100) / MaxClientFailures (20) = 5. Four
// addresses guessing without pause for three hours never get a new
// address refused; five do.
func TestLoginAccountLimitNeedsFiveAddresses(t *testing.T) {
	for _, addrs := range []int{4, 5} {
		t.Run(fmt.Sprint(addrs), func(t *testing.T) {
			s, clk, store := throttleService(t, Config{})
			const email = "ada@example.com"
			cheapAccount(t, store, email)
			refusedOwner := 0
			for step := 1; step <= 3*3600; step++ {
				clk.Add(time.Second)
				attempt(t, s, from(fmt.Sprintf("198.51.100.%d", step%addrs+1)), email, fmt.Sprintf("guess %d", step))
				if step%60 == 0 { // the owner, once a minute, from an address of her own
					if _, err := s.Login(from("203.0.113.7"), email, throttlePassword); errors.Is(err, ErrThrottled) {
						refusedOwner++
					} else if err != nil {
						t.Fatal(err)
					}
				}
			}
			switch {
			case addrs < 5 && refusedOwner > 0:
				t.Errorf("%d addresses: the owner was refused %d times in 3 hours; want never", addrs, refusedOwner)
			case addrs >= 5 && refusedOwner == 0:
				t.Errorf("%d addresses: the owner was never refused; want the account slowed for everyone", addrs)
			}
			t.Logf("%d addresses: the owner, trying once a minute from another address, was refused %d times in 3 hours", addrs, refusedOwner)
		})
	}
}

// TestDeviceToken checks the device tokens that Signup and Login hand
// out: valid for their account only, until DeviceTokenLifetime has
// passed, under the secret that made them; and a device that fails too
// often is throttled like any client, on its own.
func TestDeviceToken(t *testing.T) {
	s, clk, store := throttleService(t, Config{})
	const email = "ada@example.com"
	cheapAccount(t, store, email)
	signup, err := s.Signup(context.Background(), NewUser{Name: "Bob", Email: "bob@example.com", Password: throttlePassword})
	if err != nil {
		t.Fatal(err)
	}
	if !s.ValidDeviceToken(" BOB@example.com", signup.DeviceToken) {
		t.Errorf("the device token of a sign-up is not valid for its account")
	}
	tok := ownerLogin(t, s, clk, from("203.0.113.7"), email, "the owner")
	if len(tok) != deviceTokenLen {
		t.Errorf("device token %q is %d characters; want %d", tok, len(tok), deviceTokenLen)
	}
	if again := ownerLogin(t, s, clk, from("203.0.113.7"), email, "the owner again"); again == tok {
		t.Errorf("two logins got the same device token")
	}
	other := newTestService(t, newFakeStore(), Config{Secret: []byte("another secret, also 32 bytes long"), Now: clk.Now})
	flipped := []byte(tok)
	flipped[20] ^= 1
	for what, valid := range map[string]bool{
		"valid":                         s.ValidDeviceToken(email, tok),
		"for another account":           s.ValidDeviceToken("bob@example.com", tok),
		"under another secret":          other.ValidDeviceToken(email, tok),
		"with a byte changed":           s.ValidDeviceToken(email, string(flipped)),
		"cut short":                     s.ValidDeviceToken(email, tok[:len(tok)-1]),
		"padded":                        s.ValidDeviceToken(email, tok+"="),
		"empty":                         s.ValidDeviceToken(email, ""),
		"for an email that is no email": s.ValidDeviceToken("not an email", tok),
	} {
		if valid != (what == "valid") {
			t.Errorf("device token %s: ValidDeviceToken = %v", what, valid)
		}
	}
	clk.Add(DeviceTokenLifetime - time.Second)
	if !s.ValidDeviceToken(email, tok) {
		t.Errorf("device token a second before it expires: not valid")
	}
	clk.Add(time.Second)
	if s.ValidDeviceToken(email, tok) {
		t.Errorf("device token once DeviceTokenLifetime has passed: still valid")
	}

	// A device is a client of its own: its failures slow it, and not the
	// address it comes from, nor the address its failures slow it.
	tok = ownerLogin(t, s, clk, from("203.0.113.7"), email, "the owner")
	thief := WithDeviceToken(from("198.51.100.66"), tok)
	for i := range 5 {
		if !attempt(t, s, thief, email, fmt.Sprintf("guess %d", i)) {
			t.Fatalf("guess %d with the device token: throttled; want checked", i)
		}
	}
	_, err = s.Login(thief, email, throttlePassword)
	wantThrottled(t, err, time.Second, "the device token after 5 failures")
	_, err = s.Login(WithDeviceToken(from("192.0.2.1"), tok), email, throttlePassword)
	wantThrottled(t, err, time.Second, "the device token from another address")
	ownerLogin(t, s, clk, from("198.51.100.66"), email, "the owner at the address the device token failed from, without it")
	// A token for another account is no device token here: its failures
	// count under the address.
	for i := range 5 {
		attempt(t, s, WithDeviceToken(from("198.51.100.7"), signup.DeviceToken), email, fmt.Sprintf("guess %d", i))
	}
	_, err = s.Login(from("198.51.100.7"), email, throttlePassword)
	wantThrottled(t, err, time.Second, "the address whose failures came with another account's device token")
}

// TestLoginClient checks how Login tells clients apart: an IPv6 client by
// its /64 network, an IPv4-mapped address as IPv4, calls without an
// address as one client, and a device token as a client of its own.
func TestLoginClient(t *testing.T) {
	s, clk, _ := throttleService(t, Config{})
	const email = "ada@example.com"
	tok, err := s.newDeviceToken(email)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ a, b context.Context }{
		{from("2001:db8:1:2::1"), from("2001:db8:1:2:ffff::2")},
		{from("192.0.2.1"), from("::ffff:192.0.2.1")},
		{context.Background(), context.Background()},
		{WithDeviceToken(from("192.0.2.1"), tok), WithDeviceToken(from("198.51.100.1"), tok)},
	} {
		a, _ := s.loginClient(tt.a, email, clk.Now())
		b, _ := s.loginClient(tt.b, email, clk.Now())
		if a != b {
			t.Errorf("clients %q and %q; want one client", a, b)
		}
	}
	var seen []string
	for _, ctx := range []context.Context{
		from("2001:db8:1:2::1"), from("2001:db8:1:3::1"), from("192.0.2.1"), from("192.0.2.2"),
		context.Background(), WithDeviceToken(from("192.0.2.1"), tok),
	} {
		c, trusted := s.loginClient(ctx, email, clk.Now())
		for _, other := range seen {
			if c == other {
				t.Errorf("client %q twice; want distinct clients", c)
			}
		}
		if trusted != (ctx.Value(deviceTokenKey{}) != nil) {
			t.Errorf("client %q: trusted = %v", c, trusted)
		}
		seen = append(seen, c)
	}
}
