package httpauthtest

// The account lifecycle end to end: verification, password reset, email
// change and deletion over a real listener, with the links read back
// from the mail that the Service sent through a real Mailer ([Mailbox]:
// the development mailer's log here, an SMTP server in internal/e2e).

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/syncbuffer"
	"github.com/gatehouse-go/gatehouse/internal/tokentest"
)

// Mail is a message as a [Mailbox] gives it back.
type Mail struct {
	To      string
	Subject string
	Text    string // the text/plain part
}

// Mailbox is where the account scenarios' Service sends its mail, and
// where they read it back.
type Mailbox struct {
	Name string
	// Open returns a Mailer that delivers to a box of its own, and the
	// box. A message the Mailer accepted must be in the box by the time
	// Send returns.
	Open func(t *testing.T) (auth.Mailer, Inbox)
}

// Inbox reads back what a [Mailbox]'s Mailer delivered.
type Inbox struct {
	// Count returns how many messages the box holds for the address to.
	Count func(t *testing.T, to string) int
	// Newest returns the message the box received last for the address
	// to, which has at least one. (The scenarios ask a message to be
	// sent only once the one before to the same address is in the box.)
	Newest func(t *testing.T, to string) Mail
}

// LogMailbox is the development mailer, [auth.LogMailer], read back from
// its log: what `go run ./examples/server` without -smtp does.
var LogMailbox = Mailbox{Name: "log", Open: func(t *testing.T) (auth.Mailer, Inbox) {
	log := &syncbuffer.Buffer{}
	read := func(t *testing.T, to string) []Mail {
		t.Helper()
		var out []Mail
		for line := range strings.Lines(log.String()) {
			var m Mail
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("LogMailer wrote %q: %v", line, err)
			}
			if m.To == to {
				out = append(out, m)
			}
		}
		return out
	}
	return auth.LogMailer{Logger: slog.New(slog.NewJSONHandler(log, nil))}, Inbox{
		Count: func(t *testing.T, to string) int { return len(read(t, to)) },
		Newest: func(t *testing.T, to string) Mail {
			t.Helper()
			msgs := read(t, to)
			if len(msgs) == 0 {
				t.Fatalf("no message to %s in the log", to)
			}
			return msgs[len(msgs)-1]
		},
	}
}}

// The account routes under the default prefix.
const (
	MePath                 = "/api/user/me"
	VerifyEmailPath        = "/api/user/email/verify"
	ResendVerificationPath = "/api/user/email/verify/resend"
	ForgotPasswordPath     = "/api/user/password/forgot"
	ResetPasswordPath      = "/api/user/password/reset"
	ChangeEmailPath        = "/api/user/email/change"
	ConfirmEmailPath       = "/api/user/email/change/confirm"
	DeletePath             = "/api/user/delete"
)

// lifecycleServer is a sessionServer whose Service mails through a
// Mailbox.
type lifecycleServer struct {
	*sessionServer
	inbox Inbox
	tag   string // makes the scenario's addresses its own
}

// newLifecycleServer starts a server on store with refresh tokens and
// revocation checking on, mailing through box.
func newLifecycleServer(t *testing.T, store auth.UserStore, box Mailbox) *lifecycleServer {
	t.Helper()
	mailer, inbox := box.Open(t)
	cfg := sessionsOn()
	cfg.Mailer = mailer
	s := &lifecycleServer{sessionServer: newSessionServer(t, store, cfg), inbox: inbox, tag: strings.ToLower(rand.Text()[:10])}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.Svc.Shutdown(ctx) //nolint:errcheck // the messages of a failed test may stay unsent
	})
	return s
}

// addr returns an address of this scenario for name.
func (s *lifecycleServer) addr(name string) string {
	return name + "." + s.tag + "@example.com"
}

