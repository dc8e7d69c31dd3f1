// Command review runs, over HTTP, the attacks of SECURITY.md's "The
// outside review, replayed" against a running examples/server, and
// prints what each one got. It speaks only the wire contract and imports nothing
// of gatehouse, so the same program measures any version of the server:
// review.sh builds two versions and runs it against both.
//
//	review -url http://127.0.0.1:8080 -secret "$AUTH_JWT_SECRET" [-db gatehouse.db] [-only race,claims]
//
// The attacks, each selected by its name in -only:
//
//   - race: a password change while the old password logs in in a loop
//     from two clients; counts the sessions of those logins whose refresh
//     or access token still works once the change is answered (the server
//     must run with -refresh).
//   - claims: tokens signed with the server's HS256 secret, as a key
//     holder or a CustomClaims function with a careless name could make
//     them, holding a reserved claim twice in different case; prints
//     whom GET /me takes them for.
//   - lockout: one address polls wrong passwords for some accounts,
//     ignoring 429s, while each owner logs in with the right password
//     every 3 s from another address; counts the owners' refusals.
//   - dates: tokens with nbf, exp or iat beyond the int64 seconds.
//   - emails: sign-ups of addresses that display as an existing one.
//   - files: the modes of the SQLite file and its -wal and -shm files
//     (only with -db).
//
// Source addresses are taken from 127.0.0.0/8, which on Linux every
// loopback socket may bind: the attacker is 127.0.0.1, owners and
// sign-ups use others, so per-address limits see distinct clients.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const prefix = "/api/user"

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the server's base `URL`")
	secret := flag.String("secret", os.Getenv("AUTH_JWT_SECRET"), "the server's HS256 `secret` (claims and dates attacks)")
	db := flag.String("db", "", "the server's SQLite `file` (files attack)")
	only := flag.String("only", "race,claims,dates,emails,files,lockout", "comma-separated `attacks` to run")
	rounds := flag.Int("race-rounds", 20, "password changes in the race attack")
	accounts := flag.Int("lockout-accounts", 6, "accounts polled by the one address in the lockout attack")
	lockFor := flag.Duration("lockout-for", 65*time.Second, "how long the lockout attack runs")
	flag.Parse()

	r := &reviewer{base: strings.TrimSuffix(*base, "/"), secret: []byte(*secret), run: time.Now().UnixNano()}
	attacks := map[string]func() error{
		"race":    func() error { return r.race(*rounds) },
		"claims":  r.claims,
		"dates":   r.dates,
		"emails":  r.emails,
		"files":   func() error { return files(*db) },
		"lockout": func() error { return r.lockout(*accounts, *lockFor) },
	}
	failed := false
	for name := range strings.SplitSeq(*only, ",") {
		f, ok := attacks[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "review: unknown attack %q\n", name)
			os.Exit(2)
		}
		if err := f(); err != nil {
			fmt.Printf("%s: error: %v\n", name, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

type reviewer struct {
	base   string
	secret []byte
	run    int64 // makes this run's emails unique

	mu      sync.Mutex
	clients map[string]*http.Client
	nextIP  int
}

// client returns an HTTP client whose connections come from ip.
func (r *reviewer) client(ip string) *http.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[ip]; ok {
		return c
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext:         d.DialContext,
		MaxIdleConnsPerHost: 16,
	}}
	if r.clients == nil {
		r.clients = map[string]*http.Client{}
	}
	r.clients[ip] = c
	return c
}

// freshIP returns a source address no earlier call returned, from
// 127.0.1.0 up, so that sign-ups do not meet the per-address limit.
func (r *reviewer) freshIP() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextIP++
	return fmt.Sprintf("127.0.%d.%d", 1+r.nextIP/250, 1+r.nextIP%250)
}

func (r *reviewer) email(name string) string {
	return fmt.Sprintf("%s-%d@review.example", name, r.run)
}

