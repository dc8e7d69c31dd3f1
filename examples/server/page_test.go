package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gatehouse-go/gatehouse/httpauth"
	"github.com/gatehouse-go/gatehouse/internal/syncbuffer"
	"github.com/gatehouse-go/gatehouse/internal/testclock"
	"github.com/gatehouse-go/gatehouse/internal/testenv"
	"github.com/gatehouse-go/gatehouse/internal/totptest"
)

// screenshotsEnv names the variable that gives the directory where
// TestDemoPage keeps its screenshots; without it they go to a temporary
// directory of the test.
const screenshotsEnv = "GATEHOUSE_DEMO_SCREENSHOTS"

// TestDemoPage drives the demo page in headless Chromium against the real
// server (its run, on a real listener, SQLite in a temporary directory,
// mail to the log): sign up, see the account, verify the address through
// the mailed link, log out, reset a forgotten password through its link,
// log in by keyboard with the new password, set up TOTP from the QR code's
// key, log out, log in with the TOTP step (a wrong code first), change the
// email address through its link, log in with a recovery code, turn TOTP
// off, log out. The page shows the API's
// problem details where a request is refused. No session cookie is ever
// readable from the script, the page writes no console error and throws
// no exception, and the server's log holds no password, secret or
// session token.
func TestDemoPage(t *testing.T) {
	browser := newBrowser(t)
	clock := testclock.New(time.Now())
	var logs syncbuffer.Buffer
	addr, stopServer := startLogging(t, &logs, clock.Now, filepath.Join(t.TempDir(), "demo.db"), nil)
	stop := sync.OnceValue(stopServer)
	defer stop()
	// The browser uses the name localhost: the origin where an http://
	// page may hold Secure cookies.
	base := strings.Replace(addr, "127.0.0.1", "localhost", 1)
	p := &pageTest{t: t, ctx: browser, base: base, shots: screenshotDir(t)}
	console := p.watchConsole()

	const (
		name      = "Ada Lovelace"
		email     = "ada@example.com"
		password  = "correct horse battery staple"
		password2 = "a new and better passphrase"
		newEmail  = "ada.lovelace@example.com"
	)

	p.do(chromedp.Navigate(base + "/"))
	p.waitVisible("signed-out")
	p.checkAccessible()
	p.screenshot("signed-out")

	// Sign up: a refused password is shown next to its field, as the
	// API's problem details say; then the account.
	p.do(
		chromedp.SendKeys(chromedp.ID("signup-name"), name),
		chromedp.SendKeys(chromedp.ID("signup-email"), email),
		chromedp.SendKeys(chromedp.ID("signup-password"), "password"),
		chromedp.Click(chromedp.CSS("#signup-form button")),
	)
	p.waitVisible("signup-password-error")
	if msg := p.text("signup-password-error"); !strings.HasPrefix(msg, "Password: ") {
		t.Errorf("sign-up with a common password: the page says %q, want the API's detail on password", msg)
	}
	if v := p.eval(`document.getElementById("signup-password").getAttribute("aria-invalid")`); v != "true" {
		t.Errorf("the refused password field has aria-invalid %q", v)
	}
	p.screenshot("signup-refused")
	p.do(
		clearField("signup-password"),
		chromedp.SendKeys(chromedp.ID("signup-password"), password+"\n"),
	)
	p.waitStatus("Welcome!")
	p.wantAccount(name, email, "No", "Off")
	p.checkCookies(true)
	p.screenshot("signed-up")

	// Verify the address through the mailed link.
	verify := p.mailedLink(&logs, "verify-email", 1)
	p.do(chromedp.Navigate(verify))
	p.waitVisible("link-verify")
	if loc := p.eval(`location.href`); loc != base+"/" {
		t.Errorf("the link's page keeps the address %s, want %s/ without the token", loc, base)
	}
	p.screenshot("verify-link")
	p.do(chromedp.Click(chromedp.CSS("#verify-form button")))
	p.waitStatus("Your email address is verified.")
	p.wantAccount(name, email, "Yes", "Off")
	if !p.hidden("link-verify") || !p.hidden("resend-form") {
		t.Error("after verification the page still offers to verify")
	}
	p.logOut()

	// A wrong password gets the one login failure of the API.
	p.logIn(email, "not the password")
	p.waitText("#login-form .form-error", "Invalid email or password")
	p.screenshot("login-refused")

	// Forgot, then reset through the mailed link, then log in by keyboard.
	p.do(chromedp.SendKeys(chromedp.ID("forgot-email"), email+"\n"))
	p.waitStatus("If an account uses that address")
	reset := p.mailedLink(&logs, "reset-password", 1)
	p.do(chromedp.Navigate(reset))
	p.waitVisible("link-reset")
	p.do(chromedp.SendKeys(chromedp.ID("reset-password"), password2+"\n"))
	p.waitStatus("Your password is changed.")
	p.screenshot("password-reset")
	p.do(
		chromedp.Focus(chromedp.ID("login-email")),
		chromedp.KeyEvent(email),
		chromedp.KeyEvent(kb.Tab),
	)
	if id := p.eval(`document.activeElement.id`); id != "login-password" {
		t.Errorf("Tab from the login email moves to %q, want login-password", id)
	}
	if outline := p.eval(`getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Error("a field focused by keyboard shows no outline")
	}
	p.do(chromedp.KeyEvent(password2), chromedp.KeyEvent(kb.Enter))
	p.waitStatus("You are logged in.")
	p.wantAccount(name, email, "Yes", "Off")
	p.checkCookies(true)

	// Set up TOTP from the key that the page shows with the QR code.
	p.do(chromedp.SendKeys(chromedp.ID("totp-setup-password"), password2+"\n"))
	p.waitVisible("totp-enrol")
	qr := p.eval(`document.getElementById("totp-qr").naturalWidth > 0 && document.getElementById("totp-qr").src.slice(0, 22)`)
	if qr != "data:image/png;base64," {
		t.Errorf("the QR code is %q, want a PNG data URL that the browser decoded", qr)
	}
	secret := p.text("totp-secret")
	p.screenshot("totp-setup")
	p.do(chromedp.SendKeys(chromedp.ID("totp-confirm-code"), totptest.Code(t, secret, clock.Now())+"\n"))
	p.waitStatus("Two-factor authentication is on.")
	codes := strings.Split(p.eval(`[...document.querySelectorAll("#recovery-codes li")].map(li => li.textContent).join("\n")`), "\n")
	if len(codes) != 10 || codes[0] == "" {
		t.Errorf("the page shows %d recovery codes, want 10: %q", len(codes), codes)
	}
	p.wantAccount(name, email, "Yes", "On")
	p.screenshot("totp-on")
	p.logOut()
	if strings.Contains(p.eval(`document.body.textContent`), codes[0]) {
		t.Error("the recovery codes stay in the page after logging out")
	}

	// Log in with the TOTP step. A code is taken once, so the next one
	// comes from the next time step.
	p.logIn(email, password2)
	p.waitVisible("mfa-step")
	if !p.hidden("signed-out") {
		t.Error("the login form stays visible during the TOTP step")
	}
	p.checkCookies(false)
	p.screenshot("totp-step")
	clock.Add(30 * time.Second)
	code := totptest.Code(t, secret, clock.Now())
	p.do(chromedp.SendKeys(chromedp.ID("mfa-code"), totptest.OtherCode(code)+"\n"))
	p.waitVisible("mfa-code-error")
	if msg := p.text("mfa-code-error"); msg == "" || p.eval(`document.activeElement.id`) != "mfa-code" {
		t.Errorf("a wrong code: the page says %q next to the code and focuses %s", msg, p.eval(`document.activeElement.id`))
	}
	p.screenshot("totp-step-refused")
	p.do(
		clearField("mfa-code"),
		chromedp.SendKeys(chromedp.ID("mfa-code"), code+"\n"),
	)
	p.waitStatus("You are logged in.")
	p.wantAccount(name, email, "Yes", "On")
	p.checkCookies(true)

	// Change the email address through the link mailed to the new one.
	p.do(
		chromedp.SendKeys(chromedp.ID("change-email"), newEmail),
		chromedp.SendKeys(chromedp.ID("change-password"), password2+"\n"),
	)
	p.waitStatus("We have mailed a link to the new address.")
	confirm := p.mailedLink(&logs, "confirm-email", 1)
	p.do(chromedp.Navigate(confirm))
	p.waitVisible("link-confirm")
	p.do(chromedp.Click(chromedp.CSS("#confirm-email-form button")))
	p.waitStatus("Your email address is changed.")
	p.wantAccount(name, newEmail, "Yes", "On")

	// Log in with a recovery code instead of the app.
	p.logOut()
	p.logIn(newEmail, password2)
	p.waitVisible("mfa-step")
	p.do(chromedp.SendKeys(chromedp.ID("mfa-recovery-code"), codes[1]+"\n"))
	p.waitStatus("You are logged in.")
	p.wantAccount(name, newEmail, "Yes", "On")

	// Turn TOTP off, with the code of a later step again.
	clock.Add(30 * time.Second)
	p.do(
		chromedp.SendKeys(chromedp.ID("totp-disable-password"), password2),
		chromedp.SendKeys(chromedp.ID("totp-disable-code"), totptest.Code(t, secret, clock.Now())+"\n"),
	)
	p.waitStatus("Two-factor authentication is off.")
	p.wantAccount(name, newEmail, "Yes", "Off")
	p.logOut()
	p.screenshot("logged-out")

	for _, m := range console() {
		t.Errorf("browser console: %s (%s:%d)", m, m.URL, m.Line)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	log := logs.String()
	for _, s := range append([]string{password, password2, secret}, codes...) {
		if strings.Contains(log, s) {
			t.Errorf("the server's log holds %q", s)
		}
	}
	for _, tok := range p.sessionTokens {
		if strings.Contains(log, tok) {
			t.Errorf("the server's log holds a session cookie's value")
		}
	}
}

// pageTest drives one tab of the demo page and fails its test when an
// action does not complete.
type pageTest struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
	n     int // screenshots taken

	// sessionTokens are the values of the cookies seen, which the
	// server's log must not hold.
	sessionTokens []string
}

// actionTimeout bounds one step of the test, so that a page that never
// shows what the test waits for fails the test rather than hanging it.
const actionTimeout = 30 * time.Second

// do runs the actions in the tab.
func (p *pageTest) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%v (page: %s)", err, p.state())
	}
}

// eval returns the value of a JavaScript expression in the page, as
// text.
func (p *pageTest) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		p.t.Fatalf("%s: %v", expr, err)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// state describes what the page shows, for failure messages.
func (p *pageTest) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + " | status: " + document.getElementById("status").textContent +
		" | errors: " + [...document.querySelectorAll(".form-error, .field-error")].map(e => e.textContent).filter(Boolean).join("; ")`))
	if err != nil {
		return err.Error()
	}
	return s
}