// mail waits until the Service has handed n messages to to to its Mailer
// (as its audit events say), checks that the box holds n for to, and
// returns the newest. A message that failed fails the test.
func (s *lifecycleServer) mail(t *testing.T, to string, n int) Mail {
	t.Helper()
	timeout := time.After(time.Minute) // a bound on a hang, not a measurement
	for {
		sent, failed := s.mailEvents(to)
		if len(failed) > 0 {
			t.Fatalf("mail to %s failed: %v", to, failed)
		}
		if sent > n {
			t.Fatalf("%d messages sent to %s, want %d", sent, to, n)
		}
		if sent == n {
			break
		}
		select {
		case <-s.changed:
		case <-timeout:
			t.Fatalf("%d messages sent to %s after a minute, want %d", sent, to, n)
		}
	}
	if got := s.inbox.Count(t, to); got != n {
		t.Fatalf("the mailbox holds %d messages to %s, want %d", got, to, n)
	}
	return s.inbox.Newest(t, to)
}

// mailEvents counts the messages to to that the Mailer accepted, and
// returns the reasons of those that failed.
func (s *lifecycleServer) mailEvents(to string) (sent int, failed []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		switch {
		case e.Email != to:
		case e.Kind == auth.EventMailSent:
			sent++
		case e.Kind == auth.EventMailFailed:
			failed = append(failed, e.Reason)
		}
	}
	return sent, failed
}

// linkRE matches the links of the messages: {public URL}/{page}?token=T.
var linkRE = regexp.MustCompile(`http://localhost:8080/(verify-email|reset-password|confirm-email)\?token=([A-Za-z0-9_-]+)`)

// linkToken returns the token of the one link to page in m, and checks
// that it is 256 bits of unpadded base64url.
func linkToken(t *testing.T, m Mail, page string) string {
	t.Helper()
	var tokens []string
	for _, l := range linkRE.FindAllStringSubmatch(m.Text, -1) {
		if l[1] == page {
			tokens = append(tokens, l[2])
		}
	}
	if len(tokens) != 1 {
		t.Fatalf("%d links to %s in %+v, want 1", len(tokens), page, m)
	}
	if b, err := base64.RawURLEncoding.Strict().DecodeString(tokens[0]); err != nil || len(b) != 32 {
		t.Errorf("link token %q is not 32 bytes of unpadded base64url", tokens[0])
	}
	return tokens[0]
}

// checkNotice checks that m is a notice with the subject and no link.
func checkNotice(t *testing.T, m Mail, subject string) {
	t.Helper()
	if m.Subject != subject || linkRE.MatchString(m.Text) {
		t.Errorf("message %+v, want a notice %q without a link", m, subject)
	}
}

// getMe calls GET /me with token and checks the body: exactly its six
// members, for the user of sess.
func (s *lifecycleServer) getMe(t *testing.T, token string) map[string]any {
	t.Helper()
	r := s.Do(t, http.MethodGet, MePath, "", "", Bearer(token)...)
	return CheckMe(t, r)
}

// CheckMe checks a 200 answer of GET or PATCH /me: exactly the members
// userId, email, userName, emailVerified, mfa and createdAt, mfa a
// boolean and createdAt an RFC 3339 time in UTC; and returns them.
func CheckMe(t *testing.T, r Response) map[string]any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("/me: status %d, body %s", r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("/me: Cache-Control %q, want no-store", cc)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("/me: body %q: %v", r.Body, err)
	}
	want := []string{"createdAt", "email", "emailVerified", "mfa", "userId", "userName"}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Fatalf("/me: body %s has members %v, want exactly %v", r.Body, got, want)
	}
	created, _ := m["createdAt"].(string)
	if ts, err := time.Parse(time.RFC3339, created); err != nil || !strings.HasSuffix(created, "Z") || ts.IsZero() {
		t.Errorf("/me: createdAt %q is not an RFC 3339 time in UTC", created)
	}
	if _, ok := m["mfa"].(bool); !ok {
		t.Errorf("/me: mfa %v, want a boolean", m["mfa"])
	}
	return m
}

// badLinks checks the refusals of one-time tokens: 400, the problem type
// httpauth.ProblemInvalidLink with field "token", one body for every
// reason and route.
type badLinks struct{ first string }