// do sends a request from ip and returns the status and body.
func (r *reviewer) do(ip, method, path, bearer string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, r.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := r.client(ip).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// session is the answer to a sign-up or login.
type session struct {
	UserID       string `json:"userId"`
	Email        string `json:"email"`
	Token        string `json:"token"`
	RefreshToken string `json:"refreshToken"`
}

func (r *reviewer) signup(email, password string) (session, error) {
	status, body, err := r.do(r.freshIP(), "POST", prefix+"/signup", "",
		map[string]string{"name": "Review", "email": email, "password": password})
	if err != nil {
		return session{}, err
	}
	if status != http.StatusOK && status != http.StatusCreated {
		return session{}, fmt.Errorf("sign-up of %q: %d %s", email, status, body)
	}
	var s session
	return s, json.Unmarshal(body, &s)
}

const password = "correct horse battery staple"

// race changes the password of a fresh account while two clients log in
// with the old one in a loop, rounds times, and counts the sessions those
// logins returned that still work after the change was answered.
func (r *reviewer) race(rounds int) error {
	var logins, refreshOK, accessOK, roundsLost int
	for round := range rounds {
		owner, err := r.signup(r.email(fmt.Sprintf("race%d", round)), password)
		if err != nil {
			return err
		}
		var (
			mu       sync.Mutex
			sessions []session
			stop     atomic.Bool
			wg       sync.WaitGroup
			first    = make(chan struct{})
			once     sync.Once
			loopErr  error
		)
		for range 2 {
			wg.Go(func() {
				for !stop.Load() {
					status, body, err := r.do("127.0.0.1", "POST", prefix+"/login", "",
						map[string]string{"email": owner.Email, "password": password})
					if err != nil {
						mu.Lock()
						loopErr = err
						mu.Unlock()
						once.Do(func() { close(first) })
						return
					}
					if status != http.StatusOK {
						continue
					}
					var s session
					if json.Unmarshal(body, &s) == nil {
						mu.Lock()
						sessions = append(sessions, s)
						mu.Unlock()
					}
					once.Do(func() { close(first) })
				}
			})
		}
		<-first
		status, body, err := r.do("127.0.0.1", "POST", prefix+"/password", owner.Token,
			map[string]string{"currentPassword": password, "newPassword": "another long passphrase " + fmt.Sprint(round)})
		stop.Store(true)
		wg.Wait()
		if loopErr != nil {
			return loopErr
		}
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("password change: %d %s", status, body)
		}
		lost := false
		for _, s := range sessions {
			logins++
			if st, _, err := r.do("127.0.0.1", "POST", prefix+"/refresh", "", map[string]string{"refreshToken": s.RefreshToken}); err != nil {
				return err
			} else if st == http.StatusOK {
				refreshOK++
				lost = true
			}
			if st, _, err := r.do("127.0.0.1", "GET", prefix+"/me", s.Token, nil); err != nil {
				return err
			} else if st == http.StatusOK {
				accessOK++
				lost = true
			}
		}
		if lost {
			roundsLost++
		}
	}
	fmt.Printf("race: %d password changes, %d sessions from logins with the old password; after the change answered, %d refresh tokens and %d access tokens of them still worked (%d of %d changes lost the race)\n",
		rounds, logins, refreshOK, accessOK, roundsLost, rounds)
	return nil
}

// sign returns a token with the header segment of a real token (so its
// kid, if any) and the payload given, signed with the HS256 secret.
func (r *reviewer) sign(real string, payload []byte) string {
	header, _, _ := strings.Cut(real, ".")
	input := header + "." + base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, r.secret)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// payload returns the claims of tok, decoded, for editing.
func payload(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("token with %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return m, d.Decode(&m)
}

// withTail marshals claims and appends raw members at the end of the
// object, where a case-insensitive last-one-wins decoder takes them.
func withTail(claims map[string]any, tail string) []byte {
	b, _ := json.Marshal(claims)
	return append(append(b[:len(b)-1], ","+tail...), '}')
}

// me presents tok at GET /me and says what came back.
func (r *reviewer) me(tok string, users map[string]string) (string, error) {
	status, body, err := r.do("127.0.0.1", "GET", prefix+"/me", tok, nil)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return fmt.Sprint(status), nil
	}
	var s session
	if err := json.Unmarshal(body, &s); err != nil {
		return "", err
	}
	who := s.UserID
	if name, ok := users[s.UserID]; ok {
		who = name
	}
	return fmt.Sprintf("200 as %s", who), nil
}

// victim signs up an account to forge tokens of, and returns it with the
// claims of its token.
func (r *reviewer) victim(name string) (session, map[string]any, error) {
	if len(r.secret) == 0 {
		return session{}, nil, fmt.Errorf("no -secret")
	}
	s, err := r.signup(r.email(name), password)
	if err != nil {
		return session{}, nil, err
	}
	claims, err := payload(s.Token)
	return s, claims, err
}

// claims presents tokens that name a reserved claim twice, in two cases.
func (r *reviewer) claims() error {
	ada, claims, err := r.victim("ada")
	if err != nil {
		return err
	}
	bob, err := r.signup(r.email("bob"), password)
	if err != nil {
		return err
	}
	users := map[string]string{ada.UserID: "Ada", bob.UserID: "Bob"}
	past := time.Now().Add(-time.Hour).Unix()
	expired := with(claims, "exp", past)
	for _, c := range []struct {
		name    string
		payload []byte
	}{
		{"Ada's token as issued", withTail(claims, `"x":0`)},
		{`userId of Ada, then "UserId" of Bob`, withTail(claims, fmt.Sprintf(`"UserId":%q`, bob.UserID))},
		{`userId and sub of Ada, then "UserId" and "SUB" of Bob`, withTail(claims, fmt.Sprintf(`"UserId":%q,"SUB":%q`, bob.UserID, bob.UserID))},
		{`expired exp, then "EXP" in 2286`, withTail(expired, `"EXP":9999999999`)},
		{`expired exp, then "Exp" in 2286`, withTail(expired, `"Exp":9999999999`)},
	} {
		got, err := r.me(r.sign(ada.Token, c.payload), users)
		if err != nil {
			return err
		}
		fmt.Printf("claims: %s: %s\n", c.name, got)
	}
	return nil
}