// text returns the text of the element with the id.
func (p *pageTest) text(id string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
	if err != nil {
		p.t.Fatalf("text of #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// hidden reports whether the element with the id is hidden.
func (p *pageTest) hidden(id string) bool {
	p.t.Helper()
	return p.eval(fmt.Sprintf(`document.getElementById(%q).hidden`, id)) == "true"
}

// waitVisible waits until the element with the id is shown.
func (p *pageTest) waitVisible(id string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.ID(id)))
}

// poll waits until the JavaScript expression is true.
func (p *pageTest) poll(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(actionTimeout))); err != nil {
		p.t.Fatalf("waiting for %s: %v (page: %s)", what, err, p.state())
	}
}

// waitStatus waits until the page's status line starts with prefix.
func (p *pageTest) waitStatus(prefix string) {
	p.t.Helper()
	p.poll(fmt.Sprintf("the status %q", prefix), fmt.Sprintf(`document.getElementById("status").textContent.startsWith(%s)`, jsString(prefix)))
}

// waitText waits until the element that the CSS selector picks shows
// the text.
func (p *pageTest) waitText(sel, text string) {
	p.t.Helper()
	p.poll(fmt.Sprintf("%s to say %q", sel, text), fmt.Sprintf(`document.querySelector(%s)?.textContent === %s`, jsString(sel), jsString(text)))
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// wantAccount checks the account that the page shows.
func (p *pageTest) wantAccount(name, email, verified, mfa string) {
	p.t.Helper()
	p.waitVisible("signed-in")
	p.poll("the account of "+email, fmt.Sprintf(`document.getElementById("me-email").textContent === %s`, jsString(email)))
	got := [4]string{p.text("me-name"), p.text("me-email"), p.text("me-verified"), p.text("me-mfa")}
	if want := [4]string{name, email, verified, mfa}; got != want {
		p.t.Errorf("the page shows the account %q, want %q", got, want)
	}
	if p.text("me-created") == "" {
		p.t.Error("the page shows no creation date")
	}
}

// logIn fills in and sends the login form.
func (p *pageTest) logIn(email, password string) {
	p.t.Helper()
	p.do(
		clearField("login-email"),
		clearField("login-password"),
		chromedp.SendKeys(chromedp.ID("login-email"), email),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.CSS("#login-form button")),
	)
}