func (b *badLinks) check(t *testing.T, what string, r Response) {
	t.Helper()
	if r.Status != http.StatusBadRequest {
		t.Errorf("%s: status %d, want 400; body %s", what, r.Status, r.Body)
		return
	}
	if p := ProblemBody(t, r); p["type"] != httpauth.ProblemInvalidLink || p["field"] != "token" {
		t.Errorf("%s: problem %v, want type %s, field token", what, p, httpauth.ProblemInvalidLink)
	}
	if b.first == "" {
		b.first = r.Body
	} else if r.Body != b.first {
		t.Errorf("%s: body %s differs from another refusal's %s", what, r.Body, b.first)
	}
}

// checkAccepted checks a 202 answer with a JSON body, and returns the body.
func checkAccepted(t *testing.T, what string, r Response) string {
	t.Helper()
	if r.Status != http.StatusAccepted {
		t.Fatalf("%s: status %d, want 202; body %s", what, r.Status, r.Body)
	}
	if ct, cc := r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("%s: Content-Type %q, Cache-Control %q; want application/json, no-store", what, ct, cc)
	}
	if !json.Valid([]byte(r.Body)) {
		t.Errorf("%s: body %q is not JSON", what, r.Body)
	}
	return r.Body
}

// Lifecycle runs every account scenario on each store, its mail going
// through box; each scenario has its own server and accounts.
func Lifecycle(t *testing.T, stores []Store, box Mailbox) {
	for _, st := range stores {
		t.Run(st.Name, func(t *testing.T) {
			store := openStore(t, st)
			for _, sc := range lifecycleScenarios {
				t.Run(sc.name, func(t *testing.T) { sc.run(t, newLifecycleServer(t, store, box)) })
			}
		})
	}
}

var lifecycleScenarios = []struct {
	name string
	run  func(t *testing.T, s *lifecycleServer)
}{
	{"verify the email", testVerifyEmail},
	{"reset the password", testResetPassword},
	{"change the email", testChangeEmail},
	{"delete the account", testDeleteAccount},
	{"bad, spent and expired links", testBadLinks},
	{"forgot for an unknown address", testForgotUnknown},
}

func testVerifyEmail(t *testing.T, s *lifecycleServer) {
	email := s.addr("ada")
	up := s.signupSession(t, "Ada", email)
	if v := tokentest.Payload(t, up["token"])["email_verified"]; v != false {
		t.Errorf("sign-up token: email_verified %v, want false", v)
	}
	me := s.getMe(t, up["token"])
	if me["userId"] != up["userId"] || me["email"] != email || me["userName"] != "Ada" || me["emailVerified"] != false {
		t.Errorf("/me before verification: %v", me)
	}
	checkProblemType(t, "unverified token at a route requiring a verified email",
		s.Do(t, http.MethodGet, VerifiedPath, "", "", Bearer(up["token"])...), http.StatusForbidden, httpauth.ProblemEmailNotVerified)

	tok := linkToken(t, s.mail(t, email, 1), "verify-email")
	checkNoContent(t, "verify", s.Post(t, VerifyEmailPath, JSONBody("token", tok)))
	var bad badLinks
	bad.check(t, "the verification link again", s.Post(t, VerifyEmailPath, JSONBody("token", tok)))

	if me := s.getMe(t, up["token"]); me["emailVerified"] != true {
		t.Errorf("/me after verification: %v, want emailVerified true", me)
	}
	in := s.loginSession(t, email, Password)
	if v := tokentest.Payload(t, in["token"])["email_verified"]; v != true {
		t.Errorf("token of a login after verification: email_verified %v, want true", v)
	}
	s.clock.Add(time.Second)
	if r := refreshSession(t, "refresh after verification", s.refresh(t, up["refreshToken"])); tokentest.Payload(t, r["token"])["email_verified"] != true {
		t.Error("token of a refresh after verification: email_verified not true")
	}
	if r := s.Do(t, http.MethodGet, VerifiedPath, "", "", Bearer(in["token"])...); r.Status != http.StatusOK {
		t.Errorf("verified token at a route requiring a verified email: %d %s", r.Status, r.Body)
	}

	// Resend: a new link, which verifies too.
	other := s.addr("bo")
	bo := s.signupSession(t, "Bo", other)
	first := linkToken(t, s.mail(t, other, 1), "verify-email")
	checkAccepted(t, "resend", s.withBearer(t, ResendVerificationPath, bo["token"], ""))
	resent := linkToken(t, s.mail(t, other, 2), "verify-email")
	if resent == first {
		t.Fatalf("the resent link is the first one: %s", resent)
	}
	checkNoContent(t, "verify with a resent link", s.Post(t, VerifyEmailPath, JSONBody("token", resent)))
	if me := s.getMe(t, bo["token"]); me["emailVerified"] != true {
		t.Errorf("/me after verification with a resent link: %v", me)
	}

	// PATCH /me renames.
	r := s.Do(t, http.MethodPatch, MePath, "application/json", JSONBody("name", "  Ada Lovelace "), Bearer(in["token"])...)
	if me := CheckMe(t, r); me["userName"] != "Ada Lovelace" {
		t.Errorf("PATCH /me: %v, want userName Ada Lovelace", me)
	}
	checkProblemField(t, "PATCH /me with an empty name",
		s.Do(t, http.MethodPatch, MePath, "application/json", JSONBody("name", " "), Bearer(in["token"])...), http.StatusBadRequest, "name")
}