// with returns a copy of m with k set to v.
func with(m map[string]any, k string, v any) map[string]any {
	out := maps.Clone(m)
	out[k] = v
	return out
}

// dates presents tokens whose date claims are beyond int64 seconds.
func (r *reviewer) dates() error {
	ada, claims, err := r.victim("dates")
	if err != nil {
		return err
	}
	users := map[string]string{ada.UserID: "the account"}
	for _, c := range []struct{ claim, value string }{
		{"nbf", fmt.Sprint(time.Now().Unix() - 60)}, // the control: accepted
		{"nbf", "9.3e18"}, {"nbf", "1e19"}, {"nbf", "1e300"},
		{"exp", "1e19"}, {"exp", "1e300"}, {"iat", "1e300"}, {"nbf", "-1e19"},
	} {
		m := with(claims, c.claim, json.Number(c.value))
		got, err := r.me(r.sign(ada.Token, withTail(m, `"x":0`)), users)
		if err != nil {
			return err
		}
		fmt.Printf("dates: %s %s: %s\n", c.claim, c.value, got)
	}
	return nil
}

// emails signs up an address at user.com and one at usér.com, then
// addresses that display as one of them.
func (r *reviewer) emails() error {
	local := fmt.Sprintf("admin%d", r.run%1000000)
	if _, err := r.signup(local+"@user.com", password); err != nil {
		return err
	}
	if _, err := r.signup(local+"@usér.com", password); err != nil {
		return err
	}
	for _, e := range []string{
		local + "\uFE0F@user.com", local + "\u034F@user.com", local + "\u3164@user.com",
		local + "\u2800@user.com", local + "\u200B@user.com", local + "@xn--usr-cma.com",
	} {
		status, body, err := r.do(r.freshIP(), "POST", prefix+"/signup", "",
			map[string]string{"name": "Look-alike", "email": e, "password": password})
		if err != nil {
			return err
		}
		var p struct{ Field, Detail string }
		if status >= 400 {
			json.Unmarshal(body, &p)
		}
		fmt.Printf("emails: sign-up of admin…%+q: %d %s %s\n",
			strings.TrimPrefix(e, local), status, p.Field, p.Detail)
	}
	return nil
}

// files prints the modes of the SQLite file and its companions.
func files(db string) error {
	if db == "" {
		return fmt.Errorf("no -db")
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		fi, err := os.Stat(db + suffix)
		if err != nil {
			fmt.Printf("files: %s: %v\n", "<db>"+suffix, err)
			continue
		}
		fmt.Printf("files: %s: %v\n", "<db>"+suffix, fi.Mode().Perm())
	}
	return nil
}

// lockout runs one attacker at 127.0.0.1, sending a wrong password for
// each of n accounts every 250 ms, and n owners, each at an address of
// its own, logging in with the right password every 3 s, for d.
func (r *reviewer) lockout(n int, d time.Duration) error {
	owners := make([]session, n)
	for i := range owners {
		s, err := r.signup(r.email(fmt.Sprintf("owner%d", i)), password)
		if err != nil {
			return err
		}
		owners[i] = s
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	type tally struct{ ok, refused, other int }
	var (
		mu      sync.Mutex
		owner   = make([]tally, n)
		guesses = map[int]int{}
		wg      sync.WaitGroup
		errs    []error
	)
	loop := func(every time.Duration, f func() error) {
		wg.Go(func() {
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				if err := f(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	for i, o := range owners {
		ownerIP := fmt.Sprintf("127.0.0.%d", 10+i)
		loop(250*time.Millisecond, func() error {
			status, _, err := r.do("127.0.0.1", "POST", prefix+"/login", "", map[string]string{"email": o.Email, "password": "wrong " + password})
			mu.Lock()
			guesses[status]++
			mu.Unlock()
			return err
		})
		loop(3*time.Second, func() error {
			status, _, err := r.do(ownerIP, "POST", prefix+"/login", "", map[string]string{"email": o.Email, "password": password})
			mu.Lock()
			switch status {
			case http.StatusOK:
				owner[i].ok++
			case http.StatusTooManyRequests:
				owner[i].refused++
			default:
				owner[i].other++
			}
			mu.Unlock()
			return err
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	var statuses []string
	for _, s := range slices.Sorted(maps.Keys(guesses)) {
		statuses = append(statuses, fmt.Sprintf("%d×%d", guesses[s], s))
	}
	fmt.Printf("lockout: %v, one address guessing %d accounts every 250 ms each: answers %s\n", d, n, strings.Join(statuses, ", "))
	for i, t := range owner {
		fmt.Printf("lockout: owner %d (right password every 3 s from 127.0.0.%d): %d logged in, %d refused with 429, %d other\n",
			i+1, 10+i, t.ok, t.refused, t.other)
	}
	return nil
}