// logOut logs out and checks that the server no longer knows the
// browser.
func (p *pageTest) logOut() {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS("#logout-form button")))
	p.waitStatus("You are logged out.")
	p.waitVisible("signed-out")
	p.checkCookies(false)
	p.do(chromedp.Reload())
	p.waitVisible("signed-out")
	if !p.hidden("signed-in") {
		p.t.Error("after logging out and reloading, the page shows an account")
	}
}

// checkCookies checks that the browser holds the access token's cookie
// if signedIn and none otherwise, that every cookie of the page is
// HttpOnly, so that the script sees none, and that the page keeps
// nothing in storage.
func (p *pageTest) checkCookies(signedIn bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base + "/api/user/me", p.base + "/"}})
	if err != nil {
		p.t.Fatal(err)
	}
	// On http://localhost the cookie has the name without its __Host- prefix.
	_, access, _ := strings.Cut(httpauth.AccessCookie, "-")
	session := false
	for _, c := range res.Cookies {
		p.sessionTokens = append(p.sessionTokens, c.Value)
		session = session || c.Name == access
		if !c.HTTPOnly {
			p.t.Errorf("cookie %s is not HttpOnly", c.Name)
		}
	}
	if session != signedIn {
		p.t.Errorf("the browser holds a %s cookie: %v, want %v", access, session, signedIn)
	}
	if c := p.eval(`document.cookie`); c != "" {
		p.t.Errorf("document.cookie is %q, want no cookie readable by the script", c)
	}
	if n := p.eval(`localStorage.length + sessionStorage.length`); n != "0" {
		p.t.Errorf("the page keeps %s items in storage", n)
	}
}