func testResetPassword(t *testing.T, s *lifecycleServer) {
	const newPassword = "a new and better passphrase"
	email := s.addr("reset")
	up := s.signupSession(t, "Ada", email)
	s.mail(t, email, 1) // the verification link

	checkAccepted(t, "forgot", s.Post(t, ForgotPasswordPath, JSONBody("email", strings.ToUpper(email))))
	tok := linkToken(t, s.mail(t, email, 2), "reset-password")

	// A refused password leaves the link usable.
	checkProblemField(t, "reset to a common password",
		s.Post(t, ResetPasswordPath, JSONBody("token", tok, "password", "password")), http.StatusBadRequest, "password")
	s.clock.Add(time.Second)
	checkNoContent(t, "reset", s.Post(t, ResetPasswordPath, JSONBody("token", tok, "password", newPassword)))

	if r := s.Post(t, LoginPath, LoginBody(email, Password)); r.Status != http.StatusUnauthorized {
		t.Errorf("login with the old password: %d %s, want 401", r.Status, r.Body)
	}
	var rr refreshRefusals
	rr.check(t, "refresh token from before the reset", s.refresh(t, up["refreshToken"]))
	var refused string
	CheckRefusal(t, s.me(t, up["token"]), true, &refused)
	CheckRefusal(t, s.Do(t, http.MethodGet, MePath, "", "", Bearer(up["token"])...), true, &refused)

	in := s.loginSession(t, email, newPassword)
	checkMe(t, s.sessionServer, "token after the reset", in["token"], up)

	checkNotice(t, s.mail(t, email, 3), "Your password was changed")
	var bad badLinks
	bad.check(t, "the reset link again", s.Post(t, ResetPasswordPath, JSONBody("token", tok, "password", "yet another passphrase")))
}

func testChangeEmail(t *testing.T, s *lifecycleServer) {
	old, next, taken := s.addr("old"), s.addr("new"), s.addr("taken")
	up := s.signupSession(t, "Ada", old)
	s.mail(t, old, 1)
	s.signupSession(t, "Bo", taken)

	change := func(pw, newEmail string) Response {
		return s.withBearer(t, ChangeEmailPath, up["token"], JSONBody("password", pw, "newEmail", newEmail))
	}
	checkProblemField(t, "change with a wrong password", change("wrong password!", next), http.StatusForbidden, "password")
	checkProblemField(t, "change to a taken address", change(Password, strings.ToUpper(taken)), http.StatusConflict, "newEmail")
	checkProblemField(t, "change to an invalid address", change(Password, "not an address"), http.StatusBadRequest, "newEmail")
	checkAccepted(t, "change", change(Password, next))

	tok := linkToken(t, s.mail(t, next, 1), "confirm-email")
	notice := s.mail(t, old, 2)
	checkNotice(t, notice, "A change of your email address was requested")
	if !strings.Contains(notice.Text, next) {
		t.Errorf("the notice to the old address does not name the new one: %q", notice.Text)
	}
	if r := s.Post(t, LoginPath, LoginBody(next, Password)); r.Status != http.StatusUnauthorized {
		t.Errorf("login with the new address before confirming: %d %s", r.Status, r.Body)
	}
	checkNoContent(t, "confirm", s.Post(t, ConfirmEmailPath, JSONBody("token", tok)))

	in := s.loginSession(t, next, Password)
	if in["userId"] != up["userId"] || in["email"] != next || tokentest.Payload(t, in["token"])["email_verified"] != true {
		t.Errorf("login with the new address: %v, want the account, its new address verified", in)
	}
	if me := s.getMe(t, in["token"]); me["email"] != next || me["emailVerified"] != true {
		t.Errorf("/me after the change: %v", me)
	}
	if r := s.Post(t, LoginPath, LoginBody(old, Password)); r.Status != http.StatusUnauthorized {
		t.Errorf("login with the old address: %d %s, want 401", r.Status, r.Body)
	}
	var bad badLinks
	bad.check(t, "the change link again", s.Post(t, ConfirmEmailPath, JSONBody("token", tok)))

	// An address taken between the request and the confirmation: 409.
	later := s.addr("later")
	checkAccepted(t, "second change", s.withBearer(t, ChangeEmailPath, in["token"], JSONBody("password", Password, "newEmail", later)))
	tok = linkToken(t, s.mail(t, later, 1), "confirm-email")
	s.signupSession(t, "Cy", later)
	if r := s.Post(t, ConfirmEmailPath, JSONBody("token", tok)); r.Status != http.StatusConflict {
		t.Errorf("confirm an address taken meanwhile: %d %s, want 409", r.Status, r.Body)
	}
	s.loginSession(t, next, Password) // the account keeps its address
}

func testDeleteAccount(t *testing.T, s *lifecycleServer) {
	email := s.addr("delete")
	up := s.signupSession(t, "Ada", email)
	checkProblemField(t, "delete with a wrong password",
		s.withBearer(t, DeletePath, up["token"], JSONBody("password", "wrong password!")), http.StatusForbidden, "password")
	checkNoContent(t, "delete", s.withBearer(t, DeletePath, up["token"], JSONBody("password", Password)))

	if r := s.Post(t, LoginPath, LoginBody(email, Password)); r.Status != http.StatusUnauthorized {
		t.Errorf("login after deletion: %d %s, want 401", r.Status, r.Body)
	}
	var rr refreshRefusals
	rr.check(t, "refresh token after deletion", s.refresh(t, up["refreshToken"]))
	var refused string
	CheckRefusal(t, s.me(t, up["token"]), true, &refused)
	CheckRefusal(t, s.Do(t, http.MethodGet, MePath, "", "", Bearer(up["token"])...), true, &refused)

	again := s.signupSession(t, "Ada", email)
	if again["userId"] == up["userId"] {
		t.Errorf("signing up again gave the deleted account's ID %s", up["userId"])
	}
}