// checkAccessible checks what a machine can of the page's accessibility:
// every field has a label, every image a text alternative, and the
// messages are live regions.
func (p *pageTest) checkAccessible() {
	p.t.Helper()
	if s := p.eval(`[...document.querySelectorAll("input")].filter(i => i.labels.length === 0).map(i => i.id).join(" ")`); s != "" {
		p.t.Errorf("fields without a label: %s", s)
	}
	if s := p.eval(`[...document.querySelectorAll("img")].filter(i => !i.alt).map(i => i.id).join(" ")`); s != "" {
		p.t.Errorf("images without alt text: %s", s)
	}
	if s := p.eval(`document.getElementById("status").getAttribute("aria-live")`); s != "polite" {
		p.t.Errorf("the status line has aria-live %q", s)
	}
	if s := p.eval(`[...document.querySelectorAll(".form-error")].filter(e => e.getAttribute("role") !== "alert").length`); s != "0" {
		p.t.Errorf("%s form error lines are not alerts", s)
	}
}

// mailedLink waits until the server's log holds n links to page and
// returns the last, on the test server's origin (mail links use
// -public-url, which the test leaves at its default).
func (p *pageTest) mailedLink(logs *syncbuffer.Buffer, page string, n int) string {
	p.t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta("http://localhost:8080/"+page+"?token=") + `([A-Za-z0-9_-]{43})`)
	deadline := time.Now().Add(actionTimeout) // a bound on a hang, not a measurement
	for {
		if m := re.FindAllStringSubmatch(logs.String(), -1); len(m) >= n {
			return p.base + "/" + page + "?token=" + url.QueryEscape(m[len(m)-1][1])
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no mail with a %s link in the log", page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screenshot keeps a PNG of the whole page, numbered in the order taken.
func (p *pageTest) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, actionTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	p.n++
	path := filepath.Join(p.shots, fmt.Sprintf("%02d-%s.png", p.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// watchConsole collects what the page writes to the console from now
// on, and returns a function that stops and returns what went wrong:
// errors, warnings and exceptions. A refusal of the API, which the page
// shows to the user, is not one: the browser logs it as a failed
// request to /api/user/.
func (p *pageTest) watchConsole() func() []chromedp.ConsoleMessage {
	ctx, cancel := context.WithCancel(p.ctx)
	messages := chromedp.Console(ctx)
	var (
		mu   sync.Mutex
		bad  []chromedp.ConsoleMessage
		done = make(chan struct{})
	)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch {
			case m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleWarning && !m.IsException():
			case m.Source == "network" && strings.HasPrefix(m.URL, p.base+"/api/user/"):
			default:
				mu.Lock()
				bad = append(bad, m)
				mu.Unlock()
			}
		}
	}()
	return func() []chromedp.ConsoleMessage {
		// Let the browser deliver what it has queued: a last round trip.
		p.eval(`1`)
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return bad
	}
}

// clearField empties the input with the id. (chromedp.Clear sets the
// value attribute, which no longer shows once the user has typed.)
func clearField(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%s).value = ""`, jsString(id)))
}

// screenshotDir returns the directory for the screenshots: $GATEHOUSE_DEMO_SCREENSHOTS
// (created if missing), or a temporary directory of the test.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(screenshotsEnv)
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// newBrowser starts Debian's chromium, headless, without the sandbox (CI
// runs as root) and with a fresh profile, and returns the context of
// its first tab; the browser stops when the test ends. Without chromium
// the test is skipped, or fails under CI=true.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Tool(t, "chromium", "apt-get install chromium, Debian's")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil { // waits for the browser to close
			t.Errorf("closing the browser: %v", err)
		}
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout: see chromedp.NewContext
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}