func testBadLinks(t *testing.T, s *lifecycleServer) {
	email := s.addr("links")
	s.signupSession(t, "Ada", email)
	verify := linkToken(t, s.mail(t, email, 1), "verify-email")

	routes := []struct{ path, extra string }{
		{VerifyEmailPath, ""},
		{ResetPasswordPath, "a new and better passphrase"},
		{ConfirmEmailPath, ""},
	}
	post := func(path, token, password string) Response {
		if path == ResetPasswordPath {
			return s.Post(t, path, JSONBody("token", token, "password", password))
		}
		return s.Post(t, path, JSONBody("token", token))
	}
	var bad badLinks
	for _, rt := range routes {
		for _, tok := range []string{"x", strings.Repeat("A", 43), strings.Repeat("A", 4096), verify + "=", verify[:42], " " + verify} {
			bad.check(t, fmt.Sprintf("%s with %.20q", rt.path, tok), post(rt.path, tok, rt.extra))
		}
		// No token at all is a missing field, as anywhere else.
		checkProblemField(t, rt.path+" without a token", post(rt.path, "", rt.extra), http.StatusBadRequest, "token")
	}
	// A link of one kind is refused by the others, and stays usable.
	bad.check(t, "verification link at reset", post(ResetPasswordPath, verify, "a new and better passphrase"))
	bad.check(t, "verification link at confirm", post(ConfirmEmailPath, verify, ""))
	checkNoContent(t, "verification link after its use elsewhere was refused", post(VerifyEmailPath, verify, ""))

	// Expired: a verification link lives 24 hours, a reset link one.
	other := s.addr("expired")
	s.signupSession(t, "Bo", other)
	verify = linkToken(t, s.mail(t, other, 1), "verify-email")
	checkAccepted(t, "forgot", s.Post(t, ForgotPasswordPath, JSONBody("email", other)))
	reset := linkToken(t, s.mail(t, other, 2), "reset-password")
	s.clock.Add(time.Hour + time.Second)
	bad.check(t, "expired reset link", post(ResetPasswordPath, reset, "a new and better passphrase"))
	s.clock.Add(23 * time.Hour)
	bad.check(t, "expired verification link", post(VerifyEmailPath, verify, ""))
}

func testForgotUnknown(t *testing.T, s *lifecycleServer) {
	known, unknown := s.addr("known"), s.addr("unknown")
	s.signupSession(t, "Ada", known)
	s.mail(t, known, 1)

	rk := s.Post(t, ForgotPasswordPath, JSONBody("email", known))
	ru := s.Post(t, ForgotPasswordPath, JSONBody("email", unknown))
	if bk, bu := checkAccepted(t, "forgot, known", rk), checkAccepted(t, "forgot, unknown", ru); bk != bu {
		t.Errorf("forgot: body %s for a known address, %s for an unknown one", bk, bu)
	}
	if !EqualHeaders(rk.Header, ru.Header, "Date") {
		t.Errorf("forgot: headers %v for a known address, %v for an unknown one", rk.Header, ru.Header)
	}
	checkProblemField(t, "forgot with an invalid address", s.Post(t, ForgotPasswordPath, JSONBody("email", "not an address")), http.StatusBadRequest, "email")
	s.mail(t, known, 2)

	// Once the queue is drained, nothing went to the unknown address.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Svc.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if sent, failed := s.mailEvents(unknown); sent != 0 || len(failed) != 0 {
		t.Errorf("mail to the unknown address: %d sent, failed %v", sent, failed)
	}
	if n := s.inbox.Count(t, unknown); n != 0 {
		t.Errorf("the mailbox holds %d messages for the unknown address", n)
	}
}

// EqualHeaders reports whether a and b have the same fields, but for
// those named in except.
func EqualHeaders(a, b http.Header, except ...string) bool {
	a, b = a.Clone(), b.Clone()
	for _, k := range except {
		a.Del(k)
		b.Del(k)
	}
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// checkProblemType checks a problem response's status and type member.
func checkProblemType(t *testing.T, what string, r Response, status int, typ string) {
	t.Helper()
	checkProblem(t, what, r, status, "type", typ)
}

// checkProblem checks a problem response's status and the value of one
// of its members.
func checkProblem(t *testing.T, what string, r Response, status int, member, want string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
		return
	}
	if p := ProblemBody(t, r); p[member] != want {
		t.Errorf("%s: problem %v, want %s %q", what, p, member, want)
	}
}
